"""The interpreter as a bot.sim Model: threads run the code under review, interleaved at shared accesses.

A step runs one thread up to and including its next shared access (atomic op, lock, list op,
call_rcu, free, access through a pointer), then on through thread-local code to the next one.
RCU: grace periods start and end as separate actions; a GP ends only when the readers it waits for
have left; ready callbacks start in ANY order, in softirq on the CPU that queued them, and may
interrupt that CPU's process-context thread wherever it has softirqs enabled.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable, NamedTuple

from bot.cmodel.compile import CallIns, Compiled, Instr, instr
from bot.cmodel.costs import CostRule
from bot.cmodel.effect_api import EFFECTS, Abort, Call
from bot.cmodel.effects import check_may_sleep, check_table_write
from bot.cmodel.effects_sync import blocked_by, lock_target
from bot.cmodel.ir import Addr, Assign, Bin, Cast, Deref, Expr, Field, Id, Index, TypeArg, is_node
from bot.cmodel.primitives import Primitive, primitives
from bot.cmodel.program import Program, define_expr
from bot.cmodel.slab import check_access, remember
from bot.cmodel.world import (
    DATA_BASE,
    FN_BASE,
    GLOBAL_SIZE,
    GLOBAL_VARS_BASE,
    MM_BASE,
    MM_SIZE,
    STACK_BASE,
    Frame,
    FrozenThread,
    Thread,
    World,
)
from bot.sim import semantics as sem
from bot.sim.core import Event, Step, Violation

MAX_LOCAL_STEPS = 5000
MEMO_EXPRS = 1 << 16  # type_of()'s memo of one machine, past which it starts again
MAX_CALL_DEPTH = 64  # frames of one thread: each state holds them all, so a self-calling function stops here


@dataclass
class Observations:
    """Side channel filled while exploring: costs seen on some path, calls nobody models."""

    costs: dict[str, str] = field(default_factory=dict)  # cost id → where
    unknown: set[str] = field(default_factory=set)  # calls run as opaque (rules/README.md, "Unknown calls")
    choices: set[str] = field(default_factory=set)  # unknown or opaque calls whose result was explored both ways
    unresolved: set[str] = field(default_factory=set)  # names the code reads that nothing defines
    ran: set[str] = field(default_factory=set)  # functions executed
    notes: set[str] = field(default_factory=set)


class Machine:
    """Model protocol (bot.sim.core.Model) over the C interpreter."""

    def __init__(self, program: Program, name: str, init: World, quiescence: Iterable = (),
                 cost_rules: tuple[CostRule, ...] = ()) -> None:
        self.program = program
        self.name = name
        self.init = init
        self.quiescence = list(quiescence)  # callables World → list[Violation]
        self.cost_rules = cost_rules
        self.obs = Observations()
        self.setup = None  # what a scenario's setup ran and left (models.SetupRun): obs.ran starts after it
        self.prims = primitives()
        self.layout = program.layout
        self.fn_names, self.fn_index = _function_numbers(tuple(program.functions), self.prims)
        self.lock_addrs: dict[str, int] = {}
        self._fns: dict[str, _FnTables] = {}  # per function, what each instruction is (see _tables)
        self._lines: dict[tuple[str, int], tuple[str, str]] = {}  # (fn, line) → (its source, file:line)
        self._id_types: dict[tuple[str, str], str] = {}  # (function, name) → the type a name has there
        self._expr_types: dict[tuple[str, int], tuple[Expr, str]] = {}  # (function, id of a node) → it, its type
        self._scales: dict[str, int] = {}  # _scale() of a type
        self._aggregates: dict[str, bool] = {}  # _is_aggregate() of a type
        self._lock_names: dict[int, str] = {}  # lock_name(), for the trace steps of every lock call
        self._field_infos: dict[tuple[str, str], tuple[int, str]] = {}  # field_info() of members the layout has
        self._cost_calls = {c for r in self.cost_rules for c in r.calls}
        self._types: dict[str, str] = {}
        self._roles: dict[str, int] = {}
        self.table_size = 4096  # bytes of one page table; the model sets its fragment size
        self.branch_probe = None  # bot.cmodel.decide sets it while replaying a counterexample
        self.global_addrs: dict[str, int] = {}  # file-scope variables of the code, each in memory
        at = GLOBAL_VARS_BASE
        for gname, (gty, _init) in sorted(program.globals.items()):
            self.global_addrs[gname] = at
            at += max(GLOBAL_SIZE, (self.sizeof(gty.removesuffix("[]").strip()) + GLOBAL_SIZE - 1) // GLOBAL_SIZE
                      * GLOBAL_SIZE)
        self._globals = frozenset(self.global_addrs)
        self._choice: int | None = None  # the value the next unknown call returns (a branch of the search)
        # Error paths: with faults on (the scenario calls allocations_may_fail()), a call whose rule
        # may fail is explored failing and succeeding while the world's fault budget lasts, when it
        # runs inside one of fault_scope's functions (empty: anywhere).
        self.faults = False
        self.fault_scope: frozenset[str] = frozenset()

    def initial_globals(self, w: World) -> None:
        """File-scope variables with an initial value."""
        for gname, (_ty, init) in self.program.globals.items():
            if init:
                w.mem[self.global_addrs[gname]] = init

    def has_function(self, name: str) -> bool:
        return name in self.program.functions

    # ---- Model protocol -----------------------------------------------------------------------
    def init_states(self) -> list[Hashable]:
        return [self.init.freeze()]

    # One pass over the threads and the RCU machinery that lists every enabled action; its branches
    # are the blocking rules (softirq on the CPU, grace-period waits, barrier, lock contention).
    def actions(self, state: Hashable) -> list[Hashable]:  # noqa: C901
        w = World.thaw(state)  # type: ignore[arg-type]
        threads = w.threads
        acts: list[Hashable] = []
        busy_cpus = {t.cpu for t in threads if t.ctx == "softirq"}
        blocked_any = False
        sync_needs: list[int] = []  # synchronize_rcu() waits, for _gp_actions
        srcu_needs: list[int] = []
        fns = self._fns
        for i, t in enumerate(threads):
            wait_gp, wait_sgp = t.wait_gp, t.wait_sgp
            if wait_gp > 0:
                sync_needs.append(wait_gp)
            if wait_sgp > 0:
                srcu_needs.append(wait_sgp)
            frames = t.frames
            if not frames:
                continue
            if t.ctx == "process" and t.cpu in busy_cpus:
                continue  # interrupted by a softirq on its CPU
            if wait_gp:
                if wait_gp > 0 and not sem.sync_done(w.rcu, wait_gp):
                    blocked_any = True
                    continue
                if wait_gp == -1 and not sem.barrier_done(w.rcu, t.barrier, w.running_callbacks("rcu")):
                    blocked_any = True
                    continue  # rcu_barrier: wait for the callbacks queued before it
            if wait_sgp and not (sem.sync_done(w.srcu, wait_sgp) if wait_sgp > 0 else
                                 sem.barrier_done(w.srcu, t.barrier, w.running_callbacks("srcu"))):
                blocked_any = True
                continue  # synchronize_srcu / srcu_barrier
            f = frames[-1]
            tabs = fns.get(f.fn) or self._tables(f.fn)
            if tabs.lock[f.pc] is not None:
                want = self._next_lock(w, t)
                holder = blocked_by(w, t, want[0], want[1]) if want is not None else None  # type: ignore[arg-type]
                if holder is not None:
                    owner = next((x for x in threads if x.name == holder), None)
                    outcome = sem.lock_outcome(holder, t.name, t.ctx, t.cpu, owner.ctx if owner else "",
                                               owner.cpu if owner else -2)
                    if outcome == sem.WAIT:
                        blocked_any = True
                    else:
                        acts.append(("deadlock", i, outcome))
                    continue
            if tabs.choice[f.pc] and self._branches(w, t):
                acts += [("run", i, 0), ("run", i, 1)]
                continue
            acts.append(("run", i))
        # RCU machinery. With no reader about, a grace period may as well start and end in one step:
        # that only drops intermediate states, every ordering of callbacks and threads remains.
        rcu = w.rcu
        if rcu.current or rcu.cbs or sync_needs:  # else no GP is running or wanted
            acts += _gp_actions(rcu, lambda: _readers(w), sync_needs, "")
        if rcu.cbs:
            bh_off = {t.cpu for t in threads if t.ctx == "process" and t.frames and t.bh > 0}
            invocable = sem.invocable(rcu, busy_cpus, bh_off)  # each on the CPU that queued it
            acts += [("cb", k) for k, cb in enumerate(rcu.cbs) if cb in invocable and cb not in rcu.cbs[:k]]
        # each work item in a kworker of its own, concurrently with the others
        if w.work:
            acts += [("work", k) for k, item in enumerate(w.work) if item not in w.work[:k]]
        srcu = w.srcu
        if srcu.current or srcu.cbs or srcu_needs:
            acts += self._srcu_actions(w, srcu_needs)
        if not acts and blocked_any:
            acts.append(("stuck",))
        return acts

    def step(self, state: Hashable, action: Hashable) -> Step:
        w = World.thaw(state)  # type: ignore[arg-type]
        kind = action[0]  # type: ignore[index]
        events: list[Event] = []
        violations: list[Violation] = []
        if kind == "run":
            self._choice = action[2] if len(action) > 2 else None  # type: ignore[arg-type,index]
            self._run(w, action[1], events, violations)  # type: ignore[index]
            self._choice = None
        elif kind in ("gp_start", "gp", "gp_end"):
            w.rcu = _gp_step(w.rcu, kind, _readers(w), "RCU", "", events)
        elif kind == "cb":
            cb = w.rcu.cbs[action[1]]  # type: ignore[index]
            w.rcu = sem.take(w.rcu, cb)
            if cb.head >= 0:  # mmu_gather batch entries (head < 0) carry the table, not a head
                w.nodes[cb.head] = "garbage"  # the rcu_head is free for reuse once its callback starts
            self._spawn(w, Thread(f"softirq@CPU{cb.cpu}", "softirq", cb.cpu, [], rsec=1, origin=("rcu", cb.head)),
                        cb.fn, cb.arg,
                        f"RCU callback {cb.fn}() starts", events, violations)
        elif kind in ("sgp_start", "sgp", "sgp_end", "scb"):
            self._srcu_step(w, action, events, violations)
        elif kind == "work":
            fn, arg = w.work[action[1]]  # type: ignore[index]
            w.work = w.work[: action[1]] + w.work[action[1] + 1:]  # type: ignore[index,operator]
            used = {t.name for t in w.threads}
            name = next(f"kworker/u{k}" for k in range(len(used) + 1) if f"kworker/u{k}" not in used)
            self._spawn(w, Thread(name, "workqueue", -1, []), fn, arg, f"work {fn}() starts", events, violations)
        elif kind == "deadlock":
            t = w.running(action[1])  # type: ignore[index]
            want = self._next_lock(w, t)
            lock = want[0] if want else None
            f = t.frames[-1]  # it spins at the lock call it is about to make, not the statement before
            where = self.where_at(f.fn, self.program.functions[f.fn].code[f.pc].line)
            lock_name = self.lock_name(lock or 0)
            events.append(Event(t.name, f"spins on {lock_name}, held by {w.locks.get(lock or 0, ('?',))[0]}"
                                + (" which it interrupted" if action[2] == "softirq_reentry" else ""),  # type: ignore[index]
                                where))
            violations.append(Violation("deadlock", f"{t.name} deadlocks on {lock_name}",
                                        (("lock", lock_name), ("cause", str(action[2])), ("ctx", t.ctx),  # type: ignore[index]
                                         ("function", t.frames[-1].fn), ("at", where))))
        elif kind == "stuck":
            names = ", ".join(t.name for t in w.threads if t.frames)
            violations.append(Violation("deadlock", f"no thread can make progress ({names})",
                                        (("cause", "stuck"),)))
        return Step(w.freeze(), tuple(events), tuple(violations))

    def at_quiescence(self, state: Hashable) -> list[Violation]:
        w = World.thaw(state)  # type: ignore[arg-type]
        out: list[Violation] = []
        for check in self.quiescence:
            out.extend(check(self, w))
        return out

    # ---- grace-period domains ------------------------------------------------------------------
    # Retired tables alone need no grace period: nothing in the code waits for one unless it queued a
    # callback or called synchronize_rcu(), and a wait that never ends only removes paths.

    # SRCU: a grace-period domain of its own, with RCU's rules (bot.sim.semantics), over SRCU readers.
    def _srcu_actions(self, w: World, sync_needs: list[int]) -> list[Hashable]:
        acts = _gp_actions(w.srcu, lambda: _srcu_readers(w), sync_needs, "s")
        if not any(t.name.startswith("srcu-cb") for t in w.threads):
            acts += [("scb", k) for k, cb in enumerate(w.srcu.cbs) if cb in sem.ready(w.srcu)]
        return acts

    def _srcu_step(self, w: World, action: Hashable, events: list[Event], violations: list[Violation]) -> None:
        kind = action[0]  # type: ignore[index]
        if kind != "scb":
            w.srcu = _gp_step(w.srcu, kind[1:], _srcu_readers(w), "SRCU", "SRCU ", events)
            return
        cb = w.srcu.cbs[action[1]]  # type: ignore[index]
        w.srcu = sem.take(w.srcu, cb)
        if cb.head >= 0:
            w.nodes[cb.head] = "garbage"
        # SRCU callbacks run from a workqueue with softirqs disabled: atomic, interrupting nobody
        self._spawn(w, Thread(f"srcu-cb@CPU{cb.cpu}", "softirq", -1, [], rsec=1, origin=("srcu", cb.head)),
                    cb.fn, cb.arg,
                    f"SRCU callback {cb.fn}() starts", events, violations)

    # ---- execution ----------------------------------------------------------------------------
    def _spawn(self, w: World, t: Thread, fn: str, arg: int, what: str, events: list[Event],
               violations: list[Violation]) -> None:
        """Start a callback or work item as a thread of its own and run it to its first shared access."""
        self._enter(w, t, fn, [arg], None)
        w.threads.append(t)
        events.append(Event(t.name, what))
        try:
            self._settle(w, t, events, violations)
        except Abort as a:
            violations.append(a.violation)
        self._reap(w)

    def _reap(self, w: World) -> None:
        w.threads = [t for t in w.threads if t.frames or t.ctx == "process"]

    def _enter(self, w: World, t: Thread, fn: str, args: list[int], dst: tuple | None) -> None:
        code = self.program.functions.get(fn)
        if code is None:
            code = self._synthetic(fn)
            fn = code.name
        self.obs.ran.add(fn)
        if len(t.frames) >= MAX_CALL_DEPTH:  # a kernel stack holds a few dozen frames, not thousands
            raise Abort(Violation("nontermination", f"{fn} is called {MAX_CALL_DEPTH} calls deep in {t.name}: "
                                  "the recursion does not end within a kernel stack", ()))
        loc = {name: (args[i] if i < len(args) else 0) for i, (name, _ty) in enumerate(code.params)}
        t.frames.append(Frame(fn, 0, loc, dst))

    def _synthetic(self, prim: str) -> Compiled:
        """A one-call function, so a primitive can be queued as a callback or a work item."""
        name = f"$call:{prim}"
        if name not in self.program.functions:
            self.program.functions[name] = Compiled(
                name, [("$arg", "void *")], "void",
                [instr("call", None, prim, [Id("id", "$arg")], 0), instr("ret", None, 0)], {"$arg": "void *"}, 0)
        return self.program.functions[name]

    def _run(self, w: World, i: int, events: list[Event], violations: list[Violation]) -> None:
        t = w.running(i)
        if t.wait_gp or t.wait_sgp:  # the wait is over: it runs again
            t.wait_gp = t.wait_sgp = 0
            t.barrier = frozenset()
        try:
            self._exec(w, t, events, violations)
            self._settle(w, t, events, violations)
        except Abort as a:
            violations.append(a.violation)
            events.append(Event(t.name, a.violation.detail, a.violation.attr("at")))
        self._reap(w)

    def _settle(self, w: World, t: Thread, events: list[Event], violations: list[Violation]) -> None:
        """Run thread-local instructions until the next shared one (or the end)."""
        n = 0
        frames = t.frames
        fns = self._fns
        while frames and not violations:
            f = frames[-1]
            tabs = fns.get(f.fn) or self._tables(f.fn)
            if tabs.shared[f.pc] or t.wait_gp or t.wait_sgp:
                return
            n += 1
            if n > MAX_LOCAL_STEPS:
                raise Abort(Violation("nontermination", f"{f.fn} runs too long without a shared access", ()))
            ins = tabs.code[f.pc]
            op = ins[0]
            if op == "decl":  # as _exec runs them, without the call
                f.pc += 1
            elif op == "jmp":
                f.pc = ins.target
            else:
                self._exec(w, t, events, violations)

    def _tables(self, fn: str) -> _FnTables:
        """What each instruction of a function is, worked out once per machine (the rules and the
        fault setting are fixed by then): an interleaving point, a choice point, the lock it waits for."""
        compiled = self.program.functions[fn]
        code = compiled.code
        # Besides the code, all it reads is which called names are functions, the rules, the fault
        # setting and the file-scope names: the same in every machine of a series' programs.
        functions = self.program.functions
        key = (id(compiled), self.faults, self._globals, tuple(i.name in functions for i in code if isinstance(i, CallIns)))
        hit = _TABLES.get(key)
        if hit is not None and hit[0] is compiled and hit[1] is self.prims:
            tabs = self._fns[fn] = hit[2]
            return tabs
        choice = [self._choice_at(code, pc) for pc in range(len(code))]
        shared = [c or _instr_shared(ins, self.prims, self.program, self._globals) for ins, c in zip(code, choice)]
        locks: list[Primitive | None] = []
        for ins in code:
            rule = None
            if isinstance(ins, CallIns) and ins.name not in self.program.functions:
                rule = self.prims.get(ins.name)
                if rule is not None and (rule.effect != "lock" or rule["trylock"]):
                    rule = None
            locks.append(rule)
        tabs = self._fns[fn] = _FnTables(code, shared, choice, locks)
        if len(_TABLES) >= MEMO_TABLES:
            _TABLES.clear()
        _TABLES[key] = (compiled, self.prims, tabs)
        return tabs

    def _is_shared(self, fn: str, pc: int) -> bool:
        return (self._fns.get(fn) or self._tables(fn)).shared[pc]

    def _at_choice(self, t: Thread | FrozenThread) -> bool:
        if not t.frames:
            return False
        f = t.frames[-1]
        return self._choice_point(f.fn, f.pc)

    def _choice_point(self, fn: str, pc: int) -> bool:
        choice = (self._fns.get(fn) or self._tables(fn)).choice
        return pc < len(choice) and choice[pc]

    def _choice_at(self, code: list[Instr], pc: int) -> bool:
        """An unknown or opaque call whose result a branch of its function (or its caller, through
        the return value) depends on: both a zero and a non-zero result are explored. With faults
        on, so is a call that may fail whose result the code checks (its error path)."""
        ins = code[pc]
        if isinstance(ins, CallIns) and ins.dst is not None and ins.name and ins.name not in self.program.functions:
            rule = self.prims.get(ins.name)
            if rule is None or rule.effect == "opaque" or (self.faults and rule.may_fail):
                return _branch_depends(code, pc, ins.dst)
        return False

    def _branches(self, w: World, t: Thread | FrozenThread) -> bool:
        """At a choice point: whether both outcomes are explored here. An unknown call's always are;
        a call that may fail only while the fault budget lasts and inside the fault scope."""
        f = t.frames[-1]
        rule = self.prims.get(self.program.functions[f.fn].code[f.pc].name)
        if rule is None or rule.effect == "opaque":
            return True
        return w.faults > 0 and (not self.fault_scope or any(fr.fn in self.fault_scope for fr in t.frames))

    # One branch per instruction kind, in the interpreter's hottest loop: a dispatch table would add
    # a call per instruction.
    def _exec(self, w: World, t: Thread, events: list[Event], violations: list[Violation]) -> None:  # noqa: C901
        f = t.frames[-1]
        pc = f.pc
        tabs = self._fns.get(f.fn) or self._tables(f.fn)
        ins = tabs.code[pc]
        op = ins[0]
        f.pc = pc + 1
        if op == "call":
            _, dst, name, args, line = ins  # CallIns
            callee = None
            if name == "":
                callee, args = args[0], args[1:]
            elif name in f.locals and name not in self.program.functions:
                callee = Id("id", name)  # fn(x) where fn is a parameter or local: a call through it
            if callee is not None:
                if isinstance(callee, Deref):
                    callee = callee.inner  # (*fn)(x) calls what fn points to
                target = self.eval(w, t, callee)
                name = self.fn_names[target - FN_BASE] if FN_BASE <= target < FN_BASE + len(self.fn_names) else ""
            if name in self.program.functions:
                vals = [self.eval(w, t, a) for a in args]
                src, where = self.source_at(f.fn, line)
                events.append(Event(t.name, src or name + "()", where))
                self._enter(w, t, name, vals, dst)
                return
            rule = self.prims.get(name)
            if rule is None or rule.effect == "opaque":
                # Unknown or opaque: it touches nothing the model tracks, and a result a branch
                # depends on is explored both ways (rules/README.md, "Unknown calls").
                if rule is None:
                    self.obs.unknown.add(name or "(a call through a pointer)")
                if dst is not None:
                    value = self._choice if self._choice is not None else 0
                    self._choice = None
                    if self._choice_point(f.fn, f.pc - 1):
                        self.obs.choices.add(name)
                        events.append(Event(t.name, f"{self.source(f.fn, line) or name + '()'}  [{name}() is "
                                            f"not modeled: it returns {value} on this path]",
                                            self.where_at(f.fn, line)))
                    self.store(w, t, dst, value)
                return
            if rule.may_fail and self._choice is not None:
                failed = not self._choice
                self._choice = None
                if failed:  # this path takes the error path of the call
                    w.faults -= 1
                    events.append(Event(t.name, f"{self.source(f.fn, line) or name + '()'}  [{name}() fails on "
                                        "this path: it returns 0]", self.where_at(f.fn, line)))
                    if dst is not None:
                        self.store(w, t, dst, 0)
                    return
            call = Call(self, w, t, rule, name, args, line, events, violations)
            if rule.may_sleep:
                check_may_sleep(call)
            result = EFFECTS[rule.effect].fn(call)
            if name in self._cost_calls:
                self.note_cost(t, name, "call")
            if dst is not None:
                self.store(w, t, dst, result if result is not None else 0)  # `return f();` of a void f
            if call.after is not None:
                self._enter(w, t, call.after[0], list(call.after[1]), None)
        elif op == "eval":
            self.eval(w, t, ins.expr)
            if tabs.shared[pc]:
                src, where = self.source_at(f.fn, ins.line)
                events.append(Event(t.name, src, where))
        elif op == "jf":
            taken = bool(self.eval(w, t, ins.cond))
            if self.branch_probe is not None:  # a replay that records (or flips) branch outcomes
                taken = self.branch_probe(w, t, f, ins, taken, events)
            if not taken:
                f.pc = ins.target
        elif op == "jmp":
            f.pc = ins.target
        elif op == "ret":
            val = self.eval(w, t, ins.expr) if ins.expr is not None else 0
            for key, slot in f.locals.items():
                if key.startswith("&") and key != "&":
                    w.mem.pop(slot, None)  # the frame's stack slots go with it
            t.pop_frame()
            if not t.frames and f.fn.startswith("scenario:"):
                t.final = tuple(sorted(f.locals.items()))
            if f.dst is not None and t.frames:
                self.store(w, t, f.dst, val)
        elif op == "decl":
            pass  # declared, not yet assigned: see lookup()
        elif op == "note":
            # a statement the interpreter does not model ran: what it did is unknown
            self.obs.unresolved.add(f"{f.fn}() runs a statement the model cannot read: {ins.text[:60]}")

    # ---- expressions --------------------------------------------------------------------------
    # One branch per expression kind (bot.cmodel.ir), hottest first: a dispatch table would add a call per node.
    def eval(self, w: World, t: Thread, e: Expr) -> int:  # noqa: C901
        k = e.kind
        if k == "num":
            return e.value  # type: ignore[union-attr]
        if k == "id":
            loc = t.frames[-1].locals
            name = e.name  # type: ignore[union-attr]
            if "&" not in loc and name in loc:  # a local of a frame with none spilled: lookup()'s first answer
                return loc[name]
            return self.lookup(w, t, name)
        if k == "bin":
            return self._binop(w, t, e)  # type: ignore[arg-type]
        if k == "un":
            v = self.eval(w, t, e.operand)  # type: ignore[union-attr]
            op = e.op  # type: ignore[union-attr]
            return (not v) if op == "!" else (~v if op == "~" else (-v if op == "-" else v))
        if k == "field":
            addr, ty = self.field_addr(w, t, e)  # type: ignore[arg-type]
            agg = self._aggregates.get(ty)
            if agg is None:
                agg = self._aggregates[ty] = _is_aggregate(ty, self.layout.scalars)
            if agg:
                return addr
            return self.load(w, t, addr, e)
        if k == "addr":
            return self._address_of(w, t, e.inner)  # type: ignore[union-attr]
        if k == "deref":
            return self.load(w, t, self.eval(w, t, e.inner), e)  # type: ignore[union-attr]
        if k == "cast":
            return _truncate(self.eval(w, t, e.inner), e.type)  # type: ignore[union-attr]
        if k == "cond":
            return self.eval(w, t, e.then) if self.eval(w, t, e.test) else self.eval(w, t, e.other)  # type: ignore[union-attr]
        if k == "assign":
            return self._assign(w, t, e)  # type: ignore[arg-type]
        if k == "update":
            target = e.target  # type: ignore[union-attr]
            cur = self.eval(w, t, target)
            step = self._scale(t, target)
            new = cur + step if e.op == "++" else cur - step  # type: ignore[union-attr]
            self.store(w, t, target, new)
            return new
        if k == "sizeof":
            return self.sizeof(e.type)  # type: ignore[union-attr]
        if k == "index":
            base = self.eval(w, t, e.base)  # type: ignore[union-attr]
            return self.load(w, t, base + self.eval(w, t, e.index) * self._scale(t, e.base), e)  # type: ignore[union-attr]
        if k == "comma":
            v = 0
            for sub in e.items:  # type: ignore[union-attr]
                v = self.eval(w, t, sub)
            return v
        if k == "raw":
            self.obs.unresolved.add(f"{t.frames[-1].fn}() evaluates code the model cannot read: {e.text[:60]}")  # type: ignore[union-attr]
        return 0

    def _address_of(self, w: World, t: Thread, inner: Expr) -> int:
        """&inner: a field's or a spilled local's address, a global's, a function's or a lock's."""
        if isinstance(inner, Field):
            return self.field_addr(w, t, inner)[0]
        if isinstance(inner, Deref):
            return self.eval(w, t, inner.inner)
        if isinstance(inner, Id):
            if self._is_local(t, inner.name):
                return self._spill(w, t, inner.name)
            gaddr = self._global_of(t, inner.name)
            if gaddr is not None:
                return gaddr
            return self.lookup(w, t, inner.name)  # &function or &static lock: its address
        return self.eval(w, t, inner)

    def _binop(self, w: World, t: Thread, e: Bin) -> int:
        op, left, right = e.op, e.left, e.right
        a = self.eval(w, t, left)
        if op == "&&":
            return int(bool(a) and bool(self.eval(w, t, right)))
        if op == "||":
            return int(bool(a) or bool(self.eval(w, t, right)))
        b = self.eval(w, t, right)
        if op in ("+", "-"):
            sa = self._scale(t, left)
            sb = self._scale(t, right)
            if sa > 1 and sb == 1:
                b *= sa
            elif sb > 1 and sa == 1 and op == "+":
                a *= sb
            elif sa > 1 and sb > 1 and op == "-":
                return (a - b) // sa
            return a + b if op == "+" else a - b
        return _arith(op, a, b)

    def _assign(self, w: World, t: Thread, e: Assign) -> int:
        op, lhs, rhs = e.op, e.lhs, e.rhs
        val = self.eval(w, t, rhs)
        if op != "=":
            cur = self.eval(w, t, lhs)
            bop = op[:-1]
            if bop in ("+", "-"):
                val *= self._scale(t, lhs)
            val = _arith(bop, cur, val)
        ty = self.type_of(t, lhs)
        val = _truncate(val, ty)
        self.store(w, t, lhs, val)
        return val

    # Locals live in the frame until their address is taken; from then on in memory (a stack slot
    # of the frame), so that callees writing through the pointer (*pmdvalp = pmdval) are seen.
    def _is_local(self, t: Thread, name: str) -> bool:
        fr = t.frames[-1]
        return name in fr.locals or name in self.program.functions[fr.fn].local_types

    def _spill(self, w: World, t: Thread, name: str) -> int:
        fr = t.frames[-1]
        key = "&" + name
        if key not in fr.locals:
            ty = self.program.functions[fr.fn].local_types.get(name, "long")
            size = (max(8, self.sizeof(ty.rstrip("[]").strip())) + 7) & ~7
            used = fr.locals.get("&", 0)
            base = STACK_BASE + (zlib.crc32(t.name.encode()) % 0x400) * 0x40000 + len(t.frames) * 0x1000
            fr.ordered = False
            fr.locals[key] = base + used
            fr.locals["&"] = used + size
            if name in fr.locals:
                w.mem[base + used] = fr.locals.pop(name)
        return fr.locals[key]

    def lookup(self, w: World, t: Thread, name: str) -> int:
        loc = t.frames[-1].locals
        if "&" in loc and "&" + name in loc:  # "&" counts the frame's spilled bytes: none, no slot
            return w.mem.get(loc["&" + name], 0)
        if name in loc:
            return loc[name]
        fr = t.frames[-1]
        declared = self.program.functions[fr.fn].local_types.get(name)
        if declared is not None:
            if declared.endswith("[]") or (declared.startswith(("struct ", "union ")) and "*" not in declared):
                return 0  # an on-stack aggregate: only its address is ever used
            # A local read before any store: real code does not do that, a splice of hunks onto the
            # reference model that disagree on names does. Nothing is proved from it.
            self.obs.unresolved.add(f"{fr.fn}() reads {name} before assigning it")
            return 0
        if name in self.lock_addrs:
            return self.lock_addrs[name]
        if name in self.global_addrs:
            addr = self.global_addrs[name]
            ty = self.program.globals[name][0]
            if ty.endswith("[]") or _is_aggregate(ty, self.layout.scalars):
                return addr  # an array or struct: its value is its address
            return self.load(w, t, addr, Id("id", name))
        if name in self.program.defines:
            return self.eval(w, t, define_expr(self.program.defines[name]))
        if name in self.program.consts:
            return self.program.consts[name]
        if name in self.fn_index:
            return FN_BASE + self.fn_index[name]
        if name in ("NULL", "false"):
            return 0
        if name == "true":
            return 1
        self.obs.unresolved.add(f"{fr.fn}() reads {name}, which nothing defines")
        return 0

    def store(self, w: World, t: Thread, lhs: Expr, val: int) -> None:
        if isinstance(lhs, Id):
            fr = t.frames[-1]
            name = lhs.name
            if "&" in fr.locals and "&" + name in fr.locals:
                w.mem[fr.locals["&" + name]] = val
            elif name in self.global_addrs and name not in fr.locals and name not in \
                    self.program.functions[fr.fn].local_types:
                self.write(w, t, self.global_addrs[name], val, lhs)
            else:
                loc = fr.locals
                if name not in loc:
                    fr.ordered = False  # a name added: the locals are no longer in sorted order
                loc[name] = val
        elif isinstance(lhs, Field):
            addr, _ty = self.field_addr(w, t, lhs)
            self.write(w, t, addr, val, lhs)
        elif isinstance(lhs, Deref):
            self.write(w, t, self.eval(w, t, lhs.inner), val, lhs)
        elif isinstance(lhs, Index):
            base = self.eval(w, t, lhs.base)
            self.write(w, t, base + self.eval(w, t, lhs.index) * self._scale(t, lhs.base), val, lhs)

    # ---- memory -------------------------------------------------------------------------------
    def check_alive(self, w: World, t: Thread, addr: int, what: str, write: bool = False) -> None:
        if w.has("slabs") and check_access(self, w, t, addr, what, write):
            return  # typesafe memory, read by a reader: still an object of its type
        hit = w.object_at(addr)
        if hit is None:
            return
        _base, (kind, _size, alive, oname, freed_by) = hit
        if not alive:
            where = self.where(t)
            raise Abort(Violation("use_after_free", f"{t.name} {what} {oname} after it was freed",
                                  (("object", kind), ("ctx", t.ctx), ("freed_by", freed_by),
                                   ("function", t.frames[-1].fn if t.frames else ""), ("at", where))))

    def load(self, w: World, t: Thread, addr: int, e: tuple) -> int:
        self.check_alive(w, t, addr, "reads")
        val = w.mem.get(addr, 0)
        if w.has("slabs"):
            remember(w, t, val)
        return val

    def write(self, w: World, t: Thread, addr: int, val: int, e: tuple) -> None:
        self.check_alive(w, t, addr, "writes", write=True)
        if DATA_BASE <= addr and w.has("grace"):
            check_table_write(self, w, t, addr, "a store")
        w.mem[addr] = val

    def field_addr(self, w: World, t: Thread, e: Field) -> tuple[int, str]:
        base, name = e.base, e.name
        if e.arrow:
            base_val = self.eval(w, t, base)
            sty = _deref_type(self.type_of(t, base))
        else:
            if isinstance(base, Field):
                base_val, sty = self.field_addr(w, t, base)
            elif isinstance(base, Id) and self._is_local(t, base.name):
                base_val, sty = self._spill(w, t, base.name), self.type_of(t, base)  # an on-stack struct
            else:
                gaddr = self._global_of(t, base.name) if isinstance(base, Id) else None
                base_val, sty = gaddr or 0, self.type_of(t, base)
        off, fty = self.field_info(sty, name)
        return base_val + off, fty

    def field_info(self, struct: str, name: str) -> tuple[int, str]:
        hit = self._field_infos.get((struct, name))
        if hit is None:
            hit = self._field_info(struct, name)
        return hit

    def _field_info(self, struct: str, name: str) -> tuple[int, str]:
        key = (struct, name)
        structs = self.layout.structs
        struct = self.program.types.get(struct, struct)
        ent = structs.get(struct, {}).get(name)
        if ent is None:
            # Partial code may lack the declaration that types the base: fall back to a unique field name.
            cands = [s[name] for s in structs.values() if name in s]
            if len(cands) >= 1:
                ent = cands[0]
            else:  # not remembered, so that each use records it
                self.obs.unresolved.add(f"field {name} of {struct} is not in the model's layout")
                return 0x800 + (sum(map(ord, name)) * 8) % 0x700, "long"
        hit = self._field_infos[key] = (ent[0], ent[1])
        return hit

    def sizeof(self, ty: str) -> int:
        ty = " ".join(ty.split())
        if ty.endswith("*"):
            return 8
        ty = self.program.types.get(ty, ty)
        if ty.endswith("*"):
            return 8
        return int(self.layout.sizes.get(ty, 8))

    def _scale(self, t: Thread, e: tuple) -> int:
        ty = self.type_of(t, e)
        hit = self._scales.get(ty)
        if hit is None:
            hit = self._scales[ty] = self._scale_of(ty)
        return hit

    def _scale_of(self, ty: str) -> int:
        ty = self.program.types.get(ty, ty)
        if ty.endswith("[]"):  # an array member: indexing steps by its element
            return self.sizeof(ty[:-2].strip())
        if not ty.endswith("*"):
            return 1
        return self.sizeof(ty[:-1].strip())

    def _global_of(self, t: Thread, name: str) -> int | None:
        """The address of a file-scope variable the name refers to (None: a local, or no variable)."""
        if name not in self.global_addrs:
            return None
        fr = t.frames[-1]
        if name in fr.locals or name in self.program.functions[fr.fn].local_types:
            return None
        return self.global_addrs[name]

    # A type depends on the expression and the function it is in, nothing else: each is worked out
    # once (a name by its text, as the interpreter makes names up; other nodes are the code's own).
    def type_of(self, t: Thread, e: Expr) -> str:
        fn = t.frames[-1].fn if t.frames else ""
        if isinstance(e, Id):
            key = (fn, e.name)
            hit = self._id_types.get(key)
            if hit is None:
                hit = self._id_types[key] = self._id_type(*key)
            return hit
        memo = self._expr_types
        got = memo.get((fn, id(e)))
        if got is not None and got[0] is e:
            return got[1]
        ty = self._type_of(t, e)
        if len(memo) >= MEMO_EXPRS:
            memo.clear()
        memo[(fn, id(e))] = (e, ty)  # the node is kept, so its id is not another's
        return ty

    def _type_of(self, t: Thread, e: Expr) -> str:  # noqa: C901 - one branch per kind that has a type
        if isinstance(e, Cast):
            return self._norm_type(e.type)
        if isinstance(e, Field):
            sty = _deref_type(self.type_of(t, e.base)) if e.arrow else self.type_of(t, e.base)
            return self._norm_type(self.field_info(sty, e.name)[1])
        if isinstance(e, Addr):
            return self.type_of(t, e.inner) + " *"
        if isinstance(e, Deref):
            return _deref_type(self.type_of(t, e.inner))
        if isinstance(e, Bin) and e.op in ("+", "-"):
            lt = self.type_of(t, e.left)
            return lt if lt.endswith("*") else self.type_of(t, e.right)
        if isinstance(e, Assign):
            return self.type_of(t, e.lhs)
        return "long"

    def _id_type(self, fn: str, name: str) -> str:
        code = self.program.functions.get(fn)
        if code is not None and name in code.local_types:
            return self._norm_type(code.local_types[name])
        if name in self.program.globals:
            return self._norm_type(self.program.globals[name][0])
        return "long"

    def _norm_type(self, ty: str) -> str:
        hit = self._types.get(ty)
        if hit is None:
            norm = " ".join(ty.replace("const ", "").replace("volatile ", "").split())
            norm = norm.replace(" *", "*").replace("*", " *").replace("  ", " ").strip()
            hit = self._types[ty] = self.program.types.get(norm, norm)
        return hit

    # ---- reporting helpers --------------------------------------------------------------------
    def source(self, fn: str, line: int) -> str:
        return self.source_at(fn, line)[0]

    def where_at(self, fn: str, line: int) -> str:
        return self.source_at(fn, line)[1]

    def source_at(self, fn: str, line: int) -> tuple[str, str]:
        """A line's source text (spaces folded) and its file:line, asked for by every step that quotes it."""
        hit = self._lines.get((fn, line))
        if hit is not None:
            return hit
        sl = self.program.where(fn, line)
        hit = self._lines[(fn, line)] = (" ".join(sl.text.split()), f"{sl.file}:{sl.line}") if sl else ("", "")
        return hit

    def where(self, t: Thread) -> str:
        if not t.frames:
            return ""
        f = t.frames[-1]
        code = self.program.functions[f.fn].code
        pc = min(max(f.pc - 1, 0), len(code) - 1)
        return self.where_at(f.fn, code[pc].line)

    def _next_lock(self, w: World, t: Thread | FrozenThread) -> tuple[int, bool] | None:
        """(address, shared) of the lock t is about to wait for, if its next call takes one (a
        trylock never waits)."""
        if not t.frames:
            return None
        f = t.frames[-1]
        tabs = self._fns.get(f.fn) or self._tables(f.fn)
        rule = tabs.lock[f.pc]
        if rule is None:
            return None
        ins = tabs.code[f.pc]
        live = t if type(t) is Thread else Thread.thaw(t)
        try:
            return lock_target(self, w, live, rule, ins.args), rule["shared"]
        except Abort:
            return None

    def lock_name(self, addr: int) -> str:
        """A static lock by its name, a lock inside an mm by its member path (mm->context.lock)."""
        hit = self._lock_names.get(addr)
        if hit is None:
            hit = self._lock_names[addr] = self._name_lock(addr)
        return hit

    def _name_lock(self, addr: int) -> str:
        for name, a in self.lock_addrs.items():
            if a == addr:
                return name
        if MM_BASE <= addr < MM_BASE + 64 * MM_SIZE:
            path = self.layout.path_at(self.layout.role("mm_count")[0], (addr - MM_BASE) % MM_SIZE)
            if path is not None:
                return f"mm->{path}"
        return f"lock@{addr:#x}"

    def is_global_lock(self, addr: int) -> bool:
        return addr in self.lock_addrs.values()

    def fn_name(self, addr: int) -> str:
        """The function a function pointer value points to ("?" when it points to none)."""
        i = addr - FN_BASE
        return self.fn_names[i] if 0 <= i < len(self.fn_names) else "?"

    def field_offset(self, struct: str, path: str) -> int:
        """Offset of a member (or member path) of a struct; an unknown one is recorded as unresolved."""
        if "." not in path:
            return self.field_info(struct, path)[0]
        off = self.layout.offset(self.program.types.get(struct, struct), path)
        if off is None:
            self.obs.unresolved.add(f"field {path} of {struct} is not in the model's layout")
            return 0
        return off

    def role_offset(self, role: str) -> int:
        hit = self._roles.get(role)
        if hit is None:
            struct, path = self.layout.role(role)
            hit = self._roles[role] = self.field_offset(struct, path)
        return hit

    def note_cost(self, t: Thread, name: str, on: str, detail: str = "") -> None:
        stack = {f.fn for f in t.frames}
        for rule in self.cost_rules:
            if rule.on != on:
                continue
            if on == "call" and name not in rule.calls:
                continue
            if on == "lock" and rule.lock_kind != detail:
                continue
            if rule.in_functions and not (stack & set(rule.in_functions)):
                continue
            self.obs.costs.setdefault(rule.id, self.where(t))


