"""Message parsing: real corpus facts and synthetic hostile headers/bodies."""

from __future__ import annotations

import base64
import time

from bot.mail import load, load_bytes
from bot.mail.parse import Parsed, addresses, clean, parse, parse_message
from bot.mail.read import Skip
from tests.corpus import thread

V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"
DIFF = b"""---
 mm/a.c | 1 +
diff --git a/mm/a.c b/mm/a.c
--- a/mm/a.c
+++ b/mm/a.c
@@ -5,2 +5,3 @@ void f(void)
 \ta();
+\tb();
 }
"""


def mail(subject: bytes = b"[PATCH] mm: x", body: bytes = DIFF, extra: bytes = b"") -> bytes:
    return (b"From: Dev <dev@example.org>\nTo: list@example.org\nSubject: " + subject
            + b"\nMessage-ID: <p1@example.org>\n" + extra + b"\nchangelog\n\n" + body)


def test_v1_07_12_s390_hunk_line_numbers():
    res = load(str(thread(1)))
    p = res.posting(V1_07)
    assert p is not None and p.subject.startswith("[PATCH 07/12] s390: add pte_free_defer()")
    assert p.author == "Hugh Dickins <hughd@google.com>"
    [f] = [f for f in p.files if f.path == "arch/s390/mm/pgalloc.c"]
    [h] = f.hunks
    # checked by hand: "@@ -346,6 +346,40 @@"; the call is the 34th line of the hunk,
    # with 33 context/added lines before it (no removals), so it is post-image line 346 + 33
    assert (h.new_start, h.new_len) == (346, 40)
    [ln] = [ln for ln in h.lines if ln.text.strip() == "call_rcu(&page->rcu_head, pte_free_now);"]
    assert ln.tag == "+" and ln.new_no == 379 and ln.old_no is None
    assert h.lines.index(ln) == 33 and all(x.tag != "-" for x in h.lines[:33])
    assert ("Signed-off-by", "Hugh Dickins <hughd@google.com>") in p.trailers
    assert len(p.cc) > 20 and all("\n" not in a and "\r" not in a for a in p.cc)


def test_seed_reply_without_unquoted_diff_is_not_a_posting():
    res = load(str(thread(1)))
    assert res.posting("422e8778-444c-d291-988c-26fc041a481@google.com") is None
    replies = [p for p in res.postings if p.is_reply]
    assert replies and all(p.subject.startswith("Re:") for p in replies)
    assert all(p.files and p.files[0].hunks for p in replies)


def test_folded_subject_is_unfolded():
    res = load(str(thread(3)))
    subjects = {p.subject for p in res.postings}
    assert "[PATCH v3 07/13] s390: add pte_free_defer() for pgtables sharing page" in subjects
    assert all("\n" not in s and "  " not in s for s in subjects)


def test_cr_lf_in_subject_and_encoded_words_are_stripped():
    raw = mail(subject=b"[PATCH] =?utf-8?q?caf=C3=A9=0D=0ABcc=3A_x?=\r\n\tsplit")
    p = parse(raw)
    assert p is not None
    assert p.subject == "[PATCH] caf\u00e9 Bcc: x split"
    assert clean("a\r\nb\x00c") == "a b c"


def test_ten_thousand_recipients_parse_quickly():
    cc = b", ".join(b'"User, %d" <u%d@example.org>' % (i, i) for i in range(10_000))
    raw = mail(extra=b"Cc: " + cc + b"\n")
    t = time.perf_counter()
    p = parse(raw)
    assert time.perf_counter() - t < 2.0
    assert p is not None and len(p.cc) == 10_000 and p.cc[1] == '"User, 1" <u1@example.org>'


def test_addresses_split_outside_quotes_and_comments():
    assert addresses('"Doe, J" <j@x>, k@y (Kay, K), =?utf-8?q?J=C3=B6rg?= <jo@z>') == [
        '"Doe, J" <j@x>', '"Kay, K" <k@y>', "J\u00f6rg <jo@z>"]


