"""Today's kernel: the ptdesc API, the split page-table lock, mmu_gather's table freeing and the
newer architecture references. Synthetic postings (tests/synthetic) and edits of real postings
(built at test time from ../shared) that break a rule raise its hazard; edits that keep the meaning
keep the verdict. (Each model's scenarios on its own reference: tests/test_model_scenarios.py.)"""

from __future__ import annotations

import copy
from pathlib import Path

from bot.cmodel.bind import BindReport, apply_hunks
from bot.cmodel.models import load_models
from bot.cmodel.select import choose
from bot.findings import Review
from bot.mail import load, load_bytes
from bot.patch import HunkLine, Posting
from bot.pipeline import Options, review_postings
from tests.corpus import thread, year_postings

# ---- synthetic postings (written for these tests, not taken from any list) ---------------------

SYNTHETIC = Path(__file__).parent / "synthetic"


def synthetic(name: str) -> str:
    """A diff written for these tests (tests/synthetic/NAME): review-bot's own, not list mail."""
    return (SYNTHETIC / name).read_text()


def mail(subject: str, diff: str, msgid: str) -> Posting:
    raw = (f"From: Example Developer <dev@example.org>\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n"
           f"Subject: [PATCH] {subject}\nMessage-ID: <{msgid}@example.org>\nTo: linux-mm@example.org\n\n"
           f"A synthetic patch for review-bot's tests.\n\n---\n{diff}-- \n2.40.0\n")
    (p,) = load_bytes(raw.encode()).postings
    return p


def review(p: Posting, context: list[Posting] | None = None) -> Review:
    (r,) = review_postings([p], Options(), context=context or [p])
    return r


def introduced(r: Review) -> set[str]:
    return {f.hazard for f in r.correctness if f.introduced}


def judged_clean(r: Review) -> bool:
    """Relevant, judged (a model ran the change and every scenario that applies completed), clean."""
    return bool(r.relevant and r.judged and r.modeled and not r.correctness)


PTLOCK_AT_ONCE = synthetic("ptlock-free-at-once.diff")

PTLOCK_RENAMED = synthetic("ptlock-free-renamed.diff")


def test_freeing_the_split_lock_at_once_is_the_hazard_its_base_avoided() -> None:
    # The base frees the lock after a grace period because the architectures' free paths run the
    # destructor before mmu_gather's own grace period: freeing it at once lets a walker that
    # found the table under rcu_read_lock() spin on freed memory.
    r = review(mail("mm: free the split page-table lock at once", PTLOCK_AT_ONCE, "ptlock-at-once"))
    assert r.relevant and "PTLOCK_FREED_BEFORE_GP" in introduced(r)
    f = next(f for f in r.findings if f.hazard == "PTLOCK_FREED_BEFORE_GP")
    assert (f.file, f.function) == ("mm/memory.c", "ptlock_free")
    assert any("models/ptdesc/mmu_gather.c" in u for u in f.unmodeled)  # freed through mmu_gather


def test_renaming_the_lock_local_keeps_the_grace_period() -> None:
    r = review(mail("mm: rename a local in ptlock_free()", PTLOCK_RENAMED, "ptlock-renamed"))
    assert judged_clean(r), r.not_judged


NO_IPI = synthetic("tlb-remove-table-one-without-ipi.diff")

IPI_INLINED = synthetic("tlb-remove-table-one-ipi-inlined.diff")


def test_the_ipi_fallback_must_sync_before_it_frees() -> None:
    r = review(mail("mm/mmu_gather: skip the IPI before freeing a single table", NO_IPI, "no-ipi"))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(r)


def test_sending_the_ipi_directly_is_the_same_sync() -> None:
    r = review(mail("mm/mmu_gather: open-code the IPI", IPI_INLINED, "ipi-inlined"))
    assert judged_clean(r), r.not_judged


# ---- edits of real postings --------------------------------------------------------------------

def _year(n: int) -> list[Posting]:
    # the session's one copy of the year (tests.corpus): each is ~120 MB, and the simulator's memory
    # budget counts the whole test process
    return list(year_postings(str(n)))


