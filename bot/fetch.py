"""Fetch a thread from a public-inbox server (lore or a local one) and pick what a Message-ID names.

`review-bot check MSGID_OR_URL` lands here: GET `<base>/<msgid>/t.mbox.gz`, hand the mbox to
bot.mail.load, then select the posting the Message-ID names (a cover letter: the whole series; a
reply: the patch it answers; `-v N`: that revision of it).

Every request goes through one client, `Http`: an identifying User-Agent, timeouts, bounded retries
with backoff (connection errors, 429, 5xx; Retry-After is obeyed up to a cap), a cap on the bytes
read off the wire and another on what they decompress to, and an optional on-disk cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from bot import __version__
from bot.paths import DEFAULT_LORE

if TYPE_CHECKING:  # requests, ssl, socket, mailbox are imported where used: most commands use none of them
    import requests

MAX_COMPRESSED = 64 << 20  # a whole busy thread is a few MB; refuse anything absurd
MAX_MBOX = 128 << 20  # the largest lore threads are tens of MB; the thread is parsed in memory
TIMEOUT = (10.0, 120.0)  # connect, read (each a limit per socket operation, so no bound on a whole answer)
DEADLINE = 300.0  # seconds for one whole request: the bound TIMEOUT cannot give
MSGID_SAFE = "@!$&'()*+,;=:~"  # what public-inbox leaves unescaped in a message-id path component
_RETRY_STATUS = {429, 500, 502, 503, 504}


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


def message_url(base: str, msgid: str) -> str:
    """The message's page under base: names any Message-ID, "/", "?" or a URL-like one included."""
    return f"{base.rstrip('/')}/{quote(msgid, safe=MSGID_SAFE)}/"


def thread_url(base: str, msgid: str) -> str:
    return f"{base.rstrip('/')}/{quote(msgid, safe=MSGID_SAFE)}/t.mbox.gz"


@dataclass(frozen=True)
class Politeness:
    """How the bot talks to a public-inbox server: lore asks automated clients to say who they are,
    to retry gently and not to hammer it."""

    user_agent: str = f"review-bot/{__version__}"
    timeout: tuple[float, float] = TIMEOUT  # connect, read (per chunk)
    retries: int = 3  # further attempts after a connection error, a timeout, 429 or 5xx
    backoff_seconds: float = 1.0  # the first wait; it doubles with each retry
    max_wait_seconds: float = 60.0  # cap on a server's Retry-After
    max_compressed: int = MAX_COMPRESSED  # bytes read off the wire
    max_decompressed: int = MAX_MBOX  # bytes they may decode to (Content-Encoding, then .gz)
    cache_dir: str | None = None  # on-disk cache of GET responses (validators and max-age)
    deadline_seconds: float = DEADLINE  # one request, retries included: a server dripping bytes ends here


