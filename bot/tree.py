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


class TreeReader:
    """Files of a tree at one revision, read through one `git cat-file --batch` process.

    The preprocessor asks for hundreds of headers, most of which do not exist under the first
    include directory it tries: the revision's file list is read once so that those cost nothing."""

    def __init__(self, tree: str, rev: str) -> None:
        self.tree = tree
        self.rev = rev
        self.commit = _git_out(tree, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
        self._paths: set[str] | None = None
        self._texts: dict[str, str | None] = {}
        self._proc: subprocess.Popen | None = None

    @property
    def ok(self) -> bool:
        return bool(self.commit)

    def _listing(self) -> set[str]:
        if self._paths is None:
            out = _git_out(self.tree, "ls-tree", "-r", "--name-only", "-z", self.commit) if self.commit else ""
            self._paths = set(out.split("\0")) - {""}
        return self._paths

    def exists(self, path: str) -> bool:
        return path in self._listing()

    def __call__(self, path: str) -> str | None:
        if path in self._texts:
            return self._texts[path]
        text = self._cat(path) if self.exists(path) else None
        self._texts[path] = text
        return text

    def prefetch(self, paths: list[str]) -> None:
        """Read several files in one round trip (the preprocessor knows a header's includes ahead)."""
        want = [p for p in dict.fromkeys(paths) if p not in self._texts and self.exists(p)]
        if not want:
            return
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write("".join(f"{self.commit}:{p}\n" for p in want).encode())
            proc.stdin.flush()
            for p in want:
                self._texts[p] = self._response(proc)
        except (OSError, ValueError):
            self.close()

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(["git", "-C", self.tree, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._proc

    @staticmethod
    def _response(proc: subprocess.Popen) -> str | None:
        assert proc.stdout is not None
        header = proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        data = proc.stdout.read(size + 1)[:size]
        return data.decode("utf-8", "replace") if size <= MAX_FILE_BYTES else None

    def _cat(self, path: str) -> str | None:
        proc = self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(f"{self.commit}:{path}\n".encode())
            proc.stdin.flush()
            return self._response(proc)
        except (OSError, ValueError):
            self.close()
            return None

    def close(self) -> None:
        if self._proc is not None:
            try:
                self._proc.kill()
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._proc = None

    def __del__(self) -> None:
        self.close()


MAX_FILE_BYTES = 4_000_000
_READERS: dict[tuple[str, str], TreeReader] = {}


def tree_reader(tree: str, rev: str) -> TreeReader:
    """One reader per (tree, revision) and process: a series reads the same headers for every patch."""
    key = (tree, rev)
    hit = _READERS.get(key)
    if hit is None:
        if len(_READERS) > 8:
            for r in _READERS.values():
                r.close()
            _READERS.clear()
        hit = _READERS[key] = TreeReader(tree, rev)
    return hit


def _git_out(tree: str, *args: str) -> str:
    res = _git(tree, *args)
    return res.stdout.decode("utf-8", "replace") if res is not None and res.returncode == 0 else ""
