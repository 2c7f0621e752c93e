"""`check --git RANGE --repo DIR` against a real git repository made in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.gitsrc import GitSourceError, commit_msgid, format_patch
from tests.conftest import need_modules, run_cli

BASE_C = """\
#include <linux/mm.h>

struct frag {
\tstruct page *page;
\tunsigned int mask;
};

static void frag_free_now(struct page *page)
{
\t__free_page(page);
}

void frag_free(struct frag *f)
{
\tfrag_free_now(f->page);
}
"""

FIRST_PATCH = BASE_C.replace(
    "void frag_free(struct frag *f)\n{\n\tfrag_free_now(f->page);\n}\n",
    "static void frag_free_rcu(struct rcu_head *head)\n{\n"
    "\tstruct page *page = container_of(head, struct page, rcu_head);\n\n\tfrag_free_now(page);\n}\n\n"
    "void frag_free(struct frag *f)\n{\n\tcall_rcu(&f->page->rcu_head, frag_free_rcu);\n}\n",
)

SECOND_PATCH = FIRST_PATCH.replace(
    "\tcall_rcu(&f->page->rcu_head, frag_free_rcu);\n",
    "\tspin_lock_bh(&f->page->ptl);\n\tf->mask &= ~1U;\n\tspin_unlock_bh(&f->page->ptl);\n"
    "\tcall_rcu(&f->page->rcu_head, frag_free_rcu);\n",
)


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "A U Thor",
        "GIT_AUTHOR_EMAIL": "author@example.org",
        "GIT_COMMITTER_NAME": "A U Thor",
        "GIT_COMMITTER_EMAIL": "author@example.org",
        "GIT_AUTHOR_DATE": "1700000000 +0000",
        "GIT_COMMITTER_DATE": "1700000000 +0000",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "linux"
    (r / "mm").mkdir(parents=True)
    _git(r, "init", "-q", "-b", "master")
    for text, msg in (
        (BASE_C, "mm: add frag allocator"),
        (FIRST_PATCH, "mm/frag: free fragments by RCU"),
        (SECOND_PATCH, "mm/frag: clear the mask under the ptl"),
    ):
        (r / "mm" / "frag.c").write_text(text)
        _git(r, "add", "mm/frag.c")
        _git(r, "commit", "-q", "-m", f"{msg}\n\nSigned-off-by: A U Thor <author@example.org>")
    return r


def test_format_patch_one_message_per_commit(repo: Path) -> None:
    mbox, shas, workdir = format_patch("HEAD~2..HEAD", str(repo))
    assert len(shas) == 2 and workdir == str(repo)
    text = mbox.decode()
    for n, sha in enumerate(shas, 1):
        assert f"Message-ID: <{commit_msgid(sha)}>" in text
        assert f"[PATCH {n}/2]" in text
    assert text.count("diff --git a/mm/frag.c b/mm/frag.c") == 2
    assert format_patch("HEAD~2", str(repo))[1] == shas  # REV alone means REV..HEAD, like format-patch


def test_empty_range(repo: Path) -> None:
    assert format_patch("HEAD..HEAD", str(repo))[1] == []


@pytest.mark.parametrize("rng", ["no-such-ref..HEAD", "--output=x"])
def test_bad_range(repo: Path, rng: str) -> None:
    with pytest.raises(GitSourceError):
        format_patch(rng, str(repo))


def test_not_a_repo(tmp_path: Path) -> None:
    with pytest.raises(GitSourceError, match="not a git repository"):
        format_patch("HEAD~1..HEAD", str(tmp_path))


def test_cli_git_bad_range_is_exit_2(repo: Path) -> None:
    res = run_cli("check", "--git", "no-such-ref..HEAD", "--repo", str(repo))
    assert res.returncode == 2, res.stderr
    assert len(res.stderr_lines) == 1 and "Traceback" not in res.stderr
    assert res.stderr_lines[0] == "review-bot: error: git: bad revision 'no-such-ref..HEAD'"  # git's words


def test_cli_git_one_review_per_commit(repo: Path) -> None:
    need_modules("bot.mail", "bot.judge")
    shas = _git(repo, "rev-list", "--reverse", "HEAD~2..HEAD").split()
    res = run_cli("check", "--git", "HEAD~2..HEAD", "--repo", str(repo), "--format", "json")
    assert res.returncode in (0, 1), res.stderr
    data = json.loads(res.stdout)
    assert data["tool"] == "review-bot"
    assert [r["msgid"] for r in data["reviews"]] == [commit_msgid(s) for s in shas]
    assert [r["subject"].split("] ", 1)[-1] for r in data["reviews"]] == [
        "mm/frag: free fragments by RCU",
        "mm/frag: clear the mask under the ptl",
    ]
    correctness = any(f["class"] == "correctness" for r in data["reviews"] for f in r["findings"])
    assert res.returncode == (1 if correctness else 0)


def test_cli_git_from_inside_repo(repo: Path) -> None:
    need_modules("bot.mail", "bot.judge")
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--format", "json", cwd=repo / "mm")
    assert res.returncode in (0, 1), res.stderr
    assert len(json.loads(res.stdout)["reviews"]) == 1


def test_a_range_larger_than_a_review_reads_is_refused(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import gitsrc

    monkeypatch.setattr(gitsrc, "MAX_RANGE_BYTES", 4096)  # the same rule on a small range
    (repo / "mm" / "big.c").write_text("".join(f"int filler_{i};\n" for i in range(2000)))
    _git(repo, "add", "mm/big.c")
    _git(repo, "commit", "-q", "-m", "mm: a big file")
    with pytest.raises(GitSourceError, match="exceed 0 MiB: review a shorter range"):
        format_patch("HEAD~1..HEAD", str(repo))
    mbox, shas, _ = format_patch("HEAD~2..HEAD~1", str(repo))  # a range under the cap still reads
    assert len(shas) == 1 and mbox.count(b"\nMessage-ID: <") == 1
