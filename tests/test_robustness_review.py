"""Bounded review: every formal posting of the three pte-free-defer threads, reviewed alone with
Options(budget_seconds=5), comes back as a Review; so do pathological synthetic patches (an endless loop
in pte_free_defer, a 1 MB hunk, 2,000 nested ifs) on the modeled s390 file. The wall-clock limits are
coarse guards against hangs (SIGALRM), not performance figures: those are in bench/."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import pytest

from bot.findings import Review
from bot.mail import load, load_bytes
from bot.pipeline import Options, review_postings
from tests import corpus

S390 = "arch/s390/mm/pgalloc.c"
DEFER = "void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)"


class Hang(Exception):
    pass


@contextmanager
def wall_clock_guard(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging CI) when the block runs longer than `seconds`."""
    def on_alarm(_sig: int, _frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_each_formal_posting_alone_with_a_budget(n: int) -> None:
    res = load(str(corpus.thread(n)))
    formal = [p for p in res.postings if not p.is_reply]
    assert formal
    for p in formal:
        with wall_clock_guard(60):
            out = review_postings([p], Options(budget_seconds=5), context=res.postings)
        assert len(out) == 1 and isinstance(out[0], Review), p.subject
        assert out[0].msgid == p.msgid


def patch_email(body: list[str], path: str = S390, start: int = 170, msgid: str = "pathological@example.org") -> bytes:
    """A format-patch email whose one hunk adds `body` to `path`."""
    diff = [f"diff --git a/{path} b/{path}", "index 1111111..2222222 100644", f"--- a/{path}", f"+++ b/{path}",
            f"@@ -{start},0 +{start + 1},{len(body)} @@"] + ["+" + ln for ln in body]
    head = ["From: Robust Tester <t@example.org>", "Date: Mon, 2 Jan 2023 10:00:00 +0000",
            "Subject: [PATCH] s390/mm: pathological", f"Message-ID: <{msgid}>", "To: linux-s390@example.org", "",
            "A synthetic patch for review-bot's robustness tests.", "", "Signed-off-by: Robust Tester <t@example.org>",
            "---"]
    return ("\n".join(head + diff + ["-- ", "2.40.0", ""])).encode()


def review_email(data: bytes, budget_seconds: float = 5, guard: int = 60) -> Review:
    res = load_bytes(data)
    assert len(res.postings) == 1, res.skipped
    with wall_clock_guard(guard):
        out = review_postings(res.postings, Options(budget_seconds=budget_seconds), context=res.postings)
    assert len(out) == 1 and isinstance(out[0], Review)
    return out[0]


def test_endless_loop_in_pte_free_defer() -> None:
    r = review_email(patch_email([DEFER, "{", "\twhile (1);", "}"]))
    assert r.relevant


def test_endless_loop_after_call_rcu() -> None:
    review_email(patch_email([DEFER, "{", "\tstruct page *page = virt_to_page(pgtable);", "",
                              "\tcall_rcu(&page->rcu_head, pte_free_now);", "\tfor (;;)", "\t\tcpu_relax();", "}"]))


def test_one_megabyte_hunk() -> None:
    body = ["static void big(void)", "{"] + [f"\tx{i} = {i};  /* {'y' * 40} */" for i in range(16000)] + ["}"]
    data = patch_email(body)
    assert len(data) > 1_000_000
    review_email(data)


def test_one_megabyte_pte_free_defer() -> None:
    """1 MB of state-changing statements inside the modeled function: every scenario runs into its budget
    (which is per scenario, so a smaller one keeps this test short)."""
    body = [DEFER, "{"] + [f"\tatomic_xor_bits(&virt_to_page(pgtable)->_refcount, {i}); /* {'z' * 30} */"
                           for i in range(14000)] + ["}"]
    data = patch_email(body)
    assert len(data) > 1_000_000
    r = review_email(data, budget_seconds=1)
    assert r.relevant


def test_two_thousand_statements_in_pte_free_defer() -> None:
    review_email(patch_email([DEFER, "{", "\tint a = 0;"] + ["\ta++;"] * 2000 + ["}"]))


def test_two_hundred_nested_ifs() -> None:
    review_email(patch_email([DEFER, "{", "\tint a = 1;"] + ["\tif (a) {"] * 200
                             + ["\t\tcall_rcu(&virt_to_page(pgtable)->rcu_head, pte_free_now);"] + ["\t}"] * 200 + ["}"]))


def test_two_thousand_nested_ifs() -> None:
    """Regression: RecursionError escaped review_postings (fixed in the judge and C front end)."""
    review_email(patch_email([DEFER, "{", "\tint a = 1;"] + ["\tif (a) {"] * 2000
                             + ["\t\tcall_rcu(&virt_to_page(pgtable)->rcu_head, pte_free_now);"] + ["\t}"] * 2000 + ["}"]))


def test_huge_float_literal() -> None:
    """Regression: OverflowError escaped review_postings from cparse.parse_number (fixed in dde73e2)."""
    review_email(patch_email([DEFER, "{", "\tint a = 1e999;", "}"]))


def test_pathological_unmodeled_file() -> None:
    """The same shapes on a file no model covers go through the call-site stage only."""
    review_email(patch_email([DEFER, "{", "\twhile (1);", "}"] + ["static int y;"] * 5000, path="mm/khugepaged.c"))
