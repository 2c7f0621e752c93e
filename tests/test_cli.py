"""The command-line contract: subcommands, --help/--version, exit code 2 with one stderr line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import __version__
from tests.conftest import run_cli


def assert_usage_error(res, *words: str) -> None:  # noqa: ANN001 - CliResult
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert len(res.stderr_lines) == 1, res.stderr
    line = res.stderr_lines[0]
    assert line.startswith("review-bot"), line
    assert "error" in line
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in line, line


def test_help_lists_subcommands() -> None:
    res = run_cli("--help")
    assert res.returncode == 0
    for cmd in ("check", "scan", "explore"):
        assert cmd in res.stdout
    assert "watch" not in res.stdout


@pytest.mark.parametrize("cmd", ["check", "scan", "explore"])
def test_subcommand_help(cmd: str) -> None:
    res = run_cli(cmd, "--help")
    assert res.returncode == 0, res.stderr
    assert f"review-bot {cmd}" in res.stdout
    for opt in ("--format", "--tree", "--budget-states", "--budget-seconds", "--debug", "--output"):
        assert opt in res.stdout, opt


def test_check_help_names_sources() -> None:
    out = run_cli("check", "--help").stdout
    for opt in ("MSGID_OR_URL", "--lore-url", "--mbox", "--msgid", "--git", "--repo", "--stdin", "-v"):
        assert opt in out, opt
    for fmt in ("text", "email", "json", "sarif", "html", "checkpatch"):
        assert fmt in out


def test_version() -> None:
    res = run_cli("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"review-bot {__version__}"


def test_python_m_bot_and_main_agree() -> None:
    from bot.cli import main

    assert main(["check", "--mbox", "/nonexistent"]) == 2


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["watch"],
        ["frobnicate"],
        ["check"],
        ["check", "--no-such-option"],
        ["check", "--mbox", "a", "--stdin"],
        ["check", "x@y", "--git", "HEAD~1..HEAD"],
        ["check", "--msgid", "x@y"],
        ["check", "--mbox", "a", "--repo", "."],
        ["check", "--mbox", "a", "-v", "2"],
        ["check", "--mbox", "a", "--format", "pdf"],
        ["check", "--mbox", "a", "--budget-states", "-1"],
        ["check", "--mbox", "a", "--budget-seconds", "soon"],
        ["scan"],
        ["scan", "--mbox", "a", "--lore-url", "http://127.0.0.1:9/x"],
        ["explore"],
        ["explore", "a.scn", "--design", "b"],
    ],
)
def test_bad_usage_is_exit_2_one_line(args: list[str]) -> None:
    assert_usage_error(run_cli(*args))


def test_mbox_nonexistent() -> None:
    assert_usage_error(run_cli("check", "--mbox", "/nonexistent"), "/nonexistent")


def test_scan_mbox_nonexistent() -> None:
    assert_usage_error(run_cli("scan", "--mbox", "/nonexistent"), "/nonexistent")


def test_explore_missing_file(tmp_path: Path) -> None:
    assert_usage_error(run_cli("explore", str(tmp_path / "missing.scenario")), "missing.scenario")


def test_not_a_message_id() -> None:
    assert_usage_error(run_cli("check", "not a msgid"))


def test_unreachable_server_is_exit_2() -> None:
    # port 9 (discard) on loopback: nothing listens there in the test environment
    res = run_cli("check", "x@example.org", "--lore-url", "http://127.0.0.1:9/all")
    assert_usage_error(res, "127.0.0.1:9")


def test_stdin_empty() -> None:
    assert_usage_error(run_cli("check", "--stdin", stdin=b""), "stdin")


def test_garbage_mbox_is_handled(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mbox"
    junk.write_bytes(bytes(range(256)) * 64)
    res = run_cli("check", "--mbox", str(junk), "--format", "json")
    assert res.returncode in (0, 2), res.stderr
    assert "Traceback" not in res.stderr
    if res.returncode == 2:
        assert len(res.stderr_lines) == 1, res.stderr


def test_unwritable_output(tmp_path: Path) -> None:
    res = run_cli("check", "--mbox", "/nonexistent", "-o", str(tmp_path / "no" / "such" / "dir" / "out"))
    assert_usage_error(res)


def test_debug_shows_traceback() -> None:
    res = run_cli("--debug", "check", "--mbox", "/nonexistent")
    assert res.returncode == 2
    assert "Traceback" in res.stderr
    assert res.stderr_lines[-1].startswith("review-bot: error:")
