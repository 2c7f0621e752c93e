"""A patched function that reads a name it no longer declares: the patch as posted would not
compile.

The interpreter reports a name the code reads that nothing defines ("F() reads X, which nothing
defines"). When the patch's own removed lines in F declared X (a local or a parameter it renamed
or dropped, the added lines declaring none), that is not a gap of the model but a fault of the
posting: C would reject it. The review says so plainly instead of "not judged" with the
interpreter's words, and draws no finding from code that cannot be built.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.patch import HunkLine, Posting

if TYPE_CHECKING:
    from bot.cmodel.models import Bound
    from bot.verdict import ScenarioFailure

_READ = re.compile(r"\b([A-Za-z_]\w*)\(\) reads ([A-Za-z_]\w*), which nothing defines")


def _declares(text: str, name: str) -> bool:
    """A line that declares `name`: a type (words and stars) right before it, then `=`, `;`, `,`,
    `[` or `)` (a parameter)."""
    pat = rf"(?:\b(?:struct|union|enum)\s+)?\b[A-Za-z_]\w*[\s*]+{re.escape(name)}\s*(?:=|;|,|\[|\))"
    return re.search(pat, text) is not None and not re.search(rf"[.>]\s*{re.escape(name)}\b", text.split("=")[0])


def _removed_lines_of(p: Posting, path: str, first: int, last: int) -> tuple[list[str], list[str]]:
    """The removed and the added lines of the posting that fall inside post-image lines
    first..last of path."""
    removed: list[str] = []
    added: list[str] = []
    for fd in p.files:
        if fd.path != path:
            continue
        for h in fd.hunks:
            prev: int | None = None
            lines: list[HunkLine] = h.lines
            for i, ln in enumerate(lines):
                if ln.tag != "-":
                    prev = ln.new_no
                    if ln.tag == "+" and ln.new_no is not None and first <= ln.new_no <= last:
                        added.append(ln.text)
                    continue
                nxt = next((x.new_no for x in lines[i + 1:] if x.tag != "-"), None)
                if any(n is not None and first <= n <= last for n in (prev, nxt)):
                    removed.append(ln.text)
    return removed, added


def undeclared_reads(p: Posting, bound: Bound, failed: dict[str, ScenarioFailure]) -> tuple[list[str], set[str]]:
    """Plain reasons for each changed function of the posting that reads a name its removed lines
    declared and its added lines do not, and the scenarios whose failure they explain."""
    out: list[str] = []
    explained: set[str] = set()
    for sc, fail in failed.items():
        for fn, name in _READ.findall(fail.reason):
            if fn not in bound.changed or fn not in bound.spans:
                continue
            path, first, last = bound.spans[fn]
            removed, added = _removed_lines_of(p, path, first, last)
            if any(_declares(t, name) for t in removed) and not any(_declares(t, name) for t in added):
                why = (f"{fn}() reads {name}, which the patch no longer declares there (it renames or removes "
                       f"that declaration): the patch as posted would not compile")
                explained.add(sc)
                if why not in out:
                    out.append(why)
    return out, explained
