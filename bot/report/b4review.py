"""`--format b4-review`: the JSON array b4's review-perpatch-check-cmd / review-series-check-cmd read.

One entry per review: {"tool", "status": pass|warn|fail, "summary", "url", "details"}. `details` is
a JSON list of {"status", "description", "url"} (the shape b4 renders for checkpatch), one per finding
and one per reason a relevant patch was not judged. fail: a correctness finding the patch introduces;
warn: a cost or noise finding, a pre-existing hazard, or not judged; pass: judged clean or not relevant.
"""

from __future__ import annotations

import json
from typing import Any

from bot.findings import Report, Review
from bot.report.checkpatch import review_lines
from bot.report.env import lore_link
from bot.report.order import order
from bot.report.textutil import oneline
from bot.report.verdict import verdict_line

TOOL = "review-bot"
_STATUS = {"ERROR": "fail", "WARNING": "warn", "CHECK": "warn"}


def _entry(review: Review) -> dict[str, str]:
    items: list[dict[str, Any]] = []
    for f, ln in zip(order(review.findings), review_lines(review)):
        items.append({"status": _STATUS[ln.level],
                      "description": oneline(f"{ln.level}: {ln.hazard}: {ln.title}"
                                             f"{' [pre-existing]' if ln.preexisting else ''} ({ln.file}:{ln.line})"),
                      "url": lore_link(f.references[0]) if f.references else ""})
    if review.relevant and not review.judged:
        items += [{"status": "warn", "description": oneline(f"not judged: {why}"), "url": ""}
                  for why in review.not_judged]
    status = max((i["status"] for i in items), key=("pass", "warn", "fail").index, default="pass")
    return {"tool": TOOL, "status": status, "summary": verdict_line(review), "url": "",
            "details": json.dumps(items, ensure_ascii=False) if items else ""}


def to_b4_review(report: Report) -> list[dict[str, str]]:
    if not report.reviews:  # a cover letter or a discussion: no code in this message
        return [{"tool": TOOL, "status": "pass", "summary": "no patch in this message", "url": "",
                 "details": ""}]
    return [_entry(r) for r in report.reviews]
