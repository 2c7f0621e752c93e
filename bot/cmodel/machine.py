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
from typing import Callable, Hashable, Iterable

from bot.cmodel.compile import CallIns, Compiled, Instr, instr
from bot.cmodel.costs import CostRule
from bot.cmodel.effect_api import EFFECTS, Abort, Call
from bot.cmodel.effects import check_may_sleep, check_table_write
from bot.cmodel.effects_sync import blocked_by, lock_target
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
from bot.sim.core import Event, Step, Violation

MAX_LOCAL_STEPS = 5000
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
        self.prims = primitives()
        self.layout = program.layout
        self.fn_names = sorted(set(program.functions) | set(self.prims))
        self.fn_index = {n: i for i, n in enumerate(self.fn_names)}
        self.lock_addrs: dict[str, int] = {}
        self._shared_cache: dict[tuple[str, int], bool] = {}
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
        self._choice_cache: dict[tuple[str, int], bool] = {}
        self._choice: int | None = None  # the value the next unknown call returns (a branch of the search)

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
        acts: list[Hashable] = []
        busy_cpus = {t.cpu for t in w.threads if t.ctx == "softirq"}
        blocked_any = False
        for i, t in enumerate(w.threads):
            if not t.frames:
                continue
            if t.ctx == "process" and t.cpu in busy_cpus:
                continue  # interrupted by a softirq on its CPU
            if t.wait_gp and w.gp_done < t.wait_gp:
                blocked_any = True
                continue
            if t.wait_gp == -1 and (w.cbs or any(x.ctx == "softirq" for x in w.threads)):
                blocked_any = True
                continue  # rcu_barrier: wait for every queued callback
            if t.wait_sgp and (w.sgp[1] < t.wait_sgp if t.wait_sgp > 0 else
                               w.scbs or any(x.name.startswith("srcu-cb") for x in w.threads)):
                blocked_any = True
                continue  # synchronize_srcu / srcu_barrier
            want = self._next_lock(w, t)
            holder = blocked_by(w, t, want[0], want[1]) if want is not None else None  # type: ignore[arg-type]
            if holder is not None:
                if holder == t.name:
                    acts.append(("deadlock", i, "self"))
                    continue
                owner = next((x for x in w.threads if x.name == holder), None)
                if t.ctx == "softirq" and owner is not None and owner.cpu == t.cpu and owner.ctx == "process":
                    acts.append(("deadlock", i, "softirq_reentry"))
                    continue
                blocked_any = True
                continue
            if self._at_choice(t):
                acts += [("run", i, 0), ("run", i, 1)]
                continue
            acts.append(("run", i))
        # RCU machinery. With no reader about, a grace period may as well start and end in one step:
        # that only drops intermediate states, every ordering of callbacks and threads remains.
        if w.gp_started == w.gp_done and self._gp_wanted(w):
            if any(t.reader and t.frames for t in w.threads):
                acts.append(("gp_start",))
            else:
                acts.append(("gp",))
        if w.gp_started > w.gp_done and not self._gp_blocked(w):
            acts.append(("gp_end",))
        for k, (_head, _fn, cpu, need) in enumerate(w.cbs):
            if w.gp_done >= need and cpu not in busy_cpus and self._softirq_ok(w, cpu):
                acts.append(("cb", k))
        for k in range(len(w.work)):
            if not any(t.ctx == "workqueue" for t in w.threads):
                acts.append(("work", k))
        acts += self._srcu_actions(w)
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
        elif kind == "gp_start":
            w.gp_started += 1
            w.gp_wait = frozenset((t.name, t.rsec) for t in w.threads if t.reader and t.frames)
            events.append(Event("RCU", f"grace period {w.gp_started} starts"))
        elif kind == "gp":
            w.gp_started += 1
            w.gp_done = w.gp_started
            w.gp_wait = frozenset()
            events.append(Event("RCU", f"grace period {w.gp_done} starts and ends (no reader is running)"))
        elif kind == "gp_end":
            w.gp_done = w.gp_started
            events.append(Event("RCU", f"grace period {w.gp_done} ends"))
        elif kind == "cb":
            head, fn, cpu, _need = w.cbs[action[1]]  # type: ignore[index]
            w.cbs = w.cbs[: action[1]] + w.cbs[action[1] + 1:]  # type: ignore[index,operator]
            if head >= 0:
                w.nodes[head] = "garbage"  # the rcu_head is free for reuse once its callback starts
            arg = -head if head < 0 else head  # mmu_gather batch entries carry the table, not a head
            self._spawn(w, Thread(f"softirq@CPU{cpu}", "softirq", cpu, [], rsec=1), fn, arg,
                        f"RCU callback {fn}() starts", events, violations)
        elif kind in ("sgp_start", "sgp", "sgp_end", "scb"):
            self._srcu_step(w, action, events, violations)
        elif kind == "work":
            fn, arg = w.work[action[1]]  # type: ignore[index]
            w.work = w.work[: action[1]] + w.work[action[1] + 1:]  # type: ignore[index,operator]
            self._spawn(w, Thread("kworker", "workqueue", -1, []), fn, arg, f"work {fn}() starts", events,
                        violations)
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

    # ---- RCU helpers --------------------------------------------------------------------------
    def _gp_wanted(self, w: World) -> bool:
        need = w.gp_started + 1
        # Retired tables alone need no grace period: nothing in the code waits for one unless it
        # queued a callback or called synchronize_rcu(), and a wait that never ends only removes paths.
        return any(c[3] >= need for c in w.cbs) or any(t.wait_gp >= need for t in w.threads)

    def _gp_blocked(self, w: World) -> bool:
        return any(t.reader and t.frames and (t.name, t.rsec) in w.gp_wait for t in w.threads)

    def _softirq_ok(self, w: World, cpu: int) -> bool:
        for t in w.threads:
            if t.cpu == cpu and t.ctx == "process" and t.frames and t.bh > 0:
                return False
        return True

    # SRCU: a grace-period domain of its own, with the same rules as RCU's above, over SRCU readers.
    def _srcu_actions(self, w: World) -> list[Hashable]:
        started, done, _wait = w.sgp
        acts: list[Hashable] = []
        need = started + 1
        wanted = any(c[3] >= need for c in w.scbs) or any(t.wait_sgp >= need for t in w.threads)
        if started == done and wanted:
            acts.append(("sgp_start",) if any(t.srcu_reader and t.frames for t in w.threads) else ("sgp",))
        if started > done and not any(t.srcu_reader and t.frames and (t.name, t.ssec) in w.sgp[2]
                                      for t in w.threads):
            acts.append(("sgp_end",))
        if not any(t.name.startswith("srcu-cb") for t in w.threads):
            acts += [("scb", k) for k, cb in enumerate(w.scbs) if done >= cb[3]]
        return acts

    def _srcu_step(self, w: World, action: Hashable, events: list[Event], violations: list[Violation]) -> None:
        started, done, wait = w.sgp
        kind = action[0]  # type: ignore[index]
        if kind == "sgp_start":
            w.sgp = (started + 1, done, frozenset((t.name, t.ssec) for t in w.threads if t.srcu_reader and t.frames))
            events.append(Event("SRCU", f"SRCU grace period {started + 1} starts"))
        elif kind == "sgp":
            w.sgp = (started + 1, started + 1, frozenset())
            events.append(Event("SRCU", f"SRCU grace period {started + 1} starts and ends (no SRCU reader)"))
        elif kind == "sgp_end":
            w.sgp = (started, started, frozenset())
            events.append(Event("SRCU", f"SRCU grace period {started} ends"))
        else:
            k = action[1]  # type: ignore[index]
            head, fn, cpu, _need = w.scbs[k]
            w.scbs = w.scbs[:k] + w.scbs[k + 1:]
            if head >= 0:
                w.nodes[head] = "garbage"
            # SRCU callbacks run from a workqueue with softirqs disabled: atomic, interrupting nobody
            self._spawn(w, Thread(f"srcu-cb@CPU{cpu}", "softirq", -1, [], rsec=1), fn, abs(head),
                        f"SRCU callback {fn}() starts", events, violations)

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
                [instr("call", None, prim, [("id", "$arg")], 0), instr("ret", None, 0)], {"$arg": "void *"}, 0)
        return self.program.functions[name]

    def _run(self, w: World, i: int, events: list[Event], violations: list[Violation]) -> None:
        t = w.running(i)
        if t.wait_gp:
            t.wait_gp = 0
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
        while t.frames and not violations:
            f = t.frames[-1]
            if self._is_shared(f.fn, f.pc) or t.wait_gp:
                return
            n += 1
            if n > MAX_LOCAL_STEPS:
                raise Abort(Violation("nontermination", f"{f.fn} runs too long without a shared access", ()))
            self._exec(w, t, events, violations)

    def _is_shared(self, fn: str, pc: int) -> bool:
        key = (fn, pc)
        hit = self._shared_cache.get(key)
        if hit is None:
            code = self.program.functions[fn].code
            ins = code[pc]
            hit = _instr_shared(ins, self.prims, self.program, self._globals) or self._choice_point(fn, pc)
            self._shared_cache[key] = hit
        return hit

    def _at_choice(self, t: Thread | FrozenThread) -> bool:
        if not t.frames:
            return False
        f = t.frames[-1]
        return self._choice_point(f.fn, f.pc)

    def _choice_point(self, fn: str, pc: int) -> bool:
        """An unknown or opaque call whose result a branch of its function (or its caller, through
        the return value) depends on: both a zero and a non-zero result are explored."""
        key = (fn, pc)
        hit = self._choice_cache.get(key)
        if hit is None:
            code = self.program.functions[fn].code
            ins = code[pc] if pc < len(code) else None
            hit = False
            if isinstance(ins, CallIns) and ins.dst is not None and ins.name and ins.name not in self.program.functions:
                rule = self.prims.get(ins.name)
                if rule is None or rule.effect == "opaque":
                    hit = _branch_depends(code, pc, ins.dst)
            self._choice_cache[key] = hit
        return hit

    # One branch per instruction kind, in the interpreter's hottest loop: a dispatch table would add
    # a call per instruction.
    def _exec(self, w: World, t: Thread, events: list[Event], violations: list[Violation]) -> None:  # noqa: C901
        f = t.frames[-1]
        code = self.program.functions[f.fn]
        ins = code.code[f.pc]
        op = ins[0]
        f.pc += 1
        if op == "call":
            _, dst, name, args, line = ins  # CallIns
            callee = None
            if name == "":
                callee, args = args[0], args[1:]
            elif name in f.locals and name not in self.program.functions:
                callee = ("id", name)  # fn(x) where fn is a parameter or local: a call through it
            if callee is not None:
                if callee[0] == "deref":
                    callee = callee[1]  # (*fn)(x) calls what fn points to
                target = self.eval(w, t, callee)
                name = self.fn_names[target - FN_BASE] if FN_BASE <= target < FN_BASE + len(self.fn_names) else ""
            if name in self.program.functions:
                vals = [self.eval(w, t, a) for a in args]
                where = self.where_at(f.fn, line)
                events.append(Event(t.name, f"{self.source(f.fn, line) or name + '()'}", where))
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
            if self._is_shared(f.fn, f.pc - 1):
                events.append(Event(t.name, self.source(f.fn, ins.line), self.where_at(f.fn, ins.line)))
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
            t.frames.pop()
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
    # One branch per expression kind, hottest first; a dispatch table would add a call per node.
    def eval(self, w: World, t: Thread, e: tuple) -> int:  # noqa: C901
        k = e[0]
        if k == "num":
            return e[1]
        if k == "id":
            return self.lookup(w, t, e[1])
        if k == "bin":
            return self._binop(w, t, e)
        if k == "un":
            v = self.eval(w, t, e[2])
            op = e[1]
            return (not v) if op == "!" else (~v if op == "~" else (-v if op == "-" else v))
        if k == "field":
            addr, ty = self.field_addr(w, t, e)
            if _is_aggregate(ty, self.layout.scalars):
                return addr
            return self.load(w, t, addr, e)
        if k == "addr":
            inner = e[1]
            if inner[0] == "field":
                return self.field_addr(w, t, inner)[0]
            if inner[0] == "deref":
                return self.eval(w, t, inner[1])
            if inner[0] == "id":
                if self._is_local(t, inner[1]):
                    return self._spill(w, t, inner[1])
                gaddr = self._global_of(t, inner[1])
                if gaddr is not None:
                    return gaddr
                return self.lookup(w, t, inner[1])  # &function or &static lock: its address
            return self.eval(w, t, inner)
        if k == "deref":
            return self.load(w, t, self.eval(w, t, e[1]), e)
        if k == "cast":
            v = self.eval(w, t, e[2])
            return _truncate(v, e[1])
        if k == "cond":
            return self.eval(w, t, e[2]) if self.eval(w, t, e[1]) else self.eval(w, t, e[3])
        if k == "assign":
            return self._assign(w, t, e)
        if k == "update":
            cur = self.eval(w, t, e[2])
            step = self._scale(t, e[2])
            new = cur + step if e[1] == "++" else cur - step
            self.store(w, t, e[2], new)
            return new
        if k == "sizeof":
            return self.sizeof(e[1])
        if k == "index":
            base = self.eval(w, t, e[1])
            return self.load(w, t, base + self.eval(w, t, e[2]) * self._scale(t, e[1]), e)
        if k == "comma":
            v = 0
            for sub in e[1]:
                v = self.eval(w, t, sub)
            return v
        if k == "raw":
            self.obs.unresolved.add(f"{t.frames[-1].fn}() evaluates code the model cannot read: {e[1][:60]}")
        return 0

    def _binop(self, w: World, t: Thread, e: tuple) -> int:
        op = e[1]
        a = self.eval(w, t, e[2])
        if op == "&&":
            return int(bool(a) and bool(self.eval(w, t, e[3])))
        if op == "||":
            return int(bool(a) or bool(self.eval(w, t, e[3])))
        b = self.eval(w, t, e[3])
        if op in ("+", "-"):
            sa = self._scale(t, e[2])
            sb = self._scale(t, e[3])
            if sa > 1 and sb == 1:
                b *= sa
            elif sb > 1 and sa == 1 and op == "+":
                a *= sb
            elif sa > 1 and sb > 1 and op == "-":
                return (a - b) // sa
            return a + b if op == "+" else a - b
        return _arith(op, a, b)

    def _assign(self, w: World, t: Thread, e: tuple) -> int:
        op, lhs, rhs = e[1], e[2], e[3]
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
            fr.locals[key] = base + used
            fr.locals["&"] = used + size
            if name in fr.locals:
                w.mem[base + used] = fr.locals.pop(name)
        return fr.locals[key]

    def lookup(self, w: World, t: Thread, name: str) -> int:
        fr = t.frames[-1]
        if "&" + name in fr.locals:
            return w.mem.get(fr.locals["&" + name], 0)
        if name in fr.locals:
            return fr.locals[name]
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
            return self.load(w, t, addr, ("id", name))
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

    def store(self, w: World, t: Thread, lhs: tuple, val: int) -> None:
        k = lhs[0]
        if k == "id":
            fr = t.frames[-1]
            name = lhs[1]
            if "&" + name in fr.locals:
                w.mem[fr.locals["&" + name]] = val
            elif name in self.global_addrs and name not in fr.locals and name not in \
                    self.program.functions[fr.fn].local_types:
                self.write(w, t, self.global_addrs[name], val, lhs)
            else:
                fr.locals[name] = val
        elif k == "field":
            addr, _ty = self.field_addr(w, t, lhs)
            self.write(w, t, addr, val, lhs)
        elif k == "deref":
            self.write(w, t, self.eval(w, t, lhs[1]), val, lhs)
        elif k == "index":
            base = self.eval(w, t, lhs[1])
            self.write(w, t, base + self.eval(w, t, lhs[2]) * self._scale(t, lhs[1]), val, lhs)

    # ---- memory -------------------------------------------------------------------------------
    def check_alive(self, w: World, t: Thread, addr: int, what: str, write: bool = False) -> None:
        if w.slabs and check_access(self, w, t, addr, what, write):
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
        if w.slabs:
            remember(w, t, val)
        return val

    def write(self, w: World, t: Thread, addr: int, val: int, e: tuple) -> None:
        self.check_alive(w, t, addr, "writes", write=True)
        if w.grace and DATA_BASE <= addr:
            check_table_write(self, w, t, addr, "a store")
        w.mem[addr] = val

    def field_addr(self, w: World, t: Thread, e: tuple) -> tuple[int, str]:
        _, base, name, arrow = e
        if arrow:
            base_val = self.eval(w, t, base)
            sty = _deref_type(self.type_of(t, base))
        else:
            if base[0] == "field":
                base_val, sty = self.field_addr(w, t, base)
            elif base[0] == "id" and self._is_local(t, base[1]):
                base_val, sty = self._spill(w, t, base[1]), self.type_of(t, base)  # an on-stack struct
            else:
                gaddr = self._global_of(t, base[1]) if base[0] == "id" else None
                base_val, sty = gaddr or 0, self.type_of(t, base)
        off, fty = self.field_info(sty, name)
        return base_val + off, fty

    def field_info(self, struct: str, name: str) -> tuple[int, str]:
        structs = self.layout.structs
        struct = self.program.types.get(struct, struct)
        ent = structs.get(struct, {}).get(name)
        if ent is None:
            # Partial code may lack the declaration that types the base: fall back to a unique field name.
            cands = [s[name] for s in structs.values() if name in s]
            if len(cands) >= 1:
                ent = cands[0]
            else:
                self.obs.unresolved.add(f"field {name} of {struct} is not in the model's layout")
                return 0x800 + (sum(map(ord, name)) * 8) % 0x700, "long"
        return ent[0], ent[1]

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

    def type_of(self, t: Thread, e: tuple) -> str:
        k = e[0]
        if k == "id":
            fr = t.frames[-1] if t.frames else None
            if fr is not None:
                code = self.program.functions.get(fr.fn)
                if code is not None and e[1] in code.local_types:
                    return self._norm_type(code.local_types[e[1]])
            if e[1] in self.program.globals:
                return self._norm_type(self.program.globals[e[1]][0])
            return "long"
        if k == "cast":
            return self._norm_type(e[1])
        if k == "field":
            if e[3]:
                sty = _deref_type(self.type_of(t, e[1]))
            else:
                sty = self.type_of(t, e[1])
            return self._norm_type(self.field_info(sty, e[2])[1])
        if k == "addr":
            return self.type_of(t, e[1]) + " *"
        if k == "deref":
            return _deref_type(self.type_of(t, e[1]))
        if k == "bin" and e[1] in ("+", "-"):
            lt = self.type_of(t, e[2])
            return lt if lt.endswith("*") else self.type_of(t, e[3])
        if k == "assign":
            return self.type_of(t, e[2])
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
        sl = self.program.where(fn, line)
        return " ".join(sl.text.split()) if sl else ""

    def where_at(self, fn: str, line: int) -> str:
        sl = self.program.where(fn, line)
        return f"{sl.file}:{sl.line}" if sl else ""

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
        ins = self.program.functions[f.fn].code[f.pc]
        if not isinstance(ins, CallIns) or ins.name in self.program.functions:
            return None
        rule = self.prims.get(ins.name)
        if rule is None or rule.effect != "lock" or rule["trylock"]:
            return None
        live = t if isinstance(t, Thread) else Thread.thaw(t)
        try:
            return lock_target(self, w, live, rule, ins.args), rule["shared"]
        except Abort:
            return None

    def lock_name(self, addr: int) -> str:
        """A static lock by its name, a lock inside an mm by its member path (mm->context.lock)."""
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
    ty = " ".join(ty.split())
    if ty in ("unsigned int", "unsigned", "u32"):
        return v & 0xFFFF_FFFF
    if ty in ("unsigned long", "u64", "unsigned long long"):
        return v & 0xFFFF_FFFF_FFFF_FFFF
    if ty in ("int",):
        v &= 0xFFFF_FFFF
        return v - (1 << 32) if v & 0x8000_0000 else v
    return v


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
        if not isinstance(e, tuple) or not e:
            continue
        k = e[0]
        if k == "field" and e[3]:
            return True
        if k == "deref" or k == "index":
            return True
        if k == "id":
            if e[1] in shared_ids:
                return True
            continue
        if k == "addr":
            inner = e[1]  # taking an address is not an access, but computing its base may be
            if isinstance(inner, tuple) and inner and inner[0] == "field" and _touches_memory([inner[1]], shared_ids):
                return True
            continue
        if k == "type":
            continue
        for x in e[1:]:
            if isinstance(x, tuple) and _touches_memory([x], shared_ids):
                return True
            if isinstance(x, list) and _touches_memory(x, shared_ids):
                return True
    return False


