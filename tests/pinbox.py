"""A real public-inbox v2 inbox served by public-inbox-httpd on 127.0.0.1, built from corpus mboxes.

Exactly as lore serves it: public-inbox-init -V2 -L medium, each message written as blob `m` of one
commit with `git fast-import --date-format=raw-permissive`, public-inbox-index, then
public-inbox-httpd -W0 on a free loopback port. Every state path (PI_CONFIG, PI_EMERGENCY, HOME,
XDG_CACHE_HOME, git config) lives under the given directory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_tz
from pathlib import Path

TOOLS = ("public-inbox-init", "public-inbox-index", "public-inbox-httpd")
_FROMLINE = re.compile(rb"^From \S")
_ESCAPED = re.compile(rb"^>(>*From )")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def missing_tools() -> list[str]:
    return [t for t in (*TOOLS, "git") if shutil.which(t) is None]


def split_mboxrd(data: bytes) -> Iterator[bytes]:
    """The raw messages of an mboxrd file, '>From ' unescaped, without the 'From ' separator."""
    msg: list[bytes] = []
    started = False
    for line in data.splitlines(keepends=True):
        if _FROMLINE.match(line) and (not started or not msg or msg[-1].strip() == b""):
            if started and msg:
                yield b"".join(msg).rstrip(b"\n") + b"\n"
            msg, started = [], True
            continue
        if started:
            msg.append(_ESCAPED.sub(rb"\1", line))
    if started and msg:
        yield b"".join(msg).rstrip(b"\n") + b"\n"


def _header(raw: bytes, name: str) -> str:
    head = _HEADER_END.split(raw, maxsplit=1)[0].decode("utf-8", "replace")
    m = re.search(rf"^{name}:[ \t]*(.*(?:\r?\n[ \t].*)*)", head, re.I | re.M)
    return " ".join(m.group(1).split()) if m else ""


def _raw_date(raw: bytes) -> str:
    """'<epoch> <+zone>' for fast-import's raw date format (zones as written, e.g. +1700)."""
    date = _header(raw, "Date")
    parsed = parsedate_tz(date) if date else None
    if parsed is None:
        return "0 +0000"
    import calendar

    offset = parsed[9] or 0
    epoch = calendar.timegm(parsed[:9]) - offset  # type: ignore[arg-type]
    zone = re.search(r"([+-]\d{4})\s*(\(.*\))?$", date)
    return f"{epoch} {zone.group(1) if zone else '+0000'}"