def real(n: int, subject_part: str) -> tuple[Posting, list[Posting]]:
    posts = _year(n)
    p = next(q for q in posts if not q.is_reply and subject_part in q.subject)
    return p, posts


def edited(p: Posting, context: list[Posting], *subs: tuple[str, str]) -> tuple[Posting, list[Posting]]:
    """p with each (old, new) substitution made on its post-image lines (an old starting with "^"
    matches at the start of a line only); a substitution may
    insert lines ("\n" in new: added lines) or drop them (new == ""), and the post-image is
    renumbered."""
    q = copy.deepcopy(p)
    hits = 0
    for fd in q.files:
        for h in fd.hunks:
            lines: list[HunkLine] = []
            for ln in h.lines:
                text = ln.text + "\n"
                if ln.tag != "-":
                    for old, new in subs:
                        if old.startswith("^"):  # the whole line from its start
                            if text.startswith(old[1:]):
                                text, hits = new + text[len(old) - 1:], hits + 1
                        elif old in text:
                            text, hits = text.replace(old, new), hits + 1
                parts = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
                for i, part in enumerate(parts):
                    lines.append(HunkLine(ln.tag if i == 0 else "+", part, ln.old_no if i == 0 else None, 0))
            n = h.new_start
            for i, ln in enumerate(lines):
                if ln.tag != "-":
                    lines[i] = HunkLine(ln.tag, ln.text, ln.old_no, n)
                    n += 1
                else:
                    lines[i] = HunkLine(ln.tag, ln.text, ln.old_no, None)
            h.lines = lines
    assert hits, f"no edit applied to {p.subject}: {subs}"
    return q, [q if c.msgid == p.msgid else c for c in context]


FOLIO_WALK = "mm/pagewalk: introduce folio_walk_start() + folio_walk_end()"


def test_a_walk_that_frees_no_table_is_not_the_teardown_race() -> None:
    p, ctx = real(2024, FOLIO_WALK)
    r = review(p, ctx)
    assert "TEARDOWN_RACE_UNDER_MMAP_READ" not in {f.hazard for f in r.findings}


def test_the_same_walk_retracting_the_table_it_found_is() -> None:
    p, ctx = real(2024, FOLIO_WALK)
    q, ctx = edited(p, ctx, ("\tpmd = pmdp_get_lockless(pmdp);\n",
                             "\tpmd = pmdp_get_lockless(pmdp);\n\tpte_free_defer(vma->vm_mm, pmd_pgtable(pmd));\n"))
    assert "TEARDOWN_RACE_UNDER_MMAP_READ" in {f.hazard for f in review(q, ctx).findings}


HELPERS = "mm: Move common parts of pagetable_*_[cd]tor to helpers"


def test_shared_ctor_dtor_helpers_keep_ctor_and_dtor_paired() -> None:
    p, ctx = real(2024, HELPERS)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged


def test_a_dtor_that_runs_the_shared_helper_twice_is_a_double_free() -> None:
    p, ctx = real(2024, HELPERS)
    q, ctx = edited(p, ctx, ("\tptlock_free(ptdesc);\n", "\tptlock_free(ptdesc);\n\t__pagetable_dtor(ptdesc);\n"))
    assert "DOUBLE_FREE" in introduced(review(q, ctx))


def test_reaching_the_folio_another_way_keeps_the_helpers_clean() -> None:
    p, ctx = real(2024, HELPERS)
    q, ctx = edited(p, ctx, ("struct folio *folio = ptdesc_folio(ptdesc);",
                             "struct folio *folio = page_folio(ptdesc_page(ptdesc));"))
    r = review(q, ctx)
    assert judged_clean(r), r.not_judged


POWERPC = "[PATCH 13/33] powerpc: Convert various functions to use ptdescs"
SPARC = "[PATCH 30/33] sparc64: Convert various functions to use ptdescs"


