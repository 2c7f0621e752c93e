"""tree-sitter-c → a small AST that the compiler lowers.

Expressions are the typed nodes of bot.cmodel.ir (Num, Id, Field, Bin, CallExpr, ...: tuples, kind first).
Statements are the typed statement nodes of bot.cmodel.ir (DeclStmt, ExprStmt, IfStmt, ForStmt, ...).
Lines are 1-based lines of the parsed text; the binder maps them to file lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from bot.cmodel.ir import (
    Addr,
    Assign,
    Bin,
    BreakStmt,
    CallExpr,
    Cast,
    Comma,
    Cond,
    ContinueStmt,
    DeclStmt,
    Deref,
    DoStmt,
    Expr,
    ExprStmt,
    Field,
    ForStmt,
    GotoStmt,
    Id,
    IfStmt,
    Index,
    LabelStmt,
    Num,
    Raw,
    ReturnStmt,
    SizeOf,
    Stmt,
    Str,
    SwitchStmt,
    TypeArg,
    Un,
    UnknownStmt,
    Update,
    WhileStmt,
    is_node,
    rebuild,
)
from bot.csource import parse_c

# Macros that take a type or member name as an argument: their arguments are kept as text.
_TYPE_ARG_CALLS = {"container_of", "list_first_entry", "list_entry", "list_last_entry", "offsetof",
                   "list_first_entry_or_null", "list_next_entry"}


@dataclass
class CFunction:
    name: str
    params: list[tuple[str, str]]  # (name, type)
    ret: str
    body: list[Stmt]
    line: int  # line of the declarator in the parsed text
    end_line: int


@dataclass
class CUnit:
    # A name defined twice in one file is an #if/#else pair (C allows nothing else): the first
    # definition is kept (kernel headers put the configured variant first, the stub after #else);
    # the later ones are kept aside, so the binder can prefer one that carries the patch's lines.
    functions: dict[str, CFunction] = field(default_factory=dict)
    alternates: dict[str, list[CFunction]] = field(default_factory=dict)
    defines: dict[str, str] = field(default_factory=dict)  # object-like #define NAME text
    static_locks: list[str] = field(default_factory=list)  # DEFINE_SPINLOCK(name), DEFINE_MUTEX(name), … at file scope
    globals: dict[str, tuple[str, int]] = field(default_factory=dict)  # file-scope variable → (type, initial value)
    # function-like macros, read as functions of their parameters (run only where no function or
    # primitive has the name): `#define destroy_context(mm) synchronize_rcu()` is a call like another
    macro_functions: dict[str, CFunction] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _t(n: Node | None) -> str:
    return n.text.decode("utf-8", "replace") if n is not None and n.text is not None else ""


def _line(n: Node) -> int:
    return n.start_point[0] + 1


def parse_unit(text: str) -> CUnit:
    tree = parse_c(text)
    unit = CUnit()
    _walk_top(tree.root_node, unit)
    return unit


def _walk_top(node: Node, unit: CUnit) -> None:
    for ch in node.children:
        t = ch.type
        if t == "function_definition":
            fn = _function(ch)
            if fn is not None:
                if fn.name in unit.functions:
                    unit.alternates.setdefault(fn.name, []).append(fn)
                else:
                    unit.functions[fn.name] = fn
        elif t == "preproc_function_def":
            fn = _macro_function(ch)
            if fn is not None:
                unit.macro_functions[fn.name] = fn  # a later #define is what the code after it sees
        elif t == "preproc_def":
            name = _t(ch.child_by_field_name("name"))
            val = ch.child_by_field_name("value")
            if name and val is not None:
                unit.defines[name] = re.sub(r"/\*.*?\*/|//.*", "", _t(val)).strip()
        elif t == "declaration":
            txt = _t(ch)
            m = re.search(r"(?:DEFINE_(?:RAW_)?SPINLOCK|DEFINE_RWLOCK|DEFINE_MUTEX|DEFINE_SEMAPHORE|DECLARE_RWSEM)"
                          r"\s*\(\s*(\w+)\s*[,)]", txt)
            if m:
                unit.static_locks.append(m.group(1))
            else:
                _globals(ch, unit)
        elif t in ("preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "linkage_specification",
                   "declaration_list", "ERROR"):
            _walk_top(ch, unit)


_DO_WHILE_0 = re.compile(r"^\s*do\s*(\{.*\})\s*while\s*\(\s*0\s*\)\s*;?\s*$", re.S)


def _macro_function(n: Node) -> CFunction | None:
    """A function-like macro as a function: its body a block (do { } while (0), or a statement
    expression) or the expression it returns, each line where the macro has it."""
    name = _t(n.child_by_field_name("name"))
    plist = n.child_by_field_name("parameters")
    value = n.child_by_field_name("value")
    if not name or plist is None or "..." in _t(plist):
        # a variadic macro forwards an argument list no function's parameters bind; where a model's
        # environment defines the name (alloc_hooks() wrappers), that function stands for it
        return None
    params = [_t(p) for p in plist.named_children if p.type == "identifier"]
    body = re.sub(r"\\[ \t]*(?=\n)", " ", _t(value)) if value is not None else ""
    body_line = _line(value) if value is not None else _line(n)
    m = _DO_WHILE_0.match(body)
    if m:
        block = m.group(1)
    elif body.strip().startswith("({") and body.strip().endswith("})"):
        block = body.strip()[1:-1]
    elif body.strip():
        block = "{ return (" + body + "); }"
    else:
        block = "{ }"
    head = f"long {name}(" + ", ".join(f"long {p}" for p in params) + ")"
    pad = "\n" * (_line(n) - 1)
    text = pad + head + "\n" * (body_line - _line(n)) + " " + block
    try:
        unit = parse_unit(text)
    except RecursionError:
        return None
    return unit.functions.get(name)


def _globals(decl: Node, unit: CUnit) -> None:
    """File-scope variables (static, extern or plain): their type and a numeric initial value."""
    base = _base_type(decl)
    for d in decl.named_children:
        if d.type not in ("identifier", "pointer_declarator", "init_declarator", "array_declarator"):
            continue
        name, depth, fdecl = _declarator_name(d)
        if not name or fdecl is not None:
            continue  # a function's prototype
        value = d.child_by_field_name("value") if d.type == "init_declarator" else None
        init = expr(value) if value is not None and value.type == "number_literal" else Num("num", 0)
        ty = (base + " " + "*" * depth).strip() + (" []" if d.type == "array_declarator" else "")
        unit.globals[name] = (ty, init[1] if init[0] == "num" else 0)


def _declarator_name(d: Node | None) -> tuple[str, int, Node | None]:
    """Name, pointer depth and the function_declarator inside a declarator."""
    depth = 0
    while d is not None:
        if d.type == "function_declarator":
            inner = d.child_by_field_name("declarator")
            name, dd, _ = _declarator_name(inner)
            return name, depth + dd, d
        if d.type == "pointer_declarator":
            depth += 1
            d = d.child_by_field_name("declarator")
            continue
        if d.type in ("identifier", "field_identifier"):
            return _t(d), depth, None
        if d.type in ("parenthesized_declarator", "init_declarator", "array_declarator"):
            d = d.child_by_field_name("declarator") or (d.named_children[0] if d.named_children else None)
            continue
        return "", depth, None
    return "", depth, None


def _base_type(n: Node) -> str:
    parts = []
    for ch in n.children:
        if ch.type in ("type_qualifier", "storage_class_specifier", "attribute_specifier", "ms_declspec_modifier"):
            continue
        if ch.type.endswith("declarator") or ch.type in ("identifier", "compound_statement", ";", ",", "=",
                                                          "init_declarator"):
            continue
        if ch.type in ("primitive_type", "sized_type_specifier", "type_identifier", "struct_specifier",
                       "union_specifier", "enum_specifier", "macro_type_specifier"):
            parts.append(" ".join(_t(ch).split()))
    return " ".join(parts) or "int"


def _function(n: Node) -> CFunction | None:
    decl = n.child_by_field_name("declarator")
    name, depth, fdecl = _declarator_name(decl)
    body = n.child_by_field_name("body")
    if not name or fdecl is None or body is None:
        return None
    params: list[tuple[str, str]] = []
    plist = fdecl.child_by_field_name("parameters")
    if plist is not None:
        for p in plist.named_children:
            if p.type != "parameter_declaration":
                continue
            pname, pdepth, _ = _declarator_name(p.child_by_field_name("declarator"))
            if pname:
                params.append((pname, _base_type(p) + " " + "*" * pdepth))
    ret = _base_type(n) + " " + "*" * depth
    return CFunction(name, params, ret.strip(), _stmts(body), _line(fdecl), body.end_point[0] + 1)


def _stmts(block: Node) -> list[Stmt]:
    out: list[Stmt] = []
    for ch in block.named_children:
        out.extend(_stmt(ch))
    return out


# Nesting beyond these depths is not kernel code anyone reviews: it becomes an "unknown" statement
# (which makes the function unjudged) instead of exhausting Python's stack.
MAX_STMT_DEPTH = 120
MAX_EXPR_DEPTH = 150
_depth = {"stmt": 0, "expr": 0}


def _stmt(n: Node) -> list[Stmt]:
    if _depth["stmt"] >= MAX_STMT_DEPTH:
        return [UnknownStmt("unknown", "nesting too deep to model", _line(n))]
    _depth["stmt"] += 1
    try:
        return _stmt_at(n)
    finally:
        _depth["stmt"] -= 1


# One branch per tree-sitter statement node type: the grammar's cases in one place, read top to bottom.
def _stmt_at(n: Node) -> list[Stmt]:  # noqa: C901
    t = n.type
    ln = _line(n)
    if t == "compound_statement":
        return _stmts(n)
    if t == "declaration":
        base = _base_type(n)
        res: list[Stmt] = []
        for d in n.named_children:
            if d.type == "init_declarator":
                name, depth, _ = _declarator_name(d.child_by_field_name("declarator"))
                res.append(DeclStmt("decl", name, (base + " " + "*" * depth).strip(), expr(d.child_by_field_name("value")),
                            ln))
            elif d.type in ("identifier", "pointer_declarator", "array_declarator"):
                name, depth, _ = _declarator_name(d)
                arr = "[]" if "[" in _t(d) else ""
                res.append(DeclStmt("decl", name, (base + " " + "*" * depth).strip() + arr, None, ln))
        return res
    if t == "expression_statement":
        if not n.named_children:
            return []
        return [ExprStmt("expr", expr(n.named_children[0]), ln)]
    if t == "if_statement":
        cond = expr(n.child_by_field_name("condition"))
        then = _stmt(n.child_by_field_name("consequence"))
        alt = n.child_by_field_name("alternative")
        els: list[Stmt] = []
        if alt is not None:
            els = _stmts(alt) if alt.type == "else_clause" else _stmt(alt)
        return [IfStmt("if", cond, then, els, ln)]
    if t == "while_statement":
        return [WhileStmt("while", expr(n.child_by_field_name("condition")), _stmt(n.child_by_field_name("body")), ln)]
    if t == "do_statement":
        cond = n.child_by_field_name("condition")  # the loop's test is on its `while` line
        return [DoStmt("do", _stmt(n.child_by_field_name("body")), expr(cond), _line(cond) if cond is not None else ln)]
    if t == "for_statement":
        init = n.child_by_field_name("initializer")
        init_s = _stmt(init) if init is not None and init.type == "declaration" else (
            [ExprStmt("expr", expr(init), ln)] if init is not None else [])
        cond = n.child_by_field_name("condition")
        upd = n.child_by_field_name("update")
        return [ForStmt("for", init_s, expr(cond) if cond is not None else Num("num", 1),
                 expr(upd) if upd is not None else None, _stmt(n.child_by_field_name("body")), ln)]
    if t == "return_statement":
        val = n.named_children[0] if n.named_children else None
        return [ReturnStmt("return", expr(val) if val is not None else None, ln)]
    if t == "switch_statement":
        cases: list[tuple[list[Expr] | None, list[Stmt]]] = []
        body = n.child_by_field_name("body")
        for c in body.named_children if body is not None else []:
            if c.type != "case_statement":
                continue
            val = c.child_by_field_name("value")
            stmts: list[Stmt] = []
            for s in c.named_children:
                if val is not None and s.start_byte == val.start_byte and s.end_byte == val.end_byte:
                    continue
                stmts.extend(_stmt(s))
            cases.append(([expr(val)] if val is not None else None, stmts))
        return [SwitchStmt("switch", expr(n.child_by_field_name("condition")), cases, ln)]
    if t == "break_statement":
        return [BreakStmt("break", ln)]
    if t == "continue_statement":
        return [ContinueStmt("continue", ln)]
    if t in ("preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif"):
        # Config-conditional code inside a body: model the configuration that has the code.
        res = []
        for ch in n.named_children:
            if ch.type in ("identifier", "preproc_defined", "binary_expression", "unary_expression",
                           "parenthesized_expression", "number_literal", "call_expression"):
                continue
            res.extend(_stmt(ch))
        return res
    if t in ("comment", "preproc_call", "preproc_def", "preproc_function_def", "preproc_include", "empty_statement"):
        return []
    if t == "labeled_statement":
        return [LabelStmt("label", _t(n.child_by_field_name("label")), ln)] + [
            s for ch in n.named_children[1:] for s in _stmt(ch)]
    if t == "goto_statement":
        return [GotoStmt("goto", _t(n.child_by_field_name("label")), ln)]
    text = " ".join(_t(n).split())
    if t in ("macro_type_specifier", "declaration") and re.match(r"^[A-Za-z_]\w*\s*\(.*\)\s*;?$", text):
        # f(container_of(p, struct x, m)); reads to tree-sitter as a declaration with a macro type:
        # parse it as an expression, with `struct x` standing in as one word meanwhile
        e = _unstruct(parse_expr_text(_STRUCT.sub(r"__struct__\1", text.rstrip(";"))))
        if e[0] == "call":
            return [ExprStmt("expr", e, ln)]
    return [UnknownStmt("unknown", text[:80], ln)]


_STRUCT = re.compile(r"\bstruct\s+([A-Za-z_]\w*)")


def _unstruct(e: object) -> object:
    if isinstance(e, tuple):
        if len(e) == 2 and e[0] in ("id", "type") and isinstance(e[1], str) and e[1].startswith("__struct__"):
            return TypeArg("type", "struct " + e[1][len("__struct__"):])
        return rebuild(e, [_unstruct(x) for x in e[1:]]) if is_node(e) else tuple(_unstruct(x) for x in e)
    if isinstance(e, list):
        return [_unstruct(x) for x in e]
    return e


def expr(n: Node | None) -> Expr:
    if n is None:
        return Num("num", 0)
    if _depth["expr"] >= MAX_EXPR_DEPTH:
        return Raw("raw", "expression too deep to model")
    _depth["expr"] += 1
    try:
        return _expr_at(n)
    finally:
        _depth["expr"] -= 1


# One branch per tree-sitter expression node type (see _stmt_at).
def _expr_at(n: Node) -> Expr:  # noqa: C901
    t = n.type
    if t == "number_literal":
        return Num("num", parse_number(_t(n)))
    if t in ("identifier", "field_identifier", "type_identifier"):
        return Id("id", _t(n))
    if t in ("true", "false", "null"):
        return Num("num", 1 if t == "true" else 0)
    if t in ("string_literal", "concatenated_string", "char_literal"):
        return Str("str", _t(n))
    if t == "parenthesized_expression":
        inner = [c for c in n.named_children if c.type != "comment"]
        return expr(inner[0]) if inner else Num("num", 0)
    if t == "field_expression":
        op = _t(n.child_by_field_name("operator")) or "->"
        return Field("field", expr(n.child_by_field_name("argument")), _t(n.child_by_field_name("field")), op == "->")
    if t == "pointer_expression":
        op = _t(n.child_by_field_name("operator"))
        inner = expr(n.child_by_field_name("argument"))
        return Addr("addr", inner) if op == "&" else Deref("deref", inner)
    if t == "binary_expression":
        return Bin("bin", _t(n.child_by_field_name("operator")), expr(n.child_by_field_name("left")),
                expr(n.child_by_field_name("right")))
    if t == "unary_expression":
        return Un("un", _t(n.child_by_field_name("operator")), expr(n.child_by_field_name("argument")))
    if t == "update_expression":
        op = _t(n.child_by_field_name("operator"))
        arg = n.child_by_field_name("argument")
        return Update("update", op, expr(arg), n.children[0].type in ("++", "--"))
    if t == "assignment_expression":
        return Assign("assign", _t(n.child_by_field_name("operator")), expr(n.child_by_field_name("left")),
                expr(n.child_by_field_name("right")))
    if t == "cast_expression":
        return Cast("cast", " ".join(_t(n.child_by_field_name("type")).split()), expr(n.child_by_field_name("value")))
    if t == "conditional_expression":
        return Cond("cond", expr(n.child_by_field_name("condition")), expr(n.child_by_field_name("consequence")),
                expr(n.child_by_field_name("alternative")))
    if t == "sizeof_expression":
        ty = n.child_by_field_name("type")
        if ty is not None:
            return SizeOf("sizeof", " ".join(_t(ty).split()))
        val = n.child_by_field_name("value")
        return SizeOf("sizeof", " ".join(_t(val).strip("()").split()))
    if t == "subscript_expression":
        return Index("index", expr(n.child_by_field_name("argument")), expr(n.child_by_field_name("index")))
    if t == "comma_expression":
        return Comma("comma", [expr(c) for c in n.named_children])
    if t == "call_expression":
        fn = n.child_by_field_name("function")
        name = _t(fn) if fn is not None and fn.type == "identifier" else ""
        args_node = n.child_by_field_name("arguments")
        if name in _TYPE_ARG_CALLS and args_node is not None:
            return CallExpr("call", name, _type_args(args_node))
        args = [expr(a) for a in (args_node.named_children if args_node is not None else []) if a.type != "comment"]
        if not name:
            return CallExpr("call", "", [expr(fn)] + args)  # call through a pointer: callee first
        return CallExpr("call", name, args)
    return Raw("raw", " ".join(_t(n).split()))


def _type_args(args: Node) -> list[Expr]:
    """container_of(ptr, struct page, rcu_head): split the raw text on top-level commas."""
    text = _t(args).strip()[1:-1]
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        cur += ch
    parts.append(cur)
    out: list[Expr] = []
    for i, p in enumerate(parts):
        p = " ".join(p.split())
        if i == 0:
            out.append(parse_expr_text(p))
        else:
            out.append(TypeArg("type", p))
    return out


def parse_expr_text(text: str) -> Expr:
    tree = parse_c(f"void __f(void) {{ __x = ({text}); }}")
    root = tree.root_node
    for node in _iter(root):
        if node.type == "assignment_expression":
            return expr(node.child_by_field_name("right"))
    return Raw("raw", text)


def _iter(n: Node):
    yield n
    for c in n.children:
        yield from _iter(c)


def parse_number(s: str) -> int:
    s = s.rstrip("uUlL")
    try:
        return int(s, 0)
    except ValueError:
        try:
            return int(float(s))
        except (ValueError, OverflowError):
            return 0
