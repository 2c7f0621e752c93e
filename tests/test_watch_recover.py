"""A reply a killed run left "sending" (the SMTP server may or may not have it): sent again only
when the list archive, asked by the reply's Message-ID, says it does not have it; while the
archive cannot be asked, the reply waits, so it is never sent twice."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from bot.watch.config import load
from bot.watch.run import Watcher
from bot.watch.state import Reply
from tests.pinbox import Inbox, PublicInbox, free_port
from tests.watchkit import write_config


def _interrupted(w: Watcher, list_name: str) -> str:
    rid = "<review-bot.recover@bot.example.org>"
    now = time.time()
    with w.state.tx() as db:
        w.state.plan_reply(db, Reply(
            reply_msgid=rid, list=list_name, parent="patch@test.example.org", slot="s", position="p", hazards="H",
            thread="patch@test.example.org", author="ann@example.org", status="planned", planned_at=now,
            first_seen=now, attempt_at=None, sent_at=None, via=None, recipients=["ann@example.org"],
            raw=b"Subject: x\n\nx\n", to_list=True))
    w.state.set_reply(rid, "sending", attempt_at=now - 3600)
    return rid


def _events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "review-bot.watch"]


@pytest.fixture
def inbox(pinbox: PublicInbox) -> Inbox:
    return pinbox.add_inbox("watch-recover", "watch-recover@example.org")


def test_interrupted_send_waits_for_the_archive(tmp_path: Path, inbox: Inbox,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="review-bot.watch")
    down = f"http://127.0.0.1:{free_port()}/linux-s390"  # nothing listens there
    cfg = load(write_config(tmp_path / "watch.toml", down, 9))
    w = Watcher(cfg)
    try:
        lst = cfg.lists[0]
        rid = _interrupted(w, lst.name)
        w.recover(lst)
        w.recover(lst)
        assert w.state.reply(rid).status == "sending"  # not sent again blind
        lines = [e for e in _events(caplog) if rid in e]
        assert len(lines) == 1 and '"unconfirmed"' in lines[0] and "cannot be asked" in lines[0]
    finally:
        w.state.close()

    caplog.clear()
    cfg = load(write_config(tmp_path / "watch.toml", inbox.base, 9))  # the archive answers: not there
    w = Watcher(cfg)
    try:
        w.recover(cfg.lists[0])
        assert w.state.reply(rid).status == "planned"
        assert any('"resend"' in e and rid in e for e in _events(caplog))
    finally:
        w.state.close()