def fast_import_stream(messages: Iterable[bytes], ref: str = "refs/heads/master",
                       parent: str | None = None) -> bytes:
    out: list[bytes] = []
    for n, raw in enumerate(messages, 1):
        start = f"from {parent}\n".encode() if n == 1 and parent else b""
        ident = "corpus <corpus@example.invalid>"
        summary = _header(raw, "Subject")[:200].encode("utf-8", "replace") + b"\n"
        out += [
            f"commit {ref}\nmark :{n}\n".encode(),
            f"author {ident} {_raw_date(raw)}\ncommitter {ident} {_raw_date(raw)}\n".encode(),
            f"data {len(summary)}\n".encode(),
            summary,
            start,
            f"M 100644 inline m\ndata {len(raw)}\n".encode(),
            raw,
            b"\n",
        ]
    return b"".join(out)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PublicInbox:
    root: Path
    name: str = "linux-s390"
    address: str = "linux-s390@vger.kernel.org"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def inbox_dir(self) -> Path:
        return self.root / "inbox" / self.name

    @property
    def base(self) -> str:
        """The public-inbox base URL (what --lore-url takes)."""
        return f"http://127.0.0.1:{self.port}/{self.name}"

    def _env(self) -> dict[str, str]:
        if not self.env:
            home = self.root / "home"
            for d in (home, self.root / "cache"):
                d.mkdir(parents=True, exist_ok=True)
            (self.root / "gitconfig").write_text(
                "[user]\n\tname = pinbox\n\temail = pinbox@example.invalid\n"
            )
            self.env = {
                **os.environ,
                "PI_CONFIG": str(self.root / "pi-config"),
                "PI_EMERGENCY": str(self.root / "pi-emergency"),
                "HOME": str(home),
                "XDG_CACHE_HOME": str(self.root / "cache"),
                "GIT_CONFIG_GLOBAL": str(self.root / "gitconfig"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "TZ": "UTC",
            }
        return self.env

    def _run(self, *cmd: str, stdin: bytes | None = None) -> None:
        res = subprocess.run(cmd, input=stdin, env=self._env(), capture_output=True, timeout=300)
        if res.returncode != 0:
            err = res.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"{' '.join(cmd[:2])} failed ({res.returncode}): {err[-2000:]}")

    def build(self, mboxes: Iterable[Path]) -> int:
        """Create, fill and index the inbox; returns the number of messages imported."""
        self.port = self.port or free_port()
        self.inbox_dir.parent.mkdir(parents=True, exist_ok=True)
        self._run(
            "public-inbox-init",
            "-V2",
            "-L",
            "medium",
            self.name,
            str(self.inbox_dir),
            self.base,
            self.address,
        )
        seen: set[str] = set()
        messages: list[bytes] = []
        for mbox in mboxes:
            for raw in split_mboxrd(Path(mbox).read_bytes()):
                mid = _header(raw, "Message-ID")
                if mid and mid in seen:
                    continue  # the same message in two thread files
                seen.add(mid)
                messages.append(raw)
        self.import_messages(messages)
        return len(messages)

    def import_messages(self, messages: list[bytes]) -> None:
        """Append messages to the inbox's git epoch and index them (many at once, unlike -mda)."""
        epoch = self.inbox_dir / "git" / "0.git"
        if not epoch.exists():
            self._run("git", "init", "-q", "--bare", str(epoch))
        self._run(
            "git",
            f"--git-dir={epoch}",
            "fast-import",
            "--quiet",
            "--date-format=raw-permissive",
            stdin=fast_import_stream(messages, parent=self._tip(epoch)),
        )
        self._run("public-inbox-index", str(self.inbox_dir))

    def _tip(self, epoch: Path) -> str | None:
        res = subprocess.run(["git", f"--git-dir={epoch}", "rev-parse", "-q", "--verify", "refs/heads/master"],
                             env=self._env(), capture_output=True, text=True, timeout=60)
        return res.stdout.strip() or None

    def add_inbox(self, name: str, address: str, mboxes: Iterable[Path] = ()) -> Inbox:
        """Another inbox on the same server (public-inbox-httpd rereads its config on SIGHUP)."""
        extra = PublicInbox(self.root, name=name, address=address, port=self.port, env=self._env())
        extra.build(mboxes)
        self._run("git", "config", "--file", self.env["PI_CONFIG"], "publicinboxmda.spamcheck", "none")
        if self.proc is not None:
            self.proc.send_signal(signal.SIGHUP)
            _wait_http(f"{extra.base}/_/text/config/raw", 30.0, self)
        return Inbox(self, extra)

    def serve(self, timeout: float = 30.0) -> None:
        logs = self.root / "httpd"
        logs.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "public-inbox-httpd",
                "-W0",
                "-l",
                f"http://127.0.0.1:{self.port}",
                "-1",
                str(logs / "out.log"),
                "-2",
                str(logs / "err.log"),
            ],
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"{self.base}/_/text/config/raw", timeout, self)

    def errors(self) -> str:
        p = self.root / "httpd" / "err.log"
        return p.read_text(errors="replace")[-2000:] if p.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def _wait_http(probe: str, timeout: float, server: PublicInbox) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"public-inbox-httpd exited {server.proc.returncode}: {server.errors()}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"public-inbox-httpd not serving {probe} after {timeout}s: {server.errors()}")


@dataclass
class Inbox:
    """One inbox of a running server: where it is served, and how mail reaches it."""

    server: PublicInbox
    box: PublicInbox

    @property
    def base(self) -> str:
        return self.box.base

    @property
    def address(self) -> str:
        return self.box.address

    def deliver(self, raw: bytes) -> None:
        """Deliver one message as the list would: public-inbox-mda, with a Received header (without
        one, public-inbox does not index the arrival time that new.atom and rt: searches use)."""
        if not raw.lstrip().lower().startswith(b"received:"):
            stamp = formatdate(localtime=False).encode()
            raw = b"Received: from test by pinbox with SMTP; " + stamp + b"\n" + raw
        env = {**self.server._env(), "ORIGINAL_RECIPIENT": self.address}
        # --no-precheck: test postings are addressed to the list they imitate, not to this inbox
        res = subprocess.run(["public-inbox-mda", "--no-precheck"], input=raw, env=env, capture_output=True,
                             timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"public-inbox-mda failed ({res.returncode}): "
                               f"{res.stderr.decode('utf-8', 'replace')[-2000:]}")

    def import_messages(self, messages: list[bytes]) -> None:
        self.box.import_messages(messages)
