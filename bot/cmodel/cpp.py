"""A small C preprocessor for kernel files, line for line: output line N is input line N.

What the interpreter needs of preprocessing, and no more: `#if/#ifdef/#elif` evaluated against a
model's kernel configuration, object-like and function-like macros (with `#`, `##`, variadic
arguments and the usual rescanning rules) from the file and from the headers it includes, and
`#include` resolved against a tree. Directives and inactive regions come out as blank lines and a
macro's expansion stays on the line of its name, so every statement keeps the file's own line
number and findings point at the tree's real lines.

Names the interpreter gives meaning to (rules/primitives.toml) are opaque: never expanded, so
`list_add(...)` stays a call with the semantics stated there rather than becoming pointer code.

Headers are read through a `Reader` (a tree at a revision); an include the tree does not have is
skipped and recorded. Bounds on depth, files and bytes keep a hostile or huge tree in check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MAX_INCLUDE_DEPTH = 40
MAX_INCLUDED_FILES = 2000
MAX_INCLUDED_BYTES = 24_000_000
MAX_EXPANSION_TOKENS = 200_000  # per logical line: a macro bomb stops here
MAX_FUNCTION_LINES = 400  # a header function longer than this is not taken as a helper

Reader = Callable[[str], "str | None"]  # tree path → text, or None when absent


class PreprocessError(Exception):
    """A file cannot be preprocessed (a bound was hit); the message says which."""


_TOKEN = re.compile(r"""
    (?P<ws>[ \t\f\v\r]+)
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<str>"(?:\\.|[^"\\\n])*"?)
  | (?P<chr>'(?:\\.|[^'\\\n])*'?)
  | (?P<punct>%:%:|\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[*/%+\-&^|]=|\#\#|[\[\](){}.&*+\-~!/%<>^|?:;=,\#])
  | (?P<other>.)
""", re.X | re.S)

_COMMENT_OR_LITERAL = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?(?:\*/|\Z)|//[^\n]*', re.S)


@dataclass(frozen=True)
class Tok:
    kind: str  # ws id num str chr punct other
    text: str
    hide: frozenset = frozenset()
    line: int = 0  # source line: an expansion takes the line of its macro's name


@dataclass
class Macro:
    name: str
    params: list[str] | None  # None: object-like
    variadic: bool
    text: str  # the body as written; tokenized on first use (most header macros never are)
    where: str = ""  # "file:line" of the definition
    _body: list[Tok] | None = None

    @property
    def body(self) -> list[Tok]:
        if self._body is None:
            body = tokenize(self.text)
            while body and body[0].kind == "ws":
                body = body[1:]
            while body and body[-1].kind == "ws":
                body = body[:-1]
            self._body = body
        return self._body


@dataclass
class Config:
    """A kernel configuration: CONFIG_* options (True/int/str; "m" for a module) and predefined macros."""

    options: dict[str, bool | int | str] = field(default_factory=dict)
    defines: dict[str, str] = field(default_factory=dict)
    arch: str = ""
    implicit_includes: list[str] = field(default_factory=list)
    per_arch: dict[str, dict[str, bool | int | str]] = field(default_factory=dict)  # options one arch sets otherwise
    variant: bool = False  # an architecture's configuration that sets some option otherwise than the model's

    def for_arch(self, arch: str) -> Config:
        """The configuration of one architecture's instance of a wildcard model: its include
        directories, and the options it selects otherwise."""
        own = self.per_arch.get(arch, {})
        return Config({**self.options, **own}, dict(self.defines), arch, list(self.implicit_includes),
                      variant=any(self.options.get(k, False) != v for k, v in own.items()))

    def macros(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, v in self.options.items():
            if v is False:
                continue
            if v == "m":
                out[f"{name}_MODULE"] = "1"
            elif v is True:
                out[name] = "1"
            elif isinstance(v, int):
                out[name] = str(v)
            else:
                out[name] = '"' + str(v).replace('"', '\\"') + '"'
        out.update(self.defines)
        return out

    def enabled(self, name: str) -> int:
        """IS_ENABLED(): 1 for a built-in or modular option, 0 for one not set."""
        v = self.options.get(name, False)
        return int(v is not False and v != 0)


def tokenize(text: str, line: int = 0) -> list[Tok]:
    out: list[Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        out.append(Tok(kind, " " if kind == "ws" else m.group(), frozenset(), line))
    return out


def join(toks: Iterable[Tok]) -> str:
    """Token texts as source text, with a space wherever two tokens would otherwise fuse."""
    out: list[str] = []
    prev = ""
    for t in toks:
        if prev and t.text and (prev[-1].isalnum() or prev[-1] in "_$") and (t.text[0].isalnum() or t.text[0] in "_$"):
            out.append(" ")
        out.append(t.text)
        prev = t.text
    return "".join(out)


def strip_comments(text: str) -> str:
    """Comments become spaces (newlines inside them are kept); literals are left alone."""
    def repl(m: re.Match) -> str:
        s = m.group()
        if s[0] in "\"'":
            return s
        return " " + "\n" * s.count("\n") if s.startswith("/*") else " "
    return _COMMENT_OR_LITERAL.sub(repl, text)


def logical_lines(text: str) -> list[tuple[int, int, str]]:
    """(first line, physical line count, text) with backslash-newline continuations joined."""
    phys = text.split("\n")
    if "\\\n" not in text:
        return [(i + 1, 1, t) for i, t in enumerate(phys)]
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(phys):
        start, buf = i, phys[i]
        while buf.endswith("\\") and i + 1 < len(phys):
            i += 1
            buf = buf[:-1] + " " + phys[i]
        out.append((start + 1, i - start + 1, buf))
        i += 1
    return out


@dataclass
class HeaderText:
    path: str
    lines: list[str]  # active, comment-free, unexpanded lines ("" for directives and inactive code)
    text: str = ""  # the lines joined, for searching


@dataclass
class Result:
    lines: list[str]  # the preprocessed text, one entry per input line
    macros: dict[str, Macro]
    headers: list[HeaderText]
    missing: list[str]  # includes the tree does not have
    notes: list[str]


class Preprocessor:
    def __init__(self, config: Config, reader: Reader | None = None, opaque: Iterable[str] = (),
                 include_dirs: list[str] | None = None) -> None:
        self.config = config
        self.reader = reader
        self.opaque = frozenset(opaque)
        arch = config.arch
        self.include_dirs = include_dirs if include_dirs is not None else (
            [f"arch/{arch}/include", f"arch/{arch}/include/generated", "include",
             f"arch/{arch}/include/uapi", f"arch/{arch}/include/generated/uapi", "include/uapi"]
            if arch else ["include", "include/uapi"])
        self.macros: dict[str, Macro] = {}
        self.headers: list[HeaderText] = []
        self.missing: list[str] = []
        self.notes: list[str] = []
        self._once: set[str] = set()
        self._guarded: dict[str, str] = {}
        self._last_guard = ""  # the include guard of the file run() just read, or ""
        self._files = 0
        self._bytes = 0
        self._cache: dict[str, str | None] = {}
        self.current = ""  # the file being read, for notes
        for name, body in config.macros().items():
            self.define(name, None, False, body, "config")

    # ---- macros -------------------------------------------------------------------------------
    def define(self, name: str, params: list[str] | None, variadic: bool, body: str, where: str) -> None:
        self.macros[name] = Macro(name, params, variadic, body.strip(), where)

    def define_text(self, text: str, where: str = "") -> None:
        """`NAME body` or `NAME(a, b) body`, as after #define."""
        self._directive_define(text, where)

    def _directive_define(self, rest: str, where: str) -> None:
        m = re.match(r"\s*([A-Za-z_]\w*)(\()?", rest)
        if not m:
            return
        name = m.group(1)
        if m.group(2) is None:
            self.define(name, None, False, rest[m.end():], where)
            return
        close = rest.find(")", m.end())
        if close < 0:
            return
        params = [p.strip() for p in rest[m.end():close].split(",") if p.strip()]
        variadic = False
        if params and params[-1].endswith("..."):
            variadic = True
            last = params[-1][:-3].strip()
            params[-1] = last or "__VA_ARGS__"
        self.define(name, params, variadic, rest[close + 1:], where)

    # ---- expansion ----------------------------------------------------------------------------
    def expand(self, toks: list[Tok], in_if: bool = False) -> list[Tok]:
        """Macro-expand a token list (rescanning, hide sets, no recursion into a macro's own name)."""
        pending = list(reversed(toks))
        out: list[Tok] = []
        budget = MAX_EXPANSION_TOKENS
        while pending:
            t = pending.pop()
            if t.kind != "id" or t.text in t.hide:
                out.append(t)
                continue
            if in_if and t.text == "defined":
                out.append(t)
                self._copy_defined_operand(pending, out)
                continue
            m = self.macros.get(t.text)
            if m is None or (t.text in self.opaque and not in_if):
                out.append(t)
                continue
            budget -= 1
            if budget <= 0 or len(pending) > MAX_EXPANSION_TOKENS:
                raise PreprocessError(f"macro expansion of {t.text} does not terminate within bounds")
            if m.params is None:
                body = self._subst(m, {}, t.hide | {m.name}, t.line)
                pending.extend(reversed(body))
                continue
            # function-like: only with an argument list
            skipped: list[Tok] = []
            while pending and pending[-1].kind == "ws":
                skipped.append(pending.pop())
            if not pending or pending[-1].text != "(":
                out.append(t)
                pending.extend(reversed(skipped))
                continue
            mark = len(pending)
            taken: list[Tok] = []
            args = self._collect_args(pending, taken)
            if args is None:  # unbalanced: leave the name and what follows as they were
                out.append(t)
                pending.extend(reversed(taken))
                assert len(pending) == mark
                continue
            bound = self._bind(m, args)
            if bound is None:
                out.append(t)
                continue
            body = self._subst(m, bound, t.hide | {m.name}, t.line)
            pending.extend(reversed(body))
            budget -= len(body)
        return out

    @staticmethod
    def _copy_defined_operand(pending: list[Tok], out: list[Tok]) -> None:
        while pending and pending[-1].kind == "ws":
            pending.pop()
        if pending and pending[-1].text == "(":
            while pending:
                t = pending.pop()
                out.append(t)
                if t.text == ")":
                    return
        elif pending:
            out.append(pending.pop())

    @staticmethod
    def _collect_args(pending: list[Tok], taken: list[Tok]) -> list[list[Tok]] | None:
        taken.append(pending.pop())  # "("
        args: list[list[Tok]] = [[]]
        depth = 0
        while pending:
            t = pending.pop()
            taken.append(t)
            if t.text in ("(", "[", "{") and t.kind == "punct":
                depth += 1
            elif t.text in (")", "]", "}") and t.kind == "punct":
                if depth == 0:
                    if t.text != ")":
                        return None
                    return args
                depth -= 1
            elif t.text == "," and depth == 0:
                args.append([])
                continue
            args[-1].append(t)
        return None

    @staticmethod
    def _bind(m: Macro, args: list[list[Tok]]) -> dict[str, list[Tok]] | None:
        params = m.params or []
        if len(args) == 1 and not any(t.kind != "ws" for t in args[0]) and not params:
            args = []
        if m.variadic:
            fixed = len(params) - 1
            if len(args) < fixed:
                if len(args) == fixed - 1 or (fixed == 0):
                    args = args + [[]] * (fixed - len(args))
                else:
                    return None
            va: list[Tok] = []
            for i, a in enumerate(args[fixed:]):
                if i:
                    va.append(Tok("punct", ","))
                va.extend(a)
            bound = {p: args[i] for i, p in enumerate(params[:fixed])}
            bound[params[-1]] = va
            return bound
        if len(args) != len(params):
            if len(params) == 1 and not args:
                return {params[0]: []}
            return None
        return {p: a for p, a in zip(params, args)}

    def _subst(self, m: Macro, bound: dict[str, list[Tok]], hide: frozenset, line: int) -> list[Tok]:
        body = m.body
        n = len(body)
        out: list[Tok] = []
        expanded: dict[str, list[Tok]] = {}

        def nnw(j: int) -> int:
            while j < n and body[j].kind == "ws":
                j += 1
            return j

        def raw(tok: Tok) -> list[Tok]:
            return bound[tok.text] if tok.kind == "id" and tok.text in bound else [tok]

        i = 0
        while i < n:
            t = body[i]
            if t.text in ("#", "%:") and t.kind == "punct" and m.params is not None:
                j = nnw(i + 1)
                if j < n and body[j].kind == "id" and body[j].text in bound:
                    out.append(Tok("str", _stringize(bound[body[j].text])))
                    i = j + 1
                    continue
            j = nnw(i + 1)
            if j < n and body[j].text in ("##", "%:%:"):
                operands = [t]
                last = i
                k = j
                while k < n and body[k].text in ("##", "%:%:"):
                    r = nnw(k + 1)
                    if r >= n:
                        break
                    operands.append(body[r])
                    last = r
                    k = nnw(r + 1)
                va_name = (m.params or [""])[-1] if m.variadic else None
                if len(operands) == 2 and operands[0].text == "," and operands[1].text == va_name:
                    va = bound.get(va_name, [])
                    if any(x.kind != "ws" for x in va):  # GNU: ", ## __VA_ARGS__" keeps the comma
                        out.append(operands[0])
                        out.extend(va)
                    i = last + 1
                    continue
                acc = raw(operands[0])
                for op in operands[1:]:
                    acc = _paste(acc, raw(op))
                out.extend(acc)
                i = last + 1
                continue
            if t.kind == "id" and t.text in bound:
                if t.text not in expanded:
                    expanded[t.text] = self.expand(bound[t.text])
                out.extend(expanded[t.text])
                i += 1
                continue
            out.append(t)
            i += 1
        return [Tok(x.kind, x.text, x.hide | hide if x.kind == "id" else x.hide, line) for x in out]

    # ---- #if ----------------------------------------------------------------------------------
    def eval_if(self, text: str) -> bool:
        toks = [t for t in tokenize(text)]
        toks = self._builtin_tests(toks)
        toks = self.expand(toks, in_if=True)
        toks = [t for t in toks if t.kind != "ws"]
        vals: list[Tok] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t.text == "defined":
                j = i + 1
                paren = j < len(toks) and toks[j].text == "("
                name_i = j + 1 if paren else j
                name = toks[name_i].text if name_i < len(toks) else ""
                vals.append(Tok("num", "1" if name in self.macros else "0"))
                i = name_i + (2 if paren else 1)
                continue
            if t.kind == "id":
                vals.append(Tok("num", "0"))  # an identifier left after expansion is 0
            else:
                vals.append(t)
            i += 1
        try:
            return bool(_IfParser(vals).parse())
        except (IndexError, ValueError, ZeroDivisionError):
            self.notes.append(f"{self.current}: #if {text.strip()[:60]}: cannot evaluate, taken as false")
            return False

    def _builtin_tests(self, toks: list[Tok], code: bool = False) -> list[Tok]:
        """IS_ENABLED(CONFIG_X) and (in #if) the compiler's __has_*() answered from the config."""
        out: list[Tok] = []
        i = 0
        sig = [t for t in toks]
        while i < len(sig):
            t = sig[i]
            if t.kind == "id" and t.text in (_CONFIG_TESTS if code else _CONFIG_TESTS | _HAS_TESTS):
                j = i + 1
                while j < len(sig) and sig[j].kind == "ws":
                    j += 1
                if j < len(sig) and sig[j].text == "(":
                    depth, k = 0, j
                    while k < len(sig):
                        if sig[k].text == "(":
                            depth += 1
                        elif sig[k].text == ")":
                            depth -= 1
                            if depth == 0:
                                break
                        k += 1
                    inner = "".join(x.text for x in sig[j + 1:k]).strip()
                    if t.text in _HAS_TESTS:
                        val = 0
                    else:
                        val = self.config_test(t.text, inner)
                    out.append(Tok("num", str(val), frozenset(), t.line))
                    i = k + 1
                    continue
            out.append(t)
            i += 1
        return out

    def config_test(self, test: str, option: str) -> int:
        v = self.config.options.get(option, False)
        if test == "IS_MODULE":
            return int(v == "m")
        if test == "IS_BUILTIN":
            return int(v is True or (isinstance(v, int) and not isinstance(v, bool) and v != 0))
        return self.config.enabled(option)

    # ---- files --------------------------------------------------------------------------------
    def read(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = self.reader(path) if self.reader is not None else None
        return self._cache[path]

    def _candidates(self, name: str, quoted: bool, current: str) -> list[str]:
        cands: list[str] = []
        if quoted and "/" in current:
            cands.append(_normpath(current.rsplit("/", 1)[0] + "/" + name))
        cands += [f"{d}/{name}" for d in self.include_dirs]
        if name.startswith("asm/"):  # arch/*/include/asm/Kbuild generic-y: the asm-generic header
            cands.append("include/asm-generic/" + name[4:])
        return cands

    def resolve(self, name: str, quoted: bool, current: str) -> str | None:
        exists = getattr(self.reader, "exists", None)
        for c in self._candidates(name, quoted, current):
            if (exists(c) if exists is not None else self.read(c) is not None):
                return c
        return None

    def _prefetch(self, text: str, path: str) -> None:
        """Ask the reader for every header this one may include, in one round trip."""
        want = []
        for m in _INCLUDE.finditer(text):
            name = m.group(2)
            for c in self._candidates(name, m.group(1) == '"', path):
                if c not in self._cache and self.reader.exists(c):  # type: ignore[union-attr]
                    want.append(c)
                    break
        if want:
            self.reader.prefetch(want)  # type: ignore[union-attr]

    def include(self, path: str, depth: int) -> None:
        """Run a header: its directives change the macro table; its active lines are kept."""
        if path in self._once:
            return
        guard = self._guarded.get(path)
        if guard and guard in self.macros:
            return  # its include guard is defined: a second reading changes nothing
        text = self.read(path)
        if text is None:
            return
        self._files += 1
        self._bytes += len(text)
        if self._files > MAX_INCLUDED_FILES or self._bytes > MAX_INCLUDED_BYTES:
            raise PreprocessError(f"the headers of this file exceed {MAX_INCLUDED_FILES} files or "
                                  f"{MAX_INCLUDED_BYTES // 1_000_000} MB")
        if self.reader is not None and hasattr(self.reader, "prefetch"):
            self._prefetch(text, path)
        lines = self.run(text, path, depth, header=True)
        if self._last_guard:
            self._guarded[path] = self._last_guard
        self.headers.append(HeaderText(path, lines, "\n".join(lines)))

    def run(self, text: str, path: str, depth: int = 0, header: bool = False) -> list[str]:
        """Preprocess one file. For the file under review the active lines come out expanded; for a
        header they come out as they are (expanded later, only where a helper is needed)."""
        out = [""] * (text.count("\n") + 1)
        outer, self.current = self.current, path
        conds = _Conditionals()
        guard = _Guard()
        pending: list[tuple[int, int, str]] = []
        for first, count, raw in logical_lines(strip_comments(text)):
            s = raw.lstrip()
            if not s:
                continue
            directive = s.startswith(("#", "%:"))
            guard.line(s, directive)
            if not directive:
                if conds.active:
                    pending.append((first, count, raw))
                continue
            self._flush(pending, out, header)
            m = re.match(r"\s*(\w+)(.*)", s[1:] if s.startswith("#") else s[2:], re.S)
            if not m:
                continue
            d, rest = m.group(1), m.group(2)
            if d in _CONDITIONALS:
                conds.directive(d, rest, self)
                if not conds.depth:
                    guard.closed()
            elif conds.active:
                self._directive(d, rest, path, depth, first)
        self._flush(pending, out, header)
        self.current = outer
        self._last_guard = guard.name if header else ""
        return out

    def _flush(self, pending: list[tuple[int, int, str]], out: list[str], header: bool) -> None:
        if not pending:
            return
        if header:
            for first, _count, t in pending:
                out[first - 1] = t
        else:
            self._expand_into(pending, out)
        pending.clear()

    def _directive(self, d: str, rest: str, path: str, depth: int, line: int) -> None:
        """An active directive other than a conditional; #error, #warning, #line and other pragmas
        change nothing the interpreter runs."""
        if d == "define":
            self._directive_define(rest, f"{path}:{line}")
        elif d == "undef":
            self.macros.pop(rest.strip().split()[0] if rest.strip() else "", None)
        elif d in ("include", "include_next"):
            self._directive_include(rest, path, depth)
        elif d == "pragma" and rest.strip() == "once":
            self._once.add(path)

    def defined_test(self, d: str, rest: str) -> bool:
        """#if/#elif expression, or #ifdef/#ifndef/#elifdef/#elifndef NAME."""
        if d in ("if", "elif"):
            return self.eval_if(rest)
        name = rest.strip().split()[0] if rest.strip() else ""
        return (name in self.macros) == d.endswith("ifdef")

    def _directive_include(self, rest: str, path: str, depth: int) -> None:
        rest = rest.strip()
        m = re.match(r'[<"]([^>"]+)[>"]', rest)
        if not m:
            toks = self.expand(tokenize(rest))
            rest = "".join(t.text for t in toks).strip()
            m = re.match(r'[<"]([^>"]+)[>"]', rest)
            if not m:
                return
        name = m.group(1)
        if depth + 1 > MAX_INCLUDE_DEPTH:
            self.notes.append(f"{path}: #include <{name}> nested deeper than {MAX_INCLUDE_DEPTH}, skipped")
            return
        target = self.resolve(name, rest.startswith('"'), path)
        if target is None:
            if name not in self.missing:
                self.missing.append(name)
            return
        self.include(target, depth + 1)

    def _expand_into(self, chunk: list[tuple[int, int, str]], out: list[str]) -> None:
        """Expand a run of code lines as one token stream, so a macro call may span lines; each output
        token lands on the line its source token came from, an expansion on the line of its name."""
        toks: list[Tok] = []
        for first, _count, text in chunk:
            toks.extend(tokenize(text, first))
            toks.append(Tok("ws", " ", frozenset(), first))
        if not any(t.kind == "id" and t.text in self.macros for t in toks):
            for first, _count, text in chunk:
                out[first - 1] = text
            return
        by_line: dict[int, list[Tok]] = {}
        for t in self.expand(self._builtin_tests(toks, code=True)):
            by_line.setdefault(t.line, []).append(t)
        for first, _count, _text in chunk:
            out[first - 1] = join(by_line.get(first, [])).rstrip()

    def expand_text(self, text: str) -> str:
        return join(self.expand(tokenize(text)))

    def result(self, lines: list[str]) -> Result:
        return Result(lines, self.macros, self.headers, self.missing, self.notes)


_CONFIG_TESTS = frozenset({"IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE"})
_HAS_TESTS = frozenset({"__has_attribute", "__has_builtin", "__has_include", "__has_feature",
                        "__has_cpp_attribute", "__has_c_attribute"})


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include(?:_next)?[ \t]*([<"])([^>"\n]+)[>"]', re.M)
_CONDITIONALS = frozenset({"if", "ifdef", "ifndef", "elif", "elifdef", "elifndef", "else", "endif"})


class _Conditionals:
    """The #if stack: each level is [this branch active, some branch taken, parent active]."""

    def __init__(self) -> None:
        self.stack: list[list[bool]] = []
        self.active = True

    @property
    def depth(self) -> int:
        return len(self.stack)

    def directive(self, d: str, rest: str, pp: Preprocessor) -> None:
        if d in ("if", "ifdef", "ifndef"):
            if not self.active:
                self.stack.append([False, True, False])
            else:
                val = pp.defined_test(d, rest)
                self.stack.append([val, val, True])
        elif not self.stack:
            return  # a stray #elif/#else/#endif: ignored
        elif d == "endif":
            self.stack.pop()
        else:
            top = self.stack[-1]
            if d == "else":
                top[0], top[1] = top[2] and not top[1], True
            elif not top[2] or top[1]:
                top[0] = False
            else:
                top[0] = top[1] = pp.defined_test(d, rest)
        self.active = all(x[0] for x in self.stack)


class _Guard:
    """Whether a file is `#ifndef G` … `#endif` around everything (its include guard is G)."""

    def __init__(self) -> None:
        self.name = ""
        self.open = False
        self.seen = False

    def line(self, s: str, directive: bool) -> None:
        if self.seen and not self.open:
            self.name = ""  # something after the guard's #endif
        if not self.seen:
            self.seen = True
            g = re.match(r"#\s*(?:ifndef\s+(\w+)|if\s+!\s*defined\s*\(?\s*(\w+)\s*\)?\s*$)", s) if directive else None
            self.name, self.open = ((g.group(1) or g.group(2)), True) if g else ("", False)

    def closed(self) -> None:
        self.open = False


def _stringize(arg: list[Tok]) -> str:
    text = "".join(t.text for t in arg).strip()
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _paste(left: list[Tok], right: list[Tok]) -> list[Tok]:
    left = [t for t in left]
    right = [t for t in right]
    while left and left[-1].kind == "ws":
        left.pop()
    while right and right[0].kind == "ws":
        right.pop(0)
    if not left:
        return right
    if not right:
        return left
    joined = tokenize(left[-1].text + right[0].text)
    return left[:-1] + joined + right[1:]


def _normpath(p: str) -> str:
    parts: list[str] = []
    for seg in p.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    return "/".join(parts)


def c_number(text: str) -> int:
    s = text.rstrip("uUlL")
    if text.startswith("'"):
        body = text[1:-1]
        if body.startswith("\\"):
            esc = {"n": 10, "t": 9, "0": 0, "\\": 92, "'": 39, "r": 13}
            return esc.get(body[1:2], ord(body[1:2] or "\0"))
        return ord(body[:1] or "\0")
    return int(s, 0) if not (len(s) > 1 and s[0] == "0" and s[1:].isdigit()) else int(s, 8)


class _IfParser:
    """C integer constant expressions of #if (precedence climbing, ?: and short-circuit included)."""

    _BIN = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
            "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}

    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    def parse(self) -> int:
        v = self.cond()
        if self.i != len(self.toks):
            raise ValueError("trailing tokens")
        return v

    def peek(self) -> str:
        return self.toks[self.i].text if self.i < len(self.toks) else ""

    def cond(self) -> int:
        c = self.binary(1)
        if self.peek() == "?":
            self.i += 1
            a = self.cond()
            if self.peek() != ":":
                raise ValueError("missing :")
            self.i += 1
            b = self.cond()
            return a if c else b
        return c

    def binary(self, min_prec: int) -> int:
        left = self.unary()
        while True:
            op = self.peek()
            prec = self._BIN.get(op)
            if prec is None or prec < min_prec:
                return left
            self.i += 1
            right = self.binary(prec + 1)
            left = _apply(op, left, right)

    def unary(self) -> int:
        t = self.peek()
        if t in ("!", "-", "+", "~"):
            self.i += 1
            v = self.unary()
            return {"!": int(not v), "-": -v, "+": v, "~": ~v}[t]
        if t == "(":
            self.i += 1
            v = self.cond()
            if self.peek() != ")":
                raise ValueError("missing )")
            self.i += 1
            return v
        tok = self.toks[self.i]
        self.i += 1
        if tok.kind in ("num", "chr"):
            return c_number(tok.text)
        raise ValueError(f"unexpected {tok.text!r}")


def _apply(op: str, a: int, b: int) -> int:
    if op == "||":
        return int(bool(a) or bool(b))
    if op == "&&":
        return int(bool(a) and bool(b))
    if op in ("/", "%"):
        if b == 0:
            raise ZeroDivisionError
        return int(a / b) if op == "/" else a - b * int(a / b)
    return {"|": a | b, "^": a ^ b, "&": a & b, "==": int(a == b), "!=": int(a != b), "<": int(a < b),
            ">": int(a > b), "<=": int(a <= b), ">=": int(a >= b), "<<": a << b if 0 <= b < 256 else 0,
            ">>": a >> b if 0 <= b < 256 else 0, "+": a + b, "-": a - b, "*": a * b}[op]