class _FnTables(NamedTuple):
    code: list[Instr]
    shared: list[bool]  # an interleaving point: a step ends before it (_settle)
    choice: list[bool]  # a call whose result is explored both ways (_choice_at)
    lock: list[Primitive | None]  # the rule of a lock the call waits for (not a trylock)


_TABLES: dict[tuple, tuple[Compiled, dict, _FnTables]] = {}  # Machine._tables(), never edited
MEMO_TABLES = 4096
_NUMBERS: dict[tuple[str, ...], tuple[dict, list[str], dict[str, int]]] = {}
MEMO_PROGRAMS = 64


def _function_numbers(names: tuple[str, ...], prims: dict[str, Primitive]) -> tuple[list[str], dict[str, int]]:
    """Every function and primitive in name order, and each one's place (a function pointer's value):
    the same for every scenario of a program, so worked out once for each set of names. Never edited."""
    hit = _NUMBERS.get(names)
    if hit is None or hit[0] is not prims:
        if len(_NUMBERS) >= MEMO_PROGRAMS:
            _NUMBERS.clear()
        order = sorted(set(names) | set(prims))
        hit = _NUMBERS[names] = (prims, order, {n: i for i, n in enumerate(order)})
    return hit[1], hit[2]


def _readers(w: World) -> frozenset[tuple[str, int]]:
    """The RCU read-side sections running now, as (thread, section number): a GP waits for these."""
    return frozenset((t.name, t.rsec) for t in w.threads if t.reader and t.frames)


