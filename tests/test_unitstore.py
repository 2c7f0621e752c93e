"""Parsed C in the verdict cache: what is read back is what parsing gives, only the same text hits,
and an entry that does not read back as a unit is parsed again and rewritten, never used."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cache
from bot.cmodel import cparse, unitstore
from bot.options import Options
from bot.paths import models_dir
from tests.conftest import run_cli
from tests.kernel_tree import patch_07


@pytest.fixture
def store(tmp_path: Path) -> Iterator[cache.VerdictCache]:
    """A verdict cache of its own as this process's current one; none again after the test."""
    vc = cache.for_options(Options(cache_path=str(tmp_path / "verdicts.sqlite")))
    assert vc is not None and cache.current() is vc
    yield vc
    cache.for_options(Options(cache=False))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the front end parses from now on."""
    seen: list[str] = []
    monkeypatch.setattr(unitstore, "parse_unit", lambda text: seen.append(text) or cparse.parse_unit(text))
    return seen


def _sources() -> list[str]:
    texts = list(dict.fromkeys(p.read_text() for p in sorted(models_dir().rglob("*")) if p.suffix in (".c", ".h")))
    assert len(texts) > 20
    return texts


def test_every_model_source_reads_back_as_it_parses(store: cache.VerdictCache, parses: list[str]) -> None:
    texts = _sources()
    first = [unitstore.parsed(t) for t in texts]
    assert len(parses) == len(texts)
    again = [unitstore.parsed(t) for t in texts]
    assert len(parses) == len(texts), "the second time every text is a lookup"
    for t, a, b in zip(texts, first, again):
        want = cparse.parse_unit(t)
        assert a == want and b == want
        # the node types too, not only equal tuples: the interpreter dispatches on them
        assert [type(s) for f in b.functions.values() for s in f.body] == \
               [type(s) for f in want.functions.values() for s in f.body]


def test_only_the_same_text_hits(store: cache.VerdictCache, parses: list[str]) -> None:
    text = "int f(int a) { return a + 1; }\n"
    unitstore.parsed(text)
    other = text.replace("+ 1", "+ 2")
    assert unitstore.parsed(other) == cparse.parse_unit(other)
    assert parses == [text, other]


def test_another_environment_does_not_hit(store: cache.VerdictCache, parses: list[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    text = "int f(void) { return 3; }\n"
    unitstore.parsed(text)
    monkeypatch.setattr(store, "env", "another front end")
    unitstore.parsed(text)
    assert parses == [text, text]


@pytest.mark.parametrize("damage", ["garbage", "hostile", "not a unit", "truncated"])
def test_a_bad_entry_is_parsed_again_and_rewritten(damage: str, store: cache.VerdictCache, parses: list[str],
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "static int g;\nint f(int *p) { *p = g; return 0; }\n"
    want = cparse.parse_unit(text)
    unitstore.parsed(text)
    assert store.db is not None
    (key,) = store.db.execute("SELECT key FROM entry").fetchone()
    (good,) = store.db.execute("SELECT value FROM entry").fetchone()
    blob = {"garbage": os.urandom(300), "hostile": pickle.dumps(_Exploit()), "not a unit": pickle.dumps({"a": 1}),
            "truncated": good[: len(good) // 2]}[damage]
    store.db.execute("UPDATE entry SET value = ? WHERE key = ?", (blob, key))
    assert unitstore.parsed(text) == want
    assert not (tmp_path / "exploited").exists()
    assert store.db.execute("SELECT value FROM entry WHERE key = ?", (key,)).fetchone() == (good,)
    assert unitstore.parsed(text) == want
    assert parses == [text, text], "rewritten: the third time is a lookup"


def test_without_a_cache_nothing_is_kept(tmp_path: Path, parses: list[str]) -> None:
    assert cache.for_options(Options(cache=False)) is None
    assert cache.current() is None
    text = "int f(void) { return 1; }\n"
    unitstore.parsed(text)
    unitstore.parsed(text)
    assert parses == [text, text]


def test_a_forked_process_has_no_current_cache(store: cache.VerdictCache, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = os.getpid()
    monkeypatch.setattr(cache.os, "getpid", lambda: pid + 1)
    assert cache.current() is None


def test_check_stdin_at_first_sight_says_what_it_says_uncached(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """As a b4 hook runs: the cache holds what the v2 and v3 07/12 parsed and ran, then v1 07/12."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for n in (2, 3):
        run_cli("check", "--stdin", "--format", "json", stdin=patch_07(n))
    seen = run_cli("check", "--stdin", "--format", "json", stdin=patch_07(1))
    off = run_cli("check", "--stdin", "--format", "json", "--no-cache", stdin=patch_07(1))
    assert seen.returncode == off.returncode == 1, seen.stderr
    assert seen.stdout == off.stdout


class _Exploit:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch exploited",))
