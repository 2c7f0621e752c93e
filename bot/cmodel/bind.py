"""Where the code under review comes from, when there is only the mail.

The model's reference source stands in for the file at the series' base; the patch's hunks are
applied to it the way `patch` applies them with fuzz, except that lines are compared after
normalisation (whitespace and comments dropped) and each hunk is placed by a local alignment of
its pre-image against the reference, in file order. Functions the hunks show come out with the
patch's own lines; what the hunks do not show comes from the reference model, and every line
remembers which of the two it came from.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from tree_sitter import Node

from bot.cmodel.program import SourceLine
from bot.csource import parse_c
from bot.patch import FileDiff, Hunk

_TRIVIAL = {"", "{", "}", "};", "else", "else{", "}else{", "}else", "return;", "break;", "returnNULL;",
            "#endif", "#else"}


_BLOCK_COMMENT = re.compile(r"/\*.*?\*/")
_LINE_COMMENT = re.compile(r"//.*")
_SPACE = re.compile(r"\s+")
# A reference's lines are aligned against every hunk: each distinct line is normalised once. A line
# longer than MEMO_LINE (none in kernel style) is not remembered, which keeps the memo small.
MEMO_LINES = 1 << 16
MEMO_LINE = 256


def normalise(text: str) -> str:
    return _normalised(text) if len(text) <= MEMO_LINE else _normalise(text)


@lru_cache(maxsize=MEMO_LINES)
def _normalised(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    return _SPACE.sub("", _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text)))


def _is_comment_only(text: str) -> bool:
    return _comment_only(text) if len(text) <= MEMO_LINE else _is_comment(text)


@lru_cache(maxsize=MEMO_LINES)
def _comment_only(text: str) -> bool:
    return _is_comment(text)


def _is_comment(text: str) -> bool:
    s = text.strip()
    return (not s or s.startswith(("/*", "* ", "*/", "//")) or s == "*" or s.endswith("*/") and "/*" not in s
            and "(" not in s)


MAX_ALIGN_CELLS = 2_000_000  # bounds the alignment's time on one hostile or huge hunk
MAX_FILE_CELLS = 6_000_000  # and on all hunks of one file (about 3 s): the rest are not placed


@dataclass
class BindReport:
    applied: int = 0
    appended: int = 0  # hunks whose context matched nothing: their added lines were appended
    outside: int = 0  # hunks of a partly modeled file that concern none of its modeled code
    failed: list[str] = field(default_factory=list)
    steps: int = 0  # alignment cells computed and lines indexed: bounded by MAX_FILE_CELLS per file


def apply_hunks(ref: list[SourceLine], fd: FileDiff, report: BindReport,
                partial: bool = False) -> list[SourceLine]:
    """The hunks of fd spliced onto ref. partial: ref states only part of its file; a hunk inside a
    function it does not define, or one that aligns with nothing there and names nothing it
    defines, changes code the model does not cover and is left out rather than failed."""
    lines = list(ref)
    known = defined_names(lines) if partial else None
    index = _Index(lines)
    start = 0
    ours: set[int] = set()  # ids of the lines this diff's hunks put in
    cells = MAX_FILE_CELLS
    for h in fd.hunks:
        if known is not None and _starts_in_unknown_function(h, known):
            report.outside += 1  # inside a function this partial reference does not state
            continue
        found, cost, out_of_steps = _place(index, h, start, cells - index.work)
        cells -= cost
        if found is None and start and not out_of_steps:
            # Code an earlier layer appended (its context matched nothing) sits at the end, out of
            # file order: a later hunk may match before it, as long as it replaces none of ours.
            again, cost, out_of_steps = _place(index, h, 0, cells - index.work)
            cells -= cost
            if again is not None and not any(id(sl) in ours for sl in lines[again[1]:again[2] + 1]):
                found = again
        if found is not None and _changes_outside(h, found[3], found[4]):
            # only part of the hunk's pre-image aligns: the rest edits code the model does not have
            # there, and splicing half an edit would run code neither side of the patch contains
            if known is not None and not _names_any(h, known):
                report.outside += 1
            else:
                report.failed.append(f"{fd.path}: hunk @@ -{h.old_start} +{h.new_start} matches the model "
                                     "only in part: some of its changes edit code the model does not have there")
            continue
        if found is None:
            added = [ln for ln in h.lines if ln.tag == "+"]
            if all(_is_comment_only(ln.text) for ln in added):
                continue  # a comment-only hunk changes nothing the model runs
            if known is not None and not _names_any(h, known):
                report.outside += 1
                continue
            if out_of_steps:
                report.failed.append(f"{fd.path}: hunk @@ -{h.old_start} +{h.new_start} not placed: the "
                                     f"file's hunks need more than {MAX_FILE_CELLS} alignment steps")
                continue
            if added:
                if not _whole_items([ln.text for ln in added]):
                    report.failed.append(f"{fd.path}: hunk @@ -{h.old_start} +{h.new_start} matches no modeled "
                                         "code, and its added lines are no whole function or declaration: "
                                         "nothing would run them")
                    continue
                first = len(lines)
                lines.extend(SourceLine(fd.path, ln.new_no or 0, ln.text, True, True) for ln in added)
                index.appended(first)
                report.appended += 1
            else:
                report.failed.append(f"{fd.path}: hunk @@ -{h.old_start} +{h.new_start} did not match the model")
            continue
        _score, r0, r1, a, b = found
        kept: list[SourceLine] = []
        removed = False
        for ln in h.lines[a:b + 1]:
            if ln.tag == "-":
                removed = True
                continue
            kept.append(SourceLine(fd.path, ln.new_no or 0, ln.text, True, ln.tag == "+", removed))
            removed = False
        new = _balance_comments(kept)
        lines[r0:r1 + 1] = new
        ours |= {id(sl) for sl in new}
        index.stale = True
        start = max(start, r0 + len(new))
        report.applied += 1
    report.steps += MAX_FILE_CELLS - cells + index.work
    return lines


def _changes_outside(h: Hunk, h0: int, h1: int) -> bool:
    """Whether an added or removed code line of the hunk lies outside its aligned region h0..h1 but
    in the same top-level item (no code line at column 0 lies between: a declarator, a closing
    brace, a preprocessor line): half of that function's edit would be placed. A change in another
    item is code the model does not state."""
    def boundary(k: int) -> bool:
        t = h.lines[k].text
        return bool(t[:1]) and not t[:1].isspace() and not _is_comment_only(t)

    for k, ln in enumerate(h.lines):
        if ln.tag not in "+-" or _is_comment_only(ln.text) or h0 <= k <= h1:
            continue
        between = range(k + 1, h0 + 1) if k < h0 else range(h1 + 1, k + 1)
        if not any(boundary(i) for i in between):
            return True
    return False


class _Index:
    """The code lines of the file being patched, normalised once: lines appended are added to it,
    and after a splice it is rebuilt, once, when next read (`work` counts the lines it normalised)."""

    def __init__(self, lines: list[SourceLine]) -> None:
        self.lines = lines
        self.code: list[tuple[int, str]] = []  # (index in lines, normalised text) of code lines
        self.words: set[str] = set()
        self.stale = True
        self.work = 0

    def appended(self, first: int) -> None:
        if not self.stale:
            self._add(first)

    def _add(self, first: int) -> None:
        new = [(j, normalise(self.lines[j].text)) for j in range(first, len(self.lines))
               if not _is_comment_only(self.lines[j].text)]
        self.code += new
        self.words.update(t for _j, t in new)
        self.work += len(self.lines) - first

    def after(self, start: int) -> tuple[list[tuple[int, str]], set[str]]:
        if self.stale:
            code, words = _code_lines(tuple(sl.text for sl in self.lines))
            self.code, self.words, self.stale = list(code), set(words), False
            self.work += len(self.lines)
        return self.code[bisect_left(self.code, (start, "")):], self.words


# A file's lines are indexed again by every build of a patch on it (a repost, the base of the next
# patch, each model choice): by their texts, once. An entry holds a file's texts.
MEMO_FILES = 64
MEMO_FILE_LINES = 20_000
_FILES: dict[tuple[str, ...], tuple[tuple[tuple[int, str], ...], frozenset[str]]] = {}


def _code_lines(texts: tuple[str, ...]) -> tuple[tuple[tuple[int, str], ...], frozenset[str]]:
    """(index, normalised text) of the code lines among texts, and those normalised texts."""
    hit = _FILES.get(texts)
    if hit is None:
        code = tuple((j, normalise(t)) for j, t in enumerate(texts) if not _is_comment_only(t))
        hit = (code, frozenset(t for _j, t in code))
        if len(texts) <= MEMO_FILE_LINES:
            if len(_FILES) >= MEMO_FILES:
                _FILES.clear()
            _FILES[texts] = hit
    return hit


_PREPROC_BLOCKS = {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"}


def _whole_items(texts: list[str]) -> bool:
    """Lines appended at the end of the file run only when they are whole top-level items (functions,
    declarations, preprocessor lines); statements or part of a body would sit where nothing runs."""
    root = parse_c("\n".join(texts) + "\n").root_node

    def top_level_ok(node: Node) -> bool:  # errors inside an item (container_of's type) are fine
        for child in node.children:
            if child.type in _PREPROC_BLOCKS:
                if not top_level_ok(child):
                    return False
            elif child.type == "ERROR" or child.type.endswith("statement") or child.is_missing:
                return False
        return True

    return top_level_ok(root)


def _balance_comments(lines: list[SourceLine]) -> list[SourceLine]:
    """Blank comment lines whose /* or */ lies outside the spliced region, so no code is swallowed."""
    out = list(lines)
    inside = False
    opener = -1
    for i, sl in enumerate(out):
        s = sl.text.strip()
        if not inside and (s.startswith(("* ", "*/")) or s == "*"):
            out[i] = SourceLine(sl.file, sl.line, "", sl.from_patch, sl.added, sl.after_removal)
            continue
        text = re.sub(r"/\*.*?\*/", "", sl.text)
        if inside:
            if "*/" in text:
                inside = False
        elif "/*" in text:
            inside, opener = True, i
    if inside:
        for i in range(opener, len(out)):
            sl = out[i]
            out[i] = SourceLine(sl.file, sl.line, "", sl.from_patch, sl.added, sl.after_removal)
    return out


_WORD = re.compile(r"[A-Za-z_]\w*")


def _names_any(h: Hunk, names: frozenset[str]) -> bool:
    """The hunk names a function of names: in git's section line (the definition the hunk begins
    after), unless the hunk itself opens a definition before its first change (the change is that
    function's, not the section's), or in its lines."""
    first_change = next((i for i, ln in enumerate(h.lines) if ln.tag != " "), len(h.lines))
    opens = any(_DEFINITION.match(ln.text) and not ln.text.rstrip().endswith(";")
                for ln in h.lines[:first_change])
    words = set() if opens else set(_WORD.findall(h.section))
    for ln in h.lines:
        words.update(_WORD.findall(ln.text))
    return bool(words & names)


_SECTION_FN = re.compile(r"([A-Za-z_]\w*)\s*\(")


def _starts_in_unknown_function(h: Hunk, known: frozenset[str]) -> bool:
    """The hunk begins inside the body of a function (git's section names it and the first code
    line is indented) that the partial reference does not state, and defines none it does."""
    m = _SECTION_FN.search(h.section)
    first = next((ln.text for ln in h.lines if ln.tag != "+" and ln.text.strip()
                  and not _is_comment_only(ln.text)), "")
    if not m or m.group(1) in known or not first[:1].isspace():
        return False
    return not any(re.match(rf"^\w[\w\s\*]*\b{re.escape(n)}\s*\(", ln.text) for ln in h.lines for n in known)


_DEFINES = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)")
_DEFINITION = re.compile(r"^[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\(")


def defined_names(lines: list[SourceLine]) -> frozenset[str]:
    """Functions (a definition's first line starts at column 0 and is no prototype) and macros."""
    out = set()
    for sl in lines:
        m = _DEFINES.match(sl.text)
        if m:
            out.add(m.group(1))
            continue
        m = _DEFINITION.match(sl.text)
        if m and not sl.text.rstrip().endswith(";"):
            out.add(m.group(1))
    return frozenset(out)


def alignment_score(lines: list[SourceLine], h: Hunk) -> float:
    """How well the hunk's pre-image aligns anywhere in lines (0 when it does not)."""
    found, _cost, _refused = _place(_Index(lines), h, 0, MAX_ALIGN_CELLS)
    return found[0] if found else 0.0


def _weight(line: str) -> float:
    return 0.5 if line in _TRIVIAL else (3.0 if len(line) > 12 else 1.5)


def _place(index: _Index, h: Hunk, start: int,
           cells: int) -> tuple[tuple[float, int, int, int, int] | None, int, bool]:
    """(best local alignment of the hunk's pre-image code lines against the lines from start on,
    the alignment steps it took, whether it was refused for want of steps); no placement when no
    alignment could reach the score that places a hunk."""
    pre = [(i, normalise(ln.text)) for i, ln in enumerate(h.lines)
           if ln.tag != "+" and not _is_comment_only(ln.text)]
    ref, words = index.after(start)
    if not pre or not ref or sum(_weight(t) for _i, t in pre if t in words) < 3.0:
        return None, 0, False
    n, m = len(pre), len(ref)
    if n * m > MAX_ALIGN_CELLS:
        return None, 0, False  # a hunk this size is no edit of the modeled functions we could place reliably
    if n * m > cells:
        return None, 0, True
    return _align(pre, ref, h), n * m, False


def _align(pre: list[tuple[int, str]], ref: list[tuple[int, str]],
           h: Hunk) -> tuple[float, int, int, int, int] | None:
    score, first_i, first_j, end_i, end_j = _local_alignment(tuple(t for _, t in pre), tuple(t for _, t in ref))
    if score < 3.0:
        return None
    h0 = pre[first_i - 1][0]
    h1 = pre[end_i - 1][0]
    r0 = ref[first_j - 1][0]
    r1 = ref[end_j - 1][0]
    # Added lines next to the matched region (across blank and comment context) belong to it.
    j = h0
    while j > 0 and (h.lines[j - 1].tag in "+-" or _is_comment_only(h.lines[j - 1].text)):
        j -= 1
        if h.lines[j].tag in "+-":
            h0 = j
    j = h1
    while j + 1 < len(h.lines) and (h.lines[j + 1].tag in "+-" or _is_comment_only(h.lines[j + 1].text)):
        j += 1
        if h.lines[j].tag in "+-":
            h1 = j
    return score, r0, r1, h0, h1


# Each build aligns its hunks again, and so does each model choice: a year of one list aligns about
# six hundred distinct pairs ten times each. A pair holds its texts (a reference's size at most).
MEMO_ALIGNMENTS = 1024
MEMO_ALIGNED_LINES = 8192  # a longer reference is aligned each time, the memo stays small
_ALIGNMENTS: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[float, int, int, int, int]] = {}


