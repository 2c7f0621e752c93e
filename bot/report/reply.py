"""The email reply: RFC 5322 headers around the text body, threaded under the patch."""

from __future__ import annotations

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
from bot.report.env import render_template
from bot.report.textutil import oneline
from bot.report.view import review_view

STOP_PHRASE = "review-bot: stop"
UNMUTE_PHRASE = "review-bot: unmute"
_ADDR_SPEC = re.compile(r"^[^\s<>()\[\]\\,;:\"@]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_NAME_ADDR = re.compile(r"^(?P<name>.*?)\s*<(?P<addr>[^<>]*)>\s*$")
_RE_PREFIX = re.compile(r"^\s*((re|aw|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)


class _ReplyPolicy(EmailPolicy):
    """SMTP policy whose ASCII Subject folds at blanks after the first word.

    The stock folder moves a subject holding "()," wholly onto a continuation
    line, which parsers then read back with a leading blank.
    """

    def _fold_subject(self, name: str, value: str) -> str | None:
        if name.lower() != "subject" or not value.isascii():
            return None
        line, lines = f"{name}:", []
        for word in str(value).split(" "):
            if len(line) + 1 + len(word) > self.max_line_length and line.strip() != f"{name}:":
                lines.append(line)
                line = ""
            line += " " + word
        return self.linesep.join(lines + [line]) + self.linesep

    def fold(self, name: str, value: str) -> str:
        return self._fold_subject(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = self._fold_subject(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)


REPLY_POLICY = _ReplyPolicy(linesep="\r\n")


def _split_list(value: str) -> list[str]:
    """Split "a, b" at commas outside quotes and angle brackets (one To/Cc entry may hold several)."""
    parts, cur, quoted, angle = [], "", False, False
    for ch in value:
        if ch == '"' and not angle:
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        if ch == "," and not quoted and not angle:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_mailbox(value: str) -> Address | None:
    """One "Name <addr>" or bare addr, strictly: anything else is dropped rather than guessed.

    CR/LF and controls are removed first, and the display name is re-quoted by
    Address, so a hostile name can neither start a header nor add a recipient.
    """
    s = oneline(value)
    m = _NAME_ADDR.match(s)
    name, addr = (m.group("name").strip().strip('"').strip(), m.group("addr").strip()) if m else ("", s)
    if not _ADDR_SPEC.match(addr):
        return None
    user, _, domain = addr.rpartition("@")
    try:
        return Address(display_name=name.replace('"', "'"), username=user, domain=domain)
    except (ValueError, IndexError):
        return None


def mailboxes(values: list[str]) -> list[Address]:
    out: list[Address] = []
    for v in values:
        for part in _split_list(oneline(v)):
            a = parse_mailbox(part)
            if a is not None:
                out.append(a)
    return out


def _dedup(addrs: list[Address], exclude: set[str]) -> list[Address]:
    seen = set(exclude)
    out = []
    for a in addrs:
        key = a.addr_spec.lower()
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out


def reply_subject(subject: str) -> str:
    """ "Re: " exactly once, whatever prefixes (Re:, RE:, Aw:, Re[2]:) the subject had."""
    return "Re: " + _RE_PREFIX.sub("", oneline(subject))


def clean_msgid(msgid: str) -> str:
    """A Message-ID without <>, blanks or controls (it lands in headers)."""
    return re.sub(r"[\s<>]", "", oneline(msgid))


def message_id(review: Review, domain: str) -> str:
    """Stable: the same patch and the same findings always give the same Message-ID."""
    key = json.dumps(
        {"msgid": clean_msgid(review.msgid), "findings": [f.to_json() for f in review.findings]},
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
    cc = (
        _dedup(
            mailboxes(list(posting.to) + list(posting.cc)), {bot.addr_spec.lower(), author.addr_spec.lower()}
        )
        if reply_to == "all"
        else []
    )
    if not policy.get("cc_individuals", True):
        lists = {a.lower() for a in policy.get("lists", ())}
        cc = [a for a in cc if a.addr_spec.lower() in lists]
    parent = clean_msgid(review.msgid or getattr(posting, "msgid", ""))
    refs = [clean_msgid(r) for r in getattr(posting, "references", []) or []]
    refs = list(dict.fromkeys(r for r in refs + [parent] if r))

    body = render_template("reply.txt.j2", rv=review_view(review), bot=_bot_context(bot, policy))
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
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders and bots do not answer bots
    msg["X-Mailer"] = f"review-bot {__version__}"
    msg.set_content(body, charset="utf-8", cte="7bit" if body.isascii() else "8bit")
    return msg
