"""`explore` replays a finding with the review's own judge: the models it picks, the code it binds, the
scenario run and read as the review reads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import mail
from bot.commands import Origin
from bot.options import Options
from bot.pipeline import review_postings
from bot.replay import ReplayError, replay

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rcu-head-shared.patch"


@pytest.fixture(scope="module")
def postings() -> list:
    return list(mail.load(str(EXAMPLE)).postings)


def test_replay_reproduces_the_reviews_finding(postings: list) -> None:
    (review,) = review_postings(postings, Options(origin=Origin("mbox", path=str(EXAMPLE))))
    f = next(f for f in review.findings if f.replay)
    scenario = re.search(r"--scenario (\S+)", f.replay).group(1)  # type: ignore[union-attr]
    out, unsafe = replay(postings, postings[0].msgid, scenario, Options())
    assert unsafe and f.hazard in out and "not judged" not in out, out


def test_replay_refuses_a_model_the_review_does_not_pick(postings: list) -> None:
    # The patch changes powerpc's pgtable-frag.c: no s390 model judges it, so none may replay it.
    with pytest.raises(ReplayError, match=r"does not judge this posting with s390-2k-fragments .*powerpc"):
        replay(postings, postings[0].msgid, "s390-2k-fragments/defer-both-halves", Options())
