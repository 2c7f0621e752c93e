"""Never silent: every relevant posting is judged (findings, or "no hazard" with what ran) or says
why not, in every format; --strict fails CI on "not judged"; bad input is exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.paths import models_dir
from tests import corpus
from tests.conftest import run_cli
from tests.test_cli import assert_usage_error
from tests.test_tree import DEFER

V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
V2_07 = "a722dbec-bd9e-1213-1edd-53cd547aa4f@google.com"
V3_07 = "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com"


def _review(res) -> dict:  # noqa: ANN001 - CliResult
    (review,) = json.loads(res.stdout)["reviews"]
    return review


def test_v1_07_on_stdin_is_an_error_line_naming_rcu_head_shared() -> None:
    res = run_cli("check", "--stdin", "--format", "checkpatch", stdin=corpus.message(1, V1_07))
    assert res.returncode == 1, res.stderr
    assert any(ln.startswith("ERROR: RCU_HEAD_SHARED:") for ln in res.stdout.splitlines()), res.stdout
    assert res.stderr == ""  # b4 fails a check on any stderr line


def test_v3_07_on_stdin_has_no_error_line() -> None:
    res = run_cli("check", "--stdin", "--format", "checkpatch", stdin=corpus.message(3, V3_07))
    assert res.returncode == 0, res.stderr
    assert "ERROR:" not in res.stdout and "NOT_JUDGED" not in res.stdout
    data = _review(run_cli("check", "--stdin", "--format", "json", stdin=corpus.message(3, V3_07)))
    assert data["judged"] is True and data["not_judged"] == []
    assert data["base"] == "the reference model models/s390 (mail only)"
    assert len(data["scenarios"]) >= 5 and all(s.startswith("s390-2k-fragments/") for s in data["scenarios"])


def test_v1_07_is_judged_by_its_findings() -> None:
    res = run_cli("check", "--mbox", str(corpus.thread(1)), "--msgid", V1_07, "--format", "json")
    assert res.returncode == 1
    data = _review(res)
    assert data["judged"] is True and data["not_judged"] == []
    assert "RCU_HEAD_SHARED" in {f["hazard"] for f in data["findings"]}


def test_budget_exhausted_is_not_judged_never_a_pass() -> None:
    """With a tiny state budget every scenario is inconclusive: v2 07/12's leak cannot be seen, and the
    review must say so in every format instead of passing."""
    args = ("check", "--budget-states", "10", "--mbox", str(corpus.thread(2)), "--msgid", V2_07)
    res = run_cli(*args, "--format", "json")
    assert res.returncode == 0, res.stderr  # documented: not judged is exit 0 without --strict
    data = _review(res)
    assert data["relevant"] is True and data["judged"] is False
    assert not [f for f in data["findings"] if f["class"] == "correctness"]
    assert any("inconclusive" in why and "budget" in why for why in data["not_judged"])
    assert run_cli(*args, "--strict").returncode == 3
    text = run_cli(*args)
    assert "Verdict: not judged: s390-2k-fragments/" in text.stdout
    assert "1 patch reviewed (1 not judged)" in text.stdout.splitlines()[0]  # the counts come first
    check = run_cli(*args, "--format", "checkpatch").stdout.splitlines()
    assert [ln for ln in check if ln.startswith("WARNING: NOT_JUDGED: review-bot not judged: ")], check
    sarif = json.loads(run_cli(*args, "--format", "sarif").stdout)
    (note,) = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and "not judged" in note["message"]["text"]
    html = run_cli(*args, "--format", "html").stdout
    assert '<p class="verdict not-judged">not judged: ' in html


# -- synthetic patches: each kind of "not judged" ----------------------------------------------------

HEADERS = """\
From: A U Thor <author@example.org>
To: linux-mm@kvack.org
Subject: [PATCH] {subject}
Date: Tue, 11 Jul 2023 10:00:00 +0000
Message-ID: <{msgid}>

{subject}

