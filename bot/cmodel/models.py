"""Models as data: models/<name>/model.toml, its reference sources and its scenarios.

A scenario is a litmus test in C: a setup run once, then threads whose code is interleaved with
RCU grace periods and callbacks. It names the functions it needs (so a patch without
pte_free_defer() is not asked to run a deferral scenario) and the tables still held at the end.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.cmodel.bind import (
    BindReport,
    apply_exact,
    apply_hunks,
    defined_names,
    new_file_lines,
    reference_lines,
)
from bot.cmodel.constants import kernel_constants
from bot.cmodel.costs import cost_on, cost_rules
from bot.cmodel.cparse import CFunction, CUnit
from bot.cmodel.cpp import Config, Reader
from bot.cmodel.effect_api import Abort
from bot.cmodel.effects import slab_owner
from bot.cmodel.errpaths import error_path_lines, failing_functions
from bot.cmodel.headers import add_headers
from bot.cmodel.kconfig import load_config
from bot.cmodel.layout import load_layout
from bot.cmodel.lifetime import (
    TABLE,
    ErrorPath,
    Lifetime,
    Pair,
    calls_in,
    covered,
    error_path_relevant,
    error_paths,
    load_lifetime,
    pairs,
    relevant,
    thread_code,
)
from bot.cmodel.machine import Machine, Observations
from bot.cmodel.macros import expand_call_macros
from bot.cmodel.patch_layout import patch_layout
from bot.cmodel.preprocess import HeaderLibrary, kept_macros, prepare
from bot.cmodel.primitives import primitives
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
from bot.compiled import loader
from bot.datafile import Fields, display, read_toml
from bot.patch import FileDiff
from bot.paths import models_dir
from bot.sim.core import CheckResult, Counterexample, Violation, check


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
    params: dict[str, int] = field(default_factory=dict)  # model parameters this scenario sets
    file: str = "scenarios.toml"  # the scenario file, relative to the model directory
    pair: Pair | None = None  # the two lifetime paths (model.toml [lifetime]) a generated scenario runs
    error_path: ErrorPath | None = None  # or the allocation path (and the other path) it runs failing
    fail_in: tuple[str, ...] = ()  # allocations_may_fail(): only calls inside these functions fail (none: any)


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
    config: Config | None = None  # config.toml: the kernel configuration its code runs under
    partial: frozenset[str] = frozenset()  # kernel files whose reference states only some functions
    headers: dict[str, str] = field(default_factory=dict)  # kernel header → its reference ("" for none)
    reference_parts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kernel path → its files, in order
    lifetime: Lifetime | None = None  # the paths that end a table's life, paired by context_scenarios()

    def rel(self, name: str) -> str:
        """A file of the model (possibly shared with another model) as models/..."""
        return os.path.normpath(f"models/{self.directory.name}/{name}")

    @property
    def reads(self) -> list[str]:
        """Every kernel file whose change this model judges: its files and its headers."""
        return self.files + [h for h in self.headers if h not in self.files]

    def reference_lines(self, kpath: str) -> list[SourceLine]:
        """The reference of a kernel file: its parts one after another, each line with its own place."""
        return list(joined_reference(self.reference_key(kpath)))

    def reference_key(self, kpath: str) -> tuple[tuple[str, Path], ...]:
        return tuple((self.rel(part), self.directory / part) for part in self.reference_parts.get(kpath, ()))


@lru_cache(maxsize=64)
def joined_reference(parts: tuple[tuple[str, Path], ...]) -> list[SourceLine]:
    """Reference parts read one after another. A part that defines functions an earlier part
    defines replaces them: it stands where the first of them stood (so hunks still meet the file's
    functions in its order) and their earlier lines are left out. A model of a later state of a
    file restates only what changed; the rest it shares with the model of the earlier state."""
    out: list[SourceLine] = []
    for rel, path in parts:
        lines = list(_part_lines(rel, path))
        again = defined_names(lines) & defined_names(out) if out else frozenset()
        if not again:
            out += lines
            continue
        unit, _ = program_from_text("\n".join(sl.text for sl in out))
        spans = [(fn.line - 1, fn.end_line) for name in again if name in unit.functions
                 for fn in (unit.functions[name], *unit.alternates.get(name, []))]
        if not spans:
            out += lines
            continue
        first = min(a for a, _b in spans)
        gone = {i for a, b in spans for i in range(a, b)}
        out = [sl for i, sl in enumerate(out[:first]) if i not in gone] + lines + [
            sl for i, sl in enumerate(out) if i >= first and i not in gone]
    return out


@lru_cache(maxsize=64)
def _part_lines(rel: str, path: Path) -> tuple[SourceLine, ...]:
    """A reference file's lines, read once per process (every build of its model starts from them)."""
    return tuple(reference_lines(rel, path.read_text()))


@loader
def load_models() -> tuple[ModelSpec, ...]:
    specs = []
    for path in sorted(models_dir().glob("*/model.toml")):
        specs.append(load_model(path))
    return tuple(specs)


# A model of code every architecture has in the same shape names its file with one `*` for the
# architecture's directory (`arch/*/include/asm/tlb.h`): a posting that changes arm64's file is
# judged by the model made for arm64 (`NAME@arm64`), which reads arch/arm64/include/asm/tlb.h.
WILDCARD = "*"


