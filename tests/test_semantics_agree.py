"""One RCU rule per case, written twice: as a litmus file (bot/sim) and as C run by the interpreter
(bot/cmodel) on the generic model. Both give the same verdict, and spin, on the litmus file's
Promela export, agrees with both."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from bot.cmodel.cparse import parse_unit
from bot.cmodel.models import Scenario, build_program, load_models, run_scenario
from bot.cmodel.program import SourceLine
from bot.sim.core import check
from bot.sim.litmus import ScenarioModel
from bot.sim.promela import run_spin
from bot.sim.scenario import compile_scenario

# Callbacks the C cases queue: free the page whose rcu_head it is, read it, read the page its
# `mapping` points to (a second object the callback depends on), or take that page's lock.
CALLBACKS = """
void free_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);

	__free_page(p);
}

void use_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);
	v = p->flags;
}

void use_other_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);
	struct page *o = p->mapping;
	v = o->flags;
}

void requeue_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);
	struct page *o = p->mapping;

	call_rcu(&o->rcu_head, use_other_cb);
}

void drop_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);
	struct mm_struct *mm = p->mapping;

	mmdrop(mm);
}

void drop_async_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);
	struct mm_struct *mm = p->mapping;

	mmdrop_async(mm);
}

void lock_cb(struct rcu_head *h)
{
	struct page *p = container_of(h, struct page, rcu_head);
	struct page *l = p->mapping;

	spin_lock_bh(&l->ptl);
	spin_unlock_bh(&l->ptl);
	__free_page(p);
}
"""

# The C reader: finds the page through a published pointer (*slot), reads it twice.
SETUP = "pg = alloc_page(0); slot = page_to_virt(alloc_page(0)); *slot = pg; lk = alloc_page(0);"


def _reader(enter: str, leave: str) -> tuple[list[str], str]:
    litmus = [enter, "deref(pg)", {"if": "found(pg)", "then": ["use(pg, read)", "use(pg, read)"]}, leave]
    return litmus, f"{enter}; q = *slot; if (q) {{ v = q->flags; v = q->flags; }} {leave};"


@dataclass
class Case:
    rule: str
    verdict: str
    litmus: dict
    c_setup: str
    c_threads: list[str]


def _two(reader: tuple[list[str], str], freer_ops: list, freer_c: str, functions: dict | None = None) -> tuple:
    litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}, "lk": {"type": "lock"}},
              "functions": functions or {},
              "threads": {"reader": {"cpu": 0, "ops": reader[0]}, "freer": {"cpu": 1, "ops": freer_ops}}}
    return litmus, [reader[1], freer_c]


def _cases() -> list[Case]:
    rcu = _reader("rcu_read_lock()", "rcu_read_unlock()")
    bh = _reader("local_bh_disable()", "local_bh_enable()")
    preempt = _reader("preempt_disable()", "preempt_enable()")
    lock_l, lock_c = _reader("spin_lock(lk)", "spin_unlock(lk)")
    lock = (lock_l, lock_c.replace("spin_lock(lk)", "spin_lock(&lk->ptl)").replace("spin_unlock(lk)",
                                                                                      "spin_unlock(&lk->ptl)"))
    sync = (["unpublish(pg)", "synchronize_rcu()", "free(pg)"], "*slot = 0; synchronize_rcu(); __free_page(pg);")
    out = []
    for rule, verdict, reader, freer in [
        ("synchronize_rcu waits for an rcu_read_lock() reader", "safe", rcu, sync),
        ("a free with no grace period races the reader", "unsafe", rcu,
         (["unpublish(pg)", "free(pg)"], "*slot = 0; __free_page(pg);")),
        ("call_rcu defers the free past the reader", "safe", rcu,
         (["unpublish(pg)", "call_rcu(pg.rcu_head, free_cb)"], "*slot = 0; call_rcu(&pg->rcu_head, free_cb);")),
        ("a softirq-disabled region is a reader", "safe", bh, sync),
        ("a spinlock holder is a reader", "safe", lock, sync),
        ("a preemption-disabled region is a reader", "safe", preempt, sync),
        ("a preemption-disabled region holds up call_rcu's grace period", "safe", preempt,
         (["unpublish(pg)", "call_rcu(pg.rcu_head, free_cb)"], "*slot = 0; call_rcu(&pg->rcu_head, free_cb);")),
    ]:
        litmus, threads = _two(reader, freer[0], freer[1], {"free_cb": ["free(pg)"]})
        litmus["objects"]["pg"]["overlay"] = [["rcu_head", "lru"]]
        out.append(Case(rule, verdict, litmus, SETUP, threads))
    # Callbacks: after synchronize_rcu() a queued callback may not have run yet; after rcu_barrier()
    # it has; two ready callbacks run in any order.
    for rule, verdict, wait in [("synchronize_rcu does not wait for callbacks", "unsafe", "synchronize_rcu"),
                                ("rcu_barrier waits for every queued callback", "safe", "rcu_barrier")]:
        litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}},
                  "functions": {"use_cb": ["use(pg, read)"]},
                  "threads": {"t": {"cpu": 0, "ops": ["call_rcu(pg.rcu_head, use_cb)", f"{wait}()", "free(pg)"]}}}
        out.append(Case(rule, verdict, litmus, "pg = alloc_page(0);",
                        [f"call_rcu(&pg->rcu_head, use_cb); {wait}(); __free_page(pg);"]))
    # rcu_barrier() waits for the callbacks queued before it, not for one a callback queues later.
    litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}, "q": {"type": "page"}},
              "functions": {"requeue": ["call_rcu(q.rcu_head, use_other)"], "use_other": ["use(pg, read)"]},
              "threads": {"t": {"cpu": 0, "ops": ["call_rcu(pg.rcu_head, requeue)", "rcu_barrier()", "free(pg)"]}}}
    out.append(Case("rcu_barrier does not wait for a callback queued after it", "unsafe", litmus,
                    "pg = alloc_page(0); q = alloc_page(0); pg->mapping = q; q->mapping = pg;",
                    ["call_rcu(&pg->rcu_head, requeue_cb); rcu_barrier(); __free_page(pg);"]))
    # call_rcu() while a grace period is in progress needs the next one: the reader that entered
    # after that GP started (it waits for `other`, in a section then) holds up the callback.
    litmus = {"expect": {"verdict": "?"},
              "objects": {"pg": {"type": "page"}, "x": {"type": "page"}, "lk": {"type": "lock"}},
              "functions": {"free_cb": ["free(pg)"], "use_cb": ["use(x, read)"]},
              "threads": {"early": {"cpu": 2, "ops": ["call_rcu(x.rcu_head, use_cb)"]},
                          "other": {"cpu": 3, "ops": ["rcu_read_lock()", "rcu_read_unlock()"]},
                          "reader": {"cpu": 0, "ops": rcu[0]},
                          "freer": {"cpu": 1, "ops": ["unpublish(pg)", "call_rcu(pg.rcu_head, free_cb)"]}}}
    litmus["objects"]["pg"]["overlay"] = [["rcu_head", "lru"]]
    out.append(Case("call_rcu during a grace period waits for the next one", "safe", litmus,
                    SETUP + " x = alloc_page(0);",
                    [rcu[1], "*slot = 0; call_rcu(&pg->rcu_head, free_cb);", "call_rcu(&x->rcu_head, use_cb);",
                     "rcu_read_lock(); v = x->flags; rcu_read_unlock();"]))
    # What may not sleep: synchronize_rcu() with a spinlock held, inside rcu_read_lock(), with
    # preemption or softirqs off; and the rcu_head rule.
    for rule, enter, leave, enter_c, leave_c in [
        ("synchronize_rcu under a spinlock sleeps in atomic context", "spin_lock(lk)", "spin_unlock(lk)",
         "spin_lock(&lk->ptl)", "spin_unlock(&lk->ptl)"),
        ("synchronize_rcu inside rcu_read_lock sleeps in atomic context", "rcu_read_lock()", "rcu_read_unlock()",
         "rcu_read_lock()", "rcu_read_unlock()"),
        ("might_sleep with preemption off is atomic", "preempt_disable()", "preempt_enable()",
         "preempt_disable()", "preempt_enable()"),
        ("rcu_barrier with softirqs off sleeps in atomic context", "local_bh_disable()", "local_bh_enable()",
         "local_bh_disable()", "local_bh_enable()"),
    ]:
        call = rule.split()[0]
        litmus = {"expect": {"verdict": "?"}, "objects": {"lk": {"type": "lock"}},
                  "threads": {"t": {"cpu": 0, "ops": [enter, f"{call}()", leave]}}}
        out.append(Case(rule, "unsafe", litmus, "lk = alloc_page(0);", [f"{enter_c}; {call}(); {leave_c};"]))
    litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}},
              "functions": {"use_cb": ["use(pg, read)"]},
              "threads": {"t": {"cpu": 0, "ops": ["call_rcu(pg.rcu_head, use_cb)", "call_rcu(pg.rcu_head, use_cb)"]}}}
    out.append(Case("an rcu_head is queued once until its callback starts", "unsafe", litmus, "pg = alloc_page(0);",
                    ["call_rcu(&pg->rcu_head, use_cb); call_rcu(&pg->rcu_head, use_cb);"]))
    # The last mmdrop() runs __mmdrop(), which rules/primitives.toml forbids in softirq: not from an
    # RCU callback; mmdrop_async() there defers it to a kworker.
    for rule, verdict, drop, cb in [("the final mmdrop never runs in softirq", "unsafe", "mmdrop", "drop_cb"),
                                    ("mmdrop_async defers the final drop to a kworker", "safe", "mmdrop_async",
                                     "drop_async_cb")]:
        litmus = {"expect": {"verdict": "?"}, "objects": {"mm": {"type": "mm", "refs": 1}, "pg": {"type": "page"}},
                  "functions": {"drop": [f"{drop}(mm)"]},
                  "threads": {"t": {"cpu": 0, "ops": ["call_rcu(pg.rcu_head, drop)"]}}}
        out.append(Case(rule, verdict, litmus, "mm = new_mm(); pg = alloc_page(0); pg->mapping = mm;",
                        [f"call_rcu(&pg->rcu_head, {cb});"]))
    out += _srcu_cases()
    litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}, "q": {"type": "page"}},
              "functions": {"use_other": ["use(pg, read)"], "free_cb": ["free(pg)"]},
              "threads": {"t": {"cpu": 0, "ops": ["call_rcu(q.rcu_head, use_other)", "call_rcu(pg.rcu_head, free_cb)"]}}}
    out.append(Case("callbacks run in any order", "unsafe", litmus,
                    "pg = alloc_page(0); q = alloc_page(0); q->mapping = pg;",
                    ["call_rcu(&q->rcu_head, use_other_cb); call_rcu(&pg->rcu_head, free_cb);"]))
    # Callbacks run on the CPU that queued them: one that takes a lock can interrupt a plain
    # spin_lock() holder only on the holder's own CPU.
    holder_l, holder_c = ["spin_lock(lk)", "spin_unlock(lk)"], "spin_lock(&lk->ptl); v = lk->flags; spin_unlock(&lk->ptl);"
    queue_l, queue_c = "call_rcu(pg.rcu_head, lock_cb)", "call_rcu(&pg->rcu_head, lock_cb);"
    for rule, verdict, threads_l, threads_c in [
        ("a callback runs on the CPU that queued it, not on the lock holder's", "safe",
         {"holder": {"cpu": 0, "ops": holder_l}, "queuer": {"cpu": 1, "ops": [queue_l]}}, [holder_c, queue_c]),
        ("a callback queued on the holder's CPU interrupts it and spins", "unsafe",
         {"holder": {"cpu": 0, "ops": [queue_l, *holder_l]}}, [queue_c + " " + holder_c]),
    ]:
        litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}, "lk": {"type": "lock"}},
                  "functions": {"lock_cb": ["spin_lock_bh(lk)", "spin_unlock_bh(lk)", "free(pg)"]},
                  "threads": threads_l}
        out.append(Case(rule, verdict, litmus, "pg = alloc_page(0); lk = alloc_page(0); pg->mapping = lk;",
                        threads_c))
    return out


def _srcu_cases() -> list[Case]:
    """SRCU is a grace-period domain of its own: its GP waits for SRCU readers only, RCU's for RCU
    readers only; call_srcu() and srcu_barrier() follow RCU's rules in that domain; an SRCU reader may sleep."""
    srcu = (["srcu_read_lock()", "deref(pg)", {"if": "found(pg)", "then": ["use(pg, read)", "use(pg, read)"]},
             "srcu_read_unlock()"],
            "i = srcu_read_lock(ss); q = *slot; if (q) { v = q->flags; v = q->flags; } srcu_read_unlock(ss, i);")
    rcu = _reader("rcu_read_lock()", "rcu_read_unlock()")
    out = []
    for rule, verdict, reader, freer in [
        ("synchronize_srcu waits for an SRCU reader", "safe", srcu,
         (["unpublish(pg)", "synchronize_srcu()", "free(pg)"], "*slot = 0; synchronize_srcu(ss); __free_page(pg);")),
        ("synchronize_rcu does not wait for an SRCU reader", "unsafe", srcu,
         (["unpublish(pg)", "synchronize_rcu()", "free(pg)"], "*slot = 0; synchronize_rcu(); __free_page(pg);")),
        ("synchronize_srcu does not wait for an RCU reader", "unsafe", rcu,
         (["unpublish(pg)", "synchronize_srcu()", "free(pg)"], "*slot = 0; synchronize_srcu(ss); __free_page(pg);")),
        ("call_srcu defers the free past an SRCU reader", "safe", srcu,
         (["unpublish(pg)", "call_srcu(pg.rcu_head, free_cb)"], "*slot = 0; call_srcu(ss, &pg->rcu_head, free_cb);")),
    ]:
        litmus, threads = _two(reader, freer[0], freer[1], {"free_cb": ["free(pg)"]})
        litmus["objects"]["pg"]["overlay"] = [["rcu_head", "lru"]]
        out.append(Case(rule, verdict, litmus, SETUP + " ss = alloc_page(0);", threads))
    for rule, verdict, wait in [("srcu_barrier waits for the queued SRCU callbacks", "safe", "srcu_barrier()"),
                                ("synchronize_srcu does not wait for SRCU callbacks", "unsafe", "synchronize_srcu()")]:
        litmus = {"expect": {"verdict": "?"}, "objects": {"pg": {"type": "page"}},
                  "functions": {"use_cb": ["use(pg, read)"]},
                  "threads": {"t": {"cpu": 0, "ops": ["call_srcu(pg.rcu_head, use_cb)", wait, "free(pg)"]}}}
        out.append(Case(rule, verdict, litmus, "pg = alloc_page(0); ss = alloc_page(0);",
                        [f"call_srcu(ss, &pg->rcu_head, use_cb); {wait[:-2]}(ss); __free_page(pg);"]))
    litmus = {"expect": {"verdict": "?"}, "objects": {},
              "threads": {"t": {"cpu": 0, "ops": ["srcu_read_lock()", "might_sleep()", "srcu_read_unlock()"]}}}
    out.append(Case("an SRCU reader may sleep", "safe", litmus, "ss = alloc_page(0);",
                    ["i = srcu_read_lock(ss); might_sleep(); srcu_read_unlock(ss, i);"]))
    return out


