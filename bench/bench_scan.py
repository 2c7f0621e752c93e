"""Benchmark: our mail load (read + triage + parse + assemble) vs plain stdlib mailbox iteration.

Targets: ratio <= 2.0x, peak RSS < 300 MB. Run from the repo root:
    /work/venv/bin/python bench/bench_scan.py
Writes bench/results/scan.json.
"""

from __future__ import annotations

import json
import lzma
import mailbox
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.mail import load  # noqa: E402

YEAR = REPO.parent / "shared" / "corpus" / "lists" / "linux-s390-2023.mbox.xz"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> int:
    if not YEAR.exists():
        print(f"corpus file {YEAR} is absent", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        mbox_path = Path(tmp) / "year.mbox"
        with lzma.open(YEAR) as src, mbox_path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        size = mbox_path.stat().st_size

        t = time.perf_counter()
        n_std = 0
        for msg in mailbox.mbox(str(mbox_path)):
            msg["subject"]
            n_std += 1
        t_std = time.perf_counter() - t
        rss_std = rss_mb()

        t = time.perf_counter()
        res = load(str(mbox_path))
        t_ours = time.perf_counter() - t
        rss_all = rss_mb()

    ratio = t_ours / t_std
    out = {
        "input_bytes": size,
        "messages_stdlib": n_std,
        "messages_ours": res.messages,
        "postings": len(res.postings),
        "series": len(res.series),
        "skipped": len(res.skipped),
        "stdlib_mailbox_seconds": round(t_std, 3),
        "ours_seconds": round(t_ours, 3),
        "ratio": round(ratio, 3),
        "ratio_target": 2.0,
        "peak_rss_mb_after_stdlib": round(rss_std, 1),
        "peak_rss_mb": round(rss_all, 1),
        "rss_target_mb": 300,
        "python": sys.version.split()[0],
    }
    print(f"stdlib mailbox.mbox: {t_std:.2f} s for {n_std} messages")
    print(f"review-bot load:     {t_ours:.2f} s for {res.messages} messages "
          f"({len(res.postings)} postings, {len(res.series)} series, {len(res.skipped)} skipped)")
    print(f"ratio {ratio:.2f}x (target <= 2.0x); peak RSS {rss_all:.0f} MB (target < 300 MB)")
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "scan.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0 if ratio <= 2.0 and rss_all < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
