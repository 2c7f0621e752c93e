"""`review-bot explore`: run the simulator on a scenario file or a named design, render the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.paths import models_dir
from bot.sim.core import CheckResult, Counterexample, check
from bot.sim.litmus import ScenarioModel
from bot.sim.scenario import Scenario, ScenarioError, load

DESIGNS = models_dir() / "designs"
SCENARIOS = models_dir() / "scenarios"


@dataclass
class ScenarioMeta:
    """What a scenario file says about itself, for reports and for checking its expectation."""

    name: str
    title: str
    description: str
    path: str
    expect_verdict: str
    expect_violations: list[str] = field(default_factory=list)
    hazards: list[str] = field(default_factory=list)
    costs: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, sc: Scenario) -> ScenarioMeta:
        return cls(
            sc.name,
            sc.title,
            sc.description,
            sc.path,
            sc.expected_verdict,
            sc.expected_violations,
            sc.hazards,
            sc.costs,
        )

    def matches(self, result: CheckResult) -> bool:
        return result.verdict == self.expect_verdict and sorted(result.kinds) == sorted(
            self.expect_violations
        )


def design_path(name: str) -> Path:
    """models/designs/NAME.toml; ScenarioError when there is no such design."""
    p = DESIGNS / f"{name}.toml"
    if not p.is_file():
        known = ", ".join(sorted(x.stem for x in DESIGNS.glob("*.toml")))
        raise ScenarioError(f"no design {name!r} (known: {known})")
    return p


def run_scenario_file(
    path: str | Path, budget_states: int = 200_000, budget_seconds: float = 10.0, reduce: bool = True
) -> tuple[CheckResult, ScenarioMeta]:
    sc = load(path)
    return check(ScenarioModel(sc), budget_states, budget_seconds, reduce=reduce), ScenarioMeta.of(sc)


def _table(ce: Counterexample) -> list[str]:
    cols: list[str] = []
    for e in ce.trace:
        if e.ctx not in cols:
            cols.append(e.ctx)
    width = {c: max([len(c)] + [len(e.op) for e in ce.trace if e.ctx == c]) for c in cols}
    head = "  #  | " + " | ".join(c.ljust(width[c]) for c in cols)
    lines = [head, "  " + "-" * (len(head) - 2)]
    for n, e in enumerate(ce.trace, 1):
        cells = [(e.op if c == e.ctx else "").ljust(width[c]) for c in cols]
        lines.append(f"  {n:>2} | " + " | ".join(cells).rstrip())
    return lines


def render_text(result: CheckResult, meta: ScenarioMeta) -> str:
    out = [f"{meta.name}: {meta.title}"]
    if meta.description:
        out += ["", *("  " + ln for ln in meta.description.splitlines())]
    red = f", reduction pruned {result.pruned} actions" if result.reduced else ""
    out += [
        "",
        f"verdict: {result.verdict} ({result.states} states, {result.transitions} transitions, "
        f"{result.seconds:.3f} s{red})",
    ]
    if result.verdict == "inconclusive":
        out.append(f"  not a proof: {result.reason}")
    expected = (
        "as expected"
        if meta.matches(result)
        else (f"EXPECTED {meta.expect_verdict} {sorted(meta.expect_violations)}")
    )
    out.append(f"expectation: {expected}")
    if meta.hazards:
        out.append(f"hazards: {', '.join(meta.hazards)}")
    if meta.costs:
        out.append(f"costs (declared by the design, not proved): {', '.join(meta.costs)}")
    for ce in result.counterexamples:
        v = ce.violation
        attrs = ", ".join(f"{k}={val}" for k, val in v.attrs)
        out += ["", f"violation {v.kind}: {v.detail}", f"  [{attrs}]", *_table(ce)]
    return "\n".join(out) + "\n"
