"""Terminal text, checkpatch lines, JSON, and the plain-text layout helpers."""

from __future__ import annotations

import json
import shlex

import pytest

from bot.findings import Report, TraceStep
from bot.report import FORMATS, render
from bot.report.table import interleaving_table
from bot.report.textutil import oneline, shell_wrap, wrap
from tests.test_report_fixtures import (
    CALL_RCU_LINE,
    PATCH_MSGID,
    make_posting,
    make_report,
    make_review,
    mmgrab_cost,
    preexisting_noise,
    rcu_head_shared,
)


def test_text_has_one_block_per_relevant_review() -> None:
    clean = make_review([])
    clean.msgid = "clean@example.org"
    other = make_review([], relevant=False)
    other.msgid = "other@example.org"
    report = make_report([make_review(), clean, other])
    out = render(report, "text")
    assert out.count("==> ") == 2
    assert f"==> [PATCH 07/12] s390: add pte_free_defer(), with use of mmdrop_async() <{PATCH_MSGID}>" in out
    assert "Verdict: judged: 1 correctness finding (RCU_HEAD_SHARED), on the reference model" in out
    assert "clean@example.org>\nVerdict: judged, no hazard found: 1 scenario of s390-2k-fragments ran " in out
    assert "other@example.org" not in out
    assert "> +\tcall_rcu(&page->rcu_head, pte_free_now);" in out
    assert "From:" not in out and "Subject:" not in out  # no headers on a terminal
    lines = out.splitlines()
    assert lines[0] == ("review-bot: 63 messages: 3 patches reviewed (1 with correctness findings, "
                        "1 judged clean, 1 not relevant), 59 other messages not reviewed, 1 skipped.")
    # the summary block: one line per relevant posting, before the details
    assert lines[2].split() == ["date", "posting", "verdict"]
    assert lines[3].startswith("  2023-05-28  [PATCH 07/12] s390: add pte_free_defer()")
    assert lines[3].endswith("  findings: RCU_HEAD_SHARED")
    assert lines[4].endswith("  judged clean") and lines[5] == ""
    assert out.index("findings: RCU_HEAD_SHARED") < out.index("==> ")


def test_text_nothing_relevant_is_one_line() -> None:
    report = Report(messages=4, skipped=[], reviews=[make_review([], relevant=False)] * 2)
    assert render(report, "text") == ("review-bot: 4 messages: 2 patches reviewed (2 not relevant), 2 other "
                                      "messages not reviewed.\n")


def test_summary_counts_patches_and_reply_diffs_apart() -> None:
    from bot.report.summary import summary_line

    reply = make_review([])
    reply.posting = make_posting(is_reply=True)
    report = Report(messages=40, skipped=[], reviews=[make_review(), reply])
    assert summary_line(report) == ("40 messages: 1 patch and 1 diff in a reply reviewed (1 with correctness "
                                    "findings, 1 judged clean), 38 other messages not reviewed.")


def test_table_fits_the_width_on_a_terminal_and_keeps_the_verdict_on_a_pipe() -> None:
    from bot.report.triage import triage_table

    review = make_review([], judged=False, not_judged=["a reason long enough to pass the edge of any "
                                                       "table that is only sixty columns wide, and more"])
    report = Report(messages=1, skipped=[], reviews=[review])
    fitted = triage_table(report, width=60, fit=True)
    assert all(len(ln) <= 60 for ln in fitted) and fitted[1].endswith("…")
    full = triage_table(report, width=60, fit=False)
    assert full[1].endswith("and more") and "not judged: a reason" in full[1]


def test_text_not_judged_says_why_in_every_line_of_its_block() -> None:
    review = make_review([], judged=False, not_judged=["s390-2k-fragments/defer-both-halves: its setup does not "
                                                       "complete", "no model covers kernel/fork.c"])
    out = render(Report(messages=1, skipped=[], reviews=[review]), "text")
    assert ("Verdict: not judged: s390-2k-fragments/defer-both-halves: its setup does not complete "
            "(and 1 more reason)") in out
    assert "  - no model covers kernel/fork.c" in out
    assert out.splitlines()[0] == "review-bot: 1 message: 1 patch reviewed (1 not judged)."
    assert "  not judged: s390-2k-fragments/defer-both-halves: its setup does not complete (+1 more)" in out


def test_checkpatch_lines_by_class_and_preexisting() -> None:
    report = make_report([make_review([preexisting_noise(), mmgrab_cost(), rcu_head_shared()])])
    lines = render(report, "checkpatch").splitlines()
    assert lines == [
        "ERROR: RCU_HEAD_SHARED: Two tables of one page deferred in one grace period share its rcu_head "
        f"(arch/s390/mm/pgalloc.c:{CALL_RCU_LINE})",
        "WARNING: MMGRAB_PER_TABLE: mmgrab() and mmdrop_async() for every deferred table "
        "(arch/s390/mm/pgalloc.c:378)",
        "CHECK: PGSTE_WARN_FALSE_POSITIVE: pgste guard warning fires in valid situations [pre-existing] "
        "(arch/s390/mm/pgalloc.c:120)",
    ]
    noise = preexisting_noise()
    noise.introduced = True
    assert render(make_report([make_review([noise])]), "checkpatch").startswith(
        "CHECK: PGSTE_WARN_FALSE_POSITIVE"
    )


