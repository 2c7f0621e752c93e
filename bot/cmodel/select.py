"""Which models judge a posting, when several models state different versions of one file.

A kernel file can have more than one reference model: s390's pgalloc.c with 2K fragments and with
whole-page tables, the ptdesc API with its page-table lock freed at once or after a grace period.
Which one the posting applies to is read from the code, never from the subject or the date: with
a kernel tree, the model whose references are closest to the tree's files; from the mail alone, the
model whose references the hunks' pre-images align with best (the earlier patches of the series
count too, since they are what the posting sits on). Models that score the same are all run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from bot.cmodel.bind import alignment_score, normalise, reference_lines
from bot.cmodel.models import ModelSpec
from bot.cmodel.program import SourceLine
from bot.patch import FileDiff

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
        scores = {s.name: sum(_score(s, path, layers, tree_file) for path in claims[s.name]) for s in group}
        best = max(scores.values())
        chosen.update(name for name, sc in scores.items() if sc == best)
    return [s for s in specs if s.name in chosen]


def _score(spec: ModelSpec, path: str, layers: Sequence[Sequence[FileDiff]],
           tree_file: TreeReader | None) -> float:
    ref = spec.references.get(path)
    if ref is None:
        return 0.0
    ref_path = spec.directory / ref
    text = tree_file(path) if tree_file is not None else None
    if text is not None:
        return _overlap(ref_path, text)
    lines = _reference(ref_path, spec.rel(ref))
    total = 0.0
    for layer in layers:
        for fd in layer:
            if fd.path == path:
                total += sum(alignment_score(lines, h) for h in fd.hunks)
    return total


@lru_cache(maxsize=64)
def _reference(path: Path, rel: str) -> list[SourceLine]:
    return reference_lines(rel, path.read_text())


def _overlap(ref_path: Path, tree_text: str) -> float:
    """The share of the reference's code lines that the tree's file has."""
    ref = {n for ln in ref_path.read_text().splitlines() if len(n := normalise(ln)) > 2}
    if not ref:
        return 0.0
    tree = {normalise(ln) for ln in tree_text.splitlines()}
    return len(ref & tree) / len(ref)