def models_for(paths: set[str]) -> list[ModelSpec]:
    """The models that cover a file of `paths`, those with a wildcard made for each architecture
    the paths name (or, when they name none, as they are: the reference stands for every one). An
    architecture with a model of that very file (s390's asm/tlb.h) is judged by that model alone."""
    named = {f for spec in load_models() for f in spec.reads if WILDCARD not in f}
    out: list[ModelSpec] = []
    for spec in load_models():
        fills = sorted({fill for pattern in spec.reads if WILDCARD in pattern for path in paths - named
                        if (fill := _fill(pattern, path)) is not None})
        if fills:
            out += [instance(spec, fill) for fill in fills]
        elif paths & set(spec.reads):
            out.append(spec)
    return out


def config_variants(spec: ModelSpec, files: list[FileDiff]) -> list[ModelSpec]:
    """A wildcard model judging a change to one of its shared files under its default
    configuration: its instances for the architecture configurations it states (one per distinct
    set of options, `[architectures.NAME]`) whose build of the change changes a function the
    default build does not, i.e. code under an `#if` of an option they set otherwise."""
    if spec.config is None or not spec.config.per_arch or "@" in spec.name:
        return []
    base = set(build_program(spec, [files]).changed)
    first: dict[tuple, str] = {}
    for arch in sorted(spec.config.per_arch):
        first.setdefault(tuple(sorted(spec.config.per_arch[arch].items())), arch)
    out = []
    for arch in first.values():
        variant = instance(spec, arch)
        if set(build_program(variant, [files]).changed) - base:
            out.append(variant)
    return out


def through_headers_it_takes(specs: list[ModelSpec], files: list[FileDiff]) -> list[ModelSpec]:
    """The models for a change, less those that a wildcard header alone brings in when the change
    to that header is not one its reference can take (bot.cmodel.headers.header_takes): an
    architecture's asm/pgalloc.h is mostly code no model states, and only its *_free_tlb() hooks
    make it the model's business."""
    from bot.cmodel.headers import header_takes

    out = []
    for spec in specs:
        arch = f"arch/{spec.name.partition('@')[2]}/"
        own = [fd for fd in files if fd.path.startswith(arch) and (fd.path in spec.files or fd.path in spec.headers)]
        if "@" not in spec.name or any(fd.path in spec.files for fd in own) or all(header_takes(spec, fd) for fd in own):
            out.append(spec)
    # a model none of whose instances stays judges the change to its shared files as itself
    paths = {fd.path for fd in files}
    for base in {s.name.partition("@")[0] for s in specs if "@" in s.name} - {s.name.partition("@")[0] for s in out}:
        spec = find_model(base)
        if spec is not None and paths & {f for f in spec.reads if WILDCARD not in f}:
            out.append(spec)
    return out


def find_model(name: str) -> ModelSpec | None:
    """A model by its name, an architecture's instance (`NAME@arch`) included."""
    base, _, fill = name.partition("@")
    spec = next((s for s in load_models() if s.name == base), None)
    if spec is None or not fill:
        return spec
    wild = any(WILDCARD in f for f in spec.files)
    return instance(spec, fill) if wild and _ARCH_NAME.fullmatch(fill) else None


def _fill(pattern: str, path: str) -> str | None:
    head, _, tail = pattern.partition(WILDCARD)
    if not (path.startswith(head) and path.endswith(tail)) or len(path) <= len(head) + len(tail):
        return None
    fill = path[len(head): len(path) - len(tail)]
    return fill if _ARCH_NAME.fullmatch(fill) else None


_ARCH_NAME = re.compile(r"[a-z0-9][\w-]*")


_INSTANCES: dict[tuple[str, str], ModelSpec] = {}
MAX_INSTANCES = 256


# What instance() changes of a model: only what its program is built from. A machine reads none of
# these (make_machine reads the model's directory, fragment sizes and reuse), so an instance given a
# program explores it as its model would: explored_as() names them alike.
INSTANCE_FIELDS = frozenset({"name", "files", "references", "reference_parts", "partial", "headers", "config"})


def explored_as(spec: ModelSpec) -> str:
    """The name a model's explorations go under: an architecture's instance's is its model's, since
    what tells their runs apart is the program each is built to (the scenario cache keys on it)."""
    return spec.name.partition("@")[0]


def instance(spec: ModelSpec, fill: str) -> ModelSpec:
    """The model with its wildcard files made for one architecture (same sources, same scenarios);
    it differs from the model in INSTANCE_FIELDS alone."""
    def sub(path: str) -> str:
        return path.replace(WILDCARD, fill)
    key = (spec.name, fill)
    if key not in _INSTANCES:
        if len(_INSTANCES) >= MAX_INSTANCES:  # architecture names come from mail: keep the cache bounded
            _INSTANCES.clear()
        _INSTANCES[key] = replace(
            spec, name=f"{spec.name}@{fill}", files=[sub(f) for f in spec.files],
            references={sub(k): v for k, v in spec.references.items()},
            reference_parts={sub(k): v for k, v in spec.reference_parts.items()},
            partial=frozenset(sub(f) for f in spec.partial), headers={sub(k): v for k, v in spec.headers.items()},
            config=spec.config.for_arch(fill) if spec.config is not None else None)
    return _INSTANCES[key]


