"""The real b4 running review-bot as its per-patch check: `b4 prep --check` on a prep branch of a test
repository, and `b4 am -k` on a thread served by the local public-inbox-httpd."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import corpus
from tests.conftest import REPO, run_cli
from tests.patch_tree import git, tree_for
from tests.pinbox import PublicInbox

V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
V3_06 = "dc4f318d-a66a-5622-dc44-9018ea814b37@google.com"  # sparc: judged, no hazard
V3_07 = "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com"
V3_07_FIX = "3bc095ba-a180-ce3b-82b1-2bfc64612f3@google.com"  # relevant, alone its hunk places on no modeled code
CHECK = "review-bot check --stdin --format checkpatch"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def b4env(tmp_path: Path) -> dict[str, str]:
    """HOME, caches and git config in tmp_path; `review-bot` on PATH running this checkout."""
    pytest.importorskip("b4")
    home = tmp_path / "home"
    bindir = tmp_path / "bin"
    for d in (home, bindir):
        d.mkdir()
    wrapper = bindir / "review-bot"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot "$@"\n')
    wrapper.chmod(0o755)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = A Developer\n\temail = dev@example.org\n"
                         "[b4]\n\tattestation-policy = off\n")
    return {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(gitconfig),
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def b4(env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run b4; its report goes to stderr (logging) and stdout: both, without colours."""
    res = subprocess.run([sys.executable, "-m", "b4.command", *args], cwd=cwd, env=env, capture_output=True,
                         timeout=600)
    out = _ANSI.sub("", res.stdout.decode(errors="replace") + res.stderr.decode(errors="replace"))
    assert res.returncode == 0, out[-3000:]
    return out


def _prep_check(env: dict[str, str], repo: Path) -> str:
    git(repo, "config", "b4.prep-perpatch-check-cmd", CHECK, env=env)
    b4(env, repo, "prep", "--enroll", "master~1")
    return b4(env, repo, "prep", "--check")


def _patch_lines(out: str) -> list[str]:
    return [ln.strip() for ln in out.splitlines() if "review-bot:" in ln]


def test_prep_check_shows_the_finding_as_an_error(b4env: dict[str, str], tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    tree_for(repo, corpus.message(1, V1_07))
    out = _prep_check(b4env, repo)
    lines = _patch_lines(out)
    assert any("review-bot: ERROR: RCU_HEAD_SHARED:" in ln for ln in lines), out
    assert re.search(r"Error: [1-9]", out), out


def test_prep_check_passes_a_clean_commit(b4env: dict[str, str], tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    tree_for(repo, corpus.message(3, V3_06))
    out = _prep_check(b4env, repo)
    assert "Success: 1, Warning: 0, Error: 0" in out, out
    # it passes because it was judged, not because it was out of scope
    (review,) = json.loads(run_cli("check", "--stdin", "--format", "json", stdin=corpus.message(3, V3_06)).stdout
                           )["reviews"]
    assert review["relevant"] and review["judged"] and not review["findings"], review


def test_prep_check_v3_07_has_no_error(b4env: dict[str, str], tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    tree_for(repo, corpus.message(3, V3_07))
    out = _prep_check(b4env, repo)
    assert "ERROR:" not in out and "Error: 0" in out, out
    assert not [ln for ln in _patch_lines(out) if "NOT_JUDGED" in ln], out


def test_prep_check_never_passes_a_patch_it_did_not_judge(b4env: dict[str, str], tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    tree_for(repo, corpus.message(3, V3_07_FIX))
    out = _prep_check(b4env, repo)
    assert "passed all checks" not in out, out
    assert any("review-bot: WARNING: NOT_JUDGED: review-bot not judged: " in ln for ln in _patch_lines(out)), out


def test_am_check_on_the_local_inbox(b4env: dict[str, str], pinbox: PublicInbox, tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    tree_for(repo, corpus.message(1, V1_07))
    git(repo, "config", "b4.am-perpatch-check-cmd", CHECK, env=b4env)
    git(repo, "config", "b4.midmask", f"{pinbox.base}/%s", env=b4env)
    git(repo, "config", "b4.linkmask", f"{pinbox.base}/%s", env=b4env)
    outdir = tmp_path / "am"
    outdir.mkdir()
    out = b4(b4env, repo, "am", "-k", "-C", "-o", str(outdir), "-P", "_", V1_07)
    assert any("review-bot: ERROR: RCU_HEAD_SHARED:" in ln for ln in _patch_lines(out)), out
    assert list(outdir.glob("*.mbx")), out


def test_b4_config_snippet_of_deploy(b4env: dict[str, str], tmp_path: Path) -> None:
    """deploy/b4-config as the tree's .b4-config, with no check command in git config."""
    repo = tmp_path / "linux"
    tree_for(repo, corpus.message(1, V1_07))
    (repo / ".b4-config").write_text((REPO / "deploy" / "b4-config").read_text())
    b4(b4env, repo, "prep", "--enroll", "master~1")
    out = b4(b4env, repo, "prep", "--check")
    assert any("review-bot: ERROR: RCU_HEAD_SHARED:" in ln for ln in _patch_lines(out)), out


def test_review_check_protocol_through_b4(b4env: dict[str, str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """b4's own runner of review-perpatch-check-cmd parses --format b4-review (deploy/b4.gitconfig)."""
    import email
    import email.policy

    from b4.review import checks

    cmd = next(ln.split("=", 1)[1].strip() for ln in (REPO / "deploy" / "b4.gitconfig").read_text().splitlines()
               if ln.strip().startswith("review-perpatch-check-cmd"))
    for key in ("PATH", "PYTHONPATH"):
        monkeypatch.setenv(key, b4env[key])
    results = {}
    for name, raw in (("v1", corpus.message(1, V1_07)), ("v3-06", corpus.message(3, V3_06)),
                      ("v3-07-fix", corpus.message(3, V3_07_FIX))):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        (results[name],) = checks.run_perpatch_checks([(name, msg)], [cmd], str(tmp_path))[name]
    assert {k: r["status"] for k, r in results.items()} == {"v1": "fail", "v3-06": "pass", "v3-07-fix": "warn"}
    assert all(r["tool"] == "review-bot" for r in results.values())
    assert results["v1"]["summary"].startswith("judged: ") and "RCU_HEAD_SHARED" in results["v1"]["summary"]
    assert results["v3-07-fix"]["summary"].startswith("not judged: ")
    details = json.loads(results["v1"]["details"])
    assert any(d["status"] == "fail" and d["description"].startswith("ERROR: RCU_HEAD_SHARED:") for d in details)
