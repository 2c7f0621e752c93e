"""Plain-text helpers shared by the templates: one-line sanitising, 72-column wrapping, shell wrapping."""

from __future__ import annotations

import re
import shlex
import textwrap
import unicodedata

from bot.report import jsonindent

WIDTH = 72  # mail etiquette: prose wrapped at 72 columns

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u0085]")
_MAYBE_INVISIBLE = re.compile(r"[^\t\n\x20-\x7e]")  # candidates only: most text is plain ASCII
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
_LIST_ITEM = re.compile(r"^(\s*(?:[*-]|\d+[.)])\s+)")


def oneline(value: object) -> str:
    """Collapse a value to one printable line: CR, LF and other controls become spaces.

    Untrusted subjects and names pass through here before they reach a header or a
    line of text, so they can never start a new header or fake a line of the reply.
    """
    s = _CTRL.sub(" ", str(value).replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    return re.sub(r" {2,}", " ", s).strip()


def _shown(m: re.Match[str]) -> str:
    ch = m.group(0)
    if unicodedata.category(ch) not in _INVISIBLE:
        return ch
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else (f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")


def visible(text: str) -> str:
    """Text safe to show on a terminal, in a mail reader or a browser: every control character
    (ESC and OSC sequences, CR, C1), bidi override and other invisible format character becomes a
    visible escape such as \\x1b or \\u202e; tabs and line breaks stay. The one place for this:
    every template's output passes through it (report.env), and so does other printed text."""
    return _MAYBE_INVISIBLE.sub(_shown, text)


def _json_escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    if unicodedata.category(ch) not in _INVISIBLE:
        return ch
    units = ch.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))


def json_text(data: object) -> str:
    """JSON for a file or a terminal: the same values, with every invisible character (which JSON
    may carry raw outside ASCII) written as a \\u escape, so viewing the file shows it."""
    return _MAYBE_INVISIBLE.sub(_json_escape, jsonindent.dumps(data)) + "\n"


def _wrap_lines(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,  # message-ids, URLs and paths stay whole
        break_on_hyphens=False,
    ) or [first.rstrip()]


def wrap(value: object, indent: int | str = 0, width: int = WIDTH, first: str | None = None) -> str:
    """Wrap prose to `width` columns, keeping paragraphs and simple "* " / "1. " list items.

    `indent` prefixes every line; `first` replaces the prefix of the very first line
    (e.g. a label such as "Why: ").
    """
    pad = " " * indent if isinstance(indent, int) else indent
    out: list[str] = []
    lead = pad if first is None else first
    paragraphs = re.split(r"\n\s*\n", str(value).replace("\r\n", "\n").strip())
    for p_no, para in enumerate(paragraphs):
        if p_no:
            out.append("")
        chunks: list[tuple[str, str]] = []  # (marker, text) per list item or paragraph
        for line in para.split("\n"):
            m = _LIST_ITEM.match(line)
            if m:
                chunks.append((m.group(1).lstrip(), line[m.end() :].strip()))
            elif chunks:
                chunks[-1] = (chunks[-1][0], chunks[-1][1] + " " + oneline(line))
            else:
                chunks.append(("", oneline(line)))
        for marker, text in chunks:
            first_prefix = (lead if not out else pad) + marker
            out.extend(_wrap_lines(oneline(text), width, first_prefix, pad + " " * len(marker)))
            lead = pad
    return "\n".join(line.rstrip() for line in out)


def shell_wrap(value: str, indent: int = 2, width: int = WIDTH) -> str:
    """Lay out a command line (bot.commands.shell_line) within `width` using backslash continuations.

    The words are re-quoted by the same function that built the line, so pasting the block runs
    exactly the command, and an option stays on one line with its value.
    """
    from bot.commands import shell_quote

    pad = " " * indent
    if len(pad) + len(value) <= width:
        return pad + value
    units: list[str] = []
    for w in (shell_quote(w) for w in shlex.split(value)):
        if units and units[-1].startswith("-") and " " not in units[-1] and not w.startswith("-"):
            units[-1] += " " + w
        else:
            units.append(w)
    lines: list[str] = []
    cur = ""
    for unit in units:
        if cur and len(pad) + len(cur) + 1 + len(unit) + 2 > width:
            lines.append(pad + cur + " \\")
            cur = "    " + unit
        else:
            cur = f"{cur} {unit}" if cur else unit
    lines.append(pad + cur)
    return "\n".join(lines)
