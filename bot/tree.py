"""Reading a kernel tree: the file a posting applies to, at the revision it applies to.

With a tree, the code under review is the real file at the series' base with the hunks applied,
instead of the model's reference source with the hunks spliced in.
"""

from __future__ import annotations

import subprocess

from bot.patch import Posting

GIT_TIMEOUT = 30


def base_revision(p: Posting) -> tuple[str | None, bool]:
    """(revision, whole) of the tree state the posting applies to. whole: that state already holds
    the earlier patches of its series (a commit's parent), so only the posting itself is applied."""
    if p.commit:
        return f"{p.commit}^", True
    base = next((v.split()[0] for k, v in p.trailers if k.lower() == "base-commit" and v.split()), None)
    return base, False


def file_at(tree: str, rev: str, path: str) -> str | None:
    """The file at a revision of the tree, or None when the tree does not have it there."""
    try:
        res = subprocess.run(["git", "-C", tree, "show", f"{rev}:{path}"], capture_output=True,
                             timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    return res.stdout.decode("utf-8", "replace")
