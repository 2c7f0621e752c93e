"""bot.fetch.Http against real HTTP servers on 127.0.0.1 that misbehave on purpose: 503 with
Retry-After, dropped connections, gzip bombs in Content-Encoding and in the payload, validators."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.fetch import FetchError, Http, Politeness, fetch_thread
from tests.conftest import V1_PATCH_07
from tests.pinbox import PublicInbox

MBOX = b"From x Thu Jan  1 00:00:00 1970\nMessage-ID: <a@b>\nSubject: s\n\nbody\n"


class Server:
    """A ThreadingHTTPServer whose handler is a function of (request number, handler)."""

    def __init__(self, respond: Callable[[int, BaseHTTPRequestHandler], None]) -> None:
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests.append({k.lower(): v for k, v in self.headers.items()})
                respond(len(outer.requests), self)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(respond: Callable[[int, BaseHTTPRequestHandler], None]) -> Server:
        servers.append(Server(respond))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k.replace("_", "-"), v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _polite(**kw: object) -> Politeness:
    base = {"user_agent": "review-bot/test (+ops@example.org)", "backoff_seconds": 0.01, "retries": 3}
    return Politeness(**{**base, **kw})  # type: ignore[arg-type]


def test_user_agent_and_retry_after_503(serve: Callable[..., Server]) -> None:
    def respond(n: int, h: BaseHTTPRequestHandler) -> None:
        if n < 3:
            _send(h, 503, b"busy", Retry_After="0")
        else:
            _send(h, 200, gzip.compress(MBOX), Content_Type="application/gzip")

    srv = serve(respond)
    waits: list[float] = []
    http = Http(_polite(), sleep=waits.append)
    got = fetch_thread("a@b", srv.url, http=http)
    assert got.mbox == MBOX
    assert len(srv.requests) == 3 and waits == [0.0, 0.0]  # Retry-After: 0 obeyed, twice
    assert {r["user-agent"] for r in srv.requests} == {"review-bot/test (+ops@example.org)"}


def test_retries_are_bounded_with_backoff(serve: Callable[..., Server]) -> None:
    srv = serve(lambda n, h: _send(h, 502, b"bad gateway"))
    waits: list[float] = []
    with pytest.raises(FetchError, match="HTTP 502"):
        Http(_polite(retries=2, backoff_seconds=0.5), sleep=waits.append).get(srv.url + "/x", not_found="nf")
    assert len(srv.requests) == 3 and waits == [0.5, 1.0]  # doubling, then give up


def test_retry_after_is_capped(serve: Callable[..., Server]) -> None:
    srv = serve(lambda n, h: _send(h, 429, b"", Retry_After="86400") if n == 1 else _send(h, 200, b"ok"))
    waits: list[float] = []
    assert Http(_polite(max_wait_seconds=5), sleep=waits.append).get(srv.url, not_found="nf") == b"ok"
    assert waits == [5]


def test_404_is_final(serve: Callable[..., Server]) -> None:
    srv = serve(lambda n, h: _send(h, 404, b"nope"))
    with pytest.raises(FetchError, match="^gone$"):
        Http(_polite()).get(srv.url, not_found="gone")
    assert len(srv.requests) == 1


def test_connection_refused_is_retried_then_one_line() -> None:
    from tests.pinbox import free_port

    waits: list[float] = []
    with pytest.raises(FetchError) as e:
        Http(_polite(retries=1), sleep=waits.append).get(f"http://127.0.0.1:{free_port()}/x", not_found="nf")
    assert "after 2 attempts" in str(e.value) and "\n" not in str(e.value) and len(waits) == 1


def test_content_encoding_bomb_is_refused(serve: Callable[..., Server]) -> None:
    bomb = zlib.compress(b"\0" * (64 << 20), 9)  # 64 MiB of zeros in ~64 KiB
    srv = serve(lambda n, h: _send(h, 200, bomb, Content_Encoding="deflate"))
    with pytest.raises(FetchError, match="uncompressed"):
        Http(_polite(max_decompressed=8 << 20)).get(srv.url, not_found="nf")


def test_gzip_payload_bomb_is_refused(serve: Callable[..., Server]) -> None:
    bomb = gzip.compress(b"From x\n" + b"\0" * (32 << 20), 9)
    srv = serve(lambda n, h: _send(h, 200, bomb, Content_Type="application/gzip"))
    with pytest.raises(FetchError, match="uncompressed"):
        fetch_thread("a@b", srv.url, http=Http(_polite(max_decompressed=4 << 20)))


def test_wire_size_cap(serve: Callable[..., Server]) -> None:
    srv = serve(lambda n, h: _send(h, 200, b"x" * (3 << 20)))
    with pytest.raises(FetchError, match="larger than 1 MiB"):
        Http(_polite(max_compressed=1 << 20)).get(srv.url, not_found="nf")


def test_cache_max_age_and_validators(serve: Callable[..., Server], tmp_path) -> None:  # noqa: ANN001
    def respond(n: int, h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            _send(h, 304)
        else:
            _send(h, 200, b"payload", ETag='"v1"')

    srv = serve(respond)
    http = Http(_polite(cache_dir=str(tmp_path / "cache")))
    assert http.get(srv.url, not_found="nf") == b"payload"
    assert http.get(srv.url, not_found="nf", max_age=60) == b"payload"
    assert len(srv.requests) == 1  # fresh enough: not asked again
    assert http.get(srv.url, not_found="nf") == b"payload"  # revalidated: 304
    assert len(srv.requests) == 2 and srv.requests[1].get("if-none-match") == '"v1"'
    (next((tmp_path / "cache").glob("*.body"))).write_bytes(b"torn")  # a torn entry is a miss
    assert http.get(srv.url, not_found="nf", max_age=60) == b"payload" and len(srv.requests) == 3


def test_real_public_inbox_thread_through_http(pinbox: PublicInbox) -> None:
    http = Http(_polite())
    got = fetch_thread(V1_PATCH_07, pinbox.base, http=http)
    assert got.mbox.startswith(b"From ") and V1_PATCH_07.encode() in got.mbox
    assert http.requests == 1
