"""Fetch a thread from a public-inbox server (lore or a local one) and pick what a Message-ID names.

`review-bot check MSGID_OR_URL` lands here: GET `<base>/<msgid>/t.mbox.gz`, hand the mbox to
bot.mail.load, then select the posting the Message-ID names (a cover letter: the whole series; a
reply: the patch it answers; `-v N`: that revision of it).
"""

from __future__ import annotations

import mailbox
import re
import socket
import ssl
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import requests

from bot import __version__

DEFAULT_LORE = "https://lore.kernel.org/all"
MAX_COMPRESSED = 64 << 20  # a whole busy thread is a few MB; refuse anything absurd
MAX_MBOX = 512 << 20
TIMEOUT = (10.0, 120.0)  # connect, read
_MSGID_SAFE = "@!$&'()*+,;=:~"  # what public-inbox leaves unescaped in a message-id path component


class FetchError(Exception):
    """The thread could not be fetched (network, HTTP status, size, not a thread mbox)."""


@dataclass
class Fetched:
    msgid: str  # the Message-ID asked for, without <>
    base: str  # the public-inbox base URL used
    url: str  # the t.mbox.gz URL fetched
    mbox: bytes  # the thread as mboxrd text


@dataclass
class Selection:
    messages: int
    postings: list[Any]
    skipped: list[dict[str, str]] = field(default_factory=list)
    thread: list[str] = field(default_factory=list)  # every Message-ID in the thread
    context: list[Any] = field(default_factory=list)  # every posting of the thread (series bases)


def normalize_msgid(text: str) -> str:
    """'<a@b>', 'a@b', 'id:a@b', 'mid:a@b' → 'a@b'."""
    s = text.strip()
    for prefix in ("id:", "mid:", "msgid:"):
        if s.lower().startswith(prefix):
            s = s[len(prefix) :]
    s = s.strip()
    if s.startswith("<") and s.endswith(">"):
        s = s[1:-1]
    return s.strip()


def split_target(msgid_or_url: str, lore_url: str = DEFAULT_LORE) -> tuple[str, str]:
    """(base URL, msgid) for a bare Message-ID or a lore/public-inbox message URL.

    In a URL the Message-ID is the first path component containing '@'; everything before it is
    the inbox base (https://lore.kernel.org/linux-mm/<msgid>/T/#u → base .../linux-mm).
    """
    s = msgid_or_url.strip()
    if re.match(r"^https?://", s, re.I):
        parts = urlsplit(s)
        comps = parts.path.split("/")
        for i, comp in enumerate(comps):
            if "@" in unquote(comp):
                base = f"{parts.scheme}://{parts.netloc}{'/'.join(comps[:i])}"
                return base.rstrip("/"), normalize_msgid(unquote(comp))
        raise FetchError(f"no Message-ID in URL {s!r}")
    msgid = normalize_msgid(s)
    if not msgid or "@" not in msgid or any(c.isspace() for c in msgid) or "/" in msgid:
        raise FetchError(f"not a Message-ID or URL: {msgid_or_url!r}")
    return lore_url.rstrip("/"), msgid


def thread_url(base: str, msgid: str) -> str:
    return f"{base.rstrip('/')}/{quote(msgid, safe=_MSGID_SAFE)}/t.mbox.gz"


