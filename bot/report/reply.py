"""The email reply: RFC 5322 headers around the text body, threaded under the patch."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Any

from bot import __version__
from bot.findings import Review
from bot.mail import addr as mail_addr
from bot.mail.addr import Mailbox
from bot.report.env import render_template
from bot.report.textutil import oneline
from bot.report.view import review_view

STOP_PHRASE = "review-bot: stop"
UNMUTE_PHRASE = "review-bot: unmute"
_RE_PREFIX = re.compile(r"^\s*((re|aw|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)


_MSGID_HEADERS = ("message-id", "in-reply-to", "references")
_ADDRESS_HEADERS = ("from", "to", "cc")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]")  # needs no quotes
MAX_LINE = 998  # octets per line, CRLF excluded (RFC 5322 2.1.1)
MAX_SUBJECT = 900  # characters of a subject kept: one word of it must fit a header line
MAX_RECIPIENTS = 500  # Cc of a reply: a real list of a patch is far shorter, and each costs the stdlib ~1 ms


class _ReplyPolicy(EmailPolicy):
    """SMTP policy that folds the headers a reply threads by at blanks, never encoding them.

    Message-ID, In-Reply-To and References are lists of <id>s: folded between ids and never made
    RFC 2047 encoded words (which lore and mail clients do not thread by). An ASCII Subject folds
    at blanks after the first word (the stock folder moves a subject holding "()," wholly onto a
    continuation line, which parsers then read back with a leading blank); one with a word too
    long for a line goes to the stock folder, which encodes and splits it.
    """

    def _fold_addresses(self, name: str, value: Any) -> str | None:
        # The stock folder can encode the "," after an encoded-word name into the next encoded
        # word, which silently drops the next recipient: address lists are written here instead.
        if name.lower() not in _ADDRESS_HEADERS or not hasattr(value, "addresses"):
            return None
        words: list[str] = []
        for a in value.addresses:
            words += [*_phrase(a.display_name), f"<{a.addr_spec}>" if a.display_name else a.addr_spec]
            words[-1] += ","
        if words:
            words[-1] = words[-1].rstrip(",")
        return self._fold_words(name, " ".join(words), force=True)

    def _fold_words(self, name: str, value: str, force: bool = False) -> str | None:
        key = name.lower()
        if not force and key not in _MSGID_HEADERS and (key != "subject" or not value.isascii()):
            return None
        words = str(value).split()
        if key == "subject" and any(len(name) + 2 + len(w) > MAX_LINE for w in words):
            return None
        line, lines = f"{name}:", []
        for word in words:
            if len(line) + 1 + len(word) > self.max_line_length and line.strip() != f"{name}:":
                lines.append(line)
                line = ""
            line += " " + word
        return self.linesep.join(lines + [line]) + self.linesep

    def fold(self, name: str, value: Any) -> str:
        return self._fold_addresses(name, value) or self._fold_words(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        folded = self._fold_addresses(name, value) or self._fold_words(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)


def _phrase(name: str) -> list[str]:
    """A display name as header words: a quoted string when ASCII, else RFC 2047 encoded words
    of at most 45 bytes each (whole characters), so every word fits a line."""
    if not name:
        return []
    if _ATOMS.fullmatch(name) and "=?" not in name:
        return name.split()
    if name.isascii():
        return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    words, chunk = [], ""
    for ch in name:
        if len((chunk + ch).encode("utf-8")) > 45:
            cut = chunk.rfind(" ") + 1 or len(chunk)  # a blank ends a word where one can
            words.append(chunk[:cut])
            chunk = chunk[cut:]
        chunk += ch
    words.append(chunk)
    return ["=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words]


REPLY_POLICY = _ReplyPolicy(linesep="\r\n")


def _address(m: Mailbox) -> Address | None:
    user, _, domain = m.addr.rpartition("@")
    try:
        return Address(display_name=m.name, username=user, domain=domain)
    except (ValueError, IndexError):
        return None


def parse_mailbox(value: str) -> Address | None:
    """The one mailbox a value holds (bot.mail.addr), or None: a hostile name can neither start a
    header nor add a recipient, since Address re-quotes or encodes it."""
    m = mail_addr.parse_mailbox(value)
    return _address(m) if m is not None else None


def mailboxes(values: list[str]) -> list[Address]:
    return [a for v in values for m in mail_addr.parse_addresses(v) if (a := _address(m)) is not None]


def recipients(values: list[str], exclude: set[str], limit: int = MAX_RECIPIENTS) -> list[Address]:
    """The mailboxes of these address headers, each once, none in exclude (lower-case addr-specs),
    at most `limit` of them, in order."""
    seen = set(exclude)
    out: list[Address] = []
    for v in values:
        for m in mail_addr.parse_addresses(v):
            if m.addr.lower() in seen:
                continue
            seen.add(m.addr.lower())
            a = _address(m)
            if a is None or a.addr_spec.lower() in seen - {m.addr.lower()}:
                continue
            seen.add(a.addr_spec.lower())
            out.append(a)
            if len(out) >= limit:
                return out
    return out


def reply_subject(subject: str) -> str:
    """ "Re: " exactly once, whatever prefixes (Re:, RE:, Aw:, Re[2]:) the subject had."""
    return "Re: " + _RE_PREFIX.sub("", oneline(subject))[:MAX_SUBJECT]


def message_id(review: Review, domain: str) -> str:
    """Stable: the same patch and the same findings always give the same Message-ID."""
    key = json.dumps(
        {"msgid": review.msgid, "findings": [f.to_json() for f in review.findings]},
        sort_keys=True,
    )
    return f"<review-bot.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _bot_context(sender: Address, policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "review-bot",
        "version": __version__,
        "stop": oneline(policy.get("stop_phrase", STOP_PHRASE)),
        "unmute": UNMUTE_PHRASE,
        "contact": oneline(policy.get("contact", sender.addr_spec)),
        # Mail commands work only where a watcher reads the replies: `watch` says so per reply.
        "commands": bool(policy.get("commands", False)),
        "page_url": oneline(policy.get("page_url", "")),
    }


def render_email(
    review: Review, *, sender: str, policy: dict[str, Any] | None = None, now: datetime | None = None
) -> EmailMessage | None:
    """The reply to the patch of `review`, or None when there is nothing relevant to say.

    policy: {"positive": bool (reply to clean patches too), "reply_to": "all" | "author" | "none",
    "contact": str, "stop_phrase": str, "message_id": str (else derived from patch and findings),
    "cc_individuals": bool (False: Cc only the addresses in "lists"), "lists": list addresses,
    "commands": bool (the footer may offer mail commands), "page_url": str}.
    reply_to "none" sends nothing.
    """
    policy = policy or {}
    reply_to = policy.get("reply_to", "all")
    if reply_to == "none":
        return None
    if not review.findings and not (review.relevant and policy.get("positive", False)):
        return None
    bot = parse_mailbox(sender)
    if bot is None:
        raise ValueError(f"sender is not a valid mailbox: {oneline(sender)!r}")
    posting = review.posting
    author = parse_mailbox(getattr(posting, "author", "") or "")
    if author is None or author.addr_spec.lower() == bot.addr_spec.lower():
        return None  # nobody to answer, or our own message

    to = [author]
    cc = (recipients(list(posting.to) + list(posting.cc), {bot.addr_spec.lower(), author.addr_spec.lower()})
          if reply_to == "all" else [])
    if not policy.get("cc_individuals", True):
        lists = {a.lower() for a in policy.get("lists", ())}
        cc = [a for a in cc if a.addr_spec.lower() in lists]
    # Only well-formed ids thread a reply: a malformed one is left out, never sent mended or encoded.
    parent = (review.msgid or getattr(posting, "msgid", "")).strip().strip("<>")
    parent = parent if mail_addr.valid_msgid(parent) else ""
    refs = [r for r in getattr(posting, "references", []) or [] if mail_addr.valid_msgid(r)]
    refs = list(dict.fromkeys(r for r in refs + [parent] if r))

    body = render_template("reply.txt.j2", rv=review_view(review, public=True), bot=_bot_context(bot, policy))
    msg = EmailMessage(policy=REPLY_POLICY)
    msg["From"] = bot
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = reply_subject(review.subject or getattr(posting, "subject", ""))
    msg["Date"] = format_datetime(now or datetime.now(timezone.utc))
    msg["Message-ID"] = policy.get("message_id") or message_id(review, bot.domain)
    if parent:
        msg["In-Reply-To"] = f"<{parent}>"
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders and bots do not answer bots
    msg["X-Mailer"] = f"review-bot {__version__}"
    msg.set_content(body, charset="utf-8", cte=body_encoding(body))
    return msg


def body_encoding(body: str) -> str:
    """7bit or 8bit while every line fits the 998-octet limit; else quoted-printable (never base64,
    which list archives and reviewers cannot read in the raw)."""
    if max((len(ln.encode()) for ln in body.splitlines()), default=0) > MAX_LINE:
        return "quoted-printable"
    return "7bit" if body.isascii() else "8bit"


def as_text(msg: EmailMessage) -> str:
    """The message as text with LF line ends: from its bytes, since as_string() turns an 8bit
    body into base64."""
    return msg.as_bytes().decode("utf-8", "surrogateescape").replace("\r\n", "\n")
