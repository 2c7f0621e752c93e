"""What a review may spend and where it reads from: the options every stage of the pipeline shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.commands import Origin


@dataclass
class Options:
    tree: str | None = None  # kernel tree for full post-images
    budget_states: int = 50_000  # per scenario; the standard scenarios need a few thousand
    budget_seconds: float = 10.0  # per scenario
    review_seconds: float = 60.0  # per posting and model: later scenarios are skipped, with a note
    origin: Origin = field(default_factory=Origin)  # where the postings came from, for replay commands
    jobs: int = 0  # worker processes for judgement; 0: one per core
    cache: bool = True  # look verdicts up in (and store them to) the verdict cache
    cache_path: str = ""  # the cache's sqlite file; "": under the user's cache directory
