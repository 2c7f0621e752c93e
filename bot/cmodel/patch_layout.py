"""The struct layout as the code under review declares it: a patch that adds a struct or changes a
member changes what the code means, so the model's layout follows it.

From each hunk's post-image, three kinds of change are taken; anything else a hunk does to a struct
is left alone (a member the layout then lacks is an unresolved name, and the review says so):

* a whole `struct NAME { ... };` (or `typedef struct { ... } NAME;`) the layout does not have: its
  members get offsets in declaration order, each aligned to its size (at most 8);
* a member whose type a replaced line changes (`- struct list_head pgtable_list;` /
  `+ struct pgtable_list *pgtable_list;`): the member keeps its offset and takes the new type;
* a member added inside a `union { ... }` beside a member the layout knows: it shares that
  member's offset (`pt_list` beside `pt_mm` in struct page).
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.cmodel.layout import Layout
from bot.patch import FileDiff, HunkLine

_MEMBER = re.compile(r"^\s*((?:const\s+|volatile\s+)*(?:struct\s+|union\s+|enum\s+)?[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*?)"
                     r"\s*(\*+\s*|\s+)([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*;")
_STRUCT_OPEN = re.compile(r"^\s*(typedef\s+)?struct\s*([A-Za-z_]\w*)?\s*\{\s*$")
_CLOSE = re.compile(r"^\s*\}\s*([A-Za-z_]\w*)?\s*;")


# Every build of a series' n-th patch reads the lines of the n-1 before it again: each line of a
# usual length is read once per process.
LINE_MEMO = 1 << 15
MEMO_LINE = 400  # characters


def _strip(text: str) -> str:
    return _strip_memo(text) if len(text) <= MEMO_LINE else _uncommented(text)


def _member(text: str) -> tuple[str, str] | None:
    """(type, name) of a member declaration line."""
    return _member_memo(text) if len(text) <= MEMO_LINE else _member_of(text)


def _uncommented(text: str) -> str:
    return re.sub(r"/\*.*?\*/|//.*", "", text)


def _member_of(text: str) -> tuple[str, str] | None:
    m = _MEMBER.match(_strip(text))
    if m is None or m.group(1).split()[0] in ("return", "goto", "typedef"):
        return None
    ty = " ".join(m.group(1).split())
    stars = m.group(2).count("*")
    return (ty + (" " + "*" * stars if stars else "")).strip(), m.group(3)


_strip_memo = lru_cache(maxsize=LINE_MEMO)(_uncommented)
_member_memo = lru_cache(maxsize=LINE_MEMO)(_member_of)


def _size(layout_sizes: dict[str, int], ty: str) -> int:
    if ty.endswith("*"):
        return 8
    return int(layout_sizes.get(ty, 8))


def patch_layout(layout: Layout, layers: list[list[FileDiff]]) -> Layout:
    """layout with the changes the layers' hunks make to structs (the same object when none). The
    n-th patch of a series starts from what the n-1 before it made (_STATES)."""
    done, structs, sizes, changed = _STATES.longest(layout, layers)
    for layer in layers[done:]:
        for fd in layer:
            if not fd.path.endswith((".h", ".c")):
                continue
            for h in fd.hunks:
                changed |= _new_structs([ln.text for ln in h.lines if ln.tag != "-"], structs, sizes)
                changed |= _member_changes(h.lines, structs)
    if done < len(layers):
        _STATES.put(layout, layers, structs, sizes, changed)
    if not changed:
        return layout
    return Layout(structs, sizes, layout.scalars, layout.roles)


class _States:
    """The structs and sizes after the first k layers, by (layout, the layers' identities): what the
    layers make of a layout is all they depend on (each hunk reads only its lines and the structs so
    far). Held as made, copied for each caller to go on from. Bounded, least recently used first out."""

    SIZE = 64

    def __init__(self) -> None:
        self.states: dict[tuple, tuple[Layout, tuple, dict, dict, bool]] = {}

    def longest(self, layout: Layout, layers: list[list[FileDiff]]) -> tuple[int, dict, dict, bool]:
        """(k, a copy of the structs and sizes after layers[:k], whether they changed the layout)."""
        for k in range(len(layers), 0, -1):
            key = (id(layout), tuple(map(id, layers[:k])))
            hit = self.states.get(key)
            if hit is not None and hit[0] is layout and all(a is b for a, b in zip(hit[1], layers)):
                self.states[key] = self.states.pop(key)  # most recently used
                return k, {n: dict(f) for n, f in hit[2].items()}, dict(hit[3]), hit[4]
        return 0, {n: dict(f) for n, f in layout.structs.items()}, dict(layout.sizes), False

    def put(self, layout: Layout, layers: list[list[FileDiff]], structs: dict, sizes: dict, changed: bool) -> None:
        self.states[(id(layout), tuple(map(id, layers)))] = (
            layout, tuple(layers), {n: dict(f) for n, f in structs.items()}, dict(sizes), changed)
        while len(self.states) > self.SIZE:
            del self.states[next(iter(self.states))]


_STATES = _States()


def _new_structs(post: list[str], structs: dict[str, dict[str, tuple[int, str]]], sizes: dict[str, int]) -> bool:
    changed = False
    i = 0
    while i < len(post):
        m = _STRUCT_OPEN.match(_strip(post[i]))
        if m is None:
            i += 1
            continue
        members: list[tuple[str, str]] = []
        j = i + 1
        depth = 1
        while j < len(post) and depth:
            text = _strip(post[j])
            depth += text.count("{") - text.count("}")
            if depth == 1 and (mem := _member(text)) is not None:
                members.append(mem)
            j += 1
        close = _CLOSE.match(_strip(post[j - 1])) if depth == 0 else None
        name = (f"struct {m.group(2)}" if m.group(2) else (close.group(1) if close and close.group(1) else None))
        if close is not None and name and name not in structs and members:
            off = 0
            fields: dict[str, tuple[int, str]] = {}
            for ty, member in members:
                size = _size(sizes, ty)
                align = min(max(size, 1), 8)
                off = (off + align - 1) // align * align
                fields[member] = (off, ty)
                off += size
            structs[name] = fields
            sizes[name] = (off + 7) // 8 * 8
            changed = True
        i = j
    return changed


def _owners(name: str, shown: set[str], structs: dict[str, dict[str, tuple[int, str]]]) -> list[dict]:
    """The structs a member line belongs to: of those with that member, the ones sharing the most
    other members the hunk shows (a lone candidate stands by itself)."""
    cands = [fields for fields in structs.values() if name in fields]
    if len(cands) <= 1:
        return cands
    score = [len(shown & set(fields)) for fields in cands]
    best = max(score)
    return [f for f, sc in zip(cands, score) if sc == best and sc > 1]


def _member_changes(lines: list[HunkLine], structs: dict[str, dict[str, tuple[int, str]]]) -> bool:
    changed = False
    removed = {mem[1]: mem[0] for ln in lines if ln.tag == "-" and (mem := _member(ln.text))}
    shown = {mem[1] for ln in lines if (mem := _member(ln.text))}
    union_depth = 0
    neighbours: list[str] = []  # members seen inside the innermost union shown
    for ln in lines:
        text = _strip(ln.text)
        if ln.tag != "-" and re.match(r"^\s*union\s*\{", text):
            union_depth += 1
            neighbours = []
            continue
        if ln.tag != "-" and union_depth and re.match(r"^\s*\}", text):
            union_depth -= 1
            neighbours = []
            continue
        mem = _member(ln.text)
        if mem is None or ln.tag == "-":
            if mem is not None and union_depth:
                neighbours.append(mem[1])
            continue
        ty, name = mem
        if union_depth:
            neighbours.append(name)
        if ln.tag != "+":
            continue
        if name in removed:
            for fields in _owners(name, shown, structs):
                if fields[name][1] != ty:
                    fields[name] = (fields[name][0], ty)
                    changed = True
        elif union_depth:
            # the structs whose union this is: those that have a member shown beside it
            beside = [n for n in neighbours if n != name]
            for fields in structs.values():
                known = next((n for n in beside if n in fields), None)
                if known is not None and name not in fields:
                    fields[name] = (fields[known][0], ty)
                    changed = True
    return changed
