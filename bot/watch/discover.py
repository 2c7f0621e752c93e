"""Discovery: the messages a list received since the last poll.

Two public-inbox interfaces, as lore offers them:
- `new.atom`, the latest messages in arrival order, read from the inbox's overview database: a new
  posting is there the moment it is delivered. Each poll reads it; every entry not seen yet is
  fetched as `/<msgid>/raw`.
- the search, `?q=rt:EPOCH..&x=m` (received time, so a posting with an old Date: is still new), one
  mbox of everything since then. It is complete but its index may lag a running server by tens
  of seconds, so it runs on the first poll, when the feed overflows (every entry unseen), and
  every SEARCH_EVERY seconds, over a window reaching OVERLAP seconds before the previous search.
Message-IDs already seen are dropped by the caller.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

from bot.fetch import FetchError, Http, fetch_search, raw_url
from bot.mail.read import Limits, Skip, read_bytes
from bot.watch.triage import Incoming, incoming

OVERLAP = 600.0  # seconds a search window reaches back: indexing delays and clock skew
SEARCH_EVERY = 300.0  # seconds between searches when the feed alone keeps up
FIRST_LOOKBACK = 86400.0  # the first poll of a list without `since`: one day
_ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Found:
    messages: list[Incoming] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # Message-IDs (or "") of mail we could not read
    searched: bool = False


def window_start(previous_search: float | None, since: float | None, now: float) -> float:
    if previous_search is not None:
        return previous_search - OVERLAP
    return since if since is not None else now - FIRST_LOOKBACK


def feed(http: Http, base: str) -> list[str]:
    """Message-IDs of new.atom's entries, newest first."""
    nothing = f"{base}/new.atom: not found"
    try:
        data = http.get(f"{base.rstrip('/')}/new.atom", not_found=nothing)
    except FetchError as e:
        if str(e) == nothing:
            return []  # public-inbox has no feed for an empty inbox
        raise
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise FetchError(f"{base}/new.atom: not an Atom feed ({e})") from None
    out = []
    for entry in root.iter(f"{_ATOM}entry"):
        for link in entry.iter(f"{_ATOM}link"):
            path = urlsplit(link.get("href") or "").path.rstrip("/")
            mid = unquote(path.rsplit("/", 1)[-1]) if path else ""
            if "@" in mid:
                out.append(mid)
                break
    return out


def search(http: Http, base: str, start: float, found: Found, limits: Limits | None = None) -> None:
    mbox = fetch_search(base, f"rt:{max(0, int(start))}..", http=http, empty_ok=True)
    _add(found, mbox, limits)
    found.searched = True


def fetch_raw(http: Http, base: str, msgid: str, found: Found, limits: Limits | None = None) -> None:
    try:
        data = http.get(raw_url(base, msgid), not_found=f"<{msgid}> not found")
    except FetchError:
        found.unreadable.append(msgid)
        return
    _add(found, data, limits)


def _add(found: Found, mbox: bytes, limits: Limits | None) -> None:
    have = {m.msgid for m in found.messages}
    for item in read_bytes(mbox, limits) if mbox else ():
        if isinstance(item, Skip):
            found.unreadable.append(item.msgid)
            continue
        m = incoming(item)
        if m is None:
            found.unreadable.append("")
        elif m.msgid not in have:
            have.add(m.msgid)
            found.messages.append(m)


def in_order(found: Found) -> list[Incoming]:
    """Oldest first, by Date (a cover before its patches), arrival order breaking ties."""
    return sorted(found.messages, key=_date)


def _date(m: Incoming) -> float:
    value = " ".join(m.header_all("Date"))[:200]
    try:
        return parsedate_to_datetime(value).timestamp() if value else time.time()
    except (TypeError, ValueError, IndexError, OverflowError):
        return time.time()
