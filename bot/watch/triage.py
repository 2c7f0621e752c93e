"""What a newly seen message is, from its headers (and, for commands, its text): the policy's first cut.

Loop and abuse prevention lives here, in one place: the bot's own mail, automated mail (RFC 3834
Auto-Submitted, Precedence junk/auto_reply, bulk mail that did not merely pass a list), bounces,
ignored senders, replies without a diff. A reply to one of the bot's own messages may carry a
mail command at the start of a line: `review-bot: stop` or `review-bot: unmute`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from fnmatch import fnmatchcase

from bot.fetch import DEFAULT_LORE, FetchError, message_url, split_target
from bot.mail.parse import body_text, clean, has_diff, msgids, split_head
from bot.report.reply import parse_mailbox

COMMAND = re.compile(r"(?im)^[ \t]*review-bot:[ \t]*(stop|unmute)[ \t]*[.!]?[ \t]*$")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")
_HEADERS = BytesHeaderParser(policy=email_policy.compat32)
_BODY = BytesParser(policy=email_policy.default)


@dataclass
class Incoming:
    """One message as discovery found it."""

    msgid: str
    raw: bytes
    sender: str  # the From address, lowercased ("" when it has none)
    subject: str
    in_reply_to: str | None
    references: list[str] = field(default_factory=list)
    headers: Message | None = None

    @property
    def thread(self) -> str:
        """The thread's root Message-ID: what a mute applies to."""
        return self.references[0] if self.references else (self.in_reply_to or self.msgid)

    @property
    def parents(self) -> list[str]:
        return [*([self.in_reply_to] if self.in_reply_to else []), *reversed(self.references)]

    def header_all(self, name: str) -> list[str]:
        return [clean(str(v)) for v in (self.headers.get_all(name) or [])] if self.headers else []


def incoming(raw: bytes) -> Incoming | None:
    """Headers of one raw message; None when it has no usable Message-ID."""
    head = split_head(raw)
    try:
        h = _HEADERS.parsebytes(head)
    except Exception:  # noqa: BLE001 - a header block the stdlib cannot read is not mail we answer
        return None
    ids = msgids(clean(str(h.get("Message-ID", ""))))
    if not ids:
        return None
    box = parse_mailbox(clean(str(h.get("From", ""))))
    irt = msgids(clean(str(h.get("In-Reply-To", ""))))
    return Incoming(msgid=ids[0], raw=raw, sender=box.addr_spec.lower() if box else "",
                    subject=clean(str(h.get("Subject", ""))), in_reply_to=irt[-1] if irt else None,
                    references=msgids(clean(str(h.get("References", "")))), headers=h)


@dataclass(frozen=True)
class Verdict:
    decision: str  # "skip" | "command" | "queue"
    reason: str
    command: str = ""  # "stop" | "unmute" for decision "command"
    answers: str = ""  # the bot's reply a command answers


def automated(m: Incoming) -> str:
    """Why a message is automated mail the bot must not answer, or ""."""
    auto = [v.lower() for v in m.header_all("Auto-Submitted")]
    if any(v.split(";")[0].strip() not in ("", "no") for v in auto):
        return f"automated mail (Auto-Submitted: {auto[0][:40]})"
    prec = [v.lower().strip() for v in m.header_all("Precedence")]
    if any(v in ("junk", "auto_reply") for v in prec):
        return f"automated mail (Precedence: {next(v for v in prec if v in ('junk', 'auto_reply'))})"
    # A list server adds one Precedence: bulk (vger does, to every posting). Bulk mail beyond that
    # one, or on a message that did not come through a list, was sent as bulk by its author.
    bulk = sum(1 for v in prec if v in ("bulk", "list"))
    through_list = bool(m.header_all("List-Id") or m.header_all("X-Mailing-List"))
    if bulk > (1 if through_list else 0):
        return "bulk mail (Precedence: bulk)"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response"):
        if m.header_all(name):
            return f"automated mail ({name})"
    return ""


def bounce(m: Incoming) -> str:
    if m.sender.partition("@")[0] in _BOUNCE_SENDERS:
        return f"bounce (from {m.sender})"
    if m.header_all("X-Failed-Recipients"):
        return "bounce (X-Failed-Recipients)"
    ctype = " ".join(m.header_all("Content-Type")).lower()
    if "multipart/report" in ctype and "delivery-status" in ctype:
        return "bounce (delivery status report)"
    return ""


def ignored(sender: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(sender, p) for p in patterns)


def text_of(raw: bytes) -> str:
    try:
        return body_text(_BODY.parsebytes(raw))
    except Exception:  # noqa: BLE001 - an unreadable body holds no command
        return ""


def command_in(text: str) -> str:
    """The first mail command at the start of an unquoted line ("stop" / "unmute"), or ""."""
    m = COMMAND.search(text)
    return m.group(1).lower() if m else ""


def addressable(msgid: str) -> bool:
    """Whether a public-inbox URL can name this Message-ID (the thread is fetched by it, and the
    reply's command names it so); one without "@" cannot."""
    try:
        return split_target(message_url(DEFAULT_LORE, msgid))[1] == msgid
    except FetchError:
        return False


def classify(m: Incoming, *, own_address: str, own_ids: set[str], own_domain: str,
             ignored_senders: tuple[str, ...], review_reply_diffs: bool) -> Verdict:
    """The first decision for a message; mail commands are authorised by the caller (it knows who
    the reply they answer was for)."""
    if m.sender == own_address or m.msgid in own_ids or (
            m.msgid.startswith("review-bot.") and m.msgid.endswith("@" + own_domain)):
        return Verdict("skip", "own message")
    why = automated(m) or bounce(m)
    if why:
        return Verdict("skip", why)
    if not m.sender:
        return Verdict("skip", "no sender address")
    answers = next((p for p in m.parents if p in own_ids), "")
    if answers:
        cmd = command_in(text_of(m.raw))
        if cmd:
            return Verdict("command", f"review-bot: {cmd}", command=cmd, answers=answers)
    if ignored(m.sender, ignored_senders):
        return Verdict("skip", "ignored sender")
    if not addressable(m.msgid):
        return Verdict("skip", "a Message-ID no public-inbox URL can name")
    diff = has_diff(m.raw[len(split_head(m.raw)):])
    is_reply = bool(m.in_reply_to or m.references)
    if not diff:
        return Verdict("skip", "reply without a diff" if is_reply else "no diff")
    if is_reply and re.match(r"(?i)^\s*(re|aw|sv|antw)\s*:", m.subject) and not review_reply_diffs:
        return Verdict("skip", "diff in a reply (review_reply_diffs is off)")
    return Verdict("queue", "has a diff")