Signed-off-by: A U Thor <author@example.org>
---
"""


def _mail(subject: str, msgid: str, diff: str) -> bytes:
    """A patch email; the diffs below are written with four spaces where the kernel has a tab."""
    diff = "".join(ln[:1] + ln[1:].replace("    ", "\t") for ln in diff.splitlines(keepends=True))
    return (HEADERS.format(subject=subject, msgid=msgid) + diff).encode()


UNMODELED_FILE = """\
diff --git a/arch/x86/mm/pgtable.c b/arch/x86/mm/pgtable.c
--- a/arch/x86/mm/pgtable.c
+++ b/arch/x86/mm/pgtable.c
@@ -50,6 +50,12 @@ void ___pte_free_tlb(struct mmu_gather *tlb, struct page *pte)
     paravirt_release_pte(page_to_pfn(pte));
     paravirt_tlb_remove_table(tlb, pte);
 }
+
+void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
+{
+    call_rcu(&pgtable->rcu_head, pte_free_now);
+}
+
 #if CONFIG_PGTABLE_LEVELS > 2
 void ___pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmd)
 {
"""

# A hunk in a function the s390 reference does not state (it states part of pgalloc.c), adding a
# lifetime call site: the model has nothing to run it in
UNPLACEABLE = """\
diff --git a/arch/s390/mm/pgalloc.c b/arch/s390/mm/pgalloc.c
--- a/arch/s390/mm/pgalloc.c
+++ b/arch/s390/mm/pgalloc.c
@@ -900,6 +900,7 @@ static void frobnicate_tables(struct mm_struct *mm)
     frob_one(mm->frob_list, FROB_FLAG_A | FROB_FLAG_B);
     frob_two(mm->frob_list, FROB_FLAG_C);
+    call_rcu(&virt_to_page(mm->frob_table)->rcu_head, frob_free_rcu);
     frob_three(mm->frob_list);
     frob_four(mm->frob_list);
 }
