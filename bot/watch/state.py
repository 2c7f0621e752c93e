"""What the watcher remembers, in one sqlite file (WAL): messages seen, reviews, replies, mutes, polls.

Every step that must not happen twice is a row written in the same transaction as the decision
that caused it: a message is "seen" together with what was decided for it (queued, skipped, a
command acted on); a review is recorded together with the reply it plans. A reply then goes
planned → sending (committed before the SMTP transaction starts) → sent (committed after the
server accepted it). After a crash, a reply left in "sending" is looked up (outbox maildir, the
list archive) before it is sent again: see bot.watch.deliver.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS polls (
    list TEXT PRIMARY KEY, started REAL, finished REAL, searched REAL, found INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS messages (
    list TEXT NOT NULL, msgid TEXT NOT NULL, first_seen REAL NOT NULL, sender TEXT, subject TEXT,
    thread TEXT, decision TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (list, msgid));
CREATE INDEX IF NOT EXISTS messages_queue ON messages (list, decision, first_seen);
CREATE TABLE IF NOT EXISTS reviews (
    list TEXT NOT NULL, msgid TEXT NOT NULL, slot TEXT NOT NULL, subject TEXT, series TEXT,
    verdict TEXT NOT NULL, correctness INTEGER NOT NULL, other INTEGER NOT NULL, judged INTEGER NOT NULL,
    base TEXT, page TEXT, reviewed_at REAL NOT NULL, summary TEXT,
    PRIMARY KEY (list, msgid));
CREATE TABLE IF NOT EXISTS replies (
    reply_msgid TEXT PRIMARY KEY, list TEXT NOT NULL, parent TEXT NOT NULL, slot TEXT NOT NULL UNIQUE,
    position TEXT NOT NULL, hazards TEXT NOT NULL, thread TEXT, author TEXT, status TEXT NOT NULL,
    planned_at REAL NOT NULL, first_seen REAL NOT NULL, attempt_at REAL, sent_at REAL, via TEXT,
    recipients TEXT NOT NULL, raw BLOB NOT NULL, to_list INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS replies_status ON replies (list, status, planned_at);
CREATE TABLE IF NOT EXISTS mutes (
    list TEXT NOT NULL, thread TEXT NOT NULL, muted INTEGER NOT NULL, by TEXT, command TEXT, at REAL,
    PRIMARY KEY (list, thread));
"""


@dataclass
class Reply:
    reply_msgid: str
    list: str
    parent: str
    slot: str
    position: str  # series, revision and patch number (bot.watch.review.position)
    hazards: str  # the correctness hazard ids it reports, comma-separated
    thread: str
    author: str
    status: str  # planned | deferred | sending | sent | cancelled
    planned_at: float
    first_seen: float  # when the bot first saw the posting: the embargo counts from here
    attempt_at: float | None
    sent_at: float | None
    via: str | None
    recipients: list[str]
    raw: bytes
    to_list: bool


class Busy(Exception):
    """Another watcher holds this state: two would send the same planned reply."""


