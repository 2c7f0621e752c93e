"""`review-bot explore MSGID|--mbox F --msgid ID|--git R --scenario MODEL/NAME`: re-run one scenario.

The review's own judge decides what runs: the models it picks for the posting, the patch on top of
its series base, the kernel tree's file or the reference model for the rest, and the scenario run
with the review's budgets and its reading of the result (what proves nothing says why). Every
counterexample is printed as a numbered table with a column per context; the costs the run
observed are listed, so a cost note replays too.
"""

from __future__ import annotations

from bot.classify import hazard_of
from bot.cmodel.models import find_model, lifetime_scenarios, load_models, scenario_runnable
from bot.explore import table
from bot.judge import Judge
from bot.options import Options
from bot.patch import Posting
from bot.report.textutil import visible, wrap


class ReplayError(Exception):
    pass


def replay(postings: list[Posting], msgid: str, scenario: str, opts: Options,
           width: int = 100) -> tuple[str, bool]:
    p = next((q for q in postings if q.msgid == msgid), None)
    if p is None:
        raise ReplayError(f"no patch posting with Message-ID {msgid}")
    model_name, _, sc_name = scenario.partition("/")
    spec = find_model(model_name)
    if spec is None:
        raise ReplayError(f"unknown model {model_name!r} (have {', '.join(s.name for s in load_models())})")
    sc = next((s for s in spec.scenarios + lifetime_scenarios(spec) if s.name == sc_name), None)
    if sc is None:
        raise ReplayError(f"model {model_name} has no scenario {sc_name!r}")
    judge = Judge(opts, postings)  # the review's own choice of models, base layers and tree revision
    chosen = [s.name for s in judge.models_for(p, judge.start(p))]
    if spec.name not in chosen:
        raise ReplayError(f"the review does not judge this posting with {spec.name} (it uses "
                          f"{', '.join(chosen) or 'no model'})")
    base, rev = judge.layers_for(p, spec)
    try:
        bound = judge.bind(spec, base + [p], rev)
    except RecursionError:
        raise ReplayError("the patch's code is nested too deeply to model") from None
    if not scenario_runnable(sc, bound.program):
        raise ReplayError(f"the patch does not define {', '.join(sc.needs)}, which {sc_name} needs")
    result, m, failure = judge.explore(spec, bound, sc)
    if result is None or m is None:
        raise ReplayError(f"{spec.name}/{sc.name} does not run: {failure.reason if failure else 'no result'}")
    code = f"on the tree at {rev}" if rev else f"on top of {len(base)} earlier patch(es) of its series"
    out = [wrap(f"{spec.name}/{sc.name}: {sc.about}", indent=2, width=width, first=""),
           wrap(f"code: {p.subject} {code}", indent=2, width=width, first=""),
           f"verdict: {result.verdict} ({result.states} states, {result.seconds:.3f} s)"]
    if result.reason:
        out.append(wrap(result.reason, indent=2, width=width))
    if failure is not None:
        out.append(wrap(f"not judged: {failure.reason}", indent=2, width=width, first=""))
    for cost, where in sorted(m.obs.costs.items()):
        out.append(f"cost: {cost} at {where or 'the end of the scenario'}")
    for cx in result.counterexamples:
        out += ["", wrap(f"{hazard_of(cx.violation) or cx.violation.kind}: {cx.violation.detail}", indent=2,
                         width=width, first=""), "", *table(cx, width)]
    return visible("\n".join(out) + "\n"), result.verdict == "unsafe" and failure is None
