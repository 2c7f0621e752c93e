"""The kernel's rules for contexts, RCU, callbacks, workqueues, locks, lists and object lifetimes.

Stated once, as pure functions over small values, and decided through here by both machines: the
litmus machine (bot/sim/litmus.py, abstract objects and slots) and the C interpreter (bot/cmodel,
addresses and struct layouts). Each machine keeps its own representation of *where* things are;
*what is allowed* is answered here. The Promela export (bot/sim/promela.py) states the same rules
on its own, as the independent cross-check (as klitmus7 is for herd7).

Contexts (primer §1):

* One process-context thread per CPU. A softirq (an RCU callback) may interrupt the process thread
  of its CPU wherever that thread has BH enabled, and runs to completion before it continues; one
  softirq at a time per CPU.
* RCU callbacks are invoked on the CPU that queued them (per-CPU callback lists; offloading and
  CPU hotplug, which migrate them, are not modelled). A context on no CPU (a kworker) queues on
  CPU0.
* Work items run in kworker contexts of their own, on no particular CPU: they interrupt nobody, may
  start any time after they are queued, and run concurrently with each other.
* A reader is any context inside rcu_read_lock(), with BH or preemption disabled, or running in
  softirq: since the v4.20 consolidation of the flavours all of these hold up a grace period. A
  spinlock holder is one on every configuration: spin_lock() disables preemption, and on
  PREEMPT_RT (where it does not) it takes rcu_read_lock().
* Sleeping (might_sleep, synchronize_rcu, rcu_barrier) is forbidden in softirq, with a spinlock
  held, with BH or preemption disabled and inside rcu_read_lock(). Which calls may sleep is data
  (rules/primitives.toml `may_sleep`); an allocation may sleep only when its GFP flags allow direct
  reclaim, and an allocation that states no flags (a litmus op) is taken not to.
* What a primitive does to its context's counters (rcu_read_lock() nesting, softirqs off,
  preemption off) is decided by `section()` from the primitive's effect and parameters, for both
  machines: rcu_read_lock_bh() disables softirqs, rcu_read_lock_sched() preemption; a spinlock is
  counted by the locks its context holds, plus softirqs off when taken with _bh/_irq; an exclusive
  unlock restores softirqs iff the lock was taken with them off.
* Where a primitive must never run (`forbid_ctx`, e.g. __mmdrop() never in softirq) is data too.

RCU (primer §5):

* A grace period (GP) ends only after every reader that was inside a read-side critical section
  when the GP *started* has left it. Readers that start later do not hold it up.
* call_rcu() and synchronize_rcu() need a full GP that *starts after* the call: if a GP is in
  progress at the call, it is not enough, the next one is.
* rcu_barrier() waits for the callbacks queued before it was called (still queued, or running
  now), not for those queued after the call: `barrier_waits_for`.
  Callbacks are known by their rcu_head; a head queued again after its callback started is waited
  for too (the barrier cannot tell the two apart), which only makes the barrier wait longer.
* Queued callbacks whose GP has ended are runnable in ANY order relative to each other: the caller
  chooses (nondeterminism), so "queued earlier" never means "runs earlier". The queue is kept
  sorted, its canonical form, so equal states hash equal.
* A queued callback is identified by its rcu_head (an id the machine chooses); one head is queued
  at most once until its callback starts, when the head is free again.

Locks: a spinlock is taken when free; taken again by its holder it is a self-deadlock; a softirq
that finds it held by the thread it interrupted spins forever; anyone else waits.

Lists and heads: a list_head is on at most one list; list_del() needs a linked (or initialised)
node; memory in use as a queued rcu_head is not also a linked list_head.

Lifetimes: an object is freed at most once, never while one of its list_heads is linked or its
rcu_head is queued; how it was freed is named by the context that freed it.
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Mapping, NamedTuple

# ---- contexts ------------------------------------------------------------------------------

PROCESS, SOFTIRQ, WORKQUEUE = "process", "softirq", "workqueue"

FREED_BY = {PROCESS: "direct", SOFTIRQ: "call_rcu", WORKQUEUE: "workqueue"}


def is_reader(rcu: int, bh: int, preempt: int, softirq: bool) -> bool:
    """Whether a grace period must wait for a context: inside rcu_read_lock(), with softirqs off,
    with preemption off (a spinlock held counts, see the module doc) or running in softirq."""
    return bool(rcu or bh or preempt or softirq)


def atomic_reason(kind: str, locks: int, bh: int, preempt: int, rcu: int) -> str:
    """Why a context may not sleep ("" when it may): the first of softirq, a spinlock held, BH off,
    preemption off, inside rcu_read_lock(). `preempt` counts every preemption-disabled level."""
    if kind == SOFTIRQ:
        return "softirq"
    if locks:
        return "spinlock held"
    if bh:
        return "softirqs disabled"
    if preempt:
        return "preemption disabled"
    if rcu:
        return "inside rcu_read_lock()"
    return ""


def may_sleep(rule_may_sleep: bool, gfp_arg: int, reclaims: bool | None) -> bool:
    """Whether a call may sleep: its rule says so and, for an allocation (gfp_arg >= 0), its flags
    allow direct reclaim (`reclaims`; None: the call states no flags, as a litmus op does)."""
    if not rule_may_sleep:
        return False
    if gfp_arg >= 0:
        return bool(reclaims)
    return True


def forbidden_in(kind: str, forbid_ctx: Iterable[str]) -> bool:
    """A primitive whose rule forbids this context kind runs in it (the final mmdrop in softirq)."""
    return kind in tuple(forbid_ctx)


class Section(NamedTuple):
    """A context's atomicity counters, or a change to them."""

    rcu: int = 0  # rcu_read_lock() nesting
    bh: int = 0  # softirqs-disabled depth
    preempt: int = 0  # preemption-disabled depth (spinlocks held are counted apart, as locks)


