"""The one way tests reach ../shared/corpus: found relative to the repo root, skipped if absent."""

from __future__ import annotations

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


def year() -> Path:
    return corpus_path("lists/linux-s390-2023.mbox.xz")


def labels() -> Path:
    return corpus_path("labels.toml")
