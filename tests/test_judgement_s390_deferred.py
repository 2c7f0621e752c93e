"""s390 with 2K fragments once pte_free_defer() exists: postings made against that code are judged
on its model (models/s390-deferred), and edits of one that break or keep its rule are told apart."""

from __future__ import annotations

from bot.cmodel.models import load_models
from bot.cmodel.select import choose
from tests.test_judgement_today import edited, introduced, real, review

S390_DEFERRED_BASE = "[PATCH mm-unstable v9 14/31] s390: Convert various pgalloc functions to use ptdescs"


def test_a_posting_on_the_deferring_2k_code_is_judged_on_that_model() -> None:
    p, ctx = real(2023, S390_DEFERRED_BASE)
    assert [s.name for s in choose(load_models(), [p.files])] == [
        "s390-2k-fragments-deferred"]
    r = review(p, ctx)
    assert not r.correctness
    assert "arch/s390/mm/pgalloc.c:page_table_free" in r.modeled
    assert {s.split("/")[0] for s in r.scenarios} == {"s390-2k-fragments-deferred"}


def test_the_deferred_page_freed_at_once_on_the_last_half_is_caught() -> None:
    p, ctx = real(2023, S390_DEFERRED_BASE)
    q, ctx = edited(p, ctx, ("\t\tcall_rcu(&ptdesc->pt_rcu_head, pte_free_now);\n",
                             "\t\tpte_free_now(&ptdesc->pt_rcu_head);\n"))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(review(q, ctx))


def test_testing_the_active_bit_through_the_page_is_the_same() -> None:
    p, ctx = real(2023, S390_DEFERRED_BASE)
    q, ctx = edited(p, ctx, ("folio_test_clear_active(ptdesc_folio(ptdesc))", "TestClearPageActive(ptdesc_page(ptdesc))"))
    r = review(q, ctx)
    assert not r.correctness and "arch/s390/mm/pgalloc.c:page_table_free" in r.modeled
