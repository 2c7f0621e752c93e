"""The order findings are reported in, the same in every format."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.findings import Finding

CLASS_ORDER = {"correctness": 0, "cost": 1, "noise": 2}


def order(findings: list[Finding]) -> list[Finding]:
    """Correctness first, then cost, then noise; within a class by place in the patch."""
    return sorted(findings, key=lambda f: (CLASS_ORDER.get(f.cls, 9), f.file, f.line, f.hazard))
