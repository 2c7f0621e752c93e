"""The C IR is typed: every expression of every model's compiled code is a node of bot.cmodel.ir,
down to its leaves, and still compares and hashes as the tuple it stands for."""

from __future__ import annotations

import pickle

import pytest

from bot.cmodel.compile import CallIns, EvalIns, JumpIfFalse, Return
from bot.cmodel.cparse import parse_expr_text
from bot.cmodel.ir import Bin, Field, Id, Num, is_node
from bot.cmodel.models import build_program, load_models


def _untyped(e: object, path: str) -> list[str]:
    """Tuples inside e that look like expressions (a kind first) but are not typed nodes."""
    if isinstance(e, list):
        return [bad for i, x in enumerate(e) for bad in _untyped(x, f"{path}[{i}]")]
    if not isinstance(e, tuple) or not e or not isinstance(e[0], str):
        return []
    here = [] if is_node(e) else [f"{path}: {e!r:.80}"]
    return here + [bad for i, x in enumerate(e[1:], 1) for bad in _untyped(x, f"{path}.{i}")]


@pytest.mark.parametrize("spec", load_models(), ids=lambda s: s.name)
def test_every_compiled_expression_is_a_typed_node(spec) -> None:
    program = build_program(spec, []).program
    bad: list[str] = []
    seen = 0
    for name, fn in program.functions.items():
        for pc, ins in enumerate(fn.code):
            parts = {CallIns: lambda i: [i.dst, *i.args], EvalIns: lambda i: [i.expr],
                     JumpIfFalse: lambda i: [i.cond], Return: lambda i: [i.expr]}.get(type(ins), lambda i: [])(ins)
            for e in parts:
                if e is not None:
                    seen += 1
                    bad += _untyped(e, f"{name}:{pc}")
    assert seen > 20, seen  # the walk sees the code
    assert bad == []


def test_nodes_read_by_name_and_behave_as_tuples() -> None:
    e = parse_expr_text("p->lru.next + 1")
    assert isinstance(e, Bin) and e.op == "+" and e.right == Num("num", 1)
    assert isinstance(e.left, Field) and e.left.name == "next" and not e.left.arrow
    assert isinstance(e.left.base, Field) and e.left.base.arrow and e.left.base.base == Id("id", "p")
    plain = ("bin", "+", ("field", ("field", ("id", "p"), "lru", True), "next", False), ("num", 1))
    assert e == plain and hash(e) == hash(plain) and e[0] == "bin"
    assert pickle.loads(pickle.dumps(e)) == e and type(pickle.loads(pickle.dumps(e))) is Bin


def _untyped_stmts(stmts: list, path: str) -> list[str]:
    from bot.cmodel.ir import STMT_TYPES, ForStmt, IfStmt, SwitchStmt

    bad = []
    for i, s in enumerate(stmts):
        here = f"{path}[{i}]"
        if not isinstance(s, STMT_TYPES):
            bad.append(f"{here}: {s!r:.80}")
            continue
        inner = ([s.then, s.other] if isinstance(s, IfStmt) else [s.init, s.body] if isinstance(s, ForStmt)
                 else [body for _, body in s.cases] if isinstance(s, SwitchStmt) else [getattr(s, "body", [])])
        for block in inner:
            bad += _untyped_stmts(block, here)
    return bad


def test_every_parsed_statement_is_a_typed_node() -> None:
    """The statements cparse hands the lowering, of every model's C sources, are ir statement nodes."""
    from bot.cmodel.cparse import parse_unit
    from bot.cmodel.ir import IfStmt
    from bot.paths import models_dir

    kinds: set[str] = set()
    bad: list[str] = []
    for path in sorted(models_dir().glob("*/*.c")):
        for name, fn in parse_unit(path.read_text()).functions.items():
            bad += _untyped_stmts(fn.body, f"{path.parent.name}/{path.name}:{name}")
            kinds |= {s.kind for s in fn.body}
    assert {"decl", "expr", "if", "return"} <= kinds, kinds
    assert bad == []
    s = parse_unit("int f(int x)\n{\n\tif (x)\n\t\treturn 1;\n\treturn 0;\n}\n").functions["f"].body[0]
    assert isinstance(s, IfStmt) and s.line == 3 and s.other == [] and s.then[0].kind == "return"
