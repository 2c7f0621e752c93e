"""Code pasted into a reply without diff headers: a proposal on top of the patch it answers.

Reviewers answer a patch with a function as they would write it ("something like this:", then the
function). The reply's own lines (not the quoted ones) are searched for whole C function
definitions: a header that starts in column 0 and a body from `{` to the `}` in column 0 that
closes it. Each one becomes a hunk of added lines in the file of the answered patch that defines
the function (its diff, else a model's reference of one of its files); the binder then runs it in
place of that function, on top of the answered patch and its base. The subject and the prose play
no part: only the code.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from bot.patch import FileDiff, Hunk, HunkLine, Posting

MAX_PASTED_LINES = 400  # a reply pasting more than this is a file, not a proposal
MAX_HEADER = 200  # longer lines are prose (and the header pattern stays linear)
_HEADER = re.compile(r"^(?:[A-Za-z_][\w \t\*]*?[ \t\*])?([A-Za-z_]\w*)\s*\(([^;{}]*)(?:\{\s*)?$")
_TYPE_LINE = re.compile(r"^(?:static|inline|extern|const|unsigned|struct|void|int|long|bool|char)\b[\w\s\*]*$")
_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}


@dataclass
class Pasted:
    name: str
    lines: list[str]


def _own_lines(body: str) -> list[str]:
    """The reply's own text: quoted lines ("> …") and everything from the signature on are not."""
    out: list[str] = []
    for ln in body.splitlines():
        if ln.rstrip() == "--":
            break
        out.append("" if ln.lstrip().startswith(">") else ln.rstrip("\r"))
    return out


def pasted_functions(body: str) -> list[Pasted]:
    """Whole function definitions among the reply's own lines, in order. A function pasted with an
    indentation (a tab, some spaces) is taken when its header has a return type and its closing `}`
    has the same indentation; it comes back without it."""
    lines = _own_lines(body)
    closers: dict[str, list[int]] = {}  # indentation → the lines that are only "}" there
    for k, t in enumerate(lines):
        if t.strip() == "}":
            closers.setdefault(t[:t.index("}")], []).append(k)
    out: list[Pasted] = []
    i = 0
    while i < len(lines):
        found = _function_at(lines, i, closers)
        if found is None:
            i += 1
            continue
        out.append(found[0])
        i = found[1] + 1
    return out


def _function_at(lines: list[str], i: int, closers: dict[str, list[int]]) -> tuple[Pasted, int] | None:
    """The function whose header starts at line i, and the line of its closing brace."""
    line = lines[i]
    ind = line[:len(line) - len(line.lstrip())]
    if "(" not in line or len(line) > MAX_HEADER or ind not in closers:
        return None
    m = _HEADER.match(line[len(ind):])
    if m is None or m.group(1) in _KEYWORDS or (ind and not m.start(1)):
        return None
    j = i
    while j < len(lines) and ")" not in lines[j] and j - i < 6:  # a header over several lines
        j += 1
    if j + 1 >= len(lines) or lines[j + 1].strip() != "{" and not lines[j].rstrip().endswith("{"):
        return None
    ends = closers[ind]
    at = bisect.bisect_right(ends, j)
    if at == len(ends) or ends[at] >= i + MAX_PASTED_LINES:
        return None
    end = ends[at]
    first = i - 1 if i and _TYPE_LINE.match(lines[i - 1][len(ind):]) else i  # "static void" on its own line
    text = [t[len(ind):] if t.startswith(ind) else t.lstrip() for t in lines[first:end + 1]]
    joined = "\n".join(text)
    if joined.count("{") != joined.count("}"):
        return None
    return Pasted(m.group(1), text), end


def _defines(lines: list[str], name: str) -> bool:
    pat = re.compile(rf"^[A-Za-z_].*\b{re.escape(name)}\s*\(")
    return any(pat.match(t) and not t.rstrip().endswith(";") for t in lines)


def proposal(reply: Posting, answered: Posting, reference_of: dict[str, list[str]]) -> Posting | None:
    """The reply as a diff on top of `answered`: each pasted function as added lines in the file
    that defines it. reference_of: kernel path → a model's reference lines (where the answered
    patch's hunks do not show the function). None when nothing pasted belongs to such a file."""
    if reply.files:
        return None
    files: dict[str, FileDiff] = {}
    for fn in pasted_functions(reply.body):
        path = next((fd.path for fd in answered.files
                     if _defines([ln.text for h in fd.hunks for ln in h.lines if ln.tag != "-"], fn.name)), None)
        if path is None:
            path = next((fd.path for fd in answered.files if _defines(reference_of.get(fd.path, []), fn.name)), None)
        if path is None:
            continue
        fd = files.setdefault(path, FileDiff(path, path))
        fd.hunks.append(Hunk(0, 0, 0, len(fn.lines), fn.name,
                             [HunkLine("+", t, None, k + 1) for k, t in enumerate(fn.lines)]))
    if not files:
        return None
    return replace(reply, files=list(files.values()))


# What pasted_functions() needs, on the raw bytes: an unquoted line ending in `{` (its own line or
# the header's) and a line that is only `}`, both at any indentation.
_OPENS = re.compile(rb"^[^>\r\n]*\{[ \t]*\r?$", re.M)
_CLOSES = re.compile(rb"^[ \t]*\}[ \t]*\r?$", re.M)


def looks_pasted(raw: bytes) -> bool:
    """Cheap test on a message's bytes before its body is decoded: true whenever
    pasted_functions() could find a function (a superset, so no shape it takes is lost)."""
    return _CLOSES.search(raw) is not None and _OPENS.search(raw) is not None


def proposal_note(q: Posting, answered: Posting) -> str:
    """What the review says about a proposal: what it replaced, on top of which patch."""
    where = "; ".join(f"{', '.join(h.section + '()' for h in fd.hunks)} in {fd.path}" for fd in q.files)
    return (f"reviewed as a proposal on top of <{answered.msgid}> {answered.subject}: the functions pasted in "
            f"this reply replace {where}")
