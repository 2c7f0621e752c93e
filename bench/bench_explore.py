"""Benchmark: the explorer's CPU cost per state, on the scenario runs of real reviews.

Records every scenario run (the inputs of bot.cmodel.models.run_scenario) of an uncached, serial
`check --mbox` of each pte-free-defer thread, then explores the recorded runs one after the other in
a fresh process and counts the CPU seconds of the explorations alone (bot.sim.core.check: building
each machine is not counted), the states and the microseconds per state. With --against DIR (another
checkout of review-bot, e.g. `git worktree add --detach /tmp/base main`) the same runs are explored
by that checkout's code too, interleaved with ours, best of --repeat each, and the ratio is printed;
the two must explore the same graph and find the same counterexamples (a digest of every run's
states, transitions, traces and observations). Writes bench/results/explore.json. Run from the
repo root:
    .venv/bin/python bench/bench_explore.py [--against DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
THREADS = REPO.parent / "shared" / "corpus" / "threads"
RESULTS = REPO / "bench" / "results"
UNBOUNDED_SECONDS = 1e9  # the recorded time budget is dropped: a budget cut would depend on the speed


def record(out: Path) -> int:
    """The scenario runs of the three threads' reviews, pickled to `out`; how many."""
    sys.path.insert(0, str(REPO))
    import bot.cmodel.models as models
    from bot.cli import main

    runs: list[bytes] = []
    explore = models.run_scenario

    def recording(spec: Any, bound: Any, sc: Any, budget_states: int, budget_seconds: float) -> Any:
        runs.append(pickle.dumps((spec, bound, sc, budget_states)))
        return explore(spec, bound, sc, budget_states, budget_seconds)

    models.run_scenario = recording  # cache.run_scenario looks it up at each call
    for v in (1, 2, 3):
        main(["check", "--mbox", str(THREADS / f"pte-free-defer-v{v}.mbox"), "--no-cache", "-j", "1",
              "--format", "json", "-o", os.devnull])
    out.write_bytes(pickle.dumps(runs))
    return len(runs)


def explore(runs_file: Path, code: Path) -> dict[str, Any]:
    """Explore the recorded runs with the review-bot at `code`: CPU seconds, states, digest."""
    sys.path.insert(0, str(code))
    import bot
    from bot.cmodel.models import scenario_machine
    from bot.sim.core import check

    if not Path(bot.__file__).resolve().is_relative_to(code.resolve()):
        raise SystemExit(f"{code}: its bot package is not the one imported ({bot.__file__})")
    runs = [pickle.loads(b) for b in pickle.loads(runs_file.read_bytes())]
    spec, bound, sc, budget = runs[0]
    check(scenario_machine(spec, bound, sc), budget, UNBOUNDED_SECONDS)  # modules imported on first use
    digest = hashlib.sha256()
    cpu, states, transitions = 0.0, 0, 0
    for spec, bound, sc, budget in runs:
        m = scenario_machine(spec, bound, sc)
        t = time.process_time()
        res = check(m, budget, UNBOUNDED_SECONDS)
        cpu += time.process_time() - t
        states += res.states
        transitions += res.transitions
        o = m.obs
        digest.update(repr((res.verdict, res.states, res.transitions, res.reason,
                            [(c.violation, c.trace, c.schedule) for c in res.counterexamples],
                            sorted(o.costs.items()), sorted(o.unknown), sorted(o.choices), sorted(o.unresolved),
                            sorted(o.ran), sorted(o.notes))).encode())
    return {"runs": len(runs), "cpu_seconds": cpu, "states": states, "transitions": transitions,
            "us_per_state": cpu / states * 1e6 if states else 0.0, "digest": digest.hexdigest()}


def explore_in(runs_file: Path, code: Path) -> dict[str, Any]:
    """explore() in a process of its own, so that each checkout's modules are the only ones loaded."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--explore", str(runs_file),
                          "--code", str(code)], cwd=code, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", type=Path, help="another checkout to explore the same runs, for the ratio")
    ap.add_argument("--repeat", type=int, default=3, help="best of N (interleaved with --against)")
    ap.add_argument("--explore", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--code", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.explore:
        print(json.dumps(explore(args.explore, args.code)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        runs_file = Path(tmp) / "runs.pickle"
        os.environ["XDG_CACHE_HOME"] = tmp  # the compiled cache of rules/ and models/ of this run only
        n = record(runs_file)
        ours: list[dict[str, Any]] = []
        theirs: list[dict[str, Any]] = []
        for _ in range(args.repeat):
            ours.append(explore_in(runs_file, REPO))
            if args.against:
                theirs.append(explore_in(runs_file, args.against.resolve()))
    best = min(ours, key=lambda r: r["cpu_seconds"])
    print(f"{n} scenario runs of the pte-free-defer v1-v3 reviews: {best['states']} states, "
          f"{best['transitions']} transitions")
    print(f"ours     {best['cpu_seconds']:6.2f} CPU s  {best['us_per_state']:6.1f} us/state  (best of {len(ours)})")
    result: dict[str, Any] = {"ours": best, "runs_ours": ours}
    if theirs:
        base = min(theirs, key=lambda r: r["cpu_seconds"])
        same = all(r["digest"] == best["digest"] for r in ours + theirs)
        ratio = base["cpu_seconds"] / best["cpu_seconds"] if best["cpu_seconds"] else 0.0
        print(f"against  {base['cpu_seconds']:6.2f} CPU s  {base['us_per_state']:6.1f} us/state  ({args.against})")
        print(f"ratio    {ratio:.2f}x fewer CPU seconds; same exploration: {'yes' if same else 'NO'}")
        result |= {"against": str(args.against), "theirs": base, "runs_theirs": theirs, "ratio": ratio,
                   "same_exploration": same}
        if not same:
            return 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "explore.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