def _gunzip(data: bytes, url: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data  # a server (or proxy) that already decoded it
    d = zlib.decompressobj(wbits=31)
    out = d.decompress(data, MAX_MBOX)
    if d.unconsumed_tail:
        raise FetchError(f"thread from {url} is larger than {MAX_MBOX >> 20} MiB uncompressed")
    try:
        out += d.flush()
    except zlib.error as e:
        raise FetchError(f"corrupt gzip from {url}: {e}") from None
    return out


def fetch_thread(
    msgid_or_url: str, lore_url: str = DEFAULT_LORE, session: requests.Session | None = None
) -> Fetched:
    """Download the whole thread around a Message-ID as mbox text."""
    base, msgid = split_target(msgid_or_url, lore_url)
    url = thread_url(base, msgid)
    http = session or requests.Session()
    mbox = _get_mbox(lambda headers: http.get(url, headers=headers, timeout=TIMEOUT, stream=True), url,
                     f"Message-ID <{msgid}> not found at {base}")
    return Fetched(msgid=msgid, base=base, url=url, mbox=mbox)


def _get_mbox(request: Any, url: str, not_found: str) -> bytes:
    """Run one HTTP request for a (gzipped) mbox, capped in size, with one-line errors."""
    headers = {"User-Agent": f"review-bot/{__version__}"}
    try:
        with request(headers) as resp:
            if resp.status_code == 404:
                raise FetchError(not_found)
            if resp.status_code != 200:
                raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason}")
            data = _read_capped(resp, url)
    except requests.RequestException as e:
        raise FetchError(network_error(e, url)) from None
    mbox = _gunzip(data, url)
    if not mbox.startswith(b"From "):
        raise FetchError(f"{url} did not return an mbox")
    return mbox


