"""rules/primitives.toml, rules/families.toml and rules/opaque.toml, checked on load against the
parameters each effect kind declares.

A family (rules/families.toml) states one rule for many spellings: its `name` is a template whose
{placeholders} are its parts, and every combination of the parts' values is one primitive, with the
family's keys and each part value's own keys. A name is defined in one place only: a primitive that
two tables (or a family and a table) define is a load error. An opaque call (rules/opaque.toml) is
one the models deliberately leave out: it touches nothing they track and its value is unknown.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable

import bot.cmodel.effects  # noqa: F401 - registers the effect kinds
import bot.cmodel.effects_atomic  # noqa: F401
import bot.cmodel.effects_slab  # noqa: F401
import bot.cmodel.effects_sync  # noqa: F401
from bot.cmodel.effect_api import EFFECTS, Param, Primitive
from bot.compiled import loader
from bot.datafile import DataError, Fields, display, read_toml, suggest
from bot.paths import rules_dir

_SLOT = re.compile(r"\{(\w+)(?:\.(\w+))?\}")
PRIMITIVE_KEYS = ("effect", "why", "may_sleep", "gfp_arg", "may_fail")


def _param(f: Fields, key: str, p: Param) -> Any:
    if p.kind is tuple:
        return f.strs(key, None if p.required else p.default)
    default = p.default
    if p.choices:
        return f.choice(key, p.choices, default)
    return f.get(key, p.kind, default)


def _primitive(name: str, f: Fields) -> Primitive:
    effect = f.get("effect", str)
    kind = EFFECTS.get(effect)
    if kind is None:
        raise f.error(f"unknown effect {effect!r}{suggest(effect, EFFECTS)}")
    params = {key: _param(f, key, p) for key, p in kind.params.items()}
    prim = Primitive(name, effect, f.get("why", str), f.get("may_sleep", bool, False),
                     MappingProxyType(params), f.get("gfp_arg", int, -1), f.get("may_fail", bool, False))
    f.close()
    return prim


def parse(data: dict[str, Any], file: str) -> dict[str, Primitive]:
    return {name: _primitive(name, Fields(table, file, name)) for name, table in data.items()}


def expand_family(f: Fields) -> dict[str, dict[str, Any]]:
    """The tables one family generates: name → its keys (not yet checked against the effect)."""
    template = f.get("name", str)
    parts_f = f.sub("parts", f.get("parts", dict))
    used = list(dict.fromkeys(m.group(1) for m in _SLOT.finditer(template)))
    for slot in used:
        if slot not in parts_f.data:
            raise f.error(f"name {template!r} uses {{{slot}}}, which [parts] does not give")
    parts: dict[str, list[dict[str, Any]]] = {}
    for slot in used:
        values = parts_f.get(slot, list)
        if not values or not all(isinstance(v, dict) and isinstance(v.get("value"), str)
                                 and isinstance(v.get("why", ""), str) for v in values):
            raise parts_f.error(f"{slot} must be an array of tables, each with a string `value` (and `why`)")
        parts[slot] = values
    parts_f.close()
    why = f.get("why", str, "")
    base = {k: v for k, v in f.data.items() if k not in ("name", "parts")}
    for k in base:
        f.asked.add(k)
    out: dict[str, dict[str, Any]] = {}
    for combo in itertools.product(*(parts[s] for s in used)):
        chosen = dict(zip(used, combo))
        table = dict(base)
        given: dict[str, str] = {}
        for slot, entry in chosen.items():
            for k, v in entry.items():
                if k in ("value", "why"):
                    continue
                if k in given:
                    raise f.error(f"key {k!r} is given by both {{{given[k]}}} and {{{slot}}}")
                given[k] = slot
                table[k] = v

        def fill(m: re.Match[str], chosen: dict[str, dict[str, Any]] = chosen) -> str:
            entry = chosen.get(m.group(1))
            if entry is None:
                raise f.error(f"{m.group(0)} names no part of the name")
            val = entry.get(m.group(2) or "value", "")
            return str(val)

        name = _SLOT.sub(fill, template)
        table["why"] = _SLOT.sub(fill, why)
        if name in out:
            raise f.error(f"generates {name!r} twice")
        out[name] = table
    return out


def load_all(rules: Path) -> dict[str, Primitive]:
    """Every primitive the rules define: the tables, the families' products and the opaque calls."""
    out: dict[str, Primitive] = {}
    where: dict[str, str] = {}
    path = rules / "primitives.toml"
    entries = [(name, prim, display(path)) for name, prim in parse(read_toml(path), display(path)).items()]
    for extra, read in ((rules / "families.toml", load_families), (rules / "opaque.toml", load_opaque)):
        if extra.exists():
            entries += read(extra)
    for name, prim, at in entries:
        if name in out:
            raise DataError(f"{at}: {name!r} is already defined in {where[name]}: say it in one place")
        out[name] = prim
        where[name] = at
    return out


def load_families(path: Path) -> list[tuple[str, Primitive, str]]:
    """rules/families.toml: (name, primitive, where it is defined) for every member of every family."""
    def members(ff: Fields, at: str) -> list[tuple[str, Primitive, str]]:
        return [(name, _primitive(name, Fields(table, at, f"{ff.where} {name}")), f"{at} [{ff.where}]")
                for name, table in expand_family(ff).items()]
    return _each_table(path, "family", members)


def load_opaque(path: Path) -> list[tuple[str, Primitive, str]]:
    """rules/opaque.toml: the calls the models leave out, each with its group's reason."""
    def calls(f: Fields, at: str) -> list[tuple[str, Primitive, str]]:
        why = f.get("why", str)
        out = [(name, Primitive(name, "opaque", why), f"{at} [{f.where}]") for name in f.strs("calls", None)]
        f.close()
        return out
    return _each_table(path, "opaque", calls)


def _each_table(path: Path, key: str, read: Callable[[Fields, str], list[tuple[str, Primitive, str]]]
                ) -> list[tuple[str, Primitive, str]]:
    """What `read` makes of each [[key]] table of a file, the file's other keys rejected."""
    at = display(path)
    top = Fields(read_toml(path), at)
    out = [entry for f in top.tables(key) for entry in read(f, at)]
    top.close()
    return out


def load(path: Path) -> dict[str, Primitive]:
    return parse(read_toml(path), display(path))


@loader
def primitives() -> dict[str, Primitive]:
    return load_all(rules_dir())


__all__ = ["DataError", "Primitive", "expand_family", "load", "load_all", "load_families", "load_opaque", "parse",
           "primitives"]
