"""Plain-text helpers shared by the templates: one-line sanitising, 72-column wrapping, shell wrapping."""

from __future__ import annotations

import re
import textwrap

WIDTH = 72  # mail etiquette: prose wrapped at 72 columns

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u0085]")
_LIST_ITEM = re.compile(r"^(\s*(?:[*-]|\d+[.)])\s+)")


def oneline(value: object) -> str:
    """Collapse a value to one printable line: CR, LF and other controls become spaces.

    Untrusted subjects and names pass through here before they reach a header or a
    line of text, so they can never start a new header or fake a line of the reply.
    """
    s = _CTRL.sub(" ", str(value).replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    return re.sub(r" {2,}", " ", s).strip()


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


def _shell_words(cmd: str) -> list[str]:
    """Split a command at unquoted blanks, keeping each word's quoting exactly as written."""
    words: list[str] = []
    cur = ""
    quote = ""
    for ch in cmd:
        if quote:
            cur += ch
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            cur += ch
        elif ch.isspace():
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    return words


def shell_wrap(value: object, indent: int = 2, width: int = WIDTH) -> str:
    """Lay out a shell command within `width` using backslash continuations.

    The words stay byte-identical, so pasting the block runs exactly the command.
    """
    cmd = oneline(value)
    pad = " " * indent
    if len(pad) + len(cmd) <= width:
        return pad + cmd
    words = _shell_words(cmd)
    units: list[str] = []  # an option and its value stay on one line
    for w in words:
        if units and units[-1].startswith("-") and " " not in units[-1] and not w.startswith("-"):
            units[-1] += " " + w
        else:
            units.append(w)
    lines: list[str] = []
    cur = pad
    for word in units:
        candidate = word if cur.strip() == "" else cur + " " + word
        if cur.strip() and len(candidate) + 2 > width:
            lines.append(cur + " \\")
            cur = pad + "    " + word
        else:
            cur = candidate if cur.strip() else pad + word
    lines.append(cur)
    return "\n".join(lines)
