"""Synthetic but realistic inputs for the report tests: an s390 pte_free_defer() posting and its findings.

The diff is written for these tests (modeled on the shape of the v1 s390 patch), not copied kernel code.
"""

from __future__ import annotations

from bot.commands import Origin, replay_commands
from bot.findings import Finding, Report, Review, TraceStep
from bot.patch import FileDiff, Hunk, HunkLine, Posting, SeriesInfo

PGALLOC = "arch/s390/mm/pgalloc.c"
PATCH_MSGID = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
COVER_MSGID = "a69a26c0-ec93-3ad-a443-6655b5e49df2@google.com"
BOT = "review-bot <review-bot@example.org>"

HUNK_TEXT = [
    (" ", "\tpagetable_pte_dtor(page);"),
    (" ", "\t__free_page(page);"),
    (" ", "}"),
    ("+", ""),
    ("+", "#ifdef CONFIG_TRANSPARENT_HUGEPAGE"),
    ("+", "static void pte_free_now(struct rcu_head *head)"),
    ("+", "{"),
    ("+", "\tstruct page *page = container_of(head, struct page, rcu_head);"),
    ("+", ""),
    ("+", "\tpage_table_free(page->pt_mm, (unsigned long *)page_to_virt(page));"),
    ("+", "}"),
    ("+", ""),
    ("+", "void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)"),
    ("+", "{"),
    ("+", "\tstruct page *page = virt_to_page(pgtable);"),
    ("+", ""),
    ("+", "\tpage->pt_mm = mm;"),
    ("+", "\tcall_rcu(&page->rcu_head, pte_free_now);"),
    ("+", "}"),
    ("+", "#endif /* CONFIG_TRANSPARENT_HUGEPAGE */"),
    (" ", ""),
    ("-", "/* page_table_free_rcu() is only used by the generic mmu_gather */"),
    (" ", "void page_table_free_rcu(struct mmu_gather *tlb, unsigned long *table,"),
]
OLD_START, NEW_START = 362, 362
CALL_RCU_LINE = 379  # post-image line number of the call_rcu() line above


def make_hunk() -> Hunk:
    lines, old, new = [], OLD_START, NEW_START
    for tag, text in HUNK_TEXT:
        lines.append(HunkLine(tag, text, None if tag == "+" else old, None if tag == "-" else new))
        old += tag != "+"
        new += tag != "-"
    return Hunk(
        old_start=OLD_START,
        old_len=old - OLD_START,
        new_start=NEW_START,
        new_len=new - NEW_START,
        section="void page_table_free(struct mm_struct *mm, unsigned long *table)",
        lines=lines,
    )


def make_posting(**overrides) -> Posting:
    hunk = make_hunk()
    assert next(ln for ln in hunk.lines if "call_rcu" in ln.text).new_no == CALL_RCU_LINE
    body = "s390: add pte_free_defer(), with use of mmdrop_async()\n\n---\n" + "\n".join(
        tag + text for tag, text in HUNK_TEXT
    )
    fields = dict(
        msgid=PATCH_MSGID,
        subject="[PATCH 07/12] s390: add pte_free_defer(), with use of mmdrop_async()",
        author="Hugh Dickins <hughd@google.com>",
        to=["Andrew Morton <akpm@linux-foundation.org>"],
        cc=[
            "Gerald Schaefer <gerald.schaefer@linux.ibm.com>",
            "Vasily Gorbik <gor@linux.ibm.com>, linux-s390@vger.kernel.org",
            "linux-mm@kvack.org",
            "HUGHD@google.com",  # the author again, differently cased: must not be Cc'd
            "review-bot@example.org",  # the bot itself: must not be Cc'd
            "akpm@linux-foundation.org",  # already in To: once is enough
        ],
        date="Sun, 28 May 2023 23:22:46 -0700 (PDT)",
        in_reply_to=COVER_MSGID,
        references=[COVER_MSGID],
        series=SeriesInfo(cover=COVER_MSGID, revision=1, index=7, total=12),
        body=body,
        files=[FileDiff(old_path=PGALLOC, new_path=PGALLOC, hunks=[hunk])],
    )
    fields.update(overrides)
    return Posting(**fields)


def _replays(scenario: str) -> dict[str, str]:
    local, public = replay_commands(Origin("mbox", path="v1.mbox"), PATCH_MSGID, None, scenario, None)
    return {"replay": local.line, "replay_public": public.line}


