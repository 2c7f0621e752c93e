"""Bombs of the kinds a hostile sender has at hand, generated here: C that costs much per line
(long statements, deep nesting, macros that double), MIME trees too wide or too deep, huge
headers and recipient lists. Each is either reviewed with its finding intact or skipped with
the bound that stopped it; bench/bench_hostile.py measures what they cost."""

from __future__ import annotations

import email
from email import policy as email_policy

import pytest

from bot.mail import load_bytes
from bot.mail.diff import MAX_DIFF_TOKENS
from bot.mail.parse import MAX_MIME_PARTS
from bot.mail.read import read_bytes
from bot.pipeline import Options, review_postings
from bot.report import render
from bot.report.reply import MAX_RECIPIENTS
from tests.hostile_inputs import (
    deep_nesting,
    dense_line,
    huge_headers,
    macro_bomb,
    many_recipients,
    nested_multipart,
    wide_multipart,
)

HAZARD = "RCU_HEAD_SHARED"  # the bundled example's finding, which every bomb below carries


def _review(text: str):
    res = load_bytes(text.encode())
    assert res.postings, res.skipped
    (review,) = review_postings(res.postings, Options(budget_seconds=20), context=res.postings)
    return review


@pytest.mark.parametrize("text", [
    pytest.param(dense_line(100_000), id="a statement of 100,000 tokens"),
    pytest.param(deep_nesting(20_000), id="parentheses 20,000 deep"),
    pytest.param(deep_nesting(3_000, "{"), id="blocks 3,000 deep"),
    pytest.param(macro_bomb(16, 200), id="macros doubling 16 times, used 200 times, and one expanding to itself"),
    pytest.param(huge_headers(40_000), id="40,000 header lines"),
    pytest.param(nested_multipart(MAX_MIME_PARTS // 2), id="multiparts nested 128 deep"),
    pytest.param(wide_multipart(MAX_MIME_PARTS // 2), id="128 empty parts before the patch"),
])
def test_a_bomb_under_the_bounds_keeps_its_finding(text: str) -> None:
    assert HAZARD in {f.hazard for f in _review(text).findings}


@pytest.mark.parametrize("text, reason", [
    (dense_line(MAX_DIFF_TOKENS + 2), f"too large to review: more than a review reads: {MAX_DIFF_TOKENS} tokens"),
    (nested_multipart(50_000), f"too large to review: more than {MAX_MIME_PARTS} MIME parts"),
    (wide_multipart(300_000), f"too large to review: more than {MAX_MIME_PARTS} MIME parts"),
], ids=["a statement past the token bound", "multiparts nested 50,000 deep", "300,000 parts"])
def test_a_bomb_past_the_bounds_is_skipped_with_the_bound(text: str, reason: str) -> None:
    res = load_bytes(text.encode())
    assert res.postings == [] and [s["reason"] for s in res.skipped] == [reason + (" of hunks" if "tokens" in reason else "")]


def test_a_reply_to_a_huge_recipient_list_is_one_message_to_some_of_them() -> None:
    n = 20_000
    review = _review(many_recipients(n))
    out = render_one_reply(review)
    msg = email.message_from_bytes(out, policy=email_policy.default)
    cc = [a.addr_spec for a in msg["Cc"].addresses]
    sent = {f"r{i}@example.org" for i in range(n)} | {"linux-mm@example.org"}
    assert len(cc) == MAX_RECIPIENTS and set(cc) <= sent and len(set(cc)) == len(cc)
    assert cc[0] == "linux-mm@example.org"  # in the order of the original headers
    assert all(len(line.rstrip(b"\r")) <= 998 for line in out.split(b"\n"))


def render_one_reply(review) -> bytes:
    from bot.findings import Report

    data = render(Report(messages=1, skipped=[], reviews=[review]), "email",
                  sender="review-bot <review-bot@example.org>").encode()
    (one,) = list(read_bytes(data))
    assert isinstance(one, bytes)
    return one
