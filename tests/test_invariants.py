"""Every violation any model raises is an invariant of bot/sim/invariants.py, and each invariant
says where it is checked. Read from the code, so a new check cannot add an unnamed kind."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.sim.invariants import BY_ID, INVARIANTS

BOT = Path(__file__).resolve().parent.parent / "bot"
RAISERS = {"Violation", "fail", "soft", "_viol"}  # the calls whose first argument is a violation kind
RULES = BOT / "sim" / "semantics.py"  # its *_breaks rules return the kind a machine then raises


def _kinds_in_code() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            first = node.args[0]
            if name in RAISERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                out.setdefault(first.value, f"{path.relative_to(BOT.parent)}:{node.lineno}")
    for fn in ast.walk(ast.parse(RULES.read_text())):
        if isinstance(fn, ast.FunctionDef) and fn.name.endswith("_breaks"):
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and node.value.value:
                    out.setdefault(node.value.value, f"bot/sim/semantics.py:{node.lineno}")
    return out


def test_every_raised_kind_is_an_invariant() -> None:
    found = _kinds_in_code()
    assert len(found) >= 15, found  # the scan sees the checks
    unnamed = {k: at for k, at in found.items() if k not in BY_ID}
    assert unnamed == {}


def test_every_invariant_is_checked_somewhere() -> None:
    found = _kinds_in_code()
    for inv in INVARIANTS:
        assert inv.sentence and (inv.litmus or inv.c), inv.id
        assert inv.id in found, f"{inv.id} is named but no model raises it"
