"""With a kernel tree, the code around the patch is the tree's own file at the commit's parent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.paths import models_dir

DEFER = """
static void defer_free_rcu(struct rcu_head *head)
{
	struct page *page = container_of(head, struct page, rcu_head);

	page_table_free(NULL, (unsigned long *)page_to_virt(page));
}

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct page *page = virt_to_page(pgtable);

	call_rcu(&page->rcu_head, defer_free_rcu);
}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def test_check_git_reads_the_tree(tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    (repo / "arch/s390/mm").mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "dev@example.org")
    git(repo, "config", "user.name", "Dev")
    # The tree's file: the model's own statement of the algorithm, shifted by a block of unrelated
    # code so that its line numbers differ from the model's.
    base = "/* a tree's own preamble */\n" + "\n".join(
        f"static int unrelated_{i};" for i in range(40)) + "\n" + (models_dir() / "s390/pgalloc.c").read_text()
    pgalloc = repo / "arch/s390/mm/pgalloc.c"
    pgalloc.write_text(base)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    pgalloc.write_text(base + DEFER)
    git(repo, "commit", "-qam", "s390: add pte_free_defer()")
    res = subprocess.run([sys.executable, "-m", "bot", "check", "--git", "HEAD~1..HEAD", "--repo", str(repo),
                          "--format", "json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    (review,) = json.loads(res.stdout)["reviews"]
    found = {f["hazard"]: f for f in review["findings"]}
    assert {"RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU"} <= set(found)
    # page_table_free() ran from the tree (at its line there), not from models/
    steps = [s["at"] for f in found.values() for s in f["trace"] if s["at"]]
    assert not any(at.startswith("models/s390/pgalloc.c") for at in steps)
    n_base = len(base.splitlines())
    from_tree = [at for at in steps if at.startswith("arch/s390/mm/pgalloc.c:") and int(at.split(":")[1]) <= n_base]
    assert from_tree, steps
    # and those lines are the tree's, shifted by its 41-line preamble, not the model's numbering
    assert all(int(at.split(":")[1]) > 41 for at in from_tree)
    assert any("kernel tree at" in u for f in found.values() for u in f["unmodeled"])
