"""A thawed World reads its parts, and a thread its callers' frames, only when used; freezing keeps
the parts nobody touched as they were. Exploring with that must be exploring with every part
thawed: the same states in the same order, the same counterexamples, the same reviews."""

from __future__ import annotations

from dataclasses import fields

import pytest

from bot.cmodel import world as world_mod
from bot.cmodel.models import build_program, load_models, run_scenario, scenario_runnable
from bot.cmodel.world import Frame, FrozenFrame, FrozenThread, Thread, World
from bot.commands import Origin
from bot.findings import Report
from bot.mail import load
from bot.pipeline import Options, review_postings
from bot.report import render
from tests.corpus import thread


def _eager_thaw(t: tuple) -> World:
    """World.thaw as it was: every dict and every frame of every thread thawed at once."""
    w = World(dict(t[0]), dict(t[1]), dict(t[2]), dict(t[3]), dict(t[4]), t[5], t[6], dict(t[7]), dict(t[8]),
              [], t[10], t[11], t[12], dict(t[13]), t[14])
    for ft in t[9]:
        th = Thread(*ft[:3], [Frame(f[0], f[1], dict(f[2]), f[3]) for f in ft[3]], *ft[4:])
        w.threads.append(th)
    return w


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(world_mod.World, "thaw", staticmethod(_eager_thaw))


def test_frozen_forms_name_every_field_in_order() -> None:
    assert [f.name for f in fields(Thread)] == list(FrozenThread._fields)
    assert [f.name for f in fields(Frame)] == list(FrozenFrame._fields)


def test_a_world_untouched_freezes_to_itself_and_a_touched_one_as_a_fresh_one() -> None:
    w = World(mem={3: 1, 1: 2}, objects={5: ("page", 64, True, "page#0", "")}, flags={5: frozenset({"x"}), 6: frozenset()})
    w.threads.append(Thread("CPU0", "process", 0, [Frame("f", 1, {"b": 2, "a": 1}), Frame("g", 0, {"c": 3})]))
    frozen = w.freeze()
    lazy = World.thaw(frozen)
    assert lazy.freeze() == frozen
    again = lazy.freeze()
    assert all(again[i] is frozen[i] for i in (0, 1, 2, 3, 4, 7, 8, 13))  # the dicts' parts themselves, not copies
    lazy.mem[2] = 7
    lazy.running(0).frames[-1].locals["d"] = 4
    eager = _eager_thaw(frozen)
    eager.mem[2] = 7
    eager.threads[0].frames[-1].locals["d"] = 4
    assert lazy.freeze() == eager.freeze()
    t = World.thaw(frozen).running(0)
    assert isinstance(t.frames[0], FrozenFrame) and isinstance(t.frames[1], Frame)
    t.pop_frame()
    assert isinstance(t.frames[-1], Frame) and t.frames[-1].locals == {"a": 1, "b": 2}


def _explore_every_reference_scenario() -> list[tuple]:
    out = []
    for spec in load_models():
        bound = build_program(spec, [], None)
        for sc in spec.scenarios:
            if scenario_runnable(sc, bound.program):
                res, _m = run_scenario(spec, bound, sc, 20_000, 60.0)
                out.append((spec.name, sc.name, res.verdict, res.states, res.transitions,
                            [(c.violation, c.trace, c.schedule) for c in res.counterexamples]))
    return out


def _review_thread(n: int) -> str:
    path = str(thread(n))
    res = load(path)
    opts = Options(origin=Origin("mbox", path=path), cache=False, jobs=1, budget_seconds=600.0, review_seconds=600.0)
    reviews = review_postings([p for p in res.postings if not p.is_reply], opts, context=res.postings)
    return render(Report(messages=res.messages, skipped=res.skipped, reviews=reviews), "json")


@pytest.fixture(scope="module")
def lazily() -> tuple[list[tuple], str]:
    return _explore_every_reference_scenario(), _review_thread(2)


def test_exploring_with_lazy_parts_is_exploring_with_every_part_thawed(lazily: tuple, eager: None) -> None:
    scenarios, review = lazily
    assert len(scenarios) > 20
    assert _explore_every_reference_scenario() == scenarios
    assert _review_thread(2) == review
