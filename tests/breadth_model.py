"""A throwaway model for effect tests: C code, a layout and C scenarios in a temporary directory, run
through the same loader, binder and checker as the shipped models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.classify import hazard_of
from bot.cmodel import models
from bot.cmodel.layout import read_layouts
from bot.paths import models_dir

LAYOUT = """
[struct."struct obj"]
o_lock = [0, "spinlock_t"]
o_list = [16, "struct list_head"]
o_rcu = [32, "struct rcu_head"]
o_val = [48, "int"]
o_ref = [52, "atomic_t"]
o_next = [56, "struct obj *"]
o_bits = [64, "unsigned long"]
o_long = [72, "atomic_long_t"]
[struct."struct holder"]
h_obj = [0, "struct obj *"]
h_list = [8, "struct list_head"]
h_lock = [24, "spinlock_t"]
h_mutex = [32, "struct mutex"]
[sizes]
"struct obj" = 128
"struct holder" = 64
"atomic_long_t" = 8
"""


class Ran:
    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results

    def verdict(self, name: str) -> str:
        return self.results[name][0].verdict

    def kinds(self, name: str) -> set[str]:
        return {cx.violation.kind for cx in self.results[name][0].counterexamples}

    def hazards(self, name: str) -> set[str]:
        return {h for cx in self.results[name][0].counterexamples if (h := hazard_of(cx.violation))}

    def details(self, name: str) -> list[str]:
        return [cx.violation.detail for cx in self.results[name][0].counterexamples]

    def obs(self, name: str) -> Any:
        return self.results[name][1].obs


def run_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, scenarios: str,
              consts: str = "") -> Ran:
    d = tmp_path / "tmodel"
    d.mkdir()
    (d / "t.c").write_text(code)
    (d / "layout.toml").write_text(LAYOUT)
    (d / "model.toml").write_text(f'name = "t"\nfiles = ["t.c"]\n[references]\n"t.c" = "t.c"\n[consts]\n{consts}\n')
    (d / "scenarios.toml").write_text(scenarios)
    monkeypatch.setattr(models, "load_layout",
                        lambda _name="": read_layouts(models_dir() / "common" / "layout.toml", d / "layout.toml"))
    spec = models.load_model(d / "model.toml")
    bound = models.build_program(spec, [])
    out = {sc.name: models.run_scenario(spec, bound, sc, 200_000, 20.0) for sc in spec.scenarios}
    for name, (res, m) in out.items():  # a test model the interpreter cannot read proves nothing
        assert not m.obs.unresolved and res.verdict != "inconclusive", (name, m.obs.unresolved, res.reason)
    return Ran(out)


def scenario(name: str, setup: str, *threads: str, live: str = "[]") -> str:
    body = f'[[scenario]]\nname = "{name}"\nexpect = "safe"\nsetup = """\n{setup}\n"""\nlive = {live}\n'
    for i, code in enumerate(threads):
        body += f'[[scenario.thread]]\nname = "CPU{i}"\ncode = """{code}"""\n'
    return body
