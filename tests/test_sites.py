"""Call-site mapping on the real pte_free_defer patches, plus small synthetic diffs for edge cases.

Expected lines are counted by hand from each hunk header (`@@ -a,b +c,d @@`: the first post-image
line of the hunk is c; every context or added line after it is the next line).
"""

from __future__ import annotations

import textwrap

import pytest

from bot.sites import SiteMap, analyze, analyze_files
from bot.sites.postimage import file_images
from bot.sites.rules import parse
from tests.corpus import thread
from tests.test_sites_helpers import parse_diff, posting

V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
V1_05 = "28eb289f-ea2c-8eb9-63bb-9f7d7b9ccc11@google.com"
V2_07 = "a722dbec-bd9e-1213-1edd-53cd547aa4f@google.com"
V3_07 = "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com"
S390 = "arch/s390/mm/pgalloc.c"


def _sm(rev: int, msgid: str) -> SiteMap:
    return analyze(posting(thread(rev), msgid))


def _calls(fs, *names):
    return [o for o in fs.ops if o.kind == "call" and (not names or o.name in names)]


def test_v1_07_pte_free_defer_mmgrab_then_unconditional_call_rcu():
    sm = _sm(1, V1_07)
    fs = sm.functions["pte_free_defer"]
    assert fs.file == S390 and fs.complete
    # @@ -346,6 +346,40 @@: 346 __free_page, 347 }, 348 blank, 349 #ifdef, 350 pte_free_now ...
    # 367 pte_free_defer, 372 mmgrab, 378 page->pt_mm =, 379 call_rcu
    mm, cr = _calls(fs, "mmgrab", "call_rcu")
    assert (mm.name, mm.line, mm.added) == ("mmgrab", 372, True)
    assert (cr.name, cr.line, cr.path) == ("call_rcu", 379, ())
    assert cr.args == ("&page->rcu_head", "pte_free_now")
    assert cr.text == "call_rcu(&page->rcu_head, pte_free_now);"
    assert fs.callbacks == ["pte_free_now"]
    writes = [o for o in fs.ops if o.kind == "field" and o.access == "write"]
    assert [(o.name, o.line) for o in writes] == [("pt_mm", 378)]
    assert fs.guards == ["#ifdef CONFIG_TRANSPARENT_HUGEPAGE"]
    # the callback resolves to its body: page_table_free() then mmdrop_async(), lines 363, 364
    cb = sm.callback("pte_free_now")
    assert cb is not None and cb.complete
    tail = [(o.name, o.line) for o in _calls(cb) if o.name in ("page_table_free", "mmdrop_async")]
    assert tail == [("page_table_free", 363), ("mmdrop_async", 364)]
    assert _calls(cb, "container_of")[0].args == ("head", "struct page", "rcu_head")
    assert sm.relevant and f"{S390}:pte_free_defer" in sm.modeled


def test_v1_07_context_only_functions_and_other_files():
    sm = _sm(1, V1_07)
    # page_table_free only shows as leading context ("__free_page(page); }"): partial, not changed
    ptf = sm.functions["page_table_free"]
    assert not ptf.complete and not ptf.changed
    assert [(o.name, o.line, o.added) for o in _calls(ptf)] == [("__free_page", 346, False)]
    # kernel/fork.c @@ -942,7 +942,7 @@: 942 __mmdrop, 943 }, 944 blank, 945 void mmdrop_async(
    md = sm.functions["mmdrop_async"]
    assert md.file == "kernel/fork.c" and not md.complete and md.changed_lines == [945]
    assert [(o.name, o.line) for o in _calls(md)] == [("atomic_dec_and_test", 947)]
    assert "INIT_WORK" in md.unknown_calls and "unlikely" in md.unknown_calls


def test_v2_07_call_rcu_guarded_by_hh_bits_and_global_lock():
    sm = _sm(2, V2_07)
    fs = sm.functions["pte_free_defer"]
    assert fs.complete
    # @@ -407,6 +429,79 @@: 429 __free_page, 432 #ifdef, 476 pte_free_defer, 489 spin_lock_bh, 499 call_rcu
    lock = _calls(fs, "spin_lock_bh")[0]
    assert (lock.line, lock.args, lock.path) == (489, ("&mm_pgtable_list_lock",), ())
    assert _calls(fs, "spin_unlock_bh")[0].line == 495
    pgste, halves = _calls(fs, "call_rcu")
    assert (pgste.line, pgste.path) == (483, ("if (mm_alloc_pgste(mm))",))
    assert (halves.line, halves.path) == (499, ("if ((mask & 0x0CU) != 0x0CU)",))
    assert halves.callbacks == ("pte_free_now1", "pte_free_now0")
    assert [o.line for o in fs.ops if o.kind == "return"] == [484]
    xor = _calls(fs, "atomic_xor_bits")[0]
    assert (xor.line, xor.args[1]) == (490, "0x15U << (bit + 24)")
    # pte_free_half re-queues its own rcu_head for the other half
    half = sm.functions["pte_free_half"]
    assert [(o.line, o.path) for o in _calls(half, "call_rcu")] == [(463, ("if (mask & 0x0CU)",))]
    assert sm.callback("pte_free_now0").ops[0].name == "pte_free_half"
    # the file-scope global lock
    fs_ops = [o for f in sm.file_scope for o in f.ops if o.name == "DEFINE_SPINLOCK"]
    assert [(o.line, o.args) for o in fs_ops] == [(166, ("mm_pgtable_list_lock",))]


