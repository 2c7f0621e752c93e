"""A real kernel tree for tests: Debian's linux-source-6.1, a subset committed to a git repository.

The .deb comes from $LINUX_SOURCE_DEB, else .ci/cache/linux-source-6.1_*.deb (`.ci/run` puts it
there with `apt-get download linux-source-6.1`). Without it the tests that need the tree are
skipped with a message saying so; under CI (CI=true, as `.ci/run` sets) its absence fails them.

Building it takes about 20 s (the xz stream is read once): use the session fixture `kernel_tree`
from tests/conftest.py. Real patches from the corpus threads are applied at test time with
`git am -3`, each in a worktree of its own, so tests never disturb one another.
"""

from __future__ import annotations

import email.policy
import mailbox
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import corpus

REPO = Path(__file__).resolve().parent.parent
DEB_ENV = "LINUX_SOURCE_DEB"
CACHE = REPO / ".ci" / "cache"
TOP = "linux-source-6.1"
TARBALL = "./usr/src/linux-source-6.1.tar.xz"
# The parts of the tree the models and their headers need; kept small so the fixture stays fast.
SUBSET = ("arch/s390", "arch/powerpc", "arch/sparc", "arch/x86", "arch/arm64", "mm", "include", "kernel/rcu")
IDENT = ("-c", "user.name=Kernel Tree Fixture", "-c", "user.email=fixture@example.invalid")


def find_deb() -> Path | None:
    env = os.environ.get(DEB_ENV)
    if env:
        return Path(env) if Path(env).is_file() else None
    hits = sorted(CACHE.glob("linux-source-6.1_*_all.deb"))
    return hits[-1] if hits else None


def require_deb() -> Path:
    deb = find_deb()
    if deb is not None:
        return deb
    where = os.environ.get(DEB_ENV) or f"{CACHE}/linux-source-6.1_*_all.deb"
    msg = (f"Debian's linux-source-6.1 .deb is absent ({where}): `bash .ci/run` downloads it, or "
           f"set {DEB_ENV} to its path")
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *IDENT, "-C", str(repo), *args], capture_output=True, text=True,
                          check=check, timeout=300)


def build(deb: Path, dest: Path, extra: tuple[str, ...] = ()) -> Path:
    """Extract SUBSET (and `extra` paths, e.g. scripts/checkpatch.pl) of the tree from the .deb into
    dest/linux and commit it; returns the repo."""
    dest.mkdir(parents=True, exist_ok=True)
    members = [f"{TOP}/{p}" for p in SUBSET + tuple(extra)]
    # dpkg-deb's data tar holds the source tarball: stream one into the other, nothing large on disk.
    pipeline = (f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO '{TARBALL}' | "
                f"tar -xJ -C '{dest}' " + " ".join(f"'{m}'" for m in members))
    res = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], capture_output=True, text=True,
                         timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"extracting {deb}: {res.stderr.strip()[-500:]}")
    repo = dest / "linux"
    (dest / TOP).rename(repo)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "config", "gc.auto", "0")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{deb.name}: {', '.join(SUBSET)}")
    return repo


def series_patch(version: int, number: int) -> bytes:
    """Patch `number` of the pte-free-defer series revision `version` (not a "fix" follow-up), as
    the corpus thread has it."""
    want = re.compile(rf"^\[PATCH(?: v(\d+))? {number:02d}/\d+\]")
    for msg in mailbox.mbox(str(corpus.thread(version)), factory=None):
        subject = " ".join(str(msg.get("Subject", "")).split())
        m = want.match(subject)
        if m and int(m.group(1) or 1) == version:
            return msg.as_bytes(policy=email.policy.compat32)
    raise LookupError(f"no patch {number:02d} in the v{version} thread")


def patch_07(version: int) -> bytes:
    """The real 07 patch (s390) of the pte-free-defer series revision `version`."""
    return series_patch(version, 7)


@dataclass
class KernelTree:
    repo: Path  # the pristine tree, one commit
    work: Path  # where worktrees with applied patches go
    base: str = ""
    _applied: dict[str, Path] = field(default_factory=dict)

    def worktree(self, name: str, paths: tuple[str, ...] = ("arch/s390", "arch/powerpc")) -> Path:
        """A fresh worktree of the pristine tree, on a branch of its own. Only `paths` are checked
        out (reviews read the tree through git; the patches touch nothing else), which keeps each
        worktree a few hundred files instead of thirteen thousand."""
        path = self.work / name
        git(self.repo, "worktree", "add", "-q", "--no-checkout", "-b", name, str(path), self.base)
        git(path, "sparse-checkout", "set", "--no-cone", *(f"/{p}/" for p in paths))
        git(path, "checkout", "-q", name)
        return path

    def apply(self, name: str, patch: bytes, include: str = "arch/s390/*") -> Path:
        """A worktree named `name` with `patch` applied by `git am -3 --include=...` (cached by name)."""
        if name in self._applied:
            return self._applied[name]
        path = self.worktree(name)
        mbox = self.work / f"{name}.mbox"
        mbox.write_bytes(patch if patch.startswith(b"From ") else b"From fixture Mon Sep 17 00:00:00 2001\n" + patch)
        res = git(path, "am", "-3", "-q", f"--include={include}", str(mbox), check=False)
        if res.returncode != 0:
            git(path, "am", "--abort", check=False)
            raise RuntimeError(f"git am -3 of {name} failed: {(res.stdout + res.stderr).strip()[-800:]}")
        self._applied[name] = path
        return path

    def apply_07(self, version: int) -> Path:
        """The tree with the s390 hunks of the real v1/v2/v3 07 patch applied (HEAD~1..HEAD is it)."""
        return self.apply(f"v{version}-07", patch_07(version))


def kernel_tree_fixture(tmp_path_factory: pytest.TempPathFactory) -> KernelTree:
    deb = require_deb()
    top = tmp_path_factory.mktemp("kernel-tree")
    repo = build(deb, top)
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    work = top / "worktrees"
    work.mkdir()
    return KernelTree(repo, work, base)
