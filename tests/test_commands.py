"""Every command the bot prints runs as printed and runs nothing else, for any Message-ID or path.

The inputs are generated: Message-IDs and paths holding quotes, $( ), backticks, ;|&, globs,
line breaks, unicode and leading dashes. Each printed command is split with shlex and run through
`sh -c` in a temporary directory whose `review-bot` is a shim recording its argv, next to a
canary that a hostile word would create.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import DEFAULT_LORE, Command, Origin, replay_commands, unprintable
from bot.fetch import split_target
from bot.report import render
from tests.test_report_fixtures import make_posting, make_report, make_review, rcu_head_shared

SCENARIO = "s390-2k-fragments/defer-both-halves"
HOSTILE = ["'", '"', "$(touch canary)", "`touch canary`", ";touch canary", "|", "&", "\\", " ", "*", "~",
           "!", "#", "$IFS", "${IFS}", "\n", "\t", "é", "中", "\u202e", "\x1b[2K", "-", "--", "%2F", "/", ">"]
fragment = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=6))
word = st.lists(fragment, min_size=1, max_size=6).map("".join)
msgids = st.one_of(
    st.tuples(word, st.sampled_from(["@", "@@", ""]), word).map("".join),
    st.sampled_from(["x'$(touch${IFS}canary)'@evil.example", "-rf@x", "a`touch canary`@b", "a@b"]),
)
paths = st.one_of(word, st.sampled_from(["-x.mbox", "a'$(touch canary)'.mbox", "dir/a b.mbox"]))
origins = st.one_of(
    st.builds(Origin, st.just("lore"), st.sampled_from([DEFAULT_LORE, "http://127.0.0.1:8080/linux-s390"])),
    st.builds(Origin, st.just("mbox"), st.just(DEFAULT_LORE), paths),
    st.just(Origin("git")), st.just(Origin("stdin")), st.just(Origin()),
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose bin/review-bot writes its argv, NUL-separated, to argv.out."""
    d = tmp_path_factory.mktemp("sandbox")
    (d / "bin").mkdir()
    shim = d / "bin" / "review-bot"
    shim.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done > argv.out\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return d


def run_printed(sandbox: Path, text: str) -> list[str]:
    """Run printed text as sh would after a paste; the argv review-bot received. Nothing else ran."""
    out = sandbox / "argv.out"
    out.unlink(missing_ok=True)
    env = {"PATH": f"{sandbox / 'bin'}:/usr/bin:/bin", "HOME": str(sandbox)}
    res = subprocess.run(["sh", "-c", text], cwd=sandbox, env=env, capture_output=True, timeout=10)
    assert res.returncode == 0, res.stderr
    assert not (sandbox / "canary").exists(), f"the command ran something else: {text!r}"
    return out.read_bytes().decode().split("\0")[:-1]


def _intended(cmd: Command, origin: Origin, msgid: str) -> None:
    """The argv holds the Message-ID (or the commit), the path and the scenario as words of their own."""
    argv = list(cmd.argv)
    assert argv[:2] == ["review-bot", "explore"]
    assert argv[argv.index("--scenario") + 1] == SCENARIO if "--scenario" in argv else f"--scenario={SCENARIO}" in argv
    if "--git" in argv:
        assert argv[argv.index("--git") + 1] == "c0ffee^..c0ffee"
    elif origin.kind == "mbox" and any(w.startswith("--mbox") for w in argv):
        assert origin.path in argv or f"--mbox={origin.path}" in argv
        assert msgid in argv or f"--msgid={msgid}" in argv
    else:
        assert argv[2] in (msgid, f"<{msgid}>") or split_target(argv[2], origin.lore_url)[1] == msgid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(origin=origins, msgid=msgids, tree=st.sampled_from([None, "/srv/linux", "t'$(touch canary)'"]))
