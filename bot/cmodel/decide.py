"""Which statement decides a counterexample: the branch whose other outcome avoids the violation.

A counterexample is a schedule (the checker's actions, in order). Replaying it records every branch
the code under review takes, with the values its condition read. Then, latest first, each branch
on a line the patch adds is flipped and the same schedule replayed (actions named by thread and
callback, not by position, so a flipped run can follow it; one that is no longer possible is
skipped), then run to its end in a fixed order. The first branch whose flipped run ends without
any violation decides the finding: its line is where the bug is, and the trace shows it with the
values it saw. Bounded: at most MAX_FLIPS replays of at most len(schedule) + MAX_DRAIN steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Hashable

from bot.cmodel.machine import Machine
from bot.cmodel.world import World
from bot.sim.core import Counterexample, Violation

MAX_FLIPS = 16
MAX_DRAIN = 2000


@dataclass(frozen=True)
class Branch:
    key: tuple[str, str, int, int]  # (thread, function, pc, occurrence): one dynamic branch
    file: str
    line: int
    taken: bool
    values: tuple[tuple[str, int], ...]  # the named variables its condition read
    text: str  # the source line
    ctx: str  # the thread
    at_event: int  # index in the counterexample's trace where it happened
    state_dependent: bool = True  # False for a switch on a model parameter or a constant
    def describe(self) -> str:
        cond = condition_text(self.text)
        vals = "; ".join(f"{n} = {v & 0xFFFF_FFFF_FFFF_FFFF:#x}" if v >= 0 else f"{n} = {v}" for n, v in self.values)
        verdict = f"({cond}) is {'true' if self.taken else 'false'}"
        return f"{vals}; {verdict}" if vals else verdict


@dataclass
class Decision:
    branch: Branch
    flipped_ok: bool = True
    tried: int = 0


@dataclass
class _Probe:
    flip: tuple | None = None
    seen: dict[tuple, int] = field(default_factory=dict)
    branches: list[Branch] = field(default_factory=list)
    events_before: int = 0  # trace events of the steps already replayed
    m: Machine | None = None

    def __call__(self, w: World, t, f, ins, taken: bool, events: list) -> bool:
        site = (t.name, f.fn, f.pc - 1)
        n = self.seen.get(site, 0)
        self.seen[site] = n + 1
        key = (*site, n)
        if self.flip is not None:
            return (not taken) if key == self.flip else taken
        m = self.m
        assert m is not None
        sl = m.program.where(f.fn, ins.line)
        if sl is not None:
            # what the line's condition read, also through the temporaries && and calls lower to
            fn = m.program.functions[f.fn]
            on_line = [i for i in fn.code if i.line == ins.line]
            names = sorted({n for i in on_line for n in _ids(list(i[1:-1])) if not n.startswith("$")})
            scalar = [n for n in names if n in f.locals and not fn.local_types.get(n, "").rstrip().endswith("*")]
            vals = tuple((n, f.locals[n]) for n in scalar)
            self.branches.append(Branch(key, sl.file, sl.line, taken, vals, sl.text.strip(), t.name,
                                        self.events_before + len(events), _reads_state(m, on_line)))
        return taken


_SWITCHES = ("model_param", "const")  # effects whose value is the model's choice, not the run's


def _reads_state(m: Machine, on_line: list[tuple]) -> bool:
    """Whether a branch's outcome depends on the run: it reads a variable, memory or a call that
    is not a model parameter. Flipping `if (mm_alloc_pgste(mm))` runs another kind of mm, not a fix."""
    reads = False
    for ins in on_line:
        if ins.op == "call":
            rule = m.prims.get(ins.name)
            if rule is not None and rule.effect in _SWITCHES:
                return False
            reads = True
        elif any(not n.startswith("$") for n in _ids(list(ins[1:-1]))):
            reads = True
    return reads


def _ids(e) -> set[str]:
    out: set[str] = set()
    if isinstance(e, tuple) and e:
        if e[0] == "id" and isinstance(e[1], str):
            out.add(e[1])
        for x in e[1:]:
            if isinstance(x, (tuple, list)):
                out |= _ids(x)
    elif isinstance(e, list):
        for x in e:
            out |= _ids(x)
    return out


def condition_text(line: str) -> str:
    m = re.search(r"\b(?:if|while)\s*\((.*)\)\s*(?:\{|return\b.*|[^;]*;)?\s*$", line)
    return m.group(1).strip() if m else line.rstrip("{").strip()


def _name(w: World, a: Hashable) -> Hashable:
    """An action named by what it runs, so a replay that diverges can still follow the schedule."""
    kind = a[0]  # type: ignore[index]
    if kind in ("run", "deadlock"):
        t = w.threads[a[1]]  # type: ignore[index]
        return (kind, t.name, *a[2:])  # type: ignore[index]
    if kind == "cb":
        cb = w.rcu.cbs[a[1]]  # type: ignore[index]
        return ("cb", cb.head, cb.fn)
    if kind == "work":
        return ("work", w.work[a[1]])  # type: ignore[index]
    return a


def _replay(m: Machine, schedule: list[Hashable], probe: _Probe, follow_named: bool,
            drain: bool) -> tuple[list[Hashable], list[Violation], bool]:
    """Run the schedule from the machine's initial state. Returns the named actions taken, the
    violations met, and whether the run reached its end (quiescence) within bounds."""
    state = next(iter(m.init_states()))
    named: list[Hashable] = []
    violations: list[Violation] = []
    m.branch_probe = probe
    try:
        for a in schedule:
            w = World.thaw(state)  # type: ignore[arg-type]
            acts = list(m.actions(state))
            if follow_named:
                pick = next((x for x in acts if _name(w, x) == a), None)
                if pick is None:
                    continue  # no longer possible on this path
            else:
                pick = a
                named.append(_name(w, a))
            st = m.step(state, pick)
            probe.events_before += len(st.events)
            violations += st.violations
            if st.violations and not all(v.attr("soft") == "1" for v in st.violations):
                return named, violations, True
            state = st.state
        if not drain:
            return named, violations, True
        for _ in range(MAX_DRAIN):
            acts = list(m.actions(state))
            if not acts:
                violations += m.at_quiescence(state)
                return named, violations, True
            pick = next((x for x in acts if x[0] not in ("deadlock", "stuck")), acts[0])  # type: ignore[index]
            st = m.step(state, pick)
            violations += st.violations
            if st.violations and not all(v.attr("soft") == "1" for v in st.violations):
                return named, violations, True
            state = st.state
        return named, violations, False
    finally:
        m.branch_probe = None


def branches(m: Machine, cx: Counterexample) -> tuple[list[Branch], list[Hashable]]:
    """The branches the counterexample's schedule takes, in order, and the schedule by name."""
    probe = _Probe(m=m)
    named, _v, _ok = _replay(m, cx.schedule, probe, follow_named=False, drain=False)
    return probe.branches, named


def deciding_branch(m: Machine, cx: Counterexample, candidate: Callable[[str, int], bool]) -> Decision | None:
    """The latest branch on a candidate line (one the patch adds) whose flip avoids the violation."""
    if not cx.schedule:
        return None
    taken, named = branches(m, cx)
    cands = [b for b in reversed(taken) if b.state_dependent and candidate(b.file, b.line)]
    seen_sites: set[tuple] = set()
    tried = 0
    for b in cands:
        site = b.key[:3]
        if site in seen_sites:
            continue  # the latest instance of a site stands for it
        seen_sites.add(site)
        if tried >= MAX_FLIPS:
            break
        tried += 1
        _named, violations, ended = _replay(m, named, _Probe(flip=b.key, m=m), follow_named=True, drain=True)
        if ended and not violations:
            return Decision(b, True, tried)
    return None