def _lifetime(f: Fields, path: Path) -> Lifetime | None:
    """model.toml's [lifetime], or (`lifetime = "../other/model.toml"`) the one of a model of the same
    code in another state, shared."""
    if f.has("lifetime") and isinstance(f.data["lifetime"], str):
        other = path.parent / f.get("lifetime", str)
        if other.name != "model.toml" or not other.is_file():
            raise f.error(f"lifetime: {f.data['lifetime']!r} is not another model's model.toml")
        of = Fields(read_toml(other), display(other))
        of.asked |= set(of.data)  # only its [lifetime] is read here; the rest is checked where it is loaded
        life = load_lifetime(of, other.read_text().splitlines())
        if life is None:
            raise f.error(f"lifetime: {display(other)} has no [lifetime]")
        return replace(life, file=os.path.relpath(other, path.parent))
    return load_lifetime(f, path.read_text().splitlines())


def load_model(path: Path) -> ModelSpec:
    f = Fields(read_toml(path), display(path))
    spec = ModelSpec(
        name=f.get("name", str), directory=path.parent, about=f.get("about", str, ""), files=list(f.strs("files", None)),
        references={}, env=list(f.strs("env")), types=f.mapping("types", str),
        consts=f.mapping("consts", int), params=f.mapping("params", int),
        fragments_per_page=f.get("fragments_per_page", int, 1), fragment_size=f.get("fragment_size", int, 4096),
        fragment_reuse=f.get("fragment_reuse", bool, False), partial=frozenset(f.strs("partial")),
        headers=f.mapping("headers", str),
    )
    _read_references(spec, f)
    twice = sorted(set(spec.consts) & set(kernel_constants()))
    if twice:
        raise f.error(f"consts.{twice[0]}: already in rules/constants.toml (say it in one place)")
    scenario_files = f.strs("scenarios", ("scenarios.toml",))
    spec.lifetime = _lifetime(f, path)
    # what shared scenarios give on this model's own reference, where it differs from their file's
    expect_here = f.mapping("expect", str)
    if f.has("known_bad"):
        kb = f.sub("known_bad", f.get("known_bad", dict))
        spec.known_bad = KnownBad(kb.get("source", str), kb.get("why", str), kb.strs("hazards"))
        kb.close()
        if not (path.parent / spec.known_bad.source).is_file():
            raise f.error(f"known_bad.source: no file {spec.known_bad.source!r} in the model directory")
    f.close()
    _check_files(spec, f)
    if (path.parent / "config.toml").exists():
        spec.config = load_config(path.parent / "config.toml")
    # Scenario files: the model's own, and shared ones (several models free tables the same way).
    for name in scenario_files:
        scen_path = path.parent / name
        if scen_path.exists():
            spec.scenarios.extend(load_scenarios(scen_path, spec.known_bad is not None, name))
        elif name != "scenarios.toml":
            raise f.error(f"scenarios: no file {name!r}")
    _expect_here(spec, expect_here, f)
    return spec


def _check_files(spec: ModelSpec, f: Fields) -> None:
    """Every file model.toml names is in the model directory and the sections agree."""
    here = spec.directory
    for kpath, parts in spec.reference_parts.items():
        if kpath not in spec.files:
            raise f.error(f"references.{kpath}: not one of the model's files")
        for ref in parts:
            if not (here / ref).is_file():
                raise f.error(f"references.{kpath}: no file {ref!r} in the model directory")
    for env in spec.env:
        if not (here / env).is_file():
            raise f.error(f"env: no file {env!r} in the model directory")
    for hpath, ref in spec.headers.items():
        if ref and not (here / ref).is_file():
            raise f.error(f"headers.{hpath}: no file {ref!r} in the model directory")
    for kpath in spec.partial:
        if kpath not in spec.references:
            raise f.error(f"partial: {kpath} has no reference")


def _read_references(spec: ModelSpec, f: Fields) -> None:
    """A kernel file's reference: one file, or several (parts stated once and shared by the models
    of the file's states), read one after another."""
    for kpath, val in f.get("references", dict, {}).items():
        parts = (val,) if isinstance(val, str) else tuple(val) if isinstance(val, list) else ()
        if not parts or not all(isinstance(x, str) and x for x in parts):
            raise f.error(f"references.{kpath} must be a file name or a list of them")
        spec.reference_parts[kpath] = parts
        spec.references[kpath] = parts[-1]


def _expect_here(spec: ModelSpec, verdicts: dict[str, str], f: Fields) -> None:
    """model.toml's [expect]: a shared scenario's verdict on this model's own reference."""
    by_name = {sc.name: sc for sc in spec.scenarios}
    for name, verdict in verdicts.items():
        if name not in by_name:
            raise f.error(f"expect.{name}: no such scenario")
        if verdict not in VERDICTS:
            raise f.error(f"expect.{name}: must be one of {', '.join(VERDICTS)}")
        by_name[name].expect = verdict


def load_scenarios(path: Path, known_bad: bool = False, rel: str = "scenarios.toml") -> list[Scenario]:
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
                            s.choice("expect_known_bad", VERDICTS) if known_bad else "",
                            s.mapping("params", int), rel, fail_in=s.strs("fail_in")))
        s.close()
    top.close()
    return out


@dataclass
class Bound:
    program: Program
    report: BindReport
    changed: dict[str, str]  # function → file, for functions the last layer adds or removes lines in
    patched: dict[str, str]  # function → file, for functions that contain any patch line
    spans: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # function → (file, first, last)
    base: str = "the reference model"  # where the code the patch does not show comes from
    filled: list[str] = field(default_factory=list)  # functions the tree lacks, run from the reference model
    helpers: list[str] = field(default_factory=list)  # header inlines run as real code ("path:function")
    notes: list[str] = field(default_factory=list)  # what preprocessing could not do
    kept: list[str] = field(default_factory=list)  # removed by the patch, still called from outside it
    removed: dict[str, str] = field(default_factory=dict)  # function → file, for definitions the patch deletes


