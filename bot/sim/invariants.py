"""The invariants every model checks, named once: a violation's kind is one of these ids.

Stateright-style: each invariant has an id (the Violation kind), one sentence, and where it is
checked — by the litmus machine (bot/sim/litmus.py), by the C interpreter (bot/cmodel), or at
quiescence. The kernel rule behind a check (which context may sleep, what a lock attempt does, which
list or rcu_head operation is broken) is stated in bot/sim/semantics.py. rules/classify.toml maps an id (plus attributes) to a hazard; a classify rule naming an
id that is not here is a load error.
"""

from __future__ import annotations

from typing import NamedTuple


class Invariant(NamedTuple):
    id: str
    sentence: str
    litmus: str  # where bot/sim/litmus.py checks it ("" when it does not)
    c: str  # where the C interpreter checks it ("" when it does not)


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("use_after_free", "no context touches an object after it was freed",
              "Litmus._check_obj", "Machine.check_alive, effects free_page/list_*"),
    Invariant("double_free", "an object is freed at most once (a page-table destructor runs at most once per "
              "constructor)", "Litmus free ops",
              "effects free_page, mm_free, kmem_free, page_dtor, page_flag (clear_set)"),
    Invariant("reader_saw_free", "an object a reader found through rcu_dereference() stays allocated until it "
              "leaves its read-side section", "Litmus use()", ""),
    Invariant("reader_saw_reuse", "an object a reader found is not reallocated (typesafe reuse) under it "
              "unless the reader re-checks it under its lock", "Litmus use()", "slab.check_access (writes)"),
    Invariant("typesafe_reinit", "a SLAB_TYPESAFE_BY_RCU object's lock is not re-initialised while a reader "
              "may hold it", "Litmus alloc ops", "slab.check_reinit (lock_init, INIT_LIST_HEAD, zalloc)"),
    Invariant("lock_in_freed_memory", "nobody takes or releases a lock that lives in freed memory",
              "Litmus lock ops", "effects kmem_free (a held lock in the object)"),
    Invariant("rcu_head_requeued", "an rcu_head is queued at most once until its callback starts",
              "Litmus call_rcu", "effects_sync queue_callback (both: semantics.call_rcu_breaks)"),
    Invariant("rcu_head_overlays_list", "memory in use as a queued rcu_head is not also a linked list_head",
              "Litmus call_rcu/list ops", "effects rcu_queue, list_*"),
    Invariant("list_double_add", "a list_head is linked on at most one list", "Litmus list_add",
              "effects list_add, llist (both: semantics.list_add_breaks)"),
    Invariant("list_del_unlinked", "list_del() only unlinks a linked (or initialised) node", "Litmus list_del",
              "effects list_del, list_move (both: semantics.list_del_breaks)"),
    Invariant("sleep_in_atomic", "a call that may sleep never runs with a spinlock held, softirqs disabled, "
              "inside rcu_read_lock() or in softirq", "Litmus, before every op whose rule has may_sleep = true",
              "effects check_may_sleep (primitives with may_sleep = true; allocations by their GFP flags); "
              "both: semantics.atomic_reason"),
    Invariant("final_mmdrop_in_softirq", "the final mmdrop() (and so __mmdrop()) never runs in softirq context",
              "Litmus mm_put (its release rule's forbid_ctx)", "effects mm_free (forbid_ctx); both: semantics.forbidden_in"),
    Invariant("deadlock", "every context can always make progress: no lock is taken twice, no softirq spins "
              "on a lock its CPU's interrupted thread holds, no ABBA cycle",
              "Litmus locks, at quiescence", "Machine.actions (both: semantics.lock_outcome)"),
    Invariant("leak", "at quiescence every object is freed or still reachable", "Litmus at quiescence",
              "models quiescence check (page neither freed nor listed)"),
    Invariant("table_freed_in_grace", "a retired page table is not freed before a grace period that started "
              "after its retirement ends (or, when only IRQ-off walkers can be inside it, before an IPI has "
              "reached every CPU)", "", "effects free_page, ipi_sync"),
    Invariant("table_written_in_grace", "nothing writes into a retired page table before its grace period ends",
              "", "Machine.write, effects list_*/memset"),
    Invariant("table_reused_in_grace", "a retired page table is not handed out again before its grace period "
              "ends", "", "effects claim_table"),
    Invariant("ptlock_freed_in_grace", "a retired table's page-table lock is not freed before its grace period "
              "ends", "", "effects page_dtor, kmem_free (soft: exploration goes on)"),
    Invariant("flag_set_at_free", "a page is freed with none of the flags its free primitive checks still set",
              "", "effects free_page (flags_checked_at_free)"),
    Invariant("cost", "a cost seen only at quiescence (a free fragment no list finds again) is reached by a "
              "path: raised only when that path is asked for, to find the statement that incurs it", "",
              "models.cost_counterexample at quiescence"),
    Invariant("nontermination", "thread-local code reaches a shared access within a bounded number of steps, "
              "and calls nest at most MAX_CALL_DEPTH deep (a modelling limit, not a kernel rule)", "",
              "Machine._settle, Machine._enter"),
)

BY_ID = {inv.id: inv for inv in INVARIANTS}
