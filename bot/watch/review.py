"""Review the queued postings of one thread: fetch the thread, assemble its series, run the pipeline.

This module holds the watcher's only call into the review pipeline (`review_thread`): one call per
thread, with every posting of the thread as context, so series bases are what `check` uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bot import mail
from bot.fetch import Http, fetch_thread, message_url
from bot.findings import Review
from bot.patch import Posting
from bot.pipeline import Options, review_postings

RESEND = {"resend"}


@dataclass
class ThreadReview:
    reviews: list[Review] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # queued Message-IDs that carry no patch posting
    messages: int = 0
    titles: dict[str, str] = field(default_factory=dict)  # series key → its title (the cover's, if any)


def review_thread(http: Http, base: str, msgids: list[str], options: Options,
                  cache_seconds: float = 0.0) -> ThreadReview:
    """Review the postings `msgids` name, all of one thread (FetchError when it cannot be had)."""
    # by its URL under base, never the bare id: an id may read as a URL of another server, or hold a "/"
    target = message_url(base, msgids[0])
    fetched = fetch_thread(target, base, http=http, max_age=cache_seconds)
    res = mail.load_bytes(fetched.mbox)
    if cache_seconds and not _holds(res, msgids, fetched.mbox):
        fetched = fetch_thread(target, base, http=http)  # the cached copy predates a new message
        res = mail.load_bytes(fetched.mbox)
    by_id = {p.msgid: p for p in res.postings}
    chosen = [by_id[m] for m in msgids if m in by_id]
    out = ThreadReview(missing=[m for m in msgids if m not in by_id], messages=res.messages,
                       titles={s.key: s.title for s in sorted(res.series, key=lambda s: s.cover is None)})
    if chosen:
        out.reviews = review_postings(chosen, options, context=res.postings)
    return out


def _holds(res: mail.LoadResult, msgids: list[str], raw: bytes) -> bool:
    have = {p.msgid for p in res.postings}
    return all(m in have or f"<{m}>".encode() in raw for m in msgids)


# -- what a review says, for state, logs and the index -----------------------------------------


@dataclass(frozen=True)
class Summary:
    verdict: str  # findings | cost notes | pre-existing only | no hazard | not judged | not relevant
    correctness: int  # correctness findings the patch introduces
    other: int  # cost and noise findings it introduces
    judged: bool
    base: str  # what the verdict stands on
    hazards: tuple[str, ...]  # introduced correctness hazard ids, sorted


def summarize(review: Review) -> Summary:
    """The review's verdict (judged / not judged and the base come from the pipeline)."""
    intro = [f for f in review.findings if f.introduced]
    corr = [f for f in intro if f.cls == "correctness"]
    other = [f for f in intro if f.cls != "correctness"]
    ok = review.judged
    if corr:
        verdict = "findings"
    elif other:
        verdict = "cost notes"
    elif review.findings:
        verdict = "pre-existing only"
    elif not review.relevant:
        verdict = "not relevant"
    else:
        verdict = "no hazard" if ok else "not judged"
    return Summary(verdict, len(corr), len(other), ok, review.base, tuple(sorted({f.hazard for f in corr})))


def position(p: Posting) -> str:
    """Where a posting sits: series, revision, patch number (a diff in a reply: that message)."""
    s = p.series
    if p.is_reply or s is None:
        return f"reply:{p.msgid}"
    return f"{s.key}|v{s.revision}|{s.index}"


def slot(p: Posting) -> str:
    """One reply per slot: a series position and the code posted there (a RESEND of the same
    code is the same slot; a follow-up with other code, e.g. "[PATCH v3 07/13 fix]", is not)."""
    changed = [(fd.path, ln.tag, ln.text) for fd in p.files for h in fd.hunks for ln in h.lines if ln.tag != " "]
    return position(p) + "|" + hashlib.sha256(repr(changed).encode()).hexdigest()[:16]
