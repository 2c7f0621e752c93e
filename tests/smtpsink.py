"""A real SMTP server for the list bot's tests: aiosmtpd on a free 127.0.0.1 port.

Every accepted message is kept (envelope and bytes). Like a mail server in front of a list, the
sink can hand each message addressed to the list to the list's archive (public-inbox-mda into a
served inbox) before it answers 250; a hook can act at that moment too (the crash tests kill the
bot there, after the server has the message and before the bot hears "250").
"""

from __future__ import annotations

import email
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.pinbox import Inbox, free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def msg(self) -> EmailMessage:
        return email.message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=email_policy.default)  # type: ignore[return-value]

    @property
    def in_reply_to(self) -> str:
        return str(self.msg.get("In-Reply-To", "")).strip().strip("<>")

    @property
    def message_id(self) -> str:
        return str(self.msg.get("Message-ID", "")).strip()


class Sink:
    def __init__(self, archive: Inbox | None = None, list_address: str = "") -> None:
        self.archive = archive
        self.list_address = list_address.lower()
        self.received: list[Received] = []
        self.on_data: Callable[[int, Received], Any] | None = None  # called before the 250
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        got = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content
                                                                         or envelope.content))
        with self.lock:
            self.received.append(got)
            n = len(self.received)
        if self.archive is not None and self.list_address in (r.lower() for r in got.rcpt_tos):
            self.archive.deliver(got.raw.replace(b"\r\n", b"\n"))
        if self.on_data is not None:
            self.on_data(n, got)
        return f"250 2.0.0 Ok: queued as SINK{n}"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    def stop(self) -> None:
        self.controller.stop()
