"""`review-bot explore`: run the simulator on a scenario file or a named design, render the result."""

from __future__ import annotations

import difflib
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.findings import trace_steps
from bot.paths import models_dir
from bot.report.table import interleaving_table
from bot.report.textutil import WIDTH, wrap
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


@dataclass
class Bundled:
    kind: str  # "scenario" | "design" | "model scenario"
    name: str  # what `explore NAME` (or `--scenario NAME` for a model scenario) takes
    about: str


def bundled() -> list[Bundled]:
    """Every scenario and design shipped with the package, and the model scenarios a finding replays."""
    from bot.cmodel.models import load_models

    out = []
    for kind, folder in (("scenario", SCENARIOS), ("design", DESIGNS)):
        for p in sorted(folder.glob("*.toml")):
            with p.open("rb") as f:
                out.append(Bundled(kind, p.stem, str(tomllib.load(f).get("title", ""))))
    for spec in load_models():
        out += [Bundled("model scenario", f"{spec.name}/{sc.name}", sc.about) for sc in spec.scenarios]
    return out


_LIST_HEADS = {
    "scenario": "Litmus scenarios (review-bot explore NAME):",
    "design": "Designs the thread weighed (review-bot explore NAME):",
    "model scenario": "Model scenarios, run on a patch's own code "
                      "(review-bot explore MSGID --scenario NAME, or --mbox FILE --msgid ID --scenario NAME):",
}


def render_list(width: int = 100) -> str:
    """`explore --list`: the bundled names, each with its one-line about, grouped by kind."""
    items = bundled()
    out: list[str] = []
    for kind, head in _LIST_HEADS.items():
        group = [b for b in items if b.kind == kind]
        col = min(max(len(b.name) for b in group), 40) + 4  # where the abouts start
        out += ([""] if out else []) + [wrap(head, width=width)]
        for b in group:
            if len(b.name) + 4 > col:  # a long name: its about starts on the next line
                out.append(f"  {b.name}")
                out.append(wrap(b.about, indent=col, width=width))
            else:
                out.append(wrap(b.about, indent=col, width=width, first=f"  {b.name}".ljust(col)))
    return "\n".join(out) + "\n"


def resolve(name: str) -> Path:
    """A scenario file as given, else the bundled scenario or design of that name (a bare name, or
    the models/scenarios/ or models/designs/ path it has in the source tree)."""
    p = Path(name)
    if p.is_file():
        return p
    stem = p.name.removesuffix(".toml")
    where = p.parent.as_posix()
    for folder in (SCENARIOS, DESIGNS):
        if where in (".", f"models/{folder.name}") and (folder / f"{stem}.toml").is_file():
            return folder / f"{stem}.toml"
    names = [b.name for b in bundled() if b.kind != "model scenario"]
    near = difflib.get_close_matches(stem, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(near)}?" if near else "'review-bot explore --list' names them"
    raise ScenarioError(f"{name}: no such file, nor a bundled scenario or design ({hint})")


def run_scenario_file(
    path: str | Path, budget_states: int = 200_000, budget_seconds: float = 10.0, reduce: bool = True,
    started: float | None = None,
) -> tuple[CheckResult, ScenarioMeta]:
    """The scenario explored within its budgets; the time budget counts from `started` (by default
    now): reading and compiling the scenario spend it too."""
    started = time.monotonic() if started is None else started
    sc = load(path)
    model = ScenarioModel(sc)
    return check(model, budget_states, budget_seconds, reduce=reduce, started=started), ScenarioMeta.of(sc)


def table(ce: Counterexample, width: int = WIDTH, indent: int = 2) -> list[str]:
    """The counterexample as check's interleaving table: a column per context, wrapped to `width`."""
    return interleaving_table(trace_steps(ce), width, indent)


def render_text(result: CheckResult, meta: ScenarioMeta, width: int = 100) -> str:
    out = [wrap(f"{meta.name}: {meta.title}", width=width, indent=2, first="")]
    if meta.description:
        out += ["", wrap(meta.description.lstrip(". "), indent=2, width=width)]
    red = f", reduction pruned {result.pruned} actions" if result.reduced else ""
    out += ["", wrap(f"verdict: {result.verdict} ({result.states} states, {result.transitions} transitions, "
                     f"{result.seconds:.3f} s{red})", indent=2, width=width, first="")]
    if result.verdict == "inconclusive":
        out.append(wrap(f"not a proof: {result.reason}", indent=4, width=width, first="  "))
    expected = (
        "as expected"
        if meta.matches(result)
        else (f"EXPECTED {meta.expect_verdict} {sorted(meta.expect_violations)}")
    )
    out.append(f"expectation: {expected}")
    if meta.hazards:
        out.append(wrap(f"hazards: {', '.join(meta.hazards)}", indent=2, width=width, first=""))
    if meta.costs:
        out.append(wrap(f"costs (declared by the design, not proved): {', '.join(meta.costs)}", indent=2,
                        width=width, first=""))
    for ce in result.counterexamples:
        v = ce.violation
        attrs = ", ".join(f"{k}={val}" for k, val in v.attrs)
        out += ["", wrap(f"violation {v.kind}: {v.detail}", indent=2, width=width, first=""),
                wrap(f"[{attrs}]", indent=3, width=width, first="  "), "", *table(ce, width)]
    return "\n".join(out) + "\n"
