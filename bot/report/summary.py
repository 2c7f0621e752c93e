"""The one-line summary heading the terminal output and the HTML page: counts that say what they count."""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Report
from bot.report.env import render_template
from bot.report.textutil import oneline
from bot.report.verdict import verdict_state


@dataclass
class Counts:
    messages: int
    patches: int  # formal postings reviewed
    reply_diffs: int  # diffs inside replies reviewed
    findings: int  # reviews with a correctness finding
    clean: int  # judged, no correctness finding
    not_judged: int
    not_relevant: int
    skipped: int

    @property
    def other(self) -> int:
        """Messages that carried no patch (covers, replies without a diff), or were not selected."""
        return max(0, self.messages - self.patches - self.reply_diffs - self.skipped)


def counts(report: Report) -> Counts:
    states = [verdict_state(r) for r in report.reviews]
    replies = sum(1 for r in report.reviews if getattr(r.posting, "is_reply", False))
    return Counts(
        messages=report.messages,
        patches=len(report.reviews) - replies,
        reply_diffs=replies,
        findings=states.count("findings"),
        clean=states.count("judged"),
        not_judged=states.count("not judged"),
        not_relevant=states.count("not relevant"),
        skipped=report.skip_count,
    )


def summary_line(report: Report) -> str:
    return oneline(render_template("summary.txt.j2", c=counts(report)))
