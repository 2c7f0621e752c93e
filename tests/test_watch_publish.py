"""Published pages: a page per relevant review, an index of reviewed series with verdicts and
judged / not judged, the reply linking to its page; rendered for real in headless Chromium."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.pinbox import Inbox, PublicInbox
from tests.smtpsink import Sink
from tests.test_report_html import _chromium, needs_chromium
from tests.watchkit import LIST_ADDRESS, doc_patch, from_real_07, synthetic, watch_once, write_config

BASE_URL = "https://reviews.example.org/bot/"


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "review" in a.get("class", "").split():
            self.rows.append(a)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def _rows(html: str) -> _Rows:
    p = _Rows()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def published(pinbox: PublicInbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Sink, dict]]:
    box: Inbox = pinbox.add_inbox("watch-publish", "watch-publish@example.org")
    real = from_real_07("pub-findings@test.example.org", "[PATCH] s390: add pte_free_defer() published")
    # a relevant change to code the model does not have: its hunk places nowhere, so it is not judged
    unjudged = synthetic("pub-unjudged@test.example.org", "[PATCH] s390: defer the free of a frobnicated page", (
        "Defer it.\n\nSigned-off-by: Ann Author <ann@example.org>\n---\n"
        "diff --git a/arch/s390/mm/pgalloc.c b/arch/s390/mm/pgalloc.c\n"
        "--- a/arch/s390/mm/pgalloc.c\n+++ b/arch/s390/mm/pgalloc.c\n"
        "@@ -900,3 +900,4 @@ void frobnicate_page(struct page *page)\n"
        " \tfrob_one(page);\n+\tcall_rcu(&page->rcu_head, pte_free_now);\n \tfrob_three(page);\n }\n"))
    for raw in (real, unjudged, synthetic("pub-docs@test.example.org", "[PATCH] docs: typo", doc_patch(1))):
        box.deliver(raw)
    tmp = tmp_path_factory.mktemp("publish")
    sink = Sink(archive=box, list_address=LIST_ADDRESS)
    cfg = write_config(tmp / "watch.toml", box.base, sink.port, since=None,
                       extra=f'[publish]\ndir = "www"\nbase_url = "{BASE_URL}"\n')
    run = watch_once(cfg)
    assert run.returncode == 0, run.stderr[-2000:]
    yield tmp / "www", sink, {e["msgid"]: e for e in run.of("reviewed")}
    sink.stop()


def test_index_lists_reviewed_series_with_verdicts(published: tuple[Path, Sink, dict]) -> None:
    www, _sink, reviewed = published
    index = (www / "index.html").read_text()
    rows = _rows(index)
    by_verdict = {r["data-verdict"]: r["data-judged"] for r in rows.rows}
    assert by_verdict == {"findings": "yes", "not judged": "no"}  # the docs patch is not relevant: no page
    assert reviewed["pub-docs@test.example.org"]["verdict"] == "not relevant"
    for href in rows.links:
        assert (www / href).is_file()
    assert "not judged" in index and "judged" in index


def test_reply_links_to_its_page(published: tuple[Path, Sink, dict]) -> None:
    www, sink, reviewed = published
    (reply,) = [m for m in sink.messages() if m.in_reply_to == "pub-findings@test.example.org"]
    page = reviewed["pub-findings@test.example.org"]["page"]
    assert page.startswith(BASE_URL)
    body = reply.msg.get_content()
    assert f"\n  {page}\n" in body
    html = (www / page.removeprefix(BASE_URL)).read_text()
    assert "RCU_HEAD_SHARED" in html and "<svg" in html
    assert not [m for m in sink.messages() if m.in_reply_to == "pub-unjudged@test.example.org"]


@needs_chromium
def test_chromium_renders_the_index_and_a_page(published: tuple[Path, Sink, dict], tmp_path: Path) -> None:
    www, _sink, reviewed = published
    png = tmp_path / "index.png"
    proc = _chromium(tmp_path, f"--screenshot={png}", (www / "index.html").as_uri())
    assert png.exists(), proc.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1200, 900)
    assert len(data) > 15_000  # a table with badges, not a blank page
    dom = _chromium(tmp_path, "--dump-dom", (www / "index.html").as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert {r["data-verdict"] for r in _rows(dom.stdout).rows} == {"findings", "not judged"}
    page = www / reviewed["pub-findings@test.example.org"]["page"].removeprefix(BASE_URL)
    shot = tmp_path / "page.png"
    _chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and len(shot.read_bytes()) > 30_000