def test_non_utf8_body_and_quoted_printable():
    latin = mail(body=DIFF.replace(b"b();", b"b(); /* na\xefve */"),
                 extra=b"Content-Type: text/plain; charset=iso-8859-1\n")
    assert "na\u00efve" in parse(latin).body
    undeclared = mail(body=DIFF.replace(b"b();", b"b(); /* \xff */"))
    assert parse(undeclared).files[0].hunks[0].lines[1].text.startswith("\tb();")
    qp = mail(body=DIFF.replace(b"b();", b"b(); /* =3D */"), extra=b"Content-Transfer-Encoding: quoted-printable\n")
    assert "/* = */" in parse(qp).body


def test_multipart_with_base64_attached_patch():
    att = base64.encodebytes(DIFF)
    raw = (b"From: Dev <dev@example.org>\nSubject: [PATCH] attached\nMessage-ID: <a@b>\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nsee attached\n"
           b"--XX\nContent-Type: text/x-patch; name=0001.patch\nContent-Transfer-Encoding: base64\n"
           b"Content-Disposition: attachment; filename=0001.patch\n\n" + att + b"--XX--\n")
    p = parse(raw)
    assert p is not None and p.files[0].path == "mm/a.c"
    assert "see attached" in p.body


def test_reply_with_unquoted_diff_is_a_reply_posting_and_quoted_only_is_not():
    quoted = b"\n".join(b"> " + ln for ln in DIFF.splitlines())
    assert parse(mail(subject=b"Re: [PATCH 1/2] x", body=quoted)) is None
    p = parse(mail(subject=b"Re: [PATCH 1/2] x", body=quoted + b"\n\nHow about:\n\n" + DIFF))
    assert p is not None and p.is_reply and p.series.index == 1


def test_headers_only_garbage_and_empty_are_skips_not_exceptions():
    assert isinstance(parse_message(b""), Skip)
    assert isinstance(parse_message(b"\x00\xff\xfe garbage without headers"), Skip)
    r = parse_message(b"Subject: only headers")
    assert isinstance(r, Parsed) and r.posting is None and r.msgid.startswith("nomsgid-")


def test_bad_charset_and_broken_mime_do_not_raise():
    raw = mail(extra=b"Content-Type: text/plain; charset=x-no-such-charset\n")
    assert parse(raw).files[0].path == "mm/a.c"
    broken = (b"Subject: [PATCH] m\nMessage-ID: <m@x>\nContent-Type: multipart/mixed; boundary=\"\n\n"
              b"--\n" + DIFF)
    res = load_bytes(b"From x Thu Jan  1 00:00:00 1970\n" + broken)
    assert res.messages == 1 and len(res.postings) + len(res.skipped) == 1


def test_header_lookups_find_what_a_regex_search_finds() -> None:
    """The fast header lookups of the triage give the regex search's match on heads where the name
    starts the head, hides inside another header's value or a longer name, changes case, or folds."""
    from bot.mail import parse as P

    heads = [
        b"Content-Type: text/plain; charset=utf-8\nSubject: x\n",
        b"Subject: x\nX-Content-Type: multipart/mixed\ncontent-TYPE:  multipart/alternative;\n boundary=b\n",
        b"Subject: about Content-Type: multipart/x\nContent-Transfer-Encoding: BASE64\n",
        b"Subject: x\r\nCONTENT-TRANSFER-ENCODING:\tquoted-printable\r\nContent-Type: text/plain;\r\n\tcharset=UTF-16\r\n",
        b"Subject: x\nContent-Transfer-Encoding: 8bit\nContent-Type: text/plain; charset=\"ebcdic\"\n",
        b"Subject: no such headers\n",
        b"",
    ]
    for head in heads:
        for rx in (P._MULTIPART, P._CTYPE, P._CTE):
            want, got = rx.search(head), P._header(rx, head)
            assert (want and want.span()) == (got and got.span()), (rx.pattern, head)
        assert P._encoded(head) == bool(P._ENCODED.search(head)), head
    assert P._header(P._CTE, heads[2]) is not None and P._header(P._MULTIPART, heads[2]) is None
    assert P._encoded(heads[3]) and P._encoded(heads[4]) and not P._encoded(heads[0])
