"""The interleaving as a numbered plain-text table, one column per CPU/context.

Drawn the way kernel developers draw races in mail: each context has a column,
a step's text starts in its context's column, and since a row holds exactly
one step, that text may run on to the right edge instead of wrapping into a
narrow cell.
"""

from __future__ import annotations

import textwrap

from bot.findings import TraceStep
from bot.report.textutil import WIDTH, oneline

GAP = 2  # blanks between two columns
MIN_TEXT = 16  # a step narrower than this would wrap into a tower: the table grows past WIDTH instead


def contexts(trace: list[TraceStep]) -> list[str]:
    """Contexts in order of first appearance: the table's columns and the SVG's lanes."""
    seen: list[str] = []
    for step in trace:
        ctx = oneline(step.ctx) or "?"
        if ctx not in seen:
            seen.append(ctx)
    return seen


def _fill(text: str, width: int) -> list[str]:
    # words longer than the width (long identifiers) stay whole rather than being cut
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def interleaving_table(trace: list[TraceStep], width: int = WIDTH, indent: int = 2) -> list[str]:
    """Numbered rows in time order; "!" after the number marks the violating step."""
    if not trace:
        return []
    cols = contexts(trace)
    num_w = len(str(len(trace))) + 1  # digits plus the "!" marker
    left = indent + num_w + 2
    ops = [(oneline(s.ctx) or "?", oneline(s.op)) for s in trace]
    natural = [max([len(c)] + [len(op) for ctx, op in ops if ctx == c]) + GAP for c in cols]
    share = max(len(c) + GAP for c in cols)
    even = (width - left) // len(cols)
    if len(cols) > 1:  # the last column still gets MIN_TEXT before the right edge
        even = min(even, (width - left - MIN_TEXT) // (len(cols) - 1))
    even = max(share, even)
    # columns as wide as their longest step when everything fits, else an even share
    col_w = natural if left + sum(natural) - GAP <= width else [even] * len(cols)
    x = [left + sum(col_w[:i]) for i in range(len(cols))]
    right = max(width, x[-1] + MIN_TEXT)

    head = " " * left
    rule = " " * left
    for i, c in enumerate(cols):
        head = head.ljust(x[i]) + c
        rule = rule.ljust(x[i]) + "-" * len(c)
    out = [head.rstrip(), rule.rstrip()]
    for n, (ctx, op) in enumerate(ops, 1):
        i = cols.index(ctx)
        num = (str(n).rjust(num_w - 1) + ("!" if trace[n - 1].violation else "")).ljust(num_w)
        for k, line in enumerate(_fill(op, right - x[i])):
            lead = " " * indent + (num if k == 0 else " " * num_w)
            out.append((lead.ljust(x[i]) + line).rstrip())
    return out