def test_v2_07_removed_sites_and_else_if_paths():
    sm = _sm(2, V2_07)
    ptf = sm.functions["page_table_free"]
    assert not ptf.complete
    # @@ -317 +321 @@: 324 spin_lock_bh(&mm_pgtable_list_lock), pre-image 320 spin_lock_bh(&mm->context.lock)
    assert [o.line for o in _calls(ptf, "spin_lock_bh")] == [324]
    removed = [(o.line, o.args) for o in ptf.removed_ops if o.name == "spin_lock_bh"]
    assert removed == [(320, ("&mm->context.lock",))]
    dels = _calls(ptf, "list_del")
    assert [(o.line, o.path) for o in dels] == [
        (334, ("if (!mm_alloc_pgste(mm))", "if (mask & 0x03U)", "else", "if (!(mask & 0x30U))"))]
    # __tlb_remove_table: switch/case and if/else under a case label
    tlb = sm.functions["__tlb_remove_table"]
    relink = _calls(tlb, "list_add")[0]
    assert relink.line == 412 and relink.path[:2] == ("switch (half)", "case 0x02U :")
    assert len(_calls(tlb, "list_add")) == 1  # walked once, not once per path


def test_v3_07_set_page_active_then_page_table_free_and_tail():
    sm = _sm(3, V3_07)
    fs = sm.functions["pte_free_defer"]
    # pte_free_defer: 455 page = virt_to_page(pgtable), 456 SetPageActive, 457 page_table_free
    assert [(o.name, o.line) for o in _calls(fs) if o.category != "warn"] == [
        ("virt_to_page", 455), ("SetPageActive", 456), ("page_table_free", 457)]
    assert _calls(fs, "WARN_ON_ONCE")[0].args == ("mm_alloc_pgste(mm)",)
    assert not _calls(fs, "call_rcu")
    # page_table_free's tail, @@ -366 +370 @@: 372 release_check, 373 TestClearPageActive, 374 call_rcu,
    # 375 else, 376 pte_free_now(&page->rcu_head)
    ptf = sm.functions["page_table_free"]
    tail = [(o.name, o.line, o.path) for o in _calls(ptf) if o.line and o.line >= 373]
    cond = "if (TestClearPageActive(page))"
    assert tail == [("TestClearPageActive", 373, ()), ("call_rcu", 374, (cond,)),
                    ("pte_free_now", 376, (cond, "else"))]
    assert ptf.callbacks == ["pte_free_now"]
    body = sm.callback("pte_free_now")
    assert [o.name for o in _calls(body)] == ["container_of", "pgtable_pte_page_dtor", "__free_page"]
    # the body-only hunk that starts inside a comment still maps to page_table_free
    assert [(o.line, o.path) for o in _calls(ptf, "list_del_init")] == [
        (358, ("if ((mask & 0x03U) && !PageActive(page))", "else"))]


def test_v1_05_powerpc_unconditional_call_rcu_on_virt_to_page():
    sm = _sm(1, V1_05)
    fs = sm.functions["pte_free_defer"]
    assert fs.file == "arch/powerpc/mm/pgtable-frag.c" and fs.complete
    # @@ -120,3 +120,21 @@: 120 __free_page, 124 #ifdef, 133 pte_free_defer, 137 page =, 138 call_rcu
    v2p, cr = _calls(fs)
    assert (v2p.name, v2p.line, v2p.args) == ("virt_to_page", 137, ("pgtable",))
    assert v2p.text == "page = virt_to_page(pgtable);"
    assert (cr.name, cr.line, cr.path, cr.args[0]) == ("call_rcu", 138, (), "&page->rcu_head")
    cb = sm.callback("pte_free_now")
    assert [(o.name, o.line) for o in _calls(cb)][-1] == ("pte_fragment_free", 130)
    assert sm.relevant


# ---------------------------------------------------------------- synthetic diffs (own code)

def _diff(path: str, header: str, body: str) -> str:
    return f"--- a/{path}\n+++ b/{path}\n{header}\n" + textwrap.dedent(body).replace("|", "")


