"""The email reply: threading, recipients, body conventions, stability and header safety."""

from __future__ import annotations

import email
import re
from datetime import datetime, timezone
from email import policy as email_policy
from email.utils import getaddresses

from bot.report import render, render_email
from tests.test_report_fixtures import (
    BOT,
    CALL_RCU_LINE,
    COVER_MSGID,
    PATCH_MSGID,
    make_posting,
    make_report,
    make_review,
    mmgrab_cost,
    preexisting_noise,
    rcu_head_shared,
)

NOW = datetime(2023, 5, 30, 8, 0, tzinfo=timezone.utc)


def _reply(review=None, **kw):
    msg = render_email(review or make_review(), sender=BOT, policy=kw.pop("policy", None), now=NOW)
    assert msg is not None
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email_policy.default)
    return parsed


def _addrs(msg, header: str) -> list[str]:
    return [a.lower() for _, a in getaddresses(msg.get_all(header, []))]


def _body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_threading_headers_subject_and_date() -> None:
    msg = _reply()
    assert msg["Subject"] == "Re: [PATCH 07/12] s390: add pte_free_defer(), with use of mmdrop_async()"
    assert msg["In-Reply-To"] == f"<{PATCH_MSGID}>"
    assert msg["References"].split() == [f"<{COVER_MSGID}>", f"<{PATCH_MSGID}>"]
    assert msg["Date"] == "Tue, 30 May 2023 08:00:00 +0000"
    assert re.fullmatch(r"<review-bot\.[0-9a-f]{40}@example\.org>", msg["Message-ID"])
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"


def test_no_double_re() -> None:
    for subject in ("Re: [PATCH] s390: x", "RE: re:  [PATCH] s390: x", "Aw: Re[2]: [PATCH] s390: x"):
        review = make_review(posting=make_posting(subject=subject))
        review.subject = subject
        assert _reply(review)["Subject"] == "Re: [PATCH] s390: x"


def test_recipients_author_to_lists_cc_deduplicated_without_bot() -> None:
    msg = _reply()
    assert _addrs(msg, "To") == ["hughd@google.com"]
    cc = _addrs(msg, "Cc")
    assert cc == [
        "akpm@linux-foundation.org",
        "gerald.schaefer@linux.ibm.com",
        "gor@linux.ibm.com",
        "linux-s390@vger.kernel.org",
        "linux-mm@kvack.org",
    ]
    assert "review-bot@example.org" not in cc and "hughd@google.com" not in cc
    assert _addrs(msg, "From") == ["review-bot@example.org"]


def test_reply_to_policy_author_and_none() -> None:
    msg = _reply(policy={"reply_to": "author"})
    assert _addrs(msg, "To") == ["hughd@google.com"] and msg["Cc"] is None
    assert render_email(make_review(), sender=BOT, policy={"reply_to": "none"}) is None


def test_body_quotes_call_rcu_line_bottom_posted() -> None:
    body = _body(_reply())
    lines = body.splitlines()
    quoted = [i for i, ln in enumerate(lines) if ln.startswith(">")]
    call = next(i for i, ln in enumerate(lines) if ln == ">\x20+\tcall_rcu(&page->rcu_head, pte_free_now);")
    title = next(i for i, ln in enumerate(lines) if ln.startswith("RCU_HEAD_SHARED: "))
    attribution = next(i for i, ln in enumerate(lines) if ln.startswith("On ") and ln.endswith("wrote:"))
    assert "Hugh Dickins wrote:" in lines[attribution]
    # bottom-posted: attribution, then the quote, then the finding below it
    assert attribution < quoted[0] <= call < title
    assert "> diff --git a/arch/s390/mm/pgalloc.c b/arch/s390/mm/pgalloc.c" in lines
    assert any(ln.startswith("> @@ -362,6 +362,22 @@ void page_table_free(") for ln in lines)


