"""The HTML page: one self-contained document per report (inline CSS and SVG, autoescaped)."""

from __future__ import annotations

from bot import __version__
from bot.findings import Report
from bot.report.env import render_template
from bot.report.summary import summary_line
from bot.report.timeline import layout
from bot.report.view import report_views


def render_html(report: Report) -> str:
    views = report_views(report)
    for i, rv in enumerate(views, 1):
        for j, v in enumerate(rv.findings, 1):
            v.anchor = f"r{i}f{j}"
            v.timeline = layout(v.f.trace) if v.f.trace else None
    return render_template(
        "page.html.j2",
        views=views,
        tool="review-bot",
        version=__version__,
        messages=report.messages,
        skipped=report.skipped,
        summary=summary_line(report),
    )
