"""Struct layouts: models/common/layout.toml, with models/<model>/layout.toml merged over it.

Which fields share memory is what matters (page->rcu_head over page->lru); an architecture whose
struct differs gives its own offsets for just those fields in its model directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from bot.datafile import Fields, display, read_toml
from bot.paths import models_dir


@dataclass(frozen=True)
class Layout:
    structs: Mapping[str, Mapping[str, tuple[int, str]]]  # struct → field → (offset, type)
    sizes: Mapping[str, int]  # type → bytes
    scalars: frozenset[str]  # typedefs that are scalar values although they end in _t (pte_t)


def _read(path: Path, into: dict[str, Any]) -> None:
    file = display(path)
    top = Fields(read_toml(path), file)
    for ty, n in top.mapping("sizes", int).items():
        into["sizes"][ty] = n
    structs = top.get("struct", dict, {})
    for sname, fields in structs.items():
        f = top.sub(f"struct.{sname}", fields)
        dest = into["structs"].setdefault(sname, {})
        for member in fields:
            ent = f.get(member, list)
            if len(ent) != 2 or not isinstance(ent[0], int) or isinstance(ent[0], bool) or not isinstance(ent[1], str):
                raise f.error(f"field {member!r} must be [offset, \"type\"], not {ent!r}")
            dest[member] = (ent[0], ent[1])
        f.close()
    into["scalars"] |= set(top.strs("scalar_types"))
    top.close()


@lru_cache(maxsize=16)
def load_layout(model: str = "") -> Layout:
    """The common layout, with the model's own layout.toml (if it has one) merged over it."""
    return read_layouts(models_dir() / "common" / "layout.toml", models_dir() / model / "layout.toml" if model else None)


def read_layouts(common: Path, own: Path | None = None) -> Layout:
    acc: dict[str, Any] = {"structs": {}, "sizes": {}, "scalars": set()}
    _read(common, acc)
    if own is not None and own.exists():
        _read(own, acc)
    return Layout(acc["structs"], acc["sizes"], frozenset(acc["scalars"]))