def _srcu_readers(w: World) -> frozenset[tuple[str, int]]:
    return frozenset((t.name, t.ssec) for t in w.threads if t.srcu_reader and t.frames)


def _gp_actions(r: sem.Rcu, readers: Callable[[], frozenset], sync_needs: list[int],
                prefix: str) -> list[Hashable]:
    """A domain's GP actions. With no reader about, a GP may as well start and end in one step
    ("gp"): that only drops intermediate states, every ordering of callbacks and threads remains."""
    if r.current:
        return [(prefix + "gp_end",)] if sem.gp_can_end(r, readers()) else []
    if sem.gp_wanted(r, sync_needs):
        return [(prefix + ("gp_start" if readers() else "gp"),)]
    return []


def _gp_step(r: sem.Rcu, kind: str, readers: frozenset, ctx: str, what: str, events: list[Event]) -> sem.Rcu:
    if kind == "gp_start":
        r = sem.start_gp(r, readers)
        events.append(Event(ctx, f"{what}grace period {r.current} starts"))
    elif kind == "gp":
        r = sem.end_gp(sem.start_gp(r, ()))
        events.append(Event(ctx, f"{what}grace period {r.completed} starts and ends (no {what}reader is running)"))
    else:
        r = sem.end_gp(r)
        events.append(Event(ctx, f"{what}grace period {r.completed} ends"))
    return r