class Http:
    """The one HTTP client of the bot (requests underneath)."""

    def __init__(self, politeness: Politeness | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        import requests

        self.polite = politeness or Politeness()
        self.session = session or requests.Session()
        self.watch = _watched_adapter()
        self.session.mount("http://", self.watch)
        self.session.mount("https://", self.watch)
        self.sleep = sleep
        self.requests = 0  # requests sent, retries included (for logs and tests)

    # -- public --------------------------------------------------------------------------------
    def get(self, url: str, *, not_found: str, max_age: float = 0.0) -> bytes:
        """The decoded body of a 200 answer; FetchError(not_found) on 404.

        max_age > 0: a cached copy younger than that is returned without asking the server.
        A cached copy with an ETag or Last-Modified is revalidated (304 keeps it)."""
        cached = self._cache_load(url)
        if cached is not None and max_age > 0 and time.time() - cached[1].get("stored", 0) < max_age:
            return cached[0]
        headers: dict[str, str] = {}
        if cached is not None:
            if cached[1].get("etag"):
                headers["If-None-Match"] = cached[1]["etag"]
            if cached[1].get("last_modified"):
                headers["If-Modified-Since"] = cached[1]["last_modified"]
        status, body, meta = self._request("GET", url, headers, None)
        if status == 304 and cached is not None:
            self._cache_store(url, cached[0], cached[1])
            return cached[0]
        if status == 404:
            raise FetchError(not_found)
        if status != 200:
            raise FetchError(f"{url}: HTTP {status} {meta.get('reason', '')}".rstrip())
        self._cache_store(url, body, meta)
        return body

    def post(self, url: str, data: dict[str, str], *, not_found: str) -> bytes:
        status, body, meta = self._request("POST", url, {}, data)
        if status == 404:
            raise FetchError(not_found)
        if status != 200:
            raise FetchError(f"{url}: HTTP {status} {meta.get('reason', '')}".rstrip())
        return body

    def exists(self, url: str) -> bool:
        """Whether the server has url (200) or not (404); FetchError when it cannot say."""
        status, _body, meta = self._request("GET", url, {}, None)
        if status in (200, 404):
            return status == 200
        raise FetchError(f"{url}: HTTP {status} {meta.get('reason', '')}".rstrip())

    # -- one request, retried ------------------------------------------------------------------
    def _request(self, method: str, url: str, extra: dict[str, str],
                 data: dict[str, str] | None) -> tuple[int, bytes, dict[str, str]]:
        """The request, retried, within polite.deadline_seconds in all: at the deadline a timer cuts
        the connections it is using, which ends any read however slowly the server sends."""
        import threading

        deadline = time.monotonic() + self.polite.deadline_seconds
        cut = threading.Event()  # set once the timer has cut: whatever was read after is truncated
        timer = threading.Timer(self.polite.deadline_seconds, lambda: (cut.set(), self.watch.cut()))
        timer.daemon = True
        timer.start()
        late = FetchError(f"{urlsplit(url).netloc or url} sent no complete answer within "
                          f"{self.polite.deadline_seconds:g} s ({url})")
        try:
            answer = self._attempts(method, url, extra, data, deadline)
        except FetchError:
            if cut.is_set() or time.monotonic() >= deadline:
                raise late from None
            raise
        finally:
            timer.cancel()
        if cut.is_set():
            raise late
        return answer

    def _attempts(self, method: str, url: str, extra: dict[str, str], data: dict[str, str] | None,
                  deadline: float) -> tuple[int, bytes, dict[str, str]]:
        headers = {"User-Agent": self.polite.user_agent, "Accept-Encoding": "gzip, deflate", **extra}
        import requests
        import urllib3

        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            wait = self.polite.backoff_seconds * (2 ** (attempt - 1))
            try:
                with self.session.request(method, url, headers=headers, data=data,
                                          timeout=self.polite.timeout, stream=True) as resp:
                    if resp.status_code in _RETRY_STATUS and attempt <= self.polite.retries:
                        wait = _retry_after(resp.headers.get("Retry-After"), wait)
                    else:
                        meta = {"reason": resp.reason or "", "etag": resp.headers.get("ETag", ""),
                                "last_modified": resp.headers.get("Last-Modified", "")}
                        body = b"" if resp.status_code != 200 else self._read(resp, url)
                        return resp.status_code, body, meta
            except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError) as e:
                if attempt > self.polite.retries:
                    raise FetchError(f"{network_error(e, url)} (after {attempt} attempts)") from None
            except requests.RequestException as e:
                raise FetchError(network_error(e, url)) from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchError(f"{url}: out of time")
            self.sleep(min(wait, self.polite.max_wait_seconds, left))

    def _read(self, resp: requests.Response, url: str) -> bytes:
        """The body, capped on the wire and after Content-Encoding is undone (by us, so capped)."""
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.raw.stream(1 << 16, decode_content=False):
            size += len(chunk)
            if size > self.polite.max_compressed:
                raise FetchError(f"{url}: larger than {self.polite.max_compressed >> 20} MiB, refusing")
            chunks.append(chunk)
        body = b"".join(chunks)
        enc = resp.headers.get("Content-Encoding", "").strip().lower()
        if enc in ("gzip", "x-gzip", "deflate"):
            body = inflate(body, self.polite.max_decompressed, url, deflate=enc == "deflate")
        return body

    # -- cache ---------------------------------------------------------------------------------
    def _cache_paths(self, url: str) -> tuple[Path, Path] | None:
        if not self.polite.cache_dir:
            return None
        h = hashlib.sha256(url.encode()).hexdigest()
        d = Path(self.polite.cache_dir)
        return d / f"{h}.body", d / f"{h}.json"

    def _cache_load(self, url: str) -> tuple[bytes, dict[str, Any]] | None:
        paths = self._cache_paths(url)
        if paths is None:
            return None
        try:
            meta = json.loads(paths[1].read_text())
            body = paths[0].read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("url") != url or meta.get("size") != len(body):
            return None  # a torn or foreign entry is a miss
        return body, meta

    def _cache_store(self, url: str, body: bytes, meta: dict[str, Any]) -> None:
        paths = self._cache_paths(url)
        if paths is None:
            return
        entry = {"url": url, "stored": time.time(), "size": len(body),
                 "etag": meta.get("etag", ""), "last_modified": meta.get("last_modified", "")}
        try:
            paths[0].parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(paths[0], body)
            _atomic_write(paths[1], json.dumps(entry).encode())
        except OSError:
            pass  # a cache that cannot be written is only a slower bot


    def prune_cache(self, older_than: float) -> int:
        """Remove cache entries not refreshed for `older_than` seconds; the number removed."""
        if not self.polite.cache_dir:
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for f in Path(self.polite.cache_dir).glob("*"):
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
                    removed += 1
            except OSError:
                pass
        return removed


