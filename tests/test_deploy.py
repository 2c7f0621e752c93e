"""deploy/: the CI script, the git pre-push hook, the GitHub Actions workflow and the GitLab CI job,
each run on a test repository with review-bot (this checkout) on PATH; the .b4-config snippet through
the real b4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import ci_repo
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
ZERO = "0" * 40


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "review-bot"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot "$@"\n')
    wrapper.chmod(0o755)
    return {**os.environ, **ci_repo.IDENT, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def sh(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600)


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, str, str, str]:
    """A repository: base, a clean commit, then a commit with a hazard (shas returned)."""
    repo = ci_repo.base_repo(tmp_path / "linux")
    base = ci_repo.out(repo, "rev-parse", "HEAD")
    clean = ci_repo.commit_clean(repo)
    hazard = ci_repo.commit_hazard(repo)
    return repo, base, clean, hazard


def _sarif_rules(path: Path) -> set[str]:
    return {r["ruleId"] for r in json.loads(path.read_text())["runs"][0]["results"]}


# -- deploy/ci-check.sh ------------------------------------------------------------------------------

def test_ci_check_script(repos: tuple[Path, str, str, str], env: dict[str, str]) -> None:
    repo, base, clean, hazard = repos
    res = sh([str(DEPLOY / "ci-check.sh"), f"{base}..{clean}"], repo, env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Verdict: judged, no hazard found" in res.stdout
    res = sh([str(DEPLOY / "ci-check.sh"), f"{base}..{hazard}"], repo, env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "RCU_HEAD_SHARED" in res.stdout and "RCU_HEAD_SHARED" in _sarif_rules(repo / "review-bot.sarif")


# -- deploy/hooks/pre-push ---------------------------------------------------------------------------

def test_pre_push_hook_refuses_a_hazard_and_lets_a_clean_push_through(tmp_path: Path, env: dict[str, str]) -> None:
    remote = tmp_path / "remote.git"
    work = ci_repo.base_repo(tmp_path / "work")
    ci_repo.git(tmp_path, "init", "-q", "--bare", str(remote))
    ci_repo.git(work, "remote", "add", "origin", str(remote))
    ci_repo.git(work, "push", "-q", "origin", "master")
    ci_repo.git(work, "config", "core.hooksPath", str(DEPLOY / "hooks"))

    ci_repo.commit_clean(work)
    ok = sh(["git", "push", "origin", "master"], work, env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Verdict: judged, no hazard found" in ok.stdout + ok.stderr
    assert ci_repo.out(remote, "rev-parse", "master") == ci_repo.out(work, "rev-parse", "HEAD")

    pushed = ci_repo.out(remote, "rev-parse", "master")
    ci_repo.commit_hazard(work)
    refused = sh(["git", "push", "origin", "master"], work, env)
    assert refused.returncode != 0
    assert "RCU_HEAD_SHARED" in refused.stdout + refused.stderr and "push refused" in refused.stderr
    assert ci_repo.out(remote, "rev-parse", "master") == pushed  # the remote did not move

    # a new branch: only the commits the remote does not have are reviewed
    ci_repo.git(work, "checkout", "-q", "-b", "topic", "master~1")
    (work / "README").write_text("notes\n")
    ci_repo.git(work, "add", "README")
    ci_repo.git(work, "commit", "-q", "-m", "docs: a README")
    new = sh(["git", "push", "origin", "topic"], work, env)
    assert new.returncode == 0, new.stdout + new.stderr
    assert "1 patch reviewed" in new.stdout + new.stderr


def test_pre_push_hook_protocol_directly(repos: tuple[Path, str, str, str], env: dict[str, str]) -> None:
    repo, base, clean, hazard = repos
    hook = str(DEPLOY / "hooks" / "pre-push")
    line = f"refs/heads/master {hazard} refs/heads/master {base}\n"
    assert sh([hook, "origin", "url"], repo, env, stdin=line).returncode == 1
    deleted = f"(delete) {ZERO} refs/heads/old {hazard}\n"
    assert sh([hook, "origin", "url"], repo, env, stdin=deleted).returncode == 0


# -- deploy/github/review-bot.yml ---------------------------------------------------------------------

def _github_step(step_id: str) -> dict:
    wf = yaml.safe_load((DEPLOY / "github" / "review-bot.yml").read_text())
    (job,) = wf["jobs"].values()
    return next(s for s in job["steps"] if s.get("id") == step_id)


@pytest.mark.parametrize("event", ["push", "new-branch"])
def test_github_workflow_review_step(repos: tuple[Path, str, str, str], env: dict[str, str], event: str) -> None:
    """The workflow's own review step, run the way the runner runs it (bash -eo pipefail), with the
    values its ${{ }} expressions give for a push; then the file its upload step sends exists."""
    repo, base, clean, hazard = repos
    wf = yaml.safe_load((DEPLOY / "github" / "review-bot.yml").read_text())
    assert {"push", "pull_request"} <= set(wf[True] if True in wf else wf["on"])  # YAML reads `on:` as True
    step = _github_step("review")
    script = repo / "review-step.sh"
    script.write_text(step["run"])
    before = base if event == "push" else ZERO
    res = sh(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], repo,
             {**env, "BASE": before, "HEAD": hazard, "REVIEW_BOT_STRICT": ""})
    assert res.returncode == 1, res.stdout + res.stderr
    upload = next(s for s in yaml.safe_load((DEPLOY / "github" / "review-bot.yml").read_text())["jobs"]["review"]
                  ["steps"] if "upload-sarif" in s.get("uses", ""))
    sarif = repo / upload["with"]["sarif_file"]
    assert "RCU_HEAD_SHARED" in _sarif_rules(sarif)
    res = sh(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], repo,
             {**env, "BASE": base, "HEAD": clean, "REVIEW_BOT_STRICT": "1"})
    assert res.returncode == 0, res.stdout + res.stderr


# -- deploy/gitlab/review-bot.gitlab-ci.yml -----------------------------------------------------------

def test_gitlab_job_script(repos: tuple[Path, str, str, str], env: dict[str, str]) -> None:
    """The job's script lines (without its pip install) in one POSIX shell that stops at the first
    failure, as the runner does, with the variables GitLab sets for a push."""
    repo, base, clean, hazard = repos
    (job,) = yaml.safe_load((DEPLOY / "gitlab" / "review-bot.gitlab-ci.yml").read_text()).values()
    lines = [ln for ln in job["script"] if "pip install" not in ln]
    script = repo / "job.sh"
    script.write_text("set -e\n" + "\n".join(lines) + "\n")
    for sha, before, want in ((hazard, clean, 1), (clean, base, 0), (hazard, ZERO, 1)):
        res = sh(["sh", str(script)], repo, {**env, "CI_COMMIT_SHA": sha, "CI_COMMIT_BEFORE_SHA": before})
        assert res.returncode == want, res.stdout + res.stderr
        assert (repo / job["artifacts"]["paths"][0]).exists()
    assert "RCU_HEAD_SHARED" in _sarif_rules(repo / "review-bot.sarif")