def _is_aggregate(ty: str, scalars: frozenset[str]) -> bool:
    """A struct or a typedef'd struct: its value is its address (the layout names the scalar typedefs)."""
    ty = ty.strip()
    if ty.endswith("]"):
        return True  # an array member: its name is its address
    return not ty.endswith("*") and (ty.startswith("struct ") or ty.endswith("_t") and ty not in scalars)


def _deref_type(ty: str) -> str:
    ty = ty.strip()
    return ty[:-1].strip() if ty.endswith("*") else ty


def _truncate(v: int, ty: str) -> int:
    width = _WIDTHS.get(ty)
    if width is None:
        width = _width(ty)
        if len(_WIDTHS) < 4096:  # the types of a few programs' casts and stores
            _WIDTHS[ty] = width
    if width == 0:
        return v
    if width == 32:
        return v & 0xFFFF_FFFF
    if width == 64:
        return v & 0xFFFF_FFFF_FFFF_FFFF
    v &= 0xFFFF_FFFF
    return v - (1 << 32) if v & 0x8000_0000 else v


def _width(ty: str) -> int:
    """What _truncate does to a value of the type: 32 or 64 (unsigned), -32 (int), 0 (nothing)."""
    ty = " ".join(ty.split())
    if ty in ("unsigned int", "unsigned", "u32"):
        return 32
    if ty in ("unsigned long", "u64", "unsigned long long"):
        return 64
    return -32 if ty == "int" else 0