def test_checkpatch_silent_without_findings_and_one_line_per_finding_when_hostile() -> None:
    assert render(make_report([make_review([])]), "checkpatch") == ""
    assert render(make_report([make_review([], relevant=False)]), "checkpatch") == ""
    unjudged = make_review([], judged=False, not_judged=["no model covers mm/x.c"])
    assert render(make_report([unjudged]), "checkpatch") == (
        "WARNING: NOT_JUDGED: review-bot not judged: no model covers mm/x.c\n")
    bad = rcu_head_shared(title="x\r\nERROR: fake: injected (a.c:1)")
    out = render(make_report([make_review([bad])]), "checkpatch")
    assert len(out.splitlines()) == 1 and out.startswith("ERROR: RCU_HEAD_SHARED: x ERROR: fake")


def test_json_is_report_to_json() -> None:
    report = make_report([make_review([rcu_head_shared(), preexisting_noise()])])
    data = json.loads(render(report, "json"))
    assert data == report.to_json()
    finding = data["reviews"][0]["findings"][0]
    assert finding["class"] == "correctness" and finding["line"] == CALL_RCU_LINE
    assert finding["trace"][3]["violation"] is True


def test_unknown_format_is_rejected() -> None:
    assert set(FORMATS) >= {"text", "email", "json", "sarif", "html"}
    with pytest.raises(ValueError, match="unknown format"):
        render(make_report(), "xml")


def test_table_fits_72_and_keeps_columns() -> None:
    trace = [
        TraceStep("CPU0", "spin_lock_bh(&mm->context.lock) in page_table_alloc()"),
        TraceStep(
            "softirq@CPU0", "rcu callback pte_free_now() takes mm->context.lock: deadlock", violation=True
        ),
        TraceStep("CPU1", "short"),
        TraceStep("kworker/u16:3", "mmdrop_async() work runs __mmdrop() and frees the mm"),
    ]
    lines = interleaving_table(trace)
    assert all(len(ln) <= 72 for ln in lines), lines
    assert lines[0].split() == ["CPU0", "softirq@CPU0", "CPU1", "kworker/u16:3"]
    assert any(ln.startswith("  2!") for ln in lines)
    # a fifth context no longer fits in 72 columns: the table grows, the columns stay aligned
    wide = interleaving_table(trace + [TraceStep("RCU", "grace period ends")])
    col = wide[0].index("RCU")
    step5 = next(ln for ln in wide if ln.startswith("  5 "))
    assert step5.index("grace period") == col and max(map(len, wide)) <= col + 16
    assert interleaving_table([]) == []


def test_wrap_and_oneline() -> None:
    text = "word " * 40 + "\n\n* a list item " + "x " * 40
    out = wrap(text, indent=2)
    assert all(len(ln) <= 72 for ln in out.splitlines())
    assert "\n\n  * a list item" in out
    assert oneline("a\r\nBcc: b\x00c\u2028d") == "a Bcc: b c d"


def test_shell_wrap_keeps_the_command_exact() -> None:
    cmd = "review-bot explore 'models/s390/scenarios/with space.toml' --design v1-07 " + "--flag x " * 8
    block = shell_wrap(cmd, indent=2)
    assert all(len(ln) <= 72 for ln in block.splitlines())
    assert shlex.split(block.replace("\\\n", " ")) == shlex.split(cmd)
    assert shell_wrap("review-bot explore a.toml") == "  review-bot explore a.toml"


def test_review_without_posting_renders_from_evidence() -> None:
    review = make_review()
    review.posting = None
    report = make_report([review])
    out = render(report, "text")
    assert "> call_rcu(&page->rcu_head, pte_free_now);" in out.splitlines()
    assert "RCU_HEAD_SHARED: Two tables" in out
    assert "<h4>Evidence</h4>" in render(report, "html")
    assert json.loads(render(report, "sarif"))["runs"][0]["results"][0]["ruleId"] == "RCU_HEAD_SHARED"


def test_text_lays_the_interleaving_out_on_the_terminal_width() -> None:
    long_ops = [TraceStep(ctx, f"{ctx}: a step whose text is long enough to need more than one line at 72 "
                               "columns", "", n == 3) for n, ctx in enumerate(["CPU0", "CPU1", "RCU", "CPU0"])]
    report = make_report([make_review([rcu_head_shared(trace=long_ops)])])

    def table(out: str) -> list[str]:
        lines = out.splitlines()
        start = lines.index('Interleaving ("!" marks the step that breaks the invariant):') + 2
        return lines[start:lines.index("", start)]

    narrow, wide = table(render(report, "text", width=72)), table(render(report, "text", width=140))
    assert max(map(len, narrow)) <= 72 < max(map(len, wide)) <= 140
    assert len(wide) < len(narrow)  # fewer wrapped lines on a wide terminal
