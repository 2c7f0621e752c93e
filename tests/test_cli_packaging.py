"""The wheel carries the CLI entry point, every bot package, rules/, models/ and the report data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(wheel_file: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(wheel_file)


def test_every_bot_package_is_a_package() -> None:
    for d in (REPO / "bot").rglob("*"):
        if d.is_dir() and "__pycache__" not in d.parts and any(d.glob("*.py")):
            assert (d / "__init__.py").exists(), f"{d} has modules but no __init__.py: it would not ship"


def test_wheel_ships_data(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for src, dest in (("rules", "bot/_data/rules"), ("models", "bot/_data/models")):
        want = {f"{dest}/{f}" for f in _files(REPO / src)}
        assert want and want <= names, sorted(want - names)[:10]
    for sub in ("templates", "schema"):
        want = {f"bot/report/{sub}/{f}" for f in _files(REPO / "bot" / "report" / sub)}
        assert want <= names, sorted(want - names)[:10]
    py = {f"bot/{f}" for f in _files(REPO / "bot") if f.endswith(".py")}
    assert py <= names, sorted(py - names)[:10]


def test_wheel_entry_point(wheel: zipfile.ZipFile) -> None:
    (ep,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "review-bot = bot.cli:run" in wheel.read(ep).decode()


def test_installed_wheel_reviews_the_example(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    # Run from the unpacked wheel, outside the checkout: every rules/ and models/ file must be found
    # through the installed copies, and the bundled example must give its finding.
    site = tmp_path / "site"
    wheel.extractall(site)
    res = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--mbox", str(REPO / "examples" / "rcu-head-shared.patch")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert res.returncode == 1, res.stderr[-2000:]
    assert "RCU_HEAD_SHARED" in res.stdout
    assert "failed" not in res.stdout and "not judged" not in res.stdout, res.stdout[-2000:]
