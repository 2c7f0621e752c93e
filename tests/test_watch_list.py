"""`review-bot watch` on the three pte-free-defer threads served by a real public-inbox-httpd, replies
received by a real SMTP server (aiosmtpd) that hands list copies to the archive: exactly one reply
to each patch with a correctness finding, threaded to it; a second run sends nothing; kill -9 at
several points of a run loses and duplicates nothing."""

from __future__ import annotations

import collections
import functools
import shlex
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import mail
from bot.pipeline import Options, review_postings
from tests import corpus
from tests.conftest import run_cli
from tests.pinbox import Inbox, PublicInbox
from tests.smtpsink import Received, Sink
from tests.watchkit import BOT, LIST_ADDRESS, Watching, watch_once, write_config

V1_05 = "28eb289f-ea2c-8eb9-63bb-9f7d7b9ccc11@google.com"
V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
V2_07 = "a722dbec-bd9e-1213-1edd-53cd547aa4f@google.com"
V3_07 = "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com"
CORRECT = {  # Message-ID prefixes: the powerpc, sparc and generic patches that are correct
    "5cd9f442-61da-4c3d-eca-b7f44d2": "v2 05 powerpc",
    "6e3ca5f1-334d-4b14-b92d-fc8e99": "v3 05 powerpc",
    "f8d84fb8-eb9-6649-7137-715c601": "v1 06 sparc",
    "cb3feef8-f49e-7a54-a6d6-2e9b18": "v2 06 sparc",
    "dc4f318d-a66a-5622-dc44-9018ea": "v3 06 sparc",
    "739964d-c535-4db4-90ec-2166285": "v1 08 generic",
    "3e5961a2-26e5-d1ab-5c4c-527e27": "v2 08 generic",
    "78e921b0-b681-a1b0-dc20-44c9ef": "v3 08 generic",
}


@functools.lru_cache(maxsize=1)
def _formal_ids() -> tuple[str, ...]:
    return tuple(p.msgid for n in (1, 2, 3) for p in mail.load(str(corpus.thread(n))).postings if not p.is_reply)


def _full(prefix: str) -> str:
    hits = [m for m in _formal_ids() if m.startswith(prefix)]
    assert len(hits) == 1, (prefix, hits)
    return hits[0]


@pytest.fixture(scope="module")
def expected() -> set[str]:
    """Formal postings that `check` finds a correctness issue in (reviewed like `check --mbox`), one
    per series revision and patch number: a re-post of a patch with the same findings ("[PATCH mm
    10/12]" after "[PATCH v2 10/12]") gets no second reply."""
    out: dict[tuple, str] = {}
    for n in (1, 2, 3):
        res = mail.load(str(corpus.thread(n)))
        formal = [p for p in res.postings if not p.is_reply]
        for r in review_postings(formal, Options(cache=False), context=res.postings):
            hazards = tuple(sorted({f.hazard for f in r.findings if f.cls == "correctness" and f.introduced}))
            s = r.posting.series
            if hazards:
                out.setdefault((s.key, s.revision, s.index, hazards), r.msgid)
    return set(out.values())


@pytest.fixture
def threads_inbox(pinbox: PublicInbox, request: pytest.FixtureRequest) -> Inbox:
    """The three threads in an inbox of the test's own: the replies the sink archives there must
    not be found by another test (their Message-IDs are the same, by design)."""
    name = "watch-threads-" + request.node.name.removeprefix("test_")[:24].replace("_", "-")
    return pinbox.add_inbox(name, f"{name}@example.org", [corpus.thread(n) for n in (1, 2, 3)])


@pytest.fixture
def sink(threads_inbox: Inbox) -> Iterator[Sink]:
    s = Sink(archive=threads_inbox, list_address=LIST_ADDRESS)
    yield s
    s.stop()


def _parents(got: list[Received]) -> collections.Counter[str]:
    return collections.Counter(m.in_reply_to for m in got)


def _check_replies(got: list[Received], expected: set[str], domain: str) -> None:
    parents = _parents(got)
    assert set(parents) == expected, (sorted(set(parents) - expected), sorted(expected - set(parents)))
    assert max(parents.values()) == 1, [p for p, n in parents.items() if n > 1]
    for m in got:
        msg = m.msg
        assert m.mail_from == "bounces@bot.example.org"
        assert str(msg["From"]) == BOT and msg["Auto-Submitted"] == "auto-generated"
        assert m.message_id.endswith(f"@{domain}>") and m.message_id.startswith("<review-bot.")
        assert str(msg["References"]).split()[-1] == f"<{m.in_reply_to}>"
        assert str(msg["Subject"]).startswith("Re: [PATCH")
        assert LIST_ADDRESS in m.rcpt_tos


