"""Reading a kernel tree: the file a posting applies to, at the revision it applies to.

With a tree, the code under review is the real file at the series' base with the hunks applied,
instead of the model's reference source with the hunks spliced in.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache

from bot.patch import Posting

GIT_TIMEOUT = 30


def base_revision(p: Posting) -> tuple[str | None, bool]:
    """(revision, whole) of the tree state the posting applies to. whole: that state already holds
    the earlier patches of its series (a commit's parent), so only the posting itself is applied."""
    if p.commit:
        return p.parent or f"{p.commit}^", True
    base = next((v.split()[0] for k, v in p.trailers if k.lower() == "base-commit" and v.split()), None)
    return base, False


def file_at(tree: str, rev: str, path: str) -> str | None:
    """The file at a revision of the tree, or None when the tree does not have it there."""
    if rev.startswith("-") or path.startswith("-"):
        return None
    res = _git(tree, "cat-file", "blob", f"{rev}:{path}")  # the object itself: no textconv, no filter
    if res is None or res.returncode != 0:
        return None
    return res.stdout.decode("utf-8", "replace")


class TreeError(Exception):
    """The kernel tree given cannot be read, or lacks the revision a posting needs."""


def _git(tree: str, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", "-C", tree, *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_tree(tree: str) -> None:
    """A usable kernel tree is an existing git repository (a work tree or bare)."""
    if not os.path.isdir(tree):
        raise TreeError(f"--tree {tree}: " + ("not a directory" if os.path.exists(tree) else "no such directory"))
    res = _git(tree, "rev-parse", "--git-dir")
    if res is None or res.returncode != 0:
        raise TreeError(f"--tree {tree}: not a git tree")


@lru_cache(maxsize=256)
def resolve(tree: str, rev: str) -> str | None:
    """The commit a revision names in the tree, or None when the tree does not have it."""
    if not rev or rev.startswith("-"):
        return None
    res = _git(tree, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if res is None or res.returncode != 0:
        return None
    return res.stdout.decode().strip() or None
