"""SARIF 2.1.0: one run per report, one result per finding, the trace as a codeFlow."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot import __version__
from bot.findings import Finding, Report, Review, TraceStep
from bot.report.env import lore_link, render_template
from bot.report.table import contexts
from bot.report.textutil import oneline
from bot.report.verdict import verdict_line

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"correctness": "error", "cost": "warning", "noise": "note"}


def _message(f: Finding) -> str:
    return render_template(
        "sarif_message.txt.j2", title=f.title or f.hazard, invariant=f.invariant, introduced=f.introduced
    ).strip()


def _split_at(at: str) -> tuple[str, int | None]:
    """ "file:line" → (file, line); a bare file or an odd string keeps line None."""
    path, _, line = oneline(at).rpartition(":")
    if path and line.isdigit() and int(line) > 0:
        return path, int(line)
    return oneline(at), None


def _physical(path: str, line: int | None, snippet: str = "") -> dict[str, Any]:
    loc: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}
    if line:
        loc["region"] = {"startLine": line}
        if snippet:
            loc["region"]["snippet"] = {"text": snippet}
    return loc


def _flow_location(n: int, step: TraceStep) -> dict[str, Any]:
    location: dict[str, Any] = {"message": {"text": f"{n}. {oneline(step.ctx)}: {oneline(step.op)}"}}
    if step.at:
        path, line = _split_at(step.at)
        location["physicalLocation"] = _physical(path, line)
    return {
        "location": location,
        "executionOrder": n,  # one global order across the thread flows: the interleaving itself
        "importance": "essential" if step.violation else "important",
        "state": {"context": {"text": oneline(step.ctx)}},
    }


def _code_flows(f: Finding) -> list[dict[str, Any]]:
    if not f.trace:
        return []
    numbered = list(enumerate(f.trace, 1))
    flows = [
        {
            "id": ctx,
            "message": {"text": ctx},
            "locations": [_flow_location(n, s) for n, s in numbered if (oneline(s.ctx) or "?") == ctx],
        }
        for ctx in contexts(f.trace)
    ]
    return [{"message": {"text": "Interleaving that breaks the invariant"}, "threadFlows": flows}]


def _fingerprint(f: Finding) -> str:
    """Stable across rebases and revisions: the hazard, where (file and function) and the code it is
    about with whitespace normalised — never a line number, a commit sha or a Message-ID."""
    code = [" ".join(line.split()) for line in f.evidence] or [oneline(f.invariant or f.title)]
    key = json.dumps([f.hazard, f.file, f.function, code], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(review: Review, f: Finding, rule_index: int) -> dict[str, Any]:
    snippet = "\n".join(f.evidence)
    result: dict[str, Any] = {
        "ruleId": f.hazard,
        "ruleIndex": rule_index,
        "level": LEVEL.get(f.cls, "warning"),
        "kind": "fail",
        "message": {"text": _message(f)},
        "locations": [
            {
                "physicalLocation": _physical(f.file, f.line if f.line > 0 else None, snippet),
                "logicalLocations": [{"name": f.function, "kind": "function"}] if f.function else [],
            }
        ],
        "baselineState": "new" if f.introduced else "unchanged",
        "partialFingerprints": {"reviewBotFinding/v2": _fingerprint(f)},
        "properties": {
            "class": f.cls,
            "introduced": f.introduced,
            "msgid": review.msgid,
            "subject": oneline(review.subject),
            "explanation": f.explanation,
            "fix": f.fix,
            "references": [lore_link(r) for r in f.references],
            "replay": f.replay,
            "replay_public": f.replay_public,
            "replay_why_not": f.replay_why_not,
            "unmodeled": f.unmodeled,
        },
    }
    if not result["locations"][0]["logicalLocations"]:
        del result["locations"][0]["logicalLocations"]
    flows = _code_flows(f)
    if flows:
        result["codeFlows"] = flows
    return result


def _verdicts(report: Report) -> list[dict[str, Any]]:
    """One notification per relevant review: its verdict line; a warning when it was not judged, so a
    code-scanning UI never reads an unjudged patch as a clean one."""
    out = []
    for review in report.reviews:
        if not review.relevant:
            continue
        out.append({
            "level": "note" if review.judged else "warning",
            "descriptor": {"id": "JUDGED" if review.judged else "NOT_JUDGED"},
            "message": {"text": f"{oneline(review.subject)}: {verdict_line(review)}"},
            "properties": {"msgid": review.msgid, "judged": review.judged, "not_judged": review.not_judged,
                           "base": review.base},
        })
    return out


def to_sarif(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for review in report.reviews:
        for f in review.findings:
            if f.hazard not in index:
                index[f.hazard] = len(rules)
                rule: dict[str, Any] = {
                    "id": f.hazard,
                    "shortDescription": {"text": oneline(f.title or f.hazard)},
                    "defaultConfiguration": {"level": LEVEL.get(f.cls, "warning")},
                    "properties": {"class": f.cls},
                }
                if f.invariant:
                    rule["fullDescription"] = {"text": oneline(f.invariant)}
                rules.append(rule)
            results.append(_result(review, f, index[f.hazard]))
    run = {
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": _verdicts(report)}],
        "tool": {
            "driver": {
                "name": "review-bot",
                "version": __version__,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"messages": report.messages, "skipped": report.skipped},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
