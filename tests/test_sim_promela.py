"""Cross-check verdicts with spin on exported scenarios (skipped only when spin is not installed)."""

import shutil

import pytest

from bot.explore import DESIGNS, SCENARIOS
from bot.sim.core import check
from bot.sim.litmus import ScenarioModel
from bot.sim.promela import export, run_spin
from bot.sim.scenario import load

CASES = [
    SCENARIOS / "callbacks-unordered-mm-uaf.toml",  # unsafe
    SCENARIOS / "spin-lock-vs-callback-deadlock.toml",  # unsafe
    DESIGNS / "v1-mmgrab-mmdrop-async.toml",  # unsafe
    SCENARIOS / "mmgrab-mmdrop-async.toml",  # safe
    SCENARIOS / "spin-lock-bh-vs-callback.toml",  # safe
    DESIGNS / "page-active-no-reuse.toml",  # safe
]


def test_export_is_promela_text() -> None:
    text = export(load(CASES[0]))
    assert "proctype gp()" in text and "timeout ->" in text and "/* use_after_free */" in text


@pytest.mark.skipif(shutil.which("spin") is None, reason="spin is not installed (apt-get install spin)")
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_spin_agrees(path, tmp_path) -> None:
    sc = load(path)
    ours = check(ScenarioModel(sc))
    spin = run_spin(sc, str(tmp_path))
    assert ours.verdict == sc.expected_verdict
    assert (spin["errors"] > 0) == (ours.verdict == "unsafe")
