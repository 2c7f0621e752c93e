"""Stream raw messages out of an mbox (plain/.gz/.xz/.bz2), a maildir, one .eml, stdin or bytes.

Everything yields either raw message bytes or a Skip record; nothing is ever read whole
into memory, and every limit (message size, decompressed total, compression ratio) is a
hard cap checked while streaming, so hostile input costs bounded memory and time.
"""

from __future__ import annotations

import bz2
import lzma
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.mail.mboxrd import unescape

MAX_MESSAGE = 20 * 1024 * 1024  # a kernel patch mail is < 1 MB; 20 MB leaves room for big series
MAX_TOTAL = 16 * 1024 * 1024 * 1024  # decompressed bytes per input
MAX_RATIO = 100  # mail compresses 5-10x; beyond this after BOMB_FLOOR bytes it is a bomb
BOMB_FLOOR = 64 * 1024 * 1024
CHUNK = 1 << 20

_SEP = b"\nFrom "
# The classic separator line: "From sender Thu Jan  1 00:00:00 1970" (date required, so a
# stray unescaped "From " body line that is not after a blank line does not split a message).
_SEP_LINE = re.compile(rb"From \S+ +\w{3} \w{3} [ \d]\d \d\d:\d\d(:\d\d)? (\S+ )?\d{4}")
_HEADER_LINE = re.compile(rb"[!-9;-~]+:[ \t]?")
_MSGID = re.compile(rb"(?im)^message-id:[ \t]*(?:\r?\n[ \t]+)?<?([^>\s]+)>?")


class InputError(Exception):
    """Input that cannot be read at all (missing, not mail): a one-line message for exit code 2."""


@dataclass
class Skip:
    msgid: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"msgid": self.msgid, "reason": self.reason}


@dataclass
class Limits:
    max_message: int = MAX_MESSAGE
    max_total: int = MAX_TOTAL
    max_ratio: int = MAX_RATIO
    bomb_floor: int = BOMB_FLOOR


def msgid_of(head: bytes) -> str:
    """Message-ID from the first bytes of a message, for skip records; "" when absent."""
    m = _MSGID.search(head[:65536])
    return m.group(1).decode("ascii", "replace")[:300] if m else ""


