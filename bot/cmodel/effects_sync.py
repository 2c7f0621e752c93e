"""Synchronisation: RCU and SRCU, spinlocks, rwlocks, mutexes and semaphores, preemption and softirqs.

RCU and SRCU are separate grace-period domains: an SRCU reader (srcu_read_lock) does not hold up an
RCU grace period, is not atomic (it may sleep), and call_srcu()/synchronize_srcu() wait for SRCU
readers only. A spinlock holder disables preemption, so it is an RCU reader (bot.sim.semantics.is_reader);
a sleeping lock (mutex, rw_semaphore, semaphore) is neither. A shared lock (read_lock, down_read) is
held by any number of readers at once, never together with its exclusive side.
"""

from __future__ import annotations

from typing import Any, Mapping

from bot.cmodel.effect_api import Call, MachineAPI, Param, Primitive, effect
from bot.cmodel.effects import enter_reader, obj_name
from bot.cmodel.slab import forget
from bot.cmodel.world import Thread, World
from bot.sim import semantics as sem

SHARED = "shared:"


def leave_reader(t: Thread) -> None:
    """t may have stopped being a reader: the slab objects it found are no longer protected."""
    if not t.reader:
        forget(t)


# ---- RCU ------------------------------------------------------------------------------------
def queue_callback(c: Call, head: int, fn: str, srcu: bool = False) -> None:
    """Queue `fn` for after a grace period of the domain; head < 0 keys an entry with no rcu_head."""
    w, t = c.w, c.t
    owner = obj_name(w, abs(head))
    if head >= 0:
        c.alive(head, "queues the rcu_head of")
        queued = sem.is_queued(w.rcu, head) or sem.is_queued(w.srcu, head)
        broken = sem.call_rcu_breaks(w.list_of(head) is not None, queued)
        if broken:
            why = "it is still queued for a callback" if queued else f"the same memory links {owner} on a list"
            raise c.fail(broken, f"{c.name}() on {owner}'s rcu_head while {why}", object="rcu_head", owner=owner)
        w.nodes[head] = "rcu"
    if srcu:
        w.srcu = sem.call_rcu(w.srcu, head, fn, t.cpu, abs(head))
        c.note(f"queues {owner}'s rcu_head for {fn}() after an SRCU grace period")
    else:
        w.rcu = sem.call_rcu(w.rcu, head, fn, t.cpu, abs(head))
        c.note(f"queues {owner}{'' if head < 0 else chr(39) + 's rcu_head'} for {fn}() after a grace period")


@effect("rcu_queue", head_arg=Param(int, 0), fn_arg=Param(int, 1),
        srcu=Param(bool, False, doc="call_srcu(): the SRCU domain's grace period"))
def rcu_queue(c: Call) -> None:
    queue_callback(c, c.arg(c.rule["head_arg"]), c.m.fn_name(c.arg(c.rule["fn_arg"])), c.rule["srcu"])


@effect("rcu_free", field_arg=Param(int, 1, doc="the argument naming the rcu_head member; -1: no head (it sleeps)"),
        callback=Param(str, doc="the primitive that frees the object when the grace period has ended"))
def rcu_free(c: Call) -> None:
    """kfree_rcu(ptr, member): the object is freed after a grace period, through its rcu_head."""
    obj = c.arg(0)
    member = c.type_arg(c.rule["field_arg"]) if c.rule["field_arg"] >= 0 else None
    if member is None:
        queue_callback(c, -obj, c.rule["callback"])
        return
    struct = c.m.type_of(c.t, c.args[0]).rstrip("* ").strip()
    queue_callback(c, obj + c.m.field_offset(struct, member), c.rule["callback"])


_FLAVOUR = Param(str, "", choices=("", "bh", "sched"), doc="bh: also disables softirqs; sched: preemption")


def move_section(c: Call, params: Mapping[str, Any] | None = None, taken_bh: bool = False) -> None:
    """The call's change to its thread's counters, as bot.sim.semantics.section() decides it from
    the primitive's effect and parameters (`params` in place of the rule's)."""
    t = c.t
    change, sign = sem.section(c.rule.effect, c.rule.params if params is None else params, taken_bh)
    if sign > 0 and change != sem.NO_CHANGE:
        enter_reader(t)
    t.rcu, t.bh, t.preempt = sem.moved(sem.Section(t.rcu, t.bh, t.preempt), change, sign)
    if sign < 0:
        leave_reader(t)


@effect("rcu_read_lock", flavour=_FLAVOUR)
def rcu_read_lock(c: Call) -> None:
    move_section(c)
    c.note("enters an RCU read-side section")


@effect("rcu_read_unlock", flavour=_FLAVOUR)
def rcu_read_unlock(c: Call) -> None:
    move_section(c)
    c.note("leaves the RCU read-side section")


@effect("synchronize_rcu", srcu=Param(bool, False))
def synchronize_rcu(c: Call) -> None:
    if c.rule["srcu"]:
        c.t.wait_sgp = sem.need_for_new_request(c.w.srcu)
        c.note("sleeps until a full SRCU grace period has elapsed")
        return
    c.t.wait_gp = sem.need_for_new_request(c.w.rcu)
    c.note("sleeps until a full grace period has elapsed")


@effect("rcu_barrier", srcu=Param(bool, False))
def rcu_barrier(c: Call) -> None:
    """Waits for the callbacks of the domain queued before the call (bot.sim.semantics.barrier_waits_for)."""
    srcu = c.rule["srcu"]
    dom, name = (c.w.srcu, "srcu") if srcu else (c.w.rcu, "rcu")
    c.t.barrier = frozenset(sem.barrier_waits_for(dom, c.w.running_callbacks(name)))  # type: ignore[arg-type]
    if srcu:
        c.t.wait_sgp = -1
    else:
        c.t.wait_gp = -1
    c.note(f"waits for the {'SRCU ' if srcu else 'RCU '}callbacks queued so far to run "
           f"({len(c.t.barrier)} queued or running)")


