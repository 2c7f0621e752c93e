"""The verdict of one review in one line, the same words in every output format."""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Review
from bot.report.env import render_template
from bot.report.textutil import oneline


@dataclass
class VerdictView:
    state: str  # "not relevant" | "findings" | "judged" | "not judged"
    correctness: list[str]  # hazard ids
    others: int  # cost and noise findings
    scenarios: dict[str, int]  # model → scenarios that ran the changed code
    from_patch: list[str]  # functions of the patch those scenarios ran
    caller_rules: dict[str, list[str]]  # function → the caller rules that examined it
    base: str
    reasons: list[str]
    opaque: list[str]  # calls the models do not know, which ran as opaque


def verdict_state(review: Review) -> str:
    if not review.relevant:
        return "not relevant"
    if review.correctness:
        return "findings"
    return "judged" if review.judged else "not judged"


def verdict_view(review: Review) -> VerdictView:
    models: dict[str, int] = {}
    for sc in review.scenarios:
        model = sc.split("/", 1)[0]
        models[model] = models.get(model, 0) + 1
    return VerdictView(
        state=verdict_state(review),
        correctness=list(dict.fromkeys(f.hazard for f in review.correctness)),
        others=len(review.findings) - len(review.correctness),
        scenarios=models,
        from_patch=[m.rsplit(":", 1)[-1] + "()" for m in review.modeled],
        caller_rules=_by_function(review.caller_rules),
        base=review.base,
        reasons=review.not_judged or ["no reason recorded"],
        opaque=list(review.opaque_calls),
    )


def _by_function(rules: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in rules:  # "HAZARD: function()"
        hazard, _, fn = entry.partition(": ")
        out.setdefault(fn, []).append(hazard)
    return out


def verdict_line(review: Review) -> str:
    """"judged: …", "judged, no hazard found: …", "not judged: …" or "not relevant: …"."""
    return oneline(render_template("verdict.txt.j2", v=verdict_view(review)))