def _local_alignment(pre: tuple[str, ...], ref: tuple[str, ...]) -> tuple[float, int, int, int, int]:
    """The best local alignment of pre against ref: its score and its first and last lines in each
    (from 1), once per pair of texts."""
    key = (pre, ref)
    hit = _ALIGNMENTS.get(key)
    if hit is None or len(ref) > MEMO_ALIGNED_LINES:
        score, i, j, back = _smith_waterman(pre, ref)
        end_i, end_j = first_i, first_j = i, j
        while i > 0 and j > 0 and back[i][j] != 0:
            if back[i][j] == 1:
                first_i, first_j = i, j
                i, j = i - 1, j - 1
            elif back[i][j] == 2:
                i -= 1
            else:
                j -= 1
        if len(_ALIGNMENTS) >= MEMO_ALIGNMENTS:
            _ALIGNMENTS.clear()
        hit = _ALIGNMENTS[key] = (score, first_i, first_j, end_i, end_j)
    return hit


def _smith_waterman(pre: Sequence[str], ref: Sequence[str]) -> tuple[float, int, int, list[list[int]]]:
    """Local alignment of normalised lines: distinctive lines weigh more than braces. The best
    score, where it ends, and the moves back from there (0 stop, 1 diag, 2 up, 3 left)."""
    n, m = len(pre), len(ref)
    gap = -1.0
    prev = [0.0] * (m + 1)
    best = (0.0, 0, 0)
    back: list[list[int]] = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cur = [0.0] * (m + 1)
        pi = pre[i - 1]
        w = 0.5 if pi in _TRIVIAL else (3.0 if len(pi) > 12 else 1.5)
        row = back[i]
        for j in range(1, m + 1):
            # max(0.0, diag, up, left) written out: this loop is most of binding a patch's cost
            diag = prev[j - 1] + (w if pi == ref[j - 1] else -1.0)
            up = prev[j] + gap
            s = diag if diag > up else up
            left = cur[j - 1] + gap
            if left > s:
                s = left
            if s > 0.0:
                cur[j] = s
                row[j] = 1 if s == diag else (2 if s == up else 3)
                if s > best[0]:
                    best = (s, i, j)
        prev = cur
    return best[0], best[1], best[2], back


