"""Models as data: models/<name>/model.toml, its reference sources and its scenarios.

A scenario is a litmus test in C: a setup run once, then threads whose code is interleaved with
RCU grace periods and callbacks. It names the functions it needs (so a patch without
pte_free_defer() is not asked to run a deferral scenario) and the tables still held at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.cmodel.bind import BindReport, apply_hunks, new_file_lines, reference_lines
from bot.cmodel.costs import cost_on, cost_rules
from bot.cmodel.effect_api import Abort
from bot.cmodel.layout import load_layout
from bot.cmodel.machine import Machine
from bot.cmodel.program import Program, SourceLine, program_from_text
from bot.cmodel.world import (
    DATA_BASE,
    GLOBAL_BASE,
    GLOBAL_SIZE,
    STRUCT_PAGE_BASE,
    Frame,
    Thread,
    World,
    addr_of_page,
    page_index,
)
from bot.datafile import Fields, display, read_toml
from bot.patch import FileDiff
from bot.paths import models_dir
from bot.sim.core import CheckResult, Violation, check


class SetupError(Exception):
    """The scenario cannot even be set up with this code: nothing is proved, the review says so."""


@dataclass
class Scenario:
    name: str
    about: str
    needs: list[str]
    setup: str
    threads: list[tuple[str, int, str]]  # (name, cpu, code)
    live: list[str]
    line: int = 0
    expect: str = ""  # the verdict on the model's reference code alone: safe | unsafe | not_run
    expect_known_bad: str = ""  # the verdict with the model's known-bad source spliced in


VERDICTS = ("safe", "unsafe", "not_run")


@dataclass(frozen=True)
class KnownBad:
    """Code the model's scenarios must catch: the suite runs every scenario on it."""

    source: str  # a C file in the model directory whose functions replace the reference's
    why: str
    hazards: tuple[str, ...]  # found by some scenario (at least these)


@dataclass
class ModelSpec:
    name: str
    directory: Path
    about: str
    files: list[str]
    references: dict[str, str]  # kernel path → reference file in the model directory
    env: list[str]
    types: dict[str, str]
    consts: dict[str, int]
    params: dict[str, int]
    fragments_per_page: int
    fragment_size: int
    fragment_reuse: bool
    known_bad: KnownBad | None = None
    scenarios: list[Scenario] = field(default_factory=list)


@lru_cache(maxsize=1)
def load_models() -> tuple[ModelSpec, ...]:
    specs = []
    for path in sorted(models_dir().glob("*/model.toml")):
        specs.append(load_model(path))
    return tuple(specs)


def load_model(path: Path) -> ModelSpec:
    f = Fields(read_toml(path), display(path))
    spec = ModelSpec(
        name=f.get("name", str), directory=path.parent, about=f.get("about", str, ""), files=list(f.strs("files", None)),
        references=f.mapping("references", str), env=list(f.strs("env")), types=f.mapping("types", str),
        consts=f.mapping("consts", int), params=f.mapping("params", int),
        fragments_per_page=f.get("fragments_per_page", int, 1), fragment_size=f.get("fragment_size", int, 4096),
        fragment_reuse=f.get("fragment_reuse", bool, False),
    )
    if f.has("known_bad"):
        kb = f.sub("known_bad", f.get("known_bad", dict))
        spec.known_bad = KnownBad(kb.get("source", str), kb.get("why", str), kb.strs("hazards"))
        kb.close()
        if not (path.parent / spec.known_bad.source).is_file():
            raise f.error(f"known_bad.source: no file {spec.known_bad.source!r} in the model directory")
    f.close()
    for kpath, ref in spec.references.items():
        if kpath not in spec.files:
            raise f.error(f"references.{kpath}: not one of the model's files")
        if not (path.parent / ref).is_file():
            raise f.error(f"references.{kpath}: no file {ref!r} in the model directory")
    for env in spec.env:
        if not (path.parent / env).is_file():
            raise f.error(f"env: no file {env!r} in the model directory")
    scen_path = path.parent / "scenarios.toml"
    if scen_path.exists():
        spec.scenarios.extend(load_scenarios(scen_path, spec.known_bad is not None))
    return spec