CASES = _cases()


def _litmus(case: Case):
    data = dict(case.litmus, expect={"verdict": case.verdict})
    return compile_scenario(data, name=case.rule)


def _c_verdict(case: Case) -> tuple[str, list[str]]:
    spec = next(s for s in load_models() if s.name == "generic-page-table")
    bound = build_program(spec, [])
    unit = parse_unit(CALLBACKS)
    bound.program.add_unit(unit, [SourceLine("t.c", i + 1, ln, True) for i, ln in enumerate(CALLBACKS.splitlines())])
    sc = Scenario(case.rule, case.rule, [], case.c_setup,
                  [(f"CPU{i}", i, code) for i, code in enumerate(case.c_threads)], ["slot"])
    res, m = run_scenario(spec, bound, sc, 100_000, 20.0)
    assert not m.obs.unknown and not m.obs.unresolved, (m.obs.unknown, m.obs.unresolved)
    kinds = sorted({cx.violation.kind for cx in res.counterexamples} - {"leak"})
    return ("unsafe" if kinds else "safe"), kinds


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_litmus_and_c_agree(case: Case) -> None:
    ours = check(ScenarioModel(_litmus(case)))
    c_verdict, kinds = _c_verdict(case)
    assert ours.verdict == case.verdict, ours.kinds
    assert c_verdict == case.verdict, kinds


