"""`check --git RANGE --repo DIR`: the commits of a range as patch postings (the CI hook).

Each commit becomes one message of `git format-patch --stdout RANGE`, given a stable Message-ID
`<sha>@git` so reports name the commit, and is then parsed by bot.mail like any posting.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SEPARATOR = re.compile(rb"^From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001$", re.M)


class GitSourceError(Exception):
    """The repository or the range cannot be read."""


@dataclass
class GitLoad:
    messages: int
    postings: list[Any]
    skipped: list[dict[str, str]] = field(default_factory=list)
    workdir: str | None = None  # the repository (its work tree, or the git dir when bare): the kernel tree
    commits: list[str] = field(default_factory=list)


def commit_msgid(sha: str) -> str:
    return f"{sha}@git"


def _repo(path: str) -> Any:
    import git  # gitpython

    try:
        return git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise GitSourceError(f"no such directory: {path}") from None
    except git.InvalidGitRepositoryError:
        raise GitSourceError(f"not a git repository: {path}") from None


def format_patch(range_: str, repo_dir: str = ".", parents: dict[str, str] | None = None
                 ) -> tuple[bytes, list[str], str | None]:
    """(mbox bytes, commit shas oldest first, repository) for RANGE, one message per non-merge commit;
    `parents` (when given) receives each commit's first parent."""
    parents = {} if parents is None else parents
    import git

    if not range_ or range_.startswith("-"):
        raise GitSourceError(f"bad revision range {range_!r}")
    if ".." not in range_:  # format-patch semantics: REV alone means REV..HEAD
        range_ = f"{range_}..HEAD"
    repo = _repo(repo_dir)
    try:
        rows = [ln.split() for ln in repo.git.rev_list("--reverse", "--no-merges", "--parents", range_, "--")
                .splitlines()]
        shas = [r[0] for r in rows if r]
        parents.update({r[0]: r[1] for r in rows if len(r) > 1})
        if not shas:
            return b"", [], repo.working_tree_dir or repo.git_dir
        # from git objects only: no external diff or textconv program of the repository runs
        proc = repo.git.format_patch(
            "--stdout", "--no-color", "--no-signature", "--no-ext-diff", "--no-textconv", range_, "--",
            as_process=True,
        )
        out = _capped(proc, range_)
    except git.GitCommandError as e:
        raise GitSourceError(f"git: {_git_message(e.stderr or '') or e}") from None
    return add_message_ids(out), shas, repo.working_tree_dir or repo.git_dir


def _git_message(stderr: str) -> str:
    """git's own complaint from GitPython's `stderr: '...'` wrapping, without "fatal: "."""
    text = re.sub(r"^\s*stderr: '(.*)'\s*$", r"\1", stderr.strip(), flags=re.S).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return re.sub(r"^(fatal|error): ", "", lines[0]) if lines else ""


MAX_RANGE_BYTES = 128 * 1024 * 1024  # patches of one range read: a CI range is far smaller


def _capped(proc: Any, range_: str) -> bytes:
    """The output of a running git command, read up to MAX_RANGE_BYTES (past that it is stopped)."""
    chunks, size = [], 0
    try:
        while chunk := proc.stdout.read(1 << 20):
            size += len(chunk)
            if size > MAX_RANGE_BYTES:
                raise GitSourceError(f"the patches of {range_} exceed {MAX_RANGE_BYTES >> 20} MiB: "
                                     "review a shorter range")
            chunks.append(chunk)
        proc.wait()  # raises GitCommandError on a failing git
    finally:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait()
    return b"".join(chunks)


def add_message_ids(mbox: bytes) -> bytes:
    """Give each format-patch message a Message-ID header derived from its commit sha."""
    return _SEPARATOR.sub(
        lambda m: m.group(0) + b"\nMessage-ID: <" + commit_msgid(m.group(1).decode()).encode() + b">", mbox
    )


def load_range(range_: str, repo_dir: str = ".") -> GitLoad:
    """Parse the commits of RANGE into postings with bot.mail."""
    parents: dict[str, str] = {}
    mbox, shas, workdir = format_patch(range_, repo_dir, parents)
    if not shas:
        return GitLoad(messages=0, postings=[], workdir=workdir)
    from bot import mail

    with tempfile.TemporaryDirectory(prefix="review-bot-git-") as tmp:
        path = Path(tmp) / "range.mbox"
        path.write_bytes(mbox)
        result = mail.load(str(path))
    messages = result.messages
    count = messages if isinstance(messages, int) else len(messages)
    by_msgid = {commit_msgid(sha): sha for sha in shas}
    for p in result.postings:
        p.commit = by_msgid.get(p.msgid)  # the review reads the tree at this commit's parent
        p.parent = parents.get(p.commit or "")
    return GitLoad(
        messages=count,
        postings=list(result.postings),
        skipped=list(result.skipped),
        workdir=workdir,
        commits=shas,
    )
