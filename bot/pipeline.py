"""mail → series → call sites → model → scenarios → findings: the one data path.

review_postings() is what check, scan and the CI hook call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.findings import Review
from bot.patch import Posting


@dataclass
class Options:
    tree: str | None = None  # kernel tree for full post-images
    budget_states: int = 50_000  # per scenario; the standard scenarios need a few thousand
    budget_seconds: float = 10.0  # per scenario
    review_seconds: float = 60.0  # per posting and model: later scenarios are skipped, with a note
    source: str = ""  # the mbox the postings came from, for replay commands


def review_postings(postings: list[Posting], options: Options | None = None,
                    context: list[Posting] | None = None,
                    on_review: Callable[[Review], None] | None = None) -> list[Review]:
    """Review each posting. `context` holds every posting of the source (the earlier patches of a
    series are the base of a later one); irrelevant postings come back with relevant=False.
    `on_review` sees each review as soon as it is done (scan's progress line)."""
    from bot.judge import Judge  # the judgement stage (sites → model → simulate)

    judge = Judge(options or Options(), context if context is not None else postings)
    reviews = []
    for p in postings:
        reviews.append(judge.review(p))
        if on_review is not None:
            on_review(reviews[-1])
    return reviews
