"""The report stage: a Report as text, email, JSON, SARIF, HTML or checkpatch lines.

Prose lives in templates/ (jinja2, package data); these modules only lay things out.
JSON is Report.to_json(), the contract of docs/architecture.md, unchanged.
"""

from __future__ import annotations

from typing import Any

from bot.findings import Report
from bot.mail import mboxrd
from bot.report.b4review import to_b4_review
from bot.report.checkpatch import render_checkpatch
from bot.report.env import render_template
from bot.report.html import render_html
from bot.report.reply import as_text, render_email
from bot.report.sarif import to_sarif
from bot.report.summary import summary_line
from bot.report.textutil import json_text
from bot.report.triage import summary_block
from bot.report.view import report_views

FORMATS = ("text", "email", "json", "sarif", "html", "checkpatch", "b4-review")


def render_text(report: Report, *, details: bool = True, width: int = 100, fit: bool = False) -> str:
    """The summary block (bot.report.triage), then each relevant review in full unless not `details`;
    `width` and `fit` lay out the block (fit: cut its lines to the width, for a terminal)."""
    out = render_template("text.txt.j2", views=report_views(report) if details else [], details=details,
                          block=summary_block(report, width, fit))
    return out.rstrip("\n") + "\n"


DEFAULT_SENDER = "review-bot <review-bot@localhost>"


def render_emails(report: Report, *, sender: str | None = None, policy: dict[str, Any] | None = None) -> str:
    """Every reply the report calls for, as an mbox (From_ separator lines), for --format email."""
    out = []
    for review in report.reviews:
        msg = render_email(review, sender=sender or DEFAULT_SENDER, policy=policy)
        if msg is not None:
            out.append(mboxrd.message(as_text(msg)))
    return "".join(out)


def render(
    report: Report, fmt: str, *, sender: str | None = None, policy: dict[str, Any] | None = None,
    details: bool = True, width: int = 100, fit: bool = False,
) -> str:
    """The report in one of FORMATS; ValueError for any other name (sender/policy: email only;
    details/width/fit: text only)."""
    if fmt == "text":
        return render_text(report, details=details, width=width, fit=fit)
    if fmt == "email":
        return render_emails(report, sender=sender, policy=policy)
    if fmt == "json":
        return json_text(report.to_json())
    if fmt == "sarif":
        return json_text(to_sarif(report))
    if fmt == "html":
        return render_html(report)
    if fmt == "checkpatch":
        return render_checkpatch(report)
    if fmt == "b4-review":
        return json_text(to_b4_review(report))
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render", "render_email", "render_emails", "render_text", "summary_line", "to_sarif"]
