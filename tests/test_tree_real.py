"""Real kernel code from a real tree: Debian's linux-source-6.1, the real 07 patches applied with git am -3.

The real arch/s390/mm/pgalloc.c runs under models/s390/config.toml, with its headers' macros and
inlines read from the tree; findings point at the tree's own lines, the deciding branch included.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import run_cli
from tests.kernel_tree import KernelTree, git, series_patch

PGALLOC = "arch/s390/mm/pgalloc.c"


def check_git(tree: Path) -> tuple[int, dict]:
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(tree), "--format", "json", timeout=600)
    assert res.returncode in (0, 1), res.stderr
    (review,) = json.loads(res.stdout)["reviews"]
    return res.returncode, review


def line_of(tree: Path, pattern: str, after: str = "") -> int:
    """The 1-based line of the tree's file matching pattern (after the first line matching `after`)."""
    lines = (tree / PGALLOC).read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if re.search(after, ln)) if after else 0
    return next(i + 1 for i, ln in enumerate(lines) if i >= start and re.search(pattern, ln))


def assert_steps_quote_the_tree(tree: Path, review: dict) -> None:
    """Every trace step at a line of the tree's file quotes that very line (the mapping is exact);
    a violating step is at the statement that breaks the invariant."""
    lines = (tree / PGALLOC).read_text().splitlines()
    checked = 0
    for f in review["findings"]:
        for s in f["trace"]:
            path, _, n = s["at"].rpartition(":")
            if path != PGALLOC:
                continue
            src = " ".join(lines[int(n) - 1].split())
            if s["violation"]:
                assert re.match(r"(\w+ = )?\w+\(", src), (s, src)  # a call: the lock, call_rcu, list op
            else:
                assert s["op"].startswith(src[:20]), (s, src)
            checked += 1
    assert checked


def correctness(review: dict) -> dict[str, dict]:
    return {f["hazard"]: f for f in review["findings"] if f["class"] == "correctness"}


def test_v1_07_is_rcu_head_shared_at_the_trees_call_rcu(kernel_tree: KernelTree) -> None:
    tree = kernel_tree.apply_07(1)
    rc, review = check_git(tree)
    assert rc == 1
    found = correctness(review)
    assert {"RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU", "CONTEXT_LOCK_SOFTIRQ_DEADLOCK"} <= set(found)
    shared = found["RCU_HEAD_SHARED"]
    assert (shared["file"], shared["line"]) == (PGALLOC, line_of(tree, r"call_rcu\(&page->rcu_head", "pte_free_defer"))
    assert shared["function"] == "pte_free_defer"
    assert review["judged"] is True and not review["not_judged"]
    assert f"{PGALLOC}:pte_free_defer" in review["modeled"]
    # the code around the patch ran from the tree, not from the reference model
    assert any("kernel tree at" in u for u in shared["unmodeled"])
    assert not any(s["at"].startswith("models/s390/pgalloc.c") for f in found.values() for s in f["trace"])
    assert_steps_quote_the_tree(tree, review)


def test_v2_07_leak_is_decided_by_the_unshifted_mask_test(kernel_tree: KernelTree) -> None:
    tree = kernel_tree.apply_07(2)
    rc, review = check_git(tree)
    assert rc == 1
    leak = correctness(review)["PAGETABLE_LEAK"]
    want = line_of(tree, r"if \(mask & 0x0CU\)", r"static void pte_free_half")
    assert (leak["file"], leak["line"], leak["function"]) == (PGALLOC, want, "pte_free_half")
    decides = [s for s in leak["trace"] if s.get("decides")]
    assert len(decides) == 1 and decides[0]["at"] == f"{PGALLOC}:{want}"
    # the values it saw: the whole _refcount word, tested against the HH bits without the >> 24
    m = re.search(r"mask = (0x[0-9a-f]+); \(mask & 0x0CU\) is false", decides[0]["op"])
    assert m and int(m.group(1), 16) > 0xFF and int(m.group(1), 16) >> 24 & 0x0C, decides[0]["op"]
    assert leak["trace"][-1]["violation"] and leak["trace"].index(decides[0]) < len(leak["trace"]) - 1
    assert review["judged"] is True and not review["not_judged"]
    assert_steps_quote_the_tree(tree, review)


