"""checkpatch.pl-style lines, the format b4's check protocols and kernel CI already parse."""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Report, Review
from bot.report.env import order, render_template
from bot.report.verdict import verdict_line

LEVEL = {"correctness": "ERROR", "cost": "WARNING", "noise": "CHECK"}


@dataclass
class Line:
    level: str
    hazard: str
    title: str
    file: str
    line: int
    preexisting: bool


def review_lines(review: Review) -> list[Line]:
    """One line per finding. A pre-existing hazard is not the patch's fault, so it never
    reads as ERROR (b4 fails a check on "ERROR:"): it drops to CHECK, tagged [pre-existing]."""
    out = []
    for f in order(review.findings):
        level = LEVEL.get(f.cls, "WARNING") if f.introduced else "CHECK"
        out.append(Line(level, f.hazard, f.title or f.hazard, f.file, f.line, not f.introduced))
    return out


def lines(report: Report) -> list[Line]:
    return [ln for review in report.reviews for ln in review_lines(review)]


def render_checkpatch(report: Report) -> str:
    unjudged = [verdict_line(r) for r in report.unjudged]
    return render_template("checkpatch.txt.j2", lines=lines(report), unjudged=unjudged)
