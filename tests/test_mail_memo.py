"""Each message parsed once: a load that reads its messages' parses back builds what a fresh parse does."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

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
