"""Dataclass methods and NamedTuple code compiled once, not in every process: kept beside the
package's bytecode.

The standard library's @dataclass writes the source of each class's __init__, __repr__, __eq__ ...
and compiles it with exec() when the class is created, in every process: the eighty dataclasses a
one-patch check imports spent ~20 ms compiling, a twentieth of the whole check. Here that exec()
looks the source up in a table of code objects, which is kept where Python keeps the package's own
bytecode (bot/__pycache__, or under PYTHONPYCACHEPREFIX) and written when a source was new. Only
the package's own classes go through it (a test's or another library's are compiled as usual).

The code is the same either way: the same source compiled as exec() compiles it (no inherited
__future__ flags, file "<string>"), keyed by the whole source and by the interpreter's cache tag.
Where bytecode is not written (PYTHONDONTWRITEBYTECODE, a read-only install) nothing is written.

A NamedTuple costs two more compilations: typing compiles each of its (string) annotations into a
ForwardRef, and collections.namedtuple evaluates the source of its __new__ (the IR's 32 node types
and the others on a check's path: ~230 compilations, ~2.5 ms). Those go through the same table, as
typing's compile() and collections' eval() compile them (mode "eval", file "<string>", neither
module has __future__ flags), when a module of the package's own is making the class.
"""

from __future__ import annotations

import atexit
import builtins
import collections
import dataclasses
import marshal
import sys
import typing
from types import CodeType
from typing import Any

from bot.sidefile import beside_bytecode, write_quietly

MAX_ENTRIES = 4000  # past this (sources of older code piling up), only this process's are kept
_codes: dict[str, CodeType] = {}
_used: set[str] = set()
_state: dict[str, Any] = {"path": None, "new": False}


def _path() -> str | None:
    return beside_bytecode(__file__, "dataclass-methods.{tag}.marshal")


def _code(source: str, mode: str) -> CodeType:
    """source compiled in mode, once: as exec()/eval() of a string compile it in a module without
    __future__ flags (this one has some: they are not inherited), file "<string>"."""
    key = source if mode == "exec" else f"\0{mode}\0{source}"  # no source holds a NUL
    code = _codes.get(key)
    if code is None:
        code = _codes[key] = compile(source, "<string>", mode, dont_inherit=True)
        _state["new"] = True
    _used.add(key)
    return code


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: dict[str, Any] | None = None, /) -> None:
    """exec() as dataclasses calls it, with its source's code object compiled once."""
    if isinstance(source, str) and (globals or {}).get("__name__", "").startswith("bot."):  # ours alone
        source = _code(source, "exec")
    builtins.exec(source, globals, locals)


def _ours() -> bool:
    """Whether a module of the package's own is among the few callers above typing's or collections'
    frame: the class being made is one of ours."""
    f = sys._getframe(2)
    for _ in range(MAX_DEPTH):
        if f is None:
            return False
        if f.f_globals.get("__name__", "").startswith("bot."):
            return True
        f = f.f_back
    return False


MAX_DEPTH = 10  # a module's NamedTuple: typing's compile() is 8 frames below the class statement


def _compile(source: Any, filename: Any, mode: str, flags: int = 0, dont_inherit: bool = False,
             optimize: int = -1) -> Any:
    """compile() as typing calls it for a ForwardRef (source, "<string>", "eval"); typing has no
    __future__ flags to inherit, so neither does any other call made through here."""
    if type(source) is str and filename == "<string>" and mode == "eval" and not flags and optimize == -1 \
            and _ours():
        return _code(source, "eval")
    return builtins.compile(source, filename, mode, flags, True, optimize)


def _eval(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> Any:
    """eval() as collections.namedtuple calls it for a __new__, with the code compiled once."""
    if globals is None:  # as the builtin: in the caller's namespace, not this module's
        caller = sys._getframe(1)
        globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
    if type(source) is str:
        source = _code(source, "eval") if _ours() else builtins.compile(source, "<string>", "eval",
                                                                          dont_inherit=True)
    return builtins.eval(source, globals, locals)


def _save() -> None:
    path = _state["path"]
    if not _state["new"] or path is None or sys.dont_write_bytecode:
        return
    keep = _codes if len(_codes) <= MAX_ENTRIES else {s: _codes[s] for s in _used}
    write_quietly(path, marshal.dumps(keep))


def install() -> None:
    """Route @dataclass's exec() through the table, read from disk once; written at exit if it grew."""
    if getattr(dataclasses, "exec", None) is _exec:
        return
    path = _state["path"] = _path()
    if path is not None:
        try:
            with open(path, "rb") as f:
                table = marshal.loads(f.read())
            if isinstance(table, dict):
                _codes.update((k, v) for k, v in table.items() if isinstance(k, str) and isinstance(v, CodeType))
        except (OSError, EOFError, ValueError, TypeError):
            pass  # absent or unreadable: compiled again, and written again
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # found before the builtin by dataclasses' own calls
    typing.compile = _compile  # type: ignore[attr-defined]  # likewise by ForwardRef's
    collections.eval = _eval  # type: ignore[attr-defined]  # and by namedtuple's
    atexit.register(_save)
    from bot import patterns

    patterns.install()  # the package's regular expressions, likewise
