"""The list bot's policy on live traffic: postings delivered with public-inbox-mda while the bot runs,
its own mail, automated mail, mail commands, a flood, mute by default (outbox), status. How fast a
live posting's reply comes (the 5 s target) is measured by bench/bench_watch.py, not timed here."""

from __future__ import annotations

import collections
import email
import time
import uuid
from collections.abc import Iterator
from email import policy as email_policy
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pinbox import Inbox, PublicInbox
from tests.smtpsink import Sink
from tests.watchkit import (
    LIST_ADDRESS,
    Watching,
    doc_patch,
    from_real_07,
    synthetic,
    watch_once,
    write_config,
)

AUTHOR = "hughd@google.com"  # the author of the real 07 patch the postings are built from


def _mid(tag: str) -> str:
    return f"{tag}.{uuid.uuid4().hex[:12]}@test.example.org"


@pytest.fixture
def inbox(pinbox: PublicInbox, request: pytest.FixtureRequest) -> Inbox:
    """An empty inbox of its own for each test, on the shared server."""
    name = "watch-" + request.node.name.removeprefix("test_")[:40].replace("_", "-")
    return pinbox.add_inbox(name, f"{name}@example.org")


@pytest.fixture
def sink(inbox: Inbox) -> Iterator[Sink]:
    s = Sink(archive=inbox, list_address=LIST_ADDRESS)
    yield s
    s.stop()


def test_new_posting_gets_its_reply_while_watch_runs(tmp_path: Path, inbox: Inbox, sink: Sink) -> None:
    cfg = write_config(tmp_path / "watch.toml", inbox.base, sink.port, since=None, poll_seconds=1)
    w = Watching(cfg).start()
    try:
        w.wait_for(lambda e: e["event"] == "polled", 60)
        mid = _mid("latency")
        raw = from_real_07(mid, "[PATCH] s390: add pte_free_defer(), with use of mmdrop_async()")
        inbox.deliver(raw)
        deadline = time.monotonic() + 60  # a bound against a hang, not the latency target
        while time.monotonic() < deadline and not any(m.in_reply_to == mid for m in sink.messages()):
            time.sleep(0.02)
        assert [m.in_reply_to for m in sink.messages()] == [mid], w.lines[-10:]
        assert [e["event"] for e in w.log if e.get("msgid") == mid] == ["queued", "reviewed"]
    finally:
        rc = w.terminate()
    assert rc == 0
    assert w.log[-1]["event"] == "exit" and any(e["event"] == "stopping" for e in w.log)


def test_sigterm_during_a_review_finishes_it_and_its_reply(tmp_path: Path, inbox: Inbox, sink: Sink) -> None:
    cfg = write_config(tmp_path / "watch.toml", inbox.base, sink.port, since=None, poll_seconds=1)
    mid = _mid("sigterm")
    w = Watching(cfg).start()
    try:
        w.wait_for(lambda e: e["event"] == "polled", 60)
        inbox.deliver(from_real_07(mid, "[PATCH] s390: add pte_free_defer() before a SIGTERM"))
        w.wait_for(lambda e: e["event"] == "polled" and e.get("new") == 1, 60)  # its review starts now
    finally:
        rc = w.terminate()
    assert rc == 0
    events = [e["event"] for e in w.log]
    assert events[-1] == "exit" and "stopping" in events
    assert [m.in_reply_to for m in sink.messages()] == [mid]  # the review and its reply finished
    after = watch_once(cfg)
    assert not after.of("sent") and not after.of("reviewed")


