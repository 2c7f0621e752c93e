"""rules/families.toml, rules/opaque.toml and rules/constants.toml are checked on load like every
data file: a typo, a part a name does not use, a name defined twice, are one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cmodel import models
from bot.cmodel.primitives import load_all, primitives
from bot.datafile import DataError
from bot.paths import models_dir, rules_dir


def rules_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(rules_dir(), d)
    text = (d / file).read_text()
    assert old in text, old
    (d / file).write_text(text.replace(old, new, 1))
    return d


@pytest.mark.parametrize("file,old,new,want", [
    ("families.toml", 'returns = "none"', 'retruns = "none"', "unknown key 'retruns' (did you mean 'returns'?)"),
    ("families.toml", 'name = "{width}_{op}"', 'name = "{width}_{opp}"', "uses {opp}, which [parts] does not give"),
    ("families.toml", '{ value = "inc", op = "add", ptr_arg = 0, const = 1, why = "increments" },',
     '{ value = "inc", op = "ad", ptr_arg = 0, const = 1, why = "increments" },',
     "key 'op' must be one of add, sub, xor, and, or, andnot, store, load, not 'ad'"),
    ("primitives.toml", "[call_rcu]", "[atomic_inc]\neffect = \"nop\"\nwhy = \"again\"\n\n[call_rcu]",
     "primitives.toml: say it in one place"),
    ("opaque.toml", 'calls = ["INIT_WORK"]', 'calls = ["INIT_WORK", "call_rcu"]', "'call_rcu' is already defined"),
    ("opaque.toml", 'why = "printing', 'wy = "printing', "unknown key 'wy' (did you mean 'why'?)"),
])
def test_a_broken_rule_is_a_one_line_error(tmp_path: Path, file: str, old: str, new: str, want: str) -> None:
    d = rules_copy(tmp_path, file, old, new)
    with pytest.raises(DataError) as e:
        load_all(d)
    msg = str(e.value)
    assert "\n" not in msg and want in msg, msg


def test_a_model_may_not_restate_a_kernel_constant(tmp_path: Path) -> None:
    d = tmp_path / "s390"
    shutil.copytree(models_dir() / "s390", d)
    text = (d / "model.toml").read_text()
    (d / "model.toml").write_text(text.replace("[consts]\n", "[consts]\nGFP_KERNEL = 0\n", 1))
    with pytest.raises(DataError, match=r"consts.GFP_KERNEL: already in rules/constants.toml"):
        models.load_model(d / "model.toml")


def test_opaque_calls_carry_their_reason() -> None:
    prims = primitives()
    assert prims["pmd_none"].effect == "opaque" and "entry" in prims["pmd_none"].why
    assert prims["flush_tlb_mm"].effect == "opaque"
