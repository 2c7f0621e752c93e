"""check MSGID -v N across threads: the v1, v2 and v3 threads are separate fetches from a real
public-inbox-httpd, and the other revision is found through the server's search."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bot.fetch import FetchError, fetch_thread, load_thread, revisions
from bot.revisions import find_revision
from tests.conftest import V1_COVER, V1_PATCH_07, run_cli
from tests.pinbox import PublicInbox

V3_COVER = "7cd843a9-aa80-14f-5eb2-33427363c20@google.com"


class Recording(requests.Session):
    """A real session that notes each URL it requests (the exchange itself is real HTTP)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(self, method: str, url: str, *args: Any, **kw: Any) -> requests.Response:  # type: ignore[override]
        self.urls.append(url)
        return super().request(method, url, *args, **kw)


def _series(sel: Any) -> list[tuple[int, int]]:
    return sorted((p.series.revision, p.series.index) for p in sel.postings if not p.is_reply)


def test_each_revision_is_its_own_thread(pinbox: PublicInbox) -> None:
    # what makes the search necessary: v1's thread holds v1 only
    assert revisions(load_thread(fetch_thread(V1_PATCH_07, pinbox.base)).context) == [1]


def test_patch_of_v1_finds_the_same_patch_of_v3_through_search(pinbox: PublicInbox) -> None:
    http = Recording()
    sel = find_revision(fetch_thread(V1_PATCH_07, pinbox.base, http), 3, http)
    [p] = sel.postings
    assert p.subject.startswith("[PATCH v3 07/13] s390: add pte_free_defer()"), p.subject
    assert any("x=m" in u and "q=" in u for u in http.urls), http.urls  # asked the search
    assert any(V3_COVER in u and u.endswith("/t.mbox.gz") for u in http.urls), http.urls  # then v3's thread
    assert {q.series.revision for q in sel.context} == {3}  # the base of 07/13 is v3's own 01..06


def test_cover_of_v1_finds_the_whole_v2_series(pinbox: PublicInbox) -> None:
    sel = find_revision(fetch_thread(V1_COVER, pinbox.base), 2)
    assert sorted({i for r, i in _series(sel) if r == 2 and i > 0}) == list(range(1, 13))
    assert {r for r, _ in _series(sel)} == {2}


def test_newer_to_older(pinbox: PublicInbox) -> None:
    sel = find_revision(fetch_thread(V3_COVER, pinbox.base), 1)
    assert {r for r, _ in _series(sel)} == {1} and len(sel.postings) == 12


def test_missing_revision_says_what_exists(pinbox: PublicInbox) -> None:
    with pytest.raises(FetchError, match=r"no revision v5 .*found v1, v2, v3"):
        find_revision(fetch_thread(V1_PATCH_07, pinbox.base), 5)


def test_cli_check_v_n_with_a_lore_base(pinbox: PublicInbox) -> None:
    res = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base, "-v", "3", "--format", "json", "--verbose")
    assert res.returncode in (0, 1), res.stderr
    data = json.loads(res.stdout)
    assert [r["series"]["revision"] for r in data["reviews"]] == [3]
    assert data["reviews"][0]["subject"].startswith("[PATCH v3 07/13]")
    assert any("revisions: search" in ln and "v1, v2, v3" in ln for ln in res.stderr_lines), res.stderr
    bad = run_cli("check", V1_PATCH_07, "--lore-url", pinbox.base, "-v", "7")
    assert bad.returncode == 2 and len(bad.stderr_lines) == 1 and "v7" in bad.stderr


def _mail(msgid: str, subject: str, body: str, reply_to: str = "") -> str:
    head = f"From: A <a@example.org>\nSubject: {subject}\nMessage-ID: <{msgid}>\nDate: Mon, 1 May 2023 10:00:00 +0000\n"
    if reply_to:
        head += f"In-Reply-To: <{reply_to}>\nReferences: <{reply_to}>\n"
    return "From a@example.org Mon May  1 10:00:00 2023\n" + head + "\n" + body + "\n"


def test_identity_uses_change_id_and_links() -> None:
    from bot.fetch import Fetched
    from bot.revisions import identity

    cover = _mail("c2@example.org", "[PATCH v2 0/1] mm: widget frobbing",
                  "Frob widgets.\n\n- Link to v1: https://lore.kernel.org/r/c1@example.org\n\n---\n"
                  "base-commit: 0123456789abcdef\nchange-id: 20230501-widget-frob-0a1b2c\n")
    patch = _mail("p2@example.org", "[PATCH v2 1/1] mm: frob the widget",
                  "Frob.\n\nLink: https://lore.kernel.org/all/p1@example.org/\nSigned-off-by: A <a@example.org>\n---\n"
                  "diff --git a/mm/w.c b/mm/w.c\n--- a/mm/w.c\n+++ b/mm/w.c\n@@ -1,1 +1,2 @@\n x\n+y\n",
                  reply_to="c2@example.org")
    fetched = Fetched("p2@example.org", "http://127.0.0.1:1/x", "", (cover + "\n" + patch).encode())
    sel = load_thread(fetched)
    ident = identity(fetched, sel)
    assert ident is not None and not ident.whole and ident.index == 1
    assert ident.key == "change-id:20230501-widget-frob-0a1b2c"
    assert ident.queries()[0] == "20230501 widget frob 0a1b2c"  # the change-id's words first
    assert ident.queries()[1] == "s:mm s:widget s:frobbing"  # then the cover's title
    assert ident.links == ["c1@example.org", "p1@example.org"]
