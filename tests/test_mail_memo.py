"""Each message parsed once: a load that reads its messages' parses back builds what a fresh parse does."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bot import cache
from bot.mail import LoadResult, iter_load, load
from bot.mail.memo import KIND
from bot.mail.parse import Parsed
from bot.mail.read import read_path
from bot.options import Options
from bot.scan import scan
from tests.corpus import thread


def _load(path: Path, store: cache.VerdictCache | None) -> LoadResult:
    res = LoadResult()
    for _ in iter_load(str(path), res, store=store):
        pass
    return res


def _same(a: LoadResult, b: LoadResult) -> None:
    assert (a.messages, a.skipped, a.skip_kinds) == (b.messages, b.skipped, b.skip_kinds)
    assert a.postings == b.postings and a.covers == b.covers  # every field, hunk lines included
    assert [(s.key, s.revision, sorted(s.patches)) for s in a.series] == \
        [(s.key, s.revision, sorted(s.patches)) for s in b.series]


def test_a_second_load_reads_every_message_back_and_builds_the_same(
        throughput_inputs: dict[str, Path], tmp_path: Path) -> None:
    store = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    for name, path in throughput_inputs.items():
        fresh = load(str(path))
        first = _load(path, store)
        hits = store.hits
        again = _load(path, store)
        raws = sum(1 for r in read_path(str(path)) if isinstance(r, bytes))
        assert store.hits - hits == raws > 0, f"{name}: a message was parsed again"
        _same(first, fresh)
        _same(again, fresh)
        assert any(p.files and p.files[0].hunks for p in again.postings), name


def test_an_entry_that_is_not_a_parse_is_parsed_again(tmp_path: Path) -> None:
    store = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    raws = [r for r in read_path(str(thread(1))) if isinstance(r, bytes)]
    keys = [hashlib.sha256(r).hexdigest() for r in raws]
    store.put_many(KIND, [(k, {"not": "a parse"}) for k in keys[:5]] + [(k, "junk") for k in keys[5:10]])
    _same(_load(thread(1), store), load(str(thread(1))))
    assert all(isinstance(p, Parsed) for p in store.get_many(KIND, keys[:10]))  # stored again, as parsed


def test_a_scan_scanned_again_reports_the_same(tmp_path: Path) -> None:
    opts = {"cache_path": str(tmp_path / "verdicts.sqlite")}
    first = scan(str(thread(2)), options=Options(**opts))  # type: ignore[arg-type]
    again = scan(str(thread(2)), options=Options(**opts))  # type: ignore[arg-type]
    uncached = scan(str(thread(2)), options=Options(cache=False))
    assert json.dumps(first.to_json()) == json.dumps(again.to_json()) == json.dumps(uncached.to_json())


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Messages parsed in this process (a forked helper counts in its own copy)."""
    from bot.mail import memo

    parses = [0]
    parse = memo.parse_message

    def counted(raw: bytes) -> object:
        parses[0] += 1
        return parse(raw)

    monkeypatch.setattr(memo, "parse_message", counted)
    return parses


def test_a_load_side_by_side_builds_what_one_process_does_and_parses_half(
        throughput_inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big archive is parsed on two processes into the store: this process parses every other
    batch and reads the helper's back; the load is the one-process load, and every message is
    stored (a second load parses nothing)."""
    from bot import mail
    from bot.mail import memo

    monkeypatch.setattr(mail, "SIDE_BY_SIDE_BYTES", 0)
    monkeypatch.setattr(memo, "BATCH", 16)  # the slice's 400 messages: 25 batches
    path = throughput_inputs["2023-slice"]
    parses = _counting_parses(monkeypatch)
    db = tmp_path / "verdicts.sqlite"
    store = cache.VerdictCache(db)
    res = LoadResult()
    for _ in iter_load(str(path), res, store=store, jobs=2, open_store=lambda: cache.VerdictCache(db)):
        pass
    raws = sum(1 for r in read_path(str(path)) if isinstance(r, bytes))
    assert 0 < parses[0] < raws * 3 // 4, (parses[0], raws)  # the helper parsed its share
    _same(res, load(str(path)))
    parses[0] = 0
    _same(_load(path, store), res)
    assert parses[0] == 0  # everything either process parsed was stored
    monkeypatch.setattr(memo, "_Helper", lambda *a: pytest.fail("a helper for an archive read before"))
    again = LoadResult()
    for _ in iter_load(str(path), again, store=store, jobs=2, open_store=lambda: cache.VerdictCache(db)):
        pass
    _same(again, res)
    assert parses[0] == 0


def test_a_helper_that_stores_nothing_leaves_the_load_whole(
        throughput_inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper that ends without storing (no store of its own, or it died) costs only time: this
    process parses its batches too."""
    from bot import mail
    from bot.mail import memo

    monkeypatch.setattr(mail, "SIDE_BY_SIDE_BYTES", 0)
    monkeypatch.setattr(memo, "BATCH", 16)
    path = throughput_inputs["2023-slice"]
    parses = _counting_parses(monkeypatch)
    store = cache.VerdictCache(tmp_path / "verdicts.sqlite")
    res = LoadResult()
    for _ in iter_load(str(path), res, store=store, jobs=2, open_store=lambda: None):
        pass
    assert parses[0] == sum(1 for r in read_path(str(path)) if isinstance(r, bytes))
    _same(res, load(str(path)))


def test_a_scan_parses_a_big_archive_side_by_side_and_reports_what_one_process_does(
        throughput_inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import mail
    from bot.mail import memo

    monkeypatch.setattr(mail, "SIDE_BY_SIDE_BYTES", 0)
    monkeypatch.setattr(memo, "BATCH", 16)
    path = str(throughput_inputs["2023-slice"])
    parses = _counting_parses(monkeypatch)
    two = scan(path, options=Options(cache_path=str(tmp_path / "two.sqlite"), jobs=2))
    assert 0 < parses[0] < sum(1 for r in read_path(path) if isinstance(r, bytes))
    one = scan(path, options=Options(cache_path=str(tmp_path / "one.sqlite"), jobs=1))
    assert json.dumps(two.to_json()) == json.dumps(one.to_json())
