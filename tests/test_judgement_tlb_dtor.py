"""Today's table freeing: the page-table destructor in __tlb_remove_table() (an architecture's own
asm/tlb.h or the generic one), the split lock returned at once, the generic pte_free_defer().
Synthetic postings (tests/synthetic, written for these tests) in the shape of kernel patches: an
edit that breaks the rule raises its hazard, one that keeps the meaning is judged clean. (The
model's scenarios on its own reference: tests/test_model_scenarios.py.)"""

from __future__ import annotations

import pytest

from bot.cmodel.models import find_model, models_for
from bot.cmodel.select import choose
from tests.test_judgement_today import edited, introduced, judged_clean, mail, real, review, synthetic

MODEL = "ptdesc-dtor-in-tlb-remove-table"


def on_arch(diff: str, arch: str) -> str:
    return diff.replace("arch/arm64/", f"arch/{arch}/")


@pytest.mark.parametrize("arch", ["arm64", "riscv", "x86"])
def test_the_destructor_moved_back_before_the_grace_period_frees_the_lock_early(arch: str) -> None:
    # __pte_free_tlb() runs the destructor (and returns the split lock at once) while mmu_gather
    # frees the table itself after a grace period: a walker under rcu_read_lock() takes freed memory.
    diff = on_arch(synthetic("arch-tlb-dtor-in-pte-free-tlb.diff"), arch)
    r = review(mail(f"{arch}: run the table destructor in __pte_free_tlb()", diff, f"dtor-early-{arch}"))
    assert r.relevant and r.judged and "PTLOCK_FREED_BEFORE_GP" in introduced(r)
    f = next(f for f in r.findings if f.hazard == "PTLOCK_FREED_BEFORE_GP")
    assert (f.file, f.function) == (f"arch/{arch}/include/asm/tlb.h", "__pte_free_tlb")
    assert all(s.startswith(f"{MODEL}@{arch}/") for s in r.scenarios)


def test_destructor_and_free_through_the_helper_is_the_same() -> None:
    r = review(mail("arm64: use pagetable_dtor_free()", synthetic("arch-tlb-dtor-free-helper.diff"), "dtor-free"))
    assert judged_clean(r), r.not_judged
    assert "arch/arm64/include/asm/tlb.h:__tlb_remove_table" in r.modeled


def test_a_destructor_in_tlb_remove_ptdesc_runs_twice_and_early() -> None:
    diff = synthetic("tlb-remove-ptdesc-dtor-twice.diff")
    r = review(mail("mm: destruct tables as they are gathered", diff, "dtor-twice"))
    assert {"DOUBLE_FREE", "PTLOCK_FREED_BEFORE_GP"} <= introduced(r)


def test_handing_the_same_ptdesc_another_way_is_the_same() -> None:
    r = review(mail("mm: tlb_remove_ptdesc() through the page", synthetic("tlb-remove-ptdesc-via-page.diff"),
                    "via-page"))
    assert judged_clean(r), r.not_judged


def test_a_deferral_that_runs_the_destructor_first_frees_the_lock_early() -> None:
    diff = synthetic("pte-free-defer-dtor-before-gp.diff")
    r = review(mail("mm/pgtable: destruct a deferred table at once", diff, "defer-dtor-early"))
    assert "PTLOCK_FREED_BEFORE_GP" in introduced(r)
    assert {f.function for f in r.findings if f.hazard == "PTLOCK_FREED_BEFORE_GP"} == {"pte_free_defer"}


def test_a_deferral_that_frees_at_once_is_a_final_free_without_grace_period() -> None:
    r = review(mail("mm/pgtable: free a retracted table at once", synthetic("pte-free-defer-at-once.diff"),
                    "defer-at-once"))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(r)


def test_the_deferred_free_through_dtor_free_is_the_same() -> None:
    r = review(mail("mm/pgtable: pte_free_now() by its ptdesc", synthetic("pte-free-now-dtor-free.diff"), "now-free"))
    assert judged_clean(r), r.not_judged