class State:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock: int | None = None
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed "sent" survives power loss too
        self.db.execute("PRAGMA busy_timeout=30000")
        with self.tx() as db:
            for stmt in _DDL.strip().split(";"):
                if stmt.strip():
                    db.execute(stmt)
            have = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if have is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        if have is not None and int(have[0]) > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: state schema {have[0]} is newer than this review-bot "
                               f"({SCHEMA_VERSION}); upgrade review-bot")

    def lock(self) -> None:
        """Hold the state for one watcher (released when the process ends, kill -9 included). A POSIX
        record lock: the judgement workers the watcher forks do not inherit it."""
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise Busy(f"another review-bot watch is running on {self.path}") from None
        self._lock = fd

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it is on disk, or none of it."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- polls ----------------------------------------------------------------------------------
    def poll(self, lst: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM polls WHERE list=?", (lst,)).fetchone()

    def record_poll(self, lst: str, started: float, searched: float | None, found: int, error: str = "") -> None:
        """A complete poll. `searched`: when the last search that reached this poll ran (its window
        anchors the next one)."""
        with self.tx() as db:
            db.execute("INSERT INTO polls VALUES (?,?,?,?,?,?) ON CONFLICT(list) DO UPDATE SET "
                       "started=excluded.started, finished=excluded.finished, searched=excluded.searched, "
                       "found=excluded.found, error=excluded.error",
                       (lst, started, time.time(), searched, found, error))

    # -- messages -------------------------------------------------------------------------------
    def seen(self, lst: str, msgid: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE list=? AND msgid=?", (lst, msgid)).fetchone() is not None

    def add_message(self, db: sqlite3.Connection, lst: str, msgid: str, *, sender: str, subject: str,
                    thread: str, decision: str, reason: str, now: float) -> None:
        db.execute("INSERT INTO messages (list, msgid, first_seen, sender, subject, thread, decision, reason) "
                   "VALUES (?,?,?,?,?,?,?,?)", (lst, msgid, now, sender, subject, thread, decision, reason))

    def queue(self, lst: str, limit: int | None = None) -> list[sqlite3.Row]:
        q = "SELECT * FROM messages WHERE list=? AND decision='queued' ORDER BY first_seen, rowid"
        if limit is not None:
            q += f" LIMIT {int(limit)}"
        return list(self.db.execute(q, (lst,)))

    def set_decision(self, db: sqlite3.Connection, lst: str, msgid: str, decision: str, reason: str) -> None:
        db.execute("UPDATE messages SET decision=?, reason=? WHERE list=? AND msgid=?",
                   (decision, reason, lst, msgid))

    def count_attempt(self, lst: str, msgid: str) -> int:
        with self.tx() as db:
            db.execute("UPDATE messages SET attempts=attempts+1 WHERE list=? AND msgid=?", (lst, msgid))
            row = db.execute("SELECT attempts FROM messages WHERE list=? AND msgid=?", (lst, msgid)).fetchone()
        return int(row[0]) if row else 0

    # -- reviews --------------------------------------------------------------------------------
    def add_review(self, db: sqlite3.Connection, lst: str, msgid: str, **kw: Any) -> None:
        db.execute("INSERT OR REPLACE INTO reviews (list, msgid, slot, subject, series, verdict, correctness, "
                   "other, judged, base, page, reviewed_at, summary) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (lst, msgid, kw["slot"], kw["subject"], kw["series"], kw["verdict"], kw["correctness"],
                    kw["other"], int(kw["judged"]), kw["base"], kw["page"], kw["reviewed_at"],
                    json.dumps(kw.get("summary", {}))))

    def reviews(self, lst: str | None = None) -> list[sqlite3.Row]:
        if lst is None:
            return list(self.db.execute("SELECT * FROM reviews ORDER BY reviewed_at, rowid"))
        return list(self.db.execute("SELECT * FROM reviews WHERE list=? ORDER BY reviewed_at, rowid", (lst,)))

    # -- replies --------------------------------------------------------------------------------
    def slot_taken(self, slot: str) -> str | None:
        """The reply already planned for this slot, on any list (a cross-posted patch gets one)."""
        row = self.db.execute("SELECT reply_msgid FROM replies WHERE slot=?", (slot,)).fetchone()
        return str(row[0]) if row else None

    def same_findings_sent(self, position: str, hazards: str) -> str | None:
        """A reply at the same series position with the same findings (a re-post of the patch)."""
        row = self.db.execute("SELECT reply_msgid FROM replies WHERE position=? AND hazards=? "
                              "AND status != 'cancelled'", (position, hazards)).fetchone()
        return str(row[0]) if row else None

    def plan_reply(self, db: sqlite3.Connection, r: Reply) -> None:
        db.execute("INSERT INTO replies (reply_msgid, list, parent, slot, position, hazards, thread, author, "
                   "status, planned_at, first_seen, recipients, raw, to_list) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (r.reply_msgid, r.list, r.parent, r.slot, r.position, r.hazards, r.thread, r.author,
                    r.status, r.planned_at, r.first_seen, json.dumps(r.recipients), r.raw, int(r.to_list)))

    def replies(self, lst: str, statuses: tuple[str, ...]) -> list[Reply]:
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(f"SELECT * FROM replies WHERE list=? AND status IN ({marks}) "
                               "ORDER BY planned_at, rowid", (lst, *statuses))
        return [_reply(r) for r in rows]

    def reply(self, reply_msgid: str) -> Reply | None:
        row = self.db.execute("SELECT * FROM replies WHERE reply_msgid=?", (reply_msgid,)).fetchone()
        return _reply(row) if row else None

    def reply_ids(self) -> set[str]:
        """Message-IDs (without <>) of every reply the bot planned, on any list."""
        return {str(r[0]).strip("<>") for r in self.db.execute("SELECT reply_msgid FROM replies")}

    def reply_status_by_parent(self) -> dict[str, str]:
        return {str(r[0]): str(r[1]) for r in self.db.execute("SELECT parent, status FROM replies")}

    def set_reply(self, reply_msgid: str, status: str, **kw: Any) -> None:
        cols = ", ".join(f"{k}=?" for k in kw)
        with self.tx() as db:
            db.execute(f"UPDATE replies SET status=?{', ' + cols if cols else ''} WHERE reply_msgid=?",
                       (status, *kw.values(), reply_msgid))

    def sent_since(self, lst: str, since: float) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM replies WHERE list=? AND status='sent' AND sent_at >= ?",
                              (lst, since)).fetchone()
        return int(row[0])

    # -- mutes ----------------------------------------------------------------------------------
    def muted(self, lst: str, thread: str) -> bool:
        row = self.db.execute("SELECT muted FROM mutes WHERE list=? AND thread=?", (lst, thread)).fetchone()
        return bool(row and row[0])

    def set_mute(self, db: sqlite3.Connection, lst: str, thread: str, muted: bool, by: str, command: str,
                 now: float) -> None:
        db.execute("INSERT INTO mutes VALUES (?,?,?,?,?,?) ON CONFLICT(list, thread) DO UPDATE SET "
                   "muted=excluded.muted, by=excluded.by, command=excluded.command, at=excluded.at",
                   (lst, thread, int(muted), by, command, now))

    def mutes(self, lst: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM mutes WHERE list=? AND muted=1 ORDER BY at", (lst,)))

    # -- status ---------------------------------------------------------------------------------
    def counts(self, lst: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.db.execute("SELECT decision, COUNT(*) FROM messages WHERE list=? GROUP BY decision", (lst,)):
            out[f"messages.{row[0]}"] = int(row[1])
        for row in self.db.execute("SELECT status, COUNT(*) FROM replies WHERE list=? GROUP BY status", (lst,)):
            out[f"replies.{row[0]}"] = int(row[1])
        return out


def _reply(row: sqlite3.Row) -> Reply:
    return Reply(reply_msgid=row["reply_msgid"], list=row["list"], parent=row["parent"], slot=row["slot"],
                 position=row["position"], hazards=row["hazards"],
                 thread=row["thread"] or "", author=row["author"] or "", status=row["status"],
                 planned_at=row["planned_at"], first_seen=row["first_seen"], attempt_at=row["attempt_at"],
                 sent_at=row["sent_at"], via=row["via"], recipients=json.loads(row["recipients"]),
                 raw=bytes(row["raw"]), to_list=bool(row["to_list"]))
