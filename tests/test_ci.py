"""`check --git` as a CI step: reads only git objects (no checkout, nothing from the tree runs), one
review per commit with findings at the commit's file:line, text and SARIF from one run, and SARIF
fingerprints that survive a rebase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import ci_repo
from tests.conftest import run_cli


def git(repo: Path, *args: str) -> str:
    return ci_repo.git(repo, *args).stdout


def make_repo(path: Path, preamble: int = 0) -> Path:
    repo = ci_repo.base_repo(path, preamble)
    ci_repo.commit_hazard(repo)
    return repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("ci") / "linux")


def _sarif_results(sarif: dict) -> list[dict]:
    return sarif["runs"][0]["results"]


def test_text_and_sarif_from_one_run(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "review.sarif"
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(repo), "--sarif", str(out))
    assert res.returncode == 1, res.stderr
    assert "RCU_HEAD_SHARED" in res.stdout and res.stdout.splitlines()[0].startswith("review-bot: ")
    sarif = json.loads(out.read_text())
    alone = json.loads(run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(repo), "--format", "sarif").stdout)
    assert sarif == alone  # the same report, not a second review of another kind
    assert {r["ruleId"] for r in _sarif_results(sarif)} >= {"RCU_HEAD_SHARED"}


def test_finding_at_the_commits_file_and_line(repo: Path) -> None:
    data = json.loads(run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(repo), "--format", "json").stdout)
    (review,) = data["reviews"]
    assert review["judged"] and review["base"].startswith(f"the kernel tree {repo} at ")
    text = (repo / "arch/s390/mm/pgalloc.c").read_text().splitlines()
    f = next(f for f in review["findings"] if f["hazard"] == "RCU_HEAD_SHARED")
    assert f["file"] == "arch/s390/mm/pgalloc.c"
    assert "call_rcu(&page->rcu_head" in text[f["line"] - 1], (f["line"], text[f["line"] - 1])


def test_fingerprints_survive_a_rebase(repo: Path, tmp_path: Path) -> None:
    """The same commit rebased onto a base whose file is 40 lines longer: new sha, new line numbers, the
    same partialFingerprints, so a code-scanning UI does not raise the findings again."""
    other = make_repo(tmp_path / "other", preamble=40)
    git(other, "fetch", "-q", str(repo), "master:upstream")
    git(other, "checkout", "-q", "-b", "rebased", "master~1")
    patch = git(repo, "format-patch", "-1", "--stdout", "HEAD")
    ci_repo.git(other, "am", "-q", "-3", stdin=patch)

    def prints(r: Path) -> dict[str, tuple[str, int]]:
        sarif = json.loads(run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(r), "--format", "sarif").stdout)
        return {res["partialFingerprints"]["reviewBotFinding/v2"]:
                (res["ruleId"], res["locations"][0]["physicalLocation"]["region"]["startLine"])
                for res in _sarif_results(sarif)}

    before, after = prints(repo), prints(other)
    assert before and set(before) == set(after)
    assert all(after[k][1] == before[k][1] + 40 for k in before), (before, after)
    assert git(repo, "rev-parse", "HEAD") != git(other, "rev-parse", "HEAD")


def test_reads_git_objects_only_and_runs_nothing_from_the_tree(tmp_path: Path) -> None:
    """A repository whose config, attributes and hooks would run a program, with a work tree that
    disagrees with HEAD: the review reads the commits from git objects, runs none of it, and leaves the
    work tree as it was."""
    repo = make_repo(tmp_path / "linux")
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat\n")
    evil.chmod(0o755)
    for key in ("core.fsmonitor", "diff.external", "core.pager", "diff.evil.textconv", "filter.evil.clean",
                "filter.evil.smudge", "core.sshCommand", "gpg.program", "core.hooksPath"):
        git(repo, "config", key, str(evil) if key != "core.hooksPath" else str(tmp_path / "hooks"))
    (tmp_path / "hooks").mkdir()
    for hook in ("post-checkout", "pre-commit", "post-rewrite", "reference-transaction", "post-index-change"):
        (tmp_path / "hooks" / hook).write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        (tmp_path / "hooks" / hook).chmod(0o755)
    (repo / ".git/info/attributes").write_text("* diff=evil filter=evil\n")
    (repo / "arch/s390/mm/pgalloc.c").write_text("/* a work tree edit that is not committed */\n")
    stamp = (repo / "arch/s390/mm/pgalloc.c").stat().st_mtime_ns
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(repo), "--format", "json")
    assert res.returncode == 1, res.stderr
    (review,) = json.loads(res.stdout)["reviews"]
    assert "RCU_HEAD_SHARED" in {f["hazard"] for f in review["findings"]}  # from the commits, not the edit
    assert not marker.exists(), marker.read_text()
    assert (repo / "arch/s390/mm/pgalloc.c").stat().st_mtime_ns == stamp
    assert (repo / "arch/s390/mm/pgalloc.c").read_text().startswith("/* a work tree edit")


def test_bare_repository(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "linux.git"
    ci_repo.git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(bare), "--format", "json")
    assert res.returncode == 1, res.stderr
    (review,) = json.loads(res.stdout)["reviews"]
    assert review["base"].startswith(f"the kernel tree {bare} at ")
    assert "RCU_HEAD_SHARED" in {f["hazard"] for f in review["findings"]}