def reference_lines(rel_name: str, text: str) -> list[SourceLine]:
    return [SourceLine(rel_name, i + 1, t, False, False) for i, t in enumerate(text.splitlines())]


def new_file_lines(fd: FileDiff) -> list[SourceLine]:
    """A file the model has no reference for: only what the hunks show."""
    out: list[SourceLine] = []
    for h in fd.hunks:
        out.extend(SourceLine(fd.path, ln.new_no or 0, ln.text, True, ln.tag == "+") for ln in h.lines
                   if ln.tag != "-")
    return out


def apply_exact(lines: list[SourceLine], fd: FileDiff) -> list[SourceLine] | None:
    """The hunks applied the way `git apply` does to the file they were made against: each hunk's
    pre-image must match at its line (allowing a constant offset, as `git am -3` does), and every
    line comes out with its post-image number. None when a hunk does not match exactly (the caller
    then aligns, as for the reference model)."""
    out: list[SourceLine] = []
    pos = 0  # next unconsumed index of lines
    offset = 0
    for h in fd.hunks:
        pre = [ln.text.rstrip() for ln in h.lines if ln.tag != "+"]
        at = _find_exact(lines, pre, h.old_start - 1 + offset, pos)
        if at is None:
            return None
        offset = at - (h.old_start - 1)
        out.extend(lines[pos:at])
        removed = False
        for ln in h.lines:
            if ln.tag == "-":
                removed = True
                continue
            out.append(SourceLine(fd.path, 0, ln.text, True, ln.tag == "+", removed))
            removed = False
        pos = at + len(pre)
    out.extend(lines[pos:])
    return [SourceLine(sl.file, i + 1, sl.text, sl.from_patch, sl.added, sl.after_removal) for i, sl in enumerate(out)]


def _find_exact(lines: list[SourceLine], pre: list[str], want: int, lo: int) -> int | None:
    """The index nearest `want` (not before `lo`) where `pre` matches line for line."""
    def matches(i: int) -> bool:
        return i + len(pre) <= len(lines) and all(lines[i + k].text.rstrip() == pre[k] for k in range(len(pre)))
    for d in range(0, 2000):
        for i in (want - d, want + d) if d else (want,):
            if i >= lo and matches(i):
                return i
        if want - d < lo and want + d > len(lines):
            break
    return None