def test_powerpc_ptdesc_conversion_is_judged_on_the_real_file_structure() -> None:
    p, ctx = real(2023, POWERPC)
    r = review(p, ctx)
    assert {"arch/powerpc/mm/pgtable-frag.c:pte_fragment_free", "arch/powerpc/mm/pgtable-frag.c:pte_frag_destroy"} \
        <= set(r.modeled)
    assert judged_clean(r), r.not_judged


def test_powerpc_dropping_the_user_table_dtor_leaks_its_lock() -> None:
    p, ctx = real(2023, POWERPC)
    q, ctx = edited(p, ctx, ("^\t\tif (!kernel)\n", ""), ("^\t\t\tptdesc_pte_dtor(ptdesc);\n", ""))
    assert "PAGETABLE_LEAK" in introduced(review(q, ctx))


def test_powerpc_counting_down_by_one_another_way_is_the_same() -> None:
    p, ctx = real(2023, POWERPC)
    q, ctx = edited(p, ctx, ("atomic_dec_and_test(&ptdesc->pt_frag_refcount)",
                             "atomic_sub_and_test(1, &ptdesc->pt_frag_refcount)"))
    r = review(q, ctx)
    assert judged_clean(r), r.not_judged


def test_sparc_freeing_a_table_without_its_dtor_leaks_its_lock() -> None:
    p, ctx = real(2023, SPARC)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    q, ctx = edited(p, ctx, ("^\tptdesc_pte_dtor(ptdesc);\n", ""))
    assert "PAGETABLE_LEAK" in introduced(review(q, ctx))


def test_sparc_freeing_the_page_under_its_page_name_is_the_same() -> None:
    p, ctx = real(2023, SPARC)
    q, ctx = edited(p, ctx, ("^\tptdesc_free(ptdesc);\n", "\t__free_page(ptdesc_page(ptdesc));\n"))
    r = review(q, ctx)
    assert judged_clean(r), r.not_judged


# ---- which model judges a file that has several ------------------------------------------------

def test_the_page_based_and_the_ptdesc_generic_models_are_told_apart_by_their_hunks() -> None:
    page_era = mail("mm: tidy pte_free()", synthetic("generic-pte-free-page-api.diff"), "page-era")
    ptdesc_era = mail("mm: tidy pte_free()", synthetic("generic-pte-free-ptdesc-api.diff"), "ptdesc-era")
    specs = load_models()
    assert [s.name for s in choose(specs, [page_era.files])] == ["generic-page-table"]
    assert [s.name for s in choose(specs, [ptdesc_era.files])] == ["ptdesc-dtor-in-free-path"]
    assert judged_clean(review(page_era)) and judged_clean(review(ptdesc_era))


# ---- s390 with whole-page tables -----------------------------------------------------------------

PUD_P4D_STATS = "[PATCH v2 04/15] s390: pgtable: add statistics for PUD and P4D level page table"
PUD_CTOR_ONLY = "[PATCH 04/10] s390/mm: Add calls to pagetable_pud_[cd]tor"
PGSTE = "[PATCH v2 3/3] s390: supplement for ptdesc conversion"


def test_whole_page_s390_is_judged_on_its_own_model() -> None:
    # the PGSTE helpers are the same in both states of whole-page s390: both judge that posting
    for subject, models in ((PUD_P4D_STATS, ["s390-page-tables"]),
                            (PGSTE, ["s390-page-tables", "s390-page-tables-dtor-in-tlb-remove-table"])):
        p, ctx = real(2024, subject)
        assert [s.name for s in choose(load_models(), [p.files])] == models
        r = review(p, ctx)
        assert judged_clean(r), (subject, r.not_judged)


def test_a_pud_destructor_run_twice_is_a_double_free() -> None:
    p, ctx = real(2024, PUD_P4D_STATS)
    q, ctx = edited(p, ctx, ("^\tpagetable_pud_dtor(virt_to_ptdesc(pud));\n",
                             "\tpagetable_pud_dtor(virt_to_ptdesc(pud));\n\tpagetable_pud_dtor(virt_to_ptdesc(pud));\n"))
    assert "DOUBLE_FREE" in introduced(review(q, ctx))


