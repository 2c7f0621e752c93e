"""Time call-site mapping of every patch of the 12-patch v1 series; writes bench/results/sites.json.

    /work/venv/bin/python bench/bench_sites.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.sites import analyze  # noqa: E402
from bot.sites.rules import load  # noqa: E402
from tests.test_sites_helpers import postings  # noqa: E402

THREAD = REPO.parent / "shared" / "corpus" / "threads" / "pte-free-defer-v1.mbox"
_N_OF_12 = re.compile(r"^\[PATCH (\d+)/12\]")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    series = [p for p in postings(THREAD) if (m := _N_OF_12.match(p.subject)) and m.group(1) != "00"]
    assert len(series) == 12, len(series)
    load()  # rules parsed once, as in a long-running bot
    runs, per_patch = [], {}
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for p in series:
            t = time.perf_counter()
            sm = analyze(p)
            per_patch[p.subject[:14]] = min(per_patch.get(p.subject[:14], 1e9), time.perf_counter() - t)
            assert sm is not None
        runs.append(time.perf_counter() - t0)
    res = {"series": "pte-free-defer v1 (12 patches)", "repeat": a.repeat,
           "series_seconds_min": round(min(runs), 4), "series_seconds_max": round(max(runs), 4),
           "per_patch_seconds_min": {k: round(v, 4) for k, v in sorted(per_patch.items())},
           "relevant": sum(analyze(p).relevant for p in series)}
    out = REPO / "bench" / "results" / "sites.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"sites: v1 series (12 patches) in {min(runs) * 1000:.1f} ms (max {max(runs) * 1000:.1f} ms)"
          f" over {a.repeat} runs; {res['relevant']} relevant; wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
