"""rules/callsites.toml as lookup tables: callee name → PrimitiveRule, member chain → FieldRule."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.paths import rules_dir

DEFAULT_PATH = rules_dir() / "callsites.toml"
RELEVANCE = ("always", "in-scope", "never")


@dataclass(frozen=True)
class PrimitiveRule:
    name: str  # table name: the family ("spin_lock" covers spin_lock_bh ...)
    category: str
    why: str
    names: tuple[str, ...] = ()
    match: re.Pattern[str] | None = None
    args: tuple[str, ...] = ()
    matters: tuple[str, ...] = ()
    callback: str | None = None
    arg_mentions: tuple[str, ...] = ()
    relevance: str = "in-scope"
    loop: bool = False
    file_scope: bool = False

    def callback_index(self) -> int | None:
        return self.args.index(self.callback) if self.callback in self.args else None


@dataclass(frozen=True)
class FieldRule:
    name: str
    category: str
    why: str
    path: tuple[str, ...]  # member chain suffix, e.g. ("context", "lock")
    relevance: str = "in-scope"


@dataclass
class CallsiteRules:
    primitives: list[PrimitiveRule] = field(default_factory=list)
    fields: list[FieldRule] = field(default_factory=list)
    scope_paths: tuple[str, ...] = ()
    modeled: frozenset[str] = frozenset()
    _by_name: dict[str, list[PrimitiveRule]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in self.primitives:
            for n in r.names:
                self._by_name.setdefault(n, []).append(r)

    def primitive(self, callee: str, args: list[str] | None = None) -> PrimitiveRule | None:
        """The rule for a callee; arg_mentions filters calls of the same name on other objects."""
        cands = self._by_name.get(callee) or [r for r in self.primitives if r.match and r.match.search(callee)]
        for r in cands:
            if not r.arg_mentions or any(w in a for a in args or () for w in r.arg_mentions):
                return r
        return None

    def field_rule(self, chain: list[str]) -> FieldRule | None:
        for r in self.fields:
            n = len(r.path)
            if tuple(chain[-n:]) == r.path:
                return r
        return None

    def in_scope(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pat) for pat in self.scope_paths)


def _check(table: str, rel: str) -> str:
    if rel not in RELEVANCE:
        raise ValueError(f"callsites.toml [{table}]: relevance must be one of {RELEVANCE}, not {rel!r}")
    return rel


def parse(data: dict) -> CallsiteRules:
    prims = []
    for name, t in data.get("primitive", {}).items():
        prims.append(PrimitiveRule(
            name=name, category=t["category"], why=t.get("why", ""),
            names=tuple(t.get("names", [] if "match" in t else [name])),
            match=re.compile(t["match"]) if "match" in t else None,
            args=tuple(t.get("args", [])), matters=tuple(t.get("matters", [])),
            callback=t.get("callback"), arg_mentions=tuple(t.get("arg_mentions", [])),
            relevance=_check(f"primitive.{name}", t.get("relevance", "in-scope")),
            loop=bool(t.get("loop", False)), file_scope=bool(t.get("file_scope", False)),
        ))
    fields = [
        FieldRule(name=name, category=t["category"], why=t.get("why", ""),
                  path=tuple(t.get("path", name).split(".")),
                  relevance=_check(f"field.{name}", t.get("relevance", "in-scope")))
        for name, t in data.get("field", {}).items()
    ]
    fields.sort(key=lambda r: -len(r.path))  # longest chain wins ("context.lock" before "lock")
    return CallsiteRules(
        primitives=prims, fields=fields,
        scope_paths=tuple(data.get("scope", {}).get("paths", [])),
        modeled=frozenset(data.get("modeled", {}).get("functions", [])),
    )


@lru_cache(maxsize=4)
def load(path: Path = DEFAULT_PATH) -> CallsiteRules:
    with open(path, "rb") as f:
        return parse(tomllib.load(f))