@dataclass
class Tree:
    """A kernel tree at one revision, as the preprocessor and the binder read it."""

    read: Reader  # kernel path → text, or None when the tree has no such file
    label: str  # "REV" for the review's words
    key: tuple = ()  # identifies the revision, for caching the headers' macros


def build_program(spec: ModelSpec, layers: list[list[FileDiff]], tree: Tree | None = None) -> Bound:
    """The model's sources with each layer of diffs applied in order; the last layer is under review.
    With a tree, the real file at its revision replaces the reference model, its #includes are read
    from the tree, and the functions the scenarios call that the tree lacks come from the reference.
    Built once per content (a repost, an unchanged patch of a later revision, a base bound again, a
    configuration's build): each caller gets a copy of its own to add to."""
    if tree is not None and not tree.key:
        return _build_program(spec, layers, tree)
    key = (id(spec), tuple(tuple(map(diff_digest, layer)) for layer in layers), tree.key if tree else None)
    hit = _BUILDS.pop(key, None)
    if hit is None or hit[0] is not spec:
        hit = (spec, _build_program(spec, layers, tree))
    _BUILDS[key] = hit  # most recently used
    while len(_BUILDS) > MEMO_BUILDS:
        del _BUILDS[next(iter(_BUILDS))]
    return _copy_bound(hit[1])


MEMO_BUILDS = 32
_BUILDS: dict[tuple, tuple[ModelSpec, Bound]] = {}


def _copy_bound(b: Bound) -> Bound:
    """b with containers of its own (the compiled functions and source lines, never edited, shared)."""
    p = b.program
    prog = replace(p, functions=dict(p.functions), origin=dict(p.origin), defines=dict(p.defines),
                   static_locks=list(p.static_locks), globals=dict(p.globals), consts=dict(p.consts),
                   types=dict(p.types), params=dict(p.params), notes=list(p.notes))
    r = b.report
    return replace(b, program=prog, report=replace(r, failed=list(r.failed)), changed=dict(b.changed),
                   patched=dict(b.patched), spans=dict(b.spans), filled=list(b.filled), helpers=list(b.helpers),
                   notes=list(b.notes), kept=list(b.kept), removed=dict(b.removed))


def _build_program(spec: ModelSpec, layers: list[list[FileDiff]], tree: Tree | None) -> Bound:
    prog = Program(consts={**kernel_constants(), **spec.consts}, types=dict(spec.types), params=dict(spec.params),
                   layout=patch_layout(load_layout(spec.directory.name), layers))
    bound = Bound(prog, BindReport(), {}, {}, {}, f"the kernel tree at {tree.label}" if tree else "the reference model")
    opaque = _opaque(spec, prog)
    libraries: list[HeaderLibrary] = []
    before: list[tuple[str, list[SourceLine], str | None]] = []  # files as they were before the last layer
    for kpath in spec.files:
        text = tree.read(kpath) if tree else None
        lines = _code_under_review(spec, kpath, text, layers, bound.report)
        if layers and _removes_a_definition(kpath, layers[-1]):
            before.append((kpath, _code_under_review(spec, kpath, text, layers[:-1], BindReport()), text))
        if not lines:
            continue
        if spec.config is None:
            lines = expand_call_macros(lines)
        parsed = "\n".join(sl.text for sl in lines)
        if spec.config is not None:
            prep = prepare(lines, kpath, spec.config, tree.read if text is not None and tree else None, opaque,
                           tree.key if tree else ())
            parsed = prep.text
            bound.notes += prep.notes
            if prep.library is not None:
                libraries.append(prep.library)
        unit, lines = program_from_text(parsed, lines)
        _prefer_patched(unit, lines)
        prog.add_unit(unit, lines)
        _record_provenance(unit, lines, kpath, bound)
        if text is not None and spec.references.get(kpath):
            _fill_from_reference(spec, kpath, spec.references[kpath], prog, bound)
    add_headers(spec, layers, bound)
    for env in spec.env:
        text = (spec.directory / env).read_text()
        unit, lines = program_from_text(text, reference_lines(spec.rel(env), text))
        for name in list(unit.functions):
            if name in prog.functions:
                del unit.functions[name]  # the code under review wins over the environment
        prog.add_unit(unit, lines)
    if libraries:
        _link_helpers(spec, prog, libraries, bound)
    _keep_removed_callees(spec, prog, before, tree, opaque, bound)
    return bound


def _keep_removed_callees(spec: ModelSpec, prog: Program, before: list[tuple[str, list[SourceLine], str | None]],
                          tree: Tree | None, opaque: frozenset[str], bound: Bound) -> None:
    """A function the patch removes that code outside the patch still calls (the model's environment,
    its scenarios, files the patch leaves alone). In the kernel those callers must have been converted
    elsewhere (the series' other patches), or the patch would not build; the model's environment
    stands for them, so they keep the function's former body rather than falling back to a primitive
    of the same name or to nothing."""
    if not before:
        return
    for kpath, lines, _t in before:
        bound.removed.update({n: kpath for n in defined_names(lines) - set(prog.functions)})
    gone = set(bound.removed) & (_called(prog) | _scenario_calls(spec))
    if not gone:
        return
    for kpath, lines, text in before:
        if not gone & defined_names(lines):
            continue
        parsed = "\n".join(sl.text for sl in lines)
        if spec.config is not None:
            parsed = prepare(lines, kpath, spec.config, tree.read if text is not None and tree else None, opaque,
                             tree.key if tree else ()).text
        unit, lines = program_from_text(parsed, lines)
        keep = {n: fn for n, fn in unit.functions.items() if n in gone and n not in prog.functions}
        if not keep:
            continue
        unit.functions = keep
        prog.add_unit(unit, lines)
        bound.kept += sorted(keep)


