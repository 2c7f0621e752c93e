"""The one-line summary closing the terminal output and heading the HTML page."""

from __future__ import annotations

from bot.findings import Report
from bot.report.env import render_template


def summary_line(report: Report) -> str:
    findings = [f for r in report.reviews for f in r.findings]
    return render_template(
        "summary.txt.j2",
        messages=report.messages,
        reviews=len(report.reviews),
        findings=len(findings),
        correctness=sum(1 for f in findings if f.cls == "correctness"),
        skipped=len(report.skipped),
        not_judged=len(report.unjudged),
    ).strip()
