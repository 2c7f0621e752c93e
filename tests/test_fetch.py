"""bot.fetch against a real public-inbox-httpd serving the corpus threads on 127.0.0.1."""

from __future__ import annotations

import json
import mailbox
import re
from pathlib import Path

import pytest

from bot.fetch import FetchError, fetch_search, fetch_thread, split_target, thread_parents, thread_url
from tests.conftest import SEED_REPLY, V1_COVER, V1_PATCH_07, need_modules, run_cli
from tests.pinbox import PublicInbox


def _subjects(mbox: bytes, tmp_path: Path) -> dict[str, str]:
    p = tmp_path / "t.mbox"
    p.write_bytes(mbox)
    box = mailbox.mbox(str(p), create=False)
    try:
        return {str(m["Message-ID"]).strip().strip("<>"): " ".join(str(m["Subject"]).split()) for m in box}
    finally:
        box.close()


# -- pure functions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "base", "msgid"),
    [
        ("a@b", "https://lore.kernel.org/all", "a@b"),
        ("<a@b>", "https://lore.kernel.org/all", "a@b"),
        ("id:a@b", "https://lore.kernel.org/all", "a@b"),
        ("https://lore.kernel.org/linux-mm/a@b/", "https://lore.kernel.org/linux-mm", "a@b"),
        ("https://lore.kernel.org/all/a@b/T/#u", "https://lore.kernel.org/all", "a@b"),
        ("https://lore.kernel.org/r/a%2Bx@b", "https://lore.kernel.org/r", "a+x@b"),
        ("http://127.0.0.1:8080/linux-s390/a@b/raw", "http://127.0.0.1:8080/linux-s390", "a@b"),
    ],
)
def test_split_target(target: str, base: str, msgid: str) -> None:
    assert split_target(target) == (base, msgid)


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a b@c", "https://lore.kernel.org/all/", "a/b@c"])
def test_split_target_rejects(bad: str) -> None:
    with pytest.raises(FetchError):
        split_target(bad)


def test_thread_url_quotes_like_public_inbox() -> None:
    assert thread_url("http://h/x/", "a/b@c") == "http://h/x/a%2Fb@c/t.mbox.gz"
    assert thread_url("http://h/x", "a+b=c@d") == "http://h/x/a+b=c@d/t.mbox.gz"


# -- against the local server ---------------------------------------------------------------------


def test_fetch_v1_thread_by_patch_07(pinbox: PublicInbox, tmp_path: Path) -> None:
    got = fetch_thread(V1_PATCH_07, pinbox.base)
    assert got.msgid == V1_PATCH_07
    assert got.url == f"{pinbox.base}/{V1_PATCH_07}/t.mbox.gz"
    subjects = _subjects(got.mbox, tmp_path)
    assert len(subjects) == 63  # the whole v1 thread, as corpus README counts it
    assert V1_PATCH_07 in subjects and V1_COVER in subjects and SEED_REPLY in subjects
    numbered = {m.group(1) for s in subjects.values() if (m := re.match(r"\[PATCH (\d\d)/12\]", s))}
    assert numbered == {f"{n:02d}" for n in range(13)}  # cover + 12 patches
    assert not any("v2" in s or "v3" in s for s in subjects.values() if s.startswith("[PATCH"))


def test_fetch_by_lore_style_url(pinbox: PublicInbox, tmp_path: Path) -> None:
    got = fetch_thread(f"{pinbox.base}/{V1_COVER}/T/#u", "http://127.0.0.1:9/unused")
    assert got.base == pinbox.base
    assert len(_subjects(got.mbox, tmp_path)) == 63


def test_thread_parents(pinbox: PublicInbox, tmp_path: Path) -> None:
    parents = thread_parents(fetch_thread(V1_PATCH_07, pinbox.base).mbox)
    assert parents[V1_PATCH_07] == V1_COVER
    assert parents[V1_COVER] is None
    chain, cur = [], SEED_REPLY
    while cur:
        chain.append(cur)
        cur = parents.get(cur)
    assert V1_PATCH_07 in chain


def test_fetch_unknown_msgid(pinbox: PublicInbox) -> None:
    with pytest.raises(FetchError, match="not found"):
        fetch_thread("no-such-message@example.org", pinbox.base)


