"""A machine's per-function tables (interleaving points, choice points, the locks calls wait for)
are worked out once for every machine whose program agrees on what they read."""

from __future__ import annotations

import pytest

from bot import scenario_cache
from bot.cmodel import machine, models
from bot.cmodel.models import build_program, load_models
from bot.mail import load
from tests import corpus


def _machines() -> list[models.Machine]:
    p = next(q for q in load(str(corpus.thread(1))).postings if q.subject.startswith("[PATCH 07/12]"))
    spec = next(s for s in load_models() if set(s.files) & {fd.path for fd in p.files})
    out = []
    for bound in (build_program(spec, []), build_program(spec, [p.files])):
        for sc in spec.scenarios:
            if models.scenario_runnable(sc, bound.program):
                try:
                    out.append(models.scenario_machine(spec, bound, sc))
                except models.SetupError:
                    pass
    return out


def test_remembered_tables_are_the_tables_made_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "_TABLES", {})
    monkeypatch.setattr(scenario_cache, "_SETUPS", {})  # each machine runs its setup
    machines = _machines()
    assert machine._TABLES
    for m in machines:
        for fn in m.program.functions:
            got = m._tables(fn)
            monkeypatch.setattr(machine, "_TABLES", {})
            m._fns.clear()
            assert m._tables(fn) == got, (m.name, fn)


def _machine(m: machine.Machine, functions: dict) -> machine.Machine:
    """A machine like m on a program with these functions."""
    import copy

    prog = copy.copy(m.program)
    prog.functions = functions
    out = machine.Machine(prog, m.name, m.init, [], m.cost_rules)
    out.faults = m.faults
    return out


def test_tables_follow_what_the_called_names_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same compiled function in a program where a name it calls is a function, and in one where
    it is not (an unknown call then): its own tables in each."""
    found = None
    for m in _machines():
        code = m.program.functions
        for fn, comp in code.items():
            for callee in {i.name for i in comp.code if isinstance(i, machine.CallIns) and i.name in code} - {fn}:
                without = {n: f for n, f in code.items() if n != callee}
                monkeypatch.setattr(machine, "_TABLES", {})
                a = _machine(m, dict(code))._tables(fn)
                monkeypatch.setattr(machine, "_TABLES", {})
                b = _machine(m, without)._tables(fn)
                if a != b:
                    found = (m, fn, without, a, b)
                    break
            if found:
                break
        if found:
            break
    assert found, "no function whose tables depend on what it calls"
    m, fn, without, a, b = found
    monkeypatch.setattr(machine, "_TABLES", {})
    assert _machine(m, dict(m.program.functions))._tables(fn) == a
    assert _machine(m, without)._tables(fn) == b, "the tables of a program where the callee is a function"
    assert _machine(m, dict(m.program.functions))._tables(fn) == a
