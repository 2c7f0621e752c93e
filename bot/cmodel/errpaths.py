"""Where a function's error paths run: from a call that may fail (rules/primitives.toml `may_fail`,
or a function of the program that makes such a call) along the branches taken when it returned 0,
up to the function's return. A patch that changes those lines changes an error path: the model's
allocation path is then run failing against the other paths of its object (bot.cmodel.lifetime)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.cmodel.compile import Instr
from bot.cmodel.effect_api import Primitive
from bot.cmodel.ir import Assign, Bin, Cast, Id, Num, Un
from bot.cmodel.program import Program


def failing_functions(prog: Program, prims: Mapping[str, Primitive]) -> frozenset[str]:
    """The calls that may fail: the primitives marked so, and the program's functions that call one
    (transitively), whose callers see the failure as their result."""
    fails = {n for n, p in prims.items() if p.may_fail and n not in prog.functions}
    while True:
        more = {fn for fn, code in prog.functions.items() if fn not in fails
                and any(ins[0] == "call" and ins.name in fails for ins in code.code)}
        if not more:
            return frozenset(fails)
        fails |= more


def error_path_lines(prog: Program, fn: str, fails: frozenset[str]) -> set[int]:
    """The lines of fn that run when one of its calls that may fail fails (that call's own line
    included)."""
    code = prog.functions[fn].code
    out: set[int] = set()
    for pc, ins in enumerate(code):
        if ins[0] == "call" and ins.dst is not None and ins.name in fails:
            out.add(ins.line)
            out |= _after_failure(code, pc + 1, ins.dst)
    return out


def _after_failure(code: list[Instr], start: int, dst: tuple) -> set[int]:
    tainted = {dst.name} if isinstance(dst, Id) else set()
    lines: set[int] = set()
    seen: set[tuple[int, frozenset[str]]] = set()
    todo = [(start, frozenset(tainted))]
    while todo:
        pc, names = todo.pop()
        if pc >= len(code) or (pc, names) in seen:
            continue
        seen.add((pc, names))
        ins = code[pc]
        lines.add(ins.line)
        op = ins[0]
        if op == "ret":
            continue
        if op == "jmp":
            todo.append((ins.target, names))
        elif op == "jf":
            holds = _if_zero(ins.cond, names)
            if holds is not False:
                todo.append((pc + 1, names))
            if holds is not True:
                todo.append((ins.target, names))
        else:
            e = ins.expr if op == "eval" else None
            if isinstance(e, Assign) and isinstance(e.lhs, Id):  # the result copied, or overwritten
                names = names | {e.lhs.name} if _if_zero(e.rhs, names) is False else names - {e.lhs.name}
            todo.append((pc + 1, names))
    return lines


def _if_zero(e: tuple, names: frozenset[str]) -> bool | None:
    """The truth of e when the failed result (every name in names) is 0; None: unknown."""
    if isinstance(e, Id):
        return False if e.name in names else None
    if isinstance(e, Cast):
        return _if_zero(e.inner, names)
    if isinstance(e, Un) and e.op == "!":
        v = _if_zero(e.operand, names)
        return None if v is None else not v
    if isinstance(e, Bin) and e.op in ("==", "!=") and isinstance(e.right, Num) and e.right.value == 0:
        v = _if_zero(e.left, names)
        return None if v is None else (not v if e.op == "==" else v)
    return None
