"""Benchmark: the list bot's latency, a posting delivered → its reply at the SMTP server.

A real public-inbox-httpd serves an empty inbox (tests/pinbox.py), `review-bot watch` runs against
it with a 1 s poll, and postings built from the real v1 07/12 (a relevant patch with correctness
findings, new Message-ID each) are delivered one at a time with public-inbox-mda. Latency is from
public-inbox-mda's return to the reply's arrival at aiosmtpd. Target: under 5 s each.

Baseline, in the same process: the review of the same posting through the pipeline alone
(bot.mail + review_postings, warm), so the bot's own overhead (poll wait, feed, fetches, sqlite,
SMTP) is the difference. Writes bench/results/watch.json. Run from the repo root:
    .venv/bin/python bench/bench_watch.py [--postings N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import mail  # noqa: E402
from bot.pipeline import Options, review_postings  # noqa: E402
from tests.pinbox import PublicInbox, missing_tools  # noqa: E402
from tests.smtpsink import Sink  # noqa: E402
from tests.watchkit import LIST_ADDRESS, Watching, from_real_07, write_config  # noqa: E402

OUT = REPO / "bench" / "results" / "watch.json"
TARGET_SECONDS = 5.0
POLL_SECONDS = 1.0


def baseline(raw: bytes, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        res = mail.load_bytes(raw)
        review_postings(res.postings, Options(cache=False), context=res.postings)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--postings", type=int, default=5)
    a = ap.parse_args(argv)
    if missing_tools():
        print(f"public-inbox is not installed (missing {', '.join(missing_tools())})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        root = Path(tmp)
        server = PublicInbox(root / "pi")
        (root / "pi").mkdir()
        server.build([])
        server.serve()
        inbox = server.add_inbox("bench-live", "bench-live@example.org")
        sink = Sink(archive=inbox, list_address=LIST_ADDRESS)
        cfg = write_config(root / "watch.toml", inbox.base, sink.port, since=None, poll_seconds=POLL_SECONDS,
                           policy={"max_replies_per_hour": 1000})
        w = Watching(cfg).start()
        latencies: list[float] = []
        try:
            w.wait_for(lambda e: e["event"] == "polled", 60)
            for n in range(a.postings):
                mid = f"bench{n}.{uuid.uuid4().hex[:10]}@bench.example.org"
                raw = from_real_07(mid, f"[PATCH] s390: add pte_free_defer(), bench posting {n}")
                inbox.deliver(raw)
                t0 = time.monotonic()
                while time.monotonic() - t0 < 60 and not any(m.in_reply_to == mid for m in sink.messages()):
                    time.sleep(0.01)
                latencies.append(time.monotonic() - t0)
                print(f"posting {n}: reply after {latencies[-1]:.2f} s", flush=True)
        finally:
            rc = w.terminate()
            sink.stop()
            server.stop()
        base = baseline(from_real_07("baseline@bench.example.org", "[PATCH] s390: baseline"))
    result = {
        "postings": len(latencies), "poll_seconds": POLL_SECONDS, "target_seconds": TARGET_SECONDS,
        "latency_seconds": [round(x, 3) for x in latencies],
        "latency_median_seconds": round(statistics.median(latencies), 3),
        "latency_max_seconds": round(max(latencies), 3),
        "review_only_seconds": round(base, 3),
        "ratio_max_vs_target": round(max(latencies) / TARGET_SECONDS, 3),
        "ratio_median_vs_review_only": round(statistics.median(latencies) / base, 2),
        "watch_exit_on_sigterm": rc,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
