"""From violated invariants to hazard ids, and the catalog text that explains each id (rules/).

Both files are checked on load: rules/hazards.toml's tables, and rules/classify.toml's rules
against the invariant ids (bot.sim.invariants), the violation attributes and the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.compiled import loader
from bot.datafile import Fields, display, read_toml, suggest
from bot.paths import rules_dir
from bot.sim.core import Violation
from bot.sim.invariants import BY_ID

CLASSES = ("correctness", "cost", "noise")
# A reference cites one message: https://lore.kernel.org/r/<msgid>, the id escaped as public-inbox does.
LORE_LINK = re.compile(r"^https://lore\.kernel\.org/r/[^\s/<>]+@[^\s/<>]+$")
SCOPES = ("arch", "caller")  # arch: models and simulation; caller: the pattern rules of rules/callers.toml
# Violation attributes a classify rule may match on (what the models attach to a violation).
MATCHABLE = ("object", "ctx", "freed_by", "cause", "lock", "call", "atomic", "owner", "soft", "mode", "why", "flag",
             "head", "function")


@dataclass(frozen=True)
class Hazard:
    id: str
    cls: str
    scope: str
    title: str
    invariant: str
    explanation: str
    fix: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class ClassifyRule:
    kind: str  # an invariant id
    hazard: str  # "" means: a modelling limit, reported as a note, not a finding
    cls: str  # overrides the catalog's class for this way of reaching the hazard ("" = the catalog's)
    match: tuple[tuple[str, str], ...]  # attribute → value, all must equal the violation's


@loader
def catalog() -> dict[str, Hazard]:
    return load_catalog(rules_dir() / "hazards.toml")


def load_catalog(path: Path) -> dict[str, Hazard]:
    file = display(path)
    top = Fields(read_toml(path), file)
    out: dict[str, Hazard] = {}
    for hid in list(top.data):
        f = top.sub(hid, top.get(hid, dict))
        refs = f.strs("references")
        bad = next((r for r in refs if not LORE_LINK.match(r)), None)
        if bad is not None:
            raise f.error(f"references: {bad!r} is not a https://lore.kernel.org/r/<msgid> link")
        out[hid] = Hazard(hid, f.choice("class", CLASSES), f.choice("scope", SCOPES), f.get("title", str),
                          f.get("invariant", str), f.get("explanation", str), f.get("fix", str), refs)
        f.close()
    top.close()
    return out


def known_hazard(f: Fields, hazard: str, scope: str, what: str = "hazard") -> None:
    """A rule names a hazard of the catalog, of the scope the rule's kind of check can find."""
    hz = catalog().get(hazard)
    if hz is None:
        raise f.error(f"{what} {hazard!r} is not in rules/hazards.toml{suggest(hazard, catalog())}")
    if hz.scope != scope:
        raise f.error(f"{what} {hazard!r} has scope {hz.scope!r} in rules/hazards.toml, not {scope!r}")


@loader
def _rules() -> tuple[ClassifyRule, ...]:
    return load_rules(rules_dir() / "classify.toml")


def load_rules(path: Path) -> tuple[ClassifyRule, ...]:
    top = Fields(read_toml(path), display(path))
    out = []
    for f in top.tables("rule"):
        kind = f.get("kind", str)
        if kind not in BY_ID:
            raise f.error(f"kind {kind!r} is not an invariant id{suggest(kind, BY_ID)}")
        hazard = f.get("hazard", str)
        if hazard:
            known_hazard(f, hazard, "arch")
        cls = f.choice("class", CLASSES, "") if f.has("class") else ""
        match = tuple((k, _attr(f, k)) for k in MATCHABLE if f.has(k))
        f.close()
        out.append(ClassifyRule(kind, hazard, cls, match))
    top.close()
    return tuple(out)


def _attr(f: Fields, key: str) -> str:
    val: Any = f.data[key]
    if not isinstance(val, str | int) or isinstance(val, bool):
        raise f.error(f"key {key!r} must be a string, not {val!r}")
    return str(val)


def _rule_for(v: Violation) -> ClassifyRule | None:
    for rule in _rules():
        if rule.kind == v.kind and all(v.attr(k) == val for k, val in rule.match):
            return rule
    return None


def hazard_of(v: Violation) -> str | None:
    """The hazard id for a violation; None when the violation is a modelling limit, not a finding."""
    rule = _rule_for(v)
    return (rule.hazard or None) if rule else None


def class_of(v: Violation) -> str:
    """The finding's class: the rule's override, else the catalog's class of the hazard."""
    rule = _rule_for(v)
    if rule and rule.cls:
        return rule.cls
    hz = hazard_of(v)
    return hazard_class(hz) if hz else "correctness"


def hazard_class(hazard: str) -> str:
    hz = catalog().get(hazard)
    return hz.cls if hz else "correctness"


def hazard_text(hazard: str) -> dict:
    hz = catalog().get(hazard)
    if hz is None:
        return {"title": hazard.replace("_", " ").lower(), "class": "correctness", "invariant": "",
                "explanation": "", "fix": "", "references": []}
    return {"title": hz.title, "class": hz.cls, "scope": hz.scope, "invariant": hz.invariant,
            "explanation": hz.explanation, "fix": hz.fix, "references": list(hz.references)}
