"""Dataclass methods compiled once, not in every process: kept beside the package's bytecode.

The standard library's @dataclass writes the source of each class's __init__, __repr__, __eq__ ...
and compiles it with exec() when the class is created, in every process: the eighty dataclasses a
one-patch check imports spent ~20 ms compiling, a twentieth of the whole check. Here that exec()
looks the source up in a table of code objects, which is kept where Python keeps the package's own
bytecode (bot/__pycache__, or under PYTHONPYCACHEPREFIX) and written when a source was new. Only
the package's own classes go through it (a test's or another library's are compiled as usual).

The code is the same either way: the same source compiled as exec() compiles it (no inherited
__future__ flags, file "<string>"), keyed by the whole source and by the interpreter's cache tag.
Where bytecode is not written (PYTHONDONTWRITEBYTECODE, a read-only install) nothing is written.
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import importlib.util
import marshal
import os
import sys
from types import CodeType
from typing import Any

MAX_ENTRIES = 4000  # past this (sources of older code piling up), only this process's are kept
_codes: dict[str, CodeType] = {}
_used: set[str] = set()
_state: dict[str, Any] = {"path": None, "new": False}


def _path() -> str | None:
    tag = sys.implementation.cache_tag
    if tag is None:
        return None
    pyc = importlib.util.cache_from_source(__file__)  # bot/__pycache__/classcode.<tag>.pyc
    return os.path.join(os.path.dirname(pyc), f"dataclass-methods.{tag}.marshal")


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: dict[str, Any] | None = None, /) -> None:
    """exec() as dataclasses calls it, with its source's code object compiled once."""
    if isinstance(source, str) and (globals or {}).get("__name__", "").startswith("bot."):  # ours alone
        code = _codes.get(source)
        if code is None:
            # as exec(source) compiles it: no __future__ flags of this module, file "<string>"
            code = _codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
            _state["new"] = True
        _used.add(source)
        source = code
    builtins.exec(source, globals, locals)


def _save() -> None:
    path = _state["path"]
    if not _state["new"] or path is None or sys.dont_write_bytecode:
        return
    keep = _codes if len(_codes) <= MAX_ENTRIES else {s: _codes[s] for s in _used}
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(marshal.dumps(keep))
        os.replace(tmp, path)
    except OSError:  # not writable: as Python itself does with bytecode, go on without
        try:
            os.unlink(tmp)
        except OSError:
            pass


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
    atexit.register(_save)