_WIDTHS: dict[str, int] = {}


_ARITH: dict[str, Callable[[int, int], int]] = {
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b if 0 <= b < 128 else 0, ">>": lambda a, b: a >> b if 0 <= b < 128 else 0,
    "*": lambda a, b: a * b, "/": lambda a, b: int(a / b) if b else 0, "%": lambda a, b: a % b if b else 0,
    "+": lambda a, b: a + b, "-": lambda a, b: a - b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b), "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
}


def _arith(op: str, a: int, b: int) -> int:
    fn = _ARITH.get(op)
    return fn(a, b) if fn is not None else 0


def _instr_shared(ins: Instr, prims: dict[str, Primitive], program: Program, shared_ids: frozenset[str]) -> bool:
    op = ins[0]
    if op == "call":
        name = ins.name
        if name in program.functions or name == "":
            return _touches_memory(ins.args, shared_ids)
        rule = prims.get(name)
        if rule is None:
            return False
        return not EFFECTS[rule.effect].pure or rule.may_sleep or _touches_memory(ins.args, shared_ids)
    if op == "eval":
        return _touches_memory([ins.expr], shared_ids)
    if op == "jf":
        return _touches_memory([ins.cond], shared_ids)
    if op == "ret":
        return ins.expr is not None and _touches_memory([ins.expr], shared_ids)
    return False