def _watched_adapter() -> Any:
    """requests' adapter, knowing the connections its requests are using, so that a deadline can
    end them: shutting a socket down wakes a read blocked on it (closing it would not)."""
    import threading

    import requests.adapters

    class Watched(requests.adapters.HTTPAdapter):
        def __init__(self) -> None:
            super().__init__()
            self.busy: set[Any] = set()
            self.lock = threading.Lock()

        def get_connection_with_tls_context(self, *args: Any, **kw: Any) -> Any:
            pool = super().get_connection_with_tls_context(*args, **kw)
            if not getattr(pool, "_review_bot_watched", False):
                get, put = pool._get_conn, pool._put_conn

                def get_conn(*a: Any, **k: Any) -> Any:
                    conn = get(*a, **k)
                    with self.lock:
                        self.busy.add(conn)
                    return conn

                def put_conn(conn: Any) -> None:
                    with self.lock:
                        self.busy.discard(conn)
                    put(conn)

                pool._get_conn, pool._put_conn, pool._review_bot_watched = get_conn, put_conn, True
            return pool

        def cut(self) -> None:
            import socket

            with self.lock:
                socks = [getattr(conn, "sock", None) for conn in self.busy]
            for sock in socks:
                try:
                    if sock is not None:
                        sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    return Watched()


def _atomic_write(path: Path, data: bytes) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _retry_after(value: str | None, default: float) -> float:
    if value and value.strip().isdigit():
        return float(value.strip())
    return default  # an HTTP-date or garbage: our own backoff


