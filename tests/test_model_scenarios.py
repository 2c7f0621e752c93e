"""The suite is each model's scenarios.toml: every scenario states its verdict on the model's own
reference code and on the model's known-bad source, and both must hold."""

from __future__ import annotations

import pytest

from bot.classify import hazard_of
from bot.cmodel.bind import reference_lines
from bot.cmodel.cparse import parse_unit
from bot.cmodel.models import ModelSpec, build_program, load_models, run_scenario, scenario_runnable

MODELS = load_models()


def _verdicts(spec: ModelSpec, known_bad: bool) -> tuple[dict[str, str], set[str]]:
    bound = build_program(spec, [])
    if known_bad:
        assert spec.known_bad is not None
        text = (spec.directory / spec.known_bad.source).read_text()
        rel = f"models/{spec.directory.name}/{spec.known_bad.source}"
        bound.program.add_unit(parse_unit(text), reference_lines(rel, text))
    verdicts: dict[str, str] = {}
    hazards: set[str] = set()
    for sc in spec.scenarios:
        if not scenario_runnable(sc, bound.program):
            verdicts[sc.name] = "not_run"
            continue
        res, m = run_scenario(spec, bound, sc, 50_000, 10.0)
        assert not m.obs.unknown and not m.obs.unresolved, (sc.name, m.obs.unknown, m.obs.unresolved)
        verdicts[sc.name] = res.verdict
        hazards |= {h for cx in res.counterexamples if (h := hazard_of(cx.violation))}
    return verdicts, hazards


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: s.directory.name)
def test_reference_meets_each_scenario(spec: ModelSpec) -> None:
    verdicts, _ = _verdicts(spec, known_bad=False)
    assert verdicts == {sc.name: sc.expect for sc in spec.scenarios}


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: s.directory.name)
def test_known_bad_fails(spec: ModelSpec) -> None:
    assert spec.known_bad is not None, f"{spec.name} has no known-bad fixture"
    verdicts, hazards = _verdicts(spec, known_bad=True)
    assert verdicts == {sc.name: sc.expect_known_bad for sc in spec.scenarios}
    assert "unsafe" in verdicts.values()
    assert set(spec.known_bad.hazards) <= hazards, hazards
