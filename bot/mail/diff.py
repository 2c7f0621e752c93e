"""Unified diff (as found in a mail body) → list[FileDiff] with old/new line numbers.

Own small parser rather than unidiff: unidiff raises on a hunk whose counts do not match
its body (common in hand-edited mail patches) and then loses the whole patch; it also
wants a clean diff, while a mail body mixes changelog, diffstat, signature and several
diffs. Here a bad hunk is truncated or dropped with a note in FileDiff.notes, and any
text that is not a diff is simply ignored.
"""

from __future__ import annotations

import re

from bot.patch import FileDiff, Hunk, HunkLine

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)")
_GIT = re.compile(r"diff --git (?:\"?a/)?(.+?)\"? (?:\"?b/)?(.+?)\"?$")
_MAX_LINE_NO = 10**9  # absurd hunk headers are noted, not trusted
MAX_HUNKS = 10_000  # per posting: each costs a parse and a placement; real series stay far below
MAX_DIFF_LINES = 50_000  # lines of all hunks of a posting: what the C front end parses and models
# Tokens of all hunks: the C front ends hold each token as objects and tree nodes (about 1 KB
# in all), so lines alone do not bound them (one line of 3 million tokens took 3 GB).
MAX_DIFF_TOKENS = 500_000
_TOKENS = re.compile(r"\w+|[^\w\s]")  # at least the C tokens (each punctuation character counts)
_TOO_MANY = "more than a review reads"


def _strip_prefix(p: str) -> str | None:
    p = p.split("\t", 1)[0].strip()
    if p.startswith('"') and p.endswith('"') and len(p) > 1:
        p = p[1:-1]
    if p == "/dev/null":
        return None
    if p.startswith(("a/", "b/")):
        return p[2:]
    return p


def _lines(text: str) -> list[str]:
    # CRLF mail bodies: git diffs never carry \r themselves, so dropping one trailing \r is safe
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


def parse_diff(text: str, max_hunks: int = MAX_HUNKS, max_lines: int = MAX_DIFF_LINES,
               max_tokens: int = MAX_DIFF_TOKENS) -> list[FileDiff]:
    """All file diffs in text, in order. Never raises on any str input. Past max_hunks hunks,
    max_lines lines or max_tokens tokens of hunks the rest is not read (too_large() says so)."""
    lines = _lines(text)
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    hunks = body = tokens = bound = 0
    uncounted: list[tuple[int, int]] = []  # hunks (line ranges) whose tokens are not counted yet
    i, n = 0, len(lines)
    while i < n:
        ln = lines[i]
        if ln.startswith("diff --git "):
            m = _GIT.match(ln)
            cur = FileDiff(old_path=m.group(1) if m else None, new_path=m.group(2) if m else None)
            files.append(cur)
            i += 1
            continue
        if ln.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefix(ln[4:]), _strip_prefix(lines[i + 1][4:])
            # a "diff --git" header already opened this file; otherwise a plain diff starts here
            if cur is None or cur.hunks or (cur.old_path, cur.new_path) == ("", ""):
                cur = FileDiff(old_path=old, new_path=new)
                files.append(cur)
            else:
                cur.old_path, cur.new_path = old, new
            i += 2
            continue
        if cur is not None and not cur.hunks:
            if _file_meta(cur, ln):
                i += 1
                continue
        if ln.startswith("@@ ") and cur is not None:
            if hunks >= max_hunks:
                cur.notes.append(f"{_TOO_MANY}: {max_hunks} hunks; the rest of the patch was not read")
                return files
            hunks += 1
            j = _hunk(lines, i, cur)
            body += j - i
            if body > max_lines:
                cur.notes.append(f"{_TOO_MANY}: {max_lines} lines of hunks; the rest of the patch was not read")
                return files
            # A token has at least one character, so the hunks' characters bound their tokens:
            # the hunks are counted (not kept) only once that bound could pass max_tokens.
            uncounted.append((i + 1, j))
            bound += len("".join(lines[i + 1:j]))
            if tokens + bound > max_tokens:
                tokens += sum(_TOKENS.subn("", ln[1:])[1] for a, b in uncounted for ln in lines[a:b])
                uncounted, bound = [], 0
            if tokens > max_tokens:
                cur.notes.append(f"{_TOO_MANY}: {max_tokens} tokens of hunks; the rest of the patch was not read")
                return files
            i = j
            continue
        i += 1
    return files


