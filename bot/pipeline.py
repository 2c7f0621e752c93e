"""mail → series → call sites → model → scenarios → findings: the one data path.

review_postings() is what check, scan and the CI hook call.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.findings import Review
from bot.judge import Judge  # the judgement stage: call sites → model → scenarios → findings
from bot.options import Options
from bot.patch import Posting

__all__ = ["Options", "review_postings"]


def review_postings(postings: list[Posting], options: Options | None = None,
                    context: list[Posting] | None = None,
                    on_review: Callable[[Review], None] | None = None) -> list[Review]:
    """Review each posting. `context` holds every posting of the source (the earlier patches of a
    series are the base of a later one); irrelevant postings come back with relevant=False.
    `on_review` sees each review as soon as it is done (scan's progress line)."""
    judge = Judge(options or Options(), context if context is not None else postings)
    reviews = []
    for p in postings:
        reviews.append(judge.review(p))
        if on_review is not None:
            on_review(reviews[-1])
    return reviews
