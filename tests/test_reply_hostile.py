"""Replies to hostile mail: every `--format email` output parses back as exactly one message per
reply, with exactly the original recipients and well-formed In-Reply-To/References.

The original mail is generated: display names with CR/LF, "From ", "Bcc:", commas, quotes,
encoded words that decode to addresses, unicode and 500-character names; Message-IDs valid
(up to 250 characters, so folding is needed) and malformed (blanks, quotes, non-ASCII, 2000
characters); patch lines with terminal escapes and lines longer than 998 octets. The oracle is
the generator's own list of the mailboxes it wrote, never the bot's parser.
"""

from __future__ import annotations

import base64
import email
import mailbox
import re
from dataclasses import dataclass, replace
from email import policy as email_policy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mail import load_bytes, mboxrd
from bot.mail.read import read_bytes
from bot.report import render
from tests.test_report_fixtures import BOT, make_hunk, make_posting, make_report, make_review, rcu_head_shared

BOT_ADDR = "review-bot@example.org"
NASTY = ["\r\n", "\n", "\r", "From ", "\nFrom evil@example.org Mon Jan  1 00:00:00 2024\n", "Bcc: attacker@evil.example",
         ", attacker@evil.example", '"', "\\", "<", ">", "(", ")", ":", ";", "@", "=?utf-8?q?x?=",
         "\nReviewed-by: Linus Torvalds <torvalds@linux-foundation.org>", "Reviewed-by: x <y@z.example>",
         "\x1b]0;pwned\x07", "\u202e", "é", "中文", " ", "\t", "x" * 500]
name_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=6).map("".join)
atom = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
addr_specs = st.builds(lambda a, b, c: f"{a}@{b}.{c}", atom, atom, st.sampled_from(["org", "example", "com"]))
dot_atom = st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=40),
                    min_size=1, max_size=6).map(".".join)
valid_ids = st.builds(lambda a, b: f"{a}@{b}"[:250], dot_atom, dot_atom)
malformed_ids = st.one_of(
    st.builds(lambda a, b: f"{a} {b}@x.example", atom, atom),
    st.builds(lambda a: f'"{a}"@x.example', atom),
    st.builds(lambda a: f"{a}é@x.example", atom),
    st.builds(lambda a: a * 400 + "@x.example", atom),
    st.just("no-at-sign"),
)


@dataclass
class Box:
    name: str
    addr: str
    form: str  # how the generator wrote it: encoded, quoted, bare, comment


def _encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?=" if text else ""


def _write(b: Box) -> str:
    if b.form == "encoded":
        return f"{_encoded(b.name)} <{b.addr}>"
    if b.form == "quoted":
        name = re.sub(r"[\r\n]", " ", b.name).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{name}" <{b.addr}>'
    if b.form == "comment":
        name = re.sub(r"[\r\n()\\]", " ", b.name)
        return f"{b.addr} ({name})"
    return b.addr


boxes = st.builds(Box, name_text, addr_specs, st.sampled_from(["encoded", "quoted", "bare", "comment"]))
# Decoys hold no address however their text reads once decoded: they must add no recipient.
decoys = st.sampled_from([
    _encoded("x, attacker@evil.example"),
    _encoded("attacker@evil.example"),
    '"attacker@evil.example"',
    "=?utf-8?b?PGF0dGFja2VyQGV2aWwuZXhhbXBsZT4=?=",  # "<attacker@evil.example>"
    "undisclosed-recipients:;",
])


@st.composite
def originals(draw: st.DrawFn) -> tuple[bytes, dict]:
    author = draw(boxes.filter(lambda b: b.form != "bare"))
    to = draw(st.lists(boxes, max_size=3))
    cc = draw(st.lists(boxes, max_size=4))
    decoy = draw(st.lists(decoys, max_size=2))
    ids = st.tuples(st.booleans(), valid_ids, malformed_ids).map(lambda t: (t[0], t[1] if t[0] else t[2]))
    parent_ok, msgid = draw(ids)
    refs = draw(st.lists(ids, max_size=4))
    subject = draw(name_text)
    date = draw(name_text)
    cc_header = ", ".join([_write(b) for b in cc] + decoy)
    head = [
        f"From: {_write(author)}",
        f"To: {', '.join(_write(b) for b in to) or 'list@vger.example'}",
        f"Cc: {cc_header}",
        f"Subject: {_encoded('[PATCH] ' + subject)}",
        f"Date: {_encoded(date)}",
        f"Message-ID: <{msgid}>",
        f"References: {' '.join(f'<{r}>' for _ok, r in refs)}",
    ]
    raw = ("\n".join(head) + "\n\n---\ndiff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1,1 +1,2 @@\n a\n+b\n")
    everyone = [author, *to, *cc] if to else [author, Box("", "list@vger.example", "bare"), *cc]
    expect = {
        "recipients": {b.addr.lower() for b in everyone} - {BOT_ADDR},
        "to": author.addr.lower(),
        "parent": msgid if parent_ok else None,
        "refs": [r for ok, r in refs if ok],
    }
    return raw.encode(), expect