def _removes_a_definition(kpath: str, layer: list[FileDiff]) -> bool:
    fd = next((f for f in layer if f.path == kpath), None)
    return fd is not None and bool(defined_names([SourceLine(kpath, 0, ln.text, True, False)
                                                  for h in fd.hunks for ln in h.lines if ln.tag == "-"]))


def _scenario_calls(spec: ModelSpec) -> set[str]:
    out: set[str] = set()
    for sc in spec.scenarios + lifetime_scenarios(spec):
        out |= set(re.findall(r"([A-Za-z_]\w*)\s*\(", sc.setup + " ".join(c for _n, _c, c in sc.threads)))
    return out


def _code_under_review(spec: ModelSpec, kpath: str, tree_text: str | None, layers: list[list[FileDiff]],
                       report: BindReport) -> list[SourceLine]:
    """The file's lines (the tree's, else the reference model's) with each layer's hunks applied:
    exactly where they match the tree, by alignment otherwise. The file after the earlier layers
    is remembered (_PREFIXES), so the n-th patch of a series applies one layer, not n."""
    diffs = [fd for fd in (next((f for f in layer if f.path == kpath), None) for layer in layers) if fd is not None]
    last_changes = bool(layers) and any(f.path == kpath for f in layers[-1])
    earlier = diffs[:-1] if last_changes else diffs  # the layers whose "+" lines are no longer the change
    done, lines, acc = _PREFIXES.longest(spec, kpath, tree_text, earlier)
    if done:
        _merge_report(report, acc)
    else:
        ref_name = spec.references.get(kpath)
        if tree_text is not None:
            lines = [SourceLine(kpath, i + 1, t, False, False) for i, t in enumerate(tree_text.splitlines())]
        elif ref_name:
            lines = spec.reference_lines(kpath)
    partial = kpath in spec.partial and tree_text is None  # the reference states only some of the file
    for i in range(done, len(diffs)):
        fd = diffs[i]
        # The lines are the file after diffs[:i] (as _PREFIXES keys them): the same key, the same
        # splice. A series' n-th patch, applied as the last layer, is applied again as an earlier
        # layer of the next patch's build (its marks then dropped).
        got = _APPLIED.get(spec, kpath, tree_text, diffs[:i + 1])
        if got is None:
            step = BindReport()
            exact = apply_exact(lines, fd) if tree_text is not None and lines else None
            lines = exact if exact is not None else apply_hunks(lines, fd, step, partial) if lines else new_file_lines(fd)
            _APPLIED.put(spec, kpath, tree_text, diffs[:i + 1], lines, step)
        else:
            lines, step = got
        _merge_report(report, step)
        if i < len(earlier):  # only the last layer's "+" lines are the change under review
            lines = [SourceLine(sl.file, sl.line, sl.text, sl.from_patch, False) if sl.added or sl.after_removal
                     else sl for sl in lines]
            acc = _plus(acc, step)
            _PREFIXES.put(spec, kpath, tree_text, earlier[:i + 1], lines, acc)
    return list(lines)


def _plus(a: BindReport, b: BindReport) -> BindReport:
    """Both reports in one (counts add up, reasons follow each other)."""
    return BindReport(**{f.name: getattr(a, f.name) + getattr(b, f.name) for f in dataclasses.fields(BindReport)})


def _merge_report(into: BindReport, more: BindReport) -> None:
    for f in dataclasses.fields(BindReport):
        setattr(into, f.name, getattr(into, f.name) + getattr(more, f.name))


@dataclass
class _Prefix:
    spec: ModelSpec
    tree_text: str | None
    diffs: tuple[FileDiff, ...]  # the first ones applied (the key holds every one's content)
    lines: list[SourceLine]
    report: BindReport  # what applying the diffs reported (never changed), added to a report on reuse


class _PrefixStates:
    """A model file after the first k diffs of a series, by (model, file, tree text, the diffs'
    contents): later patches of the series, and a later revision repeating its earlier patches, start
    from it. Bounded, least recently used first out. What lies under a key is all the file's lines
    depend on: the model (its reference, which of its files are partial), the tree's text (compared
    whole), and each diff applied in order."""

    SIZE = 256  # a series touching many architectures' files, over its revisions

    def __init__(self) -> None:
        self.states: dict[tuple, _Prefix] = {}

    def get(self, spec: ModelSpec, kpath: str, tree_text: str | None,
            diffs: list[FileDiff]) -> tuple[list[SourceLine], BindReport] | None:
        """The lines and report put under exactly these diffs (never edited: a caller copies)."""
        key = self._key(spec, kpath, tree_text, diffs)
        hit = self.states.get(key)
        if hit is None or hit.spec is not spec or hit.tree_text != tree_text:
            return None
        self.states[key] = self.states.pop(key)  # most recently used
        return hit.lines, hit.report

    @staticmethod
    def _key(spec: ModelSpec, kpath: str, tree_text: str | None, diffs: list[FileDiff]) -> tuple:
        """By the diffs' content: a later revision of a series repeats its earlier patches' diffs."""
        return (id(spec), kpath, None if tree_text is None else len(tree_text), tuple(map(diff_digest, diffs)))

    def longest(self, spec: ModelSpec, kpath: str, tree_text: str | None,
                diffs: list[FileDiff]) -> tuple[int, list[SourceLine], BindReport]:
        """(k, the lines after diffs[:k], their report) for the longest remembered k (0: none)."""
        for k in range(len(diffs), 0, -1):
            key = self._key(spec, kpath, tree_text, diffs[:k])
            hit = self.states.get(key)
            if hit is not None and hit.spec is spec and hit.tree_text == tree_text:
                self.states[key] = self.states.pop(key)  # most recently used
                return k, hit.lines, hit.report
        return 0, [], BindReport()

    def put(self, spec: ModelSpec, kpath: str, tree_text: str | None, diffs: list[FileDiff],
            lines: list[SourceLine], report: BindReport) -> None:
        self.states[self._key(spec, kpath, tree_text, diffs)] = _Prefix(spec, tree_text, tuple(diffs), lines, report)
        while len(self.states) > self.SIZE:
            del self.states[next(iter(self.states))]


