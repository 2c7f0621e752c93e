"""mail → series → call sites → model → scenarios → findings → report: the one data path.

The mail stage (bot.mail: messages → postings, each with its series position) runs before this
and the report stage (bot.report) after it; review_posting() composes the judgement stages of one
posting in order. review_postings() is what check, scan, watch and the CI hook call: each posting's
review is looked up in the verdict cache first (bot/cache.py), the others are judged across cores
(bot/pool.py) and stored.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot import cache, compiled, pool
from bot.findings import Review
from bot.options import Options
from bot.patch import Posting
from bot.proposal import proposal_note

if TYPE_CHECKING:
    from bot.judge import Judge

__all__ = ["Options", "review_posting", "review_postings"]

log = logging.getLogger(__name__)


def review_postings(postings: list[Posting], options: Options | None = None,
                    context: list[Posting] | None = None,
                    on_review: Callable[[Review], None] | None = None) -> list[Review]:
    """Review each posting. `context` holds every posting of the source (the earlier patches of a
    series are the base of a later one); irrelevant postings come back with relevant=False.
    `on_review` sees each review as soon as it is done (scan's progress line)."""
    options = options or Options()
    context = context if context is not None else postings
    store = cache.for_options(options)
    if store is not None:  # what rules/ and models/ load into is kept beside the verdicts
        compiled.use(store.path.with_suffix(".compiled"), store.env)
    keys: list[str | None] = [None] * len(postings)
    reviews: list[Review | None] = [None] * len(postings)
    # A verbose run shows the judge's decisions, so it judges (each scenario may still be a lookup).
    if store is not None and not log.isEnabledFor(logging.INFO):
        keys = cache.review_keys(postings, context, options)
        reviews = store.get_many("review", keys)
    todo = [i for i, r in enumerate(reviews) if r is None]
    if on_review is not None:
        for r in reviews:
            if r is not None:
                on_review(r)
    judged = _judge([postings[i] for i in todo], context, options, on_review) if todo else []
    for i, r in zip(todo, judged):
        reviews[i] = r
    if store is not None and any(keys):
        store.put_many("review", [(keys[i], reviews[i]) for i in todo if keys[i] is not None])
    out: list[Review] = []
    for p, r in zip(postings, reviews):
        assert r is not None
        r.posting = p
        out.append(r)
    return out


def review_posting(judge: Judge, p: Posting) -> Review:
    """One posting through the stages. The judge holds the series context (each posting's base is
    the earlier patches of its series) and caches model runs shared between postings."""
    review = judge.start(p)  # series: the posting's place in its series
    p, answered = judge.as_proposal(p)  # a reply's pasted functions: a diff on top of what it answers
    if answered is not None:
        review.notes.append(proposal_note(p, answered))
    sitemap, site_note = judge.sites(p, review)  # call sites, and the caller-side pattern rules
    outcomes = [judge.judge_model(p, spec, review)  # scenarios on the base and with the patch → findings
                for spec in judge.models_for(p, review)]  # model: those covering the changed files
    return judge.finish(p, review, sitemap, site_note, outcomes)  # verdict, findings in report order


def _judge(postings: list[Posting], context: list[Posting], options: Options,
           on_review: Callable[[Review], None] | None) -> list[Review]:
    """review_posting() over postings, across cores; the reviews come back without their posting.
    The postings of one series (every revision, and diffs in replies to it) are judged in one
    process: they share their bases' programs and runs (Judge.share_group); the heaviest groups
    start first (bot.pool.chunks)."""
    from bot.judge import Judge  # imported here once, before the workers fork (and not at all on a hit)

    compiled.load_all()  # rules/ and models/, loaded once for every worker

    jobs = pool.jobs_for(options, len(postings))
    weights = _weights(postings) if jobs > 1 else [1] * len(postings)
    # In-process, every posting is its own part (progress comes after each); across workers, a
    # group shares a worker
    grouping = Judge(options, context) if jobs > 1 else None
    groups = [grouping.share_group(p) if grouping else str(i) for i, p in enumerate(postings)]
    parts = pool.chunks(weights, groups, jobs)
    # One posting (a b4 hook's, a CI job's) on a machine with cores to spare: its scenarios are
    # what runs side by side instead
    scenario_jobs = pool.idle_jobs(options) if jobs == 1 and len(postings) == 1 else 1
    threshold = gc.get_threshold()
    gc.set_threshold(max(JUDGING_GC_YOUNG, threshold[0]), *threshold[1:])  # the workers inherit it at fork
    try:
        return pool.run(_review_part, (postings, context, options, scenario_jobs), parts, jobs, on_review)
    finally:
        gc.set_threshold(*threshold)
        _JUDGE.clear()  # the serial path ran in this process: drop what its judge holds


# Judging makes and keeps many objects that hold no cycle (programs, machines, states, findings):
# at the default young threshold the collector walks them again every few thousand allocations,
# for the few cycles a review leaves (freed when it next runs, a bounded number of objects later).
JUDGING_GC_YOUNG = 500_000


# What judging a posting costs, roughly, for the pool's balance: measured on the 2023 year, a posting
# no model covers takes a third of a millisecond; one that models cover runs scenarios on each of
# them, tens to hundreds of milliseconds, more than in proportion to their number (variants, bases).
MODELED_WEIGHT = 30


def _weights(postings: list[Posting]) -> list[int]:
    from bot.cmodel.models import models_for

    models: dict[frozenset[str], int] = {}  # a year's postings change a third as many sets of files
    out = []
    for p in postings:
        paths = frozenset(fd.path for fd in p.files)
        n = models.get(paths)
        if n is None:
            n = models[paths] = len(models_for(set(paths))) if paths else 0
        out.append(1 + MODELED_WEIGHT * n * n)
    return out


_JUDGE: dict[int, Judge] = {}  # one judge per process and input: its model runs serve every part


def _review_part(data: tuple[list[Posting], list[Posting], Options, int], part: list[int]) -> list[Review]:
    from bot.judge import Judge

    postings, context, options, scenario_jobs = data
    judge = _JUDGE.get(id(data))
    if judge is None or judge.context is not context:
        _JUDGE.clear()
        judge = _JUDGE[id(data)] = Judge(options, context)
        judge.scenario_jobs = scenario_jobs
    return [cache.detach(review_posting(judge, postings[i])) for i in part]