def _hostile_hunk(text: str):
    hunk = make_hunk()
    hunk.lines = [replace(ln, text=text) if ln.new_no == 378 and ln.tag == "+" else ln for ln in hunk.lines]
    return hunk


def _reply_mbox(raw: bytes, patch_line: str) -> str:
    (posting,) = load_bytes(raw).postings
    posting.files = [replace(make_posting().files[0], hunks=[_hostile_hunk(patch_line)])]
    review = make_review([rcu_head_shared()], posting=posting)
    return render(make_report([review]), "email", sender=BOT)


def _ids(value: str | None) -> list[str]:
    tokens = (value or "").split()
    assert all(re.fullmatch(r"<[^<>\s]+>", t) for t in tokens), value
    return [t[1:-1] for t in tokens]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(original=originals(), patch_line=st.one_of(name_text, st.text(min_size=1000, max_size=3000)))
def test_reply_parses_back_as_one_message_with_the_original_recipients(
    tmp_path_factory, original: tuple[bytes, dict], patch_line: str
) -> None:
    raw, expect = original
    if expect["to"] == BOT_ADDR:
        return
    out = _reply_mbox(raw, patch_line)
    data = out.encode("utf-8", "surrogateescape")
    # one message, to the stdlib's strict "From " splitting and to our own mboxrd reader
    path = Path(tmp_path_factory.mktemp("mbox")) / "reply.mbox"
    path.write_bytes(data)
    box = mailbox.mbox(str(path), create=False)
    assert len(box) == 1
    (ours,) = list(read_bytes(data))
    assert isinstance(ours, bytes)
    for line in ours.split(b"\n"):
        assert len(line.rstrip(b"\r")) <= 998, line[:80]
    msg = email.message_from_bytes(ours, policy=email_policy.default)
    assert not msg.defects, msg.defects
    assert {k.lower() for k in msg.keys()} <= {
        "from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
        "x-mailer", "mime-version", "content-type", "content-transfer-encoding"}
    assert len(msg.get_all("To")) == 1 and len(msg.get_all("Cc") or [None]) == 1
    # recipients: exactly the mailboxes the original held, read back by the stdlib's parser
    to = [a.addr_spec.lower() for a in msg["To"].addresses]
    cc = [a.addr_spec.lower() for a in msg["Cc"].addresses] if msg["Cc"] else []
    assert to == [expect["to"]]
    assert set(to + cc) == expect["recipients"] and len(to + cc) == len(set(to + cc))
    # threading: msg-ids as sent, folded at blanks, never encoded
    head = ours.split(b"\n\n", 1)[0].decode("ascii", "replace")
    assert not re.search(r"(?im)^(in-reply-to|references|message-id):(.*\n[ \t])*.*=\?[-\w]+\?[bq]\?", head)
    irt = _ids(msg["In-Reply-To"])
    assert irt == ([expect["parent"]] if expect["parent"] else [])
    want_refs = list(dict.fromkeys(expect["refs"] + ([expect["parent"]] if expect["parent"] else [])))
    assert _ids(msg["References"]) == want_refs
    # the body: readable encoding, and nothing from the mail starts a line of it
    assert msg["Content-Transfer-Encoding"] in ("7bit", "8bit", "quoted-printable")
    body = msg.get_content()
    for line in body.splitlines():
        assert not line.startswith("From ") and not re.match(r"[\w-]+-by:", line, re.I), line
        assert "\x1b" not in line and "\u202e" not in line and "\r" not in line
    (attribution,) = [ln for ln in body.splitlines() if ln.endswith(" wrote:")]
    assert attribution.startswith("On ")


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.one_of(st.sampled_from(["From ", ">From ", ">>From x", "\n", "From"]), st.text(max_size=5)))
       .map("".join))
def test_mboxrd_round_trip_is_one_message(text: str) -> None:
    msg = "Subject: x\n\n" + text.replace("\r", "")
    data = (mboxrd.message(msg) * 2).encode()
    got = list(read_bytes(data))
    assert len(got) == 2
    want = (msg if msg.endswith("\n") else msg + "\n") + "\n"  # the reader keeps the blank line before From_
    assert all(g == want.encode() for g in got)


