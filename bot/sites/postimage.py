"""Post-image (or pre-image) of every function a FileDiff touches, as far as its hunks show it.

Each hunk becomes one parsed C snippet with a row → file-line map. A hunk that starts inside a
function body (git's section names the function, the first code line is indented or a `}`) gets a
synthetic header row `void NAME(void) {…` so tree-sitter sees a function; a hunk that starts
inside a block comment gets a synthetic `/*`. Functions are then grouped across hunks by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from tree_sitter import Node, Tree

from bot.csource import parse_c

FILE_SCOPE = ""  # name of the pseudo-function holding file-scope code of a file
_SECTION_FN = re.compile(r"([A-Za-z_]\w*)\s*\(")
_STRIP = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|/\*.*?\*/|//.*$')
_C_EXT = (".c", ".h")


@dataclass(frozen=True)
class Row:
    text: str
    line: int | None  # real file line; None for a synthetic row
    tag: str  # " ", "+", "-"; "" for a synthetic row


@dataclass
class Snippet:
    file: str
    side: str  # "new" (post-image: context and added) or "old" (pre-image: context and removed)
    rows: list[Row]
    tree: Tree
    wrapper: str | None  # the function whose body the hunk starts in, if any
    code_rows: frozenset[int] = frozenset()  # rows holding C tokens (not only comments/blanks)
    functions: tuple[Node, ...] = ()  # its function_definition nodes, outermost only, in order

    def changed(self, row: int) -> bool:
        return self.rows[row].tag in ("+", "-")


@dataclass
class FunctionPart:
    snippet: Snippet
    node: Node  # function_definition; for FILE_SCOPE the snippet's root (functions skipped)
    complete: bool


@dataclass
class FunctionImage:
    name: str
    file: str
    parts: list[FunctionPart] = field(default_factory=list)
    guards: list[str] = field(default_factory=list)  # enclosing #ifdef / #if conditions

    @property
    def complete(self) -> bool:
        return bool(self.parts) and all(p.complete for p in self.parts)

    def rows(self) -> list[tuple[Snippet, int]]:
        out = []
        for p in self.parts:
            a, b = p.node.start_point[0], min(p.node.end_point[0], len(p.snippet.rows) - 1)
            out += [(p.snippet, r) for r in range(a, b + 1) if p.snippet.rows[r].tag]
        return out

    def changed_code_lines(self) -> list[int]:
        """Real lines inside this function that the patch changed and that hold code, not comments."""
        skip = _function_rows(self) if self.name == FILE_SCOPE else set()
        return [s.rows[r].line for s, r in self.rows()  # type: ignore[misc]
                if s.changed(r) and r in s.code_rows and (id(s), r) not in skip]


def _function_rows(img: FunctionImage) -> set[tuple[int, int]]:
    out = set()
    for p in img.parts:
        for fn in p.snippet.functions if p.node == p.snippet.tree.root_node else _definitions(p.node):
            out |= {(id(p.snippet), r) for r in range(fn.start_point[0], fn.end_point[0] + 1)}
    return out


def _balances(rows: list[Row]) -> list[int]:
    return _scan(rows)[0]


def _scan(rows: list[Row]) -> tuple[list[int], bool]:
    """Net `{` minus `}` per row, ignoring strings, char literals and comments (also multi-line);
    and whether the rows end inside a block comment."""
    out, in_comment = [], False
    for r in rows:
        t = r.text
        if in_comment:
            end = t.find("*/")
            if end < 0:
                out.append(0)
                continue
            t, in_comment = t[end + 2:], False
        t = _STRIP.sub("", t)
        if "/*" in t:
            t, in_comment = t[: t.find("/*")], True
        out.append(t.count("{") - t.count("}"))
    return out, in_comment


def _starts_in_comment(rows: list[Row]) -> bool:
    for r in rows:
        s = r.text.strip()
        if not s:
            continue
        o, c = s.find("/*"), s.find("*/")
        if c >= 0 and (o < 0 or c < o):
            return True
        return s.startswith("*") and not s.startswith("*/") and o != 0
    return False


def _code(text: str) -> bool:
    s = text.strip()
    return bool(s) and not s.startswith(("#", "/*", "*", "//"))


def _prefix(rows: list[Row], section: str) -> tuple[list[Row], str | None]:
    """Synthetic rows that make a mid-function hunk parse as a function; and that function's name."""
    m = _SECTION_FN.search(section)
    if not m or section.lstrip().startswith("#"):
        return [], None
    name = m.group(1)
    code = [i for i, r in enumerate(rows) if _code(r.text)]
    if not code:
        return [], None
    first = rows[code[0]].text
    if first.startswith("{"):  # the hunk starts at the body's brace: the header alone is missing
        return [Row(f"void {name}(void)", None, "")], None
    if not (first[:1] in " \t" or first.startswith("}")):
        return [], None
    opener = next((i for i in code if rows[i].text.startswith("{")), None)
    closer = next((i for i in code if rows[i].text.startswith("}")), None)
    if any(r.text.startswith("#define") for r in rows[: closer if closer is not None else len(rows)]):
        # a macro definition before any closing brace: the hunk starts in a macro or a prototype
        # (git names the last declaration above it), not in a function body
        return [], None
    if opener is not None and (closer is None or opener < closer) and \
            not any(rows[i].text.rstrip().endswith(";") for i in code if i < opener):
        # the hunk starts in the declarator's continuation lines: git's section is its first line
        return [Row(section, None, "")], None
    bal, low = 0, 0
    for i, b in enumerate(_balances(rows)):
        if i == closer:
            break
        bal += b
        low = min(low, bal)
    depth = 1 - bal if closer is not None else 1 - low
    return [Row(f"void {name}(void) " + "{" * max(1, depth), None, "")], name


