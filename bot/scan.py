"""`review-bot scan`: triage a whole archive — which postings touch modeled call sites, and their findings."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from bot.findings import Report, Review
from bot.mail import LoadResult, iter_load
from bot.patch import Posting


class _Progress:
    """A plain "\\r" counter on stderr, at most ~10 updates a second."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last = 0.0
        self.start = time.monotonic()

    def __call__(self, n: int) -> None:
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self.out.write(f"\rscan: {n} messages read ({now - self.start:.0f}s)")
            self.out.flush()

    def done(self, n: int) -> None:
        self.out.write(f"\rscan: {n} messages read ({time.monotonic() - self.start:.1f}s)\n")
        self.out.flush()


def review(postings: list[Posting], source: str = "") -> list[Review]:
    """The judgement stage over every posting of the archive (each series is the context of its
    patches), with `source` named in the replay commands."""
    from bot.pipeline import Options, review_postings

    return review_postings(postings, Options(source=source), context=postings)


def scan_full(path: str, progress: bool = False) -> tuple[Report, LoadResult]:
    """Load (streaming) and review; the LoadResult is returned too, for summarize()."""
    res = LoadResult()
    bar = _Progress(sys.stderr) if progress and sys.stderr.isatty() else None
    for _ in iter_load(path, res, bar):
        pass  # series (and so SeriesInfo) are complete only at the end of the input
    if bar is not None:
        bar.done(res.messages)
    reviews = review(res.postings, path)
    return Report(messages=res.messages, skipped=res.skipped, reviews=reviews), res


def scan(path: str, progress: bool = False) -> Report:
    return scan_full(path, progress)[0]


def summarize(report: Report, load_result: LoadResult) -> str:
    """A human summary of a scan: what was read, what was skipped and why, what is relevant."""
    res = load_result
    replies = sum(1 for p in res.postings if p.is_reply)
    covered = sum(1 for s in res.series if s.cover is not None)
    lines = [
        f"messages read: {res.messages}",
        f"patch postings: {len(res.postings) - replies} (+ {replies} diffs inside replies)",
        f"series: {len(res.series)} ({covered} with a cover letter, {len(res.revisions())} distinct "
        f"series across revisions)",
        f"skipped: {len(res.skipped)}",
    ]
    for reason, n in Counter(_reason_kind(s["reason"]) for s in res.skipped).most_common():
        lines.append(f"  {n} x {reason}")
    relevant = [r for r in report.reviews if r.relevant]
    lines.append(f"postings touching modeled call sites: {len(relevant)}")
    for r in relevant:
        nf = len(r.correctness)
        lines.append(f"  <{r.msgid}> {r.subject}")
        if r.modeled:
            lines.append(f"    modeled: {', '.join(r.modeled)}")
        lines.append(f"    correctness findings: {nf}; other findings: {len(r.findings) - nf}")
    return "\n".join(lines) + "\n"


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0]