def test_body_has_every_section_of_a_finding() -> None:
    body = _body(_reply())
    assert "RCU_HEAD_SHARED: Two tables of one page deferred in one grace period" in body
    assert "Class: correctness; introduced by this patch" in body
    assert f"Where: arch/s390/mm/pgalloc.c:{CALL_RCU_LINE}, pte_free_defer()" in body
    assert "Invariant violated: A page's rcu_head is queued at most once" in body
    assert "Why it breaks:\n  A 4K page holds two 2K page tables" in body
    assert "Fix the thread converged on:\n  Move the RCU delay" in body
    assert "  <ZHSwWgLWaEd+zi/g@casper.infradead.org>\n" in body
    assert "https://lore.kernel.org/r/ZHSwWgLWaEd+zi%2Fg@casper.infradead.org" in body
    assert "https://lore.kernel.org/r/20230601155751.7c949ca4@thinkpad-T15" in body
    assert "Not modeled" in body and "mmdrop_async() ordering" in body


def test_interleaving_table_one_column_per_context() -> None:
    body = _body(_reply())
    lines = body.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("Interleaving"))
    header = lines[head + 2]
    assert header.split() == ["CPU0", "RCU", "CPU1", "softirq@CPU0"]
    cols = {c: header.index(c) for c in header.split()}
    step1 = next(ln for ln in lines if ln.startswith("  1 "))
    step4 = next(ln for ln in lines if ln.startswith("  4!"))
    step6 = next(ln for ln in lines if ln.startswith("  6 "))
    assert step1.index("pte_free_defer(mm, T0)") == cols["CPU0"]
    assert step4.index("call_rcu(&P->rcu_head)") == cols["CPU1"]
    assert step6.index("pte_free_now(P)") == cols["softirq@CPU0"]


def test_replay_command_is_exact_after_unwrapping() -> None:
    finding = rcu_head_shared()
    body = _body(_reply())
    block = body.split("Reproduce with:\n", 1)[1].split("\n\n", 1)[0]
    joined = " ".join(part.strip() for part in block.replace("\\\n", "\n").splitlines())
    assert joined == finding.replay_public  # a reply never names a local path


def test_prose_wrapped_at_72_columns() -> None:
    review = make_review([rcu_head_shared(), mmgrab_cost(), preexisting_noise()])
    body = _body(_reply(review))
    long = [ln for ln in body.splitlines() if not ln.startswith(">") and len(ln) > 72]
    assert long == []


def test_etiquette_bot_notice_stop_and_no_trailers() -> None:
    body = _body(_reply())
    assert "automated review" in body
    footer = body.split("\n-- \n", 1)[1]
    # Nobody reads replies to a --format email reply: the footer offers no mail command it cannot keep.
    assert "review-bot: stop" not in footer and "write to review-bot@example.org" in footer
    assert not re.search(r"^(Reviewed-by|Signed-off-by|Acked-by|Tested-by):", body, re.M | re.I)
    watched = _body(_reply(policy={"commands": True}))
    footer = watched.split("\n-- \n", 1)[1]
    assert "\n  review-bot: stop\n" in footer and '"review-bot: unmute" resumes them' in footer


def test_opening_line_counts_the_correctness_findings() -> None:
    body = _body(_reply(make_review([rcu_head_shared(), mmgrab_cost()])))
    assert body.split("\n\n")[1].startswith("review-bot found 1 correctness issue introduced by this patch, plus 1")
    body = _body(_reply(make_review([mmgrab_cost()])))
    assert body.split("\n\n")[1].startswith("review-bot found no correctness issue introduced by this patch")


def test_correctness_first_preexisting_separate_cost_marked() -> None:
    review = make_review([preexisting_noise(), mmgrab_cost(), rcu_head_shared()])
    body = _body(_reply(review))
    corr = body.index("RCU_HEAD_SHARED: ")
    cost = body.index("MMGRAB_PER_TABLE: ")
    section = body.index("Pre-existing (not introduced by this patch)")
    pre = body.index("PGSTE_WARN_FALSE_POSITIVE: ")
    assert corr < cost < section < pre
    assert "Class: cost (performance/memory, not a correctness bug)" in body
    assert "Class: noise (a warning that fires in valid situations); already present" in body
    assert "Why it matters:" in body