def test_one_pass_replies_once_to_each_patch_with_a_correctness_finding(
        tmp_path: Path, threads_inbox: Inbox, sink: Sink, expected: set[str]) -> None:
    assert {V1_05, V1_07, V2_07} <= expected and V3_07 not in expected
    assert not expected & {_full(m) for m in CORRECT}
    cfg = write_config(tmp_path / "watch.toml", threads_inbox.base, sink.port)
    run = watch_once(cfg)
    assert run.returncode == 0, run.stderr[-3000:]
    _check_replies(sink.messages(), expected, "bot.example.org")
    reviewed = {e["msgid"]: e for e in run.of("reviewed")}
    assert reviewed[V3_07]["reply"].startswith("none: only cost or noise notes")
    for mid in CORRECT:
        full = _full(mid)
        # correct: no reply, judged or not (whether each is judged is the judgement tests' concern)
        assert reviewed[full]["verdict"] in ("no hazard", "not judged"), (CORRECT[mid], reviewed[full])
        assert reviewed[full]["reply"].startswith("none:")
    # one decision line per message seen, and every line is structured
    assert all(line.startswith("{") for line in run.stderr.splitlines())
    seen = collections.Counter(e["msgid"] for e in run.log if e["event"] in ("queued", "skipped", "command"))
    assert max(seen.values()) == 1 and len(seen) == 143

    # "Reproduce with" fetches the thread from the list again and reproduces the finding it follows
    v1_07 = next(m for m in sink.messages() if m.in_reply_to == V1_07).msg.get_content()
    assert "--mbox" not in v1_07 and "THREAD.mbox" not in v1_07
    block = v1_07[v1_07.index("Reproduce with:\n") + 16:].split("\n\n", 1)[0]
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[:3] == ["review-bot", "explore", V1_07] and argv[-2:] == ["--lore-url", threads_inbox.base]
    replay = run_cli(*argv[1:])
    assert replay.returncode == 1 and "verdict: unsafe" in replay.stdout, replay.stderr

    db = sqlite3.connect(tmp_path / "state.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    sent = db.execute("SELECT COUNT(*) FROM replies WHERE status = 'sent'").fetchone()[0]
    db.close()
    assert sent == len(expected)

    again = watch_once(cfg)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(sink.messages()) == len(expected)  # nothing more
    assert not again.of("sent") and not again.of("reviewed")
    # the list's copies of the bot's replies came back through the archive: recognised as its own
    own = {e["msgid"] for e in again.of("skipped") if e["reason"] == "own message"}
    assert {m.message_id.strip("<>") for m in sink.messages()} <= own


def test_kill_9_at_several_points_then_a_clean_run(
        tmp_path: Path, threads_inbox: Inbox, sink: Sink, expected: set[str]) -> None:
    """kill -9 while reviewing, right after a reply is planned, inside the SMTP transaction (the
    server has the message, the bot never hears 250), and right after a reply is marked sent; then
    clean runs. Every expected reply arrives exactly once."""
    cfg = write_config(tmp_path / "watch.toml", threads_inbox.base, sink.port)
    points: list[tuple[str, object]] = [
        ("first review recorded", lambda ev, log: ev["event"] == "reviewed"),
        ("reply planned", lambda ev, log: ev["event"] == "reviewed" and ev["reply"].startswith("<")),
        ("inside SMTP DATA", "smtp"),
        ("just sent", lambda ev, log: sum(e["event"] == "sent" for e in log) == 1),
        ("inside SMTP DATA again", "smtp"),
    ]
    killed = 0
    log: list[dict] = []
    for name, when in points:
        w = Watching(cfg, ("--once",))
        if when == "smtp":
            def kill_in_data(n: int, got: Received, w: Watching = w) -> None:
                sink.on_data = None  # only the first message this run hands over
                w.kill9()
            sink.on_data = kill_in_data
        else:
            w.kill_when = when  # type: ignore[assignment]
        w.start()
        rc = w.wait(300)
        sink.on_data = None
        log += w.log
        if rc == -signal.SIGKILL:
            killed += 1
        else:
            assert rc == 0, (name, w.lines[-5:])
    assert killed >= 4  # the run ended early at most once (nothing left to do at that point)
    final = watch_once(cfg)
    assert final.returncode == 0, final.stderr[-3000:]
    _check_replies(sink.messages(), expected, "bot.example.org")
    # the replies the server took while the bot died were found in the archive, not sent again
    assert [e for e in log + final.log if e["event"] == "confirmed"]
    last = watch_once(cfg)
    assert last.returncode == 0 and not last.of("sent")
    _check_replies(sink.messages(), expected, "bot.example.org")
