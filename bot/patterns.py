"""Regular expressions compiled once, not in every process: kept beside the package's bytecode.

re.compile() parses a pattern and generates its matcher's code in Python, in every process: the
~200 patterns a one-patch check compiles (module constants, and re.match(text) calls) cost a few
milliseconds. Here the compiler's last step, `_sre.compile(pattern, flags, code, groups,
groupindex, indexgroup)`, is kept for each (pattern, flags) in a table beside the package's
bytecode, and the next process calls it with the stored arguments without parsing the pattern:
the same call, so the same Pattern. The table is keyed by the interpreter (its whole version and
_sre's MAGIC), written at exit when a pattern was new (as bot.classcode's, never where bytecode
is not written), and holds only patterns the package's own modules compile.
"""

from __future__ import annotations

import _sre
import atexit
import marshal
import re
import sys
from typing import Any

from bot.sidefile import beside_bytecode, write_quietly

MAX_ENTRIES = 2000  # past this (patterns of older code piling up), only this process's are kept
MAX_DEPTH = 4  # re.compile() or re.match() → re._compile → the compiler: the caller is 3 frames up
Args = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]

_compiler: Any = re._compiler  # type: ignore[attr-defined]
_real = _compiler.compile
_table: dict[tuple[str, int], Args] = {}
_used: set[tuple[str, int]] = set()
_state: dict[str, Any] = {"path": None, "new": False}


def _path() -> str | None:
    return beside_bytecode(__file__, f"patterns.{{tag}}.{_sre.MAGIC}.marshal")


class _Recorder:
    """Stands for _sre while the real compiler runs: what it passes to _sre.compile() is kept
    (every call: another thread's compilation meanwhile makes the record one not to keep)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple]] = []

    def compile(self, pattern: Any, *args: Any) -> Any:
        self.calls.append((pattern, args))
        return _sre.compile(pattern, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(_sre, name)


def _ours() -> bool:
    f = sys._getframe(2)
    for _ in range(MAX_DEPTH):
        if f is None:
            return False
        name = f.f_globals.get("__name__", "")
        if name.startswith("bot."):
            return True
        if name != "re":
            return False
        f = f.f_back
    return False


def _compile(p: Any, flags: int = 0) -> Any:
    """re's compiler step, from the table for a pattern of ours that an earlier process compiled."""
    if type(p) is not str or type(flags) is not int or not _ours():
        return _real(p, flags)
    key = (p, flags)
    args = _table.get(key)
    if args is None:
        rec = _Recorder()
        _compiler._sre = rec
        try:
            out = _real(p, flags)
        finally:
            _compiler._sre = _sre
        if len(rec.calls) == 1 and rec.calls[0][0] is p and _valid(key, rec.calls[0][1]):
            flags_, code, groups, groupindex, indexgroup = rec.calls[0][1]
            # the opcodes are ints of a subclass that names them; _sre reads the numbers alone
            _table[key] = (int(flags_), [int(c) for c in code], int(groups), dict(groupindex), tuple(indexgroup))
            _used.add(key)
            _state["new"] = True
        return out
    _used.add(key)
    return _sre.compile(p, *args)


def _valid(key: Any, args: Any) -> bool:
    return (type(key) is tuple and len(key) == 2 and type(key[0]) is str and type(key[1]) is int
            and type(args) is tuple and len(args) == 5 and type(args[0]) is int and type(args[1]) is list
            and type(args[2]) is int and type(args[3]) is dict and type(args[4]) is tuple)


def _save() -> None:
    path = _state["path"]
    if not _state["new"] or path is None or sys.dont_write_bytecode:
        return
    keep = _table if len(_table) <= MAX_ENTRIES else {k: _table[k] for k in _used}
    write_quietly(path, marshal.dumps((sys.version, keep)))


def install() -> None:
    """Route re's compiler through the table, read from disk once; written at exit if it grew."""
    if _compiler.compile is _compile:
        return
    path = _state["path"] = _path()
    if path is not None:
        try:
            with open(path, "rb") as f:
                version, table = marshal.loads(f.read())
            if version == sys.version and isinstance(table, dict):
                _table.update((k, v) for k, v in table.items() if _valid(k, v))
        except (OSError, EOFError, ValueError, TypeError):
            pass  # absent or unreadable: compiled again, and written again
    _compiler.compile = _compile
    atexit.register(_save)
