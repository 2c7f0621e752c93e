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


def _same_file(diff_path: str, finding_path: str) -> bool:
    if not diff_path or not finding_path:
        return False
    return (
        diff_path == finding_path
        or diff_path.endswith("/" + finding_path)
        or finding_path.endswith("/" + diff_path)
    )


def quote_for(finding: Finding, posting: Any) -> Quote:
    """Quote the hunk lines within CONTEXT post-image lines of the finding; else its evidence."""
    for fd in getattr(posting, "files", None) or []:
        if not _same_file(fd.path, finding.file):
            continue
        for hunk in fd.hunks:
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
            header = f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@"
            if hunk.section:
                header += " " + hunk.section.strip()
            return Quote(
                file=fd.path,
                header=header,
                lines=[ln.tag + ln.text for ln in hunk.lines[lo : hi + 1]],
                marked=at - lo,
                trimmed_before=lo > 0,
                trimmed_after=hi + 1 < len(hunk.lines),
            )
    return Quote(file=finding.file, header="", lines=list(finding.evidence), from_diff=False)