def test_forged_attribution_from_the_issue() -> None:
    """A display name crafted to wrap onto column 0 as a second message or a review tag."""
    name = ("x " * 30 + "From torvalds@linux-foundation.org Mon Jan  1 00:00:00 2024 "
            "Reviewed-by: Linus Torvalds <torvalds@linux-foundation.org>")
    raw = (f'From: "{name}" <a@b.example>\nTo: list@vger.example\nSubject: [PATCH] x\n'
           "Message-ID: <p@x.example>\n\n---\ndiff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1 +1,2 @@\n a\n+b\n")
    out = _reply_mbox(raw.encode(), "b")
    assert len(list(read_bytes(out.encode()))) == 1
    assert "On the list, a@b.example wrote:" in out or re.search(r"^On .*, a@b\.example wrote:$", out, re.M)
    assert not re.search(r"^(From |Reviewed-by:)", out.split("\n", 1)[1], re.M)


def test_quoted_long_patch_line_is_quoted_printable_not_base64() -> None:
    raw = (b'From: A <a@b.example>\nTo: l@v.example\nSubject: [PATCH] x\nMessage-ID: <p@x.example>\n\n'
           b"---\ndiff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1 +1,2 @@\n a\n+b\n")
    for line, cte in (("b", "7bit"), ("\u00e9t\u00e9", "8bit"), ("y" * 2000, "quoted-printable")):
        out = _reply_mbox(raw, line)
        msg = email.message_from_bytes(out.split("\n", 1)[1].encode(), policy=email_policy.default)
        assert msg["Content-Transfer-Encoding"] == cte
        assert line in msg.get_content()


def test_the_cli_writes_one_message_per_reply_to_the_original_recipients(tmp_path: Path) -> None:
    """`check --format email` as the list bot runs it, on three hostile postings of one mbox: three
    messages, each to its own author and the original recipients, threaded by msg-ids as sent."""
    from tests.conftest import REPO, run_cli

    example = (REPO / "examples" / "rcu-head-shared.patch").read_text().split("\n", 1)[1]
    long_id = ".".join(["x" * 60] * 3) + "@evil.example"  # 190 characters: the header must fold
    # valid ids with shell metacharacters (all atext), and one malformed (parentheses): it is left out
    ids = [long_id, "p2'$`touch${IFS}canary`'&|*?#~!@evil.example", "p3'$(touch${IFS}canary)'@evil.example"]
    evil = _encoded("Linus\r\nBcc: attacker@evil.example\r\n\r\nFrom torvalds@example.org")
    posts = []
    for i, msgid in enumerate(ids):
        head = (f"From: {evil} <dev{i}@example.org>\n"
                f"To: list@vger.example, {_encoded('x, attacker@evil.example')}\n"
                f'Cc: "a, <b@evil.example>" <cc{i}@example.org>, =?utf-8?q?Z=0D=0A?= <z@example.org>\n'
                f"References: <root@example.org>\n")
        mail = example.replace("<example-rcu-head-shared-1@example.org>", f"<{msgid}>")
        top, body = mail.split("\n\n", 1)
        mail = "\n".join(ln for ln in top.split("\n") if not ln.startswith(("From:", "To:", "Cc:"))) + "\n\n" + body
        posts.append(f"From mboxrd@z Thu Jan  1 00:00:00 1970\n{head}{mail}\n")
    (tmp_path / "posts.mbox").write_text("".join(posts))
    res = run_cli("check", "--mbox", "posts.mbox", "--format", "email", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    data = res.stdout.encode()
    (tmp_path / "out.mbox").write_bytes(data)
    assert len(mailbox.mbox(str(tmp_path / "out.mbox"), create=False)) == len(ids)
    replies = list(read_bytes(data))
    assert len(replies) == len(ids) and not (tmp_path / "canary").exists()
    for i, (raw, msgid) in enumerate(zip(replies, ids)):
        assert isinstance(raw, bytes)
        assert all(len(line.rstrip(b"\r")) <= 998 for line in raw.split(b"\n"))
        msg = email.message_from_bytes(raw, policy=email_policy.default)
        assert not msg.defects and msg["Bcc"] is None
        assert [a.addr_spec for a in msg["To"].addresses] == [f"dev{i}@example.org"]
        assert {a.addr_spec for a in msg["Cc"].addresses} == {"list@vger.example", f"cc{i}@example.org",
                                                              "z@example.org"}
        parent = [msgid] if "(" not in msgid else []
        assert _ids(msg["In-Reply-To"]) == parent and _ids(msg["References"]) == ["root@example.org", *parent]
        assert not re.search(rb"(?im)^(bcc|from ).*", raw.split(b"\n\n", 1)[0].split(b"\n", 1)[1])
