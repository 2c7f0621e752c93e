"""`check MSGID -v N`: revision N of a series that lives in another thread, found through the
public-inbox search of the same server.

Each revision of a series is usually a thread of its own, so the thread of the Message-ID often
holds only its own revision. The series' identity (b4's change-id, else its title, the subject
of the cover letter or of the lone patch without its [PATCH vN n/m] prefix) becomes a search query
(`<base>/?q=…&x=m`, the mbox of the matching messages); covers that name an earlier revision
(b4's "Link to v1:" lines, `Link:` trailers) are fetched directly. What a query returns is only a
candidate: it is kept when its series has the same identity and the revision asked for. Then that
revision's thread is fetched and the same patch (same index, else the closest title) or the whole
series is selected, as for a Message-ID of that revision.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from bot.fetch import Fetched, FetchError, Selection, fetch_search, fetch_thread, load_thread, revisions

log = logging.getLogger(__name__)

MAX_TERMS = 10  # words of a title in the query: enough to be specific, short enough for any server
MAX_LINKS = 4
SAME_INDEX = 0.25  # earlier revisions a cover names that are fetched directly
_WORD = re.compile(r"[A-Za-z0-9_]{2,}")
_LORE_MSGID = re.compile(r"https?://[^\s<>]+?/([^/\s<>]+@[^/\s<>]+?)/?(?=[\s>]|$)")


@dataclass
class Identity:
    """What makes two revisions one series."""

    key: str  # SeriesInfo.key: "change-id:…" or "subject:<normalised title>"
    title: str
    whole: bool  # the Message-ID named the whole series (a cover), not one patch of it
    index: int
    patch_title: str
    links: list[str] = field(default_factory=list)  # Message-IDs of other revisions the mail names

    def queries(self) -> list[str]:
        out = []
        if self.key.startswith("change-id:"):
            out.append(" ".join(_WORD.findall(self.key.removeprefix("change-id:"))))
        words = _WORD.findall(self.title)[:MAX_TERMS]
        if words:
            out.append(" ".join(f"s:{w}" for w in words))
        return [q for q in out if q]


def _title(subject: str) -> str:
    from bot.mail.series import parse_subject

    return parse_subject(subject).title


def identity(fetched: Fetched, sel: Selection) -> Identity | None:
    """The identity of what the Message-ID named, from its own thread."""
    from bot.mail import load_bytes

    anchor = next((p for p in sel.postings if not p.is_reply and p.series is not None), None)
    if anchor is None:
        return None
    res = load_bytes(fetched.mbox)
    info = anchor.series
    cover = next((c for c in res.covers if c.msgid == info.cover), None)
    links = list(cover.prior) if cover else []
    for name, value in (cover.trailers if cover else []) + list(anchor.trailers):
        if name == "Link":
            links += [unquote(m) for m in _LORE_MSGID.findall(value)]
    root = cover.subject if cover else anchor.subject
    whole = len([p for p in sel.postings if not p.is_reply]) > 1 or fetched.msgid == info.cover
    return Identity(key=info.key, title=_title(root), whole=whole, index=info.index,
                    patch_title=_title(anchor.subject), links=list(dict.fromkeys(links)))


def _roots(mbox: bytes, ident: Identity, revision: int) -> tuple[list[str], set[int]]:
    """(cover or root Message-IDs of revision N of the same series, every revision seen)."""
    from bot.mail import load_bytes

    res = load_bytes(mbox)
    same = [s for s in res.series if s.key == ident.key]
    return [s.root for s in same if s.revision == revision and s.root], {s.revision for s in same}


def find_revision(fetched: Fetched, revision: int, session: Any = None) -> Selection:
    """Revision N of the patch or series fetched.msgid names: in its own thread, else looked up."""
    sel = load_thread(fetched)
    if revision in revisions(sel.context):
        return load_thread(fetched, revision)
    ident = identity(fetched, sel)
    if ident is None:
        raise FetchError(f"<{fetched.msgid}> names no patch series to find revision v{revision} of")
    seen = set(revisions(sel.context))
    roots: list[str] = []
    for query in ident.queries():
        try:
            found, revs = _roots(fetch_search(fetched.base, query, session), ident, revision)
        except FetchError as e:  # a server without search, or no match: the next clue may still work
            log.info("search %r at %s: %s", query, fetched.base, e)
            continue
        log.info("search %r at %s: revisions %s of the series", query, fetched.base,
                 ", ".join(f"v{n}" for n in sorted(revs)) or "none")
        seen |= revs
        roots += found
        if roots:
            break
    for mid in ident.links[:MAX_LINKS] if not roots else []:
        try:
            linked = fetch_thread(mid, fetched.base, session)
        except FetchError as e:
            log.info("linked revision <%s>: %s", mid, e)
            continue
        found, revs = _roots(linked.mbox, ident, revision)
        seen |= revs
        roots += found
        if roots:
            break
    if not roots:
        have = ", ".join(f"v{n}" for n in sorted(seen)) or "none"
        raise FetchError(f"no revision v{revision} of the series of <{fetched.msgid}> at {fetched.base} "
                         f"(found {have})")
    log.info("revision v%d of the series: thread of <%s>", revision, roots[0])
    other = fetch_thread(roots[0], fetched.base, session)
    chosen = load_thread(other, revision)
    if ident.whole:
        return chosen
    return Selection(messages=chosen.messages, postings=_same_patch(chosen.context, ident, revision),
                     skipped=chosen.skipped, thread=chosen.thread, context=chosen.context)


def _same_patch(postings: list[Any], ident: Identity, revision: int) -> list[Any]:
    """The patch of revision N that is the one named: its title changes between revisions and a patch
    inserted earlier shifts its index, so both count (the same index is worth a quarter of a title)."""
    cands = [p for p in postings if not p.is_reply and p.series is not None and p.series.revision == revision
             and p.series.index > 0 and not p.series.extra]
    if not cands:
        return []

    def score(p: Any) -> float:
        ratio = difflib.SequenceMatcher(None, _title(p.subject).lower(), ident.patch_title.lower()).ratio()
        return ratio + (SAME_INDEX if p.series.index == ident.index else 0.0)

    return [max(cands, key=score)]
