"""The mboxrd format, both ways: a body line starting with ">*From " gains one ">" when written
and loses it when read, so no line of a message can ever read as the start of another."""

from __future__ import annotations

import re

SEPARATOR = "From review-bot Thu Jan  1 00:00:00 1970"  # the From_ line of messages the bot writes
_WRITE = re.compile(r"(?m)^(>*From )")
_READ = re.compile(rb"(?m)^>(>*From )")


def escape(text: str) -> str:
    return _WRITE.sub(r">\1", text)


def unescape(raw: bytes) -> bytes:
    return _READ.sub(rb"\1", raw) if b">From " in raw else raw


def message(text: str) -> str:
    """One message of an mbox: the From_ line, the escaped message, a blank line after it."""
    body = escape(text.replace("\r\n", "\n"))
    return f"{SEPARATOR}\n{body}" + ("" if body.endswith("\n") else "\n") + "\n"
