"""Reading archives: formats, limits and hostile input. Nothing may raise except InputError."""

from __future__ import annotations

import gzip
import lzma
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail import InputError, Limits, load, load_bytes
from bot.mail.read import Skip, read_bytes, read_path

SEP = b"From someone@example.org Thu Jan  1 00:00:00 1970\n"


def msg(n: int, body: bytes = b"hello\n", subject: bytes = b"hi") -> bytes:
    return (b"From: A <a@example.org>\nSubject: " + subject + b"\nMessage-ID: <m" + str(n).encode()
            + b"@example.org>\n\n" + body)


def mbox(*msgs: bytes) -> bytes:
    return b"\n".join(SEP + m for m in msgs) + b"\n"


def test_mboxrd_from_lines_are_unescaped_and_do_not_split():
    data = mbox(msg(1, b"text\n>From the start\n>>From deeper\nFrom inside not after blank\n"), msg(2))
    items = list(read_bytes(data))
    assert len(items) == 2
    assert b"\nFrom the start\n>From deeper\n" in items[0]
    assert b"From inside not after blank" in items[0]
    assert items[1].startswith(b"From: A")


def test_truncated_mbox_keeps_complete_messages_and_reads_the_cut_one():
    data = mbox(msg(1), msg(2), msg(3, b"x" * 1000))
    cut = data[: len(data) - 600]
    res = load_bytes(cut)
    assert res.messages == 3
    assert res.skipped == []


def test_truncated_gzip_reports_where_it_stopped(tmp_path: Path):
    data = gzip.compress(mbox(*[msg(i, b"line\n" * 2000) for i in range(50)]))
    p = tmp_path / "cut.mbox.gz"
    p.write_bytes(data[: len(data) // 2])
    res = load(str(p))
    assert 0 < res.messages < 50
    assert any("compressed stream unreadable" in s["reason"] for s in res.skipped)
    assert all("\n" not in s["reason"] for s in res.skipped)


def test_fifty_megabyte_message_is_skipped_and_neighbours_read(tmp_path: Path):
    p = tmp_path / "big.mbox"
    with p.open("wb") as f:
        f.write(SEP + msg(1) + b"\n")
        f.write(SEP + msg(2, b""))
        line = b"x" * 1023 + b"\n"
        for _ in range(50 * 1024):
            f.write(line)
        f.write(b"\n" + SEP + msg(3) + b"\n")
    res = load(str(p))
    assert res.messages == 3
    assert res.skipped == [{"msgid": "m2@example.org", "reason": f"too large: message exceeds {20 << 20} bytes"}]


def _bomb(path: Path, kind: str, head: bytes, megabytes: int) -> None:
    """head + megabytes of zeros, written as concatenated streams (gzip members / xz streams,
    both valid) so the test compresses 8 MB once instead of 80 MB."""
    def comp(b: bytes) -> bytes:
        return gzip.compress(b, 9) if kind == "gz" else lzma.compress(b, preset=0)

    block = comp(b"\0" * (8 << 20))
    with path.open("wb") as f:
        f.write(comp(head))
        for _ in range(megabytes // 8):
            f.write(block)


@pytest.mark.parametrize("kind", ["gz", "xz"])
def test_compression_bombs_stop_with_a_reason(tmp_path: Path, kind: str):
    p = tmp_path / f"bomb.mbox.{kind}"
    _bomb(p, kind, SEP + msg(1) + b"\n" + SEP + msg(2, b""), 80)
    assert p.stat().st_size < 200_000  # small on disk, 80 MB when expanded
    res = load(str(p))
    reasons = [s["reason"] for s in res.skipped]
    assert res.messages == 2
    assert any(r.startswith("too large") for r in reasons)
    assert any(r.startswith("decompression bomb") for r in reasons)


def test_bomb_of_many_small_messages_stops_at_the_ratio(tmp_path: Path):
    p = tmp_path / "many.mbox.xz"
    one = SEP + msg(7) + b"\n"
    block = lzma.compress(one * 20000, preset=0)
    p.write_bytes(block * 15)  # concatenated xz streams
    total = len(one) * 20000 * 15
    limits = Limits(bomb_floor=1 << 20)
    res = load(str(p), limits=limits)
    assert any(s["reason"].startswith("decompression bomb") for s in res.skipped)
    assert 0 < res.messages * len(one) < total / 2


def test_binary_garbage_file_is_an_input_error(tmp_path: Path):
    p = tmp_path / "garbage.bin"
    p.write_bytes(bytes(range(256)) * 100)
    with pytest.raises(InputError, match="not an mbox"):
        load(str(p))


def test_binary_garbage_inside_an_mbox_is_read_or_skipped():
    garbage = bytes((i * 7919) % 256 for i in range(50_000)).replace(b"\n", b"\x00")
    data = mbox(msg(1), b"\xff\xfe\x00" + garbage, msg(3))
    res = load_bytes(data)
    assert res.messages == 3
    assert all("\n" not in s["reason"] for s in res.skipped)


def test_missing_file_and_plain_directory_are_input_errors(tmp_path: Path):
    with pytest.raises(InputError, match="No such file"):
        load(str(tmp_path / "nope.mbox"))
    with pytest.raises(InputError, match="not a maildir"):
        load(str(tmp_path))


def test_maildir_and_single_eml(tmp_path: Path):
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    (tmp_path / "md" / "cur" / "1:2,S").write_bytes(msg(1))
    (tmp_path / "md" / "new" / "2").write_bytes(msg(2))
    (tmp_path / "md" / "tmp" / "3").write_bytes(msg(3))  # in delivery: not a message yet
    assert load(str(tmp_path / "md")).messages == 2
    eml = tmp_path / "one.eml"
    eml.write_bytes(msg(9))
    items = list(read_path(str(eml)))
    assert items == [msg(9)]


def test_empty_input_is_zero_messages():
    assert load_bytes(b"").messages == 0


def test_stdin_is_read_when_path_is_dash():
    data = gzip.compress(mbox(msg(1), msg(2)))
    out = subprocess.run([sys.executable, "-c", "import bot.mail as m; print(m.load('-').messages)"],
                         input=data, capture_output=True, cwd=Path(__file__).resolve().parent.parent,
                         check=True)
    assert out.stdout.strip() == b"2"


def test_skip_record_shape():
    s = Skip("a@b", "too large")
    assert s.as_dict() == {"msgid": "a@b", "reason": "too large"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([SEP, b"From x\n", b">From y\n", b"\n", b"Subject: s\n", b"\xff\x00",
                                 b"diff --git a/f b/f\n", b"@@ -1 +1 @@\n", b"+a\n"]), max_size=30))
def test_any_mbox_like_bytes_load_without_raising(parts):
    data = b"From a Thu Jan  1 00:00:00 1970\n" + b"".join(parts)
    res = load_bytes(data)
    assert res.messages >= 1 and all("\n" not in s["reason"] for s in res.skipped)
