"""scan: load + review + summary on a real thread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.mail import InputError
from bot.scan import scan, scan_full, summarize
from tests.corpus import thread


def test_scan_thread_reports_every_posting():
    report, res = scan_full(str(thread(3)), progress=False)
    assert report.messages == 34
    assert len(report.reviews) == len(res.postings) == 20
    by_id = {r.msgid: r for r in report.reviews}
    fix = next(p for p in res.postings if p.subject.startswith("[PATCH v3 07/13 fix]"))
    assert by_id[fix.msgid].series == {"cover": "7cd843a9-aa80-14f-5eb2-33427363c20@google.com",
                                      "revision": 3, "index": 7, "total": 13}
    json.dumps(report.to_json())  # the stable JSON shape serialises
    text = summarize(report, res)
    assert "messages read: 34" in text
    assert "patch postings: 19 (+ 1 diffs inside replies)" in text
    assert "series: 1 (1 with a cover letter" in text


def test_scan_skips_are_listed_with_reasons(tmp_path: Path):
    p = tmp_path / "x.mbox"
    big = b"From: a\nMessage-ID: <big@x>\n\n" + b"y" * (21 << 20)
    p.write_bytes(b"From a Thu Jan  1 00:00:00 1970\n" + big + b"\n")
    report, res = scan_full(str(p), progress=True)  # stderr is not a TTY under pytest: no bar
    assert report.messages == 1 and report.skipped[0]["msgid"] == "big@x"
    assert "1 x too large" in summarize(report, res)


def test_scan_unreadable_input_raises_input_error(tmp_path: Path):
    with pytest.raises(InputError):
        scan(str(tmp_path / "missing.mbox"))
