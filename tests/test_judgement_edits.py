"""Verdicts come from the code: edits of real patches that keep their meaning keep the verdict, and
edits that break a guard produce the hazard the guard prevented."""

from __future__ import annotations

import copy

import pytest

from bot.mail import load
from bot.patch import HunkLine, Posting
from bot.pipeline import Options, review_postings
from tests.corpus import thread

V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
V2_07 = "a722dbec-bd9e-1213-1edd-53cd547aa4f@google.com"
V3_07 = "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com"
V3_05 = "6e3ca5f1-334d-4b14-b92d-fc8e99914fcb@google.com"
V2_05 = "5cd9f442-61da-4c3d-eca-b7f44d22aa5f@google.com"


def substituted(orig: Posting, subs: tuple[tuple[str, str], ...], first_only: bool = False) -> Posting:
    """A copy of orig whose post-image lines have each `old` replaced by `new` (first_only: only the
    first edit that matches a line, so two edits can swap lines)."""
    p = copy.deepcopy(orig)
    hits = 0
    for fd in p.files:
        for h in fd.hunks:
            new_lines = []
            for ln in h.lines:
                text = ln.text
                if ln.tag != "-":
                    for old, new in subs:
                        if old in text:
                            text = text.replace(old, new)
                            hits += 1
                            if first_only:
                                break
                new_lines.append(HunkLine(ln.tag, text, ln.old_no, ln.new_no))
            h.lines = new_lines
    assert hits, f"no edit applied to {orig.msgid}: {subs}"
    return p


def edited(n: int, msgid: str, *subs: tuple[str, str]) -> tuple[Posting, list[Posting]]:
    res = load(str(thread(n)))
    p = substituted(next(p for p in res.postings if p.msgid == msgid), subs)
    context = [p if q.msgid == msgid else q for q in res.postings]
    return p, context


def hazards(p: Posting, context: list[Posting]) -> set[str]:
    (r,) = review_postings([p], Options(), context=context)
    return {f.hazard for f in r.findings if f.cls == "correctness" and f.introduced}


def test_renamed_locals_keep_v1_verdict() -> None:
    p, ctx = edited(1, V1_07, ("mm_bit", "tagged_mm"), ("struct page *page;", "struct page *pg;"),
                    ("page = ", "pg = "), ("page->", "pg->"), ("page_to_virt(page)", "page_to_virt(pg)"))
    assert {"RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU"} <= hazards(p, ctx)


def test_renamed_global_lock_keeps_v2_verdict() -> None:
    p, ctx = edited(2, V2_07, ("mm_pgtable_list_lock", "s390_pgtable_lock"),
                    ("/* Other half not allocated? Other half not already pending free? */", ""))
    found = hazards(p, ctx)
    assert not found & {"RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU", "MM_UAF_IN_CALLBACK", "REUSE_WHILE_PENDING"}


def test_v2_without_hh_guard_shares_the_rcu_head() -> None:
    p, ctx = edited(2, V2_07, ("if ((mask & 0x0CU) != 0x0CU)", "if (1)"))
    assert "RCU_HEAD_SHARED" in hazards(p, ctx)


def test_v2_without_list_del_overlays_lru() -> None:
    p, ctx = edited(2, V2_07, ("\t\tlist_del(&page->lru);\n", ""), ("if ((mask & 0x03U) == 0x00U && (mask & 0x30U) != 0x30U)\n\t\tlist_del(&page->lru);", ""),
                    ("(mask & 0x30U) != 0x30U)", "0)"))
    assert "RCU_HEAD_OVERLAYS_LRU" in hazards(p, ctx)


def test_v3_relisting_an_active_page_reuses_a_deferred_half() -> None:
    p, ctx = edited(3, V3_07, ("if ((mask & 0x03U) && !PageActive(page)) {", "if (mask & 0x03U) {"))
    assert "REUSE_WHILE_PENDING" in hazards(p, ctx)


def test_v3_powerpc_ignoring_the_flag_frees_without_grace_period() -> None:
    p, ctx = edited(3, V3_05, ("else if (TestClearPageActive(page))", "else if (0)"))
    found = hazards(p, ctx)
    # the destructor runs first on that path, so the ptlock goes before the page does
    assert found & {"NON_DEFERRED_FINAL_FREE", "PTLOCK_FREED_BEFORE_GP", "PAGEACTIVE_FLAG_ORDERING"}


def test_v2_powerpc_queueing_every_deferral_shares_the_rcu_head() -> None:
    p, ctx = edited(2, V2_05, ("PTE_FREE_DEFERRED + PTE_FREE_DEFERRED)\n", "0x7fffffff)\n"),
                    ("PTE_FREE_DEFERRED + PTE_FREE_DEFERRED)", "0x7fffffff)"))
    assert "RCU_HEAD_SHARED" in hazards(p, ctx)


@pytest.mark.parametrize("msgid,n", [(V3_07, 3), (V3_05, 3)])
def test_comment_edits_keep_correct_patches_silent(msgid: str, n: int) -> None:
    p, ctx = edited(n, msgid, ("/*", "/* review-bot test:"))
    assert not hazards(p, ctx)


@pytest.mark.parametrize("n,msgid,old,new", [(3, V3_07, "page", "pg"), (2, V2_07, "mask", "bits"),
                                             (3, V3_05, "page", "pg")])
def test_renames_that_disagree_with_the_unshown_code_prove_nothing(n: int, msgid: str, old: str, new: str) -> None:
    # The rename reaches the context lines the hunks show but not the base code they do not show:
    # the spliced function then reads a name nothing assigns. The bot must say so, not cry wolf.
    p, ctx = edited(n, msgid, (old, new))
    (r,) = review_postings([p], Options(), context=ctx)
    assert not [f for f in r.findings if f.cls == "correctness" and f.introduced and f.hazard != "PAGETABLE_LEAK"]
    if n != 3 or msgid != V3_05:
        # no verdict, or (a leak found all the same) the part that proves nothing is named
        assert (not r.judged and any(why.startswith("s390-2k-fragments/") for why in r.not_judged)) or (
            r.correctness and any(note.startswith("not judged in part") for note in r.notes))


@pytest.mark.parametrize("n,msgid,old,new,expect", [
    (1, V1_07, "mmdrop_async(mm);", "mmdrop(mm);", "MMDROP_IN_SOFTIRQ"),
    (1, V1_07, "mmgrab(mm);", "", "MM_UAF_IN_CALLBACK"),
    (2, V2_07, "&mm_pgtable_list_lock", "&mm->context.lock", "MM_UAF_IN_CALLBACK"),
    (2, V2_07, "&mm_pgtable_list_lock", "&mm->context.lock", "CONTEXT_LOCK_SOFTIRQ_DEADLOCK"),
    (3, V3_07, "list_del_init(&page->lru);", "list_del(&page->lru);", "LIST_DEL_WITHOUT_ADD"),
    (3, V3_07, "if (TestClearPageActive(page))", "if (0)", "PAGEACTIVE_FLAG_ORDERING"),
    (3, V3_05, "call_rcu(&page->rcu_head, pte_free_now);",
     "{ pgtable_pte_page_dtor(page); call_rcu(&page->rcu_head, pte_free_now); }", "PTLOCK_FREED_BEFORE_GP"),
])
def test_design_mistakes_the_thread_discussed(n: int, msgid: str, old: str, new: str, expect: str) -> None:
    # Each edit turns a real patch into one of the designs the reviewers rejected, and the bot must
    # name the reason they gave.
    p, ctx = edited(n, msgid, (old, new))
    assert expect in hazards(p, ctx)
