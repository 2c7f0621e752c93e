"""The first decision per message (bot.watch.triage), on small synthetic messages."""

from __future__ import annotations

import pytest

from bot.watch.triage import classify, command_in, incoming
from tests.watchkit import doc_patch, synthetic

OWN = "review-bot@bot.example.org"


def _decide(raw: bytes, own_ids: set[str] | None = None, **kw: object) -> tuple[str, str]:
    m = incoming(raw)
    assert m is not None
    v = classify(m, own_address=OWN, own_ids=own_ids or set(), own_domain="bot.example.org",
                 ignored_senders=kw.get("ignored", ()), review_reply_diffs=bool(kw.get("diffs", False)))  # type: ignore[arg-type]
    return v.decision, v.reason


def test_a_patch_is_queued() -> None:
    assert _decide(synthetic("p@x", "[PATCH] docs: typo", doc_patch(1))) == ("queue", "has a diff")


@pytest.mark.parametrize(("headers", "why"), [
    ({"Auto-Submitted": "auto-replied"}, "automated mail (Auto-Submitted"),
    ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, "automated mail (Auto-Submitted"),
    ({"Precedence": "junk"}, "automated mail (Precedence: junk)"),
    ({"Precedence": "bulk"}, "bulk mail"),  # bulk, and not through a list
    ({"X-Autoreply": "yes"}, "automated mail (X-Autoreply)"),
    ({"X-Failed-Recipients": "a@b"}, "bounce"),
    ({"Content-Type": 'multipart/report; report-type="delivery-status"; boundary="x"'}, "bounce"),
])
def test_automated_mail_and_bounces_are_skipped(headers: dict[str, str], why: str) -> None:
    decision, reason = _decide(synthetic("a@x", "[PATCH] docs: typo", doc_patch(1), headers=headers))
    assert decision == "skip" and reason.startswith(why), reason


def test_the_one_precedence_bulk_a_list_adds_is_normal() -> None:
    raw = synthetic("l@x", "[PATCH] docs: typo", doc_patch(1),
                    headers={"Precedence": "bulk", "List-Id": "<linux-s390.vger.kernel.org>"})
    assert _decide(raw)[0] == "queue"
    doubled = raw.replace(b"Precedence: bulk\n", b"Precedence: bulk\nPrecedence: bulk\n")
    assert _decide(doubled) == ("skip", "bulk mail (Precedence: bulk)")


def test_own_mail_by_address_or_message_id() -> None:
    assert _decide(synthetic("o@x", "Re: x", "hi", sender=f"Bot <{OWN}>")) == ("skip", "own message")
    assert _decide(synthetic("review-bot.abc@bot.example.org", "Re: x", "hi")) == ("skip", "own message")


def test_bounce_sender_and_ignored_sender() -> None:
    assert _decide(synthetic("b@x", "failure", doc_patch(1), sender="MAILER-DAEMON@mx.example.org"))[0] == "skip"
    assert _decide(synthetic("i@x", "[PATCH] x", doc_patch(1), sender="ci@bots.example.org"),
                   ignored=("*@bots.example.org",)) == ("skip", "ignored sender")


def test_replies_without_a_diff_and_diffs_in_replies() -> None:
    assert _decide(synthetic("r@x", "Re: [PATCH] x", "Looks fine.", in_reply_to="p@x")) == (
        "skip", "reply without a diff")
    sketch = synthetic("s@x", "Re: [PATCH] x", "Like this?\n" + doc_patch(2), in_reply_to="p@x")
    assert _decide(sketch)[0] == "skip" and _decide(sketch, diffs=True)[0] == "queue"
    series_patch = synthetic("p2@x", "[PATCH 2/3] x", doc_patch(3), in_reply_to="cover@x")
    assert _decide(series_patch)[0] == "queue"


def test_commands_only_in_replies_to_the_bot() -> None:
    stop = synthetic("c@x", "Re: Re: [PATCH] x", "Thanks!\n\nreview-bot: stop\n", in_reply_to="review-bot.1@b")
    assert _decide(stop, own_ids={"review-bot.1@b"}) == ("command", "review-bot: stop")
    assert _decide(stop, own_ids=set()) == ("skip", "reply without a diff")  # not an answer to the bot


@pytest.mark.parametrize(("text", "cmd"), [
    ("review-bot: stop\n", "stop"),
    ("  Review-Bot:   STOP.\n", "stop"),
    ("thanks\nreview-bot: unmute\n", "unmute"),
    ("> review-bot: stop\n", ""),  # quoted
    ("please review-bot: stop\n", ""),  # not at the start of the line
    ("review-bot: stopper\n", ""),
])
def test_command_lines(text: str, cmd: str) -> None:
    assert command_in(text) == cmd


def test_no_message_id_is_not_mail_we_answer() -> None:
    assert incoming(b"From: a@b\nSubject: x\n\nbody\n") is None
