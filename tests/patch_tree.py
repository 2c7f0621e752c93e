"""A small git tree a real patch applies to, built at test time from the patch itself.

Each file the patch changes is written as its pre-image skeleton: the hunks' context and removed lines
at their own line numbers, blank lines between them. `git am` then applies the real patch cleanly,
and nothing of the kernel beyond what the patch shows lands on disk.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.mail import load_bytes

IDENT = {"GIT_AUTHOR_NAME": "Tree Builder", "GIT_AUTHOR_EMAIL": "tree@example.invalid",
         "GIT_COMMITTER_NAME": "Tree Builder", "GIT_COMMITTER_EMAIL": "tree@example.invalid",
         "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False,
                         env={**os.environ, **IDENT, **(env or {})})
    if res.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {res.stderr.decode(errors='replace')[-2000:]}")
    return res.stdout.decode(errors="replace")


def skeletons(mail: bytes) -> dict[str, str]:
    """path → the pre-image skeleton of every file the patch in `mail` changes."""
    (posting,) = load_bytes(mail).postings
    out: dict[str, str] = {}
    for fd in posting.files:
        if fd.old_path is None:
            continue
        lines: dict[int, str] = {}
        for h in fd.hunks:
            lines.update({ln.old_no: ln.text for ln in h.lines if ln.tag != "+" and ln.old_no})
        last = max(lines, default=0)
        out[fd.old_path] = "".join(lines.get(n, "") + "\n" for n in range(1, last + 1)) + "\n"
    return out


def tree_for(repo: Path, *mails: bytes, branch: str = "master") -> list[str]:
    """A repository whose base commit holds the skeletons the first mail applies to, with each mail
    then applied by `git am` (later mails must apply on top). Returns the applied commits' shas."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", branch)
    for path, text in skeletons(mails[0]).items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base: the files the patches change")
    for mail in mails:
        git(repo, "am", "-q", "--keep-cr", stdin=mail)
    return git(repo, "rev-list", "--reverse", "HEAD~%d..HEAD" % len(mails)).split()
