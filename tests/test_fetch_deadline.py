"""A server that answers too slowly ends the request at its deadline: real servers on 127.0.0.1
that drip their headers or their body a byte at a time, or answer 503 for ever."""

from __future__ import annotations

import socket
import time

import pytest

from bot.fetch import FetchError, Http, Politeness, fetch_thread
from tests.hostile_inputs import drip, serve

DEADLINE = 1.5


def unavailable(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n")


SLOW = {
    "body, a byte every 0.1 s": drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"From x" * 20000, 0.1),
    "body, a byte every 20 s": drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"From x" * 100, 20),
    "headers, a byte every 0.1 s": drip(b"", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60000, 0.1),
    "503 for ever": unavailable,
}


@pytest.mark.parametrize("kind", list(SLOW))
def test_a_slow_server_ends_at_the_deadline(kind: str) -> None:
    with serve(SLOW[kind]) as base:
        http = Http(Politeness(deadline_seconds=DEADLINE, retries=20, backoff_seconds=0.2))
        t = time.monotonic()
        with pytest.raises(FetchError) as e:
            fetch_thread("a@b.example", base, http=http)
        elapsed = time.monotonic() - t
        # without a deadline these run for minutes (or for ever): the request ends near its deadline
        assert elapsed < DEADLINE + 3.0, (kind, elapsed)
        assert f"within {DEADLINE:g} s" in str(e.value) or "HTTP 503" in str(e.value), str(e.value)
        assert "\n" not in str(e.value)


def test_a_reset_mid_body_is_a_fetch_error() -> None:
    def reset(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nFrom x")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    with serve(reset) as base:
        with pytest.raises(FetchError):
            fetch_thread("a@b.example", base, http=Http(Politeness(retries=0)))
