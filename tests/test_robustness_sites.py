"""Robustness of the call-site stage: bot.sites.analyze must return a SiteMap (never raise) on any diff:
random diff text through the mail stage's own diff parser, hunks built with inconsistent line numbers,
and mutations of the real v1 series' diffs. The crash these tests found is kept as a regression test."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mail.diff import parse_diff
from bot.patch import FileDiff, Hunk, HunkLine, Posting
from bot.sites import SiteMap, analyze

# Deterministic in CI (the same examples every run, no example database written into the checkout).
# For a deeper local search: ROBUSTNESS_EXAMPLES=5000 ROBUSTNESS_RANDOM=1 python -m pytest tests/test_robustness_*.py
PROPERTY = settings(max_examples=int(os.environ.get("ROBUSTNESS_EXAMPLES", "150")), deadline=None,
                    derandomize=os.environ.get("ROBUSTNESS_RANDOM") != "1", database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PATHS = ["arch/s390/mm/pgalloc.c", "arch/powerpc/mm/pgtable-frag.c", "mm/pgtable-generic.c", "mm/khugepaged.c",
         "arch/sparc/mm/init_64.c", "include/linux/mm_types.h", "drivers/s390/net/qeth.c", "Makefile",
         "Documentation/mm/x.rst", "a b.c", "weird/\u00e9.h"]

_LINE = st.one_of(
    st.sampled_from([
        "void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)", "{", "}", "",
        "\tcall_rcu(&page->rcu_head, pte_free_now);", "\tstruct page *page = virt_to_page(pgtable);",
        "\tmmgrab(mm);", "\tmmdrop_async(mm);", "\tlist_del(&page->lru);", "\tspin_lock_bh(&mm->context.lock);",
        "\tspin_unlock_bh(&mm->context.lock);", "\tif (mask & 0x03U) {", "\t} else {", "\twhile (1);",
        "#ifdef CONFIG_PGSTE", "#endif", "/*", " */", "static void pte_free_now(struct rcu_head *head)",
        "\tpage_table_free(mm, (unsigned long *)pgtable);", "\t__free_page(page);", "\treturn;",
        "\tpagetable_pte_dtor(page);", "\tatomic_xor_bits(&page->_refcount, 0x11U << 24);",
        "\tpmd = pmdp_collapse_flush(vma, addr, pmd);", "\tpte_free_defer(mm, pmd_pgtable(pmdval));",
        "#define X(a) do { a; } while (0)", "\tfor (i = 0; i < 2; i++) {", "\tswitch (x) { case 1: break; }",
    ]),
    st.text(max_size=60).filter(lambda s: "\n" not in s and "\r" not in s),
)


@st.composite
def diff_text(draw: st.DrawFn) -> str:
    out: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        out += [f"diff --git a/{path} b/{path}", "index 1111111..2222222 100644", f"--- a/{path}", f"+++ b/{path}"]
        for _ in range(draw(st.integers(1, 3))):
            body = draw(st.lists(st.tuples(st.sampled_from(" +-"), _LINE), max_size=30))
            old_len = sum(t != "+" for t, _ in body) + draw(st.integers(-2, 2))
            new_len = sum(t != "-" for t, _ in body) + draw(st.integers(-2, 2))
            start = draw(st.one_of(st.integers(0, 400), st.just(10**12)))
            section = draw(st.sampled_from(["", " void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)",
                                            " static int x", " {"]))
            out.append(f"@@ -{start},{max(old_len, 0)} +{start},{max(new_len, 0)} @@{section}")
            out += [t + ln for t, ln in body]
    return "\n".join(out) + "\n"


def posting(files: list[FileDiff]) -> Posting:
    return Posting(msgid="robust@example.org", subject="[PATCH] robustness", author="T <t@example.org>", to=[],
                   cc=[], date="", in_reply_to=None, references=[], series=None, body="", files=files)


def check(files: list[FileDiff]) -> SiteMap:
    sm = analyze(posting(files))
    assert isinstance(sm, SiteMap)
    assert isinstance(sm.relevant, bool)
    return sm


@PROPERTY
@given(diff_text())
def test_random_diffs(text: str) -> None:
    check(parse_diff(text))


@PROPERTY
@given(st.text())
def test_arbitrary_text_as_diff(text: str) -> None:
    check(parse_diff("diff --git a/mm/x.c b/mm/x.c\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,3 +1,3 @@\n" + text))


_HUNK_LINE = st.builds(HunkLine, st.sampled_from(" +-"), _LINE,
                       st.one_of(st.none(), st.integers(-5, 10**6)), st.one_of(st.none(), st.integers(-5, 10**6)))


@PROPERTY
@given(st.lists(st.builds(
    FileDiff, st.one_of(st.none(), st.sampled_from(PATHS)), st.one_of(st.none(), st.sampled_from(PATHS)),
    st.lists(st.builds(Hunk, st.integers(-1, 10**6), st.integers(-1, 50), st.integers(-1, 10**6),
                       st.integers(-1, 50), st.text(max_size=20), st.lists(_HUNK_LINE, max_size=25)), max_size=3),
    st.booleans()), max_size=3))
def test_hand_built_hunks(files: list[FileDiff]) -> None:
    """Hunks as no parser would build them: line numbers out of order, None, negative or huge."""
    check(files)


def _series_diffs() -> list[str]:
    from bot.mail import load
    from tests.corpus import thread

    res = load(str(thread(1)))
    return ["\n".join(
        [f"diff --git a/{fd.path} b/{fd.path}", f"--- a/{fd.path}", f"+++ b/{fd.path}"]
        + [ln for h in fd.hunks for ln in
           [f"@@ -{h.old_start},{h.old_len} +{h.new_start},{h.new_len} @@{(' ' + h.section) if h.section else ''}"]
           + [x.tag + x.text for x in h.lines]]) for p in res.postings for fd in p.files if fd.hunks]


@PROPERTY
@given(st.data())
def test_mutated_real_diffs(data: st.DataObject) -> None:
    diffs = _cached_series_diffs()
    text = data.draw(st.sampled_from(diffs))
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(lines)))
        op = data.draw(st.sampled_from(["drop", "dup", "retag", "insert"]))
        if op == "drop" and i < len(lines):
            del lines[i]
        elif op == "dup" and i < len(lines):
            lines.insert(i, lines[i])
        elif op == "retag" and i < len(lines) and lines[i][:1] in " +-":
            lines[i] = data.draw(st.sampled_from(" +-")) + lines[i][1:]
        else:
            lines.insert(i, data.draw(st.sampled_from(" +-")) + data.draw(_LINE))
    check(parse_diff("\n".join(lines)))


_DIFFS: list[str] = []


def _cached_series_diffs() -> list[str]:
    if not _DIFFS:
        _DIFFS.extend(_series_diffs())
    return _DIFFS


def test_real_series_diffs() -> None:
    for text in _cached_series_diffs():
        check(parse_diff(text))


def _added(path: str, body: list[str]) -> list[FileDiff]:
    return parse_diff("\n".join([f"--- a/{path}", f"+++ b/{path}", f"@@ -170,0 +171,{len(body)} @@"]
                                + ["+" + b for b in body]) + "\n")


def test_while1_and_big_hunk() -> None:
    check(_added("arch/s390/mm/pgalloc.c", ["void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)", "{",
                                             "\twhile (1);", "}"]))
    check(_added("arch/s390/mm/pgalloc.c", ["static void big(void)", "{"]
                 + [f"\tx{i} = {i}; /* {'y' * 40} */" for i in range(16000)] + ["}"]))


def test_deeply_nested_ifs() -> None:
    """Regression: _Walker.visit recursed once per syntax level -> RecursionError (fixed in 83baad4)."""
    check(_added("arch/s390/mm/pgalloc.c", ["void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)", "{",
                                             "\tint a = 1;"] + ["\tif (a) {"] * 2000 + ["\t\ta++;"]
                 + ["\t}"] * 2000 + ["}"]))
