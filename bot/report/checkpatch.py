"""checkpatch.pl-style lines, the format b4's check protocols and kernel CI already parse.

Laid out here rather than by a template: the lines are checkpatch.pl's fixed machine format, and a
b4 hook runs one process per patch, where importing jinja2 and compiling a template was a tenth of
the whole check. Only a patch that was not judged loads the templates, for its verdict's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Report, Review
from bot.report.order import order
from bot.report.textutil import oneline, visible

LEVEL = {"correctness": "ERROR", "cost": "WARNING", "noise": "CHECK"}


@dataclass
class Line:
    level: str
    hazard: str
    title: str
    file: str
    line: int
    preexisting: bool

    def text(self) -> str:
        tag = " [pre-existing]" if self.preexisting else ""
        return f"{self.level}: {oneline(self.hazard)}: {oneline(self.title)}{tag} ({oneline(self.file)}:{self.line})"


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
    """One line per finding, then a WARNING for each relevant patch that was not judged, never silence.
    No output means judged clean or not relevant. Shown as every template's output is (visible())."""
    out = [ln.text() + "\n" for ln in lines(report)]
    if report.unjudged:
        from bot.report.verdict import verdict_line

        out += [f"WARNING: NOT_JUDGED: review-bot {oneline(verdict_line(r))}\n" for r in report.unjudged]
    return visible("".join(out))