def too_large(files: list[FileDiff]) -> str:
    """Why parse_diff stopped reading ("more than a review reads: 10000 hunks"), or ""."""
    return next((note.split(";")[0] for fd in files for note in fd.notes if note.startswith(_TOO_MANY)), "")


def _file_meta(cur: FileDiff, ln: str) -> bool:
    """Extended git header lines between "diff --git" and the first hunk."""
    if ln.startswith("new file mode"):
        cur.old_path = None
    elif ln.startswith("deleted file mode"):
        cur.new_path = None
    elif ln.startswith("rename from "):
        cur.old_path = ln[12:].strip()
    elif ln.startswith("rename to "):
        cur.new_path = ln[10:].strip()
    elif ln.startswith("Binary files ") or ln == "GIT binary patch":
        cur.binary = True
    else:
        return ln.startswith(("index ", "old mode", "new mode", "similarity index", "dissimilarity index",
                              "copy from ", "copy to "))
    return True


# A line-by-line state machine over one hunk (context, -, +, no-newline markers, counts running out):
# its states share the counters, so splitting it would pass them all around.
def _hunk(lines: list[str], i: int, cur: FileDiff) -> int:  # noqa: C901
    """Parse the hunk at lines[i]; return the index of the first line after it."""
    m = _HUNK.match(lines[i])
    if not m:
        cur.notes.append(f"malformed hunk header skipped: {lines[i][:80]!r}")
        return i + 1
    old_start, new_start = int(m.group(1)), int(m.group(3))
    old_len = int(m.group(2)) if m.group(2) is not None else 1
    new_len = int(m.group(4)) if m.group(4) is not None else 1
    if max(old_start, new_start, old_len, new_len) > _MAX_LINE_NO:
        cur.notes.append(f"absurd hunk header skipped: {lines[i][:80]!r}")
        return i + 1
    hunk = Hunk(old_start, old_len, new_start, new_len, m.group(5).strip())
    add, line = hunk.lines.append, HunkLine  # the loop below runs for every line of a year's diffs
    old_no, new_no = old_start, new_start
    old_left, new_left = old_len, new_len
    i += 1
    n = len(lines)
    while i < n and (old_left > 0 or new_left > 0):
        ln = lines[i]
        tag = ln[:1]
        if tag == " " or (ln == "" and old_left > 0 and new_left > 0):
            # an empty line is a context line whose trailing space a mailer ate
            if old_left <= 0 or new_left <= 0:
                break
            add(line(" ", ln[1:], old_no, new_no))
            old_no += 1
            new_no += 1
            old_left -= 1
            new_left -= 1
        elif tag == "-" and not ln.startswith("-- ") or ln == "-":
            if old_left <= 0:
                break
            add(line("-", ln[1:], old_no, None))
            old_no += 1
            old_left -= 1
        elif tag == "+":
            if new_left <= 0:
                break
            add(line("+", ln[1:], None, new_no))
            new_no += 1
            new_left -= 1
        elif tag == "\\":
            pass  # "\ No newline at end of file"
        elif ln.startswith("-- ") and old_left > 0:
            # "-- foo" is a removed line "- foo"... unless it is the signature separator "-- "
            if ln == "-- ":
                break
            add(line("-", ln[1:], old_no, None))
            old_no += 1
            old_left -= 1
        else:
            break
        i += 1
    if old_left > 0 or new_left > 0:
        cur.notes.append(
            f"hunk @@ -{old_start},{old_len} +{new_start},{new_len} @@ ends early "
            f"({old_left} old / {new_left} new lines missing); kept {len(hunk.lines)} lines"
        )
    if hunk.lines:
        cur.hunks.append(hunk)
    # lines the header did not count ("+foo" after the counts ran out) are not trusted as hunk body
    extra = 0
    while i < n and lines[i][:1] in ("+", "-", " ") and not lines[i].startswith(("--- ", "+++ ", "-- ")) \
            and lines[i] != "-- ":
        extra += 1
        i += 1
    if extra:
        cur.notes.append(f"hunk @@ -{old_start},{old_len} +{new_start},{new_len} @@ is followed by "
                         f"{extra} uncounted lines; ignored")
    while i < n and lines[i].startswith("\\"):
        i += 1
    return i