class _Counting:
    """A raw-file wrapper counting compressed bytes consumed, for the ratio check."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.n = 0

    def read(self, size: int = -1) -> bytes:
        b = self.f.read(size)
        self.n += len(b)
        return b

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        n = self.f.readinto(buf)
        self.n += n or 0
        return n

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _open_stream(raw: BinaryIO) -> tuple[BinaryIO, _Counting | None, bytes]:
    """Sniff compression by magic bytes (not by name: stdin and misnamed files work too)."""
    head = raw.read(6)
    rest = _Prefixed(head, raw)
    if head.startswith(b"\x1f\x8b"):
        import gzip  # not for plain mail (bz2 and lzma come with shutil anyway)

        c = _Counting(rest)
        return gzip.GzipFile(fileobj=c, mode="rb"), c, head  # type: ignore[arg-type]
    if head.startswith(b"\xfd7zXZ\x00"):
        c = _Counting(rest)
        return lzma.LZMAFile(c), c, head  # type: ignore[arg-type]
    if head.startswith(b"BZh"):
        c = _Counting(rest)
        return bz2.BZ2File(c), c, head  # type: ignore[arg-type]
    return rest, None, head  # type: ignore[return-value]


class _Prefixed:
    """Re-prepend sniffed bytes to a non-seekable stream (stdin)."""

    def __init__(self, head: bytes, f: BinaryIO) -> None:
        self.head = head
        self.f = f

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size < 0:
                b, self.head = self.head + self.f.read(), b""
                return b
            b, self.head = self.head[:size], self.head[size:]
            if len(b) < size:
                b += self.f.read(size - len(b))
            return b
        return self.f.read(size)

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        b = self.read(len(buf))
        buf[: len(b)] = b
        return len(b)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _chunks(stream: BinaryIO, counter: _Counting | None, limits: Limits) -> Iterator[bytes | Skip]:
    """Decompressed chunks, stopping (with a Skip) at the total cap, a bomb ratio or a corrupt stream."""
    total = 0
    # read1: a truncated compressed stream still yields what it holds before the error
    read = getattr(stream, "read1", stream.read) if counter is not None else stream.read
    while True:
        parts: list[bytes] = []
        got = 0
        err: BaseException | None = None
        while got < CHUNK:  # read1 returns small pieces: coalesce, so the splitter sees big chunks
            try:
                piece = read(CHUNK - got)
            except (EOFError, OSError, lzma.LZMAError, ValueError) as e:
                err = e
                break
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        b = b"".join(parts)
        if not b:
            if err is not None:
                yield Skip("", f"compressed stream unreadable after {total} bytes: {_one_line(err)}")
            return
        total += len(b)
        if total > limits.max_total:
            yield Skip("", f"input exceeds {limits.max_total} decompressed bytes; rest not read")
            return
        if counter is not None and total > limits.bomb_floor and total > limits.max_ratio * max(counter.n, 1):
            yield Skip("", f"decompression bomb: {total} bytes from {counter.n} compressed; rest not read")
            return
        yield b
        if err is not None:
            yield Skip("", f"compressed stream unreadable after {total} bytes: {_one_line(err)}")
            return


def _one_line(e: BaseException) -> str:
    s = f"{type(e).__name__}: {e}"
    return " ".join(s.split())[:200]


def _is_sep(buf: bytes, i: int) -> bool:
    """buf[i:] starts with "From "; is it a message separator? (i-1 is a newline)"""
    if i >= 2 and buf[i - 2 : i] == b"\n\n" or i >= 3 and buf[i - 3 : i] == b"\n\r\n":
        return True
    return _SEP_LINE.match(buf, i, i + 200) is not None


def _finish(msg: bytes) -> bytes:
    """Drop the separator line and undo mboxrd escaping; cheap test first."""
    nl = msg.find(b"\n")
    return unescape(msg[nl + 1 :] if nl >= 0 else b"")


def split_mbox(chunks: Iterator[bytes | Skip], limits: Limits) -> Iterator[bytes | Skip]:
    """Split a byte stream on "From " separator lines; over-long messages are dropped while streaming."""
    buf = bytearray()  # appends are amortised: no quadratic copying while a big message grows
    resume = 1  # where the next search for a separator starts (earlier bytes were searched)
    oversized: Skip | None = None  # set while discarding the rest of a too-large message
    for ch in chunks:
        if isinstance(ch, Skip):
            if oversized is not None:
                yield oversized
            elif buf.strip():
                yield Skip(msgid_of(bytes(buf[:65536])), "input ends inside this message: " + ch.reason)
            yield ch
            return
        buf += ch
        pos = 0  # start of the current message in buf; slicing once per chunk keeps this linear
        i = buf.find(_SEP, resume)
        resume = -1
        while i >= 0:
            if buf.find(b"\n", i + 1) < 0:
                resume = i  # separator line incomplete: decide when the next chunk arrives
                break
            if _is_sep(buf, i + 1):
                if oversized is not None:
                    yield oversized
                    oversized = None
                else:
                    yield _finish(bytes(buf[pos : i + 1]))
                pos = i + 1
            i = buf.find(_SEP, i + 1)
        if pos:
            del buf[:pos]
        resume = resume - pos if resume >= 0 else max(1, len(buf) - len(_SEP) + 1)
        if len(buf) > limits.max_message:
            if oversized is None:
                oversized = Skip(msgid_of(bytes(buf[:65536])), f"too large: message exceeds {limits.max_message} bytes")
            # keep only a tail long enough to find and test the next separator
            buf = bytearray(b"X" + buf[-256:])
            resume = 1
    if oversized is not None:
        yield oversized
    elif buf.strip():
        yield _finish(bytes(buf))


def read_stream(raw: BinaryIO, limits: Limits | None = None, name: str = "input") -> Iterator[bytes | Skip]:
    """One stream that holds an mbox (possibly compressed) or a single message."""
    limits = limits or Limits()
    stream, counter, _ = _open_stream(raw)
    chunks = _chunks(stream, counter, limits)
    first = b""
    for ch in chunks:
        if isinstance(ch, Skip):
            if not first:
                raise InputError(f"{name}: {ch.reason}")
            break
        first += ch
        if len(first) >= 512 or b"\n" in first:
            break
    if not first:
        return  # an empty mailbox is a valid, empty input
    rest = _prepend(first, chunks)
    if first.startswith(b"From "):
        yield from split_mbox(rest, limits)
    elif _HEADER_LINE.match(first.lstrip(b"\r\n")):
        yield from _single(rest, limits)
    else:
        raise InputError(f"{name}: not an mbox, maildir or email message")


def _prepend(first: bytes, chunks: Iterator[bytes | Skip]) -> Iterator[bytes | Skip]:
    yield first
    yield from chunks


def _single(chunks: Iterator[bytes | Skip], limits: Limits) -> Iterator[bytes | Skip]:
    parts: list[bytes] = []
    size = 0
    for ch in chunks:
        if isinstance(ch, Skip):
            yield ch
            break
        size += len(ch)
        if size > limits.max_message:
            head = parts[0] if parts else ch
            yield Skip(msgid_of(head), f"too large: message exceeds {limits.max_message} bytes")
            return
        parts.append(ch)
    if parts:
        yield b"".join(parts)


def read_maildir(path: Path, limits: Limits) -> Iterator[bytes | Skip]:
    files = sorted(p for sub in ("cur", "new") if (path / sub).is_dir() for p in (path / sub).iterdir())
    for p in files:
        try:
            if not p.is_file():
                continue
            size = p.stat().st_size
            with p.open("rb") as f:
                if size > limits.max_message:
                    yield Skip(msgid_of(f.read(65536)), f"too large: {p.name} is {size} bytes")
                    continue
                yield f.read()
        except OSError as e:
            yield Skip("", f"{p.name}: {_one_line(e)}")


def read_path(path: str, limits: Limits | None = None) -> Iterator[bytes | Skip]:
    """Messages of a path ("-" is stdin). Raises InputError when the input cannot be read at all."""
    limits = limits or Limits()
    if path == "-":
        yield from read_stream(sys.stdin.buffer, limits, "stdin")
        return
    p = Path(path)
    if p.is_dir():
        if not ((p / "cur").is_dir() or (p / "new").is_dir()):
            raise InputError(f"{path}: a directory that is not a maildir (no cur/ or new/)")
        yield from read_maildir(p, limits)
        return
    try:
        f = open(p, "rb")  # noqa: SIM115 - closed in finally below, across yields
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or _one_line(e)}") from None
    try:
        yield from read_stream(f, limits, path)  # type: ignore[arg-type]
    finally:
        f.close()


def read_bytes(data: bytes, limits: Limits | None = None, name: str = "bytes") -> Iterator[bytes | Skip]:
    import io

    yield from read_stream(io.BytesIO(data), limits, name)
