"""Which models judge a posting, when several models state different versions of one file.

A kernel file can have more than one reference model: s390's pgalloc.c with 2K fragments and with
whole-page tables, the ptdesc API with its page-table lock freed at once or after a grace period.
Which one the posting applies to is read from the code, never from the subject or the date: with
a kernel tree, the model whose reference shares most of its own names (those no rival uses) with
the tree's file; from the mail alone, the model whose references the hunks' pre-images align with
best (the earlier patches of the series count too, since they are what the posting sits on).
Models that score the same are all run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from bot.cmodel.bind import alignment_score, reference_lines
from bot.cmodel.models import ModelSpec
from bot.cmodel.program import SourceLine
from bot.patch import FileDiff, Hunk, HunkLine

TreeReader = Callable[[str], "str | None"]


def choose(specs: Sequence[ModelSpec], layers: Sequence[Sequence[FileDiff]],
           tree_file: TreeReader | None = None) -> list[ModelSpec]:
    """The models that judge the last layer, in load order. Models that claim a file it changes
    compete with every other model claiming one of those files; of each such group the ones with
    the best total score over the changed files they claim judge (ties all do)."""
    changed = {fd.path for fd in layers[-1]} if layers else set()
    claims = {s.name: changed & set(s.files) for s in specs}
    todo = [s for s in specs if claims[s.name]]
    chosen: set[str] = set()
    while todo:
        group, files = [todo.pop(0)], set()
        files |= claims[group[0].name]
        grown = True
        while grown:  # the models linked to the group through a changed file they both claim
            grown = False
            for s in list(todo):
                if claims[s.name] & files:
                    group.append(s)
                    files |= claims[s.name]
                    todo.remove(s)
                    grown = True
        if len(group) == 1:
            chosen.add(group[0].name)
            continue
        scores = {s.name: sum(_score(s, path, layers, tree_file, group) for path in claims[s.name]) for s in group}
        best = max(scores.values())
        chosen.update(name for name, sc in scores.items() if sc == best)
    return [s for s in specs if s.name in chosen]


def _score(spec: ModelSpec, path: str, layers: Sequence[Sequence[FileDiff]],
           tree_file: TreeReader | None, rivals: Sequence[ModelSpec]) -> float:
    ref = spec.references.get(path)
    if ref is None:
        return 0.0
    ref_path = spec.directory / ref
    text = tree_file(path) if tree_file is not None else None
    if text is not None:
        others = [r.directory / r.references[path] for r in rivals if r is not spec and path in r.references]
        return _distinctive_share(ref_path, others, text)
    lines = _reference(ref_path, spec.rel(ref))
    total = 0.0
    for layer in layers:
        for fd in layer:
            if fd.path == path:
                total += sum(_aligned(lines, h) for h in fd.hunks)
    return total


_SCORES: dict[tuple[int, tuple[HunkLine, ...]], tuple[list[SourceLine], float]] = {}
MEMO_HUNKS = 4096
MEMO_HUNK = 512  # lines: a longer hunk is aligned each time, the memo stays small


def _aligned(lines: list[SourceLine], h: Hunk) -> float:
    """alignment_score(), once per reference and hunk text: the earlier patches of a series are
    scored again for every later one."""
    if len(h.lines) > MEMO_HUNK:
        return alignment_score(lines, h)
    key = (id(lines), tuple(h.lines))
    hit = _SCORES.get(key)
    if hit is not None and hit[0] is lines:
        return hit[1]
    score = alignment_score(lines, h)
    if len(_SCORES) >= MEMO_HUNKS:
        _SCORES.clear()
    _SCORES[key] = (lines, score)
    return score


@lru_cache(maxsize=64)
def _reference(path: Path, rel: str) -> list[SourceLine]:
    return reference_lines(rel, path.read_text())


@lru_cache(maxsize=64)
def _identifiers(path: Path) -> frozenset[str]:
    return frozenset(_IDENT.findall(_code_only(path.read_text())))


def _distinctive_share(ref_path: Path, rival_paths: Sequence[Path], tree_text: str) -> float:
    """The share of the identifiers only this reference uses (no rival's reference of the same file
    does) that the tree's file uses too: what tells the versions apart is what they do not share.
    Our references are in our own words, so lines rarely match a tree's; the names they call do."""
    own = _identifiers(ref_path)
    for rp in rival_paths:
        own -= _identifiers(rp)
    if not own:
        return 0.0
    return len(own & set(_IDENT.findall(_code_only(tree_text)))) / len(own)


_IDENT = re.compile(r"[A-Za-z_]\w{3,}")


def _code_only(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))
