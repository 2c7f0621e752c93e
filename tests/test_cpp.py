"""The preprocessor: #if against a config, macros as C defines them, includes from a tree, line for line."""

from __future__ import annotations

import pytest

from bot.cmodel.cpp import Config, PreprocessError, Preprocessor
from bot.cmodel.kconfig import ConfigError, parse_config

KCONFIG = r"""
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x)			___is_defined(x)
#define ___is_defined(val)		____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk)	__take_second_arg(arg1_or_junk 1, 0)
#define IS_BUILTIN(option) __is_defined(option)
"""


def run(src: str, options: dict | None = None, **kw) -> list[str]:
    pp = Preprocessor(Config(options=options or {}), **kw)
    out = pp.run(src, "t.c")
    assert len(out) == src.count("\n") + 1  # line for line
    return out


def test_object_and_function_macros_with_rescanning() -> None:
    out = run("#define __AC(X,Y) (X##Y)\n#define _AC(X,Y) __AC(X,Y)\n#define SHIFT 12\n"
              "#define SIZE (_AC(1, UL) << SHIFT)\n#define MASK (~(SIZE-1))\nx = MASK;\n")
    assert out[5] == "x = (~(((1UL) << 12)-1));"
    assert out[:5] == [""] * 5  # directives are blank lines


def test_stringize_paste_variadic_and_gnu_comma() -> None:
    out = run('#define S(x) #x\n#define C(a,b,c) a##b##c\n#define pr(fmt, ...) printk(fmt, ##__VA_ARGS__)\n'
              '#define V(args...) f(args)\n'
              's = S(a  +  "b"); C(x, y, z); pr("a"); pr("a", 1, 2); V(1, 2);\n')
    assert out[4] == 's = "a + \\"b\\""; xyz; printk("a"); printk("a", 1, 2); f(1, 2);'


def test_a_macro_never_expands_into_itself() -> None:
    assert run("#define foo foo + 1\n#define a b\n#define b a\nfoo; a;\n")[3] == "foo + 1; a;"


def test_the_kernels_is_enabled_trick_works_as_written() -> None:
    out = run(KCONFIG + "y = IS_BUILTIN(CONFIG_A) + IS_BUILTIN(CONFIG_B);\n", {"CONFIG_A": True})
    assert out[-2].replace(" ", "") == "y=1+0;"


def test_conditionals_follow_the_config() -> None:
    src = ("#ifdef CONFIG_A\nint a_on;\n#else\nint a_off;\n#endif\n"
           "#if defined(CONFIG_B) || IS_ENABLED(CONFIG_A) && SHIFT > 11\nint both;\n#elif 1\nint elif;\n#endif\n"
           "#if IS_MODULE(CONFIG_M)\nint mod;\n#endif\n#ifndef CONFIG_A\nint never;\n#endif\n")
    out = run("#define SHIFT 12\n" + src, {"CONFIG_A": True, "CONFIG_M": "m", "CONFIG_B": False})
    code = [ln for ln in out if ln]
    assert code == ["int a_on;", "int both;", "int mod;"]
    code = [ln for ln in run(src, {}) if ln]
    assert code == ["int a_off;", "int elif;", "int never;"]


def test_is_enabled_in_code_is_decided_by_the_config() -> None:
    out = run("if (!IS_ENABLED(CONFIG_DEBUG_VM) || !mask)\n", {"CONFIG_DEBUG_VM": True})
    assert out[0] == "if (!1 || !mask)"


def test_a_call_spanning_lines_lands_on_its_first_line() -> None:
    out = run("#define SHIFT 12\n#define F(a, b) g(a, b)\ncall(1,\n  SHIFT);\nx = F(1,\n  2); y;\n")
    assert [" ".join(ln.split()) for ln in out[2:]] == ["call(1,", "12);", "x = g(1, 2)", "; y;", ""]


def test_opaque_names_stay_calls() -> None:
    out = run("#define list_add(n, h) __list_add(n, (h)->prev, h)\n#define X 3\nlist_add(&p->lru, X);\n",
              opaque={"list_add"})
    assert out[2] == "list_add(&p->lru, 3);"


def test_includes_resolve_against_the_tree_with_asm_generic_fallback_and_guards() -> None:
    files = {
        "include/linux/a.h": "#ifndef _A\n#define _A\n#include <asm/b.h>\n#define FROM_A 1\n#endif\n",
        "include/asm-generic/b.h": '#define FROM_B 2\n#include "c.h"\n',
        "include/asm-generic/c.h": "#define FROM_C 3\n",
        "arch/x/include/asm/d.h": "#define FROM_D 4\n",
    }
    reads: list[str] = []

    def reader(path: str) -> str | None:
        reads.append(path)
        return files.get(path)

    pp = Preprocessor(Config(arch="x"), reader)
    out = pp.run("#include <linux/a.h>\n#include <linux/a.h>\n#include <asm/d.h>\n#include <linux/missing.h>\n"
                 "v = FROM_A + FROM_B + FROM_C + FROM_D;\n", "arch/x/mm/f.c")
    assert out[4] == "v = 1 + 2 + 3 + 4;"
    assert pp.missing == ["linux/missing.h"]
    assert reads.count("include/linux/a.h") == 1  # read once, and its guard skips the second include


def test_malformed_input_is_read_as_far_as_it_goes() -> None:
    out = run("#endif\n#else\n#if 1 +\nint a;\n#endif\n#define F(x) x\nF(1;\n#if 1\nint b;\n")
    assert out[6] == "F(1;"  # an unclosed argument list leaves the name as it was
    assert out[8] == "int b;"  # an unterminated #if ends with the file


def test_a_macro_bomb_is_bounded() -> None:
    src = "#define A0 x\n" + "".join(f"#define A{i} A{i - 1} A{i - 1}\n" for i in range(1, 30)) + "A29;\n"
    with pytest.raises(PreprocessError):
        run(src)


def test_include_depth_is_bounded() -> None:
    files = {"include/r.h": "#include <r2.h>\n", "include/r2.h": "#include <r.h>\n#define DEEP 1\n"}
    pp = Preprocessor(Config(), files.get)
    pp.run("#include <r.h>\nDEEP;\n", "f.c")
    assert any("nested deeper" in n for n in pp.notes)


@pytest.mark.parametrize("bad", [
    {"arch": "s390", "option": {}},
    {"options": {"PGSTE": True}},
    {"options": {"CONFIG_X": 1.5}},
    {"arch": "../x"},
    {"implicit_includes": ["../etc/passwd"]},
    {"defines": {"1x": "1"}},
])
def test_config_is_checked_on_load(bad: dict) -> None:
    with pytest.raises(ConfigError):
        parse_config(bad, "models/x/config.toml")


def test_every_models_config_loads() -> None:
    from bot.cmodel.models import load_models

    specs = [s for s in load_models() if s.config is not None]
    assert any(s.config.arch == "s390" and s.config.enabled("CONFIG_TRANSPARENT_HUGEPAGE") for s in specs)