_DIGESTS: dict[int, tuple[FileDiff, str]] = {}  # id(a diff) → (it, its digest)
MEMO_DIGESTS = 8192


def diff_digest(fd: FileDiff) -> str:
    """A hash of everything a file's diff says (bot.cache.files_digest), once per diff: nothing edits
    a diff once the mail stage made it."""
    from bot.cache import files_digest

    hit = _DIGESTS.get(id(fd))
    if hit is None or hit[0] is not fd:
        if len(_DIGESTS) >= MEMO_DIGESTS:
            _DIGESTS.clear()
        hit = _DIGESTS[id(fd)] = (fd, files_digest([fd]))
    return hit[1]


_PREFIXES = _PrefixStates()  # the file after earlier layers: their "+" lines no longer marked as the change
_APPLIED = _PrefixStates()  # the file just after its last diff, marks as apply_hunks made them


def _record_provenance(unit: CUnit, lines: list[SourceLine], kpath: str, bound: Bound) -> None:
    """Which functions the patch touches or changes, and each function's span in the file."""
    for name, fn in {**unit.macro_functions, **unit.functions}.items():
        span = lines[fn.line - 1: fn.end_line]
        if any(sl.from_patch for sl in span):
            bound.patched[name] = kpath
        if any(sl.added or sl.after_removal for sl in span):
            bound.changed[name] = kpath
        pl = [sl.line for sl in span if sl.file == kpath]
        if pl:
            bound.spans[name] = (kpath, min(pl), max(pl))


def _opaque(spec: ModelSpec, prog: Program) -> frozenset[str]:
    """Names the preprocessor leaves alone: the primitives, the model's constants (its geometry, which
    a tree's headers would change) and the kernel constants of rules/constants.toml (their values
    already; the headers would spell them as casts to kernel types), and the struct and field names
    of its layout (`rcu_head`, which a header defines as `callback_head`)."""
    names = set(primitives()) | set(spec.consts) | set(kernel_constants()) | set(spec.types) | set(kept_macros())
    for sname, fields in prog.layout.structs.items():
        names |= set(fields) | set(sname.split())
    for ty in prog.layout.sizes:
        names |= set(ty.split())
    return frozenset(names - {"struct", "union", "unsigned", "signed", "long", "int", "char", "void"})


def _fill_from_reference(spec: ModelSpec, kpath: str, ref_name: str, prog: Program, bound: Bound) -> None:
    """Functions of the reference model that the tree's file does not define (a scenario may call
    them): run from the reference, and said so."""
    rel = spec.rel(ref_name)
    lines = spec.reference_lines(kpath)
    text = "\n".join(sl.text for sl in lines)
    if spec.config is not None:
        text = prepare(lines, rel, spec.config, None, _opaque(spec, prog)).text
    unit, lines = program_from_text(text, lines)
    missing = [n for n in unit.functions if n not in prog.functions]
    if not missing:
        return
    unit.functions = {n: unit.functions[n] for n in missing}
    prog.add_unit(unit, lines)
    bound.filled += sorted(missing)


def _called(prog: Program) -> set[str]:
    out: set[str] = set()
    for fn in prog.functions.values():
        for ins in fn.code:
            if ins[0] == "call" and ins[2]:
                out.add(ins[2])
    return out


def _link_helpers(spec: ModelSpec, prog: Program, libraries: list[HeaderLibrary], bound: Bound) -> None:
    """Header inlines the code calls, transitively, unless a primitive or the model defines them."""
    prims = primitives()
    scen_calls = _scenario_calls(spec)
    tried: set[str] = set()
    for _round in range(8):
        want = sorted((_called(prog) | scen_calls) - set(prog.functions) - set(prims) - tried)
        if not want:
            return
        for name in want:
            tried.add(name)
            for lib in libraries:
                got = lib.find(name)
                if got is not None:
                    unit, lines = got
                    prog.add_unit(unit, lines)
                    bound.helpers.append(f"{lines[0].file}:{name}")
                    break


def _prefer_patched(unit: CUnit, lines: list[SourceLine]) -> None:
    """Of a function defined twice (an #if/#else pair), run the definition the patch added lines to
    when only a later one has them (a hunk appended as a whole new definition, for one)."""
    def added(fn: CFunction) -> bool:
        return any(sl.added or sl.after_removal for sl in lines[fn.line - 1: fn.end_line])
    for name, later in unit.alternates.items():
        if not added(unit.functions[name]):
            hit = next((fn for fn in later if added(fn)), None)
            if hit is not None:
                unit.functions[name] = hit


