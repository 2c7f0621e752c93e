"""Judgement across cores: the same reviews, in the same order, as one process gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import pool
from bot.mail import load
from bot.options import Options
from bot.pipeline import review_postings
from tests.conftest import run_cli
from tests.throughput import review_json


def test_parallel_verdicts_equal_serial(throughput_inputs: dict[str, Path],
                                        serial_uncached: dict[str, str]) -> None:
    for name, path in throughput_inputs.items():
        assert review_json(path, cache=False, jobs=2) == serial_uncached[name], name
    path = throughput_inputs["2023-slice"]
    assert review_json(path, cache=False, jobs=3) == serial_uncached["2023-slice"]


def test_every_review_is_reported_once_and_in_input_order(throughput_inputs: dict[str, Path]) -> None:
    res = load(str(throughput_inputs["v2"]))
    seen: list[str] = []
    reviews = review_postings(res.postings, Options(cache=False, jobs=2), context=res.postings,
                              on_review=lambda r: seen.append(r.msgid))
    assert [r.msgid for r in reviews] == [p.msgid for p in res.postings]
    assert sorted(seen) == sorted(p.msgid for p in res.postings)
    assert all(r.posting is p for r, p in zip(reviews, res.postings))


def test_chunks_cover_every_index_once_and_keep_groups_whole() -> None:
    weights = [1, 50, 1, 1, 7, 1, 1, 30, 2, 2]
    groups = ["a", "b", "a", "c", "c", "d", "e", "f", "a", "g"]
    parts = pool.chunks(weights, groups, 2)
    flat = sorted(i for p in parts for i in p)
    assert flat == list(range(len(weights)))
    where = {i: k for k, p in enumerate(parts) for i in p}
    for g in set(groups):
        assert len({where[i] for i, x in enumerate(groups) if x == g}) == 1, g
    assert all(p == sorted(p) for p in parts)  # a part is judged in input order
    assert len(parts) > 2  # several chunks per worker
    many = pool.chunks([1] * 100, [str(i // 3) for i in range(100)], 2)
    assert all(len(p) <= pool.CHUNK_MAX + 2 for p in many)  # a chunk ends with the group that fills it


def test_the_heaviest_parts_start_first() -> None:
    weights = [1] * 20 + [500] * 5 + [1] * 20 + [90] * 3
    groups = [f"lone{i}" for i in range(20)] + ["long"] * 5 + [f"lone{i}" for i in range(20, 40)] + ["late"] * 3
    parts = pool.chunks(weights, groups, 2)
    load = [sum(weights[i] for i in p) for p in parts]
    assert load == sorted(load, reverse=True)  # longest processing time first
    assert set(range(20, 25)) <= set(parts[0]) and {45, 46, 47} <= set(parts[1])  # the two series first
    assert sorted(i for p in parts for i in p) == list(range(len(weights)))
    one = pool.chunks(weights, groups, 1)  # in-process: input order
    assert [i for p in one for i in p] == list(range(len(weights)))


def test_parts_judged_in_any_order_give_the_serial_reviews(
        throughput_inputs: dict[str, Path], serial_uncached: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What a worker judged before a part (another series, nothing) changes no review: the parts in
    reverse order, and every group its own part in reverse order, give the serial JSON. (Within a
    group the order is the input's: a series' earlier patch judged after a later one would find
    its run already made for the later one, with the lifetime pairs that one asked for.)"""
    chunks = pool.chunks

    def reversed_parts(weights: list[int], groups: list[object], jobs: int) -> list[list[int]]:
        return list(reversed(chunks(weights, groups, jobs)))

    def groups_reversed(weights: list[int], groups: list[object], jobs: int) -> list[list[int]]:
        members: dict[object, list[int]] = {}
        for i, g in enumerate(groups):
            members.setdefault(g, []).append(i)
        return list(reversed(members.values()))

    for how in (reversed_parts, groups_reversed):
        monkeypatch.setattr(pool, "chunks", how)
        for name in ("v2", "2023-slice"):
            assert review_json(throughput_inputs[name], cache=False, jobs=2) == serial_uncached[name], (how, name)


def _square_or_fail(data: list[int], part: list[int]) -> list[int]:
    if any(data[i] < 0 for i in part):
        raise ValueError("negative input")
    return [data[i] * data[i] + os.getpid() * 0 for i in part]


def test_workers_return_in_order_and_raise_like_serial() -> None:
    data = list(range(40))
    parts = [list(range(i, min(i + 3, 40))) for i in range(0, 40, 3)]
    assert pool.run(_square_or_fail, data, parts, 2) == [x * x for x in data]
    assert pool.run(_square_or_fail, data, parts, 1) == [x * x for x in data]
    with pytest.raises(ValueError, match="negative input"):
        pool.run(_square_or_fail, data[:-1] + [-1], parts, 2)


