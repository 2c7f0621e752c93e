"""Raw message bytes → Posting (or a cover letter, or nothing), never an exception.

Throughput: most list traffic is discussion. Every message gets a cheap byte-level
header scan (Subject, Message-ID, threading); only messages that contain a diff, may
hide one (base64 parts), or are cover letters get the full stdlib `email` parse with
policy.default. Address headers are split by hand: policy.default's address parser
costs ~5 ms per 50-address Cc and raises on some real-world group syntax.
"""

from __future__ import annotations

import binascii
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.mail.addr import decode_words, msgids, parse_addresses
from bot.mail.diff import parse_diff, too_large
from bot.mail.read import Skip, msgid_of
from bot.mail.series import Cover, cover_from, parse_subject, parse_trailers
from bot.patch import Posting
from bot.proposal import looks_pasted, pasted_functions

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

_HEADER = re.compile(rb"(?m)^([!-9;-~]+)[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)")
_WANTED = {b"subject", b"message-id", b"in-reply-to", b"references", b"from", b"to", b"cc", b"date",
           b"list-id"}
_CTRL = re.compile(r"[\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_WS = re.compile(r"[ \t]+")
# In a head: a transfer encoding other than the identity ones, or a charset ASCII text is not a subset of.
_ENCODED = re.compile(rb"(?i)content-transfer-encoding:\s*(?!(?:7bit|8bit|binary)\b)[^\s;]"
                      rb"|charset\s*=\s*\"?(?:utf-?(?:16|32|7)|ucs|unicode|cp0?37\b|cp500|cp1026|ibm|ebcdic)")
_MULTIPART = re.compile(rb"(?im)^content-type:\s*multipart/")
_BOUNDARY = re.compile(rb'(?i)boundary\s*=\s*(?:"([^"\r\n]*)"|([^\s;"]*))')
_CTYPE = re.compile(rb"(?im)^content-type:[ \t]*([^;\s]*)(.*(?:\r?\n[ \t].*)*)")
_CHARSET = re.compile(rb'(?i)charset[ \t]*=[ \t]*"?([-\w.:]+)')
_CTE = re.compile(rb"(?im)^content-transfer-encoding:[ \t]*([-\w]+)")
_ENCODED_STARTS = (b"content-transfer-encoding:", b"charset")  # what each alternative of _ENCODED starts with
MAX_MIME_PARTS = 256  # a patch mail has a few; the stdlib parses one in ~1.5 ms, nests them by recursion


class _TooManyParts(Exception):
    pass


def _mime_tree(raw: bytes) -> EmailMessage:
    """The stdlib's parse of a MIME message, stopped past MAX_MIME_PARTS parts (each part, nested
    or not, is one message object the parser asks for). The stdlib's message classes are imported
    here: a plain-text patch mail, which most are, never needs them."""
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    made = 0

    def part(policy: policy.Policy = policy.default) -> EmailMessage:
        nonlocal made
        made += 1
        if made > MAX_MIME_PARTS:
            raise _TooManyParts
        return EmailMessage(policy)

    return BytesParser(part, policy=policy.default).parsebytes(raw)  # type: ignore[return-value]
_PATCH_TYPES = ("text/x-patch", "text/x-diff", "application/x-patch", "application/x-diff")


@dataclass
class Parsed:
    """One message after parsing: its threading headers and what it carries."""

    msgid: str
    subject: str
    in_reply_to: str | None
    references: list[str] = field(default_factory=list)
    posting: Posting | None = None
    cover: Cover | None = None


def has_diff(raw: bytes, head: bytes = b"") -> bool:
    """Byte-level triage: an unquoted diff, or an encoding a diff may hide under (base64,
    quoted-printable, a charset that is not ASCII-compatible, a multipart whose parts cannot be
    found), as declared in the message's head or in the heads of its parts."""
    body = raw[len(head):]
    if b"\ndiff --git " in body or (b"\n--- a/" in body and b"\n+++ b/" in body):
        return True
    heads = part_heads(head, body)
    return heads is None or any(_encoded(h) for h in heads)


def part_heads(head: bytes, body: bytes, limit: int = 256) -> list[bytes] | None:
    """The head and the heads of every MIME part (nested ones too), found by their boundaries;
    None when a multipart's boundary is missing, empty or absent from the body, or the parts are
    too many to triage: then only a full parse can tell what the message holds."""
    heads, todo = [head], [head]
    while todo:
        h = todo.pop()
        if not _header(_MULTIPART, h):
            continue
        sep = _separator(h, body)
        if sep is None:
            return None
        i = body.find(sep)
        while i >= 0:
            start = body.find(b"\n", i + 1) + 1
            end = min(x for x in (body.find(b"\n\n", start), body.find(b"\n\r\n", start), start + 8192)
                      if x >= 0)
            heads.append(body[start:end])
            todo.append(body[start:end])
            if len(heads) > limit:
                return None
            i = body.find(sep, end)
    return heads


def _separator(head: bytes, body: bytes) -> bytes | None:
    """The boundary line ("\\n--BOUNDARY") of a multipart head, None when the boundary is missing,
    empty or absent from the body."""
    m = _BOUNDARY.search(head)
    boundary = (m.group(1) if m.group(1) is not None else m.group(2)) if m else b""
    sep = b"\n--" + boundary
    return sep if boundary and sep in body else None


def _header(rx: re.Pattern[bytes], head: bytes) -> re.Match[bytes] | None:
    """rx.search(head) for a pattern "(?im)^name:...", found faster: a search tries the pattern at
    every byte, while a match can only start at a line that starts with the name, in any case."""
    name = _name_of(rx)
    low = head.lower()
    i = low.find(name)
    while i >= 0:
        if i == 0 or low[i - 1] == 0x0A:
            m = rx.match(head, i)
            if m:
                return m
        i = low.find(name, i + 1)
    return None


@lru_cache(maxsize=8)
def _name_of(rx: re.Pattern[bytes]) -> bytes:
    m = re.match(rb"\(\?im\)\^([-\w]+:)", rx.pattern)
    if m is None:
        raise ValueError(f"not a header pattern: {rx.pattern!r}")
    return m.group(1).lower()


def _encoded(head: bytes) -> bool:
    """_ENCODED.search(head), from the first place a match can start."""
    low = head.lower()
    starts = [i for i in (low.find(w) for w in _ENCODED_STARTS) if i >= 0]
    return bool(starts) and _ENCODED.search(head, min(starts)) is not None


def split_head(raw: bytes) -> bytes:
    i = raw.find(b"\n\n")
    j = raw.find(b"\n\r\n")
    ends = [x for x in (i, j) if x >= 0]
    return raw[: min(ends) + 1] if ends else raw


def _text(v: bytes) -> str:
    try:
        s = v.decode("utf-8")
    except UnicodeDecodeError:
        s = v.decode("latin-1")  # raw 8-bit header: keep every byte visible
    return s


def clean(s: str) -> str:
    """Header value: unfolded, RFC 2047 decoded, no CR/LF/control characters, spaces collapsed."""
    s = _CTRL.sub(" ", s)
    if "=?" in s:
        s = _CTRL.sub(" ", decode_words(s))
    return _WS.sub(" ", s).strip()


def quick_headers(head: bytes) -> dict[str, str]:
    """The headers we need, from the header block, first occurrence wins (as MUAs show them)."""
    out: dict[str, str] = {}
    for m in _HEADER.finditer(head):
        name = m.group(1).lower()
        if name in _WANTED:
            k = name.decode()
            if k not in out:
                out[k] = _text(m.group(2))
            elif k in ("to", "cc", "list-id"):
                out[k] += ", " + _text(m.group(2))
    return out


def addresses(v: str | None) -> list[str]:
    """The mailboxes of a raw address header as "Name" <addr> strings (bot.mail.addr)."""
    if v is not None and len(v) > MEMO_HEADER:
        return [str(m) for m in parse_addresses(v)]
    return list(_addresses(v))


MEMO_HEADER = 16_384  # longer address headers are split each time: the memo stays small


@lru_cache(maxsize=4096)
def _addresses(v: str | None) -> tuple[str, ...]:
    # The patches of a series, and the replies to them, repeat one To/Cc: split it once.
    return tuple(str(m) for m in parse_addresses(v))


def author_of(v: str | None) -> str:
    """From: as "Name" <addr>; a From: without a valid mailbox keeps only its name, quoted, which
    reads back as no address (the reply then has nobody to answer)."""
    boxes = parse_addresses(v)
    if boxes:
        return str(boxes[0])
    name = clean(v or "").replace("\\", "").replace('"', "")
    return f'"{name}"' if name else ""


def parse_message(raw: bytes) -> Parsed | Skip:
    """Never raises: any failure becomes a Skip with a one-line reason."""
    try:
        return _parse(raw)
    except Exception as e:  # noqa: BLE001 - hostile mail must not stop a scan
        return Skip(msgid_of(raw), " ".join(f"parse error: {type(e).__name__}: {e}".split())[:200])


def _parse(raw: bytes) -> Parsed | Skip:
    head = split_head(raw)
    h = quick_headers(head)
    if not h:
        return Skip(msgid_of(raw), "no mail headers")
    ids = msgids(h.get("message-id"))
    msgid = ids[0] if ids else clean(h.get("message-id", "")).strip("<>")
    if not msgid:
        msgid = "nomsgid-" + hashlib.sha1(raw[:65536]).hexdigest()[:16]
    subject = clean(h.get("subject", ""))
    irt = msgids(h.get("in-reply-to"))
    refs = msgids(h.get("references"))
    out = Parsed(msgid=msgid, subject=subject, in_reply_to=irt[0] if irt else None, references=refs)
    sub = parse_subject(subject)
    diff = has_diff(raw, head)
    cover = sub.is_patch and sub.index == 0 and not sub.is_reply
    pasted = not diff and sub.is_reply and looks_pasted(raw)  # code pasted without diff headers
    if not diff and not cover and not pasted:
        return out
    body = _simple_body(raw, head)
    if body is None and _header(_MULTIPART, head) and _separator(head, raw[len(head):]) is None:
        body = _simple_body(raw, head, as_text=True)  # no parts to find: one text part, as MUAs show it
    if body is None:
        try:
            body = body_text(_mime_tree(raw))
        except _TooManyParts:
            return Skip(msgid, f"too large to review: more than {MAX_MIME_PARTS} MIME parts")
        except RecursionError:
            return Skip(msgid, "MIME parts nested too deeply to read")
    if cover and not diff:
        out.cover = cover_from(msgid, subject, clean(h.get("date", "")), body)
        return out
    files = parse_diff(body) if diff else []
    if too_large(files):
        return Skip(msgid, f"too large to review: {too_large(files)}")
    # A reply with a whole function in it and no diff is a proposal on top of what it answers
    # (bot.proposal): a posting without files, which the judge turns into one.
    proposal = pasted and bool(pasted_functions(body))
    if not proposal and not any(f.hunks or f.binary or f.old_path != f.new_path for f in files):
        if cover:
            out.cover = cover_from(msgid, subject, clean(h.get("date", "")), body)
        return out
    out.posting = Posting(
        msgid=msgid, subject=subject, author=author_of(h.get("from")),
        to=addresses(h.get("to")), cc=addresses(h.get("cc")), date=clean(h.get("date", "")),
        in_reply_to=out.in_reply_to, references=refs, series=sub.info(), body=body, files=files,
        is_reply=sub.is_reply, list_ids=msgids(h.get("list-id")),
        trailers=parse_trailers(body),
    )
    return out


def parse(raw: bytes) -> Posting | None:
    """The simple contract: the patch a message carries, or None (also for unparseable mail)."""
    p = parse_message(raw)
    return p.posting if isinstance(p, Parsed) else None


def _simple_body(raw: bytes, head: bytes, as_text: bool = False) -> str | None:
    """Fast path for the common single-part text/plain mail (most patches): decode it directly
    with the same codecs email uses. None means "not simple": use the full email parser.
    as_text: decode the body as one text part whatever its Content-Type says."""
    ct = _header(_CTYPE, head)
    if ct and ct.group(1).lower() not in (b"text/plain", b"") and not as_text:
        return None
    cte = _header(_CTE, head)
    enc = cte.group(1).lower() if cte else b"7bit"
    data = raw[len(head):]
    data = data[2:] if data.startswith(b"\r\n") else data[1:]  # the blank line ending the headers
    if enc == b"quoted-printable":
        data = quopri.decodestring(data)
    elif enc == b"base64":
        try:
            data = binascii.a2b_base64(data)
        except binascii.Error:
            return None
    elif enc not in (b"7bit", b"8bit", b"binary"):
        return None
    cs = _CHARSET.search(ct.group(2)) if ct else None
    charset = cs.group(1).decode("ascii", "replace").lower() if cs else "utf-8"
    try:
        return data.decode(charset, "strict")
    except (LookupError, UnicodeDecodeError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # undeclared 8-bit text: keep every byte


def body_text(msg: Message) -> str:
    """Plain text of a message: the text/plain parts and attached patches, in order, decoded.

    A multipart whose boundary is missing, empty or absent from the body has no parts to find: it
    is read as one text part, as mail clients show it."""
    if not msg.is_multipart():
        if msg.get_content_maintype() == "multipart":
            return _decoded(msg)
        return _part_text(msg)
    parts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        fname = (part.get_filename() or "").lower() if ctype not in ("text/plain",) else ""
        if ctype == "text/plain" or ctype in _PATCH_TYPES or fname.endswith((".patch", ".diff")):
            parts.append(_part_text(part))
    return "\n".join(parts)


def _part_text(part: Message) -> str:
    from email.message import EmailMessage  # loaded already: part comes from _mime_tree()

    if part.get_content_maintype() not in ("text", "application") or part.is_multipart():
        return ""
    try:
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "text":
            return part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass  # unknown charset or broken encoding: fall back to raw bytes below
    return _decoded(part)


def _decoded(part: Message) -> str:
    """The payload undone from its transfer encoding, as text in its charset (else UTF-8, else
    Latin-1: every byte stays visible)."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
