"""Control characters from mail (ESC and OSC sequences, CR, C1, bidi overrides) never reach a
terminal, a mail reader or a browser raw: every output format shows them as escapes."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.addr import Mailbox
from bot.report import FORMATS, render
from bot.report.textutil import visible
from tests.test_report_fixtures import make_hunk, make_posting, make_report, make_review, rcu_head_shared

INVISIBLE = ["\x1b[2K\x1b[1A", "\x1b]0;title\x07", "\x1b]8;;http://evil.example\x1b\\", "\r", "\x08", "\x9b2K",
             "\x85", "\u202e", "\u2066", "\u200f", "\u061c", "\ufeff", "\u2028", "\x00", "\x7f"]
hostile = st.lists(st.one_of(st.sampled_from(INVISIBLE), st.text(max_size=5)), min_size=1, max_size=8).map("".join)


def _raw_invisible(text: str) -> list[str]:
    return [c for c in text if c not in "\t\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


@settings(max_examples=60, deadline=None)
@given(line=hostile, subject=hostile, name=hostile, note=hostile)
def test_no_format_carries_an_invisible_character(line: str, subject: str, name: str, note: str) -> None:
    hunk = make_hunk()
    hunk.lines = [replace(ln, text=line) if ln.new_no == 378 and ln.tag == "+" else ln for ln in hunk.lines]
    posting = make_posting(subject=subject, author=str(Mailbox(name, "a@b.example")),
                           files=[replace(make_posting().files[0], hunks=[hunk])])
    finding = rcu_head_shared(evidence=[line], explanation=f"why {line}")
    review = make_review([finding], posting=posting)
    review.subject, review.notes = subject, [note]
    report = make_report([review])
    for fmt in FORMATS:
        out = render(report, fmt, sender="review-bot <review-bot@example.org>")
        assert out or fmt == "checkpatch"
        body = out.split("\n\n", 1)[1] if fmt == "email" else out  # headers carry names encoded
        assert _raw_invisible(body) == [], fmt
        if fmt in ("json", "sarif"):
            data = json.loads(out)  # the same values, escaped in the text only
            if fmt == "json":
                assert data["reviews"][0]["subject"] == subject and data["reviews"][0]["notes"] == [note]
    text = render(report, "text")
    assert visible(line.replace("\r", "").replace("\n", "")) in text or not line.strip()


def test_escape_sequences_are_shown_not_run() -> None:
    assert visible("a\x1b[2Kb\u202ec\td\ne") == "a\\x1b[2Kb\\u202ec\td\ne"