def test_own_mail_automated_mail_and_mail_commands(tmp_path: Path, inbox: Inbox, sink: Sink) -> None:
    cfg = write_config(tmp_path / "watch.toml", inbox.base, sink.port, since=None,
                       policy={"maintainers": ["maint@example.org"]})
    patch = _mid("patch")
    inbox.deliver(from_real_07(patch, "[PATCH] s390: add pte_free_defer() once more"))
    first = watch_once(cfg)
    assert first.returncode == 0, first.stderr[-2000:]
    reply = next(m for m in sink.messages() if m.in_reply_to == patch)
    rid = reply.message_id.strip("<>")
    body = reply.msg.get_content()
    assert "\n  review-bot: stop\n" in body  # the footer offers it: the reply went to the list

    auto = _mid("auto")
    inbox.deliver(synthetic(auto, "Re: [PATCH] s390: add pte_free_defer() once more", doc_patch(1),
                            in_reply_to=patch, headers={"Auto-Submitted": "auto-replied"}))
    bounce = _mid("bounce")
    inbox.deliver(synthetic(bounce, "Undelivered Mail Returned to Sender", doc_patch(2),
                            sender="MAILER-DAEMON <mailer-daemon@example.org>"))
    stranger = _mid("stranger")
    inbox.deliver(synthetic(stranger, "Re: " + reply.msg["Subject"], "I'd rather not.\n\nreview-bot: stop\n",
                            sender="Someone Else <else@example.org>", in_reply_to=rid))
    quoted = _mid("quoted")
    inbox.deliver(synthetic(quoted, "Re: " + reply.msg["Subject"], "> review-bot: stop\n\nNot from me.\n",
                            sender=f"Hugh <{AUTHOR}>", in_reply_to=rid))
    stop = _mid("stop")
    inbox.deliver(synthetic(stop, "Re: " + reply.msg["Subject"], "Thanks.\n\nreview-bot: stop\n",
                            sender=f"Hugh Dickins <{AUTHOR}>", in_reply_to=rid))
    later = _mid("later")
    inbox.deliver(from_real_07(later, "[PATCH v2] s390: add pte_free_defer() once more", in_reply_to=patch))
    second = watch_once(cfg)
    assert second.returncode == 0, second.stderr[-2000:]

    def only(mid: str) -> dict:
        lines = [e for e in second.log if e.get("msgid") == mid and e["event"] in ("skipped", "command", "queued")]
        assert len(lines) == 1, lines
        return lines[0]

    assert only(rid)["reason"] == "own message"
    assert only(auto)["reason"].startswith("automated mail (Auto-Submitted")
    assert only(bounce)["reason"].startswith("bounce")
    assert "neither the patch's author nor a configured maintainer" in only(stranger)["reason"]
    assert only(quoted)["reason"] == "reply without a diff"  # a quoted command is not a command
    assert only(stop)["event"] == "command" and only(stop)["reason"] == "review-bot: stop: thread muted"
    assert only(later)["event"] == "queued"
    review = next(e for e in second.of("reviewed") if e["msgid"] == later)
    assert review["reply"] == "none: thread muted"
    assert not any(m.in_reply_to == later for m in sink.messages())

    unmute = _mid("unmute")
    inbox.deliver(synthetic(unmute, "Re: " + reply.msg["Subject"], "review-bot: unmute\n",
                            sender="Maintainer <maint@example.org>", in_reply_to=rid))
    third = watch_once(cfg)
    cmd = [e for e in third.log if e.get("msgid") == unmute]
    assert len(cmd) == 1 and cmd[0]["event"] == "command" and cmd[0]["reason"].endswith("unmuted")
    fourth = watch_once(cfg)  # each command is acted on once
    assert not [e for e in fourth.log if e.get("msgid") in (stop, unmute)]

    status = run_cli("status", "--config", str(cfg))
    assert status.returncode == 0, status.stderr
    assert "last poll: 20" in status.stdout and "sent: 1" in status.stdout and "muted: 0 thread(s)" in status.stdout


