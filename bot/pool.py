"""Judgement of independent postings across cores: a pool of forked worker processes.

The workers are forked after the input is loaded, so each one already holds every posting (nothing
is sent to them but lists of indices); each returns its reviews without the posting, and the caller
puts every result back in input order, so the output is the same as a serial run's. The postings of
one group (a series, every revision) go to the same worker, in input order (their bases are judged
once there), and the heaviest parts start first. A worker is replaced after a number of tasks, which
bounds what its caches hold; below MIN_PARALLEL postings everything runs in-process.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable, Hashable, Sequence
from typing import Any

MIN_PARALLEL = 2  # fewer postings than this are judged in-process: forking costs more than it saves
TASKS_PER_WORKER = 256  # then the worker is replaced, and whatever it cached in memory with it
CHUNKS_PER_JOB = 32  # many chunks per worker balance uneven postings
CHUNK_MAX = 8  # postings in a chunk (unless one series has more): results, and progress, keep coming

_SHARED: Any = None  # what the workers inherit at fork: (task, data)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def jobs_for(options: Any, n: int) -> int:
    """How many processes to use for n postings (1: in-process)."""
    jobs = int(getattr(options, "jobs", 0) or 0) or default_jobs()
    if n < MIN_PARALLEL or jobs <= 1:
        return 1
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(jobs, n))


def idle_jobs(options: Any) -> int:
    """How many processes one posting's scenarios may use: -j N as given, else one. Measured on an
    idle 2-core machine, side-by-side scenarios of one patch cost a quarter more CPU (pool start,
    a cache connection per worker, findings' machines rebuilt) for no shorter wall time, so a
    one-patch hook runs in one process unless asked."""
    jobs = int(getattr(options, "jobs", 0) or 0)
    return jobs if jobs > 1 and jobs_for(options, sys.maxsize) > 1 else 1


def chunks(weights: Sequence[int], groups: Sequence[Hashable], jobs: int) -> list[list[int]]:
    """Indices in parts of about equal weight (at most CHUNK_MAX postings, unless one group has
    more), each in input order, a group never split. Across workers (jobs > 1) the heaviest parts
    come first (longest processing time first; equal weights keep input order), so that no long
    part is left to run alone at the end."""
    members: dict[Hashable, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    target = max(1, sum(weights) // max(1, jobs * CHUNKS_PER_JOB))
    out: list[list[int]] = []
    cur: list[int] = []
    for m in members.values():
        cur += m
        if _weight(weights, cur) >= target or len(cur) >= CHUNK_MAX:
            out.append(sorted(cur))
            cur = []
    if cur:
        out.append(sorted(cur))
    if jobs > 1:
        out.sort(key=lambda part: -_weight(weights, part))  # stable: ties keep input order
    return out


def _weight(weights: Sequence[int], part: list[int]) -> int:
    return sum(weights[i] for i in part)


def run(task: Callable[[Any, list[int]], list[Any]], data: Any, parts: list[list[int]], jobs: int,
        on_result: Callable[[Any], None] | None = None) -> list[Any]:
    """task(data, indices) → one result per index, for every part; results in index order
    (on_result sees each as it arrives).

    data reaches the workers by fork, never by pickling; only the results are pickled back."""
    n = sum(len(p) for p in parts)
    out: list[Any] = [None] * n

    def place(part: list[int], results: list[Any]) -> None:
        for i, r in zip(part, results):
            out[i] = r
            if on_result is not None:
                on_result(r)

    if jobs <= 1 or len(parts) <= 1:
        for part in parts:
            place(part, task(data, part))
        return out
    import multiprocessing

    global _SHARED
    _SHARED = (task, data)
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(jobs, len(parts)), initializer=_worker_init, maxtasksperchild=TASKS_PER_WORKER) as pool:
            for k, results in pool.imap_unordered(_run_part, list(enumerate(parts))):
                place(parts[k], results)
    finally:
        _SHARED = None
    return out


def _worker_init() -> None:
    # ^C reaches the whole process group: the parent alone answers it (and ends the pool); the
    # parent's own SIGTERM handling is not the worker's, which just ends when the pool ends it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # What the worker inherits (the postings, rules, models) is never garbage here: the collector
    # leaves it alone, so its passes are short and never write to (copy) the parent's pages
    gc.freeze()


def _run_part(job: tuple[int, list[int]]) -> tuple[int, list[Any]]:
    task, data = _SHARED
    return job[0], task(data, job[1])
