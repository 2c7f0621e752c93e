"""The patch a lone posting applies on top of, found from its code.

A patch posted on its own ("prospective 13/12 …", a fix sent as a new thread) may apply on top of
another patch that is not yet in any tree: its removed and context lines are that patch's added
lines. When a lone posting's hunks remove lines that no model's reference has but an earlier
posting of the same files adds, that posting (with its own base) is the code it applies to. The
subject and the changelog play no part: only the lines.
"""

from __future__ import annotations

import re

from bot.patch import Posting

MIN_EVIDENCE = 2  # distinctive lines that must match: one could be a coincidence


def norm_line(text: str) -> str:
    """A line as the comparison sees it: no comments, no white space."""
    return re.sub(r"\s+", "", re.sub(r"/\*.*?\*/|//.*", "", text))


def _distinctive(text: str) -> bool:
    s = norm_line(text)
    return len(s) > 12 and not s.startswith(("*", "/*", "#include"))


def _removed(p: Posting, path: str) -> set[str]:
    return {norm_line(ln.text) for fd in p.files if fd.path == path for h in fd.hunks for ln in h.lines
            if ln.tag == "-" and _distinctive(ln.text)}


def _added(p: Posting, path: str) -> set[str]:
    return {norm_line(ln.text) for fd in p.files if fd.path == path for h in fd.hunks for ln in h.lines
            if ln.tag == "+" and _distinctive(ln.text)}


def applies_on(p: Posting, context: list[Posting], known_lines: dict[str, set[str]]) -> tuple[Posting, int] | None:
    """(the earlier formal posting whose added lines p removes, how many lines say so), or None.
    known_lines: per kernel path, the normalised lines the models' reference already has."""
    best: tuple[int, int, Posting] | None = None
    for path, ref in known_lines.items():
        want = _removed(p, path) - ref
        if len(want) < MIN_EVIDENCE:
            continue
        for i, q in enumerate(context):
            if q is p:
                break  # only what was posted before it
            if q.is_reply or not q.files:
                continue
            hits = len(want & _added(q, path))
            if hits >= MIN_EVIDENCE and (best is None or (hits, i) > best[:2]):
                best = (hits, i, q)
    return (best[2], best[0]) if best else None
