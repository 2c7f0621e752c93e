"""The text the interpreter parses, from a file's lines: preprocessed under the model's config.

From the mail alone, the file is the reference model with the patch's hunks spliced in; with a
tree, the tree's real file with the hunks applied, and its `#include`s are read from the tree.
Either way `#if` is decided by models/<name>/config.toml, macros are expanded (rules/macros.toml
gives the ones read our own way; names in rules/primitives.toml and the model's constants are never
expanded) and the output keeps the file's line numbers.

Static inline helpers of the headers form a library: a function the code calls that neither the
file, the primitives nor the model defines is looked up there, expanded with the macros in force
at the end of the file, and run as real code (its lines are the header's own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.cmodel.cparse import CUnit, parse_unit
from bot.cmodel.cpp import (
    MAX_FUNCTION_LINES,
    Config,
    HeaderText,
    PreprocessError,
    Preprocessor,
    Reader,
    join,
    tokenize,
)
from bot.cmodel.program import SourceLine
from bot.compiled import loader
from bot.datafile import DataError, Fields, display, read_toml
from bot.paths import rules_dir

_MACRO_KEY = re.compile(r"[A-Za-z_]\w*(\(\s*(?:[A-Za-z_]\w*\s*,\s*)*(?:[A-Za-z_]\w*|\.\.\.)?\s*(?:\.\.\.)?\))?")


@loader
def _macro_rules() -> tuple[dict[str, str], frozenset[str]]:
    return load_macros(rules_dir() / "macros.toml")


def load_macros(path: Path) -> tuple[dict[str, str], frozenset[str]]:
    """rules/macros.toml: `NAME` or `NAME(params)` → body, and the names kept as written."""
    f = Fields(read_toml(path), display(path))
    table = f.get("macros", dict, {})
    keep = frozenset(f.strs("keep"))
    f.close()
    out: dict[str, str] = {}
    for key, body in table.items():
        if not _MACRO_KEY.fullmatch(key) or not isinstance(body, str):
            raise DataError(f"{display(path)}: macros.{key}: not NAME or NAME(params) with a string body")
        out[key] = body
    return out, keep


def model_macros() -> dict[str, str]:
    return _macro_rules()[0]


def kept_macros() -> frozenset[str]:
    return _macro_rules()[1]


def _protected() -> frozenset[str]:
    return frozenset(re.match(r"\w+", k).group() for k in model_macros()) | kept_macros()  # type: ignore[union-attr]


@dataclass
class Prepared:
    text: str  # one line per input line
    library: HeaderLibrary | None = None
    notes: list[str] = field(default_factory=list)


class _ModelPreprocessor(Preprocessor):
    """A preprocessor whose rules/macros.toml definitions survive the tree's headers."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._keep = _protected()
        for key, body in model_macros().items():
            self.define_text(f"{key} {body}", "rules/macros.toml")

    def define(self, name, params, variadic, body, where) -> None:  # type: ignore[override]
        if name in getattr(self, "_keep", ()) and where != "rules/macros.toml":
            return
        super().define(name, params, variadic, body, where)


def _fresh(config: Config, reader: Reader | None, opaque: frozenset[str]) -> _ModelPreprocessor:
    pp = _ModelPreprocessor(config, reader, opaque)
    if reader is not None:
        for inc in config.implicit_includes:
            pp.include(inc, 0)
    return pp


_PROLOGUE_CACHE: dict[tuple, tuple[dict, list[HeaderText], list[str], list[str]]] = {}


def _prologue(text_lines: list[str]) -> int:
    """How many leading lines hold only comments, blank lines and directives (the #include block)."""
    in_comment = False
    last = 0
    for i, ln in enumerate(text_lines):
        s = ln.strip()
        if in_comment:
            if "*/" in s:
                in_comment = False
                s = s.split("*/", 1)[1].strip()
            else:
                continue
        if s.startswith("/*"):
            if "*/" not in s:
                in_comment = True
            continue
        if not s or s.startswith("//"):
            continue
        if s.startswith("#") and not re.match(r"#\s*(if|ifdef|ifndef)\b", s):
            last = i + 1
            while text_lines[last - 1].rstrip().endswith("\\") and last < len(text_lines):
                last += 1
            continue
        break
    return last


_MAIL_ONLY: dict[tuple, Prepared] = {}  # text from the mail alone: what preprocessing made of it


def prepare(lines: list[SourceLine], path: str, config: Config, reader: Reader | None,
            opaque: frozenset[str], cache_key: tuple = ()) -> Prepared:
    """Preprocess the file's lines (reference or tree, hunks applied) for the parser. Without a
    tree the result depends on the text and the options alone (not on the architecture's include
    directories): the instances of a wildcard model share it."""
    if reader is not None:
        return _prepare(lines, path, config, reader, opaque, cache_key)
    key = (path, tuple(sorted(config.options.items())), tuple(sorted(config.defines.items())), opaque,
           "\n".join(sl.text for sl in lines))
    hit = _MAIL_ONLY.get(key)
    if hit is None:
        if len(_MAIL_ONLY) >= 64:
            _MAIL_ONLY.pop(next(iter(_MAIL_ONLY)))
        hit = _MAIL_ONLY[key] = _prepare(lines, path, config, None, opaque, cache_key)
    return Prepared(hit.text, None, list(hit.notes))