def test_tiny_inputs_stay_in_process() -> None:
    assert pool.jobs_for(Options(jobs=8), 1) == 1
    assert pool.jobs_for(Options(jobs=1), 500) == 1
    assert pool.jobs_for(Options(jobs=2), 500) == 2
    assert pool.jobs_for(Options(), 500) == min(500, pool.default_jobs())


def test_jobs_option_on_the_command_line(throughput_inputs: dict[str, Path]) -> None:
    path = str(throughput_inputs["v3"])
    one = run_cli("check", "--mbox", path, "--format", "json", "-j", "1", "--no-cache")
    two = run_cli("check", "--mbox", path, "--format", "json", "--jobs", "2", "--no-cache")
    assert one.returncode == two.returncode and one.stdout == two.stdout and one.stdout
    bad = run_cli("check", "--mbox", path, "-j", "0")
    assert bad.returncode == 2 and len(bad.stderr_lines) == 1


def test_a_series_and_the_diffs_in_replies_to_it_share_a_worker() -> None:
    """Every revision of the pte_free_defer series, and every diff posted in a reply inside its
    threads, is judged in the process that holds the series' programs and runs."""
    from bot.judge import Judge
    from tests import corpus

    postings = [p for n in (1, 2, 3) for p in load(str(corpus.thread(n))).postings]
    judge = Judge(Options(cache=False), postings)
    formal = [p for p in postings if not p.is_reply and p.series is not None and p.series.index > 0]
    replies = [p for p in postings if p.is_reply]
    assert {p.series.revision for p in formal} == {1, 2, 3} and replies
    keys = {p.series.key for p in formal}
    assert {judge.share_group(p) for p in formal} == keys
    assert any(judge.base_of(p) for p in replies), "no reply in the threads answers a later patch"
    for p in replies:
        base = judge.base_of(p)
        if base:  # it answers a patch of the series: it runs on that patch's base
            assert judge.share_group(p) == judge.share_group(base[-1]), p.msgid


def test_one_postings_scenarios_side_by_side_give_the_serial_review(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone patch (b4's check --stdin) has its scenarios explored on two processes: the review is
    the one-process review, with the verdict cache and without it, and the cache then holds what
    the workers explored (a second review explores nothing)."""
    import json

    from bot import judge
    from bot.cmodel import models
    from tests import corpus

    def review(**opts: object) -> str:
        res = load(str(corpus.thread(1)))
        p = next(p for p in res.postings if p.subject.startswith("[PATCH 07/12]"))
        return json.dumps([r.to_json() for r in review_postings([p], Options(**opts), context=[p])], sort_keys=True)

    serial = review(cache=False, jobs=1)
    side_by_side: list[int] = []
    run = pool.run

    def spy(task: object, data: object, parts: list[list[int]], jobs: int, *a: object) -> list[object]:
        if task is judge._explore_part:
            side_by_side.append(jobs)
        return run(task, data, parts, jobs, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "run", spy)
    assert review(cache=False, jobs=2) == serial
    assert side_by_side and set(side_by_side) == {2}, side_by_side
    db = str(tmp_path / "verdicts.sqlite")
    assert review(cache_path=db, jobs=2) == serial
    monkeypatch.setattr(models, "run_scenario", lambda *a, **k: pytest.fail("explored again"))
    side_by_side.clear()
    monkeypatch.setattr(judge.cache, "review_keys", lambda postings, *a, **k: [None] * len(postings))
    assert review(cache_path=db, jobs=2) == serial


def test_one_posting_runs_its_scenarios_side_by_side_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "default_jobs", lambda: 2)
    for load_avg, jobs, want in ((0.0, 0, 1), (0.2, 1, 1), (3.0, 2, 2), (0.0, 3, 3)):
        monkeypatch.setattr(os, "getloadavg", lambda load_avg=load_avg: (load_avg, load_avg, load_avg))
        assert pool.idle_jobs(Options(jobs=jobs)) == want, (load_avg, jobs)


def test_judging_raises_the_collector_threshold_and_puts_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from bot import pipeline

    seen: list[int] = []
    real = pool.run

    def run(*a: object, **k: object) -> object:
        seen.append(gc.get_threshold()[0])
        return real(*a, **k)

    monkeypatch.setattr(pool, "run", run)
    before = gc.get_threshold()
    res = load(str(Path(__file__).parent.parent / "examples" / "rcu-head-shared.patch"))
    review_postings(res.postings, Options(cache=False, jobs=1), context=res.postings)
    assert seen == [pipeline.JUDGING_GC_YOUNG] and gc.get_threshold() == before
