"""SLAB_TYPESAFE_BY_RCU caches in patches: the 2023 archive's lone follow-up that moves s390's
pgtable_list into a per-mm object of a typesafe cache with a constructor runs the s390 model on top
of the patch it applies to, and edits of it that break one of the cache's rules (initialise only in
the constructor, re-check identity under the lock, no reuse inside a grace period without the flag)
give the hazard, while edits that keep the meaning give none."""

from __future__ import annotations

from functools import lru_cache

from bot.findings import Review
from bot.patch import Posting
from bot.pipeline import Options, review_postings
from tests.corpus import year_postings
from tests.test_judgement_edits import substituted


def _typesafe_posting(ps: tuple[Posting, ...]) -> Posting:
    # found by its code: the lone posting that creates a SLAB_TYPESAFE_BY_RCU cache in s390's pgalloc.c
    return next(p for p in ps if any(fd.path == "arch/s390/mm/pgalloc.c" and any(
        ln.tag == "+" and "SLAB_TYPESAFE_BY_RCU" in ln.text for h in fd.hunks for ln in h.lines) for fd in p.files))


@lru_cache(maxsize=1)
def _year() -> tuple[tuple[Posting, ...], Posting]:
    ps = year_postings("2023")
    return ps, _typesafe_posting(ps)


def edited(*subs: tuple[str, str]) -> tuple[Posting, list[Posting]]:
    """The posting with its post-image lines edited (tests.test_judgement_edits.substituted; the first
    edit that matches a line is the one made, so two edits can swap lines)."""
    ps, orig = _year()
    p = substituted(orig, subs, first_only=True)
    return p, [p if q is orig else q for q in ps]


def review(p: Posting, ctx: list[Posting]) -> Review:
    (r,) = review_postings([p], Options(), context=ctx)
    return r


def introduced(r: Review) -> set[str]:
    return {f.hazard for f in r.findings if f.cls == "correctness" and f.introduced}


def test_the_typesafe_follow_up_runs_the_model_on_the_patch_it_applies_to() -> None:
    ps, p = _year()
    r = review(p, list(ps))
    assert r.judged and not r.not_judged
    assert any(sc.startswith("s390-2k-fragments/") for sc in r.scenarios)
    assert any(n.startswith("applies on top of <") for n in r.notes)
    assert not introduced(r)  # ctor, re-check under the lock and the typesafe flag: as designed


def test_initialising_the_lock_after_allocation_is_typesafe_reinit() -> None:
    p, ctx = edited(("\tINIT_LIST_HEAD(&pgtable_list->list);", ""), ("\tspin_lock_init(&pgtable_list->lock);", ""),
                    ("\treturn !!mm->context.pgtable_list;",
                     "\tif (!mm->context.pgtable_list)\n\t\treturn false;\n"
                     "\tINIT_LIST_HEAD(&mm->context.pgtable_list->list);\n"
                     "\tspin_lock_init(&mm->context.pgtable_list->lock);\n\treturn true;"))
    r = review(p, ctx)
    f = next(f for f in r.findings if f.hazard == "TYPESAFE_BY_RCU_REINIT" and f.introduced)
    assert f.function == "alloc_pgtable_list"


def test_linking_without_the_recheck_under_the_lock_meets_the_next_owner() -> None:
    p, ctx = edited(("\t\t\tif (mask & 0x03U)", "\t\t\tif (1)"))
    r = review(p, ctx)
    f = next(f for f in r.findings if f.hazard == "TYPESAFE_BY_RCU_REINIT" and f.introduced)
    assert f.function == "__tlb_remove_table"
    assert any("re-checked the object's identity" in s.op for s in f.trace if s.violation)


def test_without_the_typesafe_flag_the_callback_locks_freed_memory() -> None:
    p, ctx = edited(("SLAB_TYPESAFE_BY_RCU | SLAB_PANIC", "SLAB_PANIC"))
    assert "USE_AFTER_FREE" in introduced(review(p, ctx))


def test_a_renamed_constructor_initialising_in_another_order_changes_nothing() -> None:
    p, ctx = edited(("pgtable_list_ctor", "pgtable_list_init_once"),
                    ("\tINIT_LIST_HEAD(&pgtable_list->list);", "\tspin_lock_init(&pgtable_list->lock);"),
                    ("\tspin_lock_init(&pgtable_list->lock);", "\tINIT_LIST_HEAD(&pgtable_list->list);"))
    r = review(p, ctx)
    assert r.judged and not introduced(r)


def test_a_zeroing_allocation_is_an_initialisation_after_allocation() -> None:
    for alloc in ("kmem_cache_zalloc(pgtable_list_cachep, GFP_KERNEL);",
                  "kmem_cache_alloc(pgtable_list_cachep, GFP_KERNEL | __GFP_ZERO);"):
        p, ctx = edited(("kmem_cache_alloc(pgtable_list_cachep, GFP_KERNEL);", alloc))
        assert "TYPESAFE_BY_RCU_REINIT" in introduced(review(p, ctx)), alloc