def _prepare(lines: list[SourceLine], path: str, config: Config, reader: Reader | None,
             opaque: frozenset[str], cache_key: tuple = ()) -> Prepared:
    raw = [sl.text for sl in lines]
    notes: list[str] = []
    n_pro = _prologue(raw) if reader is not None else 0
    key = (cache_key, config.arch, tuple(sorted(config.options.items())), opaque, "\n".join(raw[:n_pro]))
    pp = _ModelPreprocessor(config, reader, opaque)
    try:
        hit = _PROLOGUE_CACHE.get(key) if reader is not None and cache_key else None
        if hit is None:
            pp = _fresh(config, reader, opaque)
            pro_out = pp.run("\n".join(raw[:n_pro]), path) if n_pro else []
            if reader is not None and cache_key:
                if len(_PROLOGUE_CACHE) > 16:
                    _PROLOGUE_CACHE.clear()
                _PROLOGUE_CACHE[key] = (dict(pp.macros), list(pp.headers), list(pp.missing), list(pp.notes))
        else:
            macros, headers, missing, pnotes = hit
            pp.macros = dict(macros)
            pp.headers = list(headers)
            pp.missing = list(missing)
            pp.notes = list(pnotes)
            pro_out = [""] * n_pro
        body_out = pp.run("\n".join(raw[n_pro:]), path)
    except (PreprocessError, RecursionError) as e:
        notes.append(f"{path}: not preprocessed ({e}); read as it is")
        return Prepared("\n".join(raw), None, notes)
    out = (pro_out + body_out)[: len(raw)]
    out += [""] * (len(raw) - len(out))
    # What the headers could not say matters only where the code that runs uses it, and then the
    # interpreter names the unresolved name; notes about the file itself are the review's.
    notes += [n for n in pp.notes if n.startswith(f"{path}:")][:5]
    return Prepared("\n".join(out), HeaderLibrary(pp) if reader is not None else None, notes)


class HeaderLibrary:
    """Static inline functions of the headers a file includes, found and parsed on demand."""

    MAX_FUNCTIONS = 120

    def __init__(self, pp: Preprocessor) -> None:
        self.pp = pp
        self.taken: list[str] = []

    def find(self, name: str) -> tuple[CUnit, list[SourceLine]] | None:
        if len(self.taken) >= self.MAX_FUNCTIONS:
            return None
        pat = re.compile(r"\b" + re.escape(name) + r"\s*\(")
        for h in self.pp.headers:
            text = h.text
            if name not in text:
                continue
            for m in pat.finditer(text):
                span = _definition_at(text, m.start(), m.end() - 1)
                if span is None:
                    continue
                first = text.count("\n", 0, span[0])
                last = text.count("\n", 0, span[1])
                if last - first > MAX_FUNCTION_LINES:
                    continue
                got = self._parse(h, first, last, name)
                if got is not None:
                    self.taken.append(name)
                    return got
        return None

    def _parse(self, h: HeaderText, first: int, last: int, name: str) -> tuple[CUnit, list[SourceLine]] | None:
        chunk = h.lines[first:last + 1]
        try:
            toks = []
            for i, ln in enumerate(chunk):
                toks.extend(tokenize(ln, i + 1))
                toks.append(tokenize(" ", i + 1)[0])
            by_line: dict[int, list] = {}
            for t in self.pp.expand(self.pp._builtin_tests(toks, code=True)):
                by_line.setdefault(t.line, []).append(t)
        except (PreprocessError, RecursionError):
            return None
        text = "\n".join(join(by_line.get(i + 1, [])) for i in range(len(chunk)))
        unit = parse_unit(text)
        if name not in unit.functions:
            return None
        unit.functions = {name: unit.functions[name]}
        unit.defines = {}
        unit.static_locks = []
        lines = [SourceLine(h.path, first + i + 1, chunk[i], False, False) for i in range(len(chunk))]
        return unit, lines


def _matching(text: str, at: int, open_: str, close: str) -> int:
    """The offset of the bracket closing the one at `at`, or -1."""
    depth = 0
    for i in range(at, len(text)):
        c = text[i]
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _definition_at(text: str, name_at: int, paren_at: int) -> tuple[int, int] | None:
    """(start, end) offsets of a function definition whose name is at name_at, or None when the
    name is a call, a prototype or a macro use: its parameter list must be followed by `{` and the
    name must start a declaration at file scope (after `;`, `}` or a blank line)."""
    i = _matching(text, paren_at, "(", ")")
    if i < 0:
        return None
    j = i + 1
    while j < len(text) and text[j] in " \t\n":
        j += 1
    if j >= len(text) or text[j] != "{":
        return None
    before = text[:name_at]
    if before.count("{") != before.count("}"):
        return None  # inside a body or an initializer, not at file scope
    # The declaration starts after the previous `;`, `}` or blank line.
    k = name_at - 1
    while k >= 0 and text[k] not in ";}":
        if text[k] == "\n" and k > 0 and text[k - 1] == "\n":
            break
        k -= 1
    end = _matching(text, j, "{", "}")
    return (k + 1, end) if end >= 0 else None