def test_reaching_the_pud_ptdesc_through_its_page_is_the_same() -> None:
    p, ctx = real(2024, PUD_P4D_STATS)
    q, ctx = edited(p, ctx, ("pagetable_pud_dtor(virt_to_ptdesc(pud));", "pagetable_pud_dtor(page_ptdesc(virt_to_page(pud)));"))
    assert judged_clean(review(q, ctx))


def test_a_constructor_the_munmap_path_never_undoes_is_an_accounting_note() -> None:
    # pud_alloc_one() gains the PUD constructor and pud_free() the destructor, but tables freed by
    # munmap go through pud_free_tlb() and __tlb_remove_table(), which do not run it: the page
    # type is reset by the allocator, NR_PAGETABLE is not (a cost note, not a correctness finding).
    p, ctx = real(2024, PUD_CTOR_ONLY)
    r = review(p, ctx)
    assert r.judged and not r.correctness
    assert {f.hazard for f in r.findings if f.introduced} == {"PAGETABLE_ACCOUNTING"}


def test_a_pgste_table_freed_twice_is_a_double_free() -> None:
    p, ctx = real(2024, PGSTE)
    q, ctx = edited(p, ctx, ("^\tpagetable_free(ptdesc);\n", "\tpagetable_free(ptdesc);\n\tpagetable_free(ptdesc);\n"))
    assert "DOUBLE_FREE" in introduced(review(q, ctx))


def test_the_2k_fragment_patches_stay_on_the_2k_model() -> None:
    posts = load(str(thread(3))).postings
    p = next(q for q in posts if not q.is_reply and "[PATCH v3 07/13]" in q.subject)
    assert [s.name for s in choose(load_models(), [p.files])] == ["s390-2k-fragments"]


# ---- the split lock returned at once, in the full shape of a revert ------------------------------

def test_returning_the_lock_to_its_slab_at_once_in_every_file_is_the_hazard() -> None:
    # The lock type, its accessor, its allocator and its free all go back to a bare spinlock that
    # ptlock_free() returns at once, while the free paths still run the destructor before the GP.
    r = review(mail("mm: the split page-table lock needs no rcu_head", synthetic("ptlock-rcu-reverted.diff"),
                    "ptlock-reverted"))
    assert r.relevant and r.judged
    assert "PTLOCK_FREED_BEFORE_GP" in introduced(r)
    f = next(f for f in r.findings if f.hazard == "PTLOCK_FREED_BEFORE_GP")
    assert (f.file, f.function) == ("mm/memory.c", "ptlock_free")


def test_a_helper_that_repeats_the_destructor_runs_it_twice() -> None:
    r = review(mail("mm: one helper frees a user PTE table", synthetic("generic-pte-free-dtor-twice.diff"),
                    "dtor-twice"))
    assert r.judged
    assert {f.function for f in r.correctness if f.introduced} == {"pte_free_ptdesc"}


# ---- series that convert callers elsewhere, hunks that fit only in part --------------------------

WRAPPERS = "[PATCH mm-unstable v9 31/31] mm: Remove pgtable_{pmd, pte}_page_{ctor, dtor}() wrappers"


def test_removing_wrappers_the_series_stopped_calling_is_judged_clean() -> None:
    # The model's architecture code still calls the old names; the series converted the real
    # callers in its other patches, so the removed bodies stand for them instead of no-op primitives.
    p, ctx = real(2023, WRAPPERS)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert any("former bodies" in n and "pgtable_pte_page_dtor()" in n for n in r.notes)


POWERPC_DEFERRED = "[PATCH mm-unstable v9 12/31] powerpc: Convert various functions to use ptdescs"


