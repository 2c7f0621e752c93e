"""SARIF 2.1.0 output, validated against the official OASIS schema shipped in bot/report/schema/."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from bot.report import render
from tests.test_report_fixtures import (
    CALL_RCU_LINE,
    PATCH_MSGID,
    PGALLOC,
    make_report,
    make_review,
    mmgrab_cost,
    preexisting_noise,
    rcu_head_shared,
)

SCHEMA = Path(__file__).resolve().parent.parent / "bot" / "report" / "schema" / "sarif-schema-2.1.0.json"


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema)


def _sarif(findings=None) -> dict:
    return json.loads(render(make_report([make_review(findings)]), "sarif"))


def test_sarif_validates_against_official_schema() -> None:
    log = _sarif([rcu_head_shared(), mmgrab_cost(), preexisting_noise()])
    errors = sorted(_validator().iter_errors(log), key=str)
    assert errors == []
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1


def test_the_schema_catches_a_broken_log() -> None:
    # proves the validation above can fail: a result without a message is invalid SARIF
    log = _sarif()
    del log["runs"][0]["results"][0]["message"]
    assert list(_validator().iter_errors(log))


def test_one_result_per_finding_with_rules_levels_and_location() -> None:
    log = _sarif([rcu_head_shared(), mmgrab_cost(), preexisting_noise()])
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "review-bot"
    assert [r["id"] for r in rules] == ["RCU_HEAD_SHARED", "MMGRAB_PER_TABLE", "PGSTE_WARN_FALSE_POSITIVE"]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("RCU_HEAD_SHARED", "error"),
        ("MMGRAB_PER_TABLE", "warning"),
        ("PGSTE_WARN_FALSE_POSITIVE", "note"),
    ]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == PGALLOC
    assert loc["region"]["startLine"] == CALL_RCU_LINE
    assert "call_rcu(&page->rcu_head" in loc["region"]["snippet"]["text"]
    assert results[0]["message"]["text"].startswith("Two tables of one page deferred")
    assert results[0]["baselineState"] == "new" and results[2]["baselineState"] == "unchanged"
    assert results[0]["properties"]["msgid"] == PATCH_MSGID


def test_trace_becomes_thread_flows_in_one_global_order() -> None:
    result = _sarif()["runs"][0]["results"][0]
    flows = result["codeFlows"][0]["threadFlows"]
    assert [f["id"] for f in flows] == ["CPU0", "RCU", "CPU1", "softirq@CPU0"]
    cpu1 = next(f for f in flows if f["id"] == "CPU1")
    assert [loc["executionOrder"] for loc in cpu1["locations"]] == [3, 4]
    violating = cpu1["locations"][1]
    assert violating["importance"] == "essential"
    assert violating["location"]["physicalLocation"]["region"]["startLine"] == CALL_RCU_LINE
    orders = sorted(loc["executionOrder"] for f in flows for loc in f["locations"])
    assert orders == list(range(1, 7))


def test_empty_report_is_valid_sarif() -> None:
    log = _sarif([])
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
    assert list(_validator().iter_errors(log)) == []


def test_every_relevant_review_has_its_verdict_as_a_notification() -> None:
    unjudged = make_review([], judged=False, not_judged=["no model covers mm/x.c"])
    unjudged.msgid = "unjudged@example.org"
    ignored = make_review([], relevant=False)
    log = json.loads(render(make_report([make_review(), unjudged, ignored]), "sarif"))
    assert sorted(_validator().iter_errors(log), key=str) == []
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [(n["level"], n["descriptor"]["id"], n["properties"]["judged"]) for n in notes] == [
        ("note", "JUDGED", True), ("warning", "NOT_JUDGED", False)]
    assert notes[0]["message"]["text"].endswith("judged: 1 correctness finding (RCU_HEAD_SHARED), on the "
                                                "reference model models/s390 (mail only)")
    assert notes[1]["message"]["text"].endswith("not judged: no model covers mm/x.c")
    assert notes[1]["properties"]["not_judged"] == ["no model covers mm/x.c"]
