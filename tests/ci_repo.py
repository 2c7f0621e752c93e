"""Small kernel-like git repositories for CI tests: arch/s390/mm/pgalloc.c is the model's own statement
of the algorithm (so the tree's code runs), then commits on top of it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.paths import models_dir
from tests.test_tree import DEFER

PGALLOC = "arch/s390/mm/pgalloc.c"
IDENT = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "Dev",
         "GIT_COMMITTER_EMAIL": "dev@example.org", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], check=check, capture_output=True, text=True,
                          input=stdin, env={**os.environ, **IDENT, **(env or {})})


def out(repo: Path, *args: str) -> str:
    return git(repo, *args).stdout.strip()


def base_repo(path: Path, preamble: int = 0) -> Path:
    """The base commit; `preamble` unrelated lines first shift every line number."""
    (path / "arch/s390/mm").mkdir(parents=True)
    git(path, "init", "-q", "-b", "master")
    text = "".join(f"static int unrelated_{i};\n" for i in range(preamble)) + (models_dir() / "s390/pgalloc.c"
                                                                              ).read_text()
    (path / PGALLOC).write_text(text)
    git(path, "add", ".")
    git(path, "commit", "-qm", "base")
    return path


def commit_hazard(repo: Path) -> str:
    """A pte_free_defer() whose two halves share the page's rcu_head (RCU_HEAD_SHARED)."""
    (repo / PGALLOC).write_text((repo / PGALLOC).read_text() + DEFER)
    git(repo, "commit", "-qam", "s390: add pte_free_defer()")
    return out(repo, "rev-parse", "HEAD")


def commit_clean(repo: Path) -> str:
    """A change to page_table_free() that the model runs and finds nothing wrong with."""
    text = (repo / PGALLOC).read_text()
    anchor = "\tpage = virt_to_page(table);\n\tif (!mm_alloc_pgste(mm)) {\n"
    assert anchor in text
    (repo / PGALLOC).write_text(text.replace(anchor, "\tbit = 0;\n" + anchor, 1))
    git(repo, "commit", "-qam", "s390: clear bit before use")
    return out(repo, "rev-parse", "HEAD")
