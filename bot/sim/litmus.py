"""The model of a litmus scenario: kernel contexts, objects, locks, lists and RCU, with the invariants.

State is a tuple of immutable parts so the checker can hash it. Each action is one op of one
context, or a step of the RCU machinery (a GP starts or ends, a ready callback is invoked in softirq
on some CPU). Violations carry the kind names the rules/ classifier maps to hazard ids.

The kernel's rules (contexts, readers, callbacks on the CPU that queued them, locks, lists,
lifetimes) are decided by bot.sim.semantics, the module the C interpreter decides through too; this
file maps litmus ops onto them over abstract objects, slots and locks. A litmus op that is a kernel
primitive (spin_lock_bh, rcu_barrier, mmdrop, ...) runs as its rule in rules/primitives.toml says,
the rule the C interpreter runs the call by: the op is dispatched on the rule's effect kind, and the
effect's parameters (`bh`, `flavour`, `may_sleep`, `release` and its `forbid_ctx`) decide what it
does. Only the ops with no kernel spelling (free, alloc, deref, use, publish, flags, if) are the
litmus language's own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Hashable, Iterable, NamedTuple

from bot.cmodel.effect_api import Primitive
from bot.cmodel.primitives import primitives
from bot.sim import semantics as sem
from bot.sim.core import Event, Step, Violation
from bot.sim.scenario import Instr, Scenario, ScenarioError

RUN = "run"
PENDING = "pending"  # a declared softirq thread that has not yet entered


class Ctx(NamedTuple):
    name: str  # "CPU0", "softirq@CPU1", "kworker/0"
    kind: str  # process | softirq | workqueue
    cpu: int  # -1 for kworkers
    frames: tuple[tuple[int, int], ...]  # (code, pc) call stack; () = finished
    status: Any  # RUN | PENDING | (WAITS kind, need or heads): synchronize_rcu/srcu, rcu/srcu_barrier
    rcu: int = 0  # rcu_read_lock nesting
    bh: int = 0  # BH-disabled count (local_bh_disable, spin_lock_bh)
    preempt: int = 0  # preemption-disabled count (preempt_disable; spinlocks held count as well)
    held: tuple[tuple[int, bool], ...] = ()  # locks held, in order, and whether each disabled softirqs
    derefs: tuple[tuple[int, int], ...] = ()  # (object, generation) seen by rcu_dereference
    label: str = ""  # thread or callback name
    origin: int = -1  # the rcu_head slot this callback was queued on
    srcu: int = 0  # srcu_read_lock() nesting: an SRCU reader, neither an RCU reader nor atomic
    domain: str = ""  # a callback's grace-period domain: "rcu" | "srcu"

    @property
    def started(self) -> bool:
        return bool(self.frames) and self.status != PENDING

    @property
    def reader(self) -> bool:
        return self.started and sem.is_reader(self.rcu, self.bh, len(self.held) + self.preempt,
                                              self.kind == "softirq")

    @property
    def srcu_reader(self) -> bool:
        return self.started and self.srcu > 0

    @property
    def locks(self) -> tuple[int, ...]:
        return tuple(lk for lk, _ in self.held)

    @property
    def counters(self) -> sem.Section:
        return sem.Section(self.rcu, self.bh, self.preempt)


class ObjS(NamedTuple):
    alive: bool
    gen: int  # allocation generation (typesafe reuse makes a new one at the same address)
    refs: int
    freed_by: str
    flags: int  # bitmask over Scenario.flags
    pub: bool = True  # reachable by rcu_dereference()


class State(NamedTuple):
    ctxs: tuple[Ctx, ...]
    objs: tuple[ObjS, ...]
    slots: tuple[Any, ...]  # None | ("list", list) | ("rcu", fn)
    locks: tuple[str | None, ...]  # holder name
    rcu: sem.Rcu
    srcu: sem.Rcu = sem.INITIAL  # SRCU: a grace-period domain of its own, with RCU's rules


# A sleeping context's status: (kind, need) until a GP of the domain ends, (kind, heads) until the
# callbacks queued before the barrier have run; the domain and the call each kind stands for.
WAITS = {"sync": ("rcu", "synchronize_rcu"), "ssync": ("srcu", "synchronize_srcu"),
         "barrier": ("rcu", "rcu_barrier"), "sbarrier": ("srcu", "srcu_barrier")}


class _Viol(Exception):
    def __init__(self, v: Violation) -> None:
        self.v = v


class ScenarioModel:
    """A bot.sim.core Model (with the optional `ample` reduction hook) for one Scenario."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.name = sc.name
        self._fp = _Footprints(sc)
        self.rules = op_rules(sc)

    # ---------------------------------------------------------------- protocol

    def init_states(self) -> Iterable[State]:
        sc = self.sc
        ctxs = []
        for t in sc.threads:
            if t.ctx == "process":
                name, status = f"CPU{t.cpu}", RUN
            elif t.ctx == "softirq":
                name, status = f"softirq@CPU{t.cpu}", PENDING
            else:
                name, status = f"kworker/{t.name}", RUN
            frames = ((t.code, 0),) if sc.codes[t.code] else ()
            ctxs.append(Ctx(name, t.ctx, t.cpu if t.ctx != "workqueue" else -1, frames, status, label=t.name))
        objs = []
        for o in sc.objects:
            bits = 0
            for f in o.flags:
                bits |= 1 << sc.flag_index[f"{o.name}.{f}"]
            objs.append(ObjS(o.allocated, 0, o.refs, "", bits))
        slots = [None] * len(sc.slots)
        for s, lst in sc.listed.items():
            slots[s] = ("list", lst)
        yield State(tuple(ctxs), tuple(objs), tuple(slots), (None,) * len(sc.locks), sem.INITIAL)

    def actions(self, s: State) -> list[Hashable]:
        acts: list[Hashable] = []
        busy = {c.cpu for c in s.ctxs if c.kind == "softirq" and c.started}
        bh_off = {c.cpu for c in s.ctxs if c.kind == "process" and c.started and c.bh}
        for i, c in enumerate(s.ctxs):
            if not c.frames:
                continue
            if c.status == PENDING:
                if c.cpu not in busy and c.cpu not in bh_off:
                    acts.append(("run", i))
                continue
            if c.kind == "process" and c.cpu in busy:
                continue  # interrupted by a softirq on its CPU
            if self._enabled(s, c):
                acts.append(("run", i))
        for prefix, dom in (("", s.rcu), ("s", s.srcu)):
            needs = [c.status[1] for c in s.ctxs if isinstance(c.status, tuple) and c.status[0] == prefix + "sync"]
            if sem.gp_wanted(dom, needs):
                acts.append((prefix + "gp_start",))
            if sem.gp_can_end(dom):
                acts.append((prefix + "gp_end",))
        for cb in sem.invocable(s.rcu, busy, bh_off):  # on the CPU that queued it
            acts.append(("cb", cb.head, cb.cpu))
        if not any(c.domain == "srcu" for c in s.ctxs):  # SRCU callbacks: one at a time, from a workqueue
            acts += [("scb", cb.head, cb.cpu) for cb in sem.ready(s.srcu)]
        return acts

    def step(self, s: State, a: Hashable) -> Step:
        kind = a[0]  # type: ignore[index]
        if kind in ("gp_start", "gp_end", "sgp_start", "sgp_end"):
            return self._gp(s, kind)
        if kind in ("cb", "scb"):
            _, head, cpu = a  # type: ignore[misc]
            srcu = kind == "scb"
            dom = s.srcu if srcu else s.rcu
            cb = next(c for c in dom.cbs if c.head == head)
            assert cb.cpu == cpu
            # an SRCU callback runs from a workqueue with softirqs off: atomic, interrupting nobody
            name, on = (f"srcu-cb@CPU{cpu}", -1) if srcu else (f"softirq@CPU{cpu}", cpu)
            ctx = Ctx(name, "softirq", on, ((self.sc.functions[cb.fn], 0),), RUN, label=cb.fn, origin=head,
                      domain="srcu" if srcu else "rcu")
            st = s._replace(ctxs=_add_ctx(s.ctxs, ctx), slots=_set(s.slots, head, None))
            st = st._replace(srcu=sem.take(dom, cb)) if srcu else st._replace(rcu=sem.take(dom, cb))
            ev = Event(name, f"{cb.fn}() invoked (callback on {self.sc.slots[head]})")
            return Step(st, (ev,))
        i = a[1]  # type: ignore[index]
        try:
            st, events = self._run(s, i)
        except _Viol as e:
            c = s.ctxs[i]
            code, pc = c.frames[-1]
            return Step(s, (Event(c.name, self._text(c, code, pc)),), (e.v,))
        return Step(st, events)

    def _gp(self, s: State, kind: str) -> Step:
        """A grace period of RCU (gp_*) or SRCU (sgp_*) starts, waiting for that domain's readers, or ends."""
        srcu = kind.startswith("s")
        dom, who = (s.srcu, "SRCU") if srcu else (s.rcu, "RCU")
        if kind.endswith("start"):
            readers = [c.name for c in s.ctxs if (c.srcu_reader if srcu else c.reader)]
            r = sem.start_gp(dom, readers)
            wait = f" (waits for {', '.join(sorted(readers))})" if readers else ""
            ev = Event(who, f"{'SRCU ' if srcu else ''}grace period {r.current} starts{wait}")
        else:
            r = sem.end_gp(dom)
            ev = Event(who, f"{'SRCU ' if srcu else ''}grace period {r.completed} ends")
        return Step(s._replace(srcu=r) if srcu else s._replace(rcu=r), (ev,))

    def at_quiescence(self, s: State) -> Iterable[Violation]:
        stuck = [c for c in s.ctxs if c.frames]
        if stuck:
            waits = {}
            for c in stuck:
                code, pc = c.frames[-1]
                if c.status != RUN or pc >= len(self.sc.codes[code]):
                    continue
                ins = self.sc.codes[code][pc]
                if self._effect(ins) == "lock":
                    waits[c.name] = (s.locks[ins.args[0]], self.sc.locks[ins.args[0]])
            cause, lock = "self", ""
            for name, (holder, lk) in waits.items():
                seen, cur = {name}, holder
                while cur in waits and cur not in seen:
                    seen.add(cur)
                    cur = waits[cur][0]
                if cur in seen:
                    cause, lock = "abba", lk
                    break
            names = ", ".join(c.name for c in stuck)
            yield Violation("deadlock", f"{names} can never finish", (("lock", lock), ("cause", cause)))
        for o, os_ in zip(self.sc.objects, s.objs):
            if o.leak_check and os_.alive:
                yield Violation("leak", f"{o.name} ({o.type}) is never freed", (("object", o.type),))

    # ---------------------------------------------------------------- POR

    def ample(self, s: State, acts: list[Hashable]) -> list[Hashable]:
        """A one-action persistent set when some context's next op touches nothing another
        context (running, pending, or yet to be spawned) may ever touch; else all actions.

        Sound for these state graphs: they are acyclic (every step consumes an op, a GP or a
        callback), so the cycle proviso holds, and the chosen op commutes with every other
        context's future ops. Steps that change reader status (they interact with GP start) or
        end a context are never chosen alone."""
        runs = [a for a in acts if a[0] == "run"]  # type: ignore[index]
        if len(acts) < 2 or not runs:
            return acts
        fp = self._fp
        futures = []
        for c in s.ctxs:
            if not c.frames:
                futures.append(frozenset())
                continue
            f: set[str] = set()
            for code, pc in c.frames:
                f |= fp.suffix_all[code][pc]
            futures.append(frozenset(f))
        queued = set()
        for cb in s.rcu.cbs + s.srcu.cbs:
            queued |= fp.total_all[self.sc.functions[cb.fn]]
        gp_live = (
            sem.gp_possible(s.rcu)
            or sem.gp_possible(s.srcu)
            or any(c.frames and isinstance(c.status, tuple) for c in s.ctxs)
            or any("rcu!" in f for f in futures)
            or any("rcu!" in fp.total_all[self.sc.functions[cb.fn]] for cb in s.rcu.cbs + s.srcu.cbs)
        )
        softirq_live = gp_live or any(c.status == PENDING for c in s.ctxs)
        in_futures = Counter(t for f in futures for t in f)
        for a in runs:
            i = a[1]  # type: ignore[index]
            c = s.ctxs[i]
            if c.status != RUN:
                continue
            code, pc = c.frames[-1]
            mine = fp.instr[code][pc]
            if mine is None:  # reader-status change, RCU call, or context end: never alone
                continue
            if len(c.frames) == 1 and pc == len(self.sc.codes[code]) - 1:
                continue
            if ("cpu" in mine and softirq_live) or ("rcu" in mine and gp_live):
                continue
            spawned = fp.spawn_of(c)  # what this context queues runs elsewhere
            own = futures[i]
            # t is in another context's future when more futures than this one's hold it: counted
            # once, so a state of many contexts costs linear time, not quadratic
            if not any(t in queued or t in spawned or in_futures[t] > (t in own) for t in mine):
                return [a]
        return acts

    # ---------------------------------------------------------------- semantics

    def _instr(self, c: Ctx) -> Instr:
        code, pc = c.frames[-1]
        return self.sc.codes[code][pc]

    def _text(self, c: Ctx, code: int, pc: int) -> str:
        ins = self.sc.codes[code][pc]
        where = self.sc.code_names[code]
        return ins.text if where == c.label else f"{where}: {ins.text}"

    def _enabled(self, s: State, c: Ctx) -> bool:
        st = c.status
        if isinstance(st, tuple):
            domain = WAITS[st[0]][0]
            dom = s.srcu if domain == "srcu" else s.rcu
            if st[0].endswith("sync"):
                return sem.sync_done(dom, st[1])
            return sem.barrier_done(dom, st[1], _running(s, domain))
        ins = self._instr(c)
        if self._effect(ins) == "lock":
            # a deadlock (on itself, or a softirq on the thread it interrupted) is reported, not blocked
            return self._lock_outcome(s, c, ins.args[0]) != sem.WAIT
        return True

    def _lock_outcome(self, s: State, c: Ctx, lk: int) -> str:
        holder = s.locks[lk]
        h = next((x for x in s.ctxs if x.name == holder), None)
        return sem.lock_outcome(holder, c.name, c.kind, c.cpu, h.kind if h else "", h.cpu if h else -2)

    def _viol(self, kind: str, detail: str, c: Ctx, **attrs: str) -> _Viol:
        at = {"ctx": c.kind}
        at.update(attrs)
        return _Viol(Violation(kind, detail, tuple(sorted(at.items()))))

    def _run(self, s: State, i: int) -> tuple[State, tuple[Event, ...]]:
        c = s.ctxs[i]
        if isinstance(c.status, tuple):  # a sleep ends: the GP or the barrier is over
            op = WAITS[c.status[0]][1]
            return self._finish(s, i, c._replace(status=RUN), (Event(c.name, f"{op}() returns"),))
        if c.status == PENDING:
            c = c._replace(status=RUN)
        code, pc = c.frames[-1]
        ins = self.sc.codes[code][pc]
        ev = (Event(c.name, self._text(c, code, pc)),)
        c = c._replace(frames=c.frames[:-1] + ((code, pc + 1),))  # calls push above this
        rule = self.rules.get(ins.op)
        if rule is None:
            res = getattr(self, "_op_" + ins.op)(s, c, ins)
        else:
            if sem.may_sleep(rule.may_sleep, rule.gfp_arg, None):
                self._sleep(c, ins.op)
            res = _EFFECTS[rule.effect](self, s, c, ins, rule)
        if len(res) == 3:  # a jump (-1: fall through)
            s, c, target = res
            if target >= 0:
                c = c._replace(frames=c.frames[:-1] + ((code, target),))
        else:
            s, c = res
        return self._finish(s, i, c, ev)

    def _finish(self, s: State, i: int, c: Ctx, ev: tuple[Event, ...]) -> tuple[State, tuple[Event, ...]]:
        frames = c.frames
        while frames and c.status == RUN and frames[-1][1] >= len(self.sc.codes[frames[-1][0]]):
            frames = frames[:-1]
        c = c._replace(frames=frames)
        r, sr = s.rcu, s.srcu
        if not c.reader:
            r = sem.reader_left(r, c.name)
        if not c.srcu_reader:
            sr = sem.reader_left(sr, c.name)
        if c.derefs and not c.reader and not c.srcu_reader:
            c = c._replace(derefs=())
        ctxs = list(s.ctxs)
        i = next(k for k, x in enumerate(ctxs) if x.name == c.name)  # a spawn may have re-sorted them
        if not frames and c.held:
            raise ScenarioError(f"{c.label} ends holding {[self.sc.locks[h] for h in c.locks]}")
        if not frames and _dynamic(c):
            del ctxs[i]
        else:
            ctxs[i] = c
        return s._replace(ctxs=tuple(ctxs), rcu=r, srcu=sr), ev

    def _effect(self, ins: Instr) -> str:
        rule = self.rules.get(ins.op)
        return rule.effect if rule else ""

    # each _op_X returns (state, ctx) or (state, ctx, next_pc); it may raise _Viol; each _eff_X (the
    # ops that are kernel primitives, by their rule's effect kind) is given the rule too

    def _check_obj(self, s: State, c: Ctx, o: int, what: str, **attrs: str) -> None:
        """The object's memory must be live for ctx (typesafe memory is always type-valid)."""
        os_ = s.objs[o]
        ob = self.sc.objects[o]
        seen = dict(c.derefs).get(o)
        if ob.typesafe:
            if seen is not None and (seen != os_.gen or not os_.alive) and attrs.get("mode") != "lock":
                raise self._viol(
                    "reader_saw_reuse",
                    f"{what} on {ob.name} after it was freed and reused",
                    c,
                    object=ob.type,
                    **attrs,
                )
            if seen is None and not os_.alive:
                raise self._viol(
                    "use_after_free",
                    f"{what} on freed {ob.name}",
                    c,
                    object=ob.type,
                    freed_by=os_.freed_by,
                    **attrs,
                )
            return
        if not os_.alive:
            if c.rcu:
                raise self._viol(
                    "reader_saw_free",
                    f"{what}: RCU reader inside {ob.name}, freed "
                    f"({os_.freed_by or 'never allocated'}) before its grace period ended",
                    c,
                    object=ob.type,
                    freed_by=os_.freed_by,
                    **attrs,
                )
            raise self._viol(
                "use_after_free",
                f"{what} on {ob.name}, already freed ({os_.freed_by})",
                c,
                object=ob.type,
                freed_by=os_.freed_by or "never_allocated",
                **attrs,
            )

    def _op_jump_unless(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx, int]:
        cond, target = ins.args
        ok = True
        objs = s.objs
        for neg, test, x in cond:
            if test == "live":
                v = s.objs[x].alive
            elif test == "same":
                os_ = s.objs[x]
                v = os_.alive and os_.pub and dict(c.derefs).get(x) == os_.gen
            elif test == "found":
                v = x in dict(c.derefs)
            elif test == "listed":
                v = bool(s.slots[x]) and s.slots[x][0] == "list"
            else:
                o = self.sc.flag_obj[x]
                v = bool(objs[o].flags >> x & 1)
                if test == "test_and_clear" and v:
                    objs = _set(objs, o, objs[o]._replace(flags=objs[o].flags & ~(1 << x)))
            ok = ok and (v != neg)
        return s._replace(objs=objs), c, (-1 if ok else target)

    def _op_jump(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx, int]:
        return s, c, ins.args[0]

    def _eff_section(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        """rcu_read_lock/unlock (and _bh), local_bh_disable/enable, preempt_disable/enable."""
        change, sign = sem.section(rule.effect, rule.params)
        if sign < 0 and any(have < need for have, need in zip(c.counters, change)):
            raise ScenarioError(f"{c.label}: {ins.text} without its matching enter")
        return s, c._replace(**sem.moved(c.counters, change, sign)._asdict())

    def _sleep(self, c: Ctx, call: str) -> None:
        why = sem.atomic_reason(c.kind, len(c.held), c.bh, len(c.held) + c.preempt, c.rcu)
        if why:
            held = f": {self.sc.locks[c.held[-1][0]]}" if c.held else ""
            raise self._viol("sleep_in_atomic", f"{call}() may sleep but runs in atomic context ({why}{held})",
                             c, call=call, atomic=why)

    def _eff_nop(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        return s, c  # might_sleep(): its rule's may_sleep is checked before every op

    def _eff_srcu_read_lock(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        return s, c._replace(srcu=c.srcu + 1)

    def _eff_srcu_read_unlock(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        if not c.srcu:
            raise ScenarioError(f"{c.label}: {ins.text} without srcu_read_lock()")
        return s, c._replace(srcu=c.srcu - 1)

    def _eff_synchronize_rcu(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        if rule["srcu"]:
            return s, c._replace(status=("ssync", sem.need_for_new_request(s.srcu)))
        return s, c._replace(status=("sync", sem.need_for_new_request(s.rcu)))

    def _eff_rcu_barrier(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        if rule["srcu"]:
            return s, c._replace(status=("sbarrier", sem.barrier_waits_for(s.srcu, _running(s, "srcu"))))
        return s, c._replace(status=("barrier", sem.barrier_waits_for(s.rcu, _running(s, "rcu"))))

    def _eff_rcu_queue(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        slot, fn = ins.args
        name = self.sc.slots[slot]
        o = self.sc.slot_obj[slot]
        self._check_obj(s, c, o, f"{ins.op}({name})", call=ins.op)
        st = s.slots[slot]
        broken = sem.call_rcu_breaks(_linked(st), _queued(st))
        if broken:
            what = f"already queued for {st[1]}()" if _queued(st) else f"while it is linked on {self.sc.lists[st[1]]}"
            raise self._viol(broken, f"{ins.op} on {name}, {what}", c, object=self.sc.objects[o].type, head=name)
        fname = self.sc.code_names[fn]
        s = s._replace(slots=_set(s.slots, slot, ("rcu", fname)))
        if rule["srcu"]:
            return s._replace(srcu=sem.call_rcu(s.srcu, slot, fname, c.cpu)), c
        return s._replace(rcu=sem.call_rcu(s.rcu, slot, fname, c.cpu)), c

    def _eff_lock(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        lk = ins.args[0]
        lname = self.sc.locks[lk]
        self._check_obj(s, c, self.sc.lock_obj[lk], f"spin_lock({lname})", lock=lname, mode="lock")
        outcome = self._lock_outcome(s, c, lk)
        if outcome == sem.SELF:
            raise self._viol("deadlock", f"{c.name} takes {lname} again", c, lock=lname, cause="self")
        if outcome == sem.SOFTIRQ_REENTRY:  # the only other case _enabled lets through
            raise self._viol(
                "deadlock",
                f"softirq on CPU{c.cpu} spins on {lname}, held with BH enabled by the thread it interrupted",
                c,
                lock=lname,
                cause="softirq_reentry",
            )
        change, sign = sem.section(rule.effect, rule.params)
        c = c._replace(held=c.held + ((lk, bool(change.bh)),), **sem.moved(c.counters, change, sign)._asdict())
        return s._replace(locks=_set(s.locks, lk, c.name)), c

    def _eff_unlock(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        lk = ins.args[0]
        lname = self.sc.locks[lk]
        if lk not in c.locks:
            raise ScenarioError(f"{c.label}: {ins.text} without holding {lname}")
        o = self.sc.lock_obj[lk]
        if not s.objs[o].alive and not self.sc.objects[o].typesafe:
            raise self._viol(
                "lock_in_freed_memory",
                f"unlock of {lname} in freed {self.sc.objects[o].name}",
                c,
                lock=lname,
                object=self.sc.objects[o].type,
                freed_by=s.objs[o].freed_by,
            )
        k = c.locks.index(lk)
        change, sign = sem.section(rule.effect, rule.params, taken_bh=c.held[k][1])
        c = c._replace(held=c.held[:k] + c.held[k + 1:], **sem.moved(c.counters, change, sign)._asdict())
        return s._replace(locks=_set(s.locks, lk, None)), c

    def _eff_mm_get(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        o = ins.args[0]
        self._check_obj(s, c, o, "mmgrab", call="mmgrab")
        return s._replace(objs=_set(s.objs, o, s.objs[o]._replace(refs=s.objs[o].refs + 1))), c

    def _drop(self, s: State, c: Ctx, o: int, call: str) -> tuple[State, bool]:
        self._check_obj(s, c, o, call, call=call)
        os_ = s.objs[o]
        if os_.refs <= 0:
            raise self._viol(
                "double_free",
                f"{call}({self.sc.objects[o].name}) with mm_count already 0",
                c,
                object=self.sc.objects[o].type,
                call=call,
            )
        return s._replace(objs=_set(s.objs, o, os_._replace(refs=os_.refs - 1))), os_.refs == 1

    def _eff_mm_put(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        o = ins.args[0]
        s, final = self._drop(s, c, o, ins.op)
        if final:
            release = self.release_rule(rule)
            if sem.forbidden_in(c.kind, release["forbid_ctx"]):
                raise self._viol(
                    "final_mmdrop_in_softirq",
                    f"the last {ins.op}({self.sc.objects[o].name}) runs "
                    f"{release.name}() in {c.kind} context",
                    c,
                    object=self.sc.objects[o].type,
                    call=ins.op,
                )
            c = c._replace(frames=c.frames + ((self.sc.mmdrop_code[o], 0),))
        return s, c

    def release_rule(self, rule: Primitive) -> Primitive:
        """The rule of what the final drop runs (mmdrop's `release`: __mmdrop)."""
        return primitives()[rule["release"]]

    def _eff_mm_put_async(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        o = ins.args[0]
        s, final = self._drop(s, c, o, ins.op)
        if final:  # queue mm->async_put_work: __mmdrop() later, from a kworker
            code = self.sc.mmdrop_code[o]
            used = {x.name for x in s.ctxs}
            k = next(k for k in range(len(s.ctxs) + 1) if f"kworker/u{k}" not in used)
            w = Ctx(f"kworker/u{k}", "workqueue", -1, ((code, 0),), RUN, label=self.sc.code_names[code])
            s = s._replace(ctxs=_add_ctx(s.ctxs, w))
        return s, c

    def _free(self, s: State, c: Ctx, o: int, call: str) -> State:
        ob, os_ = self.sc.objects[o], s.objs[o]
        if not os_.alive:
            if ob.typesafe and dict(c.derefs).get(o, os_.gen) != os_.gen:
                raise self._viol(
                    "reader_saw_reuse",
                    f"{call}({ob.name}) of an object already freed and reused",
                    c,
                    object=ob.type,
                    call=call,
                )
            raise self._viol(
                "double_free",
                f"{call}({ob.name}): already freed ({os_.freed_by})",
                c,
                object=ob.type,
                freed_by=os_.freed_by,
                call=call,
            )
        self._check_obj(s, c, o, call, call=call)
        for lk, holder in enumerate(s.locks):
            if holder is not None and self.sc.lock_obj[lk] == o and not ob.typesafe:
                raise self._viol(
                    "lock_in_freed_memory",
                    f"{call}({ob.name}) while {holder} holds {self.sc.locks[lk]}",
                    c,
                    lock=self.sc.locks[lk],
                    object=ob.type,
                    holder=holder,
                )
        for sl, st in enumerate(s.slots):
            if self.sc.slot_obj[sl] == o and sem.free_breaks(True, _linked(st), _queued(st)):
                what = "queued for " + st[1] + "()" if st[0] == "rcu" else "linked on " + self.sc.lists[st[1]]
                raise self._viol(
                    "use_after_free",
                    f"{call}({ob.name}) while {self.sc.slots[sl]} is {what}",
                    c,
                    object=ob.type,
                    freed_by=sem.freed_by(c.kind),
                    call=call,
                )
        return s._replace(objs=_set(s.objs, o, os_._replace(alive=False, freed_by=sem.freed_by(c.kind))))

    def _alloc(self, s: State, c: Ctx, o: int, call: str) -> State:
        ob, os_ = self.sc.objects[o], s.objs[o]
        if os_.alive:
            raise ScenarioError(f"{c.label}: {call}({ob.name}) of an object that is allocated")
        locks = s.locks
        if not ob.typesafe or ob.init_lock == "alloc":
            for lk, holder in enumerate(s.locks):
                if self.sc.lock_obj[lk] != o:
                    continue
                if holder is not None:
                    raise self._viol(
                        "typesafe_reinit",
                        f"{call}({ob.name}) re-initialises {self.sc.locks[lk]} while {holder} holds it",
                        c,
                        object=ob.type,
                        lock=self.sc.locks[lk],
                    )
                locks = _set(locks, lk, None)
            users = [x.name for x in s.ctxs if x.name != c.name and o in dict(x.derefs)]
            if ob.typesafe and users:
                raise self._viol(
                    "typesafe_reinit",
                    f"{call}({ob.name}) re-initialises the object while {', '.join(users)} may still use it",
                    c,
                    object=ob.type,
                    call=call,
                )
        slots = tuple(None if self.sc.slot_obj[i] == o else st for i, st in enumerate(s.slots))
        new = ObjS(True, os_.gen + 1, ob.refs, "", 0)
        return s._replace(objs=_set(s.objs, o, new), locks=locks, slots=slots)

    def _op_free(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        return self._free(s, c, ins.args[0], "free"), c

    def _eff_kmem_free(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        return self._free(s, c, ins.args[0], ins.op), c

    def _op_alloc(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        return self._alloc(s, c, ins.args[0], "alloc"), c

    def _eff_kmem_alloc(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        return self._alloc(s, c, ins.args[0], ins.op), c

    def _op_deref(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        o = ins.args[0]
        d = dict(c.derefs)
        d.pop(o, None)
        if s.objs[o].pub:  # an unpublished object is not found: the reader sees NULL
            d[o] = s.objs[o].gen
        return s, c._replace(derefs=tuple(sorted(d.items())))

    def _op_publish(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        o = ins.args[0]
        self._check_obj(s, c, o, "publish", call="publish")
        return s._replace(objs=_set(s.objs, o, s.objs[o]._replace(pub=True))), c

    def _op_unpublish(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        o = ins.args[0]
        return s._replace(objs=_set(s.objs, o, s.objs[o]._replace(pub=False))), c

    def _op_use(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        self._check_obj(s, c, ins.args[0], ins.text, mode=ins.args[1])
        return s, c

    def _eff_list_add(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        slot, lst = ins.args
        name = self.sc.slots[slot]
        o = self.sc.slot_obj[slot]
        self._check_obj(s, c, self.sc.list_obj[lst], f"list_add onto {self.sc.lists[lst]}", call="list_add")
        self._check_obj(s, c, o, f"list_add({name})", call="list_add")
        st = s.slots[slot]
        broken = sem.list_add_breaks(_linked(st), _queued(st))
        if broken:
            what = (f"that memory is an rcu_head queued for {st[1]}()" if _queued(st)
                    else f"already on {self.sc.lists[st[1]]}")
            raise self._viol(broken, f"list_add({name}) while {what}", c, object=self.sc.objects[o].type, node=name)
        return s._replace(slots=_set(s.slots, slot, ("list", lst))), c

    def _eff_list_del(self, s: State, c: Ctx, ins: Instr, rule: Primitive) -> tuple[State, Ctx]:
        slot = ins.args[0]
        name = self.sc.slots[slot]
        o = self.sc.slot_obj[slot]
        self._check_obj(s, c, o, f"list_del({name})", call="list_del")
        st = s.slots[slot]
        broken = sem.list_del_breaks(_linked(st), _queued(st), initialised=False)
        if broken:
            what = (f"while that memory is an rcu_head queued for {st[1]}()" if _queued(st)
                    else "of a node that is not on a list")
            raise self._viol(broken, f"list_del({name}) {what}", c, object=self.sc.objects[o].type, node=name)
        self._check_obj(
            s, c, self.sc.list_obj[st[1]], f"list_del from {self.sc.lists[st[1]]}", call="list_del"
        )
        return s._replace(slots=_set(s.slots, slot, None)), c

    def _flag_op(self, s: State, c: Ctx, ins: Instr, on: bool) -> tuple[State, Ctx]:
        f = ins.args[0]
        o = self.sc.flag_obj[f]
        self._check_obj(s, c, o, ins.text, mode="write")
        bits = s.objs[o].flags | (1 << f) if on else s.objs[o].flags & ~(1 << f)
        return s._replace(objs=_set(s.objs, o, s.objs[o]._replace(flags=bits))), c

    def _op_set_flag(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        return self._flag_op(s, c, ins, True)

    def _op_clear_flag(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        return self._flag_op(s, c, ins, False)

    def _op_call(self, s: State, c: Ctx, ins: Instr) -> tuple[State, Ctx]:
        return s, c._replace(frames=c.frames + ((ins.args[0], 0),))


# The litmus machine's implementation of each effect kind its primitive ops have (rules/primitives.toml).
_EFFECTS: dict[str, Callable[..., Any]] = {
    "rcu_read_lock": ScenarioModel._eff_section,
    "rcu_read_unlock": ScenarioModel._eff_section,
    "bh_disable": ScenarioModel._eff_section,
    "bh_enable": ScenarioModel._eff_section,
    "preempt": ScenarioModel._eff_section,
    "lock": ScenarioModel._eff_lock,
    "unlock": ScenarioModel._eff_unlock,
    "synchronize_rcu": ScenarioModel._eff_synchronize_rcu,
    "rcu_barrier": ScenarioModel._eff_rcu_barrier,
    "rcu_queue": ScenarioModel._eff_rcu_queue,
    "srcu_read_lock": ScenarioModel._eff_srcu_read_lock,
    "srcu_read_unlock": ScenarioModel._eff_srcu_read_unlock,
    "nop": ScenarioModel._eff_nop,
    "mm_get": ScenarioModel._eff_mm_get,
    "mm_put": ScenarioModel._eff_mm_put,
    "mm_put_async": ScenarioModel._eff_mm_put_async,
    "kmem_alloc": ScenarioModel._eff_kmem_alloc,
    "kmem_free": ScenarioModel._eff_kmem_free,
    "list_add": ScenarioModel._eff_list_add,
    "list_del": ScenarioModel._eff_list_del,
}


def op_rules(sc: Scenario) -> dict[str, Primitive]:
    """The rules/primitives.toml rule of each op of the scenario that is a kernel primitive; an op
    whose rule has an effect this machine does not run is an error naming both."""
    prims = primitives()
    out: dict[str, Primitive] = {}
    for code in sc.codes:
        for ins in code:
            rule = prims.get(ins.op)
            if rule is None or ins.op in out:
                continue
            if rule.effect not in _EFFECTS:
                raise ScenarioError(f"{sc.path or sc.name}: op {ins.op}() has effect {rule.effect!r} in "
                                    "rules/primitives.toml, which litmus scenarios do not run")
            out[ins.op] = rule
    return out


def _running(s: State, domain: str) -> frozenset[int]:
    """The rcu_heads of the callbacks of a domain ("rcu" | "srcu") being invoked now."""
    return frozenset(x.origin for x in s.ctxs if x.origin >= 0 and x.domain == domain)


def _linked(slot: Any) -> bool:
    return bool(slot) and slot[0] == "list"


def _queued(slot: Any) -> bool:
    return bool(slot) and slot[0] == "rcu"


def _set(t: tuple, i: int, v: Any) -> tuple:
    return t[:i] + (v,) + t[i + 1 :]


def _dynamic(c: Ctx) -> bool:
    """Callbacks and work items come and go; declared threads keep their place when finished."""
    return c.origin >= 0 or c.name.startswith("kworker/u")


def _add_ctx(ctxs: tuple[Ctx, ...], c: Ctx) -> tuple[Ctx, ...]:
    """Append a dynamic context, keeping dynamic ones sorted so equal states hash equal."""
    static = [x for x in ctxs if not _dynamic(x)]
    dyn = [x for x in ctxs if _dynamic(x)] + [c]
    return tuple(static + sorted(dyn))


# ops whose effect on one context changes whether it is an RCU reader, or that talk to RCU itself
_READER_OPS = {
    "rcu_read_lock",
    "rcu_read_unlock",
    "spin_lock",
    "spin_unlock",
    "spin_lock_bh",
    "spin_unlock_bh",
    "local_bh_disable",
    "local_bh_enable",
    "preempt_disable",
    "preempt_enable",
    "synchronize_rcu",
    "rcu_barrier",
    "srcu_read_lock",
    "srcu_read_unlock",
    "synchronize_srcu",
    "srcu_barrier",
    "call_srcu",
    "call_rcu",
    "might_sleep",
}


class _Footprints:
    """Static footprints for the reduction: which objects each op, and each code suffix, may touch.

    `instr[code][pc]` is the step's own footprint, or None when it must never be taken alone.
    `suffix_all[code][pc]` covers the rest of the code, the functions it calls inline and everything
    it may spawn (callbacks, work items). "rcu!" marks a GP request somewhere in the future."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        n = len(sc.codes)
        self.instr: list[list[frozenset[str] | None]] = [
            [self._own(ins) for ins in sc.codes[k]] for k in range(n)
        ]
        direct: list[set[str]] = []
        edges: list[set[int]] = []
        for k in range(n):
            f: set[str] = set()
            e: set[int] = set()
            for ins in sc.codes[k]:
                f |= self._touch(ins)
                e |= self._callees(ins)
            direct.append(f)
            edges.append(e)
        total = [set(f) for f in direct]
        changed = True
        while changed:
            changed = False
            for k in range(n):
                for j in edges[k]:
                    if not total[j] <= total[k]:
                        total[k] |= total[j]
                        changed = True
        self.total_all = [frozenset(t) for t in total]
        self.suffix_all: list[list[frozenset[str]]] = []
        for k in range(n):
            acc: set[str] = set()
            suf: list[frozenset[str]] = [frozenset()] * (len(sc.codes[k]) + 1)
            for pc in range(len(sc.codes[k]) - 1, -1, -1):
                ins = sc.codes[k][pc]
                acc |= self._touch(ins)
                for j in self._callees(ins):
                    acc |= total[j]
                suf[pc] = frozenset(acc)
            self.suffix_all.append(suf)

    def spawn_of(self, c: Ctx) -> frozenset[str]:
        # conservative: a context's own future spawns are included in its suffix; their ops run in
        # other contexts, so everything the context may still touch counts as "others" too
        out: set[str] = set()
        for code, pc in c.frames:
            for ins in self.sc.codes[code][pc + 1 :]:
                for j in self._spawned(ins):
                    out |= self.total_all[j]
        return frozenset(out)

    def _obj(self, o: int) -> str:
        return "o:" + self.sc.objects[o].name

    def _touch(self, ins: Instr) -> set[str]:
        sc, a, op = self.sc, ins.args, ins.op
        f: set[str] = set()
        if op in ("spin_lock", "spin_unlock", "spin_lock_bh", "spin_unlock_bh"):
            f |= {self._obj(sc.lock_obj[a[0]]), "rcu"}
            if op.endswith("_bh"):
                f.add("cpu")
        elif op in ("local_bh_disable", "local_bh_enable"):
            f |= {"rcu", "cpu"}
        elif op in _READER_OPS:
            f.add("rcu")
            if op in ("call_rcu", "synchronize_rcu", "rcu_barrier", "call_srcu", "synchronize_srcu", "srcu_barrier"):
                f.add("rcu!")
            if op in ("call_rcu", "call_srcu"):
                f.add(self._obj(sc.slot_obj[a[0]]))
        elif op == "jump_unless":
            for _, test, x in a[0]:
                o = (
                    sc.obj_index[sc.slots[x].split(".")[0]]
                    if test == "listed"
                    else sc.flag_obj[x]
                    if test in ("flag", "test_and_clear")
                    else x
                )
                f.add(self._obj(o))
        elif op in ("list_add", "list_del"):
            f.add(self._obj(sc.slot_obj[a[0]]))
            f |= {self._obj(o) for o in sc.list_obj}  # a node may be linked on any list
        elif op in ("set_flag", "clear_flag"):
            f.add(self._obj(sc.flag_obj[a[0]]))
        elif op in (
            "mmgrab",
            "mmdrop",
            "mmdrop_async",
            "free",
            "alloc",
            "kmem_cache_alloc",
            "kmem_cache_free",
            "deref",
            "use",
            "publish",
            "unpublish",
        ):
            f.add(self._obj(a[0]))
            if op in ("free", "kmem_cache_free", "alloc", "kmem_cache_alloc"):  # frees touch its slots/locks
                f.add("heads")
        return f

    def _own(self, ins: Instr) -> frozenset[str] | None:
        if ins.op in _READER_OPS or ins.op in ("call", "mmdrop", "mmdrop_async"):
            return None
        if ins.op in ("free", "kmem_cache_free", "alloc", "kmem_cache_alloc"):
            return None  # may interact with queued heads, held locks and readers' derefs
        return frozenset(self._touch(ins))

    def _callees(self, ins: Instr) -> set[int]:
        return (
            self._spawned(ins)
            | ({ins.args[0]} if ins.op == "call" else set())
            | ({self.sc.mmdrop_code[ins.args[0]]} if ins.op == "mmdrop" else set())
        )

    def _spawned(self, ins: Instr) -> set[int]:
        if ins.op in ("call_rcu", "call_srcu"):
            return {ins.args[1]}
        if ins.op == "mmdrop_async":
            return {self.sc.mmdrop_code[ins.args[0]]}
        return set()