def test_a_flood_of_postings_is_bounded_with_one_line_each(tmp_path: Path, inbox: Inbox) -> None:
    box = inbox
    relevant = [_mid(f"rel{n}") for n in range(4)]
    docs = [_mid(f"doc{n}") for n in range(996)]
    # dated a minute earlier than the rest, so they are among the first reviewed
    msgs = [from_real_07(m, f"[PATCH] s390: pte_free_defer variant {n}", when=time.time() - 60)
            for n, m in enumerate(relevant)]
    stamp = email.utils.formatdate()
    msgs += [synthetic(m, f"[PATCH] docs: typo {n}", doc_patch(n)) for n, m in enumerate(docs)]
    msgs = [b"Received: from flood by pinbox; " + stamp.encode() + b"\n" + m for m in msgs]
    box.import_messages(msgs)
    sink = Sink()
    try:
        cfg = write_config(tmp_path / "watch.toml", box.base, sink.port, since=None,
                           policy={"max_reviews_per_poll": 40, "max_replies_per_hour": 2})
        run = watch_once(cfg)
        assert run.returncode == 0, run.stderr[-2000:]
        first = collections.Counter(e["msgid"] for e in run.log if e["event"] in ("queued", "skipped"))
        assert set(first) == set(relevant + docs) and set(first.values()) == {1}
        later = collections.Counter(e["msgid"] for e in run.log if e["event"] in ("reviewed", "waiting"))
        assert set(later) == set(relevant + docs) and set(later.values()) == {1}
        assert len(run.of("reviewed")) == 40 and len(run.of("waiting")) == 960
        assert len(sink.messages()) == 2 and len(run.of("deferred")) == 2  # the rate limit
        assert {m.in_reply_to for m in sink.messages()} < set(relevant)
        again = watch_once(cfg)
        assert len(again.of("reviewed")) == 40 and len(sink.messages()) == 2 and not again.of("deferred")
    finally:
        sink.stop()


def test_mute_by_default_writes_the_outbox(tmp_path: Path, inbox: Inbox) -> None:
    sink = Sink()
    try:
        patch = _mid("outbox")
        inbox.deliver(from_real_07(patch, "[PATCH] s390: add pte_free_defer() for the outbox"))
        cfg = write_config(tmp_path / "watch.toml", inbox.base, sink.port, since=None,
                           policy={"send": False})
        run = watch_once(cfg)
        assert run.returncode == 0, run.stderr[-2000:]
        assert sink.messages() == []  # nothing mailed
        files = list((tmp_path / "outbox" / "new").iterdir())
        mine = [f for f in files if f"<{patch}>" in f.read_text()]
        assert len(mine) == 1
        msg = email.message_from_bytes(mine[0].read_bytes(), policy=email_policy.default)
        assert msg["In-Reply-To"] == f"<{patch}>" and msg["Message-ID"].endswith("@bot.example.org>")
        again = watch_once(cfg)
        assert not again.of("outbox") and len(list((tmp_path / "outbox" / "new").iterdir())) == len(files)
    finally:
        sink.stop()


def test_embargo_holds_the_reply_and_one_watcher_per_state(tmp_path: Path, inbox: Inbox) -> None:
    patch = _mid("embargo")
    inbox.deliver(from_real_07(patch, "[PATCH] s390: add pte_free_defer() under embargo"))
    cfg = write_config(tmp_path / "watch.toml", inbox.base, 9, since=None,
                       policy={"send": False, "embargo_hours": 2})
    w = Watching(cfg).start()  # a running watcher holds the state ...
    w.wait_for(lambda e: e["event"] == "reviewed" and e["msgid"] == patch, 120)
    other = watch_once(cfg)  # ... so a second one refuses, in one line
    assert other.returncode == 2 and "another review-bot watch is running" in other.stderr
    assert other.stderr.count("\n") == 1
    assert w.terminate() == 0
    reviewed = next(e for e in w.log if e["event"] == "reviewed" and e["msgid"] == patch)
    assert reviewed["reply"].startswith("<review-bot.") and reviewed["embargo_until"] > time.time() + 3600
    assert not (tmp_path / "outbox" / "new").exists() or not list((tmp_path / "outbox" / "new").iterdir())
    status = run_cli("status", "--config", str(cfg))
    assert "1 reply(s) waiting (0 rate-limited, 1 under embargo)" in status.stdout
    cfg.write_text(cfg.read_text().replace("embargo_hours = 2", "embargo_hours = 0"))
    after = watch_once(cfg)  # the embargo is the policy's current one
    assert [e["parent"] for e in after.of("outbox")] == [patch]
