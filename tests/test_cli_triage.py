"""The summary a maintainer reads first: counts that say what they count, one verdict line per
relevant posting, details after (check) or only with --details (scan), each hunk quoted once."""

from __future__ import annotations

import json
import re

from tests import corpus
from tests.conftest import run_cli

ROW = re.compile(r"^  (\d{4}-\d\d-\d\d)  (.+?)  (findings: .+|judged clean.*|not judged: .+)$")


def _blocks(text: str) -> list[str]:
    return re.split(r"(?m)^(?===> )", text)[1:]


def test_check_thread_summary_first_then_details() -> None:
    res = run_cli("check", "--mbox", str(corpus.thread(1)))
    data = json.loads(run_cli("check", "--mbox", str(corpus.thread(1)), "--format", "json").stdout)
    assert res.returncode == 1, res.stderr
    lines = res.stdout.splitlines()
    relevant = [r for r in data["reviews"] if r["relevant"]]
    replies = sum(1 for r in data["reviews"] if r["subject"].startswith("Re:"))
    assert lines[0].startswith(f"review-bot: {data['messages']} messages: {len(data['reviews']) - replies} "
                               f"patches and {replies} diffs in replies reviewed (")
    assert "other messages not reviewed" in lines[0]
    rows = lines[3:3 + len(relevant)]
    assert all(ROW.match(r) for r in rows), rows
    assert lines[3 + len(relevant)] == ""  # the block ends; the details follow
    for row, review in zip(rows, relevant, strict=True):
        verdict = ROW.match(row).group(3)
        correctness = [f["hazard"] for f in review["findings"] if f["class"] == "correctness"]
        if correctness:
            assert verdict.startswith("findings: " + ", ".join(dict.fromkeys(correctness)))
        else:
            assert verdict.startswith("judged clean" if review["judged"] else "not judged: ")
    blocks = _blocks(res.stdout)
    assert len(blocks) == len(relevant)
    for block in blocks:  # within a group (introduced, then pre-existing) a hunk is quoted once
        for group in block.split("Pre-existing (not introduced by this patch)"):
            headers = [ln for ln in group.splitlines() if ln.startswith("> @@")]
            assert len(headers) == len(set(headers)), headers


def test_scan_prints_the_table_and_details_only_when_asked() -> None:
    thread = str(corpus.thread(1))
    short = run_cli("scan", "--mbox", thread)
    assert short.returncode == 1 and "==> " not in short.stdout
    lines = short.stdout.splitlines()
    assert all(ROW.match(r) for r in lines[3:]) and len(lines) > 8
    full = run_cli("scan", "--mbox", thread, "--details")
    assert full.stdout.startswith(short.stdout.rstrip("\n") + "\n\n==> ")
    assert len(_blocks(full.stdout)) == len(lines) - 3
    data = json.loads(run_cli("scan", "--mbox", thread, "--format", "json").stdout)
    assert {"tool", "version", "messages", "skipped", "reviews"} <= set(data)
    assert len([r for r in data["reviews"] if r["relevant"]]) == len(lines) - 3
