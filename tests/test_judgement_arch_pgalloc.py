"""Architectures that keep their *_free_tlb() hooks in asm/pgalloc.h (riscv's static inlines,
loongarch's one-line macros) are judged by today's generic model made for them, and an
architecture without MMU_GATHER_TABLE_FREE runs the generic code under its own configuration:
tlb_remove_ptdesc() destructs the table and frees it with the page batch after the TLB flush, no
RCU batch, no reclaim of empty tables. Synthetic postings (tests/synthetic, written for these
tests) in the shape of kernel patches: an edit that breaks the rule raises its hazard, one that
keeps the meaning is judged clean."""

from __future__ import annotations

from bot.cmodel.models import models_for, through_headers_it_takes
from tests.test_judgement_today import introduced, judged_clean, mail, real, review, synthetic

MODEL = "ptdesc-dtor-in-tlb-remove-table"


def test_riscv_destructing_in_its_pgalloc_hook_frees_the_lock_early_and_twice() -> None:
    r = review(mail("riscv: destruct PTE tables in __pte_free_tlb()", synthetic("riscv-pte-free-tlb-dtor-early.diff"),
                    "riscv-dtor-early"))
    assert r.relevant and r.judged
    assert {"DOUBLE_FREE", "PTLOCK_FREED_BEFORE_GP"} <= introduced(r)
    assert {f.file for f in r.correctness} == {"arch/riscv/include/asm/pgalloc.h"}
    assert r.scenarios and all(s.startswith(f"{MODEL}@riscv/") for s in r.scenarios)


def test_riscv_handing_the_ptdesc_over_as_a_table_is_the_same() -> None:
    r = review(mail("riscv: tlb_remove_table() in __pte_free_tlb()", synthetic("riscv-pte-free-tlb-by-table.diff"),
                    "riscv-by-table"))
    assert judged_clean(r), r.not_judged
    assert "arch/riscv/include/asm/pgalloc.h:__pte_free_tlb" in r.modeled


def test_a_page_batch_architecture_destructing_in_its_hook_destructs_twice() -> None:
    # loongarch has no table batch: tlb_remove_ptdesc() runs the destructor itself, so a hook that
    # runs it too runs it twice; with no RCU table freeing there is no reclaim to race with
    r = review(mail("loongarch: destruct in __pte_free_tlb()", synthetic("loongarch-pte-free-tlb-dtor-again.diff"),
                    "la-dtor-again"))
    assert r.judged and introduced(r) == {"DOUBLE_FREE"}
    assert r.scenarios and all(s.startswith(f"{MODEL}@loongarch/") for s in r.scenarios)
    assert not any("reclaim" in s for s in r.scenarios)


def test_a_macro_hook_written_another_way_is_the_same() -> None:
    r = review(mail("loongarch: tidy __pte_free_tlb()", synthetic("loongarch-pte-free-tlb-unparenthesised.diff"),
                    "la-tidy"))
    assert judged_clean(r), r.not_judged


def test_converting_a_page_batch_hook_to_tlb_remove_ptdesc_keeps_one_destructor() -> None:
    r = review(mail("loongarch: use tlb_remove_ptdesc()", synthetic("loongarch-pte-free-tlb-to-ptdesc.diff"),
                    "la-to-ptdesc"))
    assert judged_clean(r), r.not_judged


def test_dropping_the_destructor_with_the_page_batch_leaks_the_table() -> None:
    r = review(mail("loongarch: free PTE tables with the page batch", synthetic("loongarch-pte-free-tlb-page-only.diff"),
                    "la-page-only"))
    assert "PAGETABLE_LEAK" in introduced(r)


def test_an_architectures_pgalloc_header_gets_the_models_made_for_it_unless_another_names_it() -> None:
    names = sorted(s.name for s in models_for({"arch/riscv/include/asm/pgalloc.h", "arch/loongarch/include/asm/pgalloc.h"}))
    assert [n for n in names if n.startswith(MODEL + "@")] == [f"{MODEL}@loongarch", f"{MODEL}@riscv"]
    for named in ("arch/s390/include/asm/pgalloc.h", "arch/powerpc/include/asm/pgalloc.h"):
        assert not [s for s in models_for({named}) if s.name.startswith(MODEL)]



def test_a_pgalloc_change_outside_the_hooks_brings_no_model_in() -> None:
    # most of an architecture's asm/pgalloc.h is code no model states: only a change its hooks'
    # reference can take makes the architecture's instance judge it
    p, _ctx = real(2024, "[PATCH 3/5] mm: add vaddr param to pmd_populate_kernel")
    specs = models_for({fd.path for fd in p.files})
    assert [s for s in specs if s.name.startswith(MODEL + "@")]
    assert not [s for s in through_headers_it_takes(specs, p.files) if s.name.startswith(MODEL + "@")]


def test_the_2023_ptdesc_conversions_of_page_batch_hooks_are_judged_on_their_era() -> None:
    # csky's and um's hooks were page-based macros then: judged on the page-based model made for them
    for subject, arch in (("[PATCH v5 21/33] csky: Convert __pte_free_tlb() to use ptdescs", "csky"),
                          ("[PATCH v5 32/33] um: Convert {pmd, pte}_free_tlb() to use ptdescs", "um")):
        p, ctx = real(2023, subject)
        r = review(p, ctx)
        assert judged_clean(r), (subject, r.not_judged)
        assert r.scenarios and all(s.startswith(f"generic-page-table@{arch}/") for s in r.scenarios)
