"""mail → series → call sites → model → scenarios → findings → report: the one data path.

The mail stage (bot.mail: messages → postings, each with its series position) runs before this
and the report stage (bot.report) after it; review_posting() composes the judgement stages of one
posting in order. review_postings() is what check, scan, watch and the CI hook call.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.findings import Review
from bot.judge import Judge  # the judgement stage: call sites → model → scenarios → findings
from bot.options import Options
from bot.patch import Posting

__all__ = ["Options", "review_posting", "review_postings"]


def review_postings(postings: list[Posting], options: Options | None = None,
                    context: list[Posting] | None = None,
                    on_review: Callable[[Review], None] | None = None) -> list[Review]:
    """Review each posting. `context` holds every posting of the source (the earlier patches of a
    series are the base of a later one); irrelevant postings come back with relevant=False.
    `on_review` sees each review as soon as it is done (scan's progress line)."""
    judge = Judge(options or Options(), context if context is not None else postings)  # the series
    reviews = []
    for p in postings:
        reviews.append(review_posting(judge, p))
        if on_review is not None:
            on_review(reviews[-1])
    return reviews


def review_posting(judge: Judge, p: Posting) -> Review:
    """One posting through the stages. The judge holds the series context (each posting's base is
    the earlier patches of its series) and caches model runs shared between postings."""
    review = judge.start(p)  # series: the posting's place in its series
    sitemap, site_note = judge.sites(p, review)  # call sites, and the caller-side pattern rules
    outcomes = [judge.judge_model(p, spec, review)  # scenarios on the base and with the patch → findings
                for spec in judge.models_for(p, review)]  # model: those covering the changed files
    return judge.finish(p, review, sitemap, site_note, outcomes)  # verdict, findings in report order