def test_evidence_fallback_without_posting_hunk() -> None:
    review = make_review(posting=make_posting(files=[]))
    body = _body(_reply(review))
    assert "> call_rcu(&page->rcu_head, pte_free_now);" in body.splitlines()


def test_message_id_stable_and_depends_on_findings() -> None:
    a = render_email(make_review(), sender=BOT, policy=None, now=NOW)
    b = render_email(make_review(), sender=BOT, policy=None, now=datetime(2024, 1, 1, tzinfo=timezone.utc))
    c = render_email(make_review([rcu_head_shared(line=380)]), sender=BOT, policy=None, now=NOW)
    assert a is not None and b is not None and c is not None
    assert a["Message-ID"] == b["Message-ID"]
    assert a["Message-ID"] != c["Message-ID"]
    assert a.as_string() == render_email(make_review(), sender=BOT, policy=None, now=NOW).as_string()


def test_silent_without_findings_unless_positive_policy() -> None:
    assert render_email(make_review([]), sender=BOT, policy=None) is None
    assert render_email(make_review([]), sender=BOT, policy={"positive": False}) is None
    assert render_email(make_review([], relevant=False), sender=BOT, policy={"positive": True}) is None
    msg = _reply(make_review([]), policy={"positive": True})
    body = _body(msg)
    assert "found no hazard" in body and "arch/s390/mm/pgalloc.c:pte_free_defer" in body
    assert "Verdict: judged, no hazard found: 1 scenario of s390-2k-fragments" in body
    assert msg["In-Reply-To"] == f"<{PATCH_MSGID}>"
    unjudged = _body(_reply(make_review([], judged=False, not_judged=["no model covers mm/x.c"]),
                            policy={"positive": True}))
    assert "found no hazard" not in unjudged and "could not judge it" in unjudged
    assert "  - no model covers mm/x.c" in unjudged


def test_utf8_names_survive() -> None:
    posting = make_posting(author="Gerald Schäfer <gerald.schaefer@linux.ibm.com>", cc=[])
    msg = _reply(make_review(posting=posting))
    assert msg["To"].addresses[0].display_name == "Gerald Schäfer"
    assert "Gerald Schäfer wrote:" in _body(msg)


def test_hostile_subject_and_names_cannot_inject_headers() -> None:
    hostile_subject = "x\r\nBcc: evil@x\r\n\r\n<script>alert(1)</script>"
    posting = make_posting(
        subject=hostile_subject,
        author="x\r\nBcc: evil@x <hugh@example.org>",
        to=["Evil\nBcc: evil2@x <list@example.org>", "<script>@x"],
        cc=['"Mallory\r\nX-Injected: 1" <m@example.org>'],
        date="Mon\r\nBcc: evil3@x",
    )
    review = make_review(posting=posting)
    review.subject = hostile_subject
    msg = render_email(review, sender=BOT, policy=None, now=NOW)
    assert msg is not None
    raw = msg.as_bytes()
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    names = [ln.split(b":", 1)[0] for ln in header_block.split(b"\r\n") if ln and not ln[:1].isspace()]
    assert b"Bcc" not in names and b"X-Injected" not in names
    parsed = email.message_from_bytes(raw, policy=email_policy.default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    everyone = set(_addrs(parsed, "To") + _addrs(parsed, "Cc"))
    assert everyone == {"hugh@example.org", "list@example.org", "m@example.org"}
    assert "\n" not in parsed["Subject"] and parsed["Subject"].startswith("Re: x Bcc: evil@x")
    body = _body(parsed)
    assert not any(ln.startswith("Bcc:") for ln in body.splitlines())


def test_render_email_format_is_an_mbox_of_replies() -> None:
    out = render(make_report([make_review(), make_review([])]), "email", sender=BOT)
    assert out.count("\nFrom review-bot ") + out.startswith("From review-bot ") == 1
    msg = email.message_from_string(out.split("\n", 1)[1], policy=email_policy.default)
    assert msg["In-Reply-To"] == f"<{PATCH_MSGID}>"
