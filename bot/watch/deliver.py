"""Deliver a planned reply exactly once: to the outbox maildir (send = false) or over SMTP.

Outbox: the file name is derived from the reply's Message-ID and written with tmp/ → new/ rename,
so writing it twice leaves one file and "is it there?" is a lookup. SMTP: the reply is marked
"sending" before the transaction and "sent" with the server's answer after it; a reply found
still "sending" (the bot died in between) is looked up in the list archive (`/<msgid>/raw`)
before it is sent again.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from bot.fetch import FetchError, Http, raw_url
from bot.watch.config import Smtp


class TransientError(Exception):
    """Not delivered, and safe to try again later (connection refused, 4xx)."""


class PermanentError(Exception):
    """The server refused the reply for good (5xx); it is not retried."""


class Unknown(Exception):
    """The transaction broke after the message was handed over: it may or may not be delivered."""


def maildir_name(reply_msgid: str) -> str:
    return "review-bot." + hashlib.sha256(reply_msgid.encode()).hexdigest()[:40]


@dataclass
class Outbox:
    path: Path

    def _dirs(self) -> None:
        for d in ("tmp", "new", "cur"):
            (self.path / d).mkdir(parents=True, exist_ok=True)

    def find(self, reply_msgid: str) -> Path | None:
        name = maildir_name(reply_msgid)
        new = self.path / "new" / name
        if new.exists():
            return new
        cur = self.path / "cur"
        if cur.is_dir():
            return next(iter(cur.glob(name + ":*")), None) or (cur / name if (cur / name).exists() else None)
        return None

    def put(self, reply_msgid: str, raw: bytes) -> Path:
        self._dirs()
        found = self.find(reply_msgid)
        if found is not None:
            return found
        name = maildir_name(reply_msgid)
        tmp = self.path / "tmp" / f"{name}.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(raw.replace(b"\r\n", b"\n"))  # maildir files use the local line ending
            f.flush()
            os.fsync(f.fileno())
        final = self.path / "new" / name
        os.replace(tmp, final)
        dfd = os.open(self.path / "new", os.O_RDONLY)
        try:
            os.fsync(dfd)  # the rename itself is durable before we record "sent"
        finally:
            os.close(dfd)
        return final


def smtp_send(cfg: Smtp, recipients: list[str], raw: bytes) -> str:
    """One SMTP transaction; the server's final answer to DATA ("250 2.0.0 Ok: queued as …")."""
    try:
        s = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    except (OSError, smtplib.SMTPException) as e:
        raise TransientError(f"cannot connect to {cfg.host}:{cfg.port}: {e}") from None
    try:
        try:
            s.ehlo()
            if cfg.starttls:
                s.starttls(context=ssl.create_default_context())
                s.ehlo()
            if cfg.username:
                s.login(cfg.username, Path(cfg.password_file).read_text().strip())
            eightbit = not raw.isascii() and s.has_extn("8bitmime")
            code, resp = s.mail(cfg.envelope_from, ["BODY=8BITMIME"] if eightbit else [])
            if code >= 400:
                raise (PermanentError if code >= 500 else TransientError)(f"MAIL FROM: {code} {_text(resp)}")
            accepted = []
            for rcpt in recipients:
                code, resp = s.rcpt(rcpt)
                if code < 400:
                    accepted.append(rcpt)
            if not accepted:
                raise PermanentError(f"every recipient refused (last: {code} {_text(resp)})")
        except (OSError, smtplib.SMTPException) as e:
            if isinstance(e, smtplib.SMTPResponseException) and e.smtp_code >= 500:
                raise PermanentError(f"{e.smtp_code} {_text(e.smtp_error)}") from None
            raise TransientError(f"{type(e).__name__}: {e}") from None
        try:
            code, resp = s.data(raw)
        except smtplib.SMTPDataError as e:
            raise (PermanentError if e.smtp_code >= 500 else TransientError)(
                f"DATA: {e.smtp_code} {_text(e.smtp_error)}") from None
        except (OSError, smtplib.SMTPException, socket.timeout) as e:
            raise Unknown(f"{type(e).__name__} during DATA: {e}") from None
        refused = len(recipients) - len(accepted)
        return f"{code} {_text(resp)}" + (f" ({refused} recipient(s) refused)" if refused else "")
    finally:
        try:
            s.quit()
        except (OSError, smtplib.SMTPException):
            s.close()


def in_archive(http: Http, base: str, reply_msgid: str) -> bool | None:
    """Whether the list archive holds the reply; None when the archive cannot say now."""
    try:
        return http.exists(raw_url(base, reply_msgid.strip("<>")))
    except FetchError:
        return None


def _text(resp: bytes | str) -> str:
    s = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return " ".join(s.split())[:200]