def test_v3_07_has_no_correctness_finding(kernel_tree: KernelTree) -> None:
    tree = kernel_tree.apply_07(3)
    rc, review = check_git(tree)
    assert rc == 0
    assert not correctness(review)
    assert review["relevant"] and f"{PGALLOC}:pte_free_defer" in review["modeled"]
    assert review["judged"] is True and not review["not_judged"]
    # a cost seen only at the end of a run is anchored on the statement that incurs it, not a brace
    for f in review["findings"]:
        assert f["evidence"] and f["evidence"][0].strip() not in ("{", "}", "};"), f


def test_an_edited_v2_renamed_local_is_found_at_its_own_line(kernel_tree: KernelTree) -> None:
    applied = kernel_tree.apply_07(2)
    text = git(applied, "format-patch", "-1", "--stdout", "HEAD").stdout
    start = text.index("+static void pte_free_half")
    end = text.index("+static void pte_free_now0(struct rcu_head *head)\n+{")
    edited = text[:start] + text[start:end].replace("mask", "seen") + text[end:]
    tree = kernel_tree.apply("v2-07-renamed", edited.encode())
    rc, review = check_git(tree)
    assert rc == 1
    leak = correctness(review)["PAGETABLE_LEAK"]
    assert leak["line"] == line_of(tree, r"if \(seen & 0x0CU\)", r"static void pte_free_half")
    assert any("seen = 0x" in s["op"] for s in leak["trace"] if s.get("decides"))


def test_the_unmodified_trees_functions_are_judged_clean(kernel_tree: KernelTree) -> None:
    """The scenarios that do not need pte_free_defer(), run on the 6.1 file itself: conclusive, clean,
    every function the scenario calls from the tree or its headers, nothing unknown."""
    from bot.cmodel.models import Tree, build_program, load_models, run_scenario
    from bot.tree import tree_reader

    spec = next(s for s in load_models() if PGALLOC in s.files)
    reader = tree_reader(str(kernel_tree.repo), kernel_tree.base)
    bound = build_program(spec, [], Tree(reader, kernel_tree.base, ("fixture", reader.commit)))
    assert not bound.filled  # the 6.1 file has every function the scenarios call
    ran_from_tree: set[str] = set()
    runnable = [sc for sc in spec.scenarios if all(n in bound.program.functions for n in sc.needs)]
    assert runnable
    for sc in runnable:
        res, m = run_scenario(spec, bound, sc, 200_000, 60)
        assert res.verdict == "safe", (sc.name, [c.violation.detail for c in res.counterexamples])
        assert not m.obs.unknown and not m.obs.unresolved, (sc.name, m.obs.unknown, m.obs.unresolved)
        ran_from_tree |= {f for f in m.obs.ran if bound.program.origin[f][0].file == PGALLOC}
    assert {"page_table_free", "page_table_free_rcu", "__tlb_remove_table",
            "atomic_xor_bits", "page_table_release_check"} <= ran_from_tree


def test_a_function_that_cannot_run_leaves_the_scenario_not_judged(kernel_tree: KernelTree) -> None:
    """A patch that makes page_table_free() run inline asm: the scenarios that reach it say so."""
    applied = kernel_tree.apply_07(3)
    text = git(applied, "format-patch", "-1", "--stdout", "HEAD").stdout
    marker = "+\tpage = virt_to_page(pgtable);\n+\tSetPageActive(page);\n"
    assert marker in text
    edited = text.replace(marker, "+\tpage = virt_to_page(pgtable);\n+\tasm volatile(\"\" ::: \"memory\");\n")
    tree = kernel_tree.apply("v3-07-asm", edited.encode())
    _rc, review = check_git(tree)
    assert review["judged"] is False
    assert any("pte_free_defer() evaluates code the model cannot read: asm" in r for r in review["not_judged"]), review


def test_the_powerpc_file_runs_from_the_tree_too(kernel_tree: KernelTree) -> None:
    """The same machinery on another architecture's real file: v1 05/12 on pgtable-frag.c."""
    tree = kernel_tree.apply("v1-05", series_patch(1, 5), include="arch/powerpc/*")
    rc, review = check_git(tree)
    assert rc == 1
    shared = correctness(review)["RCU_HEAD_SHARED"]
    frag = "arch/powerpc/mm/pgtable-frag.c"
    lines = (tree / frag).read_text().splitlines()
    assert shared["file"] == frag and "call_rcu(" in lines[shared["line"] - 1]
