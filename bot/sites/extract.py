"""Operations of one function image in program order, with the condition path kept.

A generic tree walk: which callees and fields matter comes from rules/callsites.toml only.
Arguments are evaluated before their call, the right side of an assignment before its left side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from bot.sites.postimage import FILE_SCOPE, FunctionImage, Snippet
from bot.sites.rules import CallsiteRules

_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_IDENTS = re.compile(r"[A-Za-z_]\w*")
_SPLIT = re.compile(r"[(\[{)\]},]")
_COND = ("if_statement", "while_statement", "do_statement", "for_statement", "switch_statement")


@dataclass(frozen=True)
class Op:
    kind: str  # call | unknown | field | return | goto | break | continue
    name: str  # callee, or the field rule's name for kind "field"
    category: str  # from the rule; "modeled" / "local" for calls into modeled / patch functions
    args: tuple[str, ...]
    file: str
    line: int | None  # real file line (post-image for new-side ops)
    path: tuple[str, ...]  # enclosing conditions, outermost first: ("if (mask & 0x03U)", "else")
    text: str  # the source line
    added: bool  # on a line the patch adds (on the pre-image side: removes)
    function: str
    access: str = ""  # fields: read | write | addr
    rule: str = ""  # the callsites.toml table that matched
    callbacks: tuple[str, ...] = ()  # functions passed where the rule says "callback"
    relevance: str = "never"

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def norm(text: bytes | str) -> str:
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return " ".join(s.split())


def split_args(arglist: Node) -> tuple[str, ...]:
    """Top-level comma split of an argument_list's text: robust to ERROR nodes (container_of)."""
    s = arglist.text.decode("utf-8", "replace").strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    out, depth, start = [], 0, 0
    for m in _SPLIT.finditer(s):  # only brackets and commas decide where an argument ends
        ch = m.group()
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            out.append(norm(s[start:m.start()]))
            start = m.end()
    if s[start:].strip():
        out.append(norm(s[start:]))
    return tuple(out)


