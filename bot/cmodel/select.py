"""Which models judge a posting, when several models state different versions of one file.

A kernel file can have more than one reference model: s390's pgalloc.c with 2K fragments and with
whole-page tables, the ptdesc API with its page-table lock freed at once or after a grace period.
Which one the posting applies to is read from the code, never from the subject or the date: with
a kernel tree, the model whose reference shares most of its own names (those no rival uses) with
the tree's file; from the mail alone, the model whose references the hunks' pre-images align with
best (the earlier patches of the series count too, since they are what the posting sits on), less
what a reference already defines of the functions the hunks add anew. A header with a reference
counts as a file; a hunk that aligns nowhere but replaces whole a definition the reference states
in another shape scores by how alike the names of the two bodies are. Models that score the same
are all run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from bot.cmodel.bind import alignment_score, defined_names, reference_lines
from bot.cmodel.models import ModelSpec, diff_digest, joined_reference
from bot.cmodel.program import SourceLine, read_only_unit
from bot.patch import FileDiff, Hunk, HunkLine

TreeReader = Callable[[str], "str | None"]
RefKey = tuple[tuple[str, Path], ...]  # a reference's parts: (models/... name, file)


def choose(specs: Sequence[ModelSpec], layers: Sequence[Sequence[FileDiff]],
           tree_file: TreeReader | None = None) -> list[ModelSpec]:
    """The models that judge the last layer, in load order. Models that claim a file it changes
    compete with every other model claiming one of those files; of each such group the ones with
    the best total score over the changed files they claim judge (ties all do)."""
    changed = {fd.path for fd in layers[-1]} if layers else set()
    claims = {s.name: changed & set(s.reads) for s in specs}
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
        if len(group) == 1 or not any(_has_reference(s, path) for s in group for path in files):
            # one model, or headers alone that none of them states as a file: the models read them
            # alike (the same header code on bases the change does not touch), and one judges
            chosen.add(group[0].name)
            continue
        scores = {s.name: sum(_score(s, path, layers, tree_file, group) for path in claims[s.name]) for s in group}
        best = max(scores.values())
        chosen.update(name for name, sc in scores.items() if sc == best)
    return [s for s in specs if s.name in chosen]


def _has_reference(spec: ModelSpec, path: str) -> bool:
    return path in spec.reference_parts or bool(spec.headers.get(path))


def _key(spec: ModelSpec, path: str) -> RefKey:
    """A file's reference parts, or a header's one reference file."""
    if path in spec.reference_parts:
        return spec.reference_key(path)
    ref = spec.headers[path]
    return ((spec.rel(ref), spec.directory / ref),)


def _score(spec: ModelSpec, path: str, layers: Sequence[Sequence[FileDiff]],
           tree_file: TreeReader | None, rivals: Sequence[ModelSpec]) -> float:
    if not _has_reference(spec, path):
        return 0.0
    text = tree_file(path) if tree_file is not None else None
    if text is not None:
        others = [_key(r, path) for r in rivals if r is not spec and _has_reference(r, path)]
        return _distinctive_share(_key(spec, path), others, text)
    key = _key(spec, path)
    return sum(_diff_score(key, fd) for layer in layers for fd in layer if fd.path == path)


_DIFFS: dict[tuple[RefKey, str], float] = {}
MEMO_DIFFS = 4096


def _diff_score(key: RefKey, fd: FileDiff) -> float:
    """What one diff adds to its file's score against a reference, once per (reference, the diff's
    content): the earlier patches of a series are scored again for every later one, and a later
    revision repeats them. The reference's parts decide its lines and what it defines."""
    memo = (key, diff_digest(fd))
    hit = _DIFFS.get(memo)
    if hit is not None:
        return hit
    lines = joined_reference(key)  # one list per reference: _aligned() keys on it
    score = sum(_aligned(lines, h) or _resembles(key, h) for h in fd.hunks)
    # a function the hunks bring in anew is one the file they were made against lacks
    score -= ADDED_BUT_KNOWN * len(_added_definitions(fd) & _defined(key))
    if len(_DIFFS) >= MEMO_DIFFS:
        _DIFFS.clear()
    _DIFFS[memo] = score
    return score


ADDED_BUT_KNOWN = 3.0  # what one distinctive aligned line weighs (bot/cmodel/bind.py)


def _resembles(key: RefKey, h: Hunk) -> float:
    """A hunk that aligns nowhere but replaces whole a definition the reference states in another
    shape (a one-line macro for a static inline): how much alike the two bodies are, by the names
    they use (one aligned line's weight for the same names)."""
    before = _bodies("\n".join(ln.text for ln in h.lines if ln.tag != "+"))
    if not before:
        return 0.0
    ours = _reference_bodies(key)
    return ADDED_BUT_KNOWN * sum(len(ids & ours[name]) / len(ids | ours[name])
                                 for name, ids in before.items() if name in ours and ids | ours[name])


def _bodies(text: str) -> dict[str, frozenset[str]]:
    """The names each function or function-like macro of text uses, its own name and parameters aside."""
    unit = read_only_unit(text)  # only its functions' names, parameters and lines are read
    rows = text.split("\n")
    out = {}
    for name, fn in {**unit.functions, **unit.macro_functions}.items():
        span = "\n".join(rows[fn.line - 1: fn.end_line])
        ids = set(re.findall(r"[A-Za-z_]\w*", span)) - {name} - set(getattr(fn, "params", ()) or ())
        out[name] = frozenset(ids - _C_WORDS)
    return out


_C_WORDS = frozenset({"static", "inline", "void", "struct", "unsigned", "long", "int", "define", "do", "while",
                      "if", "else", "return", "const"})


@lru_cache(maxsize=64)
def _reference_bodies(key: RefKey) -> dict[str, frozenset[str]]:
    return _bodies("\n".join(sl.text for sl in joined_reference(key)))


def _added_definitions(fd: FileDiff) -> set[str]:
    def names(tag: str) -> frozenset[str]:
        return defined_names([SourceLine(fd.path, 0, ln.text, True, False)
                              for h in fd.hunks for ln in h.lines if ln.tag == tag])
    return set(names("+") - names("-"))


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


def _defined(key: RefKey) -> frozenset[str]:
    return _defined_in(tuple(p for _rel, p in key), key[-1][0])


@lru_cache(maxsize=64)
def _defined_in(paths: tuple[Path, ...], rel: str) -> frozenset[str]:
    return defined_names(_lines_of(paths, rel))


@lru_cache(maxsize=64)
def _lines_of(paths: tuple[Path, ...], rel: str) -> list[SourceLine]:
    return reference_lines(rel, "\n".join(p.read_text() for p in paths))


@lru_cache(maxsize=64)
def _identifiers(key: RefKey) -> frozenset[str]:
    """The names a reference uses (what a later part replaces of an earlier one left out)."""
    return frozenset(_IDENT.findall(_code_only("\n".join(sl.text for sl in joined_reference(key)))))


def _distinctive_share(ref_paths: RefKey, rival_paths: Sequence[RefKey], tree_text: str) -> float:
    """The share of the identifiers only this reference uses (no rival's reference of the same file
    does) that the tree's file uses too: what tells the versions apart is what they do not share.
    Our references are in our own words, so lines rarely match a tree's; the names they call do."""
    own = _identifiers(ref_paths)
    for rp in rival_paths:
        own -= _identifiers(rp)
    if not own:
        return 0.0
    return len(own & set(_IDENT.findall(_code_only(tree_text)))) / len(own)


_IDENT = re.compile(r"[A-Za-z_]\w{3,}")


def _code_only(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))
