"""Architectures without MMU_GATHER_TABLE_FREE (loongarch, mips, csky, ...) run today's generic
table code under their own configuration: tlb_remove_table()/tlb_remove_ptdesc() destruct the table
and free it with the page batch after the TLB flush, no RCU batch, no reclaim of empty tables.
Synthetic postings (tests/synthetic, written for these tests) in the shape of kernel patches: an edit
that breaks the rule raises its hazard, one that keeps the meaning is judged clean."""

from __future__ import annotations

from bot.cmodel.models import find_model, load_models
from tests.test_judgement_today import introduced, judged_clean, mail, review, synthetic

MODEL = "ptdesc-dtor-in-tlb-remove-table"


def test_each_architecture_runs_under_the_options_it_selects() -> None:
    la, rv = find_model(f"{MODEL}@loongarch"), find_model(f"{MODEL}@riscv")
    assert la is not None and rv is not None and la.config is not None and rv.config is not None
    assert (la.config.arch, rv.config.arch) == ("loongarch", "riscv")
    assert not la.config.enabled("CONFIG_MMU_GATHER_TABLE_FREE") and not la.config.enabled("CONFIG_PT_RECLAIM")
    assert rv.config.enabled("CONFIG_MMU_GATHER_RCU_TABLE_FREE") and rv.config.enabled("CONFIG_PT_RECLAIM")
    base = next(s for s in load_models() if s.name == MODEL)
    assert base.config is not None and base.config.enabled("CONFIG_MMU_GATHER_TABLE_FREE")


def test_the_page_batch_free_without_its_destructor_is_judged_on_a_page_batch_architecture() -> None:
    # the change is under `#ifndef CONFIG_MMU_GATHER_TABLE_FREE`: compiled out by the default
    # configuration, it is judged on an architecture whose configuration keeps it
    r = review(mail("mm: free page-batch directories without the destructor",
                    synthetic("tlb-remove-table-page-batch-no-dtor.diff"), "pb-no-dtor"))
    assert r.judged and "PAGETABLE_LEAK" in introduced(r)
    assert r.scenarios and all("@" in s.split("/")[0] for s in r.scenarios)
    assert not any("reclaim" in s for s in r.scenarios)  # no PT_RECLAIM without RCU table freeing
    assert "include/asm-generic/tlb.h:tlb_remove_table" in r.modeled


def test_the_page_batch_free_written_another_way_is_the_same() -> None:
    r = review(mail("mm: inline the page of a page-batch directory",
                    synthetic("tlb-remove-table-page-batch-inlined.diff"), "pb-inlined"))
    # (the model's lifetime pairs whose paths this configuration builds otherwise, the reclaim of
    # empty tables among them, do not run here)
    assert judged_clean(r), r.not_judged
    assert not any("lifetime:gather" in s for s in r.scenarios)
    assert "include/asm-generic/tlb.h:tlb_remove_table" in r.modeled


def test_a_change_both_configurations_build_alike_is_judged_once() -> None:
    r = review(mail("mm: destruct tables as they are gathered", synthetic("tlb-remove-ptdesc-dtor-twice.diff"),
                    "pb-once"))
    assert {"DOUBLE_FREE", "PTLOCK_FREED_BEFORE_GP"} <= introduced(r)
    assert r.scenarios and not [s for s in r.scenarios if "@" in s.split("/")[0]]