def _mentions(e: object, names: set[str]) -> bool:
    if isinstance(e, tuple):
        if len(e) == 2 and e[0] == "id":
            return e[1] in names
        return any(_mentions(x, names) for x in e[1:])
    if isinstance(e, list):
        return any(_mentions(x, names) for x in e)
    return False


def _branch_depends(code: list[Instr], pc: int, dst: tuple) -> bool:
    """Whether a branch (or the function's return value) reads what the call at pc stores in dst,
    directly or through locals assigned from it."""
    if dst[0] != "id":
        return True  # stored into memory: anything may read it back
    tainted = {dst[1]}
    for _round in range(4):
        grew = False
        for ins in code[pc + 1:]:
            lhs = None
            if ins[0] == "eval" and ins.expr[0] == "assign" and ins.expr[2][0] == "id" and _mentions(ins.expr[3], tainted):
                lhs = ins.expr[2][1]
            elif ins[0] == "call" and ins.dst is not None and ins.dst[0] == "id" and _mentions(ins.args, tainted):
                lhs = ins.dst[1]
            if lhs is not None and lhs not in tainted:
                tainted.add(lhs)
                grew = True
        if not grew:
            break
    return any((ins[0] == "jf" and _mentions(ins.cond, tainted)) or (ins[0] == "ret" and ins.expr is not None
               and _mentions(ins.expr, tainted)) for ins in code[pc + 1:])