class _Walker:
    def __init__(self, img: FunctionImage, sn: Snippet, rules: CallsiteRules, local: frozenset[str]):
        self.img, self.sn, self.rules, self.local = img, sn, rules, local
        self.ops: list[Op] = []

    # ------------------------------------------------------------------ emit
    def emit(self, node: Node, kind: str, name: str, category: str, args: tuple[str, ...],
             path: tuple[str, ...], **kw) -> None:
        row = node.start_point[0]
        if row >= len(self.sn.rows):
            return
        r = self.sn.rows[row]
        if not r.tag:
            return  # synthetic header rows carry no operations
        self.ops.append(Op(kind, name, category, args, self.sn.file, r.line, path, r.text.strip(),
                           self.sn.changed(row), self.img.name, **kw))

    # ------------------------------------------------------------------ walk
    MAX_DEPTH = 150  # deeper syntax is not reviewable kernel code: stop there rather than overflow

    def visit(self, n: Node, path: tuple[str, ...]) -> None:
        t = n.type
        if t == "comment":
            return
        depth = getattr(self, "_depth", 0)
        if depth >= self.MAX_DEPTH:
            return
        self._depth = depth + 1
        try:
            handler = getattr(self, "v_" + t, None)
            if handler is not None:
                handler(n, path)
                return
            self.children(n.children, path)
        finally:
            self._depth = depth

    def children(self, kids: list[Node], path: tuple[str, ...]) -> None:
        loop_head: str | None = None
        for k in kids:
            if k.child_count == 0 and k.type not in _HANDLED:
                loop_head = None  # a token holds no op, and a loop macro's body is what follows it
                continue
            if loop_head is not None and k.type != "comment":
                self.visit(k, path + (loop_head,))
                loop_head = None
                continue
            loop_head = self.loop_macro(k)
            self.visit(k, path)

    def loop_macro(self, k: Node) -> str | None:
        """`list_for_each_entry(...) {` parses as a call statement; the next statement is its body."""
        if k.type != "expression_statement" or not k.named_children:
            return None
        c = k.named_children[0]
        if c.type != "call_expression":
            return None
        fn = c.child_by_field_name("function")
        rule = self.rules.primitive(fn.text.decode()) if fn is not None and fn.type == "identifier" else None
        return norm(c.text) if rule is not None and rule.loop else None

    def v_function_definition(self, n: Node, path: tuple[str, ...]) -> None:
        if self.img.name != FILE_SCOPE:
            body = n.child_by_field_name("body")
            if body is not None:
                self.visit(body, path)

    def v_if_statement(self, n: Node, path: tuple[str, ...]) -> None:
        cond = n.child_by_field_name("condition")
        self.visit(cond, path)
        c = "if " + norm(cond.text)
        cons = n.child_by_field_name("consequence")
        if cons is not None:
            self.visit(cons, path + (c,))
        alt = n.child_by_field_name("alternative")
        if alt is not None:
            self.children([k for k in alt.children if k.type != "else"], path + (c, "else"))

    def v_conditional_expression(self, n: Node, path: tuple[str, ...]) -> None:
        cond = n.child_by_field_name("condition")
        self.visit(cond, path)
        c = f"if ({norm(cond.text)})"
        for fld, extra in (("consequence", (c,)), ("alternative", (c, "else"))):
            k = n.child_by_field_name(fld)
            if k is not None:
                self.visit(k, path + extra)

    def _loop(self, n: Node, path: tuple[str, ...], head: str) -> None:
        body = n.child_by_field_name("body")
        for k in n.children:
            if k != body:  # tree-sitter hands out fresh Node objects: compare by value
                self.visit(k, path)
        if body is not None:
            self.visit(body, path + (head,))

    def v_while_statement(self, n: Node, path: tuple[str, ...]) -> None:
        self._loop(n, path, "while " + norm(n.child_by_field_name("condition").text))

    def v_do_statement(self, n: Node, path: tuple[str, ...]) -> None:
        self._loop(n, path, "do while " + norm(n.child_by_field_name("condition").text))

    def v_for_statement(self, n: Node, path: tuple[str, ...]) -> None:
        body = n.child_by_field_name("body")
        head = n.text[: body.start_byte - n.start_byte] if body is not None else n.text
        self._loop(n, path, norm(head))

    def v_switch_statement(self, n: Node, path: tuple[str, ...]) -> None:
        self._loop(n, path, "switch " + norm(n.child_by_field_name("condition").text))

    def v_case_statement(self, n: Node, path: tuple[str, ...]) -> None:
        colon = next((i for i, k in enumerate(n.children) if k.type == ":"), 0)
        label = norm(b" ".join(k.text for k in n.children[: colon + 1]))
        self.children(n.children[colon + 1:], path + (label,))

    def _preproc(self, n: Node, path: tuple[str, ...]) -> None:
        head = norm(n.text.split(b"\n", 1)[0])
        for k in n.children:
            if k.type in ("preproc_else", "preproc_elif", "preproc_elifdef"):
                self.visit(k, path + (head, norm(k.text.split(b"\n", 1)[0])))
            elif k.is_named and k != n.child_by_field_name("name") and \
                    k != n.child_by_field_name("condition"):
                self.visit(k, path + (head,))

    v_preproc_ifdef = v_preproc_if = _preproc

    def v_preproc_else(self, n: Node, path: tuple[str, ...]) -> None:
        self.children(n.named_children, path)

    v_preproc_elif = v_preproc_else

    def v_return_statement(self, n: Node, path: tuple[str, ...]) -> None:
        self.children(n.children, path)
        val = tuple(norm(k.text) for k in n.named_children if k.type != "comment")
        self.emit(n, "return", "return", "flow", val, path)

    def v_goto_statement(self, n: Node, path: tuple[str, ...]) -> None:
        label = n.child_by_field_name("label")
        self.emit(n, "goto", "goto", "flow", (norm(label.text),) if label else (), path)

    def v_break_statement(self, n: Node, path: tuple[str, ...]) -> None:
        self.emit(n, "break", "break", "flow", (), path)

    def v_continue_statement(self, n: Node, path: tuple[str, ...]) -> None:
        self.emit(n, "continue", "continue", "flow", (), path)

    def v_assignment_expression(self, n: Node, path: tuple[str, ...]) -> None:
        right, left = n.child_by_field_name("right"), n.child_by_field_name("left")
        if right is not None:
            self.visit(right, path)
        if left is not None:
            self.visit(left, path)

    def v_call_expression(self, n: Node, path: tuple[str, ...]) -> None:
        fn, al = n.child_by_field_name("function"), n.child_by_field_name("arguments")
        if al is not None:
            self.children(al.children, path)
        args = split_args(al) if al is not None else ()
        if fn is None or fn.type != "identifier":
            if fn is not None:
                self.visit(fn, path)
            self.emit(n, "unknown", norm(fn.text) if fn else "?", "", args, path)
            return
        name = fn.text.decode()
        rule = self.rules.primitive(name, list(args))
        if rule is not None:
            cbs = self.callbacks(args, rule.callback_index())
            self.emit(n, "call", name, rule.category, args, path, rule=rule.name, callbacks=cbs,
                      relevance=rule.relevance)
        elif name in self.rules.modeled:
            self.emit(n, "call", name, "modeled", args, path, relevance="in-scope")
        elif name in self.local:
            self.emit(n, "call", name, "local", args, path)
        else:
            self.emit(n, "unknown", name, "", args, path)

    def callbacks(self, args: tuple[str, ...], idx: int | None) -> tuple[str, ...]:
        if idx is None or idx >= len(args):
            return ()
        a = args[idx]
        if _IDENT.match(a):
            return (a,)
        if "?" in a:  # bit ? pte_free_now1 : pte_free_now0
            return tuple(x for x in _IDENTS.findall(a.split("?", 1)[1]))
        return tuple(x for x in _IDENTS.findall(a) if x in self.local)

    def v_field_expression(self, n: Node, path: tuple[str, ...]) -> None:
        chain, inner = [], n
        while inner.type == "field_expression":
            f = inner.child_by_field_name("field")
            chain.insert(0, f.text.decode() if f is not None else "")
            inner = inner.child_by_field_name("argument")
        rule = self.rules.field_rule(chain)
        if rule is None:
            self.children(n.children, path)
            return
        self.visit(inner, path)
        self.emit(n, "field", rule.name, rule.category, (norm(n.text),), path,
                  access=_access(n), rule=rule.name, relevance=rule.relevance)

    def v_declaration(self, n: Node, path: tuple[str, ...]) -> None:
        # `static DEFINE_SPINLOCK(x);` parses as a declaration of type DEFINE_SPINLOCK
        ty = n.child_by_field_name("type")
        rule = self.rules.primitive(ty.text.decode()) if ty is not None and ty.type == "type_identifier" \
            else None
        if rule is not None and rule.file_scope:
            decl = n.child_by_field_name("declarator")
            arg = norm(decl.text).strip("()") if decl is not None else ""
            self.emit(n, "call", ty.text.decode(), rule.category, (arg,), path, rule=rule.name,
                      relevance=rule.relevance)
            return
        self.children(n.children, path)


