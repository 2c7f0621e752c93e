"""The printed "Reproduce with" commands, pasted into sh as printed, reproduce the finding they follow:
from a real public-inbox server (lore's interface), from a real git repository, and for a cost note."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.paths import models_dir
from tests.conftest import REPO, V1_PATCH_07, run_cli
from tests.pinbox import PublicInbox
from tests.test_tree import DEFER, git


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bin/ whose review-bot is this checkout's."""
    d = tmp_path_factory.mktemp("bin")
    (d / "review-bot").write_text(f'#!/bin/sh\nexec {sys.executable} -m bot "$@"\n')
    (d / "review-bot").chmod(0o755)
    return d


def paste(block: str, shim: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    return subprocess.run(["sh", "-c", block], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def blocks(text: str) -> list[str]:
    return [part.split("\n\n", 1)[0] for part in text.split("Reproduce with:\n")[1:]]


def test_lore_commands_reproduce_every_finding(pinbox: PublicInbox, shim: Path, tmp_path: Path) -> None:
    res = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base, "--format", "json")
    assert res.returncode == 1, res.stderr
    findings = json.loads(res.stdout)["reviews"][0]["findings"]
    assert findings
    text = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base).stdout
    mail = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base, "--format", "email").stdout
    assert blocks(text) == blocks(mail)  # from lore, the run's report and the reply print the same
    by_command: dict[str, set[str]] = {}
    for f in findings:
        assert f["replay"] == f["replay_public"] and f["replay"].startswith(f"review-bot explore {V1_PATCH_07} ")
        assert f"--lore-url {pinbox.base}" in f["replay"]  # not the default: named
        by_command.setdefault(f["replay"], set()).add(f["hazard"])
    printed = {" ".join(b.replace("\\\n", " ").split()) for b in blocks(text)}
    assert printed == set(by_command)
    for block in dict.fromkeys(blocks(text)):
        out = paste(block, shim, tmp_path)
        assert out.returncode in (0, 1), out.stderr
        command = " ".join(block.replace("\\\n", " ").split())
        for hz in by_command[command]:
            assert hz in out.stdout, (command, out.stdout)  # the hazard, or the cost it names, is shown


def test_cost_note_command_shows_the_cost(pinbox: PublicInbox, shim: Path, tmp_path: Path) -> None:
    res = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base, "--format", "json")
    cost = next(f for f in json.loads(res.stdout)["reviews"][0]["findings"] if f["class"] == "cost")
    out = paste(cost["replay"], shim, tmp_path)
    assert f"cost: {cost['hazard']} at {cost['file']}:{cost['line']}" in out.stdout, out.stdout


def test_git_command_runs_from_the_repository(shim: Path, tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    (repo / "arch/s390/mm").mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "dev@example.org")
    git(repo, "config", "user.name", "Dev")
    pgalloc = repo / "arch/s390/mm/pgalloc.c"
    pgalloc.write_text((models_dir() / "s390/pgalloc.c").read_text())
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    pgalloc.write_text(pgalloc.read_text() + DEFER)
    git(repo, "commit", "-qam", "s390: add pte_free_defer()")
    sha = git(repo, "rev-parse", "HEAD").strip()
    res = run_cli("check", "--git", "HEAD~1..HEAD", "--repo", str(repo), "--format", "json")
    assert res.returncode == 1, res.stderr
    (f, *_) = json.loads(res.stdout)["reviews"][0]["findings"]
    assert f["replay"] == f["replay_public"]
    assert f["replay"].startswith(f"review-bot explore --git '{sha}^..{sha}' --scenario ")
    assert "@git" not in f["replay"]
    out = paste(f["replay"], shim, repo)
    assert out.returncode == 1 and f["hazard"] in out.stdout, out.stdout + out.stderr


def test_stdin_and_mbox_sources(shim: Path, tmp_path: Path) -> None:
    patch = (REPO / "examples" / "rcu-head-shared.patch").read_bytes()
    stdin = run_cli("check", "--stdin", stdin=patch)
    assert stdin.returncode == 1 and "Reproduce with:" not in stdin.stdout
    assert "came on standard input" in stdin.stdout
    hostile = tmp_path / "a'$(touch canary) `touch canary`.patch"
    hostile.write_bytes(patch)
    text = run_cli("check", "--mbox", str(hostile), cwd=tmp_path).stdout
    (block, *_) = blocks(text)
    out = paste(block, shim, tmp_path)
    assert out.returncode == 1 and "RCU_HEAD_SHARED" in out.stdout, out.stderr
    assert not (tmp_path / "canary").exists()
    mail = run_cli("check", "--mbox", str(hostile), "--format", "email", cwd=tmp_path).stdout
    assert str(hostile) not in mail and "--mbox" not in mail


def test_hostile_message_id_and_path_replay_as_printed(shim: Path, tmp_path: Path) -> None:
    """A Message-ID and a file name full of shell syntax, a leading dash and unicode: the printed
    command, pasted into sh, runs the real bot on that file and that posting and nothing else."""
    msgid = "x'$(touch${IFS}canary)'`touch canary`;|&é@evil.example"
    patch = (REPO / "examples" / "rcu-head-shared.patch").read_text().replace(
        "<example-rcu-head-shared-1@example.org>", f"<{msgid}>")
    name = "-a'$(touch canary)' \"`touch canary`\" é.patch"
    (tmp_path / name).write_text(patch)
    text = run_cli("check", f"--mbox={name}", cwd=tmp_path).stdout
    (block, *_) = blocks(text)
    out = paste(block, shim, tmp_path)  # --msgid selects the posting: a mangled id would find none
    assert out.returncode == 1 and "RCU_HEAD_SHARED" in out.stdout, out.stdout + out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no canary, nothing else written
    (tmp_path / "a\nb.patch").write_text(patch)  # no shell line can carry a line break
    text = run_cli("check", "--mbox", "a\nb.patch", cwd=tmp_path).stdout
    assert blocks(text) == [] and "no command is printed: the mbox path holds U+000A" in " ".join(text.split())