def rcu_head_shared(**overrides) -> Finding:
    fields = dict(
        hazard="RCU_HEAD_SHARED",
        cls="correctness",
        introduced=True,
        file=PGALLOC,
        line=CALL_RCU_LINE,
        function="pte_free_defer",
        evidence=["call_rcu(&page->rcu_head, pte_free_now);"],
        trace=[
            TraceStep("CPU0", "pte_free_defer(mm, T0): half 0 of page P", f"{PGALLOC}:{CALL_RCU_LINE}"),
            TraceStep("RCU", "grace period starts"),
            TraceStep("CPU1", "MADV_COLLAPSE: pte_free_defer(mm, T1): half 1 of page P", f"{PGALLOC}:376"),
            TraceStep(
                "CPU1",
                "call_rcu(&P->rcu_head) again while it is still queued",
                f"{PGALLOC}:{CALL_RCU_LINE}",
                violation=True,
            ),
            TraceStep("RCU", "grace period ends; pte_free_now() runs once"),
            TraceStep("softirq@CPU0", "pte_free_now(P): frees half 1 only; half 0 leaks"),
        ],
        explanation=(
            "A 4K page holds two 2K page tables but has a single rcu_head. Deferring both halves "
            "within one grace period calls call_rcu() twice on the same head while the first call "
            "is still queued: the per-CPU callback list is corrupted, and the pt_mm tag of the "
            "first half is overwritten, so the surviving callback frees the wrong half.\n\n"
            "Nothing in the patch serialises two pte_free_defer() calls on one page: khugepaged "
            "and MADV_COLLAPSE may retract both tables concurrently."
        ),
        fix=(
            "Move the RCU delay to the final free of the page: mark the page (PageActive) when a "
            "half is deferred and call_rcu() only once both halves are free, as done in v3."
        ),
        references=["ZHSwWgLWaEd+zi/g@casper.infradead.org", "20230601155751.7c949ca4@thinkpad-T15"],
        title="Two tables of one page deferred in one grace period share its rcu_head",
        invariant="A page's rcu_head is queued at most once at any time.",
        **_replays("s390-2k-fragments/defer-both-halves"),
        unmodeled=["page->pt_mm is treated as an opaque tag; mmdrop_async() ordering is not modeled"],
    )
    fields.update(overrides)
    return Finding(**fields)


def mmgrab_cost() -> Finding:
    return Finding(
        hazard="MMGRAB_PER_TABLE",
        cls="cost",
        introduced=True,
        file=PGALLOC,
        line=378,
        function="pte_free_defer",
        evidence=["page->pt_mm = mm;"],
        explanation="Every deferred table takes an mm reference and drops it with mmdrop_async().",
        fix="Look the mm up at the final free instead of pinning it per table.",
        title="mmgrab() and mmdrop_async() for every deferred table",
        **_replays("s390-2k-fragments/defer-both-halves"),
    )


def preexisting_noise() -> Finding:
    return Finding(
        hazard="PGSTE_WARN_FALSE_POSITIVE",
        cls="noise",
        introduced=False,
        file="arch/s390/mm/pgalloc.c",
        line=120,
        function="page_table_free_pgste",
        evidence=["WARN_ON_ONCE(mm_has_pgste(mm));"],
        explanation="The guard warning also fires when a pgste table is freed on a valid path.",
        title="pgste guard warning fires in valid situations",
    )


def make_review(findings: list[Finding] | None = None, posting: Posting | None = None, **kw) -> Review:
    posting = posting or make_posting()
    relevant = kw.pop("relevant", True)
    kw.setdefault("judged", relevant)
    if kw["judged"]:
        kw.setdefault("base", "the reference model models/s390 (mail only)")
        kw.setdefault("scenarios", ["s390-2k-fragments/defer-both-halves"])
    return Review(
        msgid=posting.msgid,
        subject=posting.subject,
        series={"cover": COVER_MSGID, "revision": 1, "index": 7, "total": 12},
        relevant=relevant,
        modeled=[f"{PGALLOC}:pte_free_defer", f"{PGALLOC}:page_table_free"],
        findings=[rcu_head_shared()] if findings is None else findings,
        posting=posting,
        **kw,
    )


def make_report(reviews: list[Review] | None = None) -> Report:
    return Report(
        messages=63, skipped=[{"msgid": "x@y", "reason": "no patch"}], reviews=reviews or [make_review()]
    )


def test_fixture_call_rcu_line_number() -> None:
    hunk = make_hunk()
    line = next(ln for ln in hunk.lines if ln.new_no == CALL_RCU_LINE)
    assert "call_rcu(&page->rcu_head" in line.text
    assert hunk.new_len == sum(1 for ln in hunk.lines if ln.tag != "-")