def _files(text: str):
    return parse_diff(text)


LEADING_BRACE = _diff("arch/x/mm/pgalloc.c", "@@ -10,3 +10,9 @@ void foo_free(struct foo *f)", """\
| \t\tbar(f);
| \t}
| }
|+
|+static void foo_cb(struct rcu_head *h)
|+{
|+\tlist_for_each_entry(p, &f->lst, lru) {
|+\t\tif (x)
|+\t\t\tcall_rcu(&p->rcu_head, foo_cb);
""")


def test_leading_braces_and_iterator_macros():
    fds = _files(LEADING_BRACE)
    imgs = {i.name: i for i in file_images(fds[0])}
    assert not imgs["foo_free"].complete and not imgs["foo_cb"].complete
    sm = analyze_files(fds)
    assert sm.functions["foo_free"].unknown_calls == ["bar"]
    assert sm.functions["foo_free"].ops[0].line == 10
    cr = _calls(sm.functions["foo_cb"], "call_rcu")[0]
    assert cr.line == 18 and cr.path == ("list_for_each_entry(p, &f->lst, lru)", "if (x)")


IFDEF_ACROSS = _diff("mm/pgtable-generic.c", "@@ -1,2 +1,7 @@", """\
| int a;
|+#ifdef CONFIG_FOO
|+void g(void)
|+{
|+\tmmgrab(mm);
|+}
| int b;
""") + "@@ -40,3 +43,3 @@ void h(void)\n \tx();\n-\tspin_lock(&l);\n+\tspin_lock_bh(&l);\n }\n"


def test_ifdef_across_hunks_and_lock_variant():
    sm = analyze_files(_files(IFDEF_ACROSS))
    g = sm.functions["g"]
    assert g.complete and g.guards == ["#ifdef CONFIG_FOO"]
    assert [(o.name, o.line) for o in g.ops] == [("mmgrab", 5)]
    h = sm.functions["h"]
    assert [(o.name, o.line, o.added) for o in _calls(h)] == [("spin_lock_bh", 44, True)]
    assert [(o.name, o.line) for o in h.removed_ops if o.kind == "call"] == [("spin_lock", 41)]
    assert sm.relevant  # in-scope file: lock variant change


def test_noise_is_not_relevant():
    warn = _diff("drivers/s390/x.c", "@@ -5,3 +5,4 @@ int f(struct foo *p)", """\
| \tspin_lock(&p->lock);
|+\tWARN_ON_ONCE(!p->ready);
| \tlist_del(&p->lru);
| \tspin_unlock(&p->lock);
""")
    sm = analyze_files(_files(warn))
    assert not sm.relevant and sm.functions["f"].changed_lines == [6]
    comment = _diff("arch/s390/mm/pgalloc.c", "@@ -5,3 +5,3 @@ void page_table_free(struct mm_struct *mm)", """\
| \tspin_lock_bh(&mm->context.lock);
|-\t/* old words */
|+\t/* new words */
| \tlist_del(&page->lru);
""")
    sm = analyze_files(_files(comment))
    assert not sm.relevant and not sm.functions["page_table_free"].changed
    # a driver's own lock and list changes are not page-table lifetime sites
    driver = _diff("drivers/s390/y.c", "@@ -5,2 +5,3 @@ int f(struct foo *p)", """\
| \tspin_lock(&p->lock);
|+\tlist_add(&p->lru, &head);
| \tspin_unlock(&p->lock);
""")
    assert not analyze_files(_files(driver)).relevant


def test_adding_a_primitive_needs_no_code_change():
    diff = _diff("arch/s390/mm/pgalloc.c", "@@ -1,2 +1,3 @@ void f(void)", """\
| \tx();
|+\tmy_new_barrier(mm);
| }
""")
    base = analyze_files(_files(diff))
    assert base.functions["f"].unknown_calls == ["x", "my_new_barrier"]
    assert not base.relevant
    import tomllib

    data = tomllib.loads(_rules_path().read_text(encoding="utf-8"))
    data["primitive"]["my_new_barrier"] = {"category": "rcu", "why": "test", "relevance": "always"}
    sm = analyze_files(_files(diff), parse(data))
    op = _calls(sm.functions["f"], "my_new_barrier")[0]
    assert (op.category, op.line, op.added) == ("rcu", 2, True)
    assert sm.relevant and sm.reasons == ["arch/s390/mm/pgalloc.c:2: adds my_new_barrier() [rcu] in f()"]


def _rules_path():
    from bot.sites.rules import DEFAULT_PATH

    return DEFAULT_PATH


def test_rules_reject_bad_relevance():
    with pytest.raises(ValueError, match="relevance"):
        parse({"primitive": {"x": {"category": "rcu", "relevance": "sometimes"}}})
