"""Every command of the README runs as written from the installed wheel, outside the checkout; the
first screen's set-up command runs as written in a fresh copy of the repository.

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


def _first_screen_commands(text: str) -> list[list[str]]:
    """The ```sh blocks before the first section: what a new user types first, line by line."""
    head = text[:text.index("\n## ")]
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", head, re.S)]


def test_first_screen_has_exactly_two_setup_commands() -> None:
    text = README.read_text()
    assert text[:text.index("\nbash .ci/run\n")].count("\n") < 30  # both on the first screen
    blocks = _first_screen_commands(text)
    assert len(blocks) == 2 and all(len(b) == 1 for b in blocks), blocks
    assert blocks[0][0].startswith(SETUP) and blocks[1] == ["bash .ci/run"], blocks


def _fresh_clone(dest: Path) -> None:
    """The files a clone of this repository has (the tracked ones), nothing built or cached."""
    res = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, timeout=60)
    if res.returncode != 0:
        pytest.skip("the checkout is not a git repository: no tracked files to clone")
    for name in res.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)


def test_setup_command_works_in_a_fresh_clone(tmp_path: Path) -> None:
    """The first command, exactly as written, in a copy of the tracked files: it makes the venv,
    builds and installs the package from the repo root and reviews the bundled example. The one
    change: the venv is made first and sees the test environment's packages (a .pth line), so the
    dependencies are not downloaded again; the build of the package itself is pip's own."""
    (setup,), _ = _first_screen_commands(README.read_text())
    clone = tmp_path / "clone"
    _fresh_clone(clone)
    python = Path(sys._base_executable).resolve()  # the machine's python3, not the test venv
    subprocess.run([str(python), "-m", "venv", str(clone / ".venv")], check=True, timeout=300)
    site = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "review-bot-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (tmp_path / "home").mkdir()
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    res = subprocess.run(["bash", "-c", setup], capture_output=True, text=True, cwd=clone, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith("review-bot: 1 message: 1 patch reviewed (1 with correctness findings)")
    assert "RCU_HEAD_SHARED" in res.stdout
    where = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c", "import bot; print(bot.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert where.startswith(site), where  # installed into the venv, not run from the clone's bot/


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
