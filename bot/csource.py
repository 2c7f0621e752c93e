"""C source as the C front end reads it: one tree-sitter parser, and the bytes it is given.

tree-sitter stops reading at a NUL byte, so a NUL hidden in a comment of a patch would hide every
line after it from review. A compiler treats a NUL as a blank (gcc: "null character(s) ignored")
and rejects other stray control bytes; either way they carry no code, so every C0 control byte
other than tab, line feed, vertical tab, form feed and carriage return, and DEL, is read as a
blank. A blank keeps every offset and line number as it was.
"""

from __future__ import annotations

import re

import tree_sitter_c
from tree_sitter import Language, Parser, Tree

C_LANGUAGE = Language(tree_sitter_c.language())
_PARSER = Parser(C_LANGUAGE)
_STRAY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def source_bytes(text: str) -> bytes:
    return _STRAY.sub(" ", text).encode("utf-8", "replace")


def parse_c(text: str) -> Tree:
    return _PARSER.parse(source_bytes(text))
