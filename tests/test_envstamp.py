"""The environment stamp: the verdict cache's environment is the same with it as without, and any
change of content under rules/ or models/ changes it, even one that keeps a file's size and mtime."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cache, envstamp


@pytest.fixture
def copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """rules/ and models/ copied, written well before the stamp (its clock runs a minute ahead)."""
    import bot.paths

    rules, mdls = tmp_path / "rules", tmp_path / "models"
    shutil.copytree(bot.paths.rules_dir(), rules)
    shutil.copytree(bot.paths.models_dir(), mdls)
    monkeypatch.setattr(bot.paths, "rules_dir", lambda: rules)
    monkeypatch.setattr(bot.paths, "models_dir", lambda: mdls)
    later = time.time_ns() + 60_000_000_000
    monkeypatch.setattr(envstamp.time, "time_ns", lambda: later)
    time.sleep(0.05)  # past the filesystem clock's tick: an edit below gets another ctime
    cache.environment.cache_clear()
    yield rules, mdls
    cache.environment.cache_clear()


def _env(stamp_dir: Path | None) -> str:
    cache.environment.cache_clear()
    return cache.environment(stamp_dir)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real = envstamp.content_digest
    monkeypatch.setattr(envstamp, "content_digest", lambda p: read.append(p) or real(p))
    return read


def test_the_stamp_gives_the_same_environment_and_spares_the_reads(
        copies: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = tmp_path / "cache"
    full = _env(None)
    assert _env(stamp) == full
    assert (stamp / envstamp.STAMP).is_file()
    read = _reads(monkeypatch)
    assert _env(stamp) == full
    assert read == [], "an unchanged file is not read again"


@pytest.mark.parametrize("edit", ["same size, mtime kept", "appended", "added", "removed", "renamed"])
def test_any_change_of_content_changes_it(edit: str, copies: tuple[Path, Path], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rules, mdls = copies
    stamp = tmp_path / "cache"
    base = _env(stamp)
    scen = next(mdls.glob("*/scenarios.toml"))
    if edit == "same size, mtime kept":
        st = os.stat(scen)
        data = scen.read_bytes()
        i = data.index(b"name")
        scen.write_bytes(data[:i] + b"nama" + data[i + 4:])
        os.utime(scen, ns=(st.st_atime_ns, st.st_mtime_ns))
        after = os.stat(scen)
        assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    elif edit == "appended":
        scen.write_text(scen.read_text() + "\n# edited\n")
    elif edit == "added":
        (rules / "extra.toml").write_text("# a new file\n")
    elif edit == "removed":
        (rules / "primitives.toml").unlink()
    else:
        scen.rename(scen.with_name("scenarios2.toml"))
    read = _reads(monkeypatch)
    changed = _env(stamp)
    assert changed != base, f"{edit}: the environment must change"
    assert changed == _env(None), f"{edit}: the stamp gives what reading every file gives"
    assert edit in ("removed", "renamed") or read, "the changed file is read"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "a wrong stat", "empty", "binary"])
def test_a_damaged_stamp_is_never_a_wrong_environment(damage: str, copies: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    stamp = tmp_path / "cache"
    full = _env(None)
    _env(stamp)
    f = stamp / envstamp.STAMP
    good = f.read_text()
    if damage == "garbage":
        f.write_text(envstamp.MAGIC + "\n" + "1 2 3 x y zz /no/such\nnot a line at all\n" + good[100:300])
    elif damage == "truncated":
        f.write_text(good[: len(good) // 2])
    elif damage == "a wrong stat":  # every line's size off by one: no line is taken
        lines = good.split("\n")
        f.write_text("\n".join([lines[0]] + [f"{int(x.split(' ', 1)[0]) + 1} {x.split(' ', 1)[1]}"
                                             for x in lines[1:] if x]) + "\n")
    elif damage == "empty":
        f.write_bytes(b"")
    else:
        f.write_bytes(os.urandom(3000))
    assert _env(stamp) == full
    assert f.read_text() == good, "the stamp is written again"


def test_a_fresh_file_is_read_again_until_it_has_settled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file changed just before the stamp is written could change again within one tick of the
    filesystem's clock and keep its stat: its digest is not kept."""
    f = tmp_path / "a.toml"
    f.write_text("x = 1\n")
    stamp = tmp_path / "cache"
    assert envstamp.digests([str(f)], stamp) == [envstamp.content_digest(str(f))]
    read = _reads(monkeypatch)
    envstamp.digests([str(f)], stamp)
    assert read == [str(f)]
