"""mail → series → call sites → model → scenarios → findings: the one data path.

review_postings() is what check, scan and the CI hook call.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Review
from bot.patch import Posting


@dataclass
class Options:
    tree: str | None = None  # kernel tree for full post-images
    budget_states: int = 200_000
    budget_seconds: float = 10.0


def review_postings(postings: list[Posting], options: Options | None = None) -> list[Review]:
    """Review each posting; irrelevant ones come back with relevant=False and no findings."""
    from bot.judge import review_posting  # the judgement stage (sites → model → simulate)

    opts = options or Options()
    return [review_posting(p, postings, opts) for p in postings]
