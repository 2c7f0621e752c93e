"""rules/callsites.toml as lookup tables: callee name → PrimitiveRule, member chain → FieldRule."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.compiled import loader
from bot.datafile import Fields, display, read_toml
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


def parse(data: dict, file: str = "rules/callsites.toml") -> CallsiteRules:
    top = Fields(data, file)
    prims = []
    for name, raw in top.get("primitive", dict, {}).items():
        t = top.sub(f"primitive.{name}", raw)
        match = t.get("match", str, None)
        try:
            pattern = re.compile(match) if match is not None else None
        except re.error as e:
            raise t.error(f"key 'match' is not a regular expression: {e}") from None
        prims.append(PrimitiveRule(
            name=name, category=t.get("category", str), why=t.get("why", str, ""),
            names=t.strs("names", [] if match is not None else [name]),
            match=pattern, args=t.strs("args"), matters=t.strs("matters"),
            callback=t.get("callback", str, None), arg_mentions=t.strs("arg_mentions"),
            relevance=t.choice("relevance", RELEVANCE, "in-scope"),
            loop=t.get("loop", bool, False), file_scope=t.get("file_scope", bool, False),
        ))
        t.close()
    fields = []
    for name, raw in top.get("field", dict, {}).items():
        t = top.sub(f"field.{name}", raw)
        fields.append(FieldRule(name=name, category=t.get("category", str), why=t.get("why", str, ""),
                                path=tuple(t.get("path", str, name).split(".")),
                                relevance=t.choice("relevance", RELEVANCE, "in-scope")))
        t.close()
    fields.sort(key=lambda r: -len(r.path))  # longest chain wins ("context.lock" before "lock")
    scope = top.sub("scope", top.get("scope", dict, {}))
    modeled = top.sub("modeled", top.get("modeled", dict, {}))
    out = CallsiteRules(primitives=prims, fields=fields, scope_paths=scope.strs("paths"),
                        modeled=frozenset(modeled.strs("functions")))
    for sub in (scope, modeled):
        sub.get("why", str, "")  # the reason, for reviewers of the file
        sub.close()
    top.close()
    return out


@loader
def load(path: Path = DEFAULT_PATH) -> CallsiteRules:
    return parse(read_toml(path), display(path))