def _touches_memory(exprs: list, shared_ids: frozenset[str] = frozenset()) -> bool:
    """Whether evaluating the expressions reads or writes shared memory (through a pointer, or a
    file-scope variable)."""
    for e in exprs:
        if not is_node(e):
            continue
        if isinstance(e, Field) and e.arrow:
            return True
        if isinstance(e, Deref | Index):
            return True
        if isinstance(e, Id):
            if e.name in shared_ids:
                return True
            continue
        if isinstance(e, Addr):
            inner = e.inner  # taking an address is not an access, but computing its base may be
            if isinstance(inner, Field) and _touches_memory([inner.base], shared_ids):
                return True
            continue
        if isinstance(e, TypeArg):
            continue
        for x in e[1:]:
            if is_node(x) and _touches_memory([x], shared_ids):
                return True
            if isinstance(x, list) and _touches_memory(x, shared_ids):
                return True
    return False


def _mentions(e: object, names: set[str]) -> bool:
    if is_node(e):
        if isinstance(e, Id):
            return e.name in names
        return any(_mentions(x, names) for x in e[1:])  # type: ignore[index]
    if isinstance(e, list):
        return any(_mentions(x, names) for x in e)
    return False


def _branch_depends(code: list[Instr], pc: int, dst: tuple) -> bool:
    """Whether a branch (or the function's return value) reads what the call at pc stores in dst,
    directly or through locals assigned from it."""
    if not isinstance(dst, Id):
        return True  # stored into memory: anything may read it back
    tainted = {dst.name}
    for _round in range(4):
        grew = False
        for ins in code[pc + 1:]:
            lhs = None
            e = ins.expr if ins[0] == "eval" else None
            if isinstance(e, Assign) and isinstance(e.lhs, Id) and _mentions(e.rhs, tainted):
                lhs = e.lhs.name
            elif ins[0] == "call" and isinstance(ins.dst, Id) and _mentions(ins.args, tainted):
                lhs = ins.dst.name
            if lhs is not None and lhs not in tainted:
                tainted.add(lhs)
                grew = True
        if not grew:
            break
    return any((ins[0] == "jf" and _mentions(ins.cond, tainted)) or (ins[0] == "ret" and ins.expr is not None
               and _mentions(ins.expr, tainted)) for ins in code[pc + 1:])