@pytest.mark.skipif(shutil.which("spin") is None, reason="spin is not installed (apt-get install spin)")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_spin_agrees_with_both(case: Case, tmp_path) -> None:
    spin = run_spin(_litmus(case), str(tmp_path))
    assert (spin["errors"] > 0) == (case.verdict == "unsafe")


@pytest.mark.parametrize("key", ["may_sleep", "forbid_ctx"])
def test_both_machines_read_the_rule(key: str, monkeypatch) -> None:
    """The rules/primitives.toml key decides in both machines: without it might_sleep() with
    preemption off, or the final mmdrop in softirq, is no longer a violation in either."""
    from dataclasses import replace
    from types import MappingProxyType

    from bot.cmodel.primitives import primitives

    prims = primitives()
    if key == "may_sleep":
        case = next(c for c in CASES if c.rule.startswith("might_sleep with preemption off"))
        monkeypatch.setitem(prims, "might_sleep", replace(prims["might_sleep"], may_sleep=False))
    else:
        case = next(c for c in CASES if c.rule == "the final mmdrop never runs in softirq")
        for name in ("__mmdrop", "free_mm"):
            rule = prims[name]
            monkeypatch.setitem(prims, name, replace(rule, params=MappingProxyType({**rule.params, "forbid_ctx": ()})))
    assert check(ScenarioModel(_litmus(case))).verdict == "safe"
    assert _c_verdict(case)[0] == "safe"
