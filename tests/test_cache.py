"""The verdict cache: a hit gives the same verdict as judging again, and only the same code hits."""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import pytest

from bot import cache, scenario_cache
from bot.cmodel import models
from bot.cmodel.models import build_program, load_models
from bot.mail import load
from bot.options import Options
from bot.patch import HunkLine
from tests import corpus
from tests.throughput import review_json


def test_cold_warm_and_uncached_runs_agree(throughput_inputs: dict[str, Path], serial_uncached: dict[str, str],
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "verdicts.sqlite")
    for name, path in throughput_inputs.items():
        cold = review_json(path, cache_path=db)
        assert cold == serial_uncached[name], f"{name}: cold cache differs from an uncached run"
        hits = cache.for_options(Options(cache_path=db)).hits
        warm = review_json(path, cache_path=db)
        assert warm == serial_uncached[name], f"{name}: warm cache differs from an uncached run"
        assert cache.for_options(Options(cache_path=db)).hits > hits, f"{name}: the warm run looked nothing up"
    assert '"relevant": true' in serial_uncached["2023-slice"]  # the slice has judged postings


def test_scenarios_hit_without_the_review_cache(throughput_inputs: dict[str, Path], serial_uncached: dict[str, str],
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reviews judged again (as for a repost) explore nothing twice: every scenario is a lookup."""
    db = str(tmp_path / "verdicts.sqlite")
    monkeypatch.setattr(cache, "review_keys", lambda postings, *a, **k: [None] * len(postings))
    path = throughput_inputs["v1"]
    assert review_json(path, cache_path=db, jobs=1) == serial_uncached["v1"]

    def explored(*a: object, **k: object) -> None:
        raise AssertionError("a scenario already explored was explored again")

    monkeypatch.setattr(models, "run_scenario", explored)
    assert review_json(path, cache_path=db, jobs=1) == serial_uncached["v1"]


def _v1_07_program(text_edit: tuple[str, str] | None = None) -> tuple[models.ModelSpec, models.Bound]:
    res = load(str(corpus.thread(1)))
    p = next(p for p in res.postings if p.subject.startswith("[PATCH 07/12]"))
    spec = next(s for s in load_models() if set(s.files) & {fd.path for fd in p.files})
    files = p.files
    if text_edit is not None:
        import copy

        files = copy.deepcopy(p.files)
        old, new = text_edit
        for fd in files:
            for h in fd.hunks:
                h.lines = [type(ln)(ln.tag, ln.text.replace(old, new), ln.old_no, ln.new_no) for ln in h.lines]
    return spec, build_program(spec, [files])


def test_the_key_is_what_a_run_reads_besides_functions() -> None:
    spec, bound = _v1_07_program()
    _, again = _v1_07_program()
    sc = next(s for s in spec.scenarios if models.scenario_runnable(s, bound.program))
    key = scenario_cache.scenario_key(spec, bound, sc, 1000, 5.0)
    assert key == scenario_cache.scenario_key(spec, again, sc, 1000, 5.0), "the same code must give the same key"
    assert key != scenario_cache.scenario_key(spec, bound, sc, 1001, 5.0), "budgets decide verdicts too"
    assert key != scenario_cache.scenario_key(spec, bound, sc, 1000, 6.0)
    _, edited = _v1_07_program(("mmgrab(", "mmget("))  # a function's body: level 2 tells it
    assert scenario_cache.scenario_key(spec, edited, sc, 1000, 5.0) == key
    data = _with(bound, defines={**bound.program.defines, "SOME_NEW_FLAG": "0x4"})
    assert scenario_cache.scenario_key(spec, data, sc, 1000, 5.0) != key, "the program's data is level 1"


def _with(bound: models.Bound, functions: dict | None = None, **data: object) -> models.Bound:
    """A copy of bound whose program has other functions or data."""
    import copy

    out = copy.copy(bound)
    out.program = copy.copy(bound.program)
    out.program.functions = dict(functions if functions is not None else bound.program.functions)
    out.program.origin = dict(bound.program.origin)
    for k, v in data.items():
        setattr(out.program, k, v)
    return out


class _Explorations:
    """Counts the scenarios models.run_scenario explores."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        real = models.run_scenario

        def counted(*a: object, **k: object) -> object:
            self.n += 1
            return real(*a, **k)

        monkeypatch.setattr(models, "run_scenario", counted)


def _runs(spec: models.ModelSpec, bound: models.Bound) -> dict[str, tuple]:
    """Each runnable scenario's uncached result, machine and level-2 conditions."""
    out = {}
    for sc in spec.scenarios:
        if not models.scenario_runnable(sc, bound.program):
            continue
        try:
            res, m = models.run_scenario(spec, bound, sc, 20_000, 10.0)
        except models.SetupError:
            continue
        facts = scenario_cache._facts(bound.program)
        out[sc.name] = (sc, res, m, scenario_cache.conditions(m, facts, scenario_cache._named_outside_code(spec.directory)))
    return out


def test_only_a_change_in_an_entered_function_explores_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, bound = _v1_07_program()
    _, edited = _v1_07_program(("mmgrab(", "mmget("))
    changed = {n for n in bound.program.functions
               if repr(bound.program.functions[n]) != repr(edited.program.functions.get(n))}
    assert changed, "the edit changed no function"
    vc = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    runs = _runs(spec, bound)
    for sc, _res, _m, _c in runs.values():
        scenario_cache.run_scenario(spec, bound, sc, 20_000, 10.0, vc)
    count = _Explorations(monkeypatch)
    entering = 0
    for sc, _res, m, _c in runs.values():
        before = count.n
        scenario_cache.run_scenario(spec, edited, sc, 20_000, 10.0, vc)
        if m.obs.ran & changed:
            entering += 1
            assert count.n == before + 1, f"{sc.name} enters {sorted(changed)}: it must be explored again"
        elif m.setup.ran & changed:  # only its setup runs them: explored again unless it sets up the same
            same = scenario_cache.setup_outcome(models.scenario_machine(spec, edited, sc)) == _c.outcome
            assert count.n == before + (not same), sc.name
        else:
            assert count.n == before, f"{sc.name} never enters {sorted(changed)} but was explored again"
    assert 0 < entering < len(runs), (entering, len(runs))


def test_a_function_under_a_name_a_run_found_absent_explores_again(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    spec, bound = _v1_07_program()
    runs = _runs(spec, bound)
    sc, _res, _m, conds = next(r for r in runs.values() if r[3] is not None and r[3].absent and not r[3].numbering)
    vc = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    scenario_cache.run_scenario(spec, bound, sc, 20_000, 10.0, vc)
    some = next(iter(bound.program.functions.values()))
    count = _Explorations(monkeypatch)
    unnamed = _with(bound, {**bound.program.functions, "a_function_nothing_names": some})
    scenario_cache.run_scenario(spec, unnamed, sc, 20_000, 10.0, vc)
    assert count.n == 0, "a function no run can name changes nothing it ran"
    named = _with(bound, {**bound.program.functions, conds.absent[0]: some})
    scenario_cache.run_scenario(spec, named, sc, 20_000, 10.0, vc)
    assert count.n == 1, f"{sc.name} found {conds.absent[0]} absent: now a function, it must be explored again"


def test_a_function_under_a_primitive_name_only_counts_where_code_names_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A patch that defines a primitive's name as a function (the ptdesc conversion defined
    pagetable_alloc) leaves a run whose code never names it looked up; a run that calls it is
    explored again."""
    from bot.cmodel.primitives import primitives

    spec, bound = _v1_07_program()
    runs = _runs(spec, bound)
    outside = scenario_cache._named_outside_code(spec.directory)
    sc, _res, m, conds = next(r for r in runs.values() if r[3] is not None and not r[3].numbering)
    named = set(conds.present) | set(conds.absent) | {n for n, _ in conds.entered + conds.setup}
    unnamed = next(p for p in sorted(primitives()) if p not in named and p not in bound.program.functions
                   and p not in outside)
    called = next(n for n in conds.absent if n in primitives())
    vc = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    scenario_cache.run_scenario(spec, bound, sc, 20_000, 10.0, vc)
    some = next(iter(bound.program.functions.values()))
    count = _Explorations(monkeypatch)
    scenario_cache.run_scenario(spec, _with(bound, {**bound.program.functions, unnamed: some}), sc, 20_000, 10.0, vc)
    assert count.n == 0, f"{sc.name} never names {unnamed}: a function under that name changes nothing it ran"
    scenario_cache.run_scenario(spec, _with(bound, {**bound.program.functions, called: some}), sc, 20_000, 10.0, vc)
    assert count.n == 1, f"{sc.name} calls the primitive {called}: as a function it must be explored again"


def _thread_programs() -> list[tuple[models.ModelSpec, models.Bound]]:
    """Every model's reference program, and each model's program of every patch of threads 1 and 3."""
    programs = [(spec, build_program(spec, [])) for spec in load_models()]
    for n in (1, 3):
        for p in load(str(corpus.thread(n))).postings:
            paths = {fd.path for fd in p.files}
            programs += [(spec, build_program(spec, [p.files])) for spec in load_models()
                         if not p.is_reply and paths & set(spec.files)]
    return programs


def test_a_stored_run_that_matches_is_what_exploring_gives() -> None:
    """Soundness of level 2: wherever a run's conditions hold in another program, exploring that
    program gives the same result, trace for trace, and the same observations."""
    programs = _thread_programs()
    explored = [(spec, bound, _runs(spec, bound)) for spec, bound in programs]
    matched = others = 0
    for spec, bound, runs in explored:
        facts = scenario_cache._facts(bound.program)
        outside = scenario_cache._named_outside_code(spec.directory)
        for other_spec, other, stored in explored:
            if models.explored_as(other_spec) != models.explored_as(spec):
                continue
            for name, (_sc, res, m, conds) in stored.items():
                if conds is None or not conds.threads_hold(facts, outside):
                    continue
                _sc, own, om, oc = runs[name]
                if not conds.setup_holds(facts) and conds.outcome != oc.outcome:
                    continue
                assert (own.verdict, own.states, own.transitions, own.reason, own.counterexamples) == \
                    (res.verdict, res.states, res.transitions, res.reason, res.counterexamples), (spec.name, name)
                assert om.obs == m.obs and om.setup.obs == m.setup.obs, (spec.name, name)
                matched += 1
                others += other is not bound
    assert others >= 20, (matched, others)


def test_an_architectures_instance_explores_a_program_as_its_model_does() -> None:
    """An instance differs from its model only in what its program is built from
    (models.INSTANCE_FIELDS): given one program, every scenario explores alike, trace for trace, so
    their runs go under one name (models.explored_as) and the program alone tells them apart."""
    import dataclasses

    wild = [s for s in load_models() if any(models.WILDCARD in f for f in s.reads)]
    assert {"generic-page-table", "ptdesc-dtor-in-tlb-remove-table"} <= {s.name for s in wild}
    for spec in wild:
        inst = models.instance(spec, "csky")
        differ = {f.name for f in dataclasses.fields(spec) if getattr(spec, f.name) != getattr(inst, f.name)}
        assert "name" in differ and differ <= models.INSTANCE_FIELDS, (spec.name, differ)
        assert models.explored_as(inst) == models.explored_as(spec) == spec.name
    compared = 0
    for spec in (s for s in wild if s.name in ("generic-page-table", "ptdesc-dtor-in-tlb-remove-table")):
        bound = build_program(spec, [])
        inst = models.instance(spec, "csky")
        for name, (sc, res, m, _conds) in _runs(spec, bound).items():
            own, om = models.run_scenario(inst, bound, sc, 20_000, 10.0)
            assert (own.verdict, own.states, own.transitions, own.reason, own.counterexamples) == \
                (res.verdict, res.states, res.transitions, res.reason, res.counterexamples), (spec.name, name)
            assert om.obs == m.obs and om.setup.obs == m.setup.obs, (spec.name, name)
            assert scenario_cache.scenario_key(inst, bound, sc, 20_000, 10.0) == \
                scenario_cache.scenario_key(spec, bound, sc, 20_000, 10.0)
            compared += 1
    assert compared >= 10, compared


def test_two_architectures_built_alike_explore_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two instances of a model share a run where their programs agree on what it entered. Built
    from the references alone, they agree everywhere; with the same change to each one's
    asm/pgalloc.h, a run that enters the changed hook explores again (a trace quotes its lines under
    each architecture's path), and the others are looked up."""
    from bot.mail.diff import parse_diff
    from tests.test_judgement_today import synthetic

    spec = models.find_model("ptdesc-dtor-in-tlb-remove-table")
    assert spec is not None
    one, two = models.instance(spec, "riscv"), models.instance(spec, "arm")  # one configuration
    diff = synthetic("riscv-pte-free-tlb-by-table.diff")
    vc = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    count = _Explorations(monkeypatch)
    for layers in ([], [parse_diff(diff)]):
        first = build_program(one, layers)
        second = build_program(two, [parse_diff(diff.replace("arch/riscv/", "arch/arm/"))] if layers else [])
        runs = _runs(spec, first)
        for sc, _res, _m, _c in runs.values():
            scenario_cache.run_scenario(one, first, sc, 20_000, 10.0, vc)
        count.n = shared = 0
        for sc, res, m, _c in runs.values():
            before = count.n
            got, _ = scenario_cache.run_scenario(two, second, sc, 20_000, 10.0, vc)
            own = any(sl.file.startswith("arch/") for fn in m.obs.ran | m.setup.ran
                      for sl in second.program.origin.get(fn) or ())
            assert count.n == before + own, (sc.name, own)
            shared += not own
            if not own:
                assert (got.verdict, got.states, got.counterexamples) == (res.verdict, res.states, res.counterexamples)
        assert 0 < shared <= len(runs) and (shared < len(runs)) == bool(layers), (shared, len(runs))


def test_environment_covers_rules_models_and_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import bot.paths

    rules, mdls = tmp_path / "rules", tmp_path / "models"
    shutil.copytree(bot.paths.rules_dir(), rules)
    shutil.copytree(bot.paths.models_dir(), mdls)
    monkeypatch.setattr(bot.paths, "rules_dir", lambda: rules)
    monkeypatch.setattr(bot.paths, "models_dir", lambda: mdls)
    cache.environment.cache_clear()
    try:
        base = cache.environment()
        for f in (rules / "primitives.toml", next(mdls.glob("*/scenarios.toml"))):
            text = f.read_text()
            f.write_text(text + "\n# edited\n")
            cache.environment.cache_clear()
            assert cache.environment() != base, f"an edit of {f.name} must invalidate the cache"
            f.write_text(text)
        cache.environment.cache_clear()
        assert cache.environment() == base
    finally:
        cache.environment.cache_clear()


def test_a_corrupt_cache_file_is_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "verdicts.sqlite"
    db.write_bytes(b"this is not a database\0" * 100)
    vc = cache.VerdictCache(db)
    vc.put("review", "k", {"a": 1})
    assert vc.get("review", "k") == {"a": 1}
    assert cache.VerdictCache(db).get("review", "k") == {"a": 1}


class _Exploit:
    def __reduce__(self) -> tuple:
        import os

        return (os.system, ("touch exploited",))


def test_a_hostile_entry_is_a_miss_and_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "verdicts.sqlite"
    vc = cache.VerdictCache(db)
    vc.put("review", "k", "placeholder")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE entry SET value = ?", (pickle.dumps(_Exploit()),))
    assert vc.get("review", "k") is None
    assert not (tmp_path / "exploited").exists()
    vc.put("review", "k", "judged again")  # the entry is overwritten by the next store
    assert vc.get("review", "k") == "judged again"


def test_a_run_stopped_by_time_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, bound = _v1_07_program()
    sc = next(s for s in spec.scenarios if models.scenario_runnable(s, bound.program))
    vc = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    res, _m = scenario_cache.run_scenario(spec, bound, sc, 1_000_000, 1e-9, vc)
    assert res.verdict == "inconclusive"
    assert vc.runs("scenario", scenario_cache.scenario_key(spec, bound, sc, 1_000_000, 1e-9)) == []
    res, _m = scenario_cache.run_scenario(spec, bound, sc, 50_000, 10.0, vc)
    assert res.verdict != "inconclusive"
    key = scenario_cache.scenario_key(spec, bound, sc, 50_000, 10.0)
    [(sub, _conds)] = vc.runs("scenario", key)
    hit, obs = vc.run_value("scenario", key, sub)
    assert hit.verdict == res.verdict and [c.violation for c in hit.counterexamples] == \
        [c.violation for c in res.counterexamples]


def test_no_cache_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import run_cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    example = str(Path(__file__).resolve().parent.parent / "examples" / "rcu-head-shared.patch")
    off = run_cli("check", "--mbox", example, "--no-cache", "--format", "json")
    assert not (tmp_path / "home-cache").exists()
    on = run_cli("check", "--mbox", example, "--format", "json")
    assert (tmp_path / "home-cache" / "review-bot" / "verdicts.sqlite").is_file()
    again = run_cli("check", "--mbox", example, "--format", "json")
    assert off.returncode == on.returncode == again.returncode == 1
    assert off.stdout == on.stdout == again.stdout



def test_a_posting_edited_after_parsing_is_keyed_by_what_it_now_says() -> None:
    """An edited copy of a real posting (same Message-ID, same raw message) is another review."""
    import copy

    p = next(q for q in load(str(corpus.thread(1))).postings if q.subject.startswith("[PATCH 07/12]"))
    q = copy.deepcopy(p)
    h = next(h for fd in q.files for h in fd.hunks if any(ln.tag == "+" for ln in h.lines))
    k = next(i for i, ln in enumerate(h.lines) if ln.tag == "+")
    h.lines[k] = type(h.lines[k])("+", h.lines[k].text + " ", h.lines[k].old_no, h.lines[k].new_no)
    opts = Options()
    assert cache.review_keys([p], [p], opts) == cache.review_keys([copy.deepcopy(p)], [copy.deepcopy(p)], opts)
    assert cache.review_keys([q], [q], opts) != cache.review_keys([p], [p], opts)


def test_every_field_of_a_posting_is_in_its_digest() -> None:
    """A posting's digest changes with any one field of it, of a file diff, a hunk or a hunk line,
    and a subclass where one of those belongs is digested as itself."""
    import copy
    import dataclasses

    from bot.patch import FileDiff, Hunk

    p = next(q for q in load(str(corpus.thread(1))).postings if q.subject.startswith("[PATCH 07/12]"))
    base = cache.posting_digest(p)
    assert cache.posting_digest(copy.deepcopy(p)) == base

    def other(v: object) -> object:
        return (v + 1 if isinstance(v, int) and not isinstance(v, bool) else not v if isinstance(v, bool)
                else v + "x" if isinstance(v, str) else "x" if v is None else v + [v[0]] if isinstance(v, list) and v
                else ["x"] if isinstance(v, list) else None)

    def holders(q: object) -> list[tuple[type, object]]:
        fd = q.files[0]
        return [(type(q), q), (FileDiff, fd), (Hunk, fd.hunks[0]), (HunkLine, fd.hunks[0].lines[0])]

    for cls, _ in holders(p):
        for f in dataclasses.fields(cls):
            q = copy.deepcopy(p)
            obj = dict(holders(q))[cls]
            if cls is HunkLine:
                fd = q.files[0]
                fd.hunks[0].lines[0] = dataclasses.replace(obj, **{f.name: other(getattr(obj, f.name))})
            else:
                setattr(obj, f.name, other(getattr(obj, f.name)))
            assert cache.posting_digest(q) != base, f"{cls.__name__}.{f.name} is not in the digest"

    q = copy.deepcopy(p)
    q.files[0].hunks[0].lines[0] = OtherLine(*dataclasses.astuple(q.files[0].hunks[0].lines[0]))
    assert cache.posting_digest(q) == cache.digest(q) != base


class OtherLine(HunkLine):
    """A hunk line of another type (a subclass), for the digest test."""


_KEYS_SCRIPT = """
import sys
from bot import cache, scenario_cache
from bot.cmodel import models
from bot.mail import load
p = next(p for p in load(sys.argv[1]).postings if p.subject.startswith("[PATCH 07/12]"))
programs = [(spec, models.build_program(spec, [])) for spec in models.load_models()]
programs += [(spec, models.build_program(spec, [p.files])) for spec in models.load_models()
             if {fd.path for fd in p.files} & set(spec.files)]
for spec, bound in programs:
    for sc in spec.scenarios:
        print(spec.name, sc.name, scenario_cache.scenario_key(spec, bound, sc, 1000, 5.0))
        if models.scenario_runnable(sc, bound.program):
            try:
                print(spec.name, sc.name, scenario_cache.setup_outcome(models.scenario_machine(spec, bound, sc)))
            except models.SetupError:
                pass
"""


def test_scenario_keys_are_the_same_in_every_process() -> None:
    """A key is a lookup in a later process (the next `check`, the restarted list bot): it may not
    depend on the order a process happens to keep a set in (string hashes are seeded per process)."""
    import os
    import subprocess
    import sys

    def keys(seed: str) -> list[str]:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", _KEYS_SCRIPT, str(corpus.thread(1))], env=env,
                             capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        return out.stdout.splitlines()

    first = keys("1")
    assert len(first) >= 20, first
    assert first == keys("2") == keys("3")


def test_a_fingerprint_is_the_code_and_the_text_and_place_of_its_lines() -> None:
    """What a run read of a function: its code, and its lines' text and place (a trace quotes them).
    The patch's marks on a line are the judge's, read from the program it has: a function that only
    moved from "added" to "earlier patch" is the same function to a run."""
    import dataclasses

    spec, bound = _v1_07_program()
    prog = bound.program
    name = next(n for n in sorted(bound.changed) if n in prog.functions and prog.origin.get(n))
    fn, lines = prog.functions[name], prog.origin[name]
    fp = scenario_cache._fingerprint(fn, lines)
    at = next(i for i, sl in enumerate(lines) if sl.text.strip() and sl.line
              and fn.line <= i + 1 <= max(ins.line for ins in fn.code))

    def edited(**change: object) -> list:
        out = list(lines)
        out[at] = dataclasses.replace(out[at], **change)
        return out

    sl = lines[at]
    unmarked = [dataclasses.replace(x, from_patch=False, added=False, after_removal=False) for x in lines]
    assert scenario_cache._fingerprint(fn, unmarked) == fp, "a line's patch marks are not what a run reads"
    assert scenario_cache._fingerprint(fn, edited(text=sl.text + " /* x */")) != fp, "a trace quotes the text"
    assert scenario_cache._fingerprint(fn, edited(line=sl.line + 1)) != fp, "and the line's number"
    assert scenario_cache._fingerprint(fn, edited(file=sl.file + ".orig")) != fp, "and its file"
    other = next(f for n, f in prog.functions.items() if n != name and repr(f) != repr(fn))
    assert scenario_cache._fingerprint(other, lines) != fp, "and the code"
    assert scenario_cache._fingerprint(fn, lines) == fp  # the memo gives what it computed


def test_stable_texts_tell_values_apart_and_not_set_orders() -> None:
    from bot.cmodel.machine import Observations

    stable = scenario_cache._stable
    a = frozenset(f"name{i}" for i in range(40))
    b = frozenset(sorted(a, reverse=True))
    assert stable((1, a, {"k": a})) == stable((1, b, {"k": b}))
    assert stable(Observations(notes=set(a))) == stable(Observations(notes=set(b)))
    values = [(1, a), (1, a - {"name3"}), [1, a], (1, frozenset()), (1, {}), (1, {"name1": 1}),
              (1, {"name1": 2}), ("1", a), (1, (a,)), ((1, a),), (1, "frozenset()"), (1, "{}"),
              {"k": a}, {"k": a - {"name3"}}, {"k": {"j": a}}, Observations(notes={"x"}), Observations(notes={"y"}),
              Observations(ran={"x"})]
    texts = [stable(v) for v in values]
    assert len(set(texts)) == len(values), texts


def test_a_setup_outcome_is_remembered_for_its_machine_only() -> None:
    """setup_outcome() is worked out once per set-up machine: a machine whose initial world or setup
    differs gets its own."""
    import copy
    import dataclasses

    spec, bound = _v1_07_program()
    sc = next(s for s in spec.scenarios if models.scenario_runnable(s, bound.program) and s.setup)
    m = models.scenario_machine(spec, bound, sc)
    out = scenario_cache.setup_outcome(m)
    assert scenario_cache.setup_outcome(models.scenario_machine(spec, bound, sc)) == out
    world = copy.deepcopy(m.init)
    world.mem[0x1234] = 5
    m.init = world
    assert scenario_cache.setup_outcome(m) != out, "the initial world is part of the outcome"
    m2 = models.scenario_machine(spec, bound, sc)
    m2.setup = dataclasses.replace(m2.setup, vars={**m2.setup.vars, "a_new_variable": 1})
    assert scenario_cache.setup_outcome(m2) != out, "and the setup's variables"


def _machine_state(m: models.Machine) -> tuple:
    return (m.init.freeze(), m.setup.ran, m.setup.vars, m.setup.obs, m.obs, list(m.program.functions),
            m.lock_addrs, m.faults, m.fault_scope, m.table_size)


def test_a_machine_set_up_as_before_is_the_machine_set_up_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """make_machine() gives a machine whose setup reads what an earlier one's read that one's state
    (bot.scenario_cache.earlier_set_up): every such machine, over the programs of threads 1 and 3,
    is the one set up afresh, and explores alike."""
    from bot.sim.core import check

    programs = _thread_programs()
    monkeypatch.setattr(scenario_cache, "_SETUPS", {})
    found = []
    real = scenario_cache.earlier_set_up

    def counted(*a: object) -> object:
        got = real(*a)  # type: ignore[arg-type]
        found.append(got is not None)
        return got

    monkeypatch.setattr(scenario_cache, "earlier_set_up", counted)
    for spec, bound in programs:
        for sc in spec.scenarios:
            if not models.scenario_runnable(sc, bound.program):
                continue
            try:
                m = models.scenario_machine(spec, bound, sc)
            except models.SetupError:
                continue
            if not found[-1]:
                continue
            saved = scenario_cache._SETUPS
            monkeypatch.setattr(scenario_cache, "_SETUPS", {})
            fresh = models.scenario_machine(spec, bound, sc)
            monkeypatch.setattr(scenario_cache, "_SETUPS", saved)
            assert _machine_state(m) == _machine_state(fresh), (spec.name, sc.name)
            if sum(found) % 7 == 1:  # some of them explored too
                a, b = check(m, 20_000, 10.0), check(fresh, 20_000, 10.0)
                assert (a.verdict, a.states, a.transitions, a.counterexamples) == \
                    (b.verdict, b.states, b.transitions, b.counterexamples), (spec.name, sc.name)
                assert m.obs == fresh.obs
    assert sum(found) >= 20, (sum(found), len(found))


def test_a_setup_is_run_again_when_what_it_read_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A function the setup entered, a name it looked up found absent, the program's data: each
    changed, the setup runs again; a function nothing of it names changes nothing."""
    monkeypatch.setattr(scenario_cache, "_SETUPS", {})
    spec, bound = _v1_07_program()
    sc, m = next((s, m) for s in spec.scenarios if models.scenario_runnable(s, bound.program)
                 for m in [models.scenario_machine(spec, bound, s)]
                 if any(not f.startswith(("scenario:", "$")) for f in m.setup.ran))
    monkeypatch.setattr(scenario_cache, "_SETUPS", {})
    assert scenario_cache.earlier_set_up(spec, sc, bound.program) is None
    models.scenario_machine(spec, bound, sc)
    assert scenario_cache.earlier_set_up(spec, sc, bound.program) is not None
    some = next(iter(bound.program.functions.values()))
    unnamed = _with(bound, {**bound.program.functions, "a_function_nothing_names": some})
    assert scenario_cache.earlier_set_up(spec, sc, unnamed.program) is not None
    entered = next(f for f in sorted(m.setup.ran) if not f.startswith(("scenario:", "$")))
    other = next(f for n, f in bound.program.functions.items() if repr(f) != repr(bound.program.functions[entered]))
    edited = _with(bound, {**bound.program.functions, entered: other})
    assert scenario_cache.earlier_set_up(spec, sc, edited.program) is None, f"its setup enters {entered}"
    data = _with(bound, defines={**bound.program.defines, "SOME_NEW_FLAG": "0x4"})
    assert scenario_cache.earlier_set_up(spec, sc, data.program) is None, "the program's data is level 1"
    conds = scenario_cache._SETUPS[next(iter(scenario_cache._SETUPS))][0].conds
    if conds.absent:
        named = _with(bound, {**bound.program.functions, conds.absent[0]: some})
        assert scenario_cache.earlier_set_up(spec, sc, named.program) is None
    other_sc = next(s for s in spec.scenarios if s is not sc and models.scenario_runnable(s, bound.program))
    assert scenario_cache.earlier_set_up(spec, other_sc, bound.program) is None, "and the scenario"
