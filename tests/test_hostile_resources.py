"""Hostile sizes stay bounded: every input below is generated here, and each test asserts the bound
that holds it (a cap, a budget, a count of work), not a wall-clock time. bench/bench_hostile.py
measures the time and memory these inputs cost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cmodel import bind
from bot.cmodel.bind import MAX_ALIGN_CELLS, BindReport, apply_hunks, reference_lines
from bot.explore import run_scenario_file
from bot.fetch import Fetched, load_thread
from bot.findings import Report
from bot.mail import MAX_SKIP_RECORDS, load, load_bytes
from bot.mail.diff import MAX_DIFF_LINES, MAX_HUNKS
from bot.patch import FileDiff, Hunk, HunkLine
from bot.pipeline import Options, review_postings
from bot.report import render
from bot.sim.core import Step, check, resident_mb
from tests.conftest import REPO, run_cli
from tests.hostile_inputs import (
    big_new_file,
    big_thread_mbox,
    headerless_gz,
    many_hunks,
    many_patches_mbox,
    self_calling_patch,
    serve,
    static,
    wide_scenario,
)


def test_stdin_is_read_up_to_a_cap() -> None:
    res = run_cli("check", "--stdin", stdin=b"From: x\n" + b"\0" * (21 << 20))
    assert res.returncode == 2 and res.stderr_lines == [
        "review-bot: error: stdin holds more than 20 MiB: --stdin reads one patch email"]


def test_a_patch_larger_than_a_review_reads_is_skipped_with_the_reason() -> None:
    res = load_bytes(many_hunks(MAX_HUNKS + 1).encode())
    assert res.postings == [] and res.skipped == [
        {"msgid": f"many-{MAX_HUNKS + 1}@example.org", "reason": f"too large to review: more than a review reads: "
         f"{MAX_HUNKS} hunks"}]
    (skip,) = load_bytes(big_new_file(MAX_DIFF_LINES + 1).encode()).skipped
    assert skip["reason"] == f"too large to review: more than a review reads: {MAX_DIFF_LINES} lines of hunks"


def test_thousands_of_unplaceable_hunks_cost_each_only_its_own_lines() -> None:
    (p,) = load_bytes(many_hunks(3000).encode()).postings
    (review,) = review_postings([p], Options(budget_seconds=5), context=[p])
    assert review.msgid == p.msgid  # the review ends; its verdict says what was placed


def _matching_hunks(ref: list[str], n: int) -> FileDiff:
    """Hunks whose pre-image lines are all in the reference (so the cheap test passes), but before
    where the previous hunk was placed: each needs a full alignment of the rest of the file."""
    hunks = []
    for i in range(n):
        a, b = ref[0], ref[1]
        hunks.append(Hunk(1, 2, 1, 3, "", [HunkLine(" ", a, 1, 1), HunkLine("+", f"\tx{i}++;", None, 2),
                                            HunkLine(" ", b, 2, 3)]))
    return FileDiff("k.c", "k.c", hunks)


def test_hunk_placement_is_bounded_by_its_step_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bind, "MAX_FILE_CELLS", 400_000)  # the same rule at a tenth of the cost
    ref = [f"\tcounter_{i} = compute_something_{i}(table, {i});" for i in range(3000)]
    report = BindReport()
    apply_hunks(reference_lines("k.c", "\n".join(ref)), _matching_hunks(ref, 4000), report)
    assert report.steps <= bind.MAX_FILE_CELLS + MAX_ALIGN_CELLS
    assert report.applied > 0 and any("alignment steps" in f for f in report.failed)


def test_skip_records_are_capped_and_counted(tmp_path: Path) -> None:
    n = 5000
    path = tmp_path / "junk.mbox.gz"
    path.write_bytes(headerless_gz(n))
    res = load(str(path))
    assert res.messages == n and len(res.skipped) == MAX_SKIP_RECORDS + 1
    assert res.skipped[-1]["count"] == str(n - MAX_SKIP_RECORDS) and res.skip_kinds["no mail headers"] == n
    report = Report(messages=res.messages, skipped=res.skipped, reviews=[])
    assert report.skip_count == n and f"{n} skipped" in render(report, "text")


def test_time_budget_is_checked_between_successors(tmp_path: Path) -> None:
    path = tmp_path / "wide.toml"
    path.write_text(wide_scenario(3000))
    res, _meta = run_scenario_file(path, budget_states=10**9, budget_seconds=0.5)
    assert res.verdict == "inconclusive" and "0.5 s" in res.reason
    assert res.transitions < 3000  # stopped inside the first state's 3000 successors


def test_reading_and_compiling_a_scenario_spend_its_time_budget(tmp_path: Path) -> None:
    path = tmp_path / "wide.toml"
    path.write_text(wide_scenario(300))
    res, _meta = run_scenario_file(path, budget_states=10**9, budget_seconds=5, started=time.monotonic() - 5)
    assert res.verdict == "inconclusive" and "5 s" in res.reason and res.transitions == 0


def test_a_scenario_larger_than_a_scenario_holds_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.toml"
    path.write_text(wide_scenario(20_000))
    res = run_cli("explore", str(path), "--budget-seconds", "2")
    assert res.returncode == 2 and len(res.stderr_lines) == 1 and "more than a scenario holds" in res.stderr


class _Growing:
    """A model whose states grow without end: memory, not states or time, runs out first."""

    name = "growing"

    def init_states(self) -> list[tuple]:
        return [(0, b"")]

    def actions(self, state: tuple) -> list[int]:
        return [0, 1]

    def step(self, state: tuple, action: int) -> Step:
        n, blob = state
        return Step((n + 1, blob + bytes([action]) * 4096))

    def at_quiescence(self, state: tuple) -> list:
        return []


def test_memory_budget_stops_a_growing_exploration() -> None:
    budget = resident_mb() + 60
    res = check(_Growing(), budget_states=10**9, budget_seconds=120, budget_memory_mb=budget, reduce=False)
    assert res.verdict == "inconclusive" and "MB of memory" in res.reason
    assert resident_mb() < budget + 60


def test_a_self_calling_function_stops_at_the_call_depth() -> None:
    patch = self_calling_patch()
    res = load_bytes(patch.encode())
    (review,) = review_postings(res.postings, Options(budget_seconds=30), context=res.postings)
    assert not review.judged and review.not_judged
    assert all("calls deep" in why for why in review.not_judged), review.not_judged


def test_output_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old report\n")
    res = run_cli("check", "--mbox", str(REPO / "examples" / "rcu-head-shared.patch"), "--format", "json",
                  "-o", str(out))
    assert res.returncode == 1 and out.read_text().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary file left
    (tmp_path / "ro").mkdir(mode=0o500)
    bad = run_cli("check", "--mbox", str(REPO / "examples" / "rcu-head-shared.patch"), "-o", str(tmp_path / "ro" / "x"))
    if os.geteuid() != 0:  # root writes anywhere
        assert bad.returncode == 2 and list((tmp_path / "ro").iterdir()) == []


def test_sigterm_is_an_interrupt_that_cleans_up(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "report.json"
    out.write_text("old report\n")
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}
    with serve(static(many_patches_mbox(300), "application/mbox")) as base:  # minutes of review
        proc = subprocess.Popen([sys.executable, "-m", "bot", "scan", "--lore-url", base, "--format", "json",
                                 "-o", str(out)], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(tmp.iterdir()) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # the search result is on disk: the scan is under way
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and stderr.decode().strip().endswith("interrupted")
    assert list(tmp.iterdir()) == []  # temporary files removed
    assert out.read_text() == "old report\n"  # the old report, whole


def test_a_fetched_thread_is_parsed_once_with_the_mail_limits() -> None:
    mbox = big_thread_mbox(50) + b"From mboxrd@z Thu Jan  1 00:00:00 1970\nMessage-ID: <huge@example.org>\n\n" + (
        b"x" * (21 << 20)) + b"\n"
    sel = load_thread(Fetched("big-thread@example.org", "http://h/x", "http://h/x/t.mbox.gz", mbox))
    assert [p.msgid for p in sel.postings] == ["big-thread@example.org"]
    assert {"msgid": "huge@example.org", "reason": "too large: message exceeds 20971520 bytes"} in sel.skipped
    assert sel.thread.count("big-thread@example.org") == 1 and len(sel.thread) == 51


_HWM = ("import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]))\n"
        "from bot.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def _peak_rss_mb(*args: str, cwd: Path) -> tuple[int, float]:
    """`review-bot ARGS` as its own process: its exit code and its peak resident size, as the process
    itself reads it (VmHWM: a forked child's rusage would count this test process's pages too)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-c", _HWM, *args], cwd=cwd, env=env, capture_output=True, text=True)
    (hwm,) = [ln for ln in res.stderr.splitlines() if ln.startswith("VmHWM:")]
    return res.returncode, int(hwm.split()[1]) / 1024


def test_a_new_file_of_many_functions_costs_each_function_its_own_names(tmp_path: Path) -> None:
    # Each function of a new file is walked for call sites; what a walk may read of the posting's
    # own function names is those the function mentions, not all the file's (3,000 x 3,000 was
    # 700 MB, 49,000 lines 8 GB).
    (tmp_path / "big.patch").write_text(big_new_file(3000))
    code, peak = _peak_rss_mb("check", "--mbox", "big.patch", "--format", "json", "--no-cache", cwd=tmp_path)
    assert code == 0 and peak < 250, peak
