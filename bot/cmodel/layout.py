"""Struct layouts: models/common/layout.toml, with models/<model>/layout.toml merged over it.

Which fields share memory is what matters (page->rcu_head over page->lru); an architecture whose
struct differs gives its own offsets for just those fields in its model directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from bot.compiled import loader
from bot.datafile import DataError, Fields, display, read_toml
from bot.paths import models_dir

# The fields the engine itself needs to find, by the part they play; layout.toml's [roles] names them.
ROLES = {
    "page_refcount": "the struct page word a new page's reference count starts in",
    "page_list": "the list_head that links a page on a list: a page still linked when freed is a "
                 "use-after-free, a page linked at quiescence is reachable (not leaked)",
    "mm_count": "the mm_struct's reference count (mmgrab/mmdrop); its struct is the struct of an mm",
    "gather_mm": "the mm an mmu_gather belongs to",
}


@dataclass(frozen=True)
class Layout:
    structs: Mapping[str, Mapping[str, tuple[int, str]]]  # struct → field → (offset, type)
    sizes: Mapping[str, int]  # type → bytes
    scalars: frozenset[str]  # typedefs that are scalar values although they end in _t (pte_t)
    roles: Mapping[str, tuple[str, str]]  # role → (struct, member path)

    def offset(self, struct: str, path: str) -> int | None:
        """Offset of a member path ("context.pgtable_list") in a struct, None when the layout lacks it."""
        off = 0
        for member in path.split("."):
            ent = self.structs.get(struct, {}).get(member)
            if ent is None:
                return None
            off += ent[0]
            struct = ent[1]
        return off

    def role(self, role: str) -> tuple[str, str]:
        return self.roles[role]

    def path_at(self, struct: str, off: int, depth: int = 3) -> str | None:
        """The member path at an offset of a struct, innermost aggregate last ("context.lock")."""
        best = None
        for member, (o, ty) in self.structs.get(struct, {}).items():
            if o == off and best is None:
                best = member
            if o <= off and ty in self.structs and depth > 0:
                inner = self.path_at(ty, off - o, depth - 1)
                if inner is not None:
                    return f"{member}.{inner}"
        return best


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
    roles = top.sub("roles", top.get("roles", dict, {}))
    for role in ROLES:
        if roles.has(role):
            into["roles"][role] = (file, roles.get(role, str))
    roles.close()
    top.close()


@lru_cache(maxsize=16)
def load_layout(model: str = "") -> Layout:
    """The common layout, with the model's own layout.toml (if it has one) merged over it."""
    known = model_layouts()
    if model in known:
        return known[model]
    return read_layouts(models_dir() / "common" / "layout.toml", models_dir() / model / "layout.toml" if model else None)


@loader
def model_layouts() -> dict[str, Layout]:
    """Every model directory's layout, and the common one (""): read once, then kept in the
    compiled cache with the models."""
    common = models_dir() / "common" / "layout.toml"
    dirs = sorted(d.name for d in models_dir().iterdir() if (d / "model.toml").is_file())
    return {"": read_layouts(common)} | {name: read_layouts(common, models_dir() / name / "layout.toml")
                                          for name in dirs}


def read_layouts(common: Path, own: Path | None = None) -> Layout:
    acc: dict[str, Any] = {"structs": {}, "sizes": {}, "scalars": set(), "roles": {}}
    _read(common, acc)
    if own is not None and own.exists():
        _read(own, acc)
    out = Layout(acc["structs"], acc["sizes"], frozenset(acc["scalars"]), {})
    for role in ROLES:
        if role not in acc["roles"]:
            raise DataError(f"{display(common)}: [roles] missing key {role!r} ({ROLES[role]})")
        file, ref = acc["roles"][role]
        struct, _, path = ref.partition(".")
        if not path or out.offset(struct, path) is None:
            raise DataError(f"{file}: [roles] {role} = {ref!r} is not a field of the layout (\"struct x.member\")")
        out.roles[role] = (struct, path)  # type: ignore[index]
    return out