def lifetime_scenarios(spec: ModelSpec) -> list[Scenario]:
    """Every scenario the model's lifetime paths make (bot.cmodel.lifetime), whether or not a patch
    asks for it: what `explore --scenario` finds by name."""
    life = spec.lifetime
    if life is None:
        return []
    out = []
    for pair in pairs(life):
        one, two = thread_code(pair.first, life.tables[0]), thread_code(pair.second, life.tables[1])
        if pair.sequence:
            threads = [("CPU0", 0, f"{one} {two}")]
            about = f"{pair.first.about}; then, on the same CPU, {pair.second.about}"
        else:
            threads = [("CPU0", 0, one), ("CPU1", 1, two)]
            about = f"{pair.first.about}, while {pair.second.about}"
        needs = sorted({pair.first.functions[0], pair.second.functions[0]})
        out.append(Scenario(pair.name, about, needs, life.setup, threads, [], pair.first.line, file=life.file,
                            pair=pair))
    return out + [_error_path_scenario(life, ep) for ep in error_paths(life)]


NEW_TABLE = "NEW_TABLE"  # what an error-path scenario calls the table its allocation path makes


def _error_path_scenario(life: Lifetime, ep: ErrorPath) -> Scenario:
    """The allocation path with one of its allocations failing (any one: each is explored), alone or
    while another path ends the second table; the tables still held are the live ones."""
    alloc = f"allocations_may_fail(1); {ep.alloc.code.replace(TABLE, NEW_TABLE)}"
    about = f"{ep.alloc.about}, with an allocation inside it failing"
    threads = [("CPU0", 0, alloc)]
    live = [life.tables[0], life.tables[1], NEW_TABLE]
    if ep.other is not None:
        threads.append(("CPU1", 1, thread_code(ep.other, life.tables[1])))
        about += f", while {ep.other.about}"
        live.remove(life.tables[1])
    needs = sorted(set(ep.alloc.functions[:1] + (ep.other.functions[:1] if ep.other else ())))
    return Scenario(ep.name, about, needs, life.setup, threads, live, ep.alloc.line, file=life.file,
                    fail_in=ep.alloc.functions, error_path=ep)


def context_scenarios(spec: ModelSpec, bound: Bound) -> list[Scenario]:
    """The lifetime pairs a patch's change asks for: a path it changes against one running a function
    it leaves as it was, unless a scenario of the model already runs the two that way; and the error
    paths of an allocation path it changes."""
    changed, defined = set(bound.changed), set(bound.program.functions)
    if not changed:
        return []
    written = [[calls_in(code) for _n, _c, code in sc.threads] for sc in spec.scenarios]
    out = []
    error_changed: dict[str, bool] = {}
    for sc in lifetime_scenarios(spec):
        ep = sc.error_path
        if ep is not None:
            if ep.alloc.name not in error_changed:
                error_changed[ep.alloc.name] = changes_error_path(bound, ep.alloc.functions)
            if error_path_relevant(ep, changed, defined, error_changed[ep.alloc.name]):
                out.append(sc)
            continue
        pair = sc.pair
        assert pair is not None
        if not relevant(pair, changed, defined):
            continue
        if spec.config is not None and spec.config.variant and not _builds_paths(pair, defined):
            continue  # an architecture's configuration without that path's code has it in another form
        if any(covered(pair, threads) for threads in written):
            continue
        out.append(sc)
    return out


def _builds_paths(pair: Pair, defined: set[str]) -> bool:
    return all(f in defined for f in (*pair.first.functions, *pair.second.functions))


def changes_error_path(bound: Bound, functions: tuple[str, ...]) -> bool:
    """Whether the last layer adds or removes lines on an error path of these functions."""
    prog = bound.program
    fails = failing_functions(prog, primitives())
    for fn in functions:
        if fn in bound.changed and fn in prog.functions:
            for line in error_path_lines(prog, fn, fails):
                sl = prog.where(fn, line)
                if sl is not None and (sl.added or sl.after_removal):
                    return True
    return False


def scenario_runnable(sc: Scenario, prog: Program) -> bool:
    return all(n in prog.functions for n in sc.needs)


# bot.scenario_cache, which remembers set-up machines by what their setup read: it imports this
# module, so it puts itself here when it is loaded (None until then: every machine runs its setup).
SET_UPS: Any = None


def make_machine(spec: ModelSpec, prog: Program, sc: Scenario, cost_as_violation: str = "",
                 base: Program | None = None) -> Machine:
    """The scenario's machine, set up: its setup run, its threads at their first shared access.
    base: the program prog is the scenario's copy of (_scenario_program()); with it, a machine whose
    setup would read what an earlier one's read starts from what that one left instead
    (bot.scenario_cache.earlier_set_up, once that module is loaded: SET_UPS)."""
    memo = SET_UPS if base is not None else None
    rel = spec.rel(sc.file)
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
    m.faults = any(m.prims[n].effect == "faults" for n in calls_in(" ".join(c for _t, _c, c in texts)) if n in m.prims)
    m.fault_scope = frozenset(sc.fail_in)
    for i, lock in enumerate(prog.static_locks):
        m.lock_addrs[lock] = GLOBAL_BASE + i * GLOBAL_SIZE
    earlier = memo.earlier_set_up(spec, sc, base) if memo is not None else None
    if earlier is not None:
        prog.functions.update(earlier.synthetic)  # the wrappers its setup made, as this one's would
        m.init, m.setup, m.obs = earlier.world, earlier.setup, copy_observations(earlier.setup.obs)
        m.quiescence = [_quiescence_check(spec, sc.live, earlier.setup.vars, cost_as_violation)]
        return m
    w = World()
    m.initial_globals(w)
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
    setup_ran = frozenset(m.obs.ran)
    m.obs.ran.clear()  # what the threads run, from their first step (the setup is not under test)
    w.threads = []
    for tname, cpu, _code in sc.threads:
        t = Thread(tname, "process", cpu, [Frame(f"scenario:{tname}", 0, dict(vars_))])
        w.threads.append(t)
        m._settle(w, t, events, violations)
    m.init = w
    m.quiescence = [_quiescence_check(spec, sc.live, vars_, cost_as_violation)]
    m.setup = SetupRun(setup_ran, vars_, copy_observations(m.obs))
    if memo is not None:
        memo.remember_set_up(spec, sc, base, m)
    return m