def inflate(data: bytes, cap: int, url: str, deflate: bool = False) -> bytes:
    """gzip (every member) or zlib/raw deflate data, refusing output beyond cap bytes."""
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        d = zlib.decompressobj(wbits=(zlib.MAX_WBITS | 32) if not deflate else zlib.MAX_WBITS)
        try:
            piece = d.decompress(rest, cap - size + 1)
            if len(piece) + size > cap or d.unconsumed_tail:
                raise FetchError(f"{url}: larger than {cap >> 20} MiB uncompressed, refusing")
            piece += d.flush()
        except zlib.error as e:
            if deflate and not out:  # "deflate" is sometimes raw deflate without the zlib header
                return inflate_raw(data, cap, url)
            raise FetchError(f"corrupt compressed data from {url}: {e}") from None
        size += len(piece)
        if size > cap:
            raise FetchError(f"{url}: larger than {cap >> 20} MiB uncompressed, refusing")
        out.append(piece)
        rest = d.unused_data if not deflate else b""
        if rest and not rest.startswith(b"\x1f\x8b"):
            break  # trailing garbage after the last gzip member: what gzip(1) also ignores
    return b"".join(out)


def inflate_raw(data: bytes, cap: int, url: str) -> bytes:
    d = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
    try:
        out = d.decompress(data, cap + 1)
    except zlib.error as e:
        raise FetchError(f"corrupt compressed data from {url}: {e}") from None
    if len(out) > cap or d.unconsumed_tail:
        raise FetchError(f"{url}: larger than {cap >> 20} MiB uncompressed, refusing")
    return out


def fetch_thread(
    msgid_or_url: str, lore_url: str = DEFAULT_LORE, session: requests.Session | None = None,
    http: Http | None = None, max_age: float = 0.0,
) -> Fetched:
    """Download the whole thread around a Message-ID as mbox text."""
    base, msgid = split_target(msgid_or_url, lore_url)
    url = thread_url(base, msgid)
    client = http or Http(session=session)
    data = client.get(url, not_found=f"Message-ID <{msgid}> not found at {base}", max_age=max_age)
    return Fetched(msgid=msgid, base=base, url=url, mbox=_mbox(data, url, client.polite.max_decompressed))


def raw_url(base: str, msgid: str) -> str:
    return f"{base.rstrip('/')}/{quote(msgid, safe=MSGID_SAFE)}/raw"


def _mbox(data: bytes, url: str, cap: int) -> bytes:
    mbox = inflate(data, cap, url) if data.startswith(b"\x1f\x8b") else data
    if not mbox.startswith(b"From "):
        raise FetchError(f"{url} did not return an mbox")
    return mbox


def _first_line(s: str) -> str:
    return s.strip().splitlines()[0] if s.strip() else ""


def network_error(e: BaseException, url: str) -> str:
    """A failed request in the user's terms: which host, and what went wrong (never urllib3's chain)."""
    import socket
    import ssl

    import requests

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


def thread_parents(mbox: bytes) -> dict[str, str | None]:
    """Message-ID → parent Message-ID (In-Reply-To, else last of References), for every message,
    read by bot.mail with its limits (the thread is parsed once, never by an unbounded reader)."""
    from bot import mail

    return mail.load_bytes(mbox, parents=True).parents or {}


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

    result = mail.load_bytes(fetched.mbox, parents=True)  # one parse, with bot.mail's limits
    parents = result.parents or {}
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


def fetch_search(base: str, query: str, session: requests.Session | None = None,
                 http: Http | None = None, empty_ok: bool = False) -> bytes:
    """The messages matching a public-inbox search query, as one mbox (POST <base>/?q=Q&x=m).

    public-inbox answers 404 when nothing matches: FetchError, or b"" with empty_ok."""
    base = base.rstrip("/")
    if not re.match(r"^https?://", base, re.I):
        raise FetchError(f"not an http(s) URL: {base!r}")
    url = f"{base}/?{urlencode({'q': query, 'x': 'm'})}"
    client = http or Http(session=session)
    nothing = f"no messages match {query!r} at {base}"
    try:
        data = client.post(url, {"z": "results only"}, not_found=nothing)
    except FetchError as e:
        if empty_ok and str(e) == nothing:
            return b""
        raise
    return _mbox(data, url, client.polite.max_decompressed)