"""


@pytest.mark.parametrize("diff,why", [
    (UNMODELED_FILE, "no model covers arch/x86/mm/pgtable.c"),
    (UNPLACEABLE, "frobnicate_tables() changes lifetime call sites, but no scenario"),
])
def test_synthetic_patches_say_why_they_are_not_judged(diff: str, why: str) -> None:
    mail = _mail("mm: defer the free", "synthetic@example.org", diff)
    res = run_cli("check", "--stdin", "--format", "json", stdin=mail)
    assert res.returncode == 0, res.stderr
    data = _review(res)
    assert data["relevant"] is True and data["judged"] is False, data
    assert any(why in r for r in data["not_judged"]), data["not_judged"]
    assert run_cli("check", "--stdin", "--strict", stdin=mail).returncode == 3
    check = run_cli("check", "--stdin", "--format", "checkpatch", stdin=mail).stdout
    assert check.startswith("WARNING: NOT_JUDGED: review-bot not judged: ") and why in check


def test_irrelevant_patch_is_silent_and_exit_0() -> None:
    diff = UNMODELED_FILE.replace("call_rcu(&pgtable->rcu_head, pte_free_now);", "pr_info(\"hello\\n\");")
    diff = diff.replace("pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)", "say_hello(void)")
    mail = _mail("x86: say hello", "hello@example.org", diff)
    for args in (("--strict",), ("--format", "checkpatch", "--strict")):
        res = run_cli("check", "--stdin", *args, stdin=mail)
        assert res.returncode == 0, res.stderr
    assert run_cli("check", "--stdin", "--format", "checkpatch", stdin=mail).stdout == ""
    data = _review(run_cli("check", "--stdin", "--format", "json", stdin=mail))
    assert data["relevant"] is False and data["judged"] is False and data["not_judged"] == []


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.org",
                           *args], check=True, capture_output=True, text=True).stdout


def test_tree_code_calling_an_unmodelled_helper_is_judged_and_names_it(tmp_path: Path) -> None:
    """A tree's file where page_table_alloc() calls a helper nobody models: the helper runs as opaque
    (both of its results explored), the scenarios stand, and the review names the helper and the tree
    commit it stands on."""
    repo = tmp_path / "linux"
    (repo / "arch/s390/mm").mkdir(parents=True)
    _git(repo, "init", "-q")
    ref = (models_dir() / "s390/pgalloc.c").read_text()
    marker = "unsigned long *page_table_alloc(struct mm_struct *mm)\n{\n"
    assert marker in ref
    base = ref.replace(marker, marker + "\tif (s390_unmodelled_helper(mm))\n\t\treturn NULL;\n", 1)
    (repo / "arch/s390/mm/pgalloc.c").write_text(base)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    parent = _git(repo, "rev-parse", "HEAD").strip()
    (repo / "arch/s390/mm/pgalloc.c").write_text(base + DEFER)
    _git(repo, "commit", "-qam", "s390: add pte_free_defer()")
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(repo), "--format", "json")
    data = _review(res)
    # DEFER shares the page's rcu_head whatever the helper says: that stands
    assert res.returncode == 1 and data["relevant"] is True and data["judged"] is True
    assert data["opaque_calls"] == ["s390_unmodelled_helper()"]
    assert "RCU_HEAD_SHARED" in {f["hazard"] for f in data["findings"]}
    assert any("s390_unmodelled_helper()" in note for note in data["notes"])
    assert data["base"] == f"the kernel tree {repo} at {parent}"



# -- bad input --------------------------------------------------------------------------------------

def test_empty_mbox_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert_usage_error(run_cli("check", "--mbox", str(empty)), "no messages")
    assert_usage_error(run_cli("scan", "--mbox", str(empty)), "no messages")


def test_stdin_without_an_email_is_exit_2() -> None:
    assert_usage_error(run_cli("check", "--stdin", stdin=b"\n\n"), "stdin")


def test_msgid_naming_no_posting_is_exit_2() -> None:
    assert_usage_error(run_cli("check", "--mbox", str(corpus.thread(1)), "--msgid", "nothing@example.org"),
                       "nothing@example.org")


def test_bad_tree_is_exit_2(tmp_path: Path) -> None:
    mbox = str(corpus.thread(3))
    assert_usage_error(run_cli("check", "--mbox", mbox, "--tree", str(tmp_path / "nope")), "no such directory")
    assert_usage_error(run_cli("check", "--mbox", mbox, "--tree", str(tmp_path)), "not a git tree")
    other = tmp_path / "other"
    other.mkdir()
    _git(other, "init", "-q")
    _git(other, "commit", "-q", "--allow-empty", "-m", "unrelated")
    mail = _mail("s390: x", "x@example.org", UNPLACEABLE) + b"\nbase-commit: " + b"1" * 40 + b"\n"
    assert_usage_error(run_cli("check", "--stdin", "--tree", str(other), stdin=mail), "has no commit 1111")


# -- a real kernel tree ------------------------------------------------------------------------------

@pytest.mark.parametrize("version,hazard", [(1, "RCU_HEAD_SHARED"), (2, "PAGETABLE_LEAK"), (3, None)])
def test_real_tree_verdicts_are_never_silent(kernel_tree, version: int, hazard: str | None) -> None:  # noqa: ANN001
    """check --git on linux-source-6.1 with a real 07 patch applied: the verdict stands on the tree's
    commit, and is either the mail's verdict or "not judged" with reasons, never a silent pass."""
    tree = kernel_tree.apply_07(version)
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(tree), "--format", "json", "--strict")
    review = _review(res)
    assert review["relevant"] is True
    assert review["base"] == f"the kernel tree {tree} at {kernel_tree.base}"
    correctness = {f["hazard"] for f in review["findings"] if f["class"] == "correctness" and f["introduced"]}
    if review["judged"]:
        assert review["not_judged"] == []
        assert (hazard in correctness) if hazard else not correctness, correctness
        assert res.returncode == (1 if hazard else 0)
    else:
        assert review["not_judged"] and not correctness and res.returncode == 3


def test_help_documents_exit_codes_and_strict() -> None:
    for args in (("--help",), ("check", "--help"), ("scan", "--help")):
        out = " ".join(run_cli(*args).stdout.split())
        assert "3 (only with --strict) a relevant patch was not judged" in out, args
    assert "--strict" in run_cli("check", "--help").stdout and "--sarif" in run_cli("check", "--help").stdout
