"""The C IR's expression and statement nodes: typed tuples (NamedTuple), the kind first.

cparse builds them, compile lowers the statements to instructions around the expressions (calls
hoisted out), the interpreter evaluates the expressions. Like the instructions of bot.cmodel.compile, each is a tuple whose first field
names its kind: the interpreter dispatches on `kind`, compares and hashes nodes as tuples (a frame's
lvalue is part of the state), and reads the rest by field name. `is_node` tells a node from the
lists and scalars inside it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Union


class Num(NamedTuple):
    kind: str  # "num"
    value: int


class Id(NamedTuple):
    kind: str  # "id": a local, global, constant, define or function name
    name: str


class Str(NamedTuple):
    kind: str  # "str": a string or character literal, as written
    text: str


class Field(NamedTuple):
    kind: str  # "field": base.name, or base->name when arrow
    base: Expr
    name: str
    arrow: bool


class Addr(NamedTuple):
    kind: str  # "addr": &inner
    inner: Expr


class Deref(NamedTuple):
    kind: str  # "deref": *inner
    inner: Expr


class Bin(NamedTuple):
    kind: str  # "bin"
    op: str
    left: Expr
    right: Expr


class Un(NamedTuple):
    kind: str  # "un": a prefix operator other than & and *
    op: str
    operand: Expr


class Cast(NamedTuple):
    kind: str  # "cast"
    type: str
    inner: Expr


class CallExpr(NamedTuple):
    kind: str  # "call": name "" calls through a pointer, args[0] being the pointer
    name: str
    args: list[Any]


class Cond(NamedTuple):
    kind: str  # "cond": test ? then : other
    test: Expr
    then: Expr
    other: Expr


class SizeOf(NamedTuple):
    kind: str  # "sizeof": of a type (or of an expression's text)
    type: str


class Index(NamedTuple):
    kind: str  # "index": base[index]
    base: Expr
    index: Expr


class Assign(NamedTuple):
    kind: str  # "assign": lhs op rhs, op "=" or a compound "+=" ...
    op: str
    lhs: Expr
    rhs: Expr


class Update(NamedTuple):
    kind: str  # "update": ++/-- on target
    op: str
    target: Expr
    prefix: bool


class TypeArg(NamedTuple):
    kind: str  # "type": a type or member name given as an argument (container_of)
    text: str


class Comma(NamedTuple):
    kind: str  # "comma"
    items: list[Any]


class Raw(NamedTuple):
    kind: str  # "raw": text the front end cannot read (evaluated as 0, reported)
    text: str


Expr = Union[Num, Id, Str, Field, Addr, Deref, Bin, Un, Cast, CallExpr, Cond, SizeOf, Index, Assign, Update,
             TypeArg, Comma, Raw]
_KINDS: dict[str, Any] = {"num": Num, "id": Id, "str": Str, "field": Field, "addr": Addr, "deref": Deref,
                          "bin": Bin, "un": Un, "cast": Cast, "call": CallExpr, "cond": Cond, "sizeof": SizeOf,
                          "index": Index, "assign": Assign, "update": Update, "type": TypeArg, "comma": Comma,
                          "raw": Raw}


NODE_TYPES = tuple(_KINDS.values())


# ---- statements: what cparse hands the lowering (bot.cmodel.compile), lines of the parsed text ----

class DeclStmt(NamedTuple):
    kind: str  # "decl": a local, with its initialiser (None: none)
    name: str
    type: str
    init: Expr | None
    line: int


class ExprStmt(NamedTuple):
    kind: str  # "expr"
    expr: Expr
    line: int


class IfStmt(NamedTuple):
    kind: str  # "if"
    cond: Expr
    then: list[Stmt]
    other: list[Stmt]  # the else branch ([] when there is none)
    line: int


class WhileStmt(NamedTuple):
    kind: str  # "while"
    cond: Expr
    body: list[Stmt]
    line: int


class DoStmt(NamedTuple):
    kind: str  # "do": the body, then the test (on its `while` line)
    body: list[Stmt]
    cond: Expr
    line: int


class ForStmt(NamedTuple):
    kind: str  # "for"
    init: list[Stmt]
    cond: Expr
    update: Expr | None
    body: list[Stmt]
    line: int


class ReturnStmt(NamedTuple):
    kind: str  # "return"
    value: Expr | None
    line: int


class SwitchStmt(NamedTuple):
    kind: str  # "switch": each case is ([value] or None for default, its statements)
    value: Expr
    cases: list[tuple[list[Expr] | None, list[Stmt]]]
    line: int


class BreakStmt(NamedTuple):
    kind: str  # "break"
    line: int


class ContinueStmt(NamedTuple):
    kind: str  # "continue"
    line: int


class LabelStmt(NamedTuple):
    kind: str  # "label"
    name: str
    line: int


class GotoStmt(NamedTuple):
    kind: str  # "goto"
    name: str
    line: int


class UnknownStmt(NamedTuple):
    kind: str  # "unknown": a statement the front end cannot read (reported, not run)
    text: str
    line: int


Stmt = Union[DeclStmt, ExprStmt, IfStmt, WhileStmt, DoStmt, ForStmt, ReturnStmt, SwitchStmt, BreakStmt,
             ContinueStmt, LabelStmt, GotoStmt, UnknownStmt]
STMT_TYPES = (DeclStmt, ExprStmt, IfStmt, WhileStmt, DoStmt, ForStmt, ReturnStmt, SwitchStmt, BreakStmt,
              ContinueStmt, LabelStmt, GotoStmt, UnknownStmt)


def node(*fields: Any) -> Expr:
    """A typed expression node from its fields, kind first: node("bin", "+", a, b)."""
    return _KINDS[fields[0]](*fields)


def is_node(x: object) -> bool:
    return isinstance(x, NODE_TYPES)


def rebuild(e: Any, fields: Any) -> Any:
    """e with new fields after its kind, keeping its node type (a plain tuple stays one)."""
    return e._make((e[0], *fields)) if is_node(e) else tuple((e[0], *fields))

