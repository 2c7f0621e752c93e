"""Regular expressions from the table (bot.patterns) are the patterns re compiles itself, only the
package's own go through it, and the table written by one process is read back by the next."""

from __future__ import annotations

import _sre
import marshal
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bot.judge  # noqa: F401 - the modules of a check, with their patterns
from bot import patterns

ROOT = Path(__file__).resolve().parent.parent


def _compile_as(module: str, pattern: str, flags: int = 0) -> re.Pattern:
    ns: dict = {"__name__": module, "re": re}
    exec(compile(f"p = re.compile({pattern!r}, {flags})", f"<{module}>", "exec"), ns)
    return ns["p"]


def test_ours_go_through_the_table_and_are_what_re_compiles() -> None:
    assert re._compiler.compile is patterns._compile  # type: ignore[attr-defined]  # installed by importing bot
    pattern = r"(?P<name>only_in_this_test)\s*\((\w+)(?:, *(\d+))?\)"
    first = _compile_as("bot.for_the_test", pattern, re.M)
    assert (pattern, int(re.M)) in patterns._table
    re.purge()  # as a new process: re's own memo is empty, the table is not
    again = _compile_as("bot.for_the_test", pattern, re.M)
    assert again is not first
    want = patterns._real(pattern, int(re.M))
    assert again == want == first  # a Pattern's == compares its pattern, flags and code
    assert (again.groups, again.groupindex, again.flags) == (want.groups, want.groupindex, want.flags)
    m = again.search("x\nonly_in_this_test(ab, 12)")
    assert m is not None and (m["name"], m.group(2), m.group(3)) == ("only_in_this_test", "ab", "12")


def test_every_pattern_of_a_check_reads_back_as_re_compiles_it() -> None:
    assert len(patterns._table) >= 40
    for (pattern, flags), args in list(patterns._table.items()):
        got = _sre.compile(pattern, *args)
        assert got == patterns._real(pattern, flags), pattern


def test_another_modules_pattern_is_not_kept() -> None:
    p = _compile_as("tests.elsewhere", r"only_here_\d+_pattern")
    assert p.match("only_here_1_pattern")
    assert not any("only_here_" in k for k, _ in patterns._table)


def test_a_compilation_seen_beside_another_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another thread compiling while the compiler's calls are watched: nothing is kept."""
    real = patterns._real

    def with_another(p: str, flags: int = 0) -> re.Pattern:
        real(r"another_threads_\w+", 0)
        return real(p, flags)

    monkeypatch.setattr(patterns, "_real", with_another)
    p = _compile_as("bot.for_the_test", r"seen_beside_another_\d+")
    assert p.match("seen_beside_another_7")
    assert not any("seen_beside_another" in k for k, _ in patterns._table)


def _run(prog: str, tmp_path: Path) -> str:
    env = {"PYTHONPYCACHEPREFIX": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout


def test_table_is_written_and_read_back(tmp_path: Path) -> None:
    prog = "import bot.judge, bot.patterns as p; print(p._state['new'], len(p._used), len(p._used & set(p._table)))"
    assert _run(prog, tmp_path).split()[0] == "True"
    (table,) = list(tmp_path.rglob("patterns.*.marshal"))
    version, entries = marshal.loads(table.read_bytes())
    assert version == sys.version and entries
    new, used, found = _run(prog, tmp_path).split()
    assert new == "False" and used == found and int(used) > 0


@pytest.mark.parametrize("damage", [b"\x00garbage", b"", "another interpreter", "bad entries"])
def test_an_unreadable_table_is_compiled_again(damage: bytes | str, tmp_path: Path) -> None:
    _run("import bot.judge", tmp_path)
    (table,) = list(tmp_path.rglob("patterns.*.marshal"))
    version, entries = marshal.loads(table.read_bytes())
    if damage == "another interpreter":
        blob = marshal.dumps(("2.7.0", entries))
    elif damage == "bad entries":
        blob = marshal.dumps((version, {k: (1, "not code", 0, {}, ()) for k in entries}))
    else:
        assert isinstance(damage, bytes)
        blob = damage
    table.write_bytes(blob)
    prog = ("import bot.judge, bot.patterns as p, _sre; "
            "print(len(p._used - set(p._table)), all(_sre.compile(k[0], *p._table[k]) == p._real(*k) "
            "for k in p._used))")
    assert _run(prog, tmp_path).split() == ["0", "True"]
    assert marshal.loads(table.read_bytes())[0] == sys.version, "written again"
