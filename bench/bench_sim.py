"""Simulator vs spin, end to end, on every standard scenario and design, in the same run.

Ours: load + explore (with and without the partial-order reduction). Spin: export + spin -a + gcc +
pan. Prints a table and ratios and writes bench/results/sim.json. Run: python bench/bench_sim.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.sim.core import check  # noqa: E402
from bot.sim.litmus import ScenarioModel  # noqa: E402
from bot.sim.promela import run_spin  # noqa: E402
from bot.sim.scenario import load  # noqa: E402


def ours(path: Path, reduce: bool) -> dict:
    t = time.monotonic()
    sc = load(path)
    r = check(ScenarioModel(sc), reduce=reduce)
    dt = time.monotonic() - t
    return {
        "verdict": r.verdict,
        "kinds": sorted(r.kinds),
        "states": r.states,
        "seconds": dt,
        "states_per_s": r.states / dt if dt else 0.0,
        "expected": sc.expected_verdict,
    }


def main() -> int:
    files = sorted((ROOT / "models" / "scenarios").glob("*.toml")) + sorted(
        (ROOT / "models" / "designs").glob("*.toml")
    )
    have_spin = shutil.which("spin") is not None
    rows = []
    print(
        f"{'scenario':46} {'verdict':8} {'states':>7} {'no-POR':>7} {'ours s':>7} "
        f"{'spin s':>7} {'ratio':>6} agree"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            full = ours(f, reduce=False)
            red = ours(f, reduce=True)
            row = {"file": str(f.relative_to(ROOT)), "ours": red, "ours_no_por": full}
            if have_spin:
                s = run_spin(load(f), tmp)
                row["spin"] = s
                row["ratio_spin_over_ours"] = s["seconds"] / red["seconds"]
                row["agree"] = (s["errors"] > 0) == (red["verdict"] == "unsafe")
            rows.append(row)
            sp = row.get("spin", {})
            print(
                f"{f.stem:46} {red['verdict']:8} {red['states']:>7} {full['states']:>7} "
                f"{red['seconds']:7.3f} "
                f"{sp.get('seconds', float('nan')):7.3f} "
                f"{row.get('ratio_spin_over_ours', float('nan')):6.0f} "
                f"{row.get('agree', '-')}"
            )
    st_full = sum(r["ours_no_por"]["states"] for r in rows)
    st_red = sum(r["ours"]["states"] for r in rows)
    summary = {
        "scenarios": len(rows),
        "max_ours_seconds": max(r["ours"]["seconds"] for r in rows),
        "all_under_1s": all(r["ours"]["seconds"] < 1.0 for r in rows),
        "all_expected": all(r["ours"]["verdict"] == r["ours"]["expected"] for r in rows),
        "states_no_por": st_full,
        "states_por": st_red,
        "por_reduction_pct": 100.0 * (st_full - st_red) / st_full if st_full else 0.0,
        "spin": have_spin,
    }
    if have_spin:
        ratios = [r["ratio_spin_over_ours"] for r in rows]
        summary |= {
            "min_ratio_spin_over_ours": min(ratios),
            "never_slower_than_spin": min(ratios) >= 1.0,
            "spin_agrees_everywhere": all(r["agree"] for r in rows),
            "total_ours_seconds": sum(r["ours"]["seconds"] for r in rows),
            "total_spin_seconds": sum(r["spin"]["seconds"] for r in rows),
        }
    print(json.dumps(summary, indent=1))
    out = ROOT / "bench" / "results" / "sim.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    return 0 if summary["all_expected"] and summary.get("spin_agrees_everywhere", True) else 1


if __name__ == "__main__":
    sys.exit(main())
