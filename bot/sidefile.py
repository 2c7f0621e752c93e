"""Files the package keeps for itself (tables beside its bytecode, stamps beside its caches): where
they go, and how they are written so that a reader sees the old file or the new one, never half."""

from __future__ import annotations

import importlib.util
import os
import sys


def beside_bytecode(module_file: str, name: str) -> str | None:
    """`name` ("{tag}" replaced by the interpreter's cache tag) in the directory of module_file's
    bytecode; None where the interpreter keeps no bytecode."""
    tag = sys.implementation.cache_tag
    if tag is None:
        return None
    pyc = importlib.util.cache_from_source(module_file)
    return os.path.join(os.path.dirname(pyc), name.format(tag=tag))


def write_quietly(path: str | os.PathLike[str], data: bytes) -> None:
    """data as the whole of path, written under a temporary name and renamed; not at all where it
    cannot be written (as Python itself does with bytecode: the next run computes it again)."""
    tmp = f"{os.fspath(path)}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(tmp) or ".", exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
