"""The whole 2023 linux-s390 year (8,638 messages) loads without a crash. Takes ~10-20 s."""

from __future__ import annotations

from bot.mail import load
from bot.mail.series import title_key
from tests.corpus import year


def test_year_loads_every_message():
    res = load(str(year()))
    assert res.messages == 8638
    assert res.skipped == []
    assert len(res.postings) > 3000
    assert all(p.msgid and "\n" not in p.subject and p.series is not None for p in res.postings)
    revs = res.revisions()[title_key("mm: free retracted page table by RCU")]
    assert [s.revision for s in revs] == [1, 2, 3]
    assert [s.total for s in revs] == [12, 12, 13]
    # change-id trailers (b4) link revisions even when titles change
    assert any(k.startswith("change-id:") and len(v) > 1 for k, v in res.revisions().items())
