"""s390 segment and region (CRST) tables in the 2K-fragment era: pmd_alloc_one()/pmd_free() of
asm/pgalloc.h construct and destruct the segment table, pmd_free_tlb() of asm/tlb.h destructs it
and hands it to mmu_gather's RCU batch. The 2023 ptdesc conversions of those headers are judged by
the scenarios that run them; edits of the real postings (built at test time from ../shared) that
break ctor/dtor pairing or the grace period raise the hazard, edits that keep the meaning do not.
A patched function that reads a name it no longer declares is reported as a posting that would
not compile."""

from __future__ import annotations

from tests.test_judgement_today import edited, introduced, judged_clean, real, review

CONVERSION = "[PATCH v2 17/34] s390: Convert various pgalloc functions to use ptdescs"
DTOR = "\tptdesc_pmd_dtor(virt_to_ptdesc(pmd));\n"
SEGMENT = ("s390-2k-fragments/segment-and-region-tables-alloc-free",
           "s390-2k-fragments/munmap-frees-segment-and-region-table")


def test_the_segment_table_conversion_is_judged_by_the_scenarios_that_run_it() -> None:
    p, ctx = real(2023, CONVERSION)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert {"arch/s390/include/asm/pgalloc.h:pmd_alloc_one", "arch/s390/include/asm/pgalloc.h:pmd_free",
            "arch/s390/include/asm/tlb.h:pmd_free_tlb"} <= set(r.modeled)
    assert set(SEGMENT) <= set(r.scenarios)


def test_a_segment_table_freed_without_its_destructor_leaks_its_lock() -> None:
    p, ctx = real(2023, CONVERSION)
    q, ctx = edited(p, ctx, ("^" + DTOR, ""))
    assert "PAGETABLE_LEAK" in introduced(review(q, ctx))


def test_a_segment_table_destructed_twice_is_a_double_free() -> None:
    p, ctx = real(2023, CONVERSION)
    q, ctx = edited(p, ctx, ("^" + DTOR, DTOR + DTOR))
    r = review(q, ctx)
    assert "DOUBLE_FREE" in introduced(r)
    assert any(f.file == "arch/s390/include/asm/tlb.h" and f.function == "pmd_free_tlb"
               for f in r.correctness if f.hazard == "DOUBLE_FREE")


def test_reaching_the_segment_tables_ptdesc_through_its_page_is_the_same() -> None:
    p, ctx = real(2023, CONVERSION)
    q, ctx = edited(p, ctx, ("ptdesc_pmd_dtor(virt_to_ptdesc(pmd));", "ptdesc_pmd_dtor(page_ptdesc(virt_to_page(pmd)));"))
    r = review(q, ctx)
    assert judged_clean(r), r.not_judged


def test_a_segment_table_freed_at_once_by_munmap_skips_the_grace_period() -> None:
    p, ctx = real(2023, CONVERSION)
    q, ctx = edited(p, ctx, ("\ttlb_remove_ptdesc(tlb, pmd);\n", "\tcrst_table_free(tlb->mm, (unsigned long *) pmd);\n"))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(review(q, ctx))


# ---- a posting that reads a name it no longer declares --------------------------------------------

POWERPC_V7 = "[PATCH mm-unstable v7 12/31] powerpc: Convert various functions to use ptdescs"
POWERPC_V9 = "[PATCH mm-unstable v9 12/31] powerpc: Convert various functions to use ptdescs"
S390_V1 = "[PATCH 16/33] s390: Convert various pgalloc functions to use ptdescs"


def test_a_patch_reading_the_local_it_renamed_would_not_compile() -> None:
    for subject, fn in ((POWERPC_V7, "pte_fragment_free"), (S390_V1, "page_table_alloc_pgste")):
        p, ctx = real(2023, subject)
        r = review(p, ctx)
        assert r.relevant and not r.judged and not r.correctness
        assert any(f"{fn}() reads page, which the patch no longer declares" in why and "would not compile" in why
                   for why in r.not_judged), r.not_judged


def test_the_same_rename_with_every_read_renamed_is_judged() -> None:
    # v9 of the powerpc patch reads the new name; putting v7's stale read back is v7's fault again
    p, ctx = real(2023, POWERPC_V9)
    assert judged_clean(review(p, ctx))
    q, ctx = edited(p, ctx, ("BUG_ON(atomic_read(&ptdesc->pt_frag_refcount) <= 0);",
                             "BUG_ON(atomic_read(&page->pt_frag_refcount) <= 0);"))
    r = review(q, ctx)
    assert not r.judged and any("would not compile" in why for why in r.not_judged), r.not_judged


def test_a_name_the_patch_never_declared_is_not_called_a_build_failure() -> None:
    # a read of something the model lacks (not a local the patch dropped) keeps the model's words
    p, ctx = real(2023, POWERPC_V9)
    q, ctx = edited(p, ctx, ("if (atomic_dec_and_test(&ptdesc->pt_frag_refcount)) {",
                             "if (atomic_sub_and_test(frag_step, &ptdesc->pt_frag_refcount)) {"))
    r = review(q, ctx)
    assert not any("would not compile" in why for why in r.not_judged)
    assert any("reads frag_step, which nothing defines" in why for why in r.not_judged), r.not_judged