def _access(n: Node) -> str:
    p = n.parent
    while p is not None and p.type == "parenthesized_expression":
        n, p = p, p.parent
    if p is None:
        return "read"
    if p.type == "assignment_expression" and p.child_by_field_name("left") == n:
        return "write"
    if p.type == "update_expression":
        return "write"
    if p.type == "pointer_expression" and p.children[0].type == "&":
        return "addr"
    return "read"


PART_MEMO = 4096  # parts whose ops are kept: a part of a shared snippet is walked once


def extract(img: FunctionImage, rules: CallsiteRules, local: frozenset[str] = frozenset()) -> list[Op]:
    """Ops of every part of a function image, parts in hunk order."""
    ops: list[Op] = []
    for part in img.parts:
        ops += _part_ops(img, part.snippet, part.node, rules, local)
    return ops


_PARTS: dict[tuple, tuple[Snippet, CallsiteRules, tuple[Op, ...]]] = {}
_MENTIONS: dict[int, tuple[Snippet, frozenset[str]]] = {}


def _mentions(sn: Snippet, node: Node) -> frozenset[str]:
    """Every identifier of a part's text: a function's own text (a new file of thousands of
    functions costs each function its own names, not the file's), the whole snippet at file scope."""
    if node.type == "function_definition":
        return frozenset(_IDENTS.findall((node.text or b"").decode("utf-8", "replace")))
    hit = _MENTIONS.get(id(sn))
    if hit is not None and hit[0] is sn:
        return hit[1]
    if len(_MENTIONS) >= PART_MEMO:
        _MENTIONS.clear()
    found = frozenset(_IDENTS.findall("\n".join(r.text for r in sn.rows)))
    _MENTIONS[id(sn)] = (sn, found)
    return found


def _part_ops(img: FunctionImage, sn: Snippet, node: Node, rules: CallsiteRules,
              local: frozenset[str]) -> tuple[Op, ...]:
    # What a walk reads: the function's name, the part of the snippet, the rules, and of the
    # posting's own function names only those the part mentions.
    mentioned = local & _mentions(sn, node) if local else local
    key = (img.name, id(sn), node.start_byte, node.end_byte, node.type, id(rules), mentioned)
    hit = _PARTS.get(key)
    if hit is not None and hit[0] is sn and hit[1] is rules:
        return hit[2]
    w = _Walker(img, sn, rules, local)
    if img.name == FILE_SCOPE:
        w.children(node.children, ())
    else:
        w.visit(node, ())
    if len(_PARTS) >= PART_MEMO:
        _PARTS.clear()
    _PARTS[key] = (sn, rules, tuple(w.ops))
    return _PARTS[key][2]


_HANDLED = frozenset(name[2:] for name in vars(_Walker) if name.startswith("v_"))
