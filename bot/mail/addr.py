"""Address lists (From, To, Cc) and Message-IDs: parsed by structure, never by decoded text.

A header is split into mailboxes on its raw text (commas outside "quoted strings", (comments) and
<angle addresses>; group syntax "name: a, b;" included) before any RFC 2047 encoded word is
decoded, and only a display name is ever decoded. So a name that decodes to
"x, attacker@example.com" stays one name: it can never add a recipient, and an encoded word
alone is no address. Incoming mail (bot.mail.parse) and the reply's recipients (bot.report.reply)
both read addresses here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NAME = 200  # characters of a display name kept (a name is for people, not for payloads)
MAX_MSGID = 250  # a real Message-ID is < 120 characters; one line of a header is 998 octets
_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                        r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
# id-left "@" id-right of RFC 5322, as printable ASCII without blanks, quotes, brackets or backslash
_MSGID = re.compile(r"[!#-'*-;=?-Z^-~]+@[!#-'*-;=?-Z^-~]+")
_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]+")  # and bidi
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]|=\?')  # a name holding one of these is written quoted
_ANGLE_IDS = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class Mailbox:
    name: str  # display name: decoded, one line, may be ""
    addr: str  # addr-spec, ASCII

    def __str__(self) -> str:
        """ "Name" <addr>, the name quoted so that it reads back as exactly this mailbox."""
        if not self.name:
            return self.addr
        if not _SPECIALS.search(self.name):
            return f"{self.name} <{self.addr}>"
        quoted = self.name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{self.addr}>'


def _one_line(s: str) -> str:
    return " ".join(_CTRL.sub(" ", s).split())


def decode_words(s: str) -> str:
    """RFC 2047 encoded words decoded; a broken one stays as sent. The stdlib's header classes are
    imported here: most headers hold none."""
    if "=?" not in s:
        return s
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(s)))
    except Exception:  # noqa: BLE001 - a broken encoded word stays as sent
        return s


def _decode(s: str) -> str:
    return _one_line(decode_words(_one_line(s)))[:MAX_NAME]


@dataclass
class _Part:
    phrase: str = ""  # the display name as written, quoted strings unquoted
    quoted: bool = False  # the phrase held a quoted string (then it is no bare address)
    angle: str | None = None  # the <address>, None when the part has none
    comment: str = ""


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)("?)|(\()|<([^<>]*)(>?)|([,;:])|([^",;:(<]+)', re.S)
_UNESCAPE = re.compile(r"\\(.)", re.S)


def _comment(value: str, i: int) -> tuple[str, int]:
    """The (nested) comment opening at value[i-1]: its text and the index after it."""
    depth, out = 1, []
    while i < len(value) and depth:
        ch = value[i]
        if ch == "\\":
            out.append(value[i + 1 : i + 2])
            i += 2
            continue
        depth += ch == "("
        depth -= ch == ")"
        if depth:
            out.append(ch)
        i += 1
    return "".join(out), i


def _split(value: str) -> list[_Part]:
    """Top-level parts of an address list, split on "," and ";" outside quotes, comments and <>."""
    parts: list[_Part] = []
    cur, phrase, comment = _Part(), [], []
    pos = 0
    while pos < len(value):
        m = _TOKEN.match(value, pos)
        if m is None:  # an unmatched ">" or a lone char: text of the phrase
            phrase.append(value[pos])
            pos += 1
            continue
        pos = m.end()
        quoted, paren, angle, closed, sep, text = m.group(1, 3, 4, 5, 6, 7)
        if text is not None:
            phrase.append(text)
        elif quoted is not None:
            cur.quoted = True
            phrase.append(_UNESCAPE.sub(r"\1", quoted))
        elif paren is not None:
            c, pos = _comment(value, pos)
            comment.append(c)
        elif angle is not None:
            cur.angle = angle if closed else None  # an unclosed <: no address
        elif sep == ":" and cur.angle is None:
            phrase, cur.quoted = [], False  # "group-name:" opens a group; the name is no mailbox
        elif sep in (",", ";"):
            cur.phrase, cur.comment = "".join(phrase), " ".join(comment)
            parts.append(cur)
            cur, phrase, comment = _Part(), [], []
        else:
            phrase.append(sep)
    cur.phrase, cur.comment = "".join(phrase), " ".join(comment)
    parts.append(cur)
    return parts


def parse_addresses(value: str | None) -> list[Mailbox]:
    """Every valid mailbox of a raw address header, in order; anything else is dropped."""
    out: list[Mailbox] = []
    for part in _split(_one_line(value or "")):
        if part.angle is not None:
            addr = part.angle.rsplit(":", 1)[-1].strip()  # drop an obsolete source route "@a,@b:"
            name = part.phrase
        elif part.quoted:
            continue  # a quoted string alone is a name without an address
        else:
            addr, name = part.phrase.strip(), ""
        if not name.strip() and part.comment:
            name = part.comment  # "addr (Name)", the old style
        if not _ADDR_SPEC.fullmatch(addr):
            continue
        out.append(Mailbox(_decode(name), addr))
    return out


def parse_mailbox(value: str | None) -> Mailbox | None:
    """The one mailbox a value holds, or None when it holds none or several."""
    boxes = parse_addresses(value)
    return boxes[0] if len(boxes) == 1 else None


def valid_msgid(msgid: str) -> bool:
    """A Message-ID (without <>) that can stand in In-Reply-To and References as sent."""
    return len(msgid) <= MAX_MSGID and _MSGID.fullmatch(msgid) is not None


def msgids(value: str | None) -> list[str]:
    """The <id>s of a Message-ID, In-Reply-To or References header, without <>, in order."""
    return _ANGLE_IDS.findall(value) if value else []
