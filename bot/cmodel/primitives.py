"""rules/primitives.toml, checked on load against the parameters each effect kind declares."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import bot.cmodel.effects  # noqa: F401 - registers the effect kinds
from bot.cmodel.effect_api import EFFECTS, Param, Primitive
from bot.datafile import DataError, Fields, display, read_toml, suggest
from bot.paths import rules_dir


def _param(f: Fields, key: str, p: Param) -> Any:
    if p.kind is tuple:
        return f.strs(key, None if p.required else p.default)
    default = p.default
    if p.choices:
        return f.choice(key, p.choices, default)
    return f.get(key, p.kind, default)


def parse(data: dict[str, Any], file: str) -> dict[str, Primitive]:
    out: dict[str, Primitive] = {}
    for name, table in data.items():
        f = Fields(table, file, name)
        effect = f.get("effect", str)
        kind = EFFECTS.get(effect)
        if kind is None:
            raise f.error(f"unknown effect {effect!r}{suggest(effect, EFFECTS)}")
        params = {key: _param(f, key, p) for key, p in kind.params.items()}
        out[name] = Primitive(name, effect, f.get("why", str), f.get("may_sleep", bool, False),
                              MappingProxyType(params))
        f.close()
    return out


def load(path: Path) -> dict[str, Primitive]:
    return parse(read_toml(path), display(path))


@lru_cache(maxsize=1)
def primitives() -> dict[str, Primitive]:
    return load(rules_dir() / "primitives.toml")


__all__ = ["DataError", "Primitive", "load", "parse", "primitives"]