NO_CHANGE = Section()


def section(effect: str, params: Mapping[str, Any], taken_bh: bool = False) -> tuple[Section, int]:
    """What a primitive of this effect does to its context's counters: (the counters, +1 to enter
    or -1 to leave); (NO_CHANGE, 0) for any other effect. `taken_bh` is, for an unlock, whether the
    lock was taken with softirqs off."""
    if effect in ("rcu_read_lock", "rcu_read_unlock"):
        flavour = params.get("flavour", "")
        d = Section(bh=1) if flavour == "bh" else Section(preempt=1) if flavour == "sched" else Section(rcu=1)
        return d, 1 if effect == "rcu_read_lock" else -1
    if effect in ("bh_disable", "bh_enable"):
        return Section(bh=1), 1 if effect == "bh_disable" else -1
    if effect == "preempt":
        return Section(preempt=1), 1 if params.get("op") == "disable" else -1
    if effect == "lock":
        return Section(bh=int(bool(params.get("bh")))), 1
    if effect == "unlock":
        restores = params.get("bh") if params.get("shared") else taken_bh
        return Section(bh=int(bool(restores))), -1
    return NO_CHANGE, 0


def moved(counters: Section, change: Section, sign: int) -> Section:
    """The counters after entering (+1) or leaving (-1) a section; never below zero."""
    return Section(*(max(0, a + sign * b) for a, b in zip(counters, change)))


def freed_by(kind: str) -> str:
    """How an object freed from a context of this kind was freed (a classify attribute)."""
    return FREED_BY.get(kind, "direct")


def queuing_cpu(cpu: int) -> int:
    """The CPU whose callback list call_rcu() from a context on `cpu` appends to (-1: no CPU)."""
    return max(cpu, 0)


def softirq_may_enter(cpu: int, softirq_cpus: Iterable[int], bh_off_cpus: Iterable[int]) -> bool:
    """A softirq may start on `cpu`: none runs there, and its process thread has BH enabled."""
    return cpu not in softirq_cpus and cpu not in bh_off_cpus


# ---- locks ---------------------------------------------------------------------------------

TAKE, SELF, SOFTIRQ_REENTRY, WAIT = "take", "self", "softirq_reentry", "wait"


def lock_outcome(holder: str | None, me: str, my_kind: str, my_cpu: int,
                 holder_kind: str = "", holder_cpu: int = -2) -> str:
    """What spin_lock() does for `me`: TAKE a free lock, deadlock on itself (SELF), a softirq spinning
    on a lock the thread it interrupted holds (SOFTIRQ_REENTRY, a deadlock too), or WAIT."""
    if holder is None:
        return TAKE
    if holder == me:
        return SELF
    if my_kind == SOFTIRQ and holder_kind == PROCESS and holder_cpu == my_cpu:
        return SOFTIRQ_REENTRY
    return WAIT


# ---- lists, rcu_heads and lifetimes --------------------------------------------------------
# Each returns the id of the invariant (bot.sim.invariants) the operation breaks, or "".

def list_write_breaks(queued: bool) -> str:
    """Any write to a list_head (link, unlink, init) whose memory is a queued rcu_head."""
    if queued:
        return "rcu_head_overlays_list"
    return ""


def list_add_breaks(linked: bool, queued: bool) -> str:
    if queued:
        return list_write_breaks(queued)
    if linked:
        return "list_double_add"
    return ""


def list_del_breaks(linked: bool, queued: bool, initialised: bool) -> str:
    if queued:
        return list_write_breaks(queued)
    if not linked and not initialised:
        return "list_del_unlinked"
    return ""


def call_rcu_breaks(linked: bool, queued: bool) -> str:
    if queued:
        return "rcu_head_requeued"
    if linked:
        return "rcu_head_overlays_list"
    return ""


