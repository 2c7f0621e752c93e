"""From violated invariants to hazard ids, and the catalog text that explains each id (rules/)."""

from __future__ import annotations

import tomllib
from functools import lru_cache

from bot.paths import rules_dir
from bot.sim.core import Violation


@lru_cache(maxsize=1)
def _rules() -> list[dict]:
    with open(rules_dir() / "classify.toml", "rb") as f:
        return list(tomllib.load(f)["rule"])


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict]:
    path = rules_dir() / "hazards.toml"
    if not path.exists():
        return {}
    with open(path, "rb") as f:
        return tomllib.load(f)


def _rule_for(v: Violation) -> dict | None:
    for rule in _rules():
        if rule["kind"] != v.kind:
            continue
        if all(v.attr(k) == str(val) for k, val in rule.items() if k not in ("kind", "hazard", "class")):
            return rule
    return None


def hazard_of(v: Violation) -> str | None:
    """The hazard id for a violation; None when the violation is a modelling limit, not a finding."""
    rule = _rule_for(v)
    return (rule["hazard"] or None) if rule else None


def class_of(v: Violation) -> str:
    """The finding's class: the rule's override, else the catalog's class of the hazard."""
    rule = _rule_for(v)
    if rule and rule.get("class"):
        return str(rule["class"])
    hz = hazard_of(v)
    return hazard_class(hz) if hz else "correctness"


def hazard_class(hazard: str) -> str:
    return str(catalog().get(hazard, {}).get("class", "correctness"))


def hazard_text(hazard: str) -> dict:
    entry = dict(catalog().get(hazard, {}))
    entry.setdefault("title", hazard.replace("_", " ").lower())
    entry.setdefault("class", "correctness")
    for key in ("invariant", "explanation", "fix"):
        entry.setdefault(key, "")
    entry.setdefault("references", [])
    return entry
