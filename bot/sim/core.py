"""Model protocol, violations, traces and the breadth-first checker.

A model is: init_states(), actions(state), step(state, action) and at_quiescence(state). States and
actions must be hashable. The checker explores every interleaving breadth-first, so the first trace
found for each violation kind is a shortest one (within the explored, possibly reduced, graph).

Optional reduction hook: a model may define `ample(state, actions) -> actions`, returning a subset
that is a persistent set (partial-order reduction); check(reduce=False) ignores it, which is how
the reduction is measured and cross-checked.
"""

from __future__ import annotations

import gc
import resource
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Protocol


@dataclass(frozen=True)
class Event:
    """One step of a trace, in kernel words."""

    ctx: str  # "CPU0", "softirq@CPU1", "RCU", "kworker", ...
    op: str
    at: str = ""  # "file:line" or "" when the step is the machinery's own


@dataclass(frozen=True)
class Violation:
    """A broken invariant. `kind` names the invariant; attrs carry what classification needs."""

    kind: str
    detail: str
    attrs: tuple[tuple[str, str], ...] = ()

    def attr(self, key: str, default: str = "") -> str:
        for k, v in self.attrs:
            if k == key:
                return v
        return default


@dataclass(frozen=True)
class Step:
    state: Hashable
    events: tuple[Event, ...] = ()
    violations: tuple[Violation, ...] = ()


class Model(Protocol):
    name: str

    def init_states(self) -> Iterable[Hashable]: ...

    def actions(self, state: Hashable) -> Iterable[Hashable]: ...

    def step(self, state: Hashable, action: Hashable) -> Step: ...

    def at_quiescence(self, state: Hashable) -> Iterable[Violation]: ...


@dataclass
class Counterexample:
    violation: Violation
    trace: list[Event]
    schedule: list[Hashable] = field(default_factory=list)  # the actions that lead to it, in order


@dataclass
class CheckResult:
    verdict: str  # "unsafe" | "safe" | "inconclusive"
    counterexamples: list[Counterexample] = field(default_factory=list)
    states: int = 0
    transitions: int = 0
    seconds: float = 0.0
    reason: str = ""  # why inconclusive
    reduced: bool = False  # the model's ample() reduction was used
    pruned: int = 0  # actions the reduction skipped
    explored_all: bool = True  # False when stopped early (budget, or stop_at_first)

    @property
    def kinds(self) -> set[str]:
        return {c.violation.kind for c in self.counterexamples}


# The checker's loop: exploration, budgets, the reduction and counterexample bookkeeping share
# its locals in the hottest loop of the simulator.
MEMORY_BUDGET_MB = 900.0  # resident memory of the whole process, so no run passes 1 GB


class _Budget:
    """The three budgets of one exploration, cheap enough to ask before every transition (a
    transition costs far more than reading the clock): memory at most every 20 ms."""

    def __init__(self, start: float, states: int, seconds: float, memory_mb: float) -> None:
        self.start, self.states, self.seconds, self.memory_mb = start, states, seconds, memory_mb
        self.memory_read = start

    def spent(self, states: int, transitions: int) -> str:
        if states > self.states:
            return f"{states} states"
        now = time.monotonic()
        if now - self.start > self.seconds:
            return f"{self.seconds:g} s"
        if now - self.memory_read > 0.02:
            self.memory_read = now
            if resident_mb() > self.memory_mb:
                return f"{self.memory_mb:g} MB of memory"
        return ""


def resident_mb() -> float:
    """The process's resident set size now (Linux /proc), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_PAGE = resource.getpagesize()


def check(model: Model, budget_states: int = 200_000, budget_seconds: float = 10.0, *, reduce: bool = True,
          stop_at_first: bool = False, budget_memory_mb: float = MEMORY_BUDGET_MB,
          started: float | None = None) -> CheckResult:
    """Explore all interleavings breadth-first; one shortest counterexample per violation.

    Never hangs: past budget_states, budget_seconds or budget_memory_mb (the process's resident
    memory) the verdict is "inconclusive", with what was found and explored so far. reduce uses the model's optional ample(); stop_at_first returns
    "unsafe" at the first violation. started: the time.monotonic() the time budget counts from (by
    default now), so that building the model can spend it too."""
    # The search keeps every state it meets until it ends, tuples that hold no reference cycle: the
    # cyclic collector, run as they pile up, would only walk the growing graph again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _search(model, budget_states, budget_seconds, reduce, stop_at_first, budget_memory_mb, started)
    finally:
        if collecting:
            gc.enable()


def _search(  # noqa: C901
    model: Model,
    budget_states: int,
    budget_seconds: float,
    reduce: bool,
    stop_at_first: bool,
    budget_memory_mb: float,
    started: float | None,
) -> CheckResult:
    start = time.monotonic()
    ample = getattr(model, "ample", None) if reduce else None
    pruned = 0
    parents: dict[Hashable, tuple[Hashable | None, tuple[Event, ...], Hashable]] = {}
    queue: deque[Hashable] = deque()
    for s in model.init_states():
        if s not in parents:
            parents[s] = (None, (), None)
            queue.append(s)
    found: dict[tuple[str, str], Counterexample] = {}
    transitions = 0

    def trace_to(state: Hashable, last: tuple[Event, ...], action: Hashable) -> tuple[list[Event], list[Hashable]]:
        chunks = [last]
        acts = [action] if action is not None else []
        cur = state
        while True:
            parent, events, act = parents[cur]
            if parent is None:
                break
            chunks.append(events)
            acts.append(act)
            cur = parent
        return [e for chunk in reversed(chunks) for e in chunk], acts[::-1]

    def record(v: Violation, state: Hashable, last: tuple[Event, ...], action: Hashable = None) -> None:
        key = (v.kind, v.attr("object"))
        if key not in found:
            trace, schedule = trace_to(state, last, action)
            found[key] = Counterexample(v, trace, schedule)

    budget = _Budget(start if started is None else started, budget_states, budget_seconds, budget_memory_mb)

    def out_of_budget(why: str) -> CheckResult:
        return CheckResult(
            "inconclusive",
            list(found.values()),
            len(parents),
            transitions,
            time.monotonic() - start,
            f"budget exhausted after {why} ({len(parents)} states, {transitions} transitions, "
            f"{len(queue)} states still queued)",
            ample is not None,
            pruned,
            False,
        )

    while queue:
        if stop_at_first and found:
            break
        state = queue.popleft()
        acts = list(model.actions(state))
        if ample is not None and len(acts) > 1:
            kept = ample(state, acts)
            pruned += len(acts) - len(kept)
            acts = kept
        if not acts:
            for v in model.at_quiescence(state):
                record(v, state, ())
            continue
        for a in acts:
            # Checked per successor, not per state: one state of a wide model has thousands.
            why = budget.spent(len(parents), transitions)
            if why:
                queue.appendleft(state)  # not fully expanded
                return out_of_budget(why)
            st = model.step(state, a)
            transitions += 1
            if st.violations:
                for v in st.violations:
                    record(v, state, st.events, a)
                # A "soft" violation (attr soft=1) breaks an invariant without stopping the system:
                # exploring on finds what else goes wrong on the same path.
                if not all(v.attr("soft") == "1" for v in st.violations):
                    continue
            known = len(parents)
            parents.setdefault(st.state, (state, st.events, a))  # hashes the state once
            if len(parents) > known:
                queue.append(st.state)
    verdict = "unsafe" if found else "safe"
    return CheckResult(
        verdict,
        list(found.values()),
        len(parents),
        transitions,
        time.monotonic() - start,
        "",
        ample is not None,
        pruned,
        not queue,
    )
