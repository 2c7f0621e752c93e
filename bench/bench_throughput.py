"""Benchmark: throughput (every core, never the same code twice), as ratios measured in one run.

  year scan      `review-bot scan` of the linux-s390 2023 year (8,638 messages) with judgement, cold
                 cache and warm cache (the same archive again: every review, and every message's
                 parse, read back), and judged serially without the cache (as before the cache and
                 the pool), each over the stdlib's plain `mailbox.mbox` parse of the same file
                 (targets: cold <= 2.0x, warm <= 1.2x); the three JSON outputs must be identical
  series         `check --mbox` of each pte-free-defer thread as a whole process, cold and warm
  check --git    of the 12-patch v1 series on a real kernel tree (Debian's linux-source-6.1, built
                 with tests/kernel_tree.py), cold and warm
  check --stdin  of the real v1 07/12 as a whole process (the b4 per-patch protocol), against
                 checkpatch.pl --no-tree (from the same linux-source-6.1) on the same file,
                 interleaved, best of N each (target: <= checkpatch.pl's time): cold (an empty cache
                 directory: the first run ever), compiled (the verdict cache empty, the compiled
                 cache of rules/ and models/ left by the v2 and v3 07/12 runs), first sight (the cache
                 holds what the v2 and v3 07/12 ran, as a hook's cache holds earlier patches' runs,
                 but nothing of this patch's review) and warm (this patch again). One patch's
                 scenarios run on the cores the machine leaves idle (bot.pool.idle_jobs), so the
                 load average at the start of the part is reported with it
                 Each case is also run once more per round with its stages timed inside the process
                 (bench/stages.py): the CPU seconds of start-up (the interpreter, imports, argparse),
                 the mail parse, the verdict cache, rules/ and models/, judging (the judge's imports,
                 program builds, the scenarios explored) and the report, from the round whose total is
                 the smallest
  peak RSS       of every process tree (wait4: a pool's workers count), target < 300 MB

Every review-bot run is a subprocess with its own cache directory (XDG_CACHE_HOME): cold means an
empty one, warm the same one again. The kernel parts need the .deb ($LINUX_SOURCE_DEB, .ci/cache/,
or /work/cache/) and perl; without them they are reported as skipped. Writes
bench/results/throughput.json. Run from the repo root:
    .venv/bin/python bench/bench_throughput.py [--quick] [--repeat N] [--stdin-only]
    .venv/bin/python bench/bench_throughput.py --year-only [--against DIR] [--repeat N]
--year-only runs the year scan alone (cold and warm, best of N, with the CPU seconds of each process
tree and the parse, printed, not saved); with --against DIR another checkout's scans run interleaved
with this one's in the same runs, for a before/after in one machine state.
"""

from __future__ import annotations

import argparse
import json
import lzma
import mailbox
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import kernel_tree  # noqa: E402 - the real-tree builder the tests use

CORPUS = REPO.parent / "shared" / "corpus"
YEAR = CORPUS / "lists" / "linux-s390-2023.mbox.xz"
THREADS = CORPUS / "threads"
RESULTS = REPO / "bench" / "results"
CHECKPATCH = ("scripts/checkpatch.pl", "scripts/spelling.txt", "scripts/const_structs.checkpatch")
PYCACHE = Path(tempfile.gettempdir()) / "review-bot-bench-pycache"
TARGETS = {"year_cold": 2.0, "year_warm": 1.2, "rss_mb": 300.0, "stdin_vs_checkpatch": 1.0}