def _read_capped(resp: requests.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(1 << 16):
        size += len(chunk)
        if size > MAX_COMPRESSED:
            raise FetchError(f"{url}: larger than {MAX_COMPRESSED >> 20} MiB, refusing")
        chunks.append(chunk)
    return b"".join(chunks)


def _first_line(s: str) -> str:
    return s.strip().splitlines()[0] if s.strip() else ""


def network_error(e: BaseException, url: str) -> str:
    """A failed request in the user's terms: which host, and what went wrong (never urllib3's chain)."""
    host = urlsplit(url).netloc or url
    if isinstance(e, requests.Timeout) and not isinstance(e, requests.ConnectTimeout):
        return f"{host} did not answer within {TIMEOUT[1]:g} s ({url})"
    root: BaseException = e
    while root.__context__ is not None:  # the OS-level cause at the bottom of urllib3's wrappers
        root = root.__context__
    if isinstance(root, socket.gaierror):
        return f"cannot reach {host}: host name not found"
    if isinstance(root, ConnectionRefusedError):
        return f"cannot reach {host}: connection refused"
    if isinstance(root, TimeoutError | socket.timeout) or isinstance(e, requests.ConnectTimeout):
        return f"cannot reach {host}: no answer within {TIMEOUT[0]:g} s"
    if isinstance(root, ssl.SSLError):
        return f"cannot reach {host}: TLS error ({getattr(root, 'reason', None) or 'handshake failed'})"
    if isinstance(root, OSError) and root.strerror:
        return f"cannot reach {host}: {root.strerror}"
    if isinstance(e, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return f"not a usable URL: {url}"
    return f"cannot fetch {url}: the connection failed"


# -- the thread's reply structure (from headers alone, independent of bot.mail) --------------------


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<([^<>\s]+)>", value or "")


def thread_parents(mbox_path: Path) -> dict[str, str | None]:
    """Message-ID → parent Message-ID (In-Reply-To, else last of References), for every message."""
    parents: dict[str, str | None] = {}
    box = mailbox.mbox(str(mbox_path), create=False)
    try:
        for msg in box:
            own = _ids(msg.get("Message-ID"))
            if not own:
                continue
            parent = _ids(str(msg.get("In-Reply-To") or "")) or _ids(str(msg.get("References") or ""))[-1:]
            parents[own[0]] = parent[-1] if parent else None
    finally:
        box.close()
    return parents


def _ancestors(msgid: str, parents: dict[str, str | None]) -> Iterable[str]:
    seen = {msgid}
    cur = parents.get(msgid)
    while cur and cur not in seen:
        yield cur
        seen.add(cur)
        cur = parents.get(cur)


# -- selection --------------------------------------------------------------------------------------


def _series(p: Any) -> Any:
    return getattr(p, "series", None)


def _formal(postings: list[Any]) -> list[Any]:
    return [p for p in postings if not getattr(p, "is_reply", False)]


def _same_series(a: Any, b: Any) -> bool:
    sa, sb = _series(a), _series(b)
    if sa is None or sb is None:
        return False
    if sa.key and sb.key:
        return bool(sa.key == sb.key)
    return bool(sa.cover and sa.cover == sb.cover)


def _series_members(
    postings: list[Any], cover: str | None, revision: int | None, like: Any = None
) -> list[Any]:
    out = []
    for p in _formal(postings):
        s = _series(p)
        if s is None:
            continue
        if revision is not None and s.revision != revision:
            continue
        if (cover and s.cover == cover) or (like is not None and _same_series(p, like)):
            out.append(p)
    return sorted(out, key=lambda p: _series(p).index)


def select(
    postings: list[Any], msgid: str, parents: dict[str, str | None], revision: int | None = None
) -> list[Any]:
    """The postings a Message-ID names within its thread.

    A patch → that patch; a cover letter (or a message whose postings name it as cover) → the whole
    series; a reply → the nearest patch it answers (or the series, when it answers the cover);
    `revision` → the same patch or series in revision N of the thread.
    """
    by_id = {p.msgid: p for p in postings}
    for mid in [msgid, *_ancestors(msgid, parents)]:
        p = by_id.get(mid)
        if p is not None and (mid == msgid or not getattr(p, "is_reply", False)):
            s = _series(p)
            if s is not None and s.index == 0:  # the cover letter itself was parsed as a posting
                return _pick_revision(_series_members(postings, p.msgid, None, like=p), p, revision, postings)
            return _pick_revision([p], p, revision, postings)
        members = _series_members(postings, mid, None)
        if members:  # mid is a cover letter
            return _pick_revision(members, members[0], revision, postings)
    return []


def _pick_revision(chosen: list[Any], anchor: Any, revision: int | None, postings: list[Any]) -> list[Any]:
    s = _series(anchor)
    if revision is None or s is None or s.revision == revision:
        return [
            p for p in chosen if revision is None or _series(p) is None or _series(p).revision == revision
        ]
    whole = len(chosen) > 1 or s.index == 0
    others = _series_members(postings, None, revision, like=anchor)
    if whole:
        return others
    return [p for p in others if _series(p).index == s.index]


def revisions(postings: list[Any]) -> list[int]:
    return sorted({_series(p).revision for p in postings if _series(p) is not None})


def load_thread(fetched: Fetched, revision: int | None = None) -> Selection:
    """Parse a fetched thread with bot.mail and select what its Message-ID names."""
    from bot import mail  # built by the mail stage; imported late so the CLI starts without it

    with tempfile.TemporaryDirectory(prefix="review-bot-") as tmp:
        path = Path(tmp) / "thread.mbox"
        path.write_bytes(fetched.mbox)
        result = mail.load(str(path))
        parents = thread_parents(path)
    postings = list(result.postings)
    chosen = select(postings, fetched.msgid, parents, revision)
    if not chosen:
        if revision is not None and revision not in revisions(postings):
            have = ", ".join(f"v{n}" for n in revisions(postings)) or "none"
            raise FetchError(f"no revision v{revision} in the thread of <{fetched.msgid}> (has {have})")
        if fetched.msgid not in parents:
            raise FetchError(f"<{fetched.msgid}> is not in the thread {fetched.url} returned")
    messages = result.messages
    count = messages if isinstance(messages, int) else len(messages)
    return Selection(messages=count, postings=chosen, skipped=list(result.skipped), thread=list(parents),
                     context=postings)


def fetch_search(base: str, query: str, session: requests.Session | None = None) -> bytes:
    """The messages matching a public-inbox search query, as one mbox (POST <base>/?q=Q&x=m)."""
    base = base.rstrip("/")
    if not re.match(r"^https?://", base, re.I):
        raise FetchError(f"not an http(s) URL: {base!r}")
    url = f"{base}/?{urlencode({'q': query, 'x': 'm'})}"
    http = session or requests.Session()
    return _get_mbox(
        lambda headers: http.post(url, data={"z": "results only"}, headers=headers, timeout=TIMEOUT, stream=True),
        url, f"no messages match {query!r} at {base}")
