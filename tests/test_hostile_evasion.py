"""Ways to hide a patch from review keep its findings: control bytes in the C (a NUL in a comment
stopped tree-sitter), and the MIME forms mail clients still show (a base64 or quoted-printable
single part, a charset that is not ASCII-compatible, a multipart whose boundary is missing, empty
or absent). Every mail is generated from the bundled example patch at test time."""

from __future__ import annotations

import base64
import quopri
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mail import load_bytes
from bot.pipeline import Options, review_postings
from tests.conftest import REPO

EXAMPLE = (REPO / "examples" / "rcu-head-shared.patch").read_bytes()
_HEAD, _, BODY = EXAMPLE.partition(b"\n\n")
HEAD = b"\n".join(ln for ln in _HEAD.split(b"\n") if not ln.lower().startswith((b"content-", b"mime-")))
HAZARD = "RCU_HEAD_SHARED"
STRAY = [bytes([c]) for c in [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]]


def hazards(raw: bytes) -> set[str]:
    res = load_bytes(raw)
    assert res.postings, res.skipped
    (review,) = review_postings(res.postings, Options(budget_seconds=20), context=res.postings)
    return {f.hazard for f in review.findings}


def test_the_plain_example_has_the_finding() -> None:
    assert HAZARD in hazards(EXAMPLE)


@st.composite
def stray_bytes_in_c(draw: st.DrawFn) -> bytes:
    """The example with control bytes inside its added comment and between tokens of added code
    (where a compiler reads them as blanks, as gcc does a NUL)."""
    lines = BODY.split(b"\n")
    added = [i for i, ln in enumerate(lines) if ln.startswith(b"+") and not ln.startswith(b"+++")]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.sampled_from(added))
        ln = lines[i]
        inside_comment = ln.startswith(b"+ * ")
        spots = ([m.start() for m in re.finditer(rb"[ \t]", ln)] + [len(ln)]
                 + (list(range(4, len(ln))) if inside_comment else []))
        at = draw(st.sampled_from(spots))
        lines[i] = ln[:at] + draw(st.sampled_from(STRAY)) + ln[at:]
    return b"\n".join(lines)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=stray_bytes_in_c())
def test_control_bytes_in_the_c_keep_the_finding(body: bytes) -> None:
    assert HAZARD in hazards(HEAD + b"\n\n" + body)


def test_nul_inside_a_comment_keeps_the_finding() -> None:
    body = BODY.replace(b"+ * fragment stays valid", b"+ * fragment \x00stays valid")
    assert b"\x00" in body and HAZARD in hazards(HEAD + b"\n\n" + body)


def _qp_split(body: bytes, cut: int) -> bytes:
    """Quoted-printable with soft line breaks cut into every "diff --git" and "--- a/"."""
    enc = quopri.encodestring(body)
    return re.sub(rb"(diff|--- a/)", lambda m: m.group(1)[:cut] + b"=\n" + m.group(1)[cut:], enc)


def _case(text: bytes, flips: list[bool]) -> bytes:
    return bytes(c ^ 0x20 if f and chr(c).isalpha() else c for c, f in zip(text, flips + [False] * len(text)))


@st.composite
def disguised(draw: st.DrawFn) -> bytes:
    flips = draw(st.lists(st.booleans(), min_size=8, max_size=8))
    kind = draw(st.sampled_from(["base64", "qp", "utf16", "utf32-b64", "no-boundary", "empty-boundary",
                                 "absent-boundary", "unquoted-absent", "nested-qp", "part-b64"]))
    b64 = base64.encodebytes(BODY)
    cte = b"Content-Transfer-Encoding: "
    if kind == "base64":
        head, body = b"Content-Type: text/plain; charset=utf-8\n" + cte + _case(b"base64", flips), b64
    elif kind == "qp":
        head, body = (b"Content-Type: text/plain\n" + cte + _case(b"quoted-printable", flips),
                      _qp_split(BODY, draw(st.integers(1, 3))))
    elif kind == "utf16":
        head, body = b"Content-Type: text/plain; charset=" + _case(b"utf-16", flips), BODY.decode().encode("utf-16")
    elif kind == "utf32-b64":
        head = b"Content-Type: text/plain; charset=UTF-32\n" + cte + b"base64"
        body = base64.encodebytes(BODY.decode().encode("utf-32"))
    elif kind in ("no-boundary", "empty-boundary", "absent-boundary", "unquoted-absent"):
        param = {"no-boundary": b"", "empty-boundary": b'; boundary=""', "absent-boundary": b'; boundary="XyZ"',
                 "unquoted-absent": b"; boundary=XyZ"}[kind]
        head, body = b"Content-Type: multipart/mixed" + param, BODY
    elif kind == "nested-qp":
        head = b'Content-Type: multipart/mixed; boundary="A"'
        body = (b"--A\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n" + cte
                + b"quoted-printable\n\n" + _qp_split(BODY, 2) + b"\n--B--\n--A--\n")
    else:
        head = b'Content-Type: multipart/mixed; boundary="A"'
        body = (b"--A\nContent-Type: text/plain\n\nSee the attachment.\n--A\nContent-Type: text/x-patch\n"
                + cte + b"BASE64\n\n" + b64 + b"--A--\n")
    return HEAD + b"\nMIME-Version: 1.0\n" + head + b"\n\n" + body


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=disguised())
def test_mime_forms_mail_clients_show_keep_the_finding(raw: bytes) -> None:
    assert HAZARD in hazards(raw)