def load_scenarios(path: Path, known_bad: bool = False) -> list[Scenario]:
    raw = path.read_text().splitlines()
    top = Fields(read_toml(path), display(path))
    out = []
    for s in top.tables("scenario"):
        name = s.get("name", str)
        line = next((i + 1 for i, ln in enumerate(raw) if f'"{name}"' in ln), 0)
        threads = []
        for i, t in enumerate(s.tables("thread")):
            threads.append((t.get("name", str), t.get("cpu", int, i), t.get("code", str)))
            t.close()
        out.append(Scenario(name, s.get("about", str, ""), list(s.strs("needs")), s.get("setup", str, ""),
                            threads, list(s.strs("live")), line, s.choice("expect", VERDICTS),
                            s.choice("expect_known_bad", VERDICTS) if known_bad else ""))
        s.close()
    top.close()
    return out


@dataclass
class Bound:
    program: Program
    report: BindReport
    changed: dict[str, str]  # function → file, for functions with lines added by the last layer
    patched: dict[str, str]  # function → file, for functions that contain any patch line
    spans: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # function → (file, first, last)
    base: str = "the reference model"  # where the code the patch does not show comes from


def build_program(spec: ModelSpec, layers: list[list[FileDiff]],
                  tree_files: dict[str, str] | None = None, tree_label: str = "") -> Bound:
    """The model's sources with each layer of diffs applied in order; the last layer is under review.
    tree_files (kernel path → text) replaces the reference model with the real file of a tree."""
    prog = Program(consts=dict(spec.consts), types=dict(spec.types), params=dict(spec.params),
                   layout=load_layout(spec.directory.name))
    report = BindReport()
    changed: dict[str, str] = {}
    patched: dict[str, str] = {}
    spans: dict[str, tuple[str, int, int]] = {}
    for kpath in spec.files:
        ref_name = spec.references.get(kpath)
        lines: list[SourceLine] = []
        if tree_files and kpath in tree_files:
            lines = [SourceLine(kpath, i + 1, t, False, False) for i, t in enumerate(tree_files[kpath].splitlines())]
        elif ref_name:
            rel = f"models/{spec.directory.name}/{ref_name}"
            lines = reference_lines(rel, (spec.directory / ref_name).read_text())
        for i, layer in enumerate(layers):
            fd = next((f for f in layer if f.path == kpath), None)
            if fd is None:
                continue
            lines = apply_hunks(lines, fd, report) if lines else new_file_lines(fd)
            if i < len(layers) - 1:  # only the last layer's "+" lines are the change under review
                lines = [SourceLine(sl.file, sl.line, sl.text, sl.from_patch, False) for sl in lines]
        if not lines:
            continue
        unit, lines = program_from_text("\n".join(sl.text for sl in lines), lines)
        prog.add_unit(unit, lines)
        for name, fn in unit.functions.items():
            span = lines[fn.line - 1: fn.end_line]
            if any(sl.from_patch for sl in span):
                patched[name] = kpath
            if any(sl.added for sl in span):
                changed[name] = kpath
            pl = [sl.line for sl in span if sl.file == kpath]
            if pl:
                spans[name] = (kpath, min(pl), max(pl))
    for env in spec.env:
        rel = f"models/{spec.directory.name}/{env}"
        text = (spec.directory / env).read_text()
        unit, lines = program_from_text(text, reference_lines(rel, text))
        for name in list(unit.functions):
            if name in prog.functions:
                del unit.functions[name]  # the code under review wins over the environment
        prog.add_unit(unit, lines)
    return Bound(prog, report, changed, patched, spans,
                 f"the kernel tree at {tree_label}" if tree_files else "the reference model")


def scenario_runnable(sc: Scenario, prog: Program) -> bool:
    return all(n in prog.functions for n in sc.needs)