def free_breaks(alive: bool, linked: bool, queued: bool) -> str:
    if not alive:
        return "double_free"
    if linked or queued:
        return "use_after_free"
    return ""


# ---- RCU -----------------------------------------------------------------------------------

class Callback(NamedTuple):
    head: int  # the rcu_head's id in the model
    fn: str  # the callback's name
    need: int  # number of the GP whose end makes it runnable
    cpu: int  # the CPU that queued it: the one that invokes it
    arg: int = 0  # what the callback is called with, when the machine needs it (the C interpreter)


class Rcu(NamedTuple):
    completed: int = 0  # GPs completed so far
    current: int = 0  # number of the GP in progress, 0 when idle
    waiting: frozenset[Hashable] = frozenset()  # readers the current GP still waits for
    cbs: tuple[Callback, ...] = ()  # queued callbacks, sorted (canonical for state hashing)


INITIAL = Rcu()


def need_for_new_request(r: Rcu) -> int:
    """The GP a call_rcu/synchronize_rcu issued now must wait for: one that starts after now."""
    return (r.current or r.completed) + 1


def call_rcu(r: Rcu, head: int, fn: str, cpu: int, arg: int = 0) -> Rcu:
    """Queue fn on the callback list of the CPU a context on `cpu` queues to."""
    cb = Callback(head, fn, need_for_new_request(r), queuing_cpu(cpu), arg)
    return r._replace(cbs=tuple(sorted(r.cbs + (cb,))))


def is_queued(r: Rcu, head: int) -> bool:
    return any(cb.head == head for cb in r.cbs)


def ready(r: Rcu) -> tuple[Callback, ...]:
    """Callbacks whose GP has ended: all of them may be invoked next, in any order."""
    return tuple(cb for cb in r.cbs if cb.need <= r.completed)


def invocable(r: Rcu, softirq_cpus: Iterable[int], bh_off_cpus: Iterable[int]) -> tuple[Callback, ...]:
    """Ready callbacks whose CPU can take a softirq now: the ones that may start next."""
    busy, off = frozenset(softirq_cpus), frozenset(bh_off_cpus)
    return tuple(cb for cb in ready(r) if softirq_may_enter(cb.cpu, busy, off))


def take(r: Rcu, cb: Callback) -> Rcu:
    """Dequeue a ready callback for invocation (rcu_do_batch unlinks the head before the call)."""
    cbs = list(r.cbs)
    cbs.remove(cb)
    return r._replace(cbs=tuple(cbs))


def gp_wanted(r: Rcu, sync_needs: Iterable[int] = ()) -> bool:
    """A new GP can start: none in progress and a callback or a synchronize_rcu waits for one."""
    if r.current:
        return False
    return any(cb.need > r.completed for cb in r.cbs) or any(n > r.completed for n in sync_needs)


def start_gp(r: Rcu, readers: Iterable[Hashable]) -> Rcu:
    """Start GP number completed+1; it must wait for every reader present now."""
    return r._replace(current=r.completed + 1, waiting=frozenset(readers))


def gp_can_end(r: Rcu, present: Iterable[Hashable] | None = None) -> bool:
    """The GP in progress may end: no reader it waits for is still inside its section. `present`
    (the readers inside a section now) is for a machine that does not call reader_left()."""
    if not r.current:
        return False
    if present is None:
        return not r.waiting
    return r.waiting.isdisjoint(present)


def end_gp(r: Rcu) -> Rcu:
    return r._replace(completed=r.current, current=0, waiting=frozenset())


def reader_left(r: Rcu, ctx: Hashable) -> Rcu:
    """ctx is no longer a reader (left its critical section, or finished)."""
    if ctx in r.waiting:
        return r._replace(waiting=r.waiting - {ctx})
    return r


def barrier_waits_for(r: Rcu, running: Iterable[Hashable]) -> frozenset[Hashable]:
    """rcu_barrier() called now waits for these callbacks (by rcu_head): the queued ones and the
    ones running now (`running`: the heads of the callbacks being invoked)."""
    return frozenset(cb.head for cb in r.cbs) | frozenset(running)


def barrier_done(r: Rcu, waits: frozenset[Hashable], running: Iterable[Hashable]) -> bool:
    """Every callback the barrier waits for has been invoked and has returned."""
    return waits.isdisjoint(cb.head for cb in r.cbs) and waits.isdisjoint(running)


def sync_done(r: Rcu, need: int) -> bool:
    return r.completed >= need


def in_grace(r: Rcu, need: int) -> bool:
    """Something retired when GP `need` was the next one is still inside its grace period."""
    return r.completed < need


def gp_possible(r: Rcu) -> bool:
    """Some GP activity (start, end, callback becoming ready) can still happen without new calls."""
    return bool(r.current or r.cbs)
