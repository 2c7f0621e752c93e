"""Geometry of the HTML trace timeline: one column per context, steps top to bottom, as in mail.

Time runs down the page, one row per step, the way the text report's table and kernel developers'
race diagrams run, so a long trace grows downwards and never needs sideways scrolling: the columns
share a fixed width and each step's text wraps inside its box (nothing is cut off).

Grace-period convention (kept deliberately small; trace producers follow it):
  * a step is a grace-period marker when its ctx is "RCU" (any case); in a trace
    with no "RCU" step, when its op mentions "grace period";
  * a marker that says both start and end is a grace period of its own;
  * a marker whose op says start/begin opens a grace period, one that says
    end/elapse/complete/expire closes it, and any other marker (e.g. "RCU:
    pte_free_now() runs") toggles: it opens when none is open, else closes;
  * a close with nothing open shades from the start of the trace, and an open
    never closed shades to its end.
The band is drawn across all columns from the opening step's row to the closing step's row.
The template (templates/timeline.html.j2) only draws what this module computes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.findings import TraceStep
from bot.report.table import contexts
from bot.report.textutil import oneline

NUM_W = 46  # the step numbers on the left
PLOT_W = 900  # the columns share this width (the page's text column holds it at 1200 px)
MIN_COL = 150  # narrower columns would make towers of text: more contexts widen the figure instead
MAX_COL = 320
HEAD_H = 34  # context names above their columns
PAD = 6  # between a box and its column's edge
LINE_H = 14
BOX_PAD = 8  # inside a box, around its text
GAP = 8  # between two rows
BOTTOM = 10
GP_W = 20  # a margin on the right for the grace periods' labels, written along their bands
CHAR_W = 6.7  # DejaVu Sans Mono at 11px

_OPEN = re.compile(r"\b(start|starts|started|begin|begins|began)\b", re.I)
_CLOSE = re.compile(
    r"\b(end|ends|ended|elapse|elapses|elapsed|complete|completes|completed|expire|expires|expired)\b", re.I
)


@dataclass
class Lane:
    ctx: str
    x: int  # left edge of the column
    index: int


@dataclass
class Box:
    n: int
    ctx: str
    x: int
    y: int
    h: int
    lines: list[str]
    op: str
    at: str
    violation: bool
    marker: bool  # a grace-period marker


@dataclass
class Band:
    y0: int
    y1: int
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    lanes: list[Lane]
    boxes: list[Box]
    bands: list[Band]
    col_w: int = MAX_COL
    num_w: int = NUM_W
    gp_w: int = GP_W
    head_h: int = HEAD_H
    box_w: int = MAX_COL - 2 * PAD
    line_h: int = LINE_H

    @property
    def plot_x1(self) -> int:
        return self.num_w + self.col_w * len(self.lanes)


def is_gp_marker(step: TraceStep) -> bool:
    return oneline(step.ctx).upper() == "RCU" or "grace period" in step.op.lower()


def grace_periods(trace: list[TraceStep]) -> list[tuple[int, int]]:
    """(first, last) step indices of each grace period; -1 / len(trace) for the open ends."""
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    by_ctx = any(oneline(s.ctx).upper() == "RCU" for s in trace)
    for i, step in enumerate(trace):
        if not (oneline(step.ctx).upper() == "RCU" if by_ctx else is_gp_marker(step)):
            continue
        op = step.op
        if _OPEN.search(op) and _CLOSE.search(op):
            if open_at is None:
                spans.append((i, i))
            continue
        opens = bool(_OPEN.search(op)) and not _CLOSE.search(op)
        closes = bool(_CLOSE.search(op)) and not opens
        if not opens and not closes:  # neither word: toggle
            opens = open_at is None
            closes = not opens
        if opens and open_at is None:
            open_at = i
        elif closes:
            spans.append((-1 if open_at is None else open_at, i))
            open_at = None
    if open_at is not None:
        spans.append((open_at, len(trace)))
    return spans


_BREAK_AFTER = re.compile(r"(?<=[(,&.>_])")  # where a long C expression may be split across lines


def _split_word(word: str, chars: int) -> list[str]:
    """A word too long for a line, in pieces that fit, split after punctuation where possible."""
    pieces: list[str] = []
    while len(word) > chars:
        cuts = [m.start() for m in _BREAK_AFTER.finditer(word, 1, chars)]
        cut = cuts[-1] if cuts and cuts[-1] >= chars // 3 else chars
        pieces.append(word[:cut])
        word = word[cut:]
    return pieces + [word]


def _box_lines(op: str, chars: int) -> list[str]:
    """The step's text wrapped to `chars`, every character kept (nothing is cut off)."""
    lines: list[str] = []
    cur = ""
    for word in oneline(op).split(" "):
        if cur and len(cur) + 1 + len(word) <= chars:
            cur += " " + word
            continue
        if cur:
            lines.append(cur)
        *full, cur = _split_word(word, chars)
        lines += full
    return lines + [cur] if cur or not lines else lines


def layout(trace: list[TraceStep]) -> Timeline:
    ctxs = contexts(trace) or ["?"]
    col_w = max(MIN_COL, min(MAX_COL, PLOT_W // len(ctxs)))
    box_w = col_w - 2 * PAD
    chars = max(8, int((box_w - 2 * BOX_PAD) / CHAR_W))
    lanes = [Lane(ctx=c, x=NUM_W + i * col_w, index=i) for i, c in enumerate(ctxs)]
    lane_x = {ln.ctx: ln.x for ln in lanes}
    boxes = []
    y = HEAD_H + GAP
    for i, s in enumerate(trace):
        ctx = oneline(s.ctx) or "?"
        lines = _box_lines(s.op, chars)
        h = len(lines) * LINE_H + 2 * BOX_PAD
        boxes.append(Box(n=i + 1, ctx=ctx, x=lane_x[ctx] + PAD, y=y, h=h, lines=lines, op=oneline(s.op),
                         at=oneline(s.at), violation=bool(s.violation), marker=is_gp_marker(s)))
        y += h + GAP
    height = y + BOTTOM
    bands = []
    for n, (a, b) in enumerate(grace_periods(trace), 1):
        y0 = HEAD_H if a < 0 else boxes[a].y + boxes[a].h // 2
        y1 = height - BOTTOM if b >= len(trace) else boxes[b].y + boxes[b].h // 2
        bands.append(Band(y0=y0, y1=max(y1, y0 + 4), label=f"grace period {n}"))
    return Timeline(width=NUM_W + col_w * len(lanes) + GP_W, height=height, lanes=lanes, boxes=boxes, bands=bands,
                    col_w=col_w, box_w=box_w)
