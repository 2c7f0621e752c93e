"""Judgement beyond the spellings the models were written with: edits of the real patches that use
other members of a primitive family, or call functions no rule knows."""

from __future__ import annotations

from bot.pipeline import Options, review_postings
from bot.report.verdict import verdict_line
from tests.test_judgement_edits import V2_05, V3_07, edited, hazards


def review(n: int, msgid: str, *subs: tuple[str, str]):
    p, ctx = edited(n, msgid, *subs)
    (r,) = review_postings([p], Options(), context=ctx)
    return r


def test_counting_deferrals_with_another_atomic_spelling_is_judged_the_same() -> None:
    # atomic_sub(1, v) for atomic_dec(v), and atomic_fetch_add(i, v) + i for atomic_add_return(i, v)
    r = review(2, V2_05, ("atomic_dec(&page->pt_frag_refcount);", "atomic_sub(1, &page->pt_frag_refcount);"),
               ("if (atomic_add_return(PTE_FREE_DEFERRED - 1, &page->pt_frag_refcount) <",
                "if (atomic_fetch_add(PTE_FREE_DEFERRED - 1, &page->pt_frag_refcount) + PTE_FREE_DEFERRED - 1 <"))
    assert r.judged and not r.not_judged and not r.opaque_calls
    assert not [f for f in r.findings if f.cls == "correctness"]
    assert any(sc.startswith("powerpc-fragments/") for sc in r.scenarios)


def test_a_family_member_with_another_meaning_is_caught() -> None:
    # fetch_add returns the old count: the second deferral no longer sees the first, and queues the
    # page's one rcu_head again
    p, ctx = edited(2, V2_05, ("if (atomic_add_return(PTE_FREE_DEFERRED - 1, &page->pt_frag_refcount) <",
                               "if (atomic_fetch_add(PTE_FREE_DEFERRED - 1, &page->pt_frag_refcount) <"))
    assert "RCU_HEAD_SHARED" in hazards(p, ctx)


def test_an_unknown_call_runs_as_opaque_and_the_review_names_it() -> None:
    r = review(3, V3_07, ("SetPageActive(page);", "SetPageActive(page); trace_pte_free_defer(mm, pgtable);"))
    assert r.judged and not r.not_judged
    assert r.opaque_calls == ["trace_pte_free_defer()"]
    assert "calls the models do not know ran as opaque: trace_pte_free_defer()" in verdict_line(r)
    assert not [f for f in r.findings if f.cls == "correctness" and f.introduced]
    assert r.to_json()["opaque_calls"] == ["trace_pte_free_defer()"]


def test_an_unknown_result_a_branch_depends_on_is_explored_both_ways() -> None:
    # Returning early when an unknown check says so: on that path the table is never freed.
    r = review(3, V3_07, ("SetPageActive(page);", "if (frob_page_busy(page)) return; SetPageActive(page);"))
    assert r.opaque_calls == ["frob_page_busy()"]
    assert any("frob_page_busy() were explored both ways" in n for n in r.notes)
    leak = next(f for f in r.findings if f.hazard == "PAGETABLE_LEAK")
    assert any("frob_page_busy() is not modeled: it returns 1" in s.op for s in leak.trace)
