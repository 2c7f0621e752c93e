"""One entry point for every benchmark: `python bench/run.py [--quick]` from the repo root.

Runs each bench as its own subprocess, one after the other (timings are not shared with another bench
on the 2 cores), with its wall time and peak RSS taken from the kernel (wait4), then reads the JSON
each bench writes to bench/results/ and prints one summary table of figures against their targets.
Writes bench/results/summary.json.

    judgement  bench_judgement.py  labels.toml precision/recall; per year: false alarms, judged/relevant
    series     bench_series.py     whole-series review time per thread
    scan       bench_scan.py       our mail load vs stdlib mailbox on the 2023 year
    sim        bench_sim.py        simulator vs spin, time to verdict per scenario
    sites      bench_sites.py      call-site mapping of the v1 series
    b4         bench_b4.py         our series assembly vs b4's LoreMailbox on the 2023 year
    watch      bench_watch.py      list bot: posting delivered → reply at the SMTP server
    hostile    bench_hostile.py    peak RSS and wall time of the worst hostile input of each kind

--quick skips the year-long parts (the year false-alarm count and the scan ratio) and the hostile inputs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
RSS_TARGET_MB = 300.0  # bench_scan's target for the year, applied to every bench process
TOTAL_LIMIT_S = 600.0


@dataclass
class Bench:
    name: str
    script: str
    args: list[str]
    result: str  # file in bench/results/
    timeout: float
    quick: bool  # runs with --quick


def benches(quick: bool) -> list[Bench]:
    all_ = [
        Bench("judgement", "bench_judgement.py", ["--no-year"] if quick else [], "judgement.json", 420, True),
        Bench("series", "bench_series.py", ["--repeat", "3"], "series.json", 120, True),
        Bench("scan", "bench_scan.py", [], "scan.json", 240, False),
        Bench("sim", "bench_sim.py", [], "sim.json", 240, True),
        Bench("sites", "bench_sites.py", ["--repeat", "5"], "sites.json", 120, True),
        Bench("throughput", "bench_throughput.py", ["--quick"] if quick else [], "throughput.json", 480, True),
        Bench("b4", "bench_b4.py", [], "b4.json", 300, False),
        Bench("watch", "bench_watch.py", [], "watch.json", 300, True),
        Bench("hostile", "bench_hostile.py", [], "hostile.json", 900, False),
    ]
    return [b for b in all_ if b.quick or not quick]


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {"nproc": nproc, "cpu": cpu or platform.processor(), "mem_gb": round(mem_gb, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def run_bench(b: Bench) -> dict[str, Any]:
    """Run one bench script; its output goes straight to ours. Returns exit, seconds, peak RSS."""
    out = RESULTS / b.result
    before = out.stat().st_mtime if out.exists() else None
    print(f"\n===== {b.name}: {b.script} {' '.join(b.args)}", flush=True)
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(BENCH / b.script), *b.args], cwd=REPO,
                            start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(b.timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t
    fresh = out.exists() and (before is None or out.stat().st_mtime > before)
    data = json.loads(out.read_text()) if fresh else None
    print(f"===== {b.name}: exit {proc.returncode}, {seconds:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB"
          + (" (TIMED OUT)" if timed_out.is_set() else "") + ("" if fresh else " (no results written)"),
          flush=True)
    return {"exit": proc.returncode, "seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "timed_out": timed_out.is_set(), "results_written": fresh, "data": data}


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: float | None
    op: str  # "<=", "<", ">=", "==" or "" (no target: reported only)
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "n/a"
        if self.target is None or not self.op:
            return "info"
        ok = {"<=": self.value <= self.target, "<": self.value < self.target,
              ">=": self.value >= self.target, "==": self.value == self.target}[self.op]
        return "OK" if ok else "MISS"

    @property
    def ratio(self) -> float | None:
        """value / target (a share of the limit for upper bounds, of the goal for lower bounds)."""
        if self.value is None or not self.target:
            return None
        return self.value / self.target

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "target": self.target,
                "op": self.op, "ratio": None if self.ratio is None else round(self.ratio, 4),
                "status": self.status, "note": self.note}


def figures(res: dict[str, dict[str, Any]], quick: bool) -> list[Figure]:
    figs: list[Figure] = []
    j = (res.get("judgement") or {}).get("data")
    if j:
        arch, caller, cost = j["by_scope"]["arch"], j["by_scope"]["caller"], j["cost"]
        figs += [
            Figure("arch recall (labels must)", arch["recall"], "frac", 1.0, ">=",
                   f"tp {arch['tp']} fn {arch['fn']} over {arch['patches']} patches"),
            Figure("arch precision", arch["precision"], "frac", 1.0, ">=",
                   f"fp {arch['fp']}" + (f"; tests accept {', '.join(j.get('fp_accepted_by_tests', []))}"
                                         if j.get("fp_accepted_by_tests") else "")),
            Figure("caller recall (later scope)", caller["recall"], "frac", None, "",
                   f"tp {caller['tp']} fn {caller['fn']} over {caller['patches']} patches"),
            Figure("caller precision (later scope)", caller["precision"], "frac", None, "", f"fp {caller['fp']}"),
            Figure("cost notes recall (should)", cost["recall"], "frac", None, "",
                   f"tp {cost['tp']} fn {cost['fn']} fp {cost['fp']}"),
        ]
        years = j.get("years") or ({"2023": j["year"]} if j.get("year") else {})
        for name, y in years.items():
            cov = y["coverage"]
            top = ", ".join(f"{n} {k}" for k, n in list(cov["reasons"].items())[:2])
            figs.append(Figure(f"{name} false alarms (correctness)", float(y["correctness_findings"]), "", 0.0,
                               "==", f"{y['reviewed']} postings reviewed, {cov['relevant']} relevant"))
            figs.append(Figure(f"{name} judged / relevant postings", cov["judged_fraction"], "frac", 0.9, ">=",
                               f"{cov['judged']} of {cov['relevant']}; not judged: {top}" if top else
                               f"{cov['judged']} of {cov['relevant']}"))
        if not years and quick:
            figs.append(Figure("2023 false alarms (correctness)", None, "", 0.0, "==", "skipped (--quick)"))
            figs.append(Figure("2023 judged / relevant postings", None, "frac", 0.9, ">=", "skipped (--quick)"))
    s = (res.get("series") or {}).get("data")
    if s:
        for name, row in s["threads"].items():
            figs.append(Figure(f"series review {name.replace('pte-free-defer-', '')}", row["seconds"], "s",
                               s["target_seconds"], "<", f"{row['formal']} formal postings, best of {s['repeat']}"))
    sc = (res.get("scan") or {}).get("data")
    if sc:
        figs.append(Figure("scan load vs stdlib mailbox", sc["ratio"], "x", sc.get("ratio_target", 2.0), "<=",
                           f"{sc['ours_seconds']} s vs {sc['stdlib_mailbox_seconds']} s, {sc['messages_ours']} msgs"))
    elif quick:
        figs.append(Figure("scan load vs stdlib mailbox", None, "x", 2.0, "<=", "skipped (--quick)"))
    sim = (res.get("sim") or {}).get("data")
    if sim:
        sm = sim["summary"]
        if sm.get("spin"):
            worst = 1.0 / sm["min_ratio_spin_over_ours"] if sm.get("min_ratio_spin_over_ours") else None
            figs.append(Figure("simulator vs spin, worst scenario", worst, "x", 1.0, "<=",
                               f"{sm['scenarios']} scenarios; spin agrees: {sm['spin_agrees_everywhere']}"))
            figs.append(Figure("simulator vs spin, all scenarios", sm["total_ours_seconds"] / sm["total_spin_seconds"],
                               "x", 1.0, "<=", f"{sm['total_ours_seconds']:.2f} s vs {sm['total_spin_seconds']:.2f} s"))
        else:
            figs.append(Figure("simulator vs spin", None, "x", 1.0, "<=", "spin not installed"))
        figs.append(Figure("simulator verdicts as expected", float(sm["all_expected"]), "bool", 1.0, "==",
                           f"max {sm['max_ours_seconds'] * 1000:.0f} ms per scenario"))
    si = (res.get("sites") or {}).get("data")
    if si:
        figs.append(Figure("call sites, v1 series (12 patches)", si["series_seconds_min"] * 1000, "ms", None, "",
                           f"{si['relevant']} relevant, best of {si['repeat']}"))
    tp = (res.get("throughput") or {}).get("data")
    if tp:
        y = tp["year"]
        same = "outputs identical" if y["outputs_identical"] else "OUTPUTS DIFFER"
        figs.append(Figure("year scan+judgement / parse, cold", y["cold_ratio"], "x", 2.0, "<=",
                           f"{y['cold_seconds']} s vs {y['stdlib_parse_seconds']} s; {same}"))
        figs.append(Figure("year scan+judgement / parse, warm", y["warm_ratio"], "x", 1.2, "<=",
                           f"{y['warm_seconds']} s"))
        if "serial_ratio" in y:
            figs.append(Figure("year, serial and uncached / parse", y["serial_ratio"], "x", None, "",
                               f"{y['serial_seconds']} s: the path before the cache and the pool"))
        k = tp["kernel"]
        if "stdin" in k:
            st = k["stdin"]
            figs.append(Figure("check --stdin / checkpatch.pl, warm", st["warm_ratio"], "x", 1.0, "<=",
                               f"{st['warm_seconds']} s vs {st['checkpatch_seconds']} s, best of {st['repeat']}"))
            figs.append(Figure("check --stdin / checkpatch.pl, cold", st["cold_ratio"], "x", 1.0, "<=",
                               f"{st['cold_seconds']} s, empty verdict cache"))
            g = k["check_git"]
            figs.append(Figure("check --git v1 series, real tree", g["cold_seconds"], "s", None, "",
                               f"warm {g['warm_seconds']} s; {k['v1_patches_applied']} of 12 apply to 6.1"))
    figs += list_bot_figures(res)
    figs += hostile_figures(res, quick)
    # the hostile bench's processes are held to their own 1 GB bound above, not to this one
    rss = [r["peak_rss_mb"] for k, r in res.items() if k != "hostile"]
    if rss:
        worst_name = max((k for k in res if k != "hostile"), key=lambda k: res[k]["peak_rss_mb"])
        figs.append(Figure("peak RSS, any bench process", max(rss), "MB", RSS_TARGET_MB, "<", f"in {worst_name}"))
    return figs


def list_bot_figures(res: dict[str, dict[str, Any]]) -> list[Figure]:
    figs = []
    b4 = (res.get("b4") or {}).get("data")
    if b4:
        figs.append(Figure("b4 LoreMailbox vs our series assembly", b4["ratio_b4_vs_ours"], "x", None, "",
                           f"{b4['b4_seconds']} s vs {b4['ours_seconds']} s; same patches in "
                           f"{b4['agree_share'] * 100:.1f}% of {b4['threads_with_patches']} threads"))
    w = (res.get("watch") or {}).get("data")
    if w:
        figs.append(Figure("watch: posting → reply at SMTP (worst)", w["latency_max_seconds"], "s",
                           w["target_seconds"], "<", f"median {w['latency_median_seconds']:.2f} s of {w['postings']} "
                           f"postings, {w['poll_seconds']:g} s poll"))
    return figs


def hostile_figures(res: dict[str, dict[str, Any]], quick: bool) -> list[Figure]:
    h = (res.get("hostile") or {}).get("data")
    if not h:
        return [Figure("hostile inputs: worst peak RSS", None, "MB", 1000.0, "<", "skipped (--quick)")] if quick else []
    return [Figure("hostile inputs: worst peak RSS", h["worst_peak_rss_mb"], "MB", h["rss_limit_mb"], "<",
                   f"{h['worst_peak_rss_kind']}; baseline {h['baseline']['peak_rss_mb']:.0f} MB"),
            Figure("hostile inputs: worst time / budget", h["worst_over_budget"], "x", h["over_budget_limit"], "<=",
                   h["worst_over_budget_kind"])]


def _num(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.1f} ms"
    if unit == "MB":
        return f"{v:.0f} MB"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "x":
        return f"{v:.3f}x" if v < 0.1 else f"{v:.2f}x"
    if unit == "frac":
        return f"{v:.2f}"
    if unit == "bool":
        return "yes" if v else "no"
    return f"{v:g}"


def table(figs: list[Figure]) -> str:
    rows = [("figure", "value", "target", "vs target", "status", "")]
    for f in figs:
        target = "-" if f.target is None or not f.op else f"{f.op} {_num(f.target, f.unit)}"
        ratio = "-" if f.ratio is None or not f.op else f"{f.ratio:.2f}"
        rows.append((f.name, _num(f.value, f.unit), target, ratio, f.status, f.note))
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("  ".join(r[k].ljust(w[k]) if k == 0 else r[k].rjust(w[k]) for k in range(5)) + "  " + r[5])
        if i == 0:
            lines.append("  ".join("-" * x for x in w) + "  " + "-" * 4)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the year-long parts (year false alarms, scan)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a figure misses its target")
    a = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    mach = machine()
    t0 = time.perf_counter()
    res: dict[str, dict[str, Any]] = {}
    for b in benches(a.quick):
        res[b.name] = run_bench(b)
    total = time.perf_counter() - t0
    figs = figures(res, a.quick)
    print(f"\n===== summary ({'quick' if a.quick else 'full'}; {mach['nproc']} cores, {mach['cpu']}, "
          f"Python {mach['python']}, {mach['date']})")
    print(table(figs))
    for name, r in res.items():
        print(f"  {name:10} exit {r['exit']}  {r['seconds']:7.1f} s  peak RSS {r['peak_rss_mb']:5.0f} MB"
              + ("  TIMED OUT" if r["timed_out"] else "") + ("" if r["results_written"] else "  NO RESULTS"))
    print(f"  total {total:.1f} s (limit {TOTAL_LIMIT_S:.0f} s)")
    summary = {
        "machine": mach, "quick": a.quick, "total_seconds": round(total, 1), "total_limit_seconds": TOTAL_LIMIT_S,
        "benches": {k: {kk: vv for kk, vv in v.items() if kk != "data"} for k, v in res.items()},
        "figures": [f.to_json() for f in figs],
    }
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {(RESULTS / 'summary.json').relative_to(REPO)}")
    broken = [k for k, v in res.items() if not v["results_written"] or v["timed_out"]]
    if broken:
        print(f"benches that did not produce results: {', '.join(broken)}", file=sys.stderr)
        return 1
    if a.strict and any(f.status == "MISS" for f in figs):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