def test_every_printed_command_splits_back_and_runs_only_itself(
    sandbox: Path, origin: Origin, msgid: str, tree: str | None
) -> None:
    for cmd in replay_commands(origin, msgid, "c0ffee", SCENARIO, tree):
        if not cmd.argv:
            assert cmd.why_not.startswith("no command is printed: ")
            continue
        assert cmd.why_not == ""
        line = cmd.line
        assert "\n" not in line and unprintable(line) is None
        assert shlex.split(line) == list(cmd.argv)
        _intended(cmd, origin, msgid)
        assert run_printed(sandbox, line) == list(cmd.argv)[1:]


@settings(max_examples=200, deadline=None)
@given(origin=origins, msgid=msgids)
def test_no_placeholder_and_no_local_path_in_mail(origin: Origin, msgid: str) -> None:
    local, public = replay_commands(origin, msgid, "c0ffee", SCENARIO, None)
    for cmd in (local, public):
        assert "THREAD.mbox" not in cmd.line and "nomsgid-" not in cmd.line and "@git" not in cmd.line
    if origin.kind == "mbox" and public.argv:
        assert not any(w.startswith("--mbox") for w in public.argv)
    if origin.kind in ("stdin", ""):
        assert not local.argv and not public.argv and local.why_not


def test_placeholder_ids_print_no_command_and_say_why() -> None:
    for origin in (Origin("mbox", path="a.mbox"), Origin("lore")):
        for cmd in replay_commands(origin, "nomsgid-0123456789abcdef", "", SCENARIO, None):
            assert not cmd.argv and "no Message-ID" in cmd.why_not


def _blocks(text: str, head: str = "Reproduce with:\n") -> list[str]:
    return [part.split("\n\n", 1)[0] for part in text.split(head)[1:]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(origin=origins, msgid=msgids)
def test_every_format_prints_the_command_that_runs(sandbox: Path, origin: Origin, msgid: str) -> None:
    f = rcu_head_shared()
    local, public = replay_commands(origin, msgid, "c0ffee", SCENARIO, None)
    f.replay, f.replay_public, f.replay_why_not = local.line, public.line, public.why_not or local.why_not
    review = make_review([f], posting=make_posting(msgid=msgid if "\n" not in msgid else "a@b"))
    report = make_report([review])
    for fmt, cmd in (("text", local), ("email", public)):
        out = render(report, fmt, sender="review-bot <review-bot@example.org>")
        if fmt == "email":
            out = out.replace("\n>From ", "\nFrom ")  # mboxrd: the reader undoes this
        blocks = _blocks(out)
        if cmd.argv:
            assert len(blocks) == 1
            assert run_printed(sandbox, blocks[0]) == list(cmd.argv)[1:]  # pasted as printed, wrapping included
        else:
            assert blocks == [] and cmd.why_not.split(":")[0] in out.replace("\n  ", " ")
    page = render(report, "html")
    pre = re.findall(r'<pre class="cmd">(.*?)</pre>', page, re.S)
    assert [shlex.split(html.unescape(p)) for p in pre] == ([list(local.argv)] if local.argv else [])
    for fmt in ("json", "sarif"):
        data = json.loads(render(report, fmt))
        got = (data["reviews"][0]["findings"][0] if fmt == "json"
               else data["runs"][0]["results"][0]["properties"])
        assert got["replay"] == local.line and got["replay_public"] == public.line
        if local.argv:
            assert shlex.split(got["replay"]) == list(local.argv)


def test_issue_example_message_id_is_one_quoted_word(sandbox: Path) -> None:
    msgid = "x'$(touch${IFS}canary)'@evil.example"
    _local, public = replay_commands(Origin("lore"), msgid, None, SCENARIO, None)
    assert public.argv == ("review-bot", "explore", msgid, "--scenario", SCENARIO)
    assert run_printed(sandbox, public.line) == ["explore", msgid, "--scenario", SCENARIO]
    # a "/" cannot stand in a bare Message-ID argument: its lore URL names it instead
    slash = "x'$(touch${IFS}/tmp/p)'@evil.example"
    _local, public = replay_commands(Origin("lore"), slash, None, SCENARIO, None)
    assert split_target(public.argv[2]) == (DEFAULT_LORE, slash)
    assert run_printed(sandbox, public.line) == list(public.argv[1:])
