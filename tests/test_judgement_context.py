"""Context and cost rules on real patches: a sleeping call in atomic, softirq or RCU-callback context
(SLEEP_IN_ATOMIC), synchronize_rcu() in mm teardown or per page table (SYNC_RCU_HOT_PATH), also when
the change is a macro or a static inline in a header the patch changes."""

from __future__ import annotations

import copy

from bot.patch import HunkLine, Posting
from bot.pipeline import Options, review_postings
from tests.corpus import year_postings
from tests.test_judgement_edits import V2_07, V3_07, edited, hazards

HOUR_REPLY = "fc5cd62e-d85f-36c3-ba37-db87e8b625d@google.com"  # "#define destroy_context(mm) synchronize_rcu()"


def with_lines(p: Posting, path: str, after: str, new: list[str]) -> Posting:
    """p with `new` added after the first post-image line of `path` containing `after`."""
    q = copy.deepcopy(p)
    fd = next(f for f in q.files if f.path == path)
    for h in fd.hunks:
        idx = next((i for i, ln in enumerate(h.lines) if ln.tag != "-" and after in ln.text), None)
        if idx is None:
            continue
        at = h.lines[idx].new_no or 0
        shifted = [HunkLine(ln.tag, ln.text, ln.old_no, (ln.new_no + len(new)) if ln.new_no else None)
                   for ln in h.lines[idx + 1:]]
        h.lines = h.lines[:idx + 1] + [HunkLine("+", t, None, at + 1 + i) for i, t in enumerate(new)] + shifted
        h.new_len += len(new)
        return q
    raise AssertionError(f"{after!r} not in {path}")


def review(p: Posting, ctx: list[Posting]):
    (r,) = review_postings([p], Options(), context=ctx)
    return r


def by_class(r, hazard: str) -> set[str]:
    return {f.cls for f in r.findings if f.hazard == hazard and f.introduced}


def test_the_real_destroy_context_macro_sleeps_in_a_lazy_tlb_mmdrop() -> None:
    ps = list(year_postings("2023"))
    p = next(q for q in ps if q.msgid == HOUR_REPLY)
    r = review(p, ps)
    f = next(f for f in r.findings if f.hazard == "SYNC_RCU_HOT_PATH" and f.cls == "correctness")
    assert (f.file, f.function) == ("arch/s390/include/asm/mmu_context.h", "destroy_context")
    assert f.evidence == ["#define destroy_context(mm) synchronize_rcu()"]
    assert any("preemption disabled" in s.op for s in f.trace if s.violation)
    assert "cost" in by_class(r, "SYNC_RCU_HOT_PATH")  # and a grace period per exit where it may sleep


def _v3_07_with_header(*new: str) -> tuple[Posting, list[Posting]]:
    p, ctx = edited(3, V3_07, ("/*", "/*"))  # the real patch, unchanged
    q = with_lines(p, "arch/s390/include/asm/pgalloc.h", "#define pte_free_defer pte_free_defer", list(new))
    return q, [q if c.msgid == V3_07 else c for c in ctx]


def test_a_static_inline_teardown_that_waits_for_rcu_is_caught() -> None:
    p, ctx = _v3_07_with_header("static inline void destroy_context(struct mm_struct *mm)", "{",
                                "\tsynchronize_rcu();", "}")
    r = review(p, ctx)
    assert by_class(r, "SYNC_RCU_HOT_PATH") == {"correctness", "cost"}
    f = next(f for f in r.findings if f.hazard == "SYNC_RCU_HOT_PATH" and f.cls == "correctness")
    assert f.file == "arch/s390/include/asm/pgalloc.h" and f.function == "destroy_context"


def test_an_empty_teardown_in_the_header_changes_nothing() -> None:
    for new in (["#define destroy_context(mm) do { } while (0)"],
                ["static inline void destroy_context(struct mm_struct *mm)", "{", "}"]):
        p, ctx = _v3_07_with_header(*new)
        r = review(p, ctx)
        assert not by_class(r, "SYNC_RCU_HOT_PATH"), new
        assert not [f for f in r.findings if f.cls == "correctness" and f.introduced], new
        assert r.judged


def test_a_grace_period_per_deferred_table_is_a_cost() -> None:
    p, ctx = edited(3, V3_07, ("/*", "/*"))
    p = with_lines(p, "arch/s390/mm/pgalloc.c", "SetPageActive(page);", ["\tsynchronize_rcu();"])
    r = review(p, [p if c.msgid == V3_07 else c for c in ctx])
    assert by_class(r, "SYNC_RCU_HOT_PATH") == {"cost"}  # khugepaged may sleep there: slow, not wrong


def test_a_sleeping_lock_in_the_rcu_callback_is_sleep_in_atomic() -> None:
    subs = (("static DEFINE_SPINLOCK(mm_pgtable_list_lock);", "static DEFINE_MUTEX(mm_pgtable_list_lock);"),
            ("spin_lock_bh(&mm_pgtable_list_lock);", "mutex_lock(&mm_pgtable_list_lock);"),
            ("spin_unlock_bh(&mm_pgtable_list_lock);", "mutex_unlock(&mm_pgtable_list_lock);"))
    p, ctx = edited(2, V2_07, *subs)
    found = hazards(p, ctx)
    assert "SLEEP_IN_ATOMIC" in found  # __tlb_remove_table() runs as an RCU callback, in softirq


def test_the_same_lock_under_another_spelling_does_not_sleep() -> None:
    subs = (("spin_lock_bh(&mm_pgtable_list_lock);", "raw_spin_lock_bh(&mm_pgtable_list_lock);"),
            ("spin_unlock_bh(&mm_pgtable_list_lock);", "raw_spin_unlock_bh(&mm_pgtable_list_lock);"))
    p, ctx = edited(2, V2_07, *subs)
    assert "SLEEP_IN_ATOMIC" not in hazards(p, ctx)
