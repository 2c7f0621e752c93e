"""A program the interpreter runs: compiled functions with provenance, layouts, constants, rules.

Built by bot.cmodel.bind from a model's reference sources with the patch's hunks applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from bot.cmodel.compile import Compiled, compile_function
from bot.cmodel.cparse import CUnit, parse_expr_text, parse_unit
from bot.cmodel.layout import Layout, load_layout


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
    consts: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # typedefs, e.g. pgtable_t = "pte_t *"
    params: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    layout: Layout = field(default_factory=load_layout)  # the model's struct layouts

    def add_unit(self, unit: CUnit, lines: list[SourceLine]) -> None:
        for name, fn in unit.functions.items():
            self.functions[name] = compile_function(fn)
            self.origin[name] = lines
        self.defines.update(unit.defines)
        for lock in unit.static_locks:
            if lock not in self.static_locks:
                self.static_locks.append(lock)

    def where(self, fn: str, line: int) -> SourceLine | None:
        lines = self.origin.get(fn)
        if lines and 0 < line <= len(lines):
            return lines[line - 1]
        return None


def program_from_text(text: str, lines: list[SourceLine] | None = None) -> tuple[CUnit, list[SourceLine]]:
    unit = parse_unit(text)
    if lines is None:
        lines = [SourceLine("<text>", i + 1, t, False) for i, t in enumerate(text.splitlines())]
    return unit, lines


@lru_cache(maxsize=256)
def define_expr(text: str) -> tuple:
    return parse_expr_text(text)