def make_machine(spec: ModelSpec, prog: Program, sc: Scenario) -> Machine:
    rel = f"models/{spec.directory.name}/scenarios.toml"
    texts = [("setup", -1, sc.setup)] + list(sc.threads)
    for tname, _cpu, code in texts:
        fname = f"scenario:{tname}"
        # One statement a line, so each step of a trace quotes only the statement it ran.
        body = "\n".join(st.strip() + ";" for st in code.replace("\n", " ").split(";") if st.strip())
        src = f"void {fname.replace(':', '_')}(void)\n{{\n{body}\n}}\n"
        unit, _ = program_from_text(src)
        fn = next(iter(unit.functions.values()))
        unit.functions = {fname: fn}
        lines = [SourceLine(rel, sc.line, t, False) for t in src.splitlines()]
        prog.add_unit(unit, lines)
    m = Machine(prog, f"{spec.name}/{sc.name}", World(), [], cost_rules())
    m.table_size = spec.fragment_size
    for i, lock in enumerate(prog.static_locks):
        m.lock_addrs[lock] = GLOBAL_BASE + i * GLOBAL_SIZE
    w = World()
    setup = Thread("setup", "process", 0, [])
    m._enter(w, setup, "scenario:setup", [], None)
    w.threads.append(setup)
    events: list = []
    violations: list[Violation] = []
    code = prog.functions["scenario:setup"].code
    guard = 0
    while setup.frames and not (len(setup.frames) == 1 and setup.frames[0].pc == len(code) - 1):
        try:
            m._exec(w, setup, events, violations)
        except Abort as a:
            raise SetupError(f"scenario {sc.name}: its setup breaks an invariant: {a.violation.detail}") from None
        guard += 1
        if violations:
            raise SetupError(f"scenario {sc.name}: its setup breaks an invariant: {violations[0].detail}")
        if guard > 100_000:  # a loop that never ends, or a wait nothing ends, on this code
            where = f" (still in {setup.frames[-1].fn}() at {m.where(setup)})" if setup.frames else ""
            raise SetupError(f"scenario {sc.name}: its setup does not complete{where}")
    vars_ = dict(setup.frames[0].locals) if setup.frames else {}
    m.obs.ran.clear()  # what the threads run, from their first step (the setup is not under test)
    w.threads = []
    for tname, cpu, _code in sc.threads:
        t = Thread(tname, "process", cpu, [Frame(f"scenario:{tname}", 0, dict(vars_))])
        w.threads.append(t)
        m._settle(w, t, events, violations)
    m.init = w
    m.quiescence = [_quiescence_check(spec, sc.live, vars_)]
    return m


def _quiescence_check(spec: ModelSpec, live_names: list[str], setup_vars: dict[str, int]):
    waste = cost_on("unlisted_fragment")

    def checkq(m: Machine, w: World) -> list[Violation]:
        out: list[Violation] = []
        values = dict(setup_vars)
        for t in w.threads:
            values.update(dict(t.final))
        live = [values.get(v, 0) for v in live_names]
        link = m.role_offset("page_list")
        refcount_at = m.role_offset("page_refcount")
        for base, (kind, _size, alive, name, _fb) in w.objects.items():
            if kind != "page" or not alive or not (STRUCT_PAGE_BASE <= base < DATA_BASE):
                continue
            data = addr_of_page(base)
            slots = [data + i * spec.fragment_size for i in range(spec.fragments_per_page)]
            held = [s for s in slots if s in live]
            listed = w.list_of(base + link) is not None
            if not held and not listed:
                refcount = w.mem.get(base + refcount_at, 0) & 0xFFFFFFFF
                out.append(Violation("leak", f"{name} is neither freed nor reachable once every table in it "
                                             f"was freed and every callback has run (its _refcount is "
                                             f"{refcount:#x})",
                                     (("object", "page"), ("owner", name))))
            elif held and len(held) < len(slots) and spec.fragment_reuse and not listed:
                if waste:
                    m.obs.costs.setdefault(waste, f"page#{page_index(base)}")
        return out
    return checkq


def run_scenario(spec: ModelSpec, bound: Bound, sc: Scenario, budget_states: int,
                 budget_seconds: float) -> tuple[CheckResult, Machine]:
    import copy
    prog = copy.copy(bound.program)
    prog.functions = dict(bound.program.functions)
    prog.origin = dict(bound.program.origin)
    m = make_machine(spec, prog, sc)
    return check(m, budget_states, budget_seconds), m
