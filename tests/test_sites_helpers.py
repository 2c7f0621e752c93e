"""Private stand-in for bot.mail while it is written: mbox message → Posting with parsed diff.

Switches to bot.mail.load when that module exists; the stand-in only fills what bot.sites reads
(msgid, subject, body, files).
"""

from __future__ import annotations

import email.policy
import lzma
import mailbox
import re
import shutil
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

from bot.patch import FileDiff, Hunk, HunkLine, Posting

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")


def _strip(path: str) -> str | None:
    if path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def parse_diff(text: str) -> list[FileDiff]:
    """Minimal unified-diff parser: enough for git format-patch output."""
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    hunk: Hunk | None = None
    old_no = new_no = old_left = new_left = 0
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if hunk is not None and (old_left > 0 or new_left > 0):
            tag, body = (ln[:1] or " "), ln[1:]
            if tag == "\\":  # "\ No newline at end of file"
                i += 1
                continue
            if tag not in " +-":
                hunk = None
                continue
            hunk.lines.append(HunkLine(tag, body, old_no if tag != "+" else None,
                                       new_no if tag != "-" else None))
            if tag != "+":
                old_no += 1
                old_left -= 1
            if tag != "-":
                new_no += 1
                new_left -= 1
            i += 1
            continue
        if ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            cur = FileDiff(_strip(ln[4:].split("\t")[0]), _strip(lines[i + 1][4:].split("\t")[0]))
            files.append(cur)
            i += 2
            continue
        m = _HUNK.match(ln)
        if m and cur is not None:
            o, ol, n, nl, sec = m.groups()
            hunk = Hunk(int(o), int(ol or 1), int(n), int(nl or 1), sec.strip())
            cur.hunks.append(hunk)
            old_no, new_no = int(o), int(n)
            old_left, new_left = hunk.old_len, hunk.new_len
        i += 1
    return files


def _body(msg: EmailMessage) -> str:
    parts = [msg] if not msg.is_multipart() else [p for p in msg.walk() if not p.is_multipart()]
    out = []
    for p in parts:
        if p.get_content_maintype() != "text":
            continue
        try:
            out.append(p.get_content())
        except (LookupError, UnicodeError, AssertionError):
            out.append(p.get_payload(decode=True).decode("utf-8", "replace"))
    return "\n".join(out)


def to_posting(msg: EmailMessage) -> Posting:
    body = _body(msg)
    return Posting(
        msgid=str(msg.get("Message-ID", "")).strip().strip("<>"),
        subject=" ".join(str(msg.get("Subject", "")).split()),
        author=str(msg.get("From", "")), to=[], cc=[], date=str(msg.get("Date", "")),
        in_reply_to=None, references=[], series=None, body=body, files=parse_diff(body),
    )


def iter_mbox(path: Path) -> Iterator[EmailMessage]:
    mb = mailbox.mbox(str(path), factory=None, create=False)
    for key in mb.iterkeys():
        yield email.message_from_bytes(mb.get_bytes(key), policy=email.policy.default)


def postings(path: Path) -> list[Posting]:
    """Every message of an mbox that carries a diff."""
    try:
        from bot.mail import load  # type: ignore[attr-defined]
    except ImportError:
        load = None
    if load is not None:
        return [p for p in load(path).postings if p.files]
    return [p for p in map(to_posting, iter_mbox(path)) if p.files]


def posting(path: Path, msgid: str) -> Posting:
    for p in postings(path):
        if p.msgid == msgid:
            return p
    raise KeyError(msgid)


def decompressed(xz_path: Path) -> Path:
    """A temporary decompressed copy of an .xz mbox (mailbox needs a seekable file)."""
    tmp = Path(tempfile.mkdtemp(prefix="sites-year-")) / "year.mbox"
    with lzma.open(xz_path) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return tmp
