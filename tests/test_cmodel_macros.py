"""Function-like macros a posting defines run as what they expand to when the model has no config."""

from __future__ import annotations

from bot.cmodel.macros import expand_call_macros
from bot.cmodel.program import SourceLine


def _lines(text: str) -> list[SourceLine]:
    return [SourceLine("f.c", i + 1, t, True, True) for i, t in enumerate(text.splitlines())]


def test_a_call_wrapper_expands_in_place_with_its_arguments() -> None:
    out = expand_call_macros(_lines("#define save(f)\tlocal_irq_save(f)\n\tsave(flags); x = 1;\n"))
    assert out[1].text == "\tlocal_irq_save(flags); x = 1;"
    assert out[1].line == 2 and out[0].text.startswith("#define")


def test_of_an_if_else_pair_the_last_definition_counts_and_an_empty_one_is_nothing() -> None:
    text = "#ifdef CONFIG_X\n#define w(f) g(f)\n#else\n#define w(f)\n#endif\n\tw(a, b);\n\tw(h(1, 2));\n"
    out = expand_call_macros(_lines(text))
    assert out[5].text == "\tw(a, b);"  # two arguments for one parameter: left alone
    assert out[6].text == "\t0;"


def test_a_macro_with_a_statement_body_is_left_alone() -> None:
    text = "#define m(x) x = 2\n\tm(y);\n"
    assert [sl.text for sl in expand_call_macros(_lines(text))] == text.splitlines()
