"""A design's hazards are what the classifier makes of its violations, not just what the file says."""

from __future__ import annotations

import pytest

from bot.classify import hazard_class, hazard_of
from bot.explore import run_scenario_file
from bot.paths import models_dir

DESIGNS = sorted((models_dir() / "designs").glob("*.toml"))


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.stem)
def test_design_hazards_follow_from_its_violations(path) -> None:
    result, meta = run_scenario_file(path)
    found = {h for c in result.counterexamples if (h := hazard_of(c.violation))}
    must = {h for h in meta.hazards if hazard_class(h) == "correctness"}
    assert must <= found, f"{path.stem}: declares {sorted(must)}, the classifier found {sorted(found)}"
    assert found <= set(meta.hazards) | set(meta.costs), f"{path.stem}: undeclared {sorted(found)}"


def test_the_thread_designs_are_there() -> None:
    names = {p.stem for p in DESIGNS}
    assert {"v1-mmgrab-mmdrop-async", "free-mm-by-call-rcu", "synchronize-rcu-in-mmdrop",
            "rcu-barrier-then-call-rcu", "hh-bits-global-lock", "typesafe-by-rcu-list",
            "page-active-no-reuse"} <= names
