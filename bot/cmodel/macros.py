"""Function-like macros of the code under review, for a model that runs without a configuration.

With a config.toml, bot/cmodel/cpp.py preprocesses the file. Without one, the file runs as the
parser reads it, and a macro the patch defines and then uses, such as a lock or interrupt wrapper
that some configurations compile to nothing, would be a call the model does not know. Here each
single-line `#define NAME(params) body` whose body is empty or one call is expanded where the
file uses it, in place on the same line (call by name, as cpp does: `local_irq_save(flags)` still
stores into the caller's flags). Of several definitions (an #if/#else pair) the last counts: the
model sets no CONFIG_ option, and the #else branch is the one without it. Other macros stay as
they are.
"""

from __future__ import annotations

import re

from bot.cmodel.program import SourceLine

_DEF = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\(([^()]*)\)[ \t]*(.*?)\s*$")
_BODY = re.compile(r"^(|[A-Za-z_]\w*\s*\(.*\)|do\s*\{\s*\}\s*while\s*\(\s*0\s*\))$")
_WORD = re.compile(r"[A-Za-z_]\w*")


def call_macros(lines: list[SourceLine]) -> dict[str, tuple[list[str], str]]:
    out: dict[str, tuple[list[str], str]] = {}
    for sl in lines:
        m = _DEF.match(sl.text)
        if m and not sl.text.rstrip().endswith("\\") and _BODY.match(m.group(3)):
            params = [p.strip() for p in m.group(2).split(",") if p.strip()]
            if all(_WORD.fullmatch(p) for p in params):
                out[m.group(1)] = (params, m.group(3))
    return out


def expand_call_macros(lines: list[SourceLine]) -> list[SourceLine]:
    macros = call_macros(lines)
    if not macros:
        return lines
    use = re.compile(r"\b(" + "|".join(map(re.escape, macros)) + r")\s*\(")
    out = []
    for sl in lines:
        text = sl.text
        if not _DEF.match(text) and use.search(text):
            text = _expand_line(text, use, macros)
        out.append(sl if text == sl.text else SourceLine(sl.file, sl.line, text, sl.from_patch, sl.added,
                                                         sl.after_removal))
    return out


def _expand_line(text: str, use: re.Pattern[str], macros: dict[str, tuple[list[str], str]]) -> str:
    pos = 0
    for _ in range(16):  # bounded: a line holds a few uses at most
        m = use.search(text, pos)
        if not m:
            break
        args, end = _args(text, m.end())
        params, body = macros[m.group(1)]
        if args is None or len(args) != len(params):
            pos = m.end()
            continue
        subst = {p: a for p, a in zip(params, args)}
        new = _WORD.sub(lambda w, s=subst: s.get(w.group(0), w.group(0)), body) if body else "0"
        text = text[:m.start()] + new + text[end:]
        pos = m.start() + len(new)
    return text


def _args(text: str, i: int) -> tuple[list[str] | None, int]:
    """The comma-separated arguments from just after `(` to its matching `)`, and the index after it."""
    depth, start, args = 0, i, []
    for j in range(i, len(text)):
        c = text[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                if c != ")":
                    return None, j
                last = text[start:j].strip()
                if last or args:
                    args.append(last)
                return args, j + 1
            depth -= 1
        elif c == "," and depth == 0:
            args.append(text[start:j].strip())
            start = j + 1
    return None, len(text)
