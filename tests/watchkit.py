"""Helpers for the list bot's tests: configs, the watcher as a real process, postings built at test time."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy as email_policy
from email.utils import format_datetime, formatdate
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.kernel_tree import patch_07

LIST_ADDRESS = "linux-s390@vger.kernel.org"  # what the corpus postings are addressed to
BOT = "review-bot <review-bot@bot.example.org>"


def write_config(path: Path, base: str, smtp_port: int, *, policy: dict[str, Any] | None = None,
                 since: str | None = "2023-01-01", poll_seconds: float = 300, extra: str = "") -> Path:
    """A watch config for one list at `base`, mailing through 127.0.0.1:smtp_port."""
    pol = {"send": True, **(policy or {})}
    lines = ["[[list]]", 'name = "linux-s390"', f'url = "{base}"', f'address = "{LIST_ADDRESS}"',
             f"poll_seconds = {poll_seconds}"]
    if since:
        lines.append(f'since = "{since}"')
    lines.append("[list.policy]")
    lines += [f"{k} = {_toml(v)}" for k, v in pol.items()]
    lines += ["[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", f'from = "{BOT}"',
              'envelope_from = "bounces@bot.example.org"', "confirm_minutes = 0", "timeout_seconds = 10",
              "[fetch]", "retries = 1", "backoff_seconds = 0.1", "[state]", 'path = "state.sqlite"',
              'outbox = "outbox"', 'cache = "cache"']
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return str(v)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def events(stderr: str) -> list[dict[str, Any]]:
    """The watcher's decision lines (JSON objects); a CLI error line ("review-bot: error: ...") is not one."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@dataclass
class Run:
    returncode: int
    log: list[dict[str, Any]]
    stderr: str

    def of(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e["event"] == event]


def watch_once(config: Path, timeout: float = 300) -> Run:
    res = subprocess.run([sys.executable, "-m", "bot", "watch", "--config", str(config), "--once"],
                         capture_output=True, text=True, timeout=timeout, env=_env(), cwd=config.parent)
    return Run(res.returncode, events(res.stderr), res.stderr)


@dataclass
class Watching:
    """`review-bot watch` running in the background; its decision lines are read as they come."""

    config: Path
    args: tuple[str, ...] = ()
    proc: subprocess.Popen[str] | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)  # when each line arrived (monotonic)
    lines: list[str] = field(default_factory=list)
    kill_when: Callable[[dict[str, Any], list[dict[str, Any]]], bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Watching:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "watch", "--config", str(self.config),
                                      *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=_env(), cwd=self.config.parent)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line)
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                self.log.append(ev)
                self.stamps.append(time.monotonic())
                if self.kill_when is not None and self.kill_when(ev, self.log):
                    self.kill9()

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                hit = next((e for e in self.log if pred(e)), None)
            if hit is not None:
                return hit
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no such log line within {timeout}s; last lines: {self.lines[-5:]}")

    def wait(self, timeout: float = 300) -> int:
        assert self.proc is not None
        rc = self.proc.wait(timeout=timeout)
        time.sleep(0.05)  # let the reader finish the last lines
        return rc

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)


# -- postings -------------------------------------------------------------------------------------


def from_real_07(msgid: str, subject: str, *, in_reply_to: str | None = None, when: float | None = None,
                 extra_headers: dict[str, str] | None = None) -> bytes:
    """The real v1 07/12 posting (from ../shared, at test time) as a new message: new Message-ID,
    subject and date, no threading unless asked."""
    msg = email.message_from_bytes(patch_07(1), policy=email_policy.compat32)
    for h in ("Message-ID", "Subject", "Date", "In-Reply-To", "References", "Received", "Return-Path"):
        del msg[h]
    msg["Message-ID"] = f"<{msgid}>"
    msg["Subject"] = subject
    msg["Date"] = formatdate(when if when is not None else time.time())
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for k, v in (extra_headers or {}).items():
        msg[k] = v
    return msg.as_bytes(policy=email_policy.compat32)


def synthetic(msgid: str, subject: str, body: str, *, sender: str = "Ann Author <ann@example.org>",
              in_reply_to: str | None = None, headers: dict[str, str] | None = None) -> bytes:
    """A small synthetic message to the list."""
    lines = [f"From: {sender}", f"To: {LIST_ADDRESS}", f"Subject: {subject}",
             f"Date: {format_datetime(_now())}", f"Message-ID: <{msgid}>"]
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body]
    return ("\n".join(lines) + "\n").encode()


def doc_patch(n: int) -> str:
    """A patch that touches no modeled code (a documentation file)."""
    return (f"Fix a typo in the notes, take {n}.\n\nSigned-off-by: Ann Author <ann@example.org>\n---\n"
            f"diff --git a/Documentation/notes-{n}.txt b/Documentation/notes-{n}.txt\n"
            f"--- a/Documentation/notes-{n}.txt\n+++ b/Documentation/notes-{n}.txt\n"
            "@@ -1,3 +1,3 @@\n line one\n-teh line two\n+the line two\n line three\n")


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)
