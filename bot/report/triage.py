"""The summary a terminal shows first: what was counted, then one line per relevant posting.

    review-bot: 63 messages: 12 patches and 5 diffs in replies reviewed (9 with correctness
    findings, 3 judged clean, 2 not judged, 3 not relevant), 46 other messages not reviewed.

      date        posting                                   verdict
      2023-05-28  [PATCH 05/12] powerpc: add pte_free_de…   findings: RCU_HEAD_SHARED
      2023-05-28  [PATCH 06/12] sparc: add pte_free_defer…  judged clean
      2023-05-28  [PATCH 01/12] mm/pgtable: add rcu_read_…  not judged: __pte_offset_map() changes …

`check` prints this block before the details; `scan` prints only this block unless --details.
The verdict column is the short form of bot.report.verdict's line (the same states and reasons).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from bot.findings import Report, Review
from bot.report.summary import summary_line
from bot.report.textutil import oneline
from bot.report.verdict import verdict_view

DATE_W = 10
GAP = 2
INDENT = 2
MIN_SUBJECT = 24


def short_verdict(review: Review) -> str:
    """findings: HAZARDS / judged clean / not judged: the first reason (the verdict column)."""
    v = verdict_view(review)
    others = sorted({f.hazard for f in review.findings if f.cls != "correctness"})
    extra = f"; also {', '.join(others)}" if others else ""
    if v.state == "findings":
        return f"findings: {', '.join(v.correctness)}{extra}"
    if v.state == "judged":
        return f"judged clean{extra}"
    if v.state == "not judged":
        more = f" (+{len(v.reasons) - 1} more)" if len(v.reasons) > 1 else ""
        return f"not judged: {oneline(v.reasons[0])}{more}"
    return "not relevant"


def posting_date(review: Review) -> str:
    raw = oneline(getattr(review.posting, "date", "") or "")
    try:
        return parsedate_to_datetime(raw).strftime("%Y-%m-%d")
    except (TypeError, ValueError, IndexError, OverflowError):
        return raw[:DATE_W].ljust(DATE_W) if raw else "?".ljust(DATE_W)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def triage_table(report: Report, width: int = 100, fit: bool = False) -> list[str]:
    """One line per relevant posting, in the order read. The subject is cut to its column; the
    verdict is cut to the width only when `fit` (a terminal, where a wrapped line breaks the table)."""
    rows = [(posting_date(r), oneline(r.subject) or f"<{oneline(r.msgid)}>", short_verdict(r))
            for r in report.reviews if r.relevant]
    if not rows:
        return []
    room = width - INDENT - DATE_W - 2 * GAP
    longest = max(len(s) for _, s, _ in rows)
    subject_w = max(MIN_SUBJECT, min(longest, room * 11 // 20))
    verdict_w = max(room - subject_w, 10)
    lead = " " * INDENT
    out = [f"{lead}{'date'.ljust(DATE_W)}{' ' * GAP}{'posting'.ljust(subject_w)}{' ' * GAP}verdict"]
    for date, subject, verdict in rows:
        shown = _cut(verdict, verdict_w) if fit else verdict
        out.append(f"{lead}{date}{' ' * GAP}{_cut(subject, subject_w).ljust(subject_w)}{' ' * GAP}{shown}")
    return out


def summary_block(report: Report, width: int = 100, fit: bool = False) -> str:
    """The counts line, then the table (nothing relevant: the counts line alone)."""
    table = triage_table(report, width, fit)
    return "\n".join([f"review-bot: {summary_line(report)}", *([""] + table if table else [])])
