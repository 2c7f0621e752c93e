"""Benchmark: whole-series review time per pte-free-defer thread (load the mbox + review every formal
posting with the thread as context), as `review-bot check --mbox THREAD` does. Target < 2 s each.

Rules and models are loaded once before timing (a long-running bot pays that once; it is printed as
`startup`). Each thread gets a fresh judge, so nothing is cached between threads. With --repeat N the
best of N runs is reported. Writes bench/results/series.json. Run from the repo root:
    /work/venv/bin/python bench/bench_series.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

T_IMPORT = time.perf_counter()
from bot.commands import Origin  # noqa: E402
from bot.mail import load  # noqa: E402
from bot.pipeline import Options, review_posting, review_postings  # noqa: E402

THREADS = REPO.parent / "shared" / "corpus" / "threads"
TARGET_SECONDS = 2.0


def warm_up() -> float:
    """Import the judgement stage and parse rules, models and the catalog once."""
    t = time.perf_counter()
    from bot.classify import catalog, hazard_class
    from bot.cmodel.models import load_models
    from bot.judge import Judge  # noqa: F401
    from bot.sites.rules import load as load_site_rules

    load_models()
    load_site_rules()
    catalog()
    hazard_class("RCU_HEAD_SHARED")
    return time.perf_counter() - t


def review_series(path: Path) -> dict[str, Any]:
    t = time.perf_counter()
    res = load(str(path))
    t_load = time.perf_counter() - t
    formal = [p for p in res.postings if not p.is_reply]
    per: list[tuple[float, str]] = []
    # review_postings() builds one Judge for the whole list; time each posting through the same judge
    # to see where the time goes, and the whole call as the figure.
    from bot.judge import Judge

    judge = Judge(Options(origin=Origin("mbox", path=str(path)), cache=False, jobs=1), res.postings)
    t = time.perf_counter()
    for p in formal:
        tp = time.perf_counter()
        review_posting(judge, p)
        per.append((time.perf_counter() - tp, p.subject))
    total = t_load + time.perf_counter() - t
    return {"postings": len(res.postings), "formal": len(formal), "load_seconds": t_load, "seconds": total,
            "slowest": [{"seconds": round(s, 3), "subject": subj} for s, subj in sorted(per, reverse=True)[:3]]}


def check_same_as_pipeline(path: Path) -> float:
    """The plain pipeline call, once, to make sure the per-posting loop above measures the same work."""
    t = time.perf_counter()
    res = load(str(path))
    review_postings([p for p in res.postings if not p.is_reply], Options(origin=Origin("mbox", path=str(path)), cache=False, jobs=1), context=res.postings)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args(argv)
    paths = [THREADS / f"pte-free-defer-v{n}.mbox" for n in (1, 2, 3)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"corpus file(s) absent: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    startup = (time.perf_counter() - T_IMPORT) + warm_up()
    rows: dict[str, dict[str, Any]] = {}
    print(f"{'thread':28} {'formal':>6} {'seconds':>8} {'target':>7}  slowest posting")
    for path in paths:
        runs = [review_series(path) for _ in range(max(1, a.repeat))]
        best = min(runs, key=lambda r: r["seconds"])
        best["seconds_all_runs"] = [round(r["seconds"], 3) for r in runs]
        best["pipeline_seconds"] = round(check_same_as_pipeline(path), 3) if a.repeat > 1 else None
        best["seconds"] = round(best["seconds"], 3)
        best["load_seconds"] = round(best["load_seconds"], 3)
        best["under_target"] = best["seconds"] < TARGET_SECONDS
        rows[path.stem] = best
        slow = best["slowest"][0] if best["slowest"] else {"seconds": 0, "subject": ""}
        print(f"{path.stem:28} {best['formal']:>6} {best['seconds']:8.2f} {'<' + str(TARGET_SECONDS):>7}  "
              f"{slow['seconds']:.2f} s {slow['subject'][:60]}")
    worst = max(r["seconds"] for r in rows.values())
    out = {"threads": rows, "target_seconds": TARGET_SECONDS, "max_seconds": worst,
           "all_under_target": all(r["under_target"] for r in rows.values()),
           "startup_seconds": round(startup, 3), "repeat": a.repeat,
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "python": sys.version.split()[0]}
    print(f"startup (imports, rules, models) {startup:.2f} s, not counted; worst thread {worst:.2f} s "
          f"(target < {TARGET_SECONDS} s)")
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "series.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
