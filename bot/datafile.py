"""Checked reading of the data files in rules/ and models/.

Every loader reads a table through a Fields reader: each key it asks for is type-checked, and once
the loader is done with the table, any key it never asked for is an error. So a typo
(`fragment_per_page = 4`) cannot silently fall back to a default, and every key that exists is read
by something. Errors are one line naming the file and the key; the CLI prints them and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, TypeVar

from bot.paths import models_dir

T = TypeVar("T")
_MISSING: Any = object()


class DataError(ValueError):
    """A data file that does not read as its schema says: the message is one line."""


def display(path: Path | str) -> str:
    """The path as a reviewer knows it: rules/… or models/… when it is one of ours."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(models_dir().resolve().parent))
    except ValueError:
        return str(p)


def read_toml(path: Path | str) -> dict[str, Any]:
    import tomllib  # here: a process that finds rules/ and models/ in the compiled cache reads no TOML

    p = Path(path)
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"{display(p)}: {e}") from None
    except OSError as e:
        raise DataError(f"{display(p)}: {e.strerror or e}") from None


def suggest(key: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(kind: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", float: "a number", dict: "a table",
             list: "an array"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))


class Fields:
    """One table of a data file, read key by key; close() rejects the keys nobody asked for."""

    def __init__(self, data: Any, file: str, where: str = "", allow: Iterable[str] = ()) -> None:
        self.file = file
        self.where = where
        if not isinstance(data, dict):
            raise self.error(f"must be a table, not {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.asked: set[str] = set(allow)

    def error(self, msg: str) -> DataError:
        at = f"[{self.where}] " if self.where else ""
        return DataError(f"{self.file}: {at}{msg}")

    def sub(self, key: str, data: Any) -> Fields:
        return Fields(data, self.file, f"{self.where}.{key}" if self.where else key)

    def has(self, key: str) -> bool:
        self.asked.add(key)
        return key in self.data

    def get(self, key: str, kind: type[T], default: Any = _MISSING) -> T:
        """A scalar or container value of one type; no default means the key is required."""
        self.asked.add(key)
        if key not in self.data:
            if default is _MISSING:
                import difflib

                typo = difflib.get_close_matches(key, [k for k in self.data if k not in self.asked], n=1, cutoff=0.6)
                if typo:
                    raise self.error(f"unknown key {typo[0]!r} (did you mean {key!r}?)")
                raise self.error(f"missing key {key!r}")
            return default
        val = self.data[key]
        ok = isinstance(val, kind) and not (kind is int and isinstance(val, bool))
        if kind is float and isinstance(val, int) and not isinstance(val, bool):
            ok, val = True, float(val)
        if not ok:
            raise self.error(f"key {key!r} must be {_type_name(kind)}, not {val!r}"[:200])
        return val

    def strs(self, key: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        val = self.get(key, list, _MISSING if default is None else list(default))
        if not all(isinstance(x, str) for x in val):
            raise self.error(f"key {key!r} must be an array of strings")
        return tuple(val)

    def choice(self, key: str, choices: Iterable[str], default: Any = _MISSING) -> str:
        val = self.get(key, str, default)
        options = tuple(choices)
        if val not in options:
            raise self.error(f"key {key!r} must be one of {', '.join(options)}, not {val!r}{suggest(val, options)}")
        return val

    def mapping(self, key: str, kind: type[T]) -> dict[str, T]:
        """A sub-table of name → value of one type (typedefs, constants)."""
        table = self.get(key, dict, {})
        for k, v in table.items():
            if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
                raise self.error(f"{key}.{k} must be {_type_name(kind)}, not {v!r}"[:200])
        return dict(table)

    def tables(self, key: str) -> list[Fields]:
        """An array of tables ([[rule]]), each as its own reader."""
        seq = self.get(key, list, [])
        return [self.sub(f"{key}[{i}]", x) for i, x in enumerate(seq)]

    def close(self) -> None:
        for key in self.data:
            if key not in self.asked:
                raise self.error(f"unknown key {key!r}{suggest(key, self.asked)}")
