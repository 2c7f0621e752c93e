"""Today's powerpc (64-bit Book3S) table freeing: PTE and PMD fragments with struct ptdesc,
powerpc's own __tlb_remove_table() that frees a gathered table by the level its pointer carries,
pte_fragment_free() deferring a page a fragment of which was retracted. Synthetic postings
(tests/synthetic, written for these tests) in the shape of kernel patches: an edit that breaks
the rule raises its hazard, one that keeps the meaning is judged clean. (The model's scenarios on
its own reference and on its known-bad source: tests/test_model_scenarios.py.)"""

from __future__ import annotations

from bot.cmodel.models import load_models, models_for
from bot.cmodel.select import choose
from tests.test_judgement_today import introduced, judged_clean, mail, real, review, synthetic

MODEL = "powerpc-fragments-ptdesc"


def test_a_pte_table_freed_at_once_by_its_tlb_hook_skips_the_grace_period() -> None:
    # munmap's walkers with IRQs off (GUP-fast) may still be inside the table: handing it to
    # pte_fragment_free() instead of mmu_gather frees the page under them.
    r = review(mail("powerpc/book3s64: free PTE tables directly", synthetic("powerpc-pte-free-tlb-at-once.diff"),
                    "ppc-pte-at-once"))
    assert r.relevant and r.judged and "NON_DEFERRED_FINAL_FREE" in introduced(r)
    f = next(f for f in r.findings if f.hazard == "NON_DEFERRED_FINAL_FREE")
    assert (f.file, f.function) == ("arch/powerpc/include/asm/book3s/64/pgalloc.h", "__pte_free_tlb")
    assert r.scenarios and all(s.startswith(f"{MODEL}/") for s in r.scenarios)


def test_encoding_the_level_by_hand_is_the_same_gather() -> None:
    r = review(mail("powerpc/book3s64: open-code pgtable_free_tlb()", synthetic("powerpc-pte-free-tlb-open-coded.diff"),
                    "ppc-pte-open-coded"))
    assert judged_clean(r), r.not_judged
    assert "arch/powerpc/include/asm/book3s/64/pgalloc.h:__pte_free_tlb" in r.modeled


def test_a_fragment_free_that_forgets_the_deferral_frees_under_walkers() -> None:
    r = review(mail("powerpc/mm: simplify pte_fragment_free()", synthetic("powerpc-fragment-free-ignores-deferral.diff"),
                    "ppc-ignores-deferral"))
    assert {"NON_DEFERRED_FINAL_FREE", "PTLOCK_FREED_BEFORE_GP"} <= introduced(r)
    assert {f.function for f in r.correctness if f.introduced} == {"pte_fragment_free"}


def test_testing_the_deferral_first_is_the_same_free() -> None:
    r = review(mail("powerpc/mm: test the deferral first", synthetic("powerpc-fragment-free-deferral-first.diff"),
                    "ppc-deferral-first"))
    assert judged_clean(r), r.not_judged
    assert any(s.endswith("/defer-then-siblings-gathered") for s in r.scenarios)


def test_a_pmd_fragment_page_freed_without_its_destructor_is_noted() -> None:
    r = review(mail("powerpc/book3s64: free PMD pages directly", synthetic("powerpc-pmd-fragment-free-no-dtor.diff"),
                    "ppc-pmd-no-dtor"))
    assert r.judged and "PAGETABLE_ACCOUNTING" in {f.hazard for f in r.findings if f.introduced}


def test_the_pmd_destructor_and_free_through_the_helper_is_the_same() -> None:
    r = review(mail("powerpc/book3s64: use pagetable_dtor_free()", synthetic("powerpc-pmd-fragment-free-dtor-free.diff"),
                    "ppc-pmd-dtor-free"))
    assert judged_clean(r), r.not_judged
    assert r.findings == []


# ---- which model judges the fragment file ------------------------------------------------------

def test_todays_fragment_file_is_judged_on_todays_model_and_2023s_on_theirs() -> None:
    today = mail("powerpc/mm: simplify pte_fragment_free()", synthetic("powerpc-fragment-free-ignores-deferral.diff"),
                 "ppc-choice")
    paths = {fd.path for fd in today.files}
    assert [s.name for s in choose(models_for(paths), [today.files])] == [MODEL]
    p, _ctx = real(2023, "[PATCH mm-unstable v9 12/31] powerpc: Convert various functions to use ptdescs")
    assert MODEL not in [s.name for s in choose(load_models(), [p.files])]


def test_the_book3s64_files_are_this_models_alone() -> None:
    for path in ("arch/powerpc/mm/book3s64/pgtable.c", "arch/powerpc/include/asm/book3s/64/pgalloc.h"):
        assert [s.name for s in models_for({path})] == [MODEL]


def test_a_hunk_in_a_function_the_partial_reference_leaves_out_is_outside_it() -> None:
    # git names the preceding hook in the hunk's section line, but the hunk opens
    # pmd_populate_kernel() before it changes anything: that change is outside the model
    from bot.cmodel.models import build_program, find_model

    p, _ctx = real(2024, "[PATCH 3/5] mm: add vaddr param to pmd_populate_kernel")
    spec = find_model(MODEL)
    assert spec is not None
    bound = build_program(spec, [p.files])
    assert not bound.report.failed and not bound.changed