def run(argv: list[str], cache_home: Path | None = None, cwd: Path = REPO,
        stdin: bytes | None = None, out: Path | None = None) -> dict[str, Any]:
    """One process (tree): wall seconds, CPU seconds and peak RSS of the tree, exit code."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled modules, as an installed package has them
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=open(out, "wb") if out else subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {code}: {err.decode(errors='replace')[-800:]}")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "exit": code, "stderr": err.decode(errors="replace")}


def bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def staged(*args: str) -> list[str]:
    """The same command with its stages timed (bench/stages.py), in its own process."""
    return [sys.executable, str(REPO / "bench" / "stages.py"), *args]


def stdlib_parse(path: Path) -> float:
    t = time.perf_counter()
    for msg in mailbox.mbox(str(path)):
        msg["subject"]
    return time.perf_counter() - t


def year_scan(tmp: Path, quick: bool) -> dict[str, Any]:
    mbox = tmp / "year.mbox"
    with lzma.open(YEAR) as src, mbox.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    home = tmp / "year-cache"
    outs = {k: tmp / f"year-{k}.json" for k in ("cold", "warm", "serial")}
    parse = [stdlib_parse(mbox)]
    runs = {"cold": run(bot("scan", "--mbox", str(mbox), "--format", "json"), home, out=outs["cold"])}
    parse.append(stdlib_parse(mbox))
    runs["warm"] = run(bot("scan", "--mbox", str(mbox), "--format", "json"), home, out=outs["warm"])
    if not quick:
        runs["serial"] = run(bot("scan", "--mbox", str(mbox), "--format", "json", "-j", "1", "--no-cache"),
                             tmp / "unused-cache", out=outs["serial"])
        parse.append(stdlib_parse(mbox))
    base = min(parse)
    texts = {k: p.read_bytes() for k, p in outs.items() if k in runs}
    return {"stdlib_parse_seconds": round(base, 3), "stdlib_parse_runs": [round(x, 3) for x in parse],
            **{f"{k}_seconds": round(r["seconds"], 3) for k, r in runs.items()},
            **{f"{k}_ratio": round(r["seconds"] / base, 3) for k, r in runs.items()},
            "peak_rss_mb": round(max(r["rss_mb"] for r in runs.values()), 1),
            "outputs_identical": len(set(texts.values())) == 1}


def year_only(repeat: int, against: Path | None) -> int:
    """The year scan alone, cold and warm, for this checkout and optionally another one, interleaved
    round by round (the machine's load hits both alike): best wall of N, with its CPU seconds."""
    repos = {"this": REPO} | ({"against": against.resolve()} if against else {})
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmpdir:
        tmp = Path(tmpdir)
        mbox = tmp / "year.mbox"
        with lzma.open(YEAR) as src, mbox.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        for repo in repos.values():
            run([sys.executable, "-m", "compileall", "-q", str(repo / "bot")])
        best: dict[tuple[str, str], dict[str, Any]] = {}
        parse: list[float] = []
        outs: set[bytes] = set()
        for r in range(repeat):
            parse.append(stdlib_parse(mbox))
            for name, repo in repos.items():
                home = tmp / f"cache-{name}-{r}"
                for kind in ("cold", "warm"):
                    out = tmp / f"{name}-{kind}.json"
                    got = run(bot("scan", "--mbox", str(mbox), "--format", "json"), home, cwd=repo, out=out)
                    outs.add(out.read_bytes())
                    if (name, kind) not in best or got["seconds"] < best[name, kind]["seconds"]:
                        best[name, kind] = got
    base = min(parse)
    print(f"stdlib mailbox parse of the year: {base:.2f} s (best of {repeat}; load average "
          f"{os.getloadavg()[0]:.2f} at the end)")
    for (name, kind), got in sorted(best.items()):
        print(f"{name:7} {repos[name]}  year scan, {kind}: {got['seconds']:6.2f} s = {got['seconds'] / base:.2f}x "
              f"the parse, {got['cpu_seconds']:6.2f} CPU s, peak RSS {got['rss_mb']:.0f} MB")
    print(f"outputs identical across checkouts and runs: {len(outs) == 1}")
    return 0 if len(outs) == 1 else 1


def series(tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in (1, 2, 3):
        path = THREADS / f"pte-free-defer-v{n}.mbox"
        home = tmp / f"series-v{n}"
        cold = run(bot("check", "--mbox", str(path), "--format", "json"), home)
        warm = run(bot("check", "--mbox", str(path), "--format", "json"), home)
        out[f"v{n}"] = {"cold_seconds": round(cold["seconds"], 3), "warm_seconds": round(warm["seconds"], 3),
                        "peak_rss_mb": round(max(cold["rss_mb"], warm["rss_mb"]), 1)}
    return out


def v1_series_patches() -> list[bytes]:
    """The 12 patches of the v1 series, in order, as mails."""
    import email.policy
    import re

    found: dict[int, bytes] = {}
    for msg in mailbox.mbox(str(THREADS / "pte-free-defer-v1.mbox"), factory=None):
        m = re.match(r"^\[PATCH (\d+)/12\]", " ".join(str(msg.get("Subject", "")).split()))
        if m and int(m.group(1)) > 0:
            found.setdefault(int(m.group(1)), msg.as_bytes(policy=email.policy.compat32))
    return [found[i] for i in sorted(found)]


def kernel_parts(tmp: Path, repeat: int) -> dict[str, Any]:
    deb = kernel_tree.find_deb() or next(iter(sorted(Path("/work/cache").glob("linux-source-6.1_*_all.deb"))), None)
    if deb is None or shutil.which("perl") is None:
        return {"skipped": "linux-source-6.1 .deb or perl absent"}
    t = time.perf_counter()
    repo = kernel_tree.build(deb, tmp / "kernel", extra=CHECKPATCH)
    built = time.perf_counter() - t
    tree = kernel_tree.KernelTree(repo, tmp / "kernel" / "worktrees",
                                  kernel_tree.git(repo, "rev-parse", "HEAD").stdout.strip())
    tree.work.mkdir()
    # check --git of the v1 series: each patch applied with git am -3 where it applies to 6.1
    work = tree.worktree("v1-series")
    applied = 0
    for i, patch in enumerate(v1_series_patches(), 1):
        mbox = tmp / f"v1-{i:02d}.mbox"
        mbox.write_bytes(patch if patch.startswith(b"From ") else b"From bench Mon Sep 17 00:00:00 2001\n" + patch)
        res = kernel_tree.git(work, "am", "-3", "-q", str(mbox), check=False)
        if res.returncode != 0:
            kernel_tree.git(work, "am", "--abort", check=False)
            continue
        applied += 1
    home = tmp / "git-cache"
    rng = f"{tree.base}..HEAD"
    git_cold = run(bot("check", "--git", rng, "--repo", str(work), "--format", "json"), home)
    git_warm = run(bot("check", "--git", rng, "--repo", str(work), "--format", "json"), home)
    return {"deb": deb.name, "tree_build_seconds": round(built, 1), "v1_patches_applied": applied,
            "check_git": {"cold_seconds": round(git_cold["seconds"], 3), "warm_seconds": round(git_warm["seconds"], 3),
                          "peak_rss_mb": round(max(git_cold["rss_mb"], git_warm["rss_mb"]), 1)},
            "stdin": stdin_part(tmp, repo, repeat)}


def stdin_part(tmp: Path, repo: Path, repeat: int) -> dict[str, Any]:
    """check --stdin of v1 07/12 against checkpatch.pl on the same file, interleaved."""
    patch = kernel_tree.patch_07(1)
    eml = tmp / "v1-07.eml"
    eml.write_bytes(patch)
    checkpatch = repo / "scripts" / "checkpatch.pl"
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("checkpatch", "cold", "compiled", "first_sight", "warm")}
    warm_home = tmp / "stdin-warm"
    run(bot("check", "--stdin", "--format", "checkpatch"), warm_home, stdin=patch)  # fills it
    # As a b4 hook runs, one process per patch: the cache holds what earlier patches ran (here the
    # v2 and v3 07/12), never this patch's own review
    others_home = tmp / "stdin-others"
    for n in (2, 3):
        run(bot("check", "--stdin", "--format", "checkpatch"), others_home, stdin=kernel_tree.patch_07(n))
    check = ("check", "--stdin", "--format", "checkpatch")
    stages: dict[str, list[dict[str, float]]] = {k: [] for k in ("cold", "compiled", "first_sight", "warm")}
    for k in range(repeat):
        runs["checkpatch"].append(run(["perl", str(checkpatch), "--no-tree", str(eml)], cwd=repo))
        for timed, argv, into in ((False, bot(*check), runs), (True, staged(*check), stages)):
            tag = "staged-" if timed else ""
            r = [run(argv, tmp / f"stdin-cold-{tag}{k}", stdin=patch)]
            r.append(run(argv, _others(others_home, tmp / f"stdin-compiled-{tag}{k}", verdicts=False), stdin=patch))
            r.append(run(argv, _others(others_home, tmp / f"stdin-fresh-{tag}{k}"), stdin=patch))
            r.append(run(argv, warm_home, stdin=patch))
            for name, res in zip(("cold", "compiled", "first_sight", "warm"), r):
                into[name].append(_stages_of(res) if timed else res)
    best = min(r["seconds"] for r in runs["checkpatch"])
    best_cpu = min(r["cpu_seconds"] for r in runs["checkpatch"])
    out: dict[str, Any] = {"checkpatch_seconds": round(best, 3), "checkpatch_cpu_seconds": round(best_cpu, 3)}
    for name, rs in runs.items():
        if name != "checkpatch":
            out[f"{name}_seconds"] = round(min(r["seconds"] for r in rs), 3)
            out[f"{name}_ratio"] = round(min(r["seconds"] for r in rs) / best, 3)
            out[f"{name}_cpu_seconds"] = round(min(r["cpu_seconds"] for r in rs), 3)
    # each case's stages from its round with the smallest total (the least disturbed one)
    out["stages_cpu_seconds"] = {name: min(rs, key=lambda st: st["total in process"]) for name, rs in stages.items()}
    out.update(repeat=repeat, load_average_before=round(load_before, 2),
               load_average_after=round(os.getloadavg()[0], 2),
               all_runs={name: [round(r["seconds"], 3) for r in rs] for name, rs in runs.items()})
    return out


def _others(src: Path, home: Path, verdicts: bool = True) -> Path:
    """A copy of the cache the v2 and v3 07/12 runs left; without its verdicts: the compiled cache only."""
    shutil.copytree(src, home)
    if not verdicts:
        for f in (home / "review-bot").glob("verdicts.sqlite*"):
            f.unlink()
    return home


def _stages_of(res: dict[str, Any]) -> dict[str, float]:
    """The stage seconds bench/stages.py printed last on stderr."""
    lines = [ln for ln in res["stderr"].splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"bench/stages.py printed no stage times: {res['stderr'][-400:]}")
    st: dict[str, float] = json.loads(lines[-1])
    return st


def stdin_only(repeat: int) -> int:
    """The check --stdin part alone, on the tree the whole bench builds: printed, not saved."""
    deb = kernel_tree.find_deb() or next(iter(sorted(Path("/work/cache").glob("linux-source-6.1_*_all.deb"))), None)
    if deb is None or shutil.which("perl") is None:
        print("linux-source-6.1 .deb or perl absent", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmpdir:
        tmp = Path(tmpdir)
        run([sys.executable, "-m", "compileall", "-q", str(REPO / "bot")])
        repo = kernel_tree.build(deb, tmp / "kernel", extra=CHECKPATCH)
        _print_stdin(stdin_part(tmp, repo, repeat))
    return 0


def _print_stdin(s: dict[str, Any]) -> None:
    print(f"check --stdin v1 07/12 (load average {s['load_average_before']:.2f} before, "
          f"{s['load_average_after']:.2f} after): cold {s['cold_seconds']:.3f} s ({s['cold_ratio']:.2f}x), "
          f"compiled cache only {s['compiled_seconds']:.3f} s ({s['compiled_ratio']:.2f}x), first sight "
          f"{s['first_sight_seconds']:.3f} s ({s['first_sight_ratio']:.2f}x), warm {s['warm_seconds']:.3f} s "
          f"({s['warm_ratio']:.2f}x); checkpatch.pl {s['checkpatch_seconds']:.3f} s; CPU s: cold "
          f"{s['cold_cpu_seconds']:.3f}, compiled {s['compiled_cpu_seconds']:.3f}, first sight "
          f"{s['first_sight_cpu_seconds']:.3f}, warm {s['warm_cpu_seconds']:.3f}, checkpatch.pl "
          f"{s['checkpatch_cpu_seconds']:.3f}")
    for name, st in s["stages_cpu_seconds"].items():
        judging = st.get("judging", 0.0)
        start = st["interpreter start"] + st["imports"] + st["argparse"]
        rest = st["total in process"] - start - judging - st.get("mail parse", 0.0) - st.get("report", 0.0)
        inner = ", ".join(f"{k} {st[k]:.3f}" for k in ("judge imports", "rules/ and models/", "program builds",
                                                         "scenarios explored") if k in st)
        print(f"  {name:11} CPU s: start-up {start:.3f} (interpreter {st['interpreter start']:.3f}, imports "
              f"{st['imports']:.3f}, argparse {st['argparse']:.3f}), mail parse {st.get('mail parse', 0):.3f}, "
              f"judging {judging:.3f}" + (f" ({inner})" if inner else "") + f", report {st.get('report', 0):.3f}, "
              f"the rest {rest:.3f} (verdict cache open {st.get('verdict cache open', 0):.3f}, review keys "
              f"{st.get('review keys', 0):.3f}); in all {st['total in process']:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="without the serial, uncached year scan")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each per-patch check (best is kept)")
    ap.add_argument("--stdin-only", action="store_true", help="only check --stdin against checkpatch.pl (not saved)")
    ap.add_argument("--year-only", action="store_true", help="only the year scan, cold and warm (not saved)")
    ap.add_argument("--against", type=Path, help="with --year-only: another checkout's scans, interleaved")
    a = ap.parse_args(argv)
    if a.stdin_only:
        return stdin_only(a.repeat)
    if not YEAR.exists():
        print(f"corpus file {YEAR} is absent", file=sys.stderr)
        return 2
    if a.year_only:
        return year_only(a.repeat, a.against)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmpdir:
        tmp = Path(tmpdir)
        run([sys.executable, "-m", "compileall", "-q", str(REPO / "bot")])  # bytecode before any timing
        out: dict[str, Any] = {"year": year_scan(tmp, a.quick), "series": series(tmp),
                               "kernel": kernel_parts(tmp, a.repeat)}
    out["load_average"] = {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)}
    rss = [out["year"]["peak_rss_mb"]] + [s["peak_rss_mb"] for s in out["series"].values()]
    if "check_git" in out["kernel"]:
        rss.append(out["kernel"]["check_git"]["peak_rss_mb"])
    out["peak_rss_mb"] = max(rss)
    out["targets"] = TARGETS
    out["nproc"] = len(os.sched_getaffinity(0))
    out["python"] = sys.version.split()[0]
    out["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    y = out["year"]
    print(f"stdlib mailbox parse of the year: {y['stdlib_parse_seconds']:.2f} s")
    for k in ("cold", "warm", "serial"):
        if f"{k}_seconds" in y:
            print(f"year scan, {k:6}: {y[k + '_seconds']:6.2f} s = {y[k + '_ratio']:.2f}x the parse")
    print(f"year outputs identical (cold, warm, serial uncached): {y['outputs_identical']}")
    for n, s in out["series"].items():
        print(f"check --mbox {n}: cold {s['cold_seconds']:.2f} s, warm {s['warm_seconds']:.2f} s")
    k = out["kernel"]
    if "skipped" in k:
        print(f"kernel tree parts skipped: {k['skipped']}")
    else:
        g, s = k["check_git"], k["stdin"]
        print(f"check --git of the v1 series ({k['v1_patches_applied']} of 12 apply to 6.1): "
              f"cold {g['cold_seconds']:.2f} s, warm {g['warm_seconds']:.2f} s")
        _print_stdin(s)
    print(f"peak RSS of any process tree: {out['peak_rss_mb']:.0f} MB (target < 300 MB)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "throughput.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