@effect("srcu_read_lock")
def srcu_read_lock(c: Call) -> int:
    t = c.t
    if not t.srcu:
        t.ssec += 1
    t.srcu += 1
    c.note("enters an SRCU read-side section")
    return 0  # the index srcu_read_unlock() is given back


@effect("srcu_read_unlock")
def srcu_read_unlock(c: Call) -> None:
    c.t.srcu = max(0, c.t.srcu - 1)
    c.note("leaves the SRCU read-side section")


# ---- preemption and softirqs ----------------------------------------------------------------
@effect("preempt", op=Param(str, choices=("disable", "enable")))
def preempt(c: Call) -> None:
    move_section(c)


_FLAGS_ARG = Param(int, -1, doc="the argument the macro saves the interrupt state into (spin_lock_irqsave(l, flags))")


@effect("bh_disable", flags_arg=_FLAGS_ARG)
def bh_disable(c: Call) -> None:
    """local_bh_disable(), local_irq_save(): no softirq runs on this CPU (and no preemption)."""
    move_section(c)
    if c.rule["flags_arg"] >= 0:
        c.set_arg(c.rule["flags_arg"], 1)


@effect("bh_enable")
def bh_enable(c: Call) -> None:
    move_section(c)


# ---- locks ----------------------------------------------------------------------------------
_MEMBER = Param(str, "", doc="the lock is this member (\"struct mm_struct.mmap_lock\") of what the argument points to")


def lock_target(m: MachineAPI, w: World, t: Thread, rule: Primitive, args: list) -> int:
    """The address of the lock a lock or unlock call names."""
    addr = m.eval(w, t, args[0]) if args else 0
    member = rule["member"]
    if member:
        struct, _, path = member.rpartition(".")
        addr += m.field_offset(struct, path)
    return addr


def holders(entry: tuple[str, bool] | None) -> tuple[bool, tuple[str, ...]]:
    """(shared, names of the holders) of a w.locks entry."""
    if entry is None:
        return False, ()
    who = entry[0]
    if who.startswith(SHARED):
        return True, tuple(who[len(SHARED):].split(","))
    return False, (who,)


def blocked_by(w: World, t: Thread, addr: int, shared: bool) -> str | None:
    """None when t may take the lock now; else the thread that holds it ("" for several)."""
    held_shared, names = holders(w.locks.get(addr))
    if not names or (shared and held_shared):
        return None
    if t.name in names:
        return t.name
    return names[0] if len(names) == 1 else ""


@effect("lock", bh=Param(bool, False, doc="the lock also disables softirqs (and so is an RCU reader)"),
        shared=Param(bool, False, doc="a read side: any number of readers hold it at once"),
        sleeps=Param(bool, False, doc="a sleeping lock (mutex, rw_semaphore): its holder is not atomic"),
        trylock=Param(str, "", choices=("", "true_on_success", "zero_on_success"),
                      doc="never waits: returns whether it took the lock"),
        member=_MEMBER, returns_lock=Param(bool, False, doc="returns the lock's address (pmd_lock)"),
        flags_arg=_FLAGS_ARG)
def lock(c: Call) -> int:
    w, t, rule = c.w, c.t, c.rule
    addr = lock_target(c.m, w, t, rule, c.args)
    if rule["flags_arg"] >= 0:
        c.set_arg(rule["flags_arg"], 1)
    c.alive(addr, "locks a lock in")
    shared, trylock = rule["shared"], rule["trylock"]
    if trylock and blocked_by(w, t, addr, shared) is not None:
        c.note(f"finds {c.m.lock_name(addr)} held")
        return 0 if trylock == "true_on_success" else 1
    if not rule["sleeps"]:
        enter_reader(t)  # a spinlock holder is an RCU reader (bot.sim.semantics.is_reader)
        t.locks = t.locks + (addr,)
    if shared:
        _, names = holders(w.locks.get(addr))
        w.locks[addr] = (SHARED + ",".join(sorted(set(names) | {t.name})), rule["bh"])
    else:
        w.locks[addr] = (t.name, rule["bh"])
    move_section(c)
    if c.m.is_global_lock(addr):
        c.m.note_cost(t, c.name, "lock", "global")
    mode = " (softirqs off)" if rule["bh"] else " (softirqs on)" if not rule["sleeps"] else ""
    c.note(f"takes {c.m.lock_name(addr)}{mode}")
    if trylock:
        return 1 if trylock == "true_on_success" else 0
    return addr if rule["returns_lock"] else 0  # mutex_lock_interruptible() and its kin succeed


@effect("unlock", bh=Param(bool, False, doc="a shared lock's read-side unlock that re-enables softirqs"),
        member=_MEMBER)
def unlock(c: Call) -> None:
    w, t = c.w, c.t
    addr = lock_target(c.m, w, t, c.rule, c.args)
    entry = w.locks.get(addr)
    shared, names = holders(entry)
    if entry is not None:
        rest = tuple(n for n in names if n != t.name) if shared else ()
        if rest:
            w.locks[addr] = (SHARED + ",".join(rest), entry[1])
        else:
            del w.locks[addr]
        if addr in t.locks:
            i = t.locks.index(addr)
            t.locks = t.locks[:i] + t.locks[i + 1:]
        move_section(c, {"bh": c.rule["bh"], "shared": shared}, taken_bh=entry[1])
    c.note(f"releases {c.m.lock_name(addr)}")