def test_fetch_search(pinbox: PublicInbox, tmp_path: Path) -> None:
    subjects = _subjects(fetch_search(pinbox.base, "s:pte_free_defer"), tmp_path)
    assert subjects and all("pte_free_defer" in s for s in subjects.values())


def test_fetch_agrees_with_b4(pinbox: PublicInbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """b4's own thread fetch, pointed at the same server, sees the same messages."""
    import argparse

    b4 = pytest.importorskip("b4")
    for var, sub in (("HOME", "home"), ("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config")):
        (tmp_path / sub).mkdir()
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    (tmp_path / "gitconfig").write_text("")
    b4.setup_config(
        argparse.Namespace(
            config={
                "b4.midmask": f"{pinbox.base}/%s",
                "b4.linkmask": f"{pinbox.base}/%s",
                "b4.attestation-policy": "off",
            }
        )
    )
    b4.LORENODE = None  # a node cached by an earlier b4 call would still point elsewhere
    node = b4.get_lore_node()
    assert node._url == pinbox.base, "b4 must talk to the local server only"
    msgs = b4.get_pi_thread_by_msgid(V1_PATCH_07, nocache=True)
    assert msgs
    theirs = {str(m["Message-ID"]).strip().strip("<>") for m in msgs}
    ours = set(_subjects(fetch_thread(V1_PATCH_07, pinbox.base).mbox, tmp_path))
    assert theirs == ours


# -- selection (needs the mail stage) -------------------------------------------------------------


def _select(pinbox: PublicInbox, msgid: str, revision: int | None = None):  # noqa: ANN202
    need_modules("bot.mail")
    from bot.fetch import load_thread

    return load_thread(fetch_thread(msgid, pinbox.base), revision)


def _index(p) -> int:  # noqa: ANN001
    return p.series.index if p.series else -1


def test_select_patch(pinbox: PublicInbox) -> None:
    sel = _select(pinbox, V1_PATCH_07)
    assert sel.messages == 63
    assert [p.msgid for p in sel.postings] == [V1_PATCH_07]


def test_select_cover_is_whole_series(pinbox: PublicInbox) -> None:
    sel = _select(pinbox, V1_COVER)
    idx = sorted(_index(p) for p in sel.postings if _index(p) > 0)
    assert idx == list(range(1, 13))


def test_select_reply_names_its_patch(pinbox: PublicInbox) -> None:
    sel = _select(pinbox, SEED_REPLY)
    formal = [p for p in sel.postings if not p.is_reply]
    assert [p.msgid for p in formal] in ([V1_PATCH_07], [])
    assert sel.postings


def test_select_missing_revision(pinbox: PublicInbox) -> None:
    with pytest.raises(FetchError, match="v5"):
        _select(pinbox, V1_PATCH_07, revision=5)


# -- the CLI end to end ---------------------------------------------------------------------------


def test_cli_check_msgid_json(pinbox: PublicInbox) -> None:
    need_modules("bot.mail", "bot.judge")
    res = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base, "--format", "json")
    assert res.returncode in (0, 1), res.stderr
    data = json.loads(res.stdout)
    assert data["tool"] == "review-bot" and isinstance(data["version"], str)
    assert data["messages"] == 63
    assert isinstance(data["skipped"], list)
    assert [r["msgid"] for r in data["reviews"]] == [V1_PATCH_07]
    for r in data["reviews"]:
        assert {"msgid", "subject", "series", "relevant", "modeled", "findings"} <= set(r)
        for f in r["findings"]:
            assert {"hazard", "class", "introduced", "file", "line", "function", "evidence", "trace"} <= set(
                f
            )
            assert f["class"] in ("correctness", "cost", "noise")
    correctness = any(f["class"] == "correctness" for r in data["reviews"] for f in r["findings"])
    assert res.returncode == (1 if correctness else 0)


def test_cli_check_unknown_msgid_is_exit_2(pinbox: PublicInbox) -> None:
    res = run_cli("check", "no-such-message@example.org", "--lore-url", pinbox.base)
    assert res.returncode == 2
    assert len(res.stderr_lines) == 1 and "not found" in res.stderr
