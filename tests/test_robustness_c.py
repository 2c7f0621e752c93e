"""Robustness of the C layer: bot.cmodel.cparse.parse_unit and bot.cmodel.compile.compile_function must
return (never raise) on any text: arbitrary strings, mutations of the models' own C sources, and
generated C of bounded nesting with odd literals. The crashes these tests found are kept below as
regression tests, each with its minimal reproducer."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cmodel.compile import compile_function
from bot.cmodel.cparse import CUnit, parse_unit
from bot.paths import models_dir

# Deterministic in CI (the same examples every run, no example database written into the checkout).
# For a deeper local search: ROBUSTNESS_EXAMPLES=5000 ROBUSTNESS_RANDOM=1 python -m pytest tests/test_robustness_*.py
PROPERTY = settings(max_examples=int(os.environ.get("ROBUSTNESS_EXAMPLES", "150")), deadline=None,
                    derandomize=os.environ.get("ROBUSTNESS_RANDOM") != "1", database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_and_compile(text: str) -> CUnit:
    unit = parse_unit(text)
    assert isinstance(unit, CUnit)
    for fn in unit.functions.values():
        compile_function(fn)
    return unit


def _model_sources() -> list[str]:
    return [p.read_text() for p in sorted(models_dir().glob("*/*.c"))]


SOURCES = _model_sources()

# ---- arbitrary text -----------------------------------------------------------------------------


@PROPERTY
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    parse_and_compile(text)


_C_CHARS = st.sampled_from(list("{}();,=*&->+!~?:[]#\"'\\/\n\t ") + ["if", "else", "while", "for", "do", "switch",
                                                                       "case", "default", "return", "goto",
                                                                       "break", "continue", "struct", "void",
                                                                       "int", "x", "0", "1e3", "0x", "sizeof",
                                                                       "#if", "#endif", "/*", "*/", "//"])


@PROPERTY
@given(st.lists(_C_CHARS, max_size=200).map("".join))
def test_token_soup(text: str) -> None:
    parse_and_compile("void f(int x) {" + text + "}")
    parse_and_compile(text)


# ---- mutations of real C (the models' reference sources) -----------------------------------------


@PROPERTY
@given(st.data())
def test_mutated_model_sources(data: st.DataObject) -> None:
    assert SOURCES, "no C sources under models/"
    text = data.draw(st.sampled_from(SOURCES))
    for _ in range(data.draw(st.integers(1, 4))):
        n = len(text)
        i = data.draw(st.integers(0, n))
        j = data.draw(st.integers(i, min(n, i + 400)))
        op = data.draw(st.sampled_from(["delete", "duplicate", "insert", "truncate", "swap"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "insert":
            text = text[:i] + data.draw(st.lists(_C_CHARS, max_size=12).map("".join)) + text[i:]
        elif op == "truncate":
            text = text[:i]
        else:
            k = data.draw(st.integers(j, min(n, j + 400)))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
    parse_and_compile(text)


def test_model_sources_parse() -> None:
    for text in SOURCES:
        parse_and_compile(text)


# ---- generated C of bounded nesting -------------------------------------------------------------

_IDENT = st.sampled_from(["a", "b", "page", "mm", "table", "mask", "bit", "x", "pgtable"])
# Literals as they come in real code and a few that are legal C but odd (huge exponents: see below).
_NUM = st.sampled_from(["0", "1", "0x0CU", "0x03U", "3UL", "0xFFFFFFFFFFFFFFFFFFFFULL", "08", "0b101", "1.5",
                        "1e3", "2.0f", "'\\0'", "'x'", "0x", "1e", ".5", "1e999", "0x1p99999"])


def _exprs() -> st.SearchStrategy[str]:
    leaf = st.one_of(_IDENT, _NUM, st.just("NULL"), st.just('"s"'))

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "&", "|", "^", "<<", ">>", "&&", "||", "==", "!=", "<",
                                              "%", "/", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["!", "~", "-", "*", "&", "++", "--", "sizeof "]), inner).map("".join),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
            st.tuples(inner, st.sampled_from(["->", "."]), _IDENT).map("".join),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(st.sampled_from(["call_rcu", "atomic_xor_bits", "list_del", "mmdrop", "f", "container_of",
                                       "virt_to_page", "spin_lock_bh", "__free_page", "(*fp)"]),
                      st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(st.sampled_from(["(unsigned long)", "(struct page *)", "(void *)"]), inner).map("".join),
            st.tuples(inner, st.sampled_from(["=", "+=", "|=", "&=", "^=", "<<="]), inner).map(" ".join),
        )

    return st.recursive(leaf, extend, max_leaves=12)


def _stmts() -> st.SearchStrategy[str]:
    e = _exprs()
    leaf = st.one_of(
        e.map(lambda x: f"{x};"),
        st.tuples(st.sampled_from(["int", "unsigned long", "struct page *", "pgtable_t", "void *"]), _IDENT, e)
        .map(lambda t: f"{t[0]} {t[1]} = {t[2]};"),
        st.sampled_from(["return;", "return 0;", "break;", "continue;", ";", "goto out;", "out:;",
                         "while (1);", "for (;;) ;", "do { } while (0);", "#ifdef CONFIG_X\n", "#endif\n",
                         "asm volatile(\"\" ::: \"memory\");", "case 1:", "default:"]),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        block = st.lists(inner, max_size=4).map(lambda xs: "{ " + " ".join(xs) + " }")
        return st.one_of(
            st.tuples(e, block).map(lambda t: f"if ({t[0]}) {t[1]}"),
            st.tuples(e, block, block).map(lambda t: f"if ({t[0]}) {t[1]} else {t[2]}"),
            st.tuples(e, block).map(lambda t: f"while ({t[0]}) {t[1]}"),
            st.tuples(block, e).map(lambda t: f"do {t[0]} while ({t[1]});"),
            st.tuples(e, e, block).map(lambda t: f"for ({t[0]}; {t[1]}; ) {t[2]}"),
            st.tuples(e, st.lists(st.tuples(_NUM, block), max_size=3)).map(
                lambda t: f"switch ({t[0]}) {{ " + " ".join(f"case {v}: {b} break;" for v, b in t[1]) + " }"),
            block,
        )

    return st.recursive(leaf, extend, max_leaves=20)


@PROPERTY
@given(st.lists(_stmts(), max_size=6), st.sampled_from(["void", "static int", "unsigned long *", "struct page *"]))
def test_generated_functions(body: list[str], ret: str) -> None:
    text = f"{ret} pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)\n{{\n" + "\n".join(body) + "\n}\n"
    unit = parse_and_compile(text)
    assert "pte_free_defer" in unit.functions or unit.errors is not None


@PROPERTY
@given(st.lists(_stmts(), max_size=4), st.integers(0, 6))
def test_generated_functions_cut(body: list[str], cut: int) -> None:
    """A function cut short, as a hunk shows it: the tail lines are missing."""
    lines = ["void f(int a)", "{"] + "\n".join(body).split("\n") + ["}"]
    parse_and_compile("\n".join(lines[: max(1, len(lines) - cut)]))


# ---- pathological inputs that must still return ------------------------------------------------


@pytest.mark.parametrize("text", [
    "",
    "\x00" * 100,
    "void f(void) { while (1); }",
    "void f(void) { for (;;) {} }",
    "void f(void) { l: goto l; }",
    "void f(int a) { switch (a) ; }",
    "void f(int a) { case 1: break; }",
    "void f(int a) { a = container_of(; }",
    "void f(int a) { a = 0x; }",
    "void f(int a) { a = \"\ud800\"; }",
    "void f(int a) {" + "if (a) {" * 200 + "a++;" + "}" * 200 + "}",
    "void f(int a) {" + "a++;" * 20000 + "}",
    "int f(int a) { return " + " ? ".join(["a"] * 50) + " : 0" * 49 + "; }",
], ids=["empty", "nul", "while1", "for-ever", "goto-self", "switch-no-body", "case-outside-switch",
        "broken-container-of", "bare-0x", "lone-surrogate", "200-nested-ifs", "20000-statements",
        "50-nested-conditionals"])
def test_pathological_returns(text: str) -> None:
    parse_and_compile(text)


def test_float_literal_overflow() -> None:
    """Regression: parse_number did int(float("1e999")) -> OverflowError (fixed in dde73e2)."""
    parse_and_compile("void f(void) { int x = 1e999; }")


def test_deeply_nested_ifs() -> None:
    """Regression: _stmt/_stmts/expr recursed once per nesting level -> RecursionError (fixed in dde73e2)."""
    parse_and_compile("void f(int a) {" + "if (a) {" * 2000 + "a++;" + "}" * 2000 + "}")


def test_long_expression() -> None:
    """Regression: expr recursed once per operand of a long sum -> RecursionError (fixed in dde73e2)."""
    parse_and_compile("void f(int a) { a = " + " + ".join(["a"] * 20000) + "; }")
