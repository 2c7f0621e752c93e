"""Shared fixtures: the CLI as a real subprocess, and a real public-inbox server over the corpus."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import corpus
from tests.kernel_tree import KernelTree, kernel_tree_fixture
from tests.pinbox import PublicInbox, missing_tools
from tests.throughput import inputs, review_json

REPO = Path(__file__).resolve().parent.parent


_CACHE_HOME = tempfile.mkdtemp(prefix="review-bot-tests-cache-")


def pytest_configure(config: pytest.Config) -> None:
    """The verdict cache of the whole session (every CLI subprocess too) is a fresh directory,
    never the user's own cache."""
    os.environ["XDG_CACHE_HOME"] = _CACHE_HOME


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)

V1_COVER = "35e983f5-7ed3-b310-d949-9ae8b130cdab@google.com"
V1_PATCH_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
SEED_REPLY = "422e8778-444c-d291-988c-26fc041a481@google.com"  # Hugh's reply in the v1 07/12 thread


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


def run_cli(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None, timeout: float = 600
) -> CliResult:
    """`review-bot ARGS` as a subprocess (`python -m bot`), the way users and CI run it."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=cwd or REPO,
        env=env,
        timeout=timeout,
    )
    return CliResult(
        res.returncode, res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")
    )


def need_modules(*names: str) -> None:
    """Skip a test that needs a stage another part of the team is still building."""
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        pytest.skip(f"stage not built yet: {', '.join(missing)}")


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    return run_cli


def build_wheel(out: Path, build: Path) -> Path:
    """The review-bot wheel, built from a copy of the sources (setuptools writes build/ and
    *.egg-info into the tree it builds)."""
    src = build / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("bot", "rules", "models"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
                         capture_output=True, text=True, cwd=build, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    (whl,) = out.glob("review_bot-*.whl")
    return whl


@pytest.fixture(scope="session")
def wheel_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def pinbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInbox]:
    """A public-inbox v2 inbox of the three pte-free-defer threads, served on 127.0.0.1."""
    missing = missing_tools()
    if missing:
        pytest.skip(
            f"public-inbox is not installed (missing {', '.join(missing)}); apt-get install public-inbox"
        )
    threads = [corpus.thread(n) for n in (1, 2, 3)]
    pi = PublicInbox(tmp_path_factory.mktemp("pinbox"))
    pi.build(threads)
    pi.serve()
    try:
        yield pi
    finally:
        pi.stop()


@pytest.fixture(scope="session")
def kernel_tree(tmp_path_factory: pytest.TempPathFactory) -> KernelTree:
    """Debian's linux-source-6.1 (a subset) as a git repository, built once per test run."""
    return kernel_tree_fixture(tmp_path_factory)


@pytest.fixture(scope="session")
def throughput_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three threads and a slice of the 2023 year (tests/throughput.py)."""
    return inputs(tmp_path_factory.mktemp("throughput"))


@pytest.fixture(scope="session")
def serial_uncached(throughput_inputs: dict[str, Path]) -> dict[str, str]:
    """Every throughput input judged in-process without the verdict cache, as JSON: what every
    other way of running (cached, across cores) must give."""
    return {name: review_json(path, cache=False, jobs=1) for name, path in throughput_inputs.items()}
