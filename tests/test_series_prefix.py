"""A series' later patches build on the file as the earlier patches left it, remembered once: the
program of every patch must be the one built from scratch, layer by layer."""

from __future__ import annotations

import pytest

from bot.cmodel import models
from bot.cmodel.models import build_program
from bot.judge import Judge
from bot.mail import load
from bot.options import Options
from tests import corpus


def _builds(n: int) -> list[tuple[str, models.ModelSpec, list]]:
    postings = load(str(corpus.thread(n))).postings
    judge = Judge(Options(cache=False), postings)
    out = []
    for p in postings:
        for spec in judge.models_for(p, judge.start(p)):  # the models the review builds programs of
            layers, _rev = judge.layers_for(p, spec)
            out.append((p.msgid, spec, [q.files for q in layers] + [p.files]))
    return out


@pytest.mark.parametrize("n", [1, 2, 3])
def test_remembered_prefixes_build_the_same_program(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = _builds(n)
    assert any(len(layers) > 2 for _m, _s, layers in builds), "no patch of the thread has earlier patches"
    remembered = models._PrefixStates()
    monkeypatch.setattr(models, "_PREFIXES", remembered)
    cached = [build_program(spec, layers) for _m, spec, layers in builds]
    assert remembered.states, "no prefix was remembered"
    for (msgid, spec, layers), got in zip(builds, cached):
        monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
        fresh = build_program(spec, layers)
        assert got == fresh, f"<{msgid}> on {spec.name}: the program differs from one built from scratch"
        # and again from what is remembered now (every prefix of this series is there)
        monkeypatch.setattr(models, "_PREFIXES", remembered)
        assert build_program(spec, layers) == fresh


def test_a_report_is_counted_once_per_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """What applying the earlier patches reported is in every later build's report, once."""
    builds = [b for b in _builds(1) if len(b[2]) > 2]
    monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
    first = [build_program(spec, layers).report for _m, spec, layers in builds]
    again = [build_program(spec, layers).report for _m, spec, layers in builds]
    assert first == again
    # every earlier layer is accounted for: placed, or outside what a partial reference states
    assert all(r.applied + r.outside + r.appended + len(r.failed) >= len(layers) - 1
               for r, (_m, _s, layers) in zip(first, builds))


def test_a_judge_keeps_few_runs_and_judges_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A judge remembers only its latest model runs (memory stays bounded over a year); what it
    forgets is run again, to the same reviews."""
    from bot import judge
    from tests.throughput import review_json

    path = corpus.thread(1)
    want = review_json(path, cache=False, jobs=1)
    kept: list[int] = []
    remember = judge.Judge._remember

    def counting(self: judge.Judge, key: tuple, mr: judge.ModelRun) -> None:
        remember(self, key, mr)
        kept.append(len(self._runs))

    monkeypatch.setattr(judge, "MAX_RUNS", 2)
    monkeypatch.setattr(judge.Judge, "_remember", counting)
    assert review_json(path, cache=False, jobs=1) == want
    assert kept and max(kept) == 2
