"""The one way tests reach ../shared/corpus: found relative to the repo root, skipped if absent."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


def corpus_path(rel: str) -> Path:
    """Path of a corpus file; skips the calling test with a clear message when it is absent."""
    p = CORPUS / rel
    if not p.exists():
        pytest.skip(f"shared corpus file {p} is absent (tests expect ../shared/corpus beside the repo)")
    return p


def thread(n: int) -> Path:
    return corpus_path(f"threads/pte-free-defer-v{n}.mbox")


def year(n: int = 2023) -> Path:
    return corpus_path(f"lists/linux-s390-{n}.mbox.xz")


def labels() -> Path:
    return corpus_path("labels.toml")


def message(n: int, msgid: str) -> bytes:
    """One message of thread n, as its raw bytes (what b4 feeds a check command on stdin)."""
    import mailbox

    box = mailbox.mbox(str(thread(n)), create=False)
    try:
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            if f"<{msgid}>".encode() in raw.split(b"\n\n", 1)[0]:
                return raw
    finally:
        box.close()
    raise LookupError(f"no message <{msgid}> in thread v{n}")


def year_of(y: str) -> Path:
    return corpus_path(f"lists/linux-s390-{y}.mbox.xz")


@lru_cache(maxsize=2)
def year_postings(y: str) -> tuple:
    """Every posting of a list year (formal and inline diffs in replies), read once per session."""
    from bot.mail import load

    return tuple(load(str(year_of(y))).postings)
