"""The compiled cache: a process that reads it judges exactly as one that loads rules/ and models/,
any change of those files is a miss, and a damaged or foreign file is rebuilt without an error."""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.judge  # noqa: F401 - registers every loader the review uses
from bot import cache, compiled
from bot.cmodel import models
from bot.cmodel.primitives import primitives
from tests.conftest import run_cli
from tests.kernel_tree import patch_07


@pytest.fixture
def fresh() -> Iterator[None]:
    """This process's loaded rules and models and the cache's place, as they were after the test."""
    memo, state = dict(compiled._MEMO), dict(compiled._state)
    compiled._MEMO.clear()
    try:
        yield
    finally:
        compiled._MEMO.clear()
        compiled._MEMO.update(memo)
        compiled._state.clear()
        compiled._state.update(state)


def _reload(path: Path, env: str) -> None:
    """As a new process would: nothing loaded yet, the file at path to read."""
    compiled._MEMO.clear()
    compiled._state.update(path=None)
    compiled.use(path, env)
    compiled.load_all()


def _loaded() -> dict[str, object]:
    return {name: compiled._MEMO[name] for name in compiled._LOADERS}


def test_what_the_file_gives_is_what_the_loaders_give(tmp_path: Path, fresh: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path, env = tmp_path / "verdicts.compiled", cache.environment()
    _reload(path, env)
    assert path.is_file()
    loaded = _loaded()
    for name in list(compiled._LOADERS):  # the next process reads the file and loads nothing
        monkeypatch.setitem(compiled._LOADERS, name, lambda name=name: pytest.fail(f"{name} ran again"))
    _reload(path, env)
    assert _loaded() == loaded
    assert set(compiled._MEMO) == set(compiled._LOADERS)
    assert primitives() is compiled._MEMO["bot.cmodel.primitives.primitives"]


def test_a_changed_model_file_is_a_miss(tmp_path: Path, fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.paths

    rules, mdls = tmp_path / "rules", tmp_path / "models"
    shutil.copytree(bot.paths.rules_dir(), rules)
    shutil.copytree(bot.paths.models_dir(), mdls)
    monkeypatch.setattr(bot.paths, "_PKG", tmp_path / "bot")  # rules_dir(), models_dir(): the copies
    path = tmp_path / "verdicts.compiled"

    def env() -> str:
        cache.environment.cache_clear()
        try:
            return cache.environment()
        finally:
            cache.environment.cache_clear()

    _reload(path, env())
    spec = models.load_models()[0]
    first = spec.scenarios[0]
    scen = spec.directory / first.file
    assert scen.resolve().is_relative_to(tmp_path), "the test edits its copy only"
    scen.write_text(scen.read_text().replace(f'"{first.name}"', f'"{first.name}-renamed"', 1))
    _reload(path, env())
    assert f"{first.name}-renamed" in [sc.name for sc in models.load_models()[0].scenarios]
    _reload(path, env())  # and that is what the rewritten file holds
    assert f"{first.name}-renamed" in [sc.name for sc in models.load_models()[0].scenarios]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "hostile", "empty"])
def test_a_damaged_file_is_rebuilt(damage: str, tmp_path: Path, fresh: None,
                                   caplog: pytest.LogCaptureFixture) -> None:
    path, env = tmp_path / "verdicts.compiled", cache.environment()
    _reload(path, env)
    loaded, good = _loaded(), path.read_bytes()
    if damage == "garbage":
        path.write_bytes(os.urandom(5000))
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "flipped":
        i = len(good) - 1000
        path.write_bytes(good[:i] + bytes([good[i] ^ 0x40]) + good[i + 1:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a valid header and checksum around a pickle that would run a command
        payload = pickle.dumps({"bot.cmodel.primitives.primitives": _Exploit()})
        import hashlib

        key = good[len(compiled.MAGIC):len(compiled.MAGIC) + 64]
        path.write_bytes(compiled.MAGIC + key + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"
                         + payload)
    caplog.set_level("INFO", logger="bot.compiled")
    _reload(path, env)
    assert not (tmp_path / "exploited").exists()
    assert _loaded() == loaded
    assert path.read_bytes() == good, "the file is written again"
    notes = [r.getMessage() for r in caplog.records if r.name == "bot.compiled"]
    assert damage == "empty" or (len(notes) == 1 and "\n" not in notes[0]), notes


class _Exploit:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch exploited",))


def test_check_stdin_says_the_same_with_and_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process as b4 runs it: no cache at all, the first run (which writes the compiled cache),
    and a run with only the compiled cache (an empty verdict cache) agree byte for byte."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    patch = patch_07(1)
    off = run_cli("check", "--stdin", "--format", "json", "--no-cache", stdin=patch)
    first = run_cli("check", "--stdin", "--format", "json", stdin=patch)
    home = tmp_path / "review-bot"
    assert (home / "verdicts.compiled").is_file()
    for f in home.glob("verdicts.sqlite*"):
        f.unlink()
    again = run_cli("check", "--stdin", "--format", "json", stdin=patch)
    assert off.returncode == first.returncode == again.returncode == 1, off.stderr
    assert off.stdout == first.stdout == again.stdout
    assert '"RCU_HEAD_SHARED"' in off.stdout
