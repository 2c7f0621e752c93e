"""The command-line contract: subcommands, --help/--version, exit code 2 with one stderr line."""

from __future__ import annotations

import re
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
    for cmd in ("check", "scan", "explore", "watch", "status"):
        assert cmd in res.stdout


@pytest.mark.parametrize("cmd", ["check", "scan", "explore"])
def test_subcommand_help(cmd: str) -> None:
    res = run_cli(cmd, "--help")
    assert res.returncode == 0, res.stderr
    assert f"review-bot {cmd}" in res.stdout
    for opt in ("--format", "--tree", "--budget-states", "--budget-seconds", "--debug", "--output"):
        assert opt in res.stdout, opt


@pytest.mark.parametrize(("cmd", "opts"), [("watch", ("--config", "--once", "--debug")),
                                          ("status", ("--config", "--format", "--debug"))])
def test_list_bot_help(cmd: str, opts: tuple[str, ...]) -> None:
    res = run_cli(cmd, "--help")
    assert res.returncode == 0, res.stderr
    assert f"review-bot {cmd}" in res.stdout and all(o in res.stdout for o in opts)
    assert run_cli(cmd).returncode == 2  # --config is required


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


# -- errors in the user's terms ---------------------------------------------------------------------


def test_unreachable_server_says_so_without_library_internals() -> None:
    res = run_cli("check", "x@example.org", "--lore-url", "http://127.0.0.1:9/all")
    assert_usage_error(res, "cannot reach 127.0.0.1:9: connection refused")
    for internal in ("urllib3", "HTTPConnection", "Max retries", "Error:", "Caused by"):
        assert internal not in res.stderr, res.stderr


def test_http_status_is_named(tmp_path: Path) -> None:
    import http.server
    import threading

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        res = run_cli("check", "x@example.org", "--lore-url", f"http://127.0.0.1:{server.server_port}/all")
    finally:
        server.shutdown()
    assert_usage_error(res, "HTTP 503")


def test_stdin_error_names_stdin_not_a_temp_file() -> None:
    res = run_cli("check", "--stdin", stdin=b"\x00\x01 not mail at all\n" * 3)
    if res.returncode == 2:
        assert_usage_error(res, "stdin")
        assert "/tmp" not in res.stderr and "stdin.eml" not in res.stderr, res.stderr


def test_scan_error_has_no_class_name(tmp_path: Path) -> None:
    res = run_cli("scan", "--mbox", str(tmp_path))  # a directory that is no maildir
    assert_usage_error(res, str(tmp_path), "maildir")
    assert "InputError" not in res.stderr


def test_bad_scenario_names_the_file_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml\n")
    res = run_cli("explore", str(bad))
    assert_usage_error(res, "bad.toml")
    assert res.stderr.count("bad.toml") == 1, res.stderr


# -- explore: bundled names, --list, widths ---------------------------------------------------------


def test_explore_list_names_every_bundled_scenario_and_design() -> None:
    from bot.explore import DESIGNS, SCENARIOS

    res = run_cli("explore", "--list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    for folder in (SCENARIOS, DESIGNS):
        for p in folder.glob("*.toml"):
            line = next((ln for ln in lines if ln.split()[:1] == [p.stem]), None)
            assert line is not None, p.stem
    assert "  call-rcu-twice-one-head " in res.stdout and "two tables of one" in res.stdout
    assert "s390-2k-fragments/defer-both-halves" in res.stdout  # the model scenarios a finding replays


def test_explore_a_bundled_scenario_by_name(tmp_path: Path) -> None:
    res = run_cli("explore", "call-rcu-twice-one-head", cwd=tmp_path)  # no models/ in the cwd
    assert res.returncode == 1, res.stderr
    assert "verdict: unsafe" in res.stdout and "rcu_head_requeued" in res.stdout
    design = run_cli("explore", "free-mm-by-call-rcu", cwd=tmp_path)
    assert design.returncode in (0, 1) and "expectation: as expected" in design.stdout


def test_explore_unknown_name_suggests() -> None:
    assert_usage_error(run_cli("explore", "call-rcu-twice"), "call-rcu-twice-one-head")


def test_explore_help_lists_only_its_formats() -> None:
    out = run_cli("explore", "--help").stdout
    assert "{text,json}" in out
    for fmt in ("email", "sarif", "html", "checkpatch"):
        assert fmt not in out, fmt
    assert_usage_error(run_cli("explore", "call-rcu-twice-one-head", "--format", "html"), "html")


def test_explore_width() -> None:
    res = run_cli("explore", "v1-mmgrab-mmdrop-async", "--width", "72")
    assert res.returncode == 1, res.stderr
    over = [ln for ln in res.stdout.splitlines() if len(ln) > 72 and len(ln.split()[-1]) <= 16]
    assert not over, over  # only a single word too long for its column may run past the edge
    default = run_cli("explore", "v1-mmgrab-mmdrop-async")  # not a terminal: 100 columns
    assert max(len(ln) for ln in default.stdout.splitlines()) <= 110
    assert max(len(ln) for ln in default.stdout.splitlines()) > 72


# -- --verbose: the stages' decisions ---------------------------------------------------------------


def test_verbose_logs_the_decisions() -> None:
    example = str(Path(__file__).resolve().parent.parent / "examples" / "rcu-head-shared.patch")
    quiet = run_cli("check", "--mbox", example)
    res = run_cli("check", "--mbox", example, "--verbose")
    assert res.returncode == quiet.returncode == 1
    assert res.stdout == quiet.stdout and quiet.stderr == ""  # logs go to stderr, only when asked
    log = res.stderr_lines
    assert all(ln.startswith("review-bot: ") for ln in log), log
    assert any("model powerpc-fragments" in ln for ln in log), log
    assert any(re.search(r"/defer-two-fragments: unsafe, \d+ states in [\d.]+ s \(budget 50000 states", ln)
               for ln in log), log
    assert any("findings: RCU_HEAD_SHARED" in ln for ln in log), log
    tight = run_cli("check", "--mbox", example, "--verbose", "--budget-states", "20")
    assert any("budget 20 states" in ln and "inconclusive" in ln for ln in tight.stderr_lines), tight.stderr
