"""Every command of the README runs as written from the installed wheel, outside the checkout.

The wheel is installed with pip into a fresh venv in a temporary directory (its dependencies come
from the test environment's site-packages through a .pth line, so nothing is downloaded); the
commands run with that venv's bin/ first on PATH, HOME in a temporary directory and ~/linux a real
git repository holding the bundled example patch as its last commit. The only change to a command:
lore (https://lore.kernel.org/...) and the README's example local server are the real
public-inbox-httpd of tests/pinbox.py, so a command that names lore, or fetches from lore by
default, fetches from that server instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.pinbox import PublicInbox

README = REPO / "README.md"
SETUP = "python3 -m venv .venv && .venv/bin/pip install -q . && "
USER_SECTIONS = ("## Usage",)  # what a user of the package runs; Tests/Benchmarks are for a clone


@dataclass
class Sandbox:
    venv: Path
    home: Path
    env: dict[str, str]


def readme_commands(text: str) -> list[str]:
    """The commands of the ```sh blocks of the user sections, comments dropped, continuations joined."""
    out = []
    for section in re.split(r"(?m)^(?=## )", text):
        if not section.startswith(USER_SECTIONS):
            continue
        for block in re.findall(r"```sh\n(.*?)```", section, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                cmd = re.sub(r"\s{2,}#.*$", "", line).strip()
                if cmd and not cmd.startswith("#"):
                    out.append(cmd)
    return out


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def sandbox(wheel_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    root = tmp_path_factory.mktemp("readme")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel_file)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "review-bot-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home = root / "home"
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.org",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.org"}
    where = subprocess.run([str(venv / "bin" / "review-bot"), "--version"], capture_output=True, text=True,
                           env=env, cwd=home, check=True)
    assert where.stdout.startswith("review-bot ")
    imported = subprocess.run([str(py), "-c", "import bot; print(bot.__file__)"], capture_output=True,
                              text=True, env=env, cwd=home, check=True).stdout
    assert imported.startswith(str(venv)), imported  # the wheel's copy, not the checkout
    _kernel_repo(home / "linux", env)
    return Sandbox(venv, home, env)


def _kernel_repo(repo: Path, env: dict[str, str]) -> None:
    """A git tree whose last commit is the bundled example patch, on top of origin/master."""
    frag = repo / "arch" / "powerpc" / "mm" / "pgtable-frag.c"
    frag.parent.mkdir(parents=True)
    head = [f"/* line {n} of a stand-in file */" for n in range(1, 81)]
    frag.write_text("\n".join([*head, "\t\t__free_page(page);", "\t}", "}"]) + "\n")
    _git(repo, "init", "-q", env=env)
    _git(repo, "add", ".", env=env)
    _git(repo, "commit", "-q", "-m", "base", env=env)
    _git(repo, "update-ref", "refs/remotes/origin/master", "HEAD", env=env)
    _git(repo, "am", "-q", str(REPO / "examples" / "rcu-head-shared.patch"), env=env)


def _localize(cmd: str, base: str) -> str:
    cmd = re.sub(r"https://lore\.kernel\.org/[\w.-]+", base, cmd)
    cmd = cmd.replace("http://127.0.0.1:8080/linux-s390", base)
    if "--lore-url" not in cmd and re.search(r"review-bot (check|explore) [^-\s]\S*@", cmd):
        cmd += f" --lore-url {base}"  # a bare Message-ID is fetched from lore by default
    return cmd


def test_readme_has_user_commands() -> None:
    cmds = readme_commands(README.read_text())
    for verb in ("check", "scan", "explore"):
        assert any(f"review-bot {verb}" in c for c in cmds), verb
    assert not any("../shared" in c or "<msgid>" in c or "[--" in c for c in cmds), cmds


def test_setup_command_reviews_the_bundled_example(sandbox: Sandbox, tmp_path: Path) -> None:
    block = re.search(r"```sh\n(python3 -m venv .*?)\n```", README.read_text()).group(1)
    assert block.startswith(SETUP)
    clone = tmp_path / "clone"  # what the README's "from the repo root" has: examples/
    shutil.copytree(REPO / "examples", clone / "examples")
    (clone / ".venv").symlink_to(sandbox.venv)  # the fixture did the venv + pip install part
    res = subprocess.run(["bash", "-c", block.removeprefix(SETUP)], capture_output=True, text=True,
                         cwd=clone, env=sandbox.env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "RCU_HEAD_SHARED" in res.stdout


def test_every_readme_command_runs_from_the_installed_wheel(sandbox: Sandbox, pinbox: PublicInbox) -> None:
    ran = 0
    for raw in readme_commands(README.read_text()):
        cmd = _localize(raw, pinbox.base)  # in order, in one directory: a file one command saves is there
        res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=sandbox.home,
                             env=sandbox.env, timeout=600)
        assert res.returncode in (0, 1), (raw, res.returncode, res.stderr[-2000:])
        assert "error" not in res.stderr.lower() and "Traceback" not in res.stderr, (raw, res.stderr[-2000:])
        if raw.startswith("review-bot") and " -o " not in raw:
            assert res.stdout.strip(), raw
        ran += 1
    assert ran >= 12
