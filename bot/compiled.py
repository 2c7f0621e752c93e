"""The compiled cache: what rules/ and models/ load into, kept on disk for the next process.

Every process that judges reads rules/ and models/ (parsing the TOML files, checking every field,
expanding the primitive families, loading the models with their scenarios): about as long as
Python takes to start. The loaders that do it are marked `@loader`; their results are kept in one
file beside the verdict cache (same directory, same --no-cache), which a later process reads in
one step instead.

The file is keyed by cache.environment() (package version, Python, the engine's source, rules/,
models/, the C grammar) and by where rules/ and models/ are (a loaded model names its directory):
any change of those, and the file is a miss. It is checked on load like the data files themselves:
a file that is truncated, corrupt, of another environment or names anything but bot's own data
classes is a miss (one line in the log), the loaders run as without the cache, and the file is
written again. Nothing it holds decides a verdict that the loaders would not decide the same way.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import io
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from bot.safepickle import DataUnpickler

log = logging.getLogger(__name__)

MAGIC = b"review-bot compiled 1\n"
MAX_BYTES = 64 << 20  # a larger file is not read (the real one is a few hundred KB)

F = TypeVar("F", bound=Callable[..., Any])
_LOADERS: dict[str, Callable[[], Any]] = {}  # name → the loader itself (not the memo)
_MEMO: dict[str, Any] = {}  # name → its result in this process
_state: dict[str, Any] = {"path": None, "read": False, "stored": {}}


def loader(fn: F) -> F:
    """A loader of rules/ or models/ whose call without arguments is remembered for the process
    and kept in the compiled cache; a call with arguments (another file, in tests) runs as is."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    _LOADERS[name] = fn

    @functools.wraps(fn)
    def memo(*args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return fn(*args, **kwargs)
        if name not in _MEMO:
            stored = _stored()
            _MEMO[name] = stored[name] if name in stored else fn()
        return _MEMO[name]

    memo.cache_clear = lambda: _MEMO.pop(name, None)  # type: ignore[attr-defined]
    return memo  # type: ignore[return-value]


def use(path: Path, environment: str) -> None:
    """Keep the compiled cache at path (beside the verdict cache) from now on in this process;
    environment: the verdict cache's (bot.cache.environment())."""
    from bot.paths import models_dir, rules_dir

    key = hashlib.sha256(f"{environment}\0{models_dir()}\0{rules_dir()}".encode()).hexdigest()
    if (_state["path"], _state.get("key")) != (path, key):
        _state.update(path=path, key=key, read=False, stored={})


def load_all() -> None:
    """Every loader's result, from the file when it has it; the file is written again when a
    loader had to run (first use, or after any change of rules/, models/ or the engine)."""
    for name, fn in _LOADERS.items():
        if name not in _MEMO:
            stored = _stored()
            _MEMO[name] = stored[name] if name in stored else fn()
    path = _state["path"]
    if path is not None and set(_state["stored"]) != set(_LOADERS):
        _write(path, {name: _MEMO[name] for name in _LOADERS})
        _state["stored"] = dict(_MEMO)


# ---- the file ----------------------------------------------------------------------------------

def _stored() -> dict[str, Any]:
    if not _state["read"]:
        _state["read"] = True
        path = _state["path"]
        if path is not None:
            _state["stored"] = _read(path)
    return _state["stored"]


def _read(path: Path) -> dict[str, Any]:
    """The file's results, or {} (with a line in the log saying why) when it is not one to use."""
    try:
        with open(path, "rb") as f:
            blob = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as e:
        log.info("compiled cache %s unreadable (%s): loading rules/ and models/", path, e)
        return {}
    why = _why_not(blob)
    if why is None:
        try:
            out = _Unpickler(io.BytesIO(blob[len(MAGIC) + 130:])).load()
            if isinstance(out, dict) and all(isinstance(k, str) for k in out):
                return {k: v for k, v in out.items() if k in _LOADERS}
            why = "not a table of loaded data"
        except Exception as e:  # noqa: BLE001 - whatever does not read back is a miss, and is rebuilt
            why = f"does not read back ({type(e).__name__})"
    if why != "of another environment":
        log.info("compiled cache %s %s: loading rules/ and models/, and writing it again", path, why)
    return {}


def _why_not(blob: bytes) -> str | None:
    """Why the file's bytes are not a compiled cache for this environment (None: they are)."""
    if len(blob) > MAX_BYTES:
        return "too large"
    head = blob[:len(MAGIC) + 130]
    if not head.startswith(MAGIC) or len(head) < len(MAGIC) + 130:
        return "is not a compiled cache"
    env, digest = head[len(MAGIC):len(MAGIC) + 64], head[len(MAGIC) + 65:len(MAGIC) + 129]
    if env != _state["key"].encode():
        return "of another environment"
    if digest != hashlib.sha256(blob[len(MAGIC) + 130:]).hexdigest().encode():
        return "is damaged (its checksum differs)"
    return None


def _write(path: Path, results: dict[str, Any]) -> None:
    """The file, written whole under a temporary name and then renamed: a reader never sees half."""
    import tempfile  # only when the file is written again, not on every run that reads it

    try:
        buf = io.BytesIO()
        p = pickle.Pickler(buf, protocol=5)
        p.dispatch_table = {**copyreg.dispatch_table, MappingProxyType: _reduce_proxy}
        p.dump(results)
        payload = buf.getvalue()
        head = MAGIC + _state["key"].encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".compiled-")
        with os.fdopen(fd, "wb") as f:
            f.write(head + payload)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError) as e:
        log.info("compiled cache %s not written (%s)", path, e)


def _reduce_proxy(m: MappingProxyType) -> tuple:
    return (read_only, (dict(m),))


def read_only(d: dict[str, Any]) -> MappingProxyType:
    """A read-only view, as a primitive's parameters are (the pickled form of one)."""
    return MappingProxyType(d)


class _Unpickler(DataUnpickler):
    """bot's own data classes and builtin containers, and what loaded rules hold besides: paths,
    regular expressions, read-only views. A foreign file cannot name any other callable."""

    ALSO = frozenset({("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("re", "_compile"),
                      ("bot.compiled", "read_only")})
