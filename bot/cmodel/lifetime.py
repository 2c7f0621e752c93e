"""Whole-file context: the kernel's paths that end one object's life, as a model states them
(model.toml `[lifetime]`), and the scenarios pairing them.

Reviewers ask "what else frees this page?": a patch that changes one free path must still agree
with the free, teardown, exit and error paths it leaves alone. Each path names the functions that
are its own; a scenario runs a path the patch changes against a path that runs a function the patch
does not change (from the kernel tree, or the reference model), on the object's two tables (two
fragments of one page where the model has fragments): on two CPUs at once, and on one CPU the
changed path first. A pair a hand-written scenario of the model already runs that way is left to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.datafile import Fields

TABLE = "$T"  # where a path's code names the table it ends
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class LifePath:
    name: str
    about: str
    functions: tuple[str, ...]  # the functions of the path (its entry first): "changed" and "unchanged" refer to these
    code: str  # C statements, TABLE standing for the table
    line: int = 0  # where model.toml states it


@dataclass(frozen=True)
class Lifetime:
    object: str  # what the paths free, in the review's words
    setup: str  # allocates the tables (two of one page where the model has fragments)
    tables: tuple[str, str]
    paths: tuple[LifePath, ...]
    allocs: tuple[LifePath, ...] = ()  # allocation paths, their error paths explored (code: `$T = ...;`)
    file: str = "model.toml"  # where it is stated, relative to the model's directory


def load_lifetime(f: Fields, raw: list[str]) -> Lifetime | None:
    """model.toml's [lifetime] table (None when the model has none), checked."""
    if not f.has("lifetime"):
        return None
    lf = f.sub("lifetime", f.get("lifetime", dict))
    what = lf.get("object", str)
    tables = lf.strs("tables")
    if len(tables) != 2:
        raise lf.error("tables: name the two tables the setup allocates")
    setup = lf.get("setup", str)
    paths: list[LifePath] = []
    for p in lf.tables("path"):
        paths.append(_path(p, paths, raw))
    allocs: list[LifePath] = []
    for p in lf.tables("alloc"):
        allocs.append(_path(p, paths + allocs, raw))
        if not _ASSIGNS.match(allocs[-1].code):
            raise p.error(f"code: an allocation path assigns the new table to {TABLE} ({TABLE} = ...;)")
    lf.close()
    if len(paths) < 2:
        raise f.error("lifetime: state at least two paths")
    return Lifetime(what, setup, (tables[0], tables[1]), tuple(paths), tuple(allocs))


_ASSIGNS = re.compile(re.escape(TABLE) + r"\s*=[^=]")


def _path(p: Fields, before: list[LifePath], raw: list[str]) -> LifePath:
    name = p.get("name", str)
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name) or any(q.name == name for q in before):
        raise p.error(f"name {name!r}: lower-case words joined by '-', one per path")
    code = p.get("code", str)
    if TABLE not in code:
        raise p.error(f"code: must name the table as {TABLE}")
    functions = p.strs("functions", None)
    if not functions or functions[0] not in _CALL.findall(code):
        raise p.error("functions: the path's own functions, the one its code calls first")
    line = next((i + 1 for i, ln in enumerate(raw) if f'"{name}"' in ln), 0)
    out = LifePath(name, p.get("about", str), functions, code, line)
    p.close()
    return out


@dataclass(frozen=True)
class Pair:
    """One scenario of two paths: `first` on the first table, `second` on the other; at once or in
    sequence on one CPU."""

    first: LifePath
    second: LifePath
    sequence: bool

    @property
    def name(self) -> str:
        return f"lifetime:{self.first.name}-{'then' if self.sequence else 'while'}-{self.second.name}"


@dataclass(frozen=True)
class ErrorPath:
    """An allocation path run with its allocations failing: alone, or while `other` runs on the
    second table."""

    alloc: LifePath
    other: LifePath | None

    @property
    def name(self) -> str:
        return f"errpath:{self.alloc.name}" + (f"-while-{self.other.name}" if self.other else "")


def error_paths(life: Lifetime) -> list[ErrorPath]:
    return [ErrorPath(a, o) for a in life.allocs for o in (None, *life.paths)]


def error_path_relevant(ep: ErrorPath, changed: set[str], defined: set[str], error_path_changed: bool) -> bool:
    """Worth running for a patch (whose code defines the entries): alone, when it changes a function
    of the allocation path (a reference taken or a lock held before the allocation must be undone
    on the error path the patch left alone); beside another path, when it changes the error path's
    own code (what it frees or releases, the allocation itself)."""
    entries = ep.alloc.functions[:1] + (ep.other.functions[:1] if ep.other else ())
    if not all(f in defined for f in entries):
        return False
    return error_path_changed if ep.other else any(f in changed for f in ep.alloc.functions)


def pairs(life: Lifetime) -> list[Pair]:
    """Every pair the model's paths make: each unordered pair at once, each ordered pair in sequence."""
    out = []
    for i, a in enumerate(life.paths):
        for j, b in enumerate(life.paths):
            if i < j:
                out.append(Pair(a, b, False))
            if i != j:
                out.append(Pair(a, b, True))
    return out


def relevant(pair: Pair, changed: set[str], defined: set[str]) -> bool:
    """A pair worth running for a patch: one path runs a function the patch changes and the other a
    function it leaves as it was (in sequence: the changed path first)."""
    def touched(p: LifePath) -> bool:
        return any(f in changed for f in p.functions)

    def untouched(p: LifePath) -> bool:
        return any(f in defined and f not in changed for f in p.functions)
    if not all(f in defined for f in pair.first.functions[:1] + pair.second.functions[:1]):
        return False
    if set(pair.first.functions) == set(pair.second.functions):
        return False  # the same code on both sides: nothing unchanged meets the change that each alone does not run
    if pair.sequence:
        return touched(pair.first) and untouched(pair.second)
    if pair.first.functions[0] == pair.second.functions[0]:
        return False  # the same entry on both CPUs: its sequences tell the two paths apart
    return (touched(pair.first) and untouched(pair.second)) or (touched(pair.second) and untouched(pair.first))


def covered(pair: Pair, threads: list[list[str]]) -> bool:
    """A hand-written scenario (its threads' code, as call names) already runs the two paths'
    entries: in two threads for a pair at once, in one thread, in order, for a sequence."""
    a, b = pair.first.functions[0], pair.second.functions[0]
    for calls in threads:
        if pair.sequence and a in calls and b in calls[calls.index(a) + 1:]:
            return True
    if not pair.sequence:
        has_a = [i for i, calls in enumerate(threads) if a in calls]
        has_b = [i for i, calls in enumerate(threads) if b in calls]
        return any(i != j for i in has_a for j in has_b)
    return False


def calls_in(code: str) -> list[str]:
    return _CALL.findall(code)


def thread_code(path: LifePath, table: str) -> str:
    return path.code.replace(TABLE, table)
