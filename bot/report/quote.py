"""The patch lines a finding is about, as reviewers quote them: the hunk around Finding.line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.findings import Finding

CONTEXT = 3  # post-image lines quoted either side of the finding's line


@dataclass
class Quote:
    file: str
    header: str  # "@@ -a,b +c,d @@ section", "" for an evidence fallback
    lines: list[str] = field(default_factory=list)  # diff lines with their tag ("+", "-", " ")
    marked: int | None = None  # index in `lines` of the finding's own line
    trimmed_before: bool = False
    trimmed_after: bool = False
    from_diff: bool = True
    gaps: list[int] = field(default_factory=list)  # indices in `lines` where a "[...]" goes before


def _same_file(diff_path: str, finding_path: str) -> bool:
    if not diff_path or not finding_path:
        return False
    return (
        diff_path == finding_path
        or diff_path.endswith("/" + finding_path)
        or finding_path.endswith("/" + diff_path)
    )


def _locate(finding: Finding, posting: Any) -> tuple[Any, int, int, int, int] | None:
    """(file diff, hunk index, the finding's line index, window start, window end) in the patch."""
    for fd in getattr(posting, "files", None) or []:
        if not _same_file(fd.path, finding.file):
            continue
        for h_no, hunk in enumerate(fd.hunks):
            idx = [i for i, ln in enumerate(hunk.lines) if ln.new_no == finding.line]
            if not idx:
                continue
            at = idx[0]
            lo = at
            while lo > 0 and (
                hunk.lines[lo - 1].new_no is None or hunk.lines[lo - 1].new_no >= finding.line - CONTEXT
            ):
                lo -= 1
            hi = at
            while hi + 1 < len(hunk.lines) and (
                hunk.lines[hi + 1].new_no is None or hunk.lines[hi + 1].new_no <= finding.line + CONTEXT
            ):
                hi += 1
            # a run of "-" lines at the edge is only context for what was removed: keep it short
            while hi > at and hunk.lines[hi].tag == "-":
                hi -= 1
            return fd, h_no, at, lo, hi
    return None


def hunk_key(finding: Finding, posting: Any) -> tuple[str, int] | None:
    """Which hunk of the patch a finding's quote comes from (None: quoted from its evidence)."""
    where = _locate(finding, posting)
    return (where[0].path, where[1]) if where else None


def quote_for(finding: Finding, posting: Any) -> Quote:
    """Quote the hunk lines within CONTEXT post-image lines of the finding; else its evidence."""
    return quote_group([finding], posting)


def quote_group(findings: list[Finding], posting: Any) -> Quote:
    """One quote of the hunk the findings share (hunk_key), each finding's window of it, windows
    that do not touch separated by "[...]"; `marked` is the first finding's line."""
    located = [w for f in findings if (w := _locate(f, posting)) is not None]
    if not located:
        f = findings[0]
        return Quote(file=f.file, header="", lines=list(f.evidence), from_diff=False)
    fd, h_no = located[0][0], located[0][1]
    hunk = fd.hunks[h_no]
    windows = sorted((lo, hi) for w_fd, w_h, _at, lo, hi in located if w_fd is fd and w_h == h_no)
    merged: list[list[int]] = []
    for lo, hi in windows:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    lines: list[str] = []
    gaps: list[int] = []
    index: dict[int, int] = {}  # hunk line → index in lines
    for n, (lo, hi) in enumerate(merged):
        if n:
            gaps.append(len(lines))
        for i in range(lo, hi + 1):
            index[i] = len(lines)
            lines.append(hunk.lines[i].tag + hunk.lines[i].text)
    header = f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@"
    if hunk.section:
        header += " " + hunk.section.strip()
    return Quote(
        file=fd.path,
        header=header,
        lines=lines,
        marked=index[located[0][2]],
        trimmed_before=merged[0][0] > 0,
        trimmed_after=merged[-1][1] + 1 < len(hunk.lines),
        gaps=gaps,
    )
