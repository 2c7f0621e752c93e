"""rules/costs.toml, checked on load: what a design costs, noted while scenarios run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.classify import hazard_class, known_hazard
from bot.compiled import loader
from bot.datafile import Fields, display, read_toml
from bot.paths import rules_dir


@dataclass(frozen=True)
class CostRule:
    id: str  # a hazard id of class "cost" in rules/hazards.toml
    # "call": a call of one of `calls`; "lock": taking a lock of `lock_kind`; "unlisted_fragment": at
    # quiescence, a page of a model with fragment_reuse has free fragments but is on no list
    on: str
    why: str
    calls: tuple[str, ...] = ()
    lock_kind: str = ""  # "global": a file-scope spinlock
    in_functions: tuple[str, ...] = ()  # only while one of these is on the stack (empty: anywhere)


def load(path: Path) -> tuple[CostRule, ...]:
    top = Fields(read_toml(path), display(path))
    out = []
    for f in top.tables("cost"):
        on = f.choice("on", ("call", "lock", "unlisted_fragment"))
        rule = CostRule(f.get("id", str), on, f.get("why", str), calls=f.strs("calls"),
                        lock_kind=f.choice("lock_kind", ("global",)) if on == "lock" else "",
                        in_functions=f.strs("in_functions"))
        if on == "call" and not rule.calls:
            raise f.error("a cost on a call needs `calls`")
        known_hazard(f, rule.id, "arch", "id")
        if hazard_class(rule.id) != "cost":
            raise f.error(f"id {rule.id!r} is not of class \"cost\" in rules/hazards.toml")
        f.close()
        out.append(rule)
    top.close()
    return tuple(out)


@loader
def cost_rules() -> tuple[CostRule, ...]:
    return load(rules_dir() / "costs.toml")


def cost_on(on: str) -> str:
    """The cost id noted for an engine observation (e.g. "unlisted_fragment"), "" when none is."""
    return next((r.id for r in cost_rules() if r.on == on), "")
