"""Geometry of the HTML trace timeline: one horizontal lane per context, steps left to right.

Grace-period convention (kept deliberately small; trace producers follow it):
  * a step is a grace-period marker when its ctx is "RCU" (any case); in a trace
    with no "RCU" step, when its op mentions "grace period";
  * a marker that says both start and end is a grace period of its own;
  * a marker whose op says start/begin opens a grace period, one that says
    end/elapse/complete/expire closes it, and any other marker (e.g. "RCU:
    pte_free_now() runs") toggles: it opens when none is open, else closes;
  * a close with nothing open shades from the start of the trace, and an open
    never closed shades to its end.
The band is drawn across all lanes from the opening step to the closing step.
The template (templates/timeline.html.j2) only draws what this module computes.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from bot.findings import TraceStep
from bot.report.table import contexts
from bot.report.textutil import oneline

LABEL_W = 116  # lane labels on the left
PITCH = 154  # horizontal distance between consecutive steps
BOX_W = 144
BOX_H = 58
LANE_H = 78
TOP = 30  # room for the step numbers above the lanes
BOTTOM = 12
CHARS = 19  # DejaVu Sans Mono at 11px is ~6.6px a character; the box keeps 8px padding
MAX_LINES = 3

_OPEN = re.compile(r"\b(start|starts|started|begin|begins|began)\b", re.I)
_CLOSE = re.compile(
    r"\b(end|ends|ended|elapse|elapses|elapsed|complete|completes|completed|expire|expires|expired)\b", re.I
)


@dataclass
class Lane:
    ctx: str
    y: int
    index: int


@dataclass
class Box:
    n: int
    ctx: str
    x: int
    y: int
    lines: list[str]
    op: str
    at: str
    violation: bool
    marker: bool  # a grace-period marker


@dataclass
class Band:
    x0: int
    x1: int
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    lanes: list[Lane]
    boxes: list[Box]
    bands: list[Band]
    label_w: int = LABEL_W
    box_w: int = BOX_W
    box_h: int = BOX_H
    lane_h: int = LANE_H
    top: int = TOP


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


def _box_lines(op: str) -> list[str]:
    lines = textwrap.wrap(oneline(op), CHARS, break_on_hyphens=False) or [""]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: CHARS - 1] + "…"
    return [ln if len(ln) <= CHARS else ln[: CHARS - 1] + "…" for ln in lines]


def layout(trace: list[TraceStep]) -> Timeline:
    ctxs = contexts(trace)
    lanes = [Lane(ctx=c, y=TOP + i * LANE_H, index=i) for i, c in enumerate(ctxs)]
    lane_y = {ln.ctx: ln.y for ln in lanes}
    boxes = [
        Box(
            n=i + 1,
            ctx=oneline(s.ctx) or "?",
            x=LABEL_W + 8 + i * PITCH,
            y=lane_y[oneline(s.ctx) or "?"] + (LANE_H - BOX_H) // 2,
            lines=_box_lines(s.op),
            op=oneline(s.op),
            at=oneline(s.at),
            violation=bool(s.violation),
            marker=is_gp_marker(s),
        )
        for i, s in enumerate(trace)
    ]
    width = LABEL_W + 8 + max(1, len(trace)) * PITCH + 8
    plot_x0, plot_x1 = LABEL_W, width
    bands = []
    for n, (a, b) in enumerate(grace_periods(trace), 1):
        x0 = plot_x0 if a < 0 else boxes[a].x + BOX_W // 2
        x1 = plot_x1 if b >= len(trace) else boxes[b].x + BOX_W // 2
        bands.append(Band(x0=x0, x1=max(x1, x0 + 4), label=f"grace period {n}"))
    return Timeline(
        width=width, height=TOP + len(lanes) * LANE_H + BOTTOM, lanes=lanes, boxes=boxes, bands=bands
    )
