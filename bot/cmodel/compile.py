"""Lower the cparse AST (the typed statement nodes of bot.cmodel.ir) to a flat instruction list with calls hoisted out of expressions.

A thread's continuation is then just (function, pc, locals): hashable, so the checker can store it.
Instructions are typed tuples (NamedTuple: read by field name, still compared and indexed as
tuples); the first field names the kind, so the interpreter dispatches on it. Expressions are the
typed nodes of bot.cmodel.ir, call-free once lowered. A goto becomes a Jump to its label's first instruction
(kernel error paths: `goto out;`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Union

from bot.cmodel.cparse import CFunction
from bot.cmodel.ir import (
    Addr,
    Assign,
    Bin,
    BreakStmt,
    CallExpr,
    Cast,
    Comma,
    Cond,
    ContinueStmt,
    DeclStmt,
    Deref,
    DoStmt,
    Expr,
    ExprStmt,
    Field,
    ForStmt,
    GotoStmt,
    Id,
    IfStmt,
    Index,
    LabelStmt,
    Num,
    ReturnStmt,
    Stmt,
    SwitchStmt,
    Un,
    UnknownStmt,
    Update,
    WhileStmt,
    is_node,
)


class CallIns(NamedTuple):
    op: str  # "call"
    dst: tuple | None  # the lvalue that receives the result
    name: str  # callee; "" for a call through a pointer (args[0] is the pointer)
    args: list[Any]  # call-free expressions (type arguments as ("type", text))
    line: int


class EvalIns(NamedTuple):
    op: str  # "eval": a call-free expression evaluated for its side effects
    expr: tuple
    line: int


class JumpIfFalse(NamedTuple):
    op: str  # "jf"
    cond: tuple
    target: int
    line: int


class Jump(NamedTuple):
    op: str  # "jmp"
    target: int
    line: int


class Return(NamedTuple):
    op: str  # "ret"
    expr: tuple | None
    line: int


class Decl(NamedTuple):
    op: str  # "decl": declares a local (its type drives pointer arithmetic)
    name: str
    type: str
    line: int


class Note(NamedTuple):
    op: str  # "note": code the interpreter does not model (reported, not run)
    text: str
    line: int


Instr = Union[CallIns, EvalIns, JumpIfFalse, Jump, Return, Decl, Note]
_KINDS: dict[str, Any] = {"call": CallIns, "eval": EvalIns, "jf": JumpIfFalse, "jmp": Jump, "ret": Return,
                          "decl": Decl, "note": Note}


def instr(*fields: Any) -> Instr:
    """A typed instruction from its fields, kind first: instr("jmp", 7, line)."""
    return _KINDS[fields[0]](*fields)


@dataclass
class Compiled:
    name: str
    params: list[tuple[str, str]]
    ret: str
    code: list[Instr]
    local_types: dict[str, str]
    line: int


class _Lowerer:
    def __init__(self) -> None:
        self.code: list[Instr] = []
        self.tmp = 0
        self.types: dict[str, str] = {}
        self.breaks: list[list[int]] = []
        self.continues: list[list[int]] = []
        self.labels: dict[str, int] = {}
        self.gotos: list[tuple[int, str, int]] = []  # (jump instruction, label, line)

    def temp(self) -> Id:
        self.tmp += 1
        return Id("id", f"$t{self.tmp}")

    def emit(self, ins: tuple) -> int:
        self.code.append(instr(*ins))
        return len(self.code) - 1

    def patch(self, at: int, target: int) -> None:
        ins = self.code[at]
        assert isinstance(ins, JumpIfFalse | Jump)
        self.code[at] = ins._replace(target=target)

    # expressions ------------------------------------------------------------------------------
    # One branch per expression kind of the C subset; each lowers its operands the same way, and a
    # table of one-line functions would spread a single grammar over many places.
    def pure(self, e: Expr, line: int) -> Expr:  # noqa: C901
        """Emit the calls inside e and return an equivalent call-free expression."""
        k = e.kind
        if isinstance(e, CallExpr):
            t = self.temp()
            self.emit(("call", t, e.name, self.args(e, line), line))
            return t
        if k in ("num", "id", "str", "sizeof", "type", "raw"):
            return e
        if isinstance(e, Field):
            return e._replace(base=self.pure(e.base, line))
        if isinstance(e, Addr | Deref):
            return e._replace(inner=self.pure(e.inner, line))
        if isinstance(e, Bin):
            if e.op in ("&&", "||") and _has_call(e.right):
                return self.short_circuit(e, line)
            return e._replace(left=self.pure(e.left, line), right=self.pure(e.right, line))
        if isinstance(e, Un):
            return e._replace(operand=self.pure(e.operand, line))
        if isinstance(e, Cast):
            return e._replace(inner=self.pure(e.inner, line))
        if isinstance(e, Cond):
            if _has_call(e.then) or _has_call(e.other):
                t = self.temp()
                c = self.pure(e.test, line)
                jf = self.emit(("jf", c, -1, line))
                self.assign(t, e.then, line)
                j = self.emit(("jmp", -1, line))
                self.patch(jf, len(self.code))
                self.assign(t, e.other, line)
                self.patch(j, len(self.code))
                return t
            return e._replace(test=self.pure(e.test, line), then=self.pure(e.then, line),
                              other=self.pure(e.other, line))
        if isinstance(e, Index):
            return e._replace(base=self.pure(e.base, line), index=self.pure(e.index, line))
        if isinstance(e, Assign):
            if e.op == "=" and isinstance(e.rhs, CallExpr):
                args = self.args(e.rhs, line)
                lhs = self.pure(e.lhs, line)
                self.emit(("call", lhs, e.rhs.name, args, line))
                return lhs
            rhs = self.pure(e.rhs, line)
            lhs = self.pure(e.lhs, line)
            self.emit(("eval", e._replace(lhs=lhs, rhs=rhs), line))
            return lhs
        if isinstance(e, Update):
            inner = self.pure(e.target, line)
            if e.prefix:  # prefix: value after the update
                self.emit(("eval", e._replace(target=inner), line))
                return inner
            t = self.temp()
            self.emit(("eval", Assign("assign", "=", t, inner), line))
            self.emit(("eval", e._replace(target=inner, prefix=True), line))
            return t
        if isinstance(e, Comma):
            last: Expr = Num("num", 0)
            for sub in e.items:
                last = self.pure(sub, line)
                if sub is not e.items[-1]:
                    self.emit(("eval", last, line))
            return last
        return e

    def args(self, call: CallExpr, line: int) -> list[Expr]:
        """A call's arguments, call-free (type and member names stay as they are)."""
        return [a if a.kind == "type" else self.pure(a, line) for a in call.args]

    def short_circuit(self, e: Bin, line: int) -> Expr:
        t = self.temp()
        left = self.pure(e.left, line)
        if e.op == "&&":
            self.emit(("eval", Assign("assign", "=", t, Num("num", 0)), line))
            jf = self.emit(("jf", left, -1, line))
        else:
            self.emit(("eval", Assign("assign", "=", t, Num("num", 1)), line))
            jf = self.emit(("jf", Un("un", "!", left), -1, line))
        right = self.pure(e.right, line)
        self.emit(("eval", Assign("assign", "=", t, Bin("bin", "!=", right, Num("num", 0))), line))
        self.patch(jf, len(self.code))
        return t

    def assign(self, dst: Expr, e: Expr, line: int) -> None:
        if isinstance(e, CallExpr):
            self.emit(("call", dst, e.name, self.args(e, line), line))
        else:
            self.emit(("eval", Assign("assign", "=", dst, self.pure(e, line)), line))

    # statements -------------------------------------------------------------------------------
    def block(self, stmts: list[Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    # One branch per statement kind of the C subset (see pure()).
    def stmt(self, s: Stmt) -> None:  # noqa: C901
        if isinstance(s, DeclStmt):
            self.types[s.name] = s.type
            self.emit(("decl", s.name, s.type, s.line))
            if s.init is not None:
                self.assign(Id("id", s.name), s.init, s.line)
        elif isinstance(s, ExprStmt):
            e, line = s.expr, s.line
            if isinstance(e, CallExpr):
                self.emit(("call", None, e.name, self.args(e, line), line))
            else:
                v = self.pure(e, line)
                if not isinstance(e, Assign | Update):
                    self.emit(("eval", v, line))
        elif isinstance(s, IfStmt):
            cond = self.pure(s.cond, s.line)
            jf = self.emit(("jf", cond, -1, s.line))
            self.block(s.then)
            if s.other:
                j = self.emit(("jmp", -1, s.line))
                self.patch(jf, len(self.code))
                self.block(s.other)
                self.patch(j, len(self.code))
            else:
                self.patch(jf, len(self.code))
        elif isinstance(s, WhileStmt | ForStmt | DoStmt):
            self.loop(s)
        elif isinstance(s, ReturnStmt):
            self.emit(("ret", self.pure(s.value, s.line) if s.value is not None else None, s.line))
        elif isinstance(s, SwitchStmt):
            self.switch(s)
        elif isinstance(s, BreakStmt):
            if self.breaks:
                self.breaks[-1].append(self.emit(("jmp", -1, s.line)))
        elif isinstance(s, ContinueStmt):
            if self.continues:
                self.continues[-1].append(self.emit(("jmp", -1, s.line)))
        elif isinstance(s, LabelStmt):
            self.labels.setdefault(s.name, len(self.code))
        elif isinstance(s, GotoStmt):
            self.gotos.append((self.emit(("jmp", -1, s.line)), s.name, s.line))
        elif isinstance(s, UnknownStmt):
            if not _is_case_label(s.text):
                self.emit(("note", s.text, s.line))

    def link_gotos(self) -> None:
        for at, label, line in self.gotos:
            if label in self.labels:
                self.patch(at, self.labels[label])
            else:  # a jump to a label the hunks do not show: what follows is unknown
                self.code[at] = instr("note", f"goto {label} (label not shown)", line)

    def loop(self, s: WhileStmt | ForStmt | DoStmt) -> None:
        line = s.line
        if isinstance(s, ForStmt):
            self.block(s.init)
        self.breaks.append([])
        self.continues.append([])
        top = len(self.code)
        if isinstance(s, DoStmt):
            self.block(s.body)
            cont = len(self.code)
            cond = self.pure(s.cond, line)
            jf = self.emit(("jf", cond, -1, line))
            self.emit(("jmp", top, line))
        else:
            cond = self.pure(s.cond, line)
            jf = self.emit(("jf", cond, -1, line))
            self.block(s.body)
            cont = len(self.code)
            if isinstance(s, ForStmt) and s.update is not None:
                self.emit(("eval", self.pure(s.update, line), line))
            self.emit(("jmp", top, line))
        end = len(self.code)
        self.patch(jf, end)
        for j in self.breaks.pop():
            self.patch(j, end)
        for j in self.continues.pop():
            self.patch(j, cont)

    def switch(self, s: SwitchStmt) -> None:
        line = s.line
        v = self.temp()
        self.emit(("eval", Assign("assign", "=", v, self.pure(s.value, line)), line))
        self.breaks.append([])
        body_jumps: list[int] = []
        default_jump: int | None = None
        for values, _stmts in s.cases:
            if values is None:
                body_jumps.append(-1)
                continue
            cond = Bin("bin", "!=", v, values[0])
            body_jumps.append(self.emit(("jf", cond, -1, line)))
        default_jump = self.emit(("jmp", -1, line))
        for i, (values, stmts) in enumerate(s.cases):
            here = len(self.code)
            if values is None:
                self.patch(default_jump, here)
                default_jump = None
            else:
                self.patch(body_jumps[i], here)
            self.block(stmts)
        end = len(self.code)
        if default_jump is not None:
            self.patch(default_jump, end)
        for j in self.breaks.pop():
            self.patch(j, end)


def _is_case_label(text: str) -> bool:
    return bool(text) and all(ch.isalnum() or ch in "xXuUlL" for ch in text)


def _has_call(e: Expr) -> bool:
    if isinstance(e, CallExpr):
        return True
    return any(is_node(x) and _has_call(x) for x in e[1:]) or any(
        isinstance(x, list) and any(is_node(y) and _has_call(y) for y in x) for x in e[1:])


def compile_function(fn: CFunction) -> Compiled:
    lw = _Lowerer()
    for name, ty in fn.params:
        lw.types[name] = ty
    lw.block(fn.body)
    lw.emit(("ret", None, fn.end_line))
    lw.link_gotos()
    return Compiled(fn.name, fn.params, fn.ret, lw.code, lw.types, fn.line)