def test_a_hunk_that_fits_a_model_only_in_part_is_not_placed_half() -> None:
    # This posting's base already frees user tables through an RCU callback that the pre-deferral
    # reference does not have: half of that function's edit would land in another function.
    p, _ctx = real(2023, POWERPC_DEFERRED)
    spec = next(s for s in load_models() if s.name == "powerpc-fragments")
    fd = next(fd for fd in p.files if fd.path == "arch/powerpc/mm/pgtable-frag.c")
    report = BindReport()
    apply_hunks(spec.reference_lines(fd.path), fd, report, True)
    assert any("only in part" in why for why in report.failed)


def test_a_posting_on_the_deferred_powerpc_code_is_judged_on_that_model() -> None:
    p, ctx = real(2023, POWERPC_DEFERRED)
    assert [s.name for s in choose(load_models(), [p.files])] == ["powerpc-fragments-deferred"]
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert "arch/powerpc/mm/pgtable-frag.c:pte_free_now" in r.modeled
    for n in (1, 2, 3):  # the postings that add pte_free_defer() were made against the older file
        posts = load(str(thread(n))).postings
        q = next(q for q in posts if not q.is_reply and "powerpc: add pte_free_defer()" in q.subject)
        assert [s.name for s in choose(load_models(), [q.files])] == ["powerpc-fragments"]


def test_freeing_a_deferred_fragment_page_at_once_is_caught() -> None:
    p, ctx = real(2023, POWERPC_DEFERRED)
    q, ctx = edited(p, ctx, ("\t\t\tcall_rcu(&ptdesc->pt_rcu_head, pte_free_now);\n",
                             "\t\t\tpte_free_now(&ptdesc->pt_rcu_head);\n"))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(review(q, ctx))


def test_a_wrapper_macro_the_patch_defines_runs_as_what_it_expands_to() -> None:
    # __pte_offset_map() gains an interrupt-state wrapper that some configurations compile away.
    p, ctx = real(2023, "[PATCH 02/12] mm/pgtable: add PAE safety to __pte_offset_map()")
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged


UTILITIES = "[PATCH mm-unstable v9 03/31] mm: add utility functions for ptdesc"


def test_new_ptdesc_helpers_are_run_before_anything_calls_them() -> None:
    p, ctx = real(2023, UTILITIES)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert {"include/asm-generic/tlb.h:tlb_remove_ptdesc", "include/linux/mm.h:pagetable_free"} <= set(r.modeled)


def test_a_ptdesc_helper_that_frees_the_table_at_once_is_caught() -> None:
    p, ctx = real(2023, UTILITIES)
    q, ctx = edited(p, ctx, ("\ttlb_remove_table(tlb, pt);\n", "\tpagetable_free(pt);\n"))
    assert "NON_DEFERRED_FINAL_FREE" in introduced(review(q, ctx))


FRAG_REFCOUNT = "[PATCH v4 03/34] s390: Use pt_frag_refcount for pagetables"


def test_moving_the_fragment_bits_to_their_own_counter_is_judged_clean() -> None:
    p, ctx = real(2023, FRAG_REFCOUNT)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert "arch/s390/mm/pgalloc.c:page_table_alloc" in r.modeled


def test_a_fragment_handed_out_without_its_bit_corrupts_the_list() -> None:
    p, ctx = real(2023, FRAG_REFCOUNT)
    q, ctx = edited(p, ctx, ("0x01U << bit);", "0x00U << bit);"))
    assert "LIST_CORRUPTION" in introduced(review(q, ctx))


def test_a_variadic_allocation_wrapper_runs_as_the_environment_states_it() -> None:
    # The generic p4d allocator gains a `#define p4d_alloc_one(...)` wrapper around its _noprof
    # function: an argument list no function's parameters bind, so the model's own wrapper stands.
    p, ctx = real(2024, "asm-generic: pgalloc: Provide generic p4d_{alloc_one,free}")
    assert any(ln.tag == "+" and ln.text.startswith("#define p4d_alloc_one(...)")
               for fd in p.files for h in fd.hunks for ln in h.lines)
    r = review(p, ctx)
    assert judged_clean(r), r.not_judged
    assert any(m.endswith(":p4d_alloc_one_noprof") for m in r.modeled), r.modeled
