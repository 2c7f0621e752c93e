"""Dataclass methods from the table (bot.classcode) are the methods @dataclass compiles itself, and
the table written by one process is read back by the next."""

from __future__ import annotations

import collections
import dataclasses
import marshal
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from bot import classcode


def _point() -> type:
    @dataclasses.dataclass(frozen=True)
    class Point:
        __module__ = "bot.classcode"  # a class of the package's own: only those go through the table
        x: int
        y: int = 0
        tags: tuple[str, ...] = ()

    return Point


def test_dataclasses_exec_goes_through_the_table() -> None:
    assert getattr(dataclasses, "exec", None) is classcode._exec  # installed by importing bot
    Point = _point()
    assert any("_type_tags" in source for source in classcode._used)  # Point's __init__ came through it
    p = Point(1)
    assert (p, repr(p), hash(p) == hash(Point(1, 0))) == \
        (Point(1, 0, ()), f"{Point.__qualname__}(x=1, y=0, tags=())", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]

    @dataclasses.dataclass
    class Other:  # this test module's own: compiled as without the table
        only_here_field: int

    assert Other(1).only_here_field == 1
    assert not any("only_here_field" in source for source in classcode._codes)


def _methods(cls: type) -> dict[str, tuple]:
    out = {}
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        fn = getattr(getattr(cls, name), "__wrapped__", getattr(cls, name))  # __repr__ is wrapped
        c = fn.__code__
        out[name] = (c.co_code, c.co_consts, c.co_names, c.co_varnames, c.co_flags, c.co_filename,
                     fn.__annotations__)
    return out


def test_methods_are_those_dataclass_compiles_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    _point()  # its sources in the table
    with_table = _methods(_point())
    monkeypatch.delattr(dataclasses, "exec")  # the builtin exec(), as without bot.classcode
    assert _methods(_point()) == with_table


def test_table_is_written_and_read_back(tmp_path: Path) -> None:
    # a process of its own with the bytecode under tmp_path: the first writes the table, the
    # second finds every source of its dataclasses in it and writes nothing
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PATH": "/usr/bin:/bin"}
    prog = ("import bot.findings, bot.classcode as c, sys; "
            "print(c._state['new'], len(c._used), len(c._used & set(c._codes)))")
    first = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parent.parent)
    (table,) = list(tmp_path.rglob("dataclass-methods.*.marshal"))
    sources = marshal.loads(table.read_bytes())
    assert first.stdout.split()[0] == "True" and sources
    second = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent)
    new, used, found = second.stdout.split()
    assert new == "False" and used == found and int(used) > 0


def test_no_table_without_bytecode(tmp_path: Path) -> None:
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", "import bot.findings"], env=env, check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    assert not list(tmp_path.rglob("dataclass-methods.*"))


def test_unreadable_table_is_compiled_again(tmp_path: Path) -> None:
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cwd = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", "import bot.findings"], env=env, check=True, cwd=cwd)
    (table,) = list(tmp_path.rglob("dataclass-methods.*.marshal"))
    table.write_bytes(b"\x00garbage")
    res = subprocess.run([sys.executable, "-c", "import bot.findings; print(bot.findings.Finding.__init__)"],
                         env=env, capture_output=True, text=True, check=True, cwd=cwd)
    assert "Finding.__init__" in res.stdout and marshal.loads(table.read_bytes())


_NODE = '''
from __future__ import annotations
from typing import NamedTuple

class Node(NamedTuple):
    kind: str
    left: Node | None
    items: list[tuple[int, str]]
'''


def _node(name: str) -> type:
    ns: dict = {"__name__": name}
    exec(compile(_NODE, f"<{name}>", "exec", dont_inherit=True), ns)  # as a module of that name runs it
    return ns["Node"]


def _node_code(cls: type) -> tuple:
    def key(c: Any) -> tuple:
        return (c.co_code, c.co_consts, c.co_names, c.co_varnames, c.co_flags, c.co_filename)
    return (key(cls.__new__.__code__),
            tuple((n, key(t.__forward_code__)) for n, t in cls.__annotations__.items()))


def test_a_namedtuple_of_ours_is_compiled_as_without_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    assert getattr(typing, "compile", None) is classcode._compile
    assert getattr(collections, "eval", None) is classcode._eval
    ours = _node("bot.node_for_the_test")
    assert "\0eval\0Node | None" in classcode._used and any("_tuple_new" in k for k in classcode._used)
    assert _node_code(_node("bot.node_for_the_test")) == _node_code(ours)
    monkeypatch.delattr(typing, "compile")  # the builtins, as without bot.classcode
    monkeypatch.delattr(collections, "eval")
    assert _node_code(_node("bot.node_for_the_test")) == _node_code(ours)
    n = ours("k", None, [(1, "a")])
    assert (n.kind, n.left, n.items, n._replace(kind="j")[0]) == ("k", None, [(1, "a")], "j")


def test_another_modules_namedtuple_is_not_kept() -> None:
    class Elsewhere(NamedTuple):  # this test module's own: compiled as without the table
        only_here_annotation: "OnlyHereType"  # noqa: F821

    assert not any("OnlyHereType" in k or "only_here_annotation" in k for k in classcode._codes)
