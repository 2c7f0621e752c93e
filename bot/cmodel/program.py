"""A program the interpreter runs: compiled functions with provenance, layouts, constants, rules.

Built by bot.cmodel.bind from a model's reference sources with the patch's hunks applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from bot.cmodel import unitstore
from bot.cmodel.compile import Compiled, compile_function
from bot.cmodel.cparse import CFunction, CUnit, parse_expr_text, parse_unit
from bot.cmodel.layout import Layout, load_layout
from bot.cmodel.primitives import primitives


@dataclass(frozen=True)
class SourceLine:
    file: str  # "arch/s390/mm/pgalloc.c", or "models/s390/pgalloc.c" for reference lines
    line: int
    text: str
    from_patch: bool  # the line is the patch's own (added or context), not the reference model's
    added: bool = False  # a "+" line of the patch
    after_removal: bool = False  # the patch removed lines just before this one


@dataclass
class Program:
    functions: dict[str, Compiled] = field(default_factory=dict)
    origin: dict[str, list[SourceLine]] = field(default_factory=dict)  # fn → parsed-text line → source
    defines: dict[str, str] = field(default_factory=dict)
    static_locks: list[str] = field(default_factory=list)
    globals: dict[str, tuple[str, int]] = field(default_factory=dict)  # file-scope variable → (type, initial value)
    consts: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # typedefs, e.g. pgtable_t = "pte_t *"
    params: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    layout: Layout = field(default_factory=load_layout)  # the model's struct layouts

    def add_unit(self, unit: CUnit, lines: list[SourceLine]) -> None:
        for name, fn in unit.functions.items():
            self.functions[name] = _compiled(fn)
            self.origin[name] = lines
        for name, fn in unit.macro_functions.items():
            if name not in self.functions and name not in primitives():  # a primitive's rule wins
                self.functions[name] = compile_function(fn)
                self.origin[name] = lines
        self.defines.update(unit.defines)
        for name, decl in unit.globals.items():
            if name not in self.globals or decl[1]:
                self.globals[name] = decl
        for lock in unit.static_locks:
            if lock not in self.static_locks:
                self.static_locks.append(lock)

    def where(self, fn: str, line: int) -> SourceLine | None:
        lines = self.origin.get(fn)
        if lines and 0 < line <= len(lines):
            return lines[line - 1]
        return None


def program_from_text(text: str, lines: list[SourceLine] | None = None) -> tuple[CUnit, list[SourceLine]]:
    unit = _parse(text)
    if lines is None:
        lines = [SourceLine("<text>", i + 1, t, False) for i, t in enumerate(text.splitlines())]
    return unit, lines


@lru_cache(maxsize=256)
def define_expr(text: str) -> tuple:
    return parse_expr_text(text)



# A model's reference and environment sources, and its scenarios' code, are the same text in every
# review: each is parsed and compiled once. Nothing edits a parsed or compiled function after it is
# made (a caller edits only the unit's own dicts and lists, copied for it), so they are shared. The
# memos hold only texts and functions of a model's size, however large the code under review.
MEMO_TEXTS = 128
MEMO_TEXT = 64 << 10  # characters
MEMO_FUNCTIONS = 2048
MEMO_CODE = 512  # instructions


def read_only_unit(text: str) -> CUnit:
    """text parsed, without the per-line provenance program_from_text() makes: the memo's own unit
    where it has one, which the caller must not edit."""
    return _parsed(text) if len(text) <= MEMO_TEXT else parse_unit(text)


def _parse(text: str) -> CUnit:
    return _fresh(_parsed(text)) if len(text) <= MEMO_TEXT else parse_unit(text)


@lru_cache(maxsize=MEMO_TEXTS)
def _parsed(text: str) -> CUnit:
    return unitstore.parsed(text)  # another process's parse of the same text, when it has one


def _fresh(unit: CUnit) -> CUnit:
    return CUnit(functions=dict(unit.functions), alternates={k: list(v) for k, v in unit.alternates.items()},
                 defines=dict(unit.defines), static_locks=list(unit.static_locks), globals=dict(unit.globals),
                 macro_functions=dict(unit.macro_functions), errors=list(unit.errors))


_COMPILED: dict[int, tuple[CFunction, Compiled]] = {}  # id(parsed function) → (it, its code)


def _compiled(fn: CFunction) -> Compiled:
    hit = _COMPILED.get(id(fn))
    if hit is not None and hit[0] is fn:
        return hit[1]
    code = compile_function(fn)
    if len(code.code) <= MEMO_CODE:
        if len(_COMPILED) >= MEMO_FUNCTIONS:
            _COMPILED.clear()
        _COMPILED[id(fn)] = (fn, code)
    return code
