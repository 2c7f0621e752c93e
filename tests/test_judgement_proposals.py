"""Code pasted into a reply without diff headers is reviewed as a proposal on top of the patch it
answers, and the review says so. The replies are built at test time around a function of the real
v3 07/13 patch (as a reviewer would paste it, edited or not)."""

from __future__ import annotations

from functools import lru_cache

from bot.findings import Review
from bot.mail import load
from bot.mail.parse import parse_message
from bot.patch import Posting
from bot.pipeline import Options, review_postings
from bot.proposal import looks_pasted, pasted_functions
from bot.report.verdict import verdict_line
from tests.corpus import thread
from tests.test_judgement_edits import V3_07


@lru_cache(maxsize=1)
def _thread() -> tuple[tuple[Posting, ...], Posting]:
    res = load(str(thread(3)))
    return tuple(res.postings), next(p for p in res.postings if p.msgid == V3_07)


def pasted(name: str) -> list[str]:
    """A function of the real patch's post-image, as its lines."""
    _, p = _thread()
    post = [ln.text for fd in p.files if fd.path == "arch/s390/mm/pgalloc.c" for h in fd.hunks for ln in h.lines
            if ln.tag != "-"]
    i = next(k for k, t in enumerate(post) if t.startswith(f"void {name}("))
    return post[i:post.index("}", i) + 1]


def reply_bytes(code: list[str], quote: bool = False) -> bytes:
    _, p = _thread()
    lines = [("> " + t) if quote else t for t in code]
    body = "On Monday the author wrote:\n> Whatever was quoted.\n\nWould this not be simpler:\n\n" + "\n".join(lines) + \
        "\n\n-- \nA reviewer\n"
    head = (f"From: A Reviewer <reviewer@example.org>\nTo: list@example.org\nSubject: Re: {p.subject}\n"
            f"Message-ID: <pasted-{abs(hash(body))}@example.org>\nIn-Reply-To: <{p.msgid}>\nReferences: <{p.msgid}>\n"
            "Date: Tue, 1 Dec 2026 10:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n")
    return (head + body).encode()


def review(code: list[str]) -> Review:
    ps, _ = _thread()
    parsed = parse_message(reply_bytes(code))
    q = parsed.posting  # type: ignore[union-attr]
    assert q is not None and q.is_reply and not q.files
    (r,) = review_postings([q], Options(), context=[*ps, q])
    return r


def introduced(r: Review) -> set[str]:
    return {f.hazard for f in r.findings if f.cls == "correctness" and f.introduced}


def test_quoted_code_or_prose_alone_is_no_posting() -> None:
    parsed = parse_message(reply_bytes(pasted("pte_free_defer"), quote=True))
    assert parsed.posting is None  # type: ignore[union-attr]
    parsed = parse_message(reply_bytes(["I would rather not: the flag is enough {", "}"]))
    assert parsed.posting is None  # type: ignore[union-attr]


def test_the_pasted_function_as_posted_is_a_proposal_without_hazard() -> None:
    r = review(pasted("pte_free_defer"))
    assert r.judged and not r.not_judged and not introduced(r)
    note = next(n for n in r.notes if n.startswith("reviewed as a proposal on top of "))
    assert f"<{V3_07}>" in note and "pte_free_defer() in arch/s390/mm/pgalloc.c" in note
    assert "the reply's functions on top of <" in verdict_line(r)
    assert any(sc.startswith("s390-2k-fragments/") for sc in r.scenarios)


def test_a_proposal_with_renamed_locals_keeps_the_verdict() -> None:
    code = [t.replace("*page", "*pg").replace("page = ", "pg = ").replace("(page)", "(pg)")
            for t in pasted("pte_free_defer")]
    assert code != pasted("pte_free_defer")
    r = review(code)
    assert r.judged and not introduced(r)


def test_a_proposal_that_drops_the_deferred_flag_reuses_a_pending_half() -> None:
    code = [t for t in pasted("pte_free_defer") if "SetPageActive" not in t]
    r = review(code)
    assert "REUSE_WHILE_PENDING" in introduced(r)
    assert any(n.startswith("reviewed as a proposal on top of ") for n in r.notes)


def test_pasted_function_shapes() -> None:
    body = ("> static void quoted(void)\n> {\n> }\n\nstatic void\nfoo(struct x *y,\n    int z)\n{\n\tif (z) {\n"
            "\t\tbar();\n\t}\n}\n\nint baz(void) {\n\treturn 1;\n}\n\nif (x) {\n}\n\tvoid indented(int a)\n\t{\n"
            "\t\tb(a);\n\t}\n\tcall(a,\n\t{\n\t}\n-- \nvoid signature(void)\n{\n}\n")
    got = {f.name: f.lines for f in pasted_functions(body)}
    assert list(got) == ["foo", "baz", "indented"]
    assert got["indented"] == ["void indented(int a)", "{", "\tb(a);", "}"]
    assert got["foo"][:2] == ["static void", "foo(struct x *y,"] and got["foo"][-1] == "}"
    assert got["baz"] == ["int baz(void) {", "\treturn 1;", "}"]


def test_the_byte_prefilter_keeps_every_shape_pasted_functions_takes() -> None:
    shapes = ["void f(void)\n{\n}\n", "int baz(void) {\n\treturn 1;\n}\n",
              "\tvoid indented(int a)\n\t{\n\t\tb(a);\n\t}\n", "  int two(void) {\r\n  }\r\n"]
    for body in shapes:
        assert pasted_functions(body.replace("\r", "")), body
        assert looks_pasted(body.encode()), body
    assert not looks_pasted(b"> void q(void)\n> {\n> }\nprose only\n")
