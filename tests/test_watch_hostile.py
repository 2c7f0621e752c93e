"""Hostile list traffic through `review-bot watch`: every message is attacker-controlled. Each one
gets exactly one decision line (JSON, ASCII), the run exits 0 without a traceback, each relevant
posting among them is answered exactly once with no injected recipient, and a second poll decides
nothing again."""

from __future__ import annotations

import collections
import json
import shlex
from pathlib import Path

from bot.fetch import message_url
from tests.pinbox import Inbox, PublicInbox
from tests.smtpsink import Sink
from tests.watchkit import LIST_ADDRESS, doc_patch, from_real_07, synthetic, watch_once, write_config

REAL = "hostile-real@test.example.org"
SLASHED = "ZHx0a1/b+c?d#e%f@test.example.org"  # '/', '+' as in mutt's base64 ids; '?', '#', '%' too
URL_LIKE = "https://evil.example.org/t@x"  # fetched by it, "the thread" would come from the sender's server


def _hostile() -> dict[str, bytes]:
    """Message-ID → raw message; each breaks one assumption a mail reader could make."""
    out = {
        # CR/LF and an escape sequence encoded into the subject, trying to add a Bcc to the reply
        REAL: from_real_07(REAL, "=?utf-8?q?=1B[31m[PATCH]_s390:_pte=5Ffree=5Fdefer=0D=0ABcc:_evil@example.org?="),
        "no-address@test.example.org": synthetic("no-address@test.example.org", "[PATCH] docs: x", doc_patch(1),
                                                 sender='"nobody at all"'),
        "nul-bytes@test.example.org": synthetic("nul-bytes@test.example.org", "[PATCH] docs: \x00nul",
                                                doc_patch(2).replace("line one", "line\x00one\x01\x7f")),
        "long-subject@test.example.org": synthetic("long-subject@test.example.org", "[PATCH] " + "x" * 20000,
                                                   doc_patch(3)),
        "odd/chars?q=1#frag%20@test.example.org": synthetic("odd/chars?q=1#frag%20@test.example.org",
                                                            "[PATCH] docs: odd id", doc_patch(4)),
        "many-refs@test.example.org": synthetic(
            "many-refs@test.example.org", "Re: [PATCH] docs: refs", "review-bot: stop\n",
            headers={"References": " ".join(f"<r{n}@test.example.org>" for n in range(2000))}),
        "broken-mime@test.example.org": synthetic(
            "broken-mime@test.example.org", "[PATCH] docs: mime", "--nope\n\x80\x81 not utf-8\n",
            headers={"Content-Type": 'multipart/mixed; boundary="never-closed"',
                     "Content-Transfer-Encoding": "base64"}),
    }
    out[SLASHED] = from_real_07(SLASHED, "[PATCH] s390: add pte_free_defer(), odd id")
    out[URL_LIKE] = from_real_07(URL_LIKE, "[PATCH] s390: add pte_free_defer(), URL-like id")
    out["no-at-sign"] = from_real_07("no-at-sign", "[PATCH] s390: add pte_free_defer(), no @ in its id")
    truncated = from_real_07("truncated@test.example.org", "[PATCH] s390: pte_free_defer, cut short")
    cut = truncated.rindex(b"call_rcu(")  # inside the diff: its last hunk ends mid-line
    out["truncated@test.example.org"] = truncated[:cut] + b"call_rcu(&page->rcu_he\n"
    return out


def test_hostile_traffic_one_line_each_no_traceback(tmp_path: Path, pinbox: PublicInbox) -> None:
    inbox = pinbox.add_inbox("watch-hostile", "watch-hostile@example.org")
    sink = Sink(archive=inbox, list_address=LIST_ADDRESS)
    try:
        _one_line_each(tmp_path, inbox, sink)
    finally:
        sink.stop()


def _one_line_each(tmp_path: Path, inbox: Inbox, sink: Sink) -> None:
    msgs = _hostile()
    for raw in msgs.values():
        inbox.deliver(raw.replace(b"\x00", b"\\0") if b"\x00" in raw.split(b"\n\n", 1)[0] else raw)
    cfg = write_config(tmp_path / "watch.toml", inbox.base, sink.port, since=None)
    run = watch_once(cfg)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert all(line.isascii() and line.startswith("{") for line in lines), [ln[:200] for ln in lines][:5]
    assert all(isinstance(json.loads(line), dict) for line in lines)
    first = collections.Counter(e["msgid"] for e in run.log if e["event"] in ("queued", "skipped", "command"))
    assert set(msgs) <= set(first), sorted(set(msgs) - set(first))
    assert all(first[m] == 1 for m in msgs), first
    by = {e["msgid"]: e for e in run.log if e["event"] in ("queued", "skipped", "command")}
    assert by["no-address@test.example.org"]["reason"] == "no sender address"
    assert by["many-refs@test.example.org"]["event"] == "skipped"  # not an answer to the bot: no command
    assert by["no-at-sign"]["reason"] == "a Message-ID no public-inbox URL can name"
    assert not run.of("review-failed")
    reviewed = {e["msgid"]: e for e in run.of("reviewed")}
    assert reviewed["truncated@test.example.org"]["verdict"] == "not judged"  # said, not silently passed
    assert reviewed["odd/chars?q=1#frag%20@test.example.org"]["verdict"] == "not relevant"

    got = sink.messages()
    assert sorted(m.in_reply_to for m in got) == sorted([REAL, SLASHED, URL_LIKE]), [m.in_reply_to for m in got]
    for odd in (SLASHED, URL_LIKE):  # its command names it by its URL on this list's server
        text = next(m for m in got if m.in_reply_to == odd).msg.get_content()
        block = text[text.index("Reproduce with:\n") + 16:].split("\n\n", 1)[0]
        argv = shlex.split(block.replace("\\\n", " "))
        assert argv[:2] == ["review-bot", "explore"] and argv[2] == message_url(inbox.base, odd), argv
    reply = next(m for m in got if m.in_reply_to == REAL)
    assert not any("evil" in r for r in reply.rcpt_tos), reply.rcpt_tos
    head = reply.raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in reply.raw else reply.raw.split(b"\n\n", 1)[0]
    assert b"\x1b" not in head and b"\nBcc:" not in head.replace(b"\r\n", b"\n")

    again = watch_once(cfg)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not [e for e in again.log if e.get("msgid") in msgs and e["event"] in ("queued", "command", "reviewed")]
    assert not again.of("sent") and len(sink.messages()) == 3
