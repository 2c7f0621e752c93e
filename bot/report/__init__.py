"""The report stage: a Report as text, email, JSON, SARIF, HTML or checkpatch lines.

Prose lives in templates/ (jinja2, package data); these modules only lay things out.
JSON is Report.to_json(), the contract of docs/architecture.md, unchanged.
Each format's module is imported when that format is rendered: a one-patch check pays for one.
"""

from __future__ import annotations

from typing import Any

from bot.findings import Report

FORMATS = ("text", "email", "json", "sarif", "html", "checkpatch", "b4-review")


def render_text(report: Report, *, details: bool = True, width: int = 100, fit: bool = False) -> str:
    """The summary block (bot.report.triage), then each relevant review in full unless not `details`;
    `width` and `fit` lay out the block (fit: cut its lines to the width, for a terminal)."""
    from bot.report.env import render_template
    from bot.report.triage import summary_block
    from bot.report.view import report_views

    out = render_template("text.txt.j2", views=report_views(report, width) if details else [], details=details,
                          block=summary_block(report, width, fit))
    return out.rstrip("\n") + "\n"


DEFAULT_SENDER = "review-bot <review-bot@localhost>"


def render_emails(report: Report, *, sender: str | None = None, policy: dict[str, Any] | None = None) -> str:
    """Every reply the report calls for, as an mbox (From_ separator lines), for --format email."""
    from bot.mail import mboxrd
    from bot.report.reply import as_text, render_email

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
    from bot.report.textutil import json_text

    if fmt == "json":
        return json_text(report.to_json())
    if fmt == "sarif":
        from bot.report.sarif import to_sarif

        return json_text(to_sarif(report))
    if fmt == "html":
        from bot.report.html import render_html

        return render_html(report)
    if fmt == "checkpatch":
        from bot.report.checkpatch import render_checkpatch

        return render_checkpatch(report)
    if fmt == "b4-review":
        from bot.report.b4review import to_b4_review

        return json_text(to_b4_review(report))
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render", "render_email", "render_emails", "render_text", "summary_line", "to_sarif"]


def __getattr__(name: str) -> Any:
    """render_email, summary_line and to_sarif, from their modules on first use."""
    if name == "render_email":
        from bot.report.reply import render_email

        return render_email
    if name == "summary_line":
        from bot.report.summary import summary_line

        return summary_line
    if name == "to_sarif":
        from bot.report.sarif import to_sarif

        return to_sarif
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
