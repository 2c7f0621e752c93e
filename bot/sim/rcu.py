"""RCU grace periods and callbacks as pure functions over an immutable value.

The rules (the ones the thread relied on, primer §5):

* A grace period (GP) ends only after every reader that was inside a read-side critical section when
  the GP *started* has left it. Readers that start later do not hold it up.
* A reader is any context inside rcu_read_lock(), or with BH or preemption disabled, or running in
  softirq (an RCU callback): since the v4.20 consolidation all of these count (primer §1.2). A
  spinlock holder is one on every configuration: spin_lock() disables preemption, and on PREEMPT_RT
  (where it does not) it takes rcu_read_lock(). is_reader() states this once for the litmus
  machine and the C interpreter; the Promela export (bot/sim/promela.py) states it on its own, as
  the independent cross-check.
* call_rcu() and synchronize_rcu() need a full GP that *starts after* the call: if a GP is in progress
  at the call, it is not enough, the next one is.
* Queued callbacks whose GP has ended are runnable in ANY order relative to each other: the caller
  chooses (nondeterminism), so "queued earlier" never means "runs earlier".

A queued callback is identified by its rcu_head (an int the model chooses): one head can be queued
only once at a time, which is the invariant models check before calling `call_rcu`.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple


class Callback(NamedTuple):
    head: int  # the rcu_head's id in the model
    fn: str  # the callback's name
    need: int  # number of the GP whose end makes it runnable
    cpu: int  # CPU that queued it (for the report only: invocation CPU is chosen by the model)


class Rcu(NamedTuple):
    completed: int = 0  # GPs completed so far
    current: int = 0  # number of the GP in progress, 0 when idle
    waiting: frozenset[str] = frozenset()  # readers the current GP still waits for
    cbs: tuple[Callback, ...] = ()  # queued callbacks, sorted (canonical for state hashing)


INITIAL = Rcu()


def is_reader(rcu: int, bh: int, preempt: int, softirq: bool) -> bool:
    """Whether a grace period must wait for a context: inside rcu_read_lock(), with softirqs off,
    with preemption off (a spinlock held counts, see the module doc) or running in softirq."""
    return bool(rcu or bh or preempt or softirq)


def need_for_new_request(r: Rcu) -> int:
    """The GP a call_rcu/synchronize_rcu issued now must wait for: one that starts after now."""
    return (r.current or r.completed) + 1


def call_rcu(r: Rcu, head: int, fn: str, cpu: int) -> Rcu:
    cb = Callback(head, fn, need_for_new_request(r), cpu)
    return r._replace(cbs=tuple(sorted(r.cbs + (cb,))))


def is_queued(r: Rcu, head: int) -> bool:
    return any(cb.head == head for cb in r.cbs)


def ready(r: Rcu) -> tuple[Callback, ...]:
    """Callbacks whose GP has ended: all of them may be invoked next, in any order."""
    return tuple(cb for cb in r.cbs if cb.need <= r.completed)


def take(r: Rcu, head: int) -> Rcu:
    """Dequeue a ready callback for invocation (rcu_do_batch unlinks the head before the call)."""
    return r._replace(cbs=tuple(cb for cb in r.cbs if cb.head != head))


def gp_wanted(r: Rcu, sync_needs: Iterable[int] = ()) -> bool:
    """A new GP can start: none in progress and a callback or a synchronize_rcu waits for one."""
    if r.current:
        return False
    return any(cb.need > r.completed for cb in r.cbs) or any(n > r.completed for n in sync_needs)


def start_gp(r: Rcu, readers: Iterable[str]) -> Rcu:
    """Start GP number completed+1; it must wait for every reader present now."""
    return r._replace(current=r.completed + 1, waiting=frozenset(readers))


def gp_can_end(r: Rcu) -> bool:
    return bool(r.current) and not r.waiting


def end_gp(r: Rcu) -> Rcu:
    return r._replace(completed=r.current, current=0, waiting=frozenset())


def reader_left(r: Rcu, ctx: str) -> Rcu:
    """ctx is no longer a reader (left its critical section, or finished)."""
    if ctx in r.waiting:
        return r._replace(waiting=r.waiting - {ctx})
    return r


def sync_done(r: Rcu, need: int) -> bool:
    return r.completed >= need


def gp_possible(r: Rcu) -> bool:
    """Some GP activity (start, end, callback becoming ready) can still happen without new calls."""
    return bool(r.current or r.cbs)
