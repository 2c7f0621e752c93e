"""Whole-file context: a patch that changes one free path is checked against the paths of the same
file and its callers that it leaves unchanged (the models' [lifetime] paths, paired with the changed
one, and their own scenarios), and a finding names the unchanged function on the breaking path and
where its code came from: the kernel tree or the reference model."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from bot.cmodel.models import build_program, context_scenarios, lifetime_scenarios, load_models
from bot.mail import load
from bot.patch import HunkLine, Posting
from bot.pipeline import Options, review_postings
from tests.conftest import run_cli
from tests.corpus import thread
from tests.kernel_tree import KernelTree, git, patch_07
from tests.test_judgement_edits import V3_05, V3_07, substituted

S390 = "arch/s390/mm/pgalloc.c"
POWERPC = "arch/powerpc/mm/pgtable-frag.c"


def reverted(p: Posting, path: str, section: str, upto: str = "") -> Posting:
    """p without its change to the code of the first hunk of `path` whose section names `section`,
    up to the first line containing `upto` (the whole hunk when empty): that code stays as the base
    has it, and the hunks after it are renumbered."""
    q = copy.deepcopy(p)
    fd = next(f for f in q.files if f.path == path)
    shift = None
    for h in fd.hunks:
        if shift is not None:
            h.new_start += shift
            h.lines = [HunkLine(ln.tag, ln.text, ln.old_no, ln.new_no + shift if ln.new_no else None)
                       for ln in h.lines]
            continue
        if section not in h.section:
            continue
        kept, reached = [], False
        for ln in h.lines:
            reached = reached or bool(upto and upto in ln.text)
            if ln.tag == "+" and not reached:
                continue
            kept.append((" " if ln.tag == "-" and not reached else ln.tag, ln.text, ln.old_no))
        lines, n = [], h.new_start
        for tag, text, old in kept:
            lines.append(HunkLine(tag, text, old, None if tag == "-" else n))
            n += tag != "-"
        shift = (n - h.new_start) - h.new_len
        h.lines, h.new_len = lines, n - h.new_start
    assert shift is not None, f"no hunk of {path} in {section}"
    return q


def posting(n: int, msgid: str) -> tuple[Posting, list[Posting]]:
    res = load(str(thread(n)))
    return next(p for p in res.postings if p.msgid == msgid), res.postings


def introduced(p: Posting, ctx: list[Posting], msgid: str):
    ctx = [p if q.msgid == msgid else q for q in ctx]
    (r,) = review_postings([p], Options(), context=ctx)
    return r, {f.hazard: f for f in r.findings if f.cls == "correctness" and f.introduced}


# v3 07 changes page_table_free() to defer the final free of a page pte_free_defer() marked; its
# hunk for __tlb_remove_table(), the final free of the mmu_gather path, is left out: that path
# frees the page the patch defers directly (and runs the destructor) while the deferred half may
# still be walked.
def v3_07_without_gather_change() -> tuple[Posting, list[Posting]]:
    p, ctx = posting(3, V3_07)
    return reverted(p, S390, "__tlb_remove_table", upto="#ifdef CONFIG_TRANSPARENT_HUGEPAGE"), ctx


def test_an_unchanged_gather_free_frees_the_page_the_patch_defers() -> None:
    p, ctx = v3_07_without_gather_change()
    r, found = introduced(p, ctx, V3_07)
    f = found["NON_DEFERRED_FINAL_FREE"]
    assert "__tlb_remove_table() from the reference model (models/s390/pgalloc.c:" in f.explanation
    assert f.unmodeled[0].startswith("unchanged by the patch, on this path: __tlb_remove_table() from the reference")
    breaking = next(s for s in f.trace if s.violation)
    assert "__free_page()" in breaking.op and "grace period" in breaking.op
    assert f.function in {"page_table_free", "pte_free_defer", "page_table_free_rcu"}  # a line of the patch
    assert "PTLOCK_FREED_BEFORE_GP" in found  # and the destructor it still runs there
    assert r.judged
    # the changed functions on the path run in part from the reference too: the finding says which
    part = re.search(r"(\w+)\(\) from the reference model \(models/s390/pgalloc\.c:[\d, ]+\), the part of it the "
                     r"patch does not show", f.explanation)
    assert part and part.group(1) in {"page_table_free", "page_table_free_rcu", "pte_free_defer"}, f.explanation


def test_the_pairs_follow_what_the_patch_changes() -> None:
    spec = next(s for s in load_models() if S390 in s.files and s.lifetime is not None)
    real, _ = posting(3, V3_07)
    edit, _ = v3_07_without_gather_change()
    names = {}
    for key, p in (("real", real), ("edit", edit)):
        bound = build_program(spec, [p.files])
        names[key] = {sc.name for sc in context_scenarios(spec, bound)}
    # the edit leaves __tlb_remove_table() of the gather path unchanged: the changed deferral meets it
    assert "lifetime:defer-then-gather" in names["edit"] - names["real"]
    # every pair runs the change against a path with a function the patch leaves as it was
    for sc in lifetime_scenarios(spec):
        if sc.name in names["real"] and sc.error_path is None:
            assert sc.pair is not None and sc.pair.second.name == "exit", sc.name  # __mmdrop() unchanged
    # it changes page_table_alloc(), the allocation path, but not its error paths: those run alone
    assert {n for n in names["real"] if n.startswith("errpath:")} == {"errpath:alloc"}
    # a pair a written scenario already runs is left to it (defer-vs-sibling-free-rcu)
    assert "lifetime:gather-while-defer" not in names["edit"]


def test_powerpc_unchanged_final_free_frees_the_deferred_fragment_page() -> None:
    p, ctx = posting(3, V3_05)
    q = reverted(p, POWERPC, "void pte_fragment_free", upto="#ifdef CONFIG_TRANSPARENT_HUGEPAGE")
    _r, found = introduced(q, ctx, V3_05)
    f = found["NON_DEFERRED_FINAL_FREE"]
    assert "pte_fragment_free() from the reference model (models/powerpc/" in f.explanation


@pytest.mark.parametrize("n,msgid,test,tabs", [(3, V3_07, "if (TestClearPageActive(page))", "\t\t"),
                                             (3, V3_05, "else if (TestClearPageActive(page))", "\t\t\t")])
def test_the_final_free_changed_another_way_stays_silent(n: int, msgid: str, test: str, tabs: str) -> None:
    # The same patch with every deferred final free written the other way round: the same decision.
    p, ctx = posting(n, msgid)
    q = substituted(p, ((test, test.replace("(TestClear", "(!TestClear")),
                        (f"{tabs}call_rcu(&page->rcu_head, pte_free_now);", f"{tabs}pte_free_now(&page->rcu_head);"),
                        (f"{tabs}pte_free_now(&page->rcu_head);", f"{tabs}call_rcu(&page->rcu_head, pte_free_now);")),
                    first_only=True)
    r, found = introduced(q, ctx, msgid)
    assert not found, sorted(found)
    assert r.judged


def test_with_a_tree_the_unchanged_path_is_the_trees_own(kernel_tree: KernelTree) -> None:
    tree = kernel_tree.apply("v3-07-gather-unchanged", patch_07(3))
    src = tree / S390
    text = src.read_text()
    start = text.index("void __tlb_remove_table(")
    deferred = "\tif (TestClearPageActive(page))\n\t\tcall_rcu(&page->rcu_head, pte_free_now);\n" \
               "\telse\n\t\tpte_free_now(&page->rcu_head);\n}"
    at = text.index(deferred, start)
    src.write_text(text[:at] + "\tpgtable_pte_page_dtor(page);\n\t__free_page(page);\n}" + text[at + len(deferred):])
    git(tree, "commit", "-q", "-a", "--amend", "--no-edit")
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(tree), "--format", "json", timeout=600)
    assert res.returncode == 1, res.stderr
    (review,) = json.loads(res.stdout)["reviews"]
    f = next(f for f in review["findings"] if f["hazard"] == "NON_DEFERRED_FINAL_FREE" and f["introduced"])
    line = 1 + next(i for i, ln in enumerate(Path(src).read_text().splitlines()) if ln.startswith("void __tlb_remove_table("))
    got = re.search(r"__tlb_remove_table\(\) from the kernel tree at \S+ \(([^)]+)\)", f["explanation"])
    assert got, f["explanation"]
    path, _, n = got.group(1).rpartition(":")
    assert path == S390 and line <= int(n) <= line + 30
    breaking = next(s for s in f["trace"] if s["violation"])
    assert breaking["at"].startswith(f"{S390}:") and int(breaking["at"].rpartition(":")[2]) > line
    # a changed function on the path runs the tree's lines the patch does not show: named as such
    assert re.search(r"\w+\(\) from the kernel tree at \S+ \(arch/s390/mm/pgalloc\.c:[\d, ]+\), the part of it the "
                     r"patch does not show", f["explanation"]), f["explanation"]


def _pair_verdicts(spec, known_bad: bool) -> tuple[dict[str, str], set[str]]:
    from bot.classify import hazard_of
    from bot.cmodel.bind import reference_lines
    from bot.cmodel.cparse import parse_unit
    from bot.cmodel.models import run_scenario, scenario_runnable

    bound = build_program(spec, [])
    if known_bad:
        text = (spec.directory / spec.known_bad.source).read_text()
        bound.program.add_unit(parse_unit(text), reference_lines(spec.rel(spec.known_bad.source), text))
    verdicts, hazards = {}, set()
    for sc in lifetime_scenarios(spec):
        if scenario_runnable(sc, bound.program):
            res, m = run_scenario(spec, bound, sc, 50_000, 10.0)
            assert not m.obs.unknown and not m.obs.unresolved, sc.name
            verdicts[sc.name] = res.verdict
            hazards |= {h for cx in res.counterexamples if (h := hazard_of(cx.violation))}
    return verdicts, hazards


def test_every_models_lifetime_paths_hold_on_its_reference_and_catch_its_known_bad() -> None:
    specs = [s for s in load_models() if s.lifetime is not None]
    assert {S390, POWERPC} <= {f for s in specs for f in s.files}
    for spec in specs:
        ref, _ = _pair_verdicts(spec, known_bad=False)
        assert set(ref.values()) <= {"safe"}, (spec.name, ref)
        bad, hazards = _pair_verdicts(spec, known_bad=True)
        assert "unsafe" in bad.values() and set(spec.known_bad.hazards) <= hazards, (spec.name, bad, hazards)
