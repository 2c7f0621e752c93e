"""The real-tree fixture itself: Debian's linux-source-6.1 in git, the real 07 patches applied with git am -3."""

from __future__ import annotations

from tests.kernel_tree import KernelTree, git


def test_tree_holds_the_subset(kernel_tree: KernelTree) -> None:
    files = git(kernel_tree.repo, "ls-files", "arch/s390/mm/pgalloc.c", "arch/powerpc/mm/pgtable-frag.c",
                "include/linux/mm.h", "include/asm-generic/tlb.h").stdout.split()
    assert len(files) == 4, files


def test_real_07_patches_apply_with_git_am(kernel_tree: KernelTree) -> None:
    for version in (1, 2, 3):
        tree = kernel_tree.apply_07(version)
        log = git(tree, "log", "--format=%s", f"{kernel_tree.base}..HEAD").stdout.splitlines()
        assert len(log) == 1 and "pte_free_defer" in log[0], log
        changed = git(tree, "diff", "--name-only", "HEAD~1..HEAD").stdout.split()
        assert "arch/s390/mm/pgalloc.c" in changed and all(c.startswith("arch/s390/") for c in changed)
        text = (tree / "arch/s390/mm/pgalloc.c").read_text()
        assert "void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)" in text