def _code_rows(tree: Tree, rows: list[Row]) -> frozenset[int]:
    found: set[int] = set()
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "comment" or n.is_missing:
            continue
        first, last = n.start_point[0], n.end_point[0]
        if first == last and first in found:
            continue  # its tokens can only mark a row already marked
        if n.child_count == 0:
            found.update(range(first, last + 1))
        else:
            stack.extend(n.children)
    return frozenset(r for r in found if r < len(rows) and rows[r].tag)


SNIPPET_MEMO = 1024  # hunks kept parsed: reposts and unchanged hunks of later revisions are parsed once


def snippet(path: str, hunk_lines: list, section: str, side: str = "new") -> Snippet:
    """One hunk as a parsed C snippet (shared: callers never change it)."""
    return _snippet(path, tuple(hunk_lines), section, side)


@lru_cache(maxsize=SNIPPET_MEMO)
def _snippet(path: str, hunk_lines: tuple, section: str, side: str) -> Snippet:
    keep = " +" if side == "new" else " -"
    rows = [Row(ln.text, ln.new_no if side == "new" else ln.old_no, ln.tag)
            for ln in hunk_lines if ln.tag in keep]
    in_comment = _starts_in_comment(rows)
    # starting inside a comment: decide body-or-not on what follows it; the header goes first
    body_pre, wrapper = _prefix(_after_comment(rows) if in_comment else rows, section)
    pre = body_pre + [Row("/*", None, "")] * in_comment
    allrows = pre + rows
    # close what the hunk leaves open, so a function cut off by the hunk's end still parses as one
    bal, open_comment = _scan(allrows)
    allrows += [Row("*/", None, "")] * open_comment + [Row("}", None, "")] * max(0, sum(bal))
    tree = parse_c("\n".join(r.text for r in allrows))
    return Snippet(path, side, allrows, tree, wrapper, _code_rows(tree, allrows), tuple(_definitions(tree.root_node)))


def _after_comment(rows: list[Row]) -> list[Row]:
    for i, r in enumerate(rows):
        if "*/" in r.text:
            return rows[i + 1:]
    return []


def _definitions(node: Node) -> list[Node]:
    """function_definition nodes, outermost only, in source order."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            out.append(n)
            continue
        stack.extend(reversed(n.children))
    return out


def function_name(fn: Node) -> str | None:
    stack = [fn.child_by_field_name("declarator")]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        if n.type == "function_declarator":
            d = n.child_by_field_name("declarator")
            while d is not None and d.type not in ("identifier", "field_identifier"):
                d = d.child_by_field_name("declarator") or (d.named_children[0] if d.named_children else None)
            return d.text.decode() if d is not None else None
        stack.extend(reversed(n.children))
    return None


def _closed(fn: Node, sn: Snippet) -> bool:
    body = fn.child_by_field_name("body")
    if body is None or body.child_count == 0:
        return False
    end = body.children[-1]
    return end.type == "}" and not end.is_missing and sn.rows[end.start_point[0]].tag != ""


def _guards(fn: Node) -> list[str]:
    out = []
    p = fn.parent
    while p is not None:
        if p.type in ("preproc_ifdef", "preproc_if"):
            head = p.text.decode("utf-8", "replace").split("\n", 1)[0].strip()
            out.append(head)
        p = p.parent
    return out[::-1]


def file_images(fd, side: str = "new") -> list[FunctionImage]:
    """The functions of one FileDiff (and its file-scope code, named FILE_SCOPE), grouped by name."""
    path = fd.new_path if side == "new" else fd.old_path
    if not path or not path.endswith(_C_EXT):
        return []
    images: dict[str, FunctionImage] = {}
    for h in fd.hunks:
        if side == "old" and not any(ln.tag == "-" for ln in h.lines):
            continue  # the pre-image only matters where something was removed
        sn = snippet(path, h.lines, h.section, side)
        for fn in sn.functions:
            synthetic = sn.rows[fn.start_point[0]].tag == ""
            name = sn.wrapper if synthetic and sn.wrapper else function_name(fn)
            if not name:
                continue
            img = images.setdefault(name, FunctionImage(name, path, guards=_guards(fn)))
            img.parts.append(FunctionPart(sn, fn, complete=not (synthetic and sn.wrapper) and _closed(fn, sn)))
        fs = images.setdefault(FILE_SCOPE, FunctionImage(FILE_SCOPE, path))
        fs.parts.append(FunctionPart(sn, sn.tree.root_node, complete=False))
    return list(images.values())
