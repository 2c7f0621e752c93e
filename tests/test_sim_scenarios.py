"""The suite is the set of scenario files: each one's actual outcome must equal its declared one."""

from pathlib import Path

import pytest

from bot.explore import DESIGNS, SCENARIOS, run_scenario_file

FILES = sorted(SCENARIOS.glob("*.toml")) + sorted(DESIGNS.glob("*.toml"))
KINDS = {
    "rcu_head_requeued",
    "rcu_head_overlays_list",
    "list_del_unlinked",
    "list_double_add",
    "use_after_free",
    "reader_saw_free",
    "reader_saw_reuse",
    "double_free",
    "leak",
    "sleep_in_atomic",
    "final_mmdrop_in_softirq",
    "deadlock",
    "typesafe_reinit",
    "lock_in_freed_memory",
}


def test_every_violation_kind_has_a_scenario() -> None:
    declared = set()
    for f in FILES:
        _, meta = run_scenario_file(f)
        declared |= set(meta.expect_violations)
    assert declared == KINDS


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).stem)
def test_scenario_meets_its_expectation(path: Path) -> None:
    result, meta = run_scenario_file(path, budget_seconds=5)
    assert result.verdict == meta.expect_verdict, result.reason
    assert sorted(result.kinds) == sorted(meta.expect_violations)
    assert result.seconds < 1.0
    for ce in result.counterexamples:
        assert ce.trace, "a counterexample needs a trace"
        assert set(dict(ce.violation.attrs)) >= {"ctx"} or ce.violation.kind in ("leak", "deadlock")


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).stem)
def test_reduction_keeps_the_verdict(path: Path) -> None:
    full, _ = run_scenario_file(path, reduce=False)
    red, _ = run_scenario_file(path, reduce=True)
    assert (red.verdict, red.kinds) == (full.verdict, full.kinds)
    assert red.states <= full.states


def test_reduction_prunes_somewhere() -> None:
    total_full = total_red = 0
    for f in FILES:
        total_full += run_scenario_file(f, reduce=False)[0].states
        total_red += run_scenario_file(f, reduce=True)[0].states
    assert total_red < total_full


def test_attrs_of_the_unordered_callbacks_uaf() -> None:
    result, _ = run_scenario_file(SCENARIOS / "callbacks-unordered-mm-uaf.toml")
    (ce,) = result.counterexamples
    v = ce.violation
    assert (v.attr("object"), v.attr("ctx"), v.attr("freed_by")) == ("mm", "softirq", "call_rcu")
    # the mm's own callback ran before the page-table callback used it
    ops = [e.op for e in ce.trace]
    assert any("free_mm_cb() invoked" in o for o in ops)
    assert ops.index(next(o for o in ops if "free_mm_cb() invoked" in o)) < len(ops) - 1


def test_deadlock_cause_is_softirq_reentry() -> None:
    result, _ = run_scenario_file(SCENARIOS / "spin-lock-vs-callback-deadlock.toml")
    (ce,) = result.counterexamples
    assert ce.violation.attr("cause") == "softirq_reentry"
    assert ce.violation.attr("lock") == "mm.context_lock"
    assert ce.trace[-1].ctx == "softirq@CPU0"


def test_abba_cause() -> None:
    result, _ = run_scenario_file(SCENARIOS / "abba-deadlock.toml")
    assert result.counterexamples[0].violation.attr("cause") == "abba"
