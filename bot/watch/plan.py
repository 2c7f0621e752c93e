"""Plan the reply to one review: whether the list's policy calls for one, and the exact message.

The message is rendered once, here, and stored with the plan; what is sent (or written to the
outbox) later is those bytes, so a crash and a restart cannot send a different reply.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass

from bot.findings import Review
from bot.report.reply import REPLY_POLICY, mailboxes, render_email
from bot.watch.config import Config, ListConfig
from bot.watch.review import Summary


@dataclass(frozen=True)
class Planned:
    reply_msgid: str  # with <>
    raw: bytes
    recipients: list[str]
    to_list: bool  # the list itself is among the recipients (its archive will show the reply)


def reply_msgid(parent: str, domain: str) -> str:
    """Deterministic: the one reply the bot may ever send to a posting has this Message-ID."""
    return f"<review-bot.{hashlib.sha256(parent.encode()).hexdigest()[:32]}@{domain}>"


def wanted(summary: Summary, lst: ListConfig) -> str:
    """Why the policy sends no reply ("" when it does)."""
    pol = lst.policy
    if pol.reply_to == "none":
        return "policy reply_to = none"
    if summary.correctness:
        return ""
    if summary.other and pol.send_cost_notes:
        return ""
    if summary.verdict == "no hazard" and pol.send_positive_review:
        return ""
    if summary.other:
        return "only cost or noise notes (send_cost_notes is off)"
    if summary.verdict == "no hazard":
        return "no hazard found (send_positive_review is off)"
    return summary.verdict


def mail_review(review: Review, send_cost_notes: bool) -> Review:
    """The review as mailed: cost and noise notes only when the policy sends them (the page keeps all)."""
    if send_cost_notes:
        return review
    out = copy.copy(review)
    out.findings = [f for f in review.findings if f.cls == "correctness"]
    return out


def plan(review: Review, summary: Summary, cfg: Config, lst: ListConfig, *, list_addresses: set[str],
         page_url: str) -> Planned | None:
    parent = review.msgid
    msgid = reply_msgid(parent, cfg.smtp.message_id_domain)
    recipients_of = {a.lower() for a in list_addresses}
    msg = render_email(
        mail_review(review, lst.policy.send_cost_notes),
        sender=cfg.smtp.sender,
        policy={
            "positive": lst.policy.send_positive_review,
            "reply_to": lst.policy.reply_to,
            "cc_individuals": lst.policy.cc_individuals,
            "lists": sorted(recipients_of),
            "contact": cfg.smtp.contact,
            "message_id": msgid,
            "page_url": page_url,
            "commands": _reaches_list(review, lst, recipients_of),
        },
    )
    if msg is None:
        return None
    rcpts = [a.addr_spec for a in mailboxes([str(msg.get("To", "")), str(msg.get("Cc", ""))])]
    return Planned(reply_msgid=msgid, raw=msg.as_bytes(policy=REPLY_POLICY), recipients=rcpts,
                   to_list=any(a.lower() in recipients_of for a in rcpts))


def _reaches_list(review: Review, lst: ListConfig, lists: set[str]) -> bool:
    """Mail commands work when the reply is copied to a watched list: an answer to it, sent to all,
    comes back through the list's archive."""
    if lst.policy.reply_to != "all":
        return False
    p = review.posting
    cc = {a.addr_spec.lower() for a in mailboxes(list(getattr(p, "to", [])) + list(getattr(p, "cc", [])))}
    return bool(cc & lists)
