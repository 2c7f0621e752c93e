"""Subject prefixes, trailers and series assembly on the three pte-free-defer threads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail import load
from bot.mail.series import parse_subject, parse_trailers, title_key
from tests.corpus import thread

TITLE = "mm: free retracted page table by RCU"


def test_subject_prefix_forms():
    cases = {
        "[PATCH 07/12] s390: x": (False, False, None, 7, 12, []),
        "[PATCH v2 07/12] s390: x": (False, False, 2, 7, 12, []),
        "[PATCH v3 07/13 fix] s390: x": (False, False, 3, 7, 13, ["fix"]),
        "[PATCH mm 10/12] s390: x": (False, False, None, 10, 12, ["mm"]),
        "[RFC PATCH] s390: x": (False, True, None, None, None, []),
        "[RFC PATCH v2 3/5] s390: x": (False, True, 2, 3, 5, []),
        "[BUG] Re: [PATCH v3 10/13] s390: x": (True, False, 3, 10, 13, ["BUG"]),
        "Re: [PATCH 07/12] s390: x": (True, False, None, 7, 12, []),
        "RE: [PATCH 07/12] s390: x": (True, False, None, 7, 12, []),
        "Aw: Re: [PATCHv4 1/2] s390: x": (True, False, 4, 1, 2, []),
        "[PATCH RESEND net-next v5 2/9] s390: x": (False, False, 5, 2, 9, ["RESEND", "net-next"]),
        "[RFC][PATCH 0/3] s390: x": (False, True, None, 0, 3, []),
    }
    for subject, (reply, rfc, rev, idx, tot, extra) in cases.items():
        s = parse_subject(subject)
        assert (s.is_reply, s.rfc, s.revision, s.index, s.total, s.extra) == (reply, rfc, rev, idx, tot, extra), subject
        assert s.title == "s390: x" and s.is_patch
    plain = parse_subject("Re: s390: question  about\tpgtables")
    assert not plain.is_patch and plain.is_reply and plain.title == "s390: question about pgtables"


def test_series_info_defaults_for_a_lone_patch():
    info = parse_subject("[PATCH] mm: x").info()
    assert (info.revision, info.index, info.total, info.key) == (1, 1, 1, "subject:mm: x")


def test_trailers():
    body = ("mm: thing\n\nWhy.\n\nFixes: 0123456789ab (\"mm: old\")\nLink: https://lore.kernel.org/r/x@y\n"
            "Reviewed-by: A <a@x>\nacked-by: B <b@x>\nTested-by: C <c@x>\nSigned-off-by: D <d@x>\n---\n"
            "diff --git a/f b/f\n+Reviewed-by: not a trailer\n-- \n2.40\n\nbase-commit: abcdef0123\n"
            "change-id: 20230529-thing-1234\n")
    assert parse_trailers(body) == [
        ("Fixes", '0123456789ab ("mm: old")'), ("Link", "https://lore.kernel.org/r/x@y"),
        ("Reviewed-by", "A <a@x>"), ("Acked-by", "B <b@x>"), ("Tested-by", "C <c@x>"),
        ("Signed-off-by", "D <d@x>"), ("base-commit", "abcdef0123"), ("change-id", "20230529-thing-1234")]


def _series(n: int):
    res = load(str(thread(n)))
    [s] = [s for s in res.series if s.cover is not None]
    return res, s


def test_v1_cover_and_twelve_patches():
    res, s = _series(1)
    assert res.messages == 63
    assert s.cover.subject == f"[PATCH 00/12] {TITLE}"
    assert (s.revision, s.total, sorted(s.patches), s.missing) == (1, 12, list(range(1, 13)), [])
    p7 = s.patches[7]
    assert p7.msgid == "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
    assert (p7.series.cover, p7.series.revision, p7.series.index, p7.series.total) == (s.cover.msgid, 1, 7, 12)


def test_v2_cover_and_twelve_patches():
    res, s = _series(2)
    assert res.messages == 46
    assert (s.revision, s.total, sorted(s.patches)) == (2, 12, list(range(1, 13)))
    assert "[PATCH mm 10/12]" in {p.subject[:16] for p in s.followups}


def test_v3_cover_thirteen_patches_and_the_fix():
    res, s = _series(3)
    assert res.messages == 34
    assert (s.revision, s.total, sorted(s.patches)) == (3, 13, list(range(1, 14)))
    [fix] = [p for p in s.followups if p.subject.startswith("[PATCH v3 07/13 fix]")]
    assert (fix.series.revision, fix.series.index, fix.series.total, fix.series.extra) == (3, 7, 13, ["fix"])
    assert fix.series.cover == s.cover.msgid and not fix.is_reply
    assert any(f.path == "arch/s390/mm/pgalloc.c" for f in fix.files)
    # "[PATCH mm 12/13]" has no vN: it inherits v3 from the cover it is threaded to
    [mm] = [p for p in s.followups if p.subject.startswith("[PATCH mm 12/13]")]
    assert mm.series.revision == 3 and mm.series.extra == ["mm"]
    [bug] = [p for p in s.followups if p.subject.startswith("[BUG] Re:")]
    assert bug.is_reply and bug.series.index == 10


def test_three_revisions_share_one_key():
    keys, revs = set(), []
    for n in (1, 2, 3):
        _, s = _series(n)
        keys.add(s.key)
        revs.append(s.revision)
        assert all(p.series.key == s.key for p in s.patches.values())
    assert keys == {title_key(TITLE)} and revs == [1, 2, 3]


_word = st.sampled_from(["PATCH", "RFC", "v2", "V10", "07/12", "0/3", "fix", "mm", "Re:", "RE:", "Aw:", "[", "]",
                         "[PATCH", "BUG]", " ", ":", "x", "PATCHv3", "99999999/0", "\r\n", "\t"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(_word, max_size=15).map(" ".join)))
def test_subject_parser_never_raises_and_is_idempotent_on_title(subject: str):
    s = parse_subject(subject)
    assert "\n" not in s.title and "\r" not in s.title
    info = s.info()
    assert info.revision >= 1 and info.total >= 0 and info.key.startswith("subject:")
    # re-parsing a bare title finds no further prefix unless the title itself starts with one
    if not s.title.startswith("[") and not parse_subject(s.title).is_reply:
        assert parse_subject(s.title).title == s.title


@given(st.integers(0, 999), st.integers(1, 999), st.integers(1, 99), st.sampled_from(["", "RFC "]))
def test_subject_round_trip(idx: int, total: int, rev: int, rfc: str):
    s = parse_subject(f"[{rfc}PATCH v{rev} {idx}/{total}] mm: title")
    assert (s.index, s.total, s.revision, s.rfc, s.title) == (idx, total, rev, bool(rfc), "mm: title")