# ---- which model, for which architecture -------------------------------------------------------

def test_an_architectures_file_gets_the_model_made_for_it() -> None:
    paths = {"arch/loongarch/include/asm/tlb.h", "arch/riscv/include/asm/tlb.h"}
    names = sorted(s.name for s in models_for(paths) if s.name.startswith(MODEL))
    assert names == [f"{MODEL}@loongarch", f"{MODEL}@riscv"]
    spec = find_model(f"{MODEL}@riscv")
    assert spec is not None and "arch/riscv/include/asm/tlb.h" in spec.references
    assert find_model(f"{MODEL}@../x") is None  # an architecture is one directory name
    assert not [s for s in models_for({"arch/riscv/include/asm/tlb.h/x"}) if s.name.startswith(MODEL)]


def test_the_generic_header_states_are_told_apart_by_their_hunks() -> None:
    today = mail("mm: tidy tlb_remove_ptdesc()", synthetic("tlb-remove-ptdesc-via-page.diff"), "today")
    ptdesc_era = mail("mm: tidy pte_free()", synthetic("generic-pte-free-ptdesc-api.diff"), "ptdesc-era")
    assert [s.name for s in choose(models_for({fd.path for fd in today.files}), [today.files])] == [MODEL]
    assert MODEL not in [s.name for s in choose(models_for({fd.path for fd in ptdesc_era.files}),
                                                [ptdesc_era.files])]


def test_an_architecture_with_a_model_of_its_own_file_keeps_it() -> None:
    names = [s.name for s in models_for({"arch/s390/include/asm/tlb.h"})]
    assert "s390-page-tables" in names and not [n for n in names if n.startswith(MODEL)]


def test_a_page_era_architecture_file_is_judged_on_the_page_based_model_made_for_it() -> None:
    # The 2023 ptdesc conversion of arm64's asm/tlb.h was made against the page-based API.
    p, ctx = real(2023, "[PATCH v5 20/33] arm64: Convert various functions to use ptdescs")
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert r.scenarios and all(s.startswith("generic-page-table@arm64/") for s in r.scenarios)
    assert "arch/arm64/include/asm/tlb.h:__pte_free_tlb" in r.modeled



# ---- mmu_gather's single-table fallback in the page-based era -------------------------------------

IPI_TO_MM_CPUS = "[PATCH 2/3] mm/mmu_gather: send tlb_remove_table_smp_sync IPI only to MM CPUs"


def test_an_ipi_to_the_cpus_of_the_mm_is_judged_as_the_same_sync() -> None:
    p, ctx = real(2023, IPI_TO_MM_CPUS)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert "mm/mmu_gather.c:tlb_remove_table_one" in r.modeled


def test_the_fallback_without_its_ipi_frees_before_walkers_are_out() -> None:
    p, ctx = real(2023, IPI_TO_MM_CPUS)
    q, ctx = edited(p, ctx, ("^\ttlb_remove_table_sync_one(mm);\n", ""))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(review(q, ctx))


# ---- whole-page s390 with the destructor in the final free -------------------------------------

S390_TODAY = "s390-page-tables-dtor-in-tlb-remove-table"


def test_s390_destructing_the_segment_table_before_mmu_gather_runs_it_twice() -> None:
    diff = synthetic("s390-pmd-free-tlb-dtor-again.diff")
    r = review(mail("s390/mm: destruct the segment table in pmd_free_tlb()", diff, "s390-pmd-dtor"))
    assert {"DOUBLE_FREE", "PTLOCK_FREED_BEFORE_GP"} <= introduced(r)
    assert all(s.startswith(f"{S390_TODAY}/") for s in r.scenarios)


def test_s390_open_coding_dtor_and_free_is_the_same() -> None:
    diff = synthetic("s390-page-table-free-open-coded.diff")
    r = review(mail("s390/mm: open-code pagetable_dtor_free()", diff, "s390-open-coded"))
    assert judged_clean(r), r.not_judged
    assert all(s.startswith(f"{S390_TODAY}/") for s in r.scenarios)