def copy_observations(obs: Observations) -> Observations:
    """Observations of their own (each holds containers of strings)."""
    return Observations(**{f.name: copy.copy(getattr(obs, f.name)) for f in dataclasses.fields(obs)})


@dataclass(frozen=True)
class SetupRun:
    """What a scenario's setup ran, and what the exploration then starts from besides the machine's
    initial world (bot.scenario_cache compares them)."""

    ran: frozenset[str]  # the functions it entered
    vars: dict[str, int]  # its variables, which the threads and the end-of-run checks read
    obs: Observations  # what the setup and the threads' first steps observed


def _quiescence_check(spec: ModelSpec, live_names: list[str], setup_vars: dict[str, int], cost_as_violation: str = ""):
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
            held = slots if base in live else [s for s in slots if s in live]  # a table named by its page, or its address
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
                    if waste == cost_as_violation:  # asked for a path to it (see cost_counterexample)
                        out.append(Violation("cost", f"{name} has a free half that no list finds again",
                                             (("object", "page"), ("owner", name), ("cost", waste))))
        out += _slab_leaks(m, w)
        out += _locks_left_held(m, w)
        return out
    return checkq


def _locks_left_held(m: Machine, w: World) -> list[Violation]:
    """A lock still held once every context has finished: a path (an error path, typically) returned
    without releasing it, and the next context that takes it waits forever."""
    out = []
    for lock, (holder, _bh) in sorted(w.locks.items()):
        name = m.lock_name(lock)
        who = holder.removeprefix("shared:")
        out.append(Violation("deadlock", f"{who} finished with {name} still held: the next context that takes "
                                         "it waits forever", (("cause", "lock_left_held"), ("lock", name))))
    return out


def cost_counterexample(spec: ModelSpec, bound: Bound, sc: Scenario, cost: str, budget_states: int,
                        budget_seconds: float) -> tuple[Counterexample, Machine] | None:
    """A shortest path to a cost the scenario observed only at its end (no step of its own incurs
    it), so that the statement deciding it can be found like a violation's."""
    m = make_machine(spec, _scenario_program(bound, sc), sc, cost_as_violation=cost, base=bound.program)
    res = check(m, budget_states, budget_seconds, stop_at_first=True)
    cx = next((c for c in res.counterexamples if c.violation.attr("cost") == cost), None)
    return (cx, m) if cx is not None else None


def _owner_fields(prims: dict) -> list[str]:
    """The fields through which a freed slab object names its owner, once per set of rules (every
    end of every exploration asks)."""
    hit = _OWNER_FIELDS.get(id(prims))
    if hit is None or hit[0] is not prims:
        _OWNER_FIELDS.clear()
        hit = _OWNER_FIELDS[id(prims)] = (prims, sorted({p.params["owner_field"] for p in prims.values()
                                                         if p.effect == "kmem_free" and p.params.get("owner_field")}))
    return hit[1]


_OWNER_FIELDS: dict[int, tuple[dict, list[str]]] = {}


def _slab_leaks(m: Machine, w: World) -> list[Violation]:
    """A slab object a page-table page owns (its split lock) that outlives the page."""
    fields = _owner_fields(m.prims)
    out = []
    for base, (kind, _size, alive, name, _fb) in w.objects.items():
        if kind != "slab" or not alive:
            continue
        for owner_field in fields:
            owner = slab_owner(m, w, base, owner_field)
            if owner is not None and not w.objects[owner][2]:
                page = w.objects[owner][3]
                out.append(Violation("leak", f"{name}, the split page-table lock of {page}, is never freed: "
                                             f"{page} went back to the allocator without its destructor",
                                     (("object", "slab"), ("owner", page))))
    return out


def run_scenario(spec: ModelSpec, bound: Bound, sc: Scenario, budget_states: int,
                 budget_seconds: float, machine: Machine | None = None) -> tuple[CheckResult, Machine]:
    """The scenario explored (on `machine` when it is scenario_machine()'s, set up and not run)."""
    m = machine if machine is not None else scenario_machine(spec, bound, sc)
    return check(m, budget_states, budget_seconds), m


def scenario_machine(spec: ModelSpec, bound: Bound, sc: Scenario) -> Machine:
    """The machine run_scenario explores, set up and not run."""
    return make_machine(spec, _scenario_program(bound, sc), sc, base=bound.program)


def _scenario_program(bound: Bound, sc: Scenario) -> Program:
    """The bound program for one scenario: its own functions and its parameters over the model's."""
    prog = copy.copy(bound.program)
    prog.functions = dict(bound.program.functions)
    prog.origin = dict(bound.program.origin)
    prog.params = {**bound.program.params, **sc.params}
    return prog
