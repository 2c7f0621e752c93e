"""Headers a model reads (model.toml [headers]): their functions and function-like macros, as the
patch changes them, run in place of the model's own.

A kernel patch often changes behaviour in a header: a static inline, or a macro such as
`#define destroy_context(mm) synchronize_rcu()`. A header with a reference in the model directory
(its functions in our words) has the patch's hunks applied to it like a model file. A header
without one contributes what the hunks show whole: every complete function or function-like macro
in a hunk's post-image. A hunk that places nowhere matters only if it names a function the program
has: then nothing can say what the changed code does, and the review is not judged; otherwise
(a change to code no scenario reaches) it is left out, with a note. A hunk that shows whole, in
another shape, a function the reference states (an architecture's one-line macro for a hook the
reference writes as a static inline) replaces it instead of being spliced into it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.cmodel.bind import BindReport, apply_hunks, defined_names, reference_lines
from bot.cmodel.program import SourceLine, program_from_text
from bot.patch import FileDiff, Hunk

if TYPE_CHECKING:
    from bot.cmodel.models import Bound, ModelSpec

_IDENT = re.compile(r"[A-Za-z_]\w*")


def add_headers(spec: ModelSpec, layers: list[list[FileDiff]], bound: Bound) -> None:
    """Compile the model's headers, with the layers' hunks, into the bound program."""
    for hpath, ref in spec.headers.items():
        for lines in _header_code(spec, hpath, ref, layers, bound):
            unit, lines = program_from_text("\n".join(sl.text for sl in lines), lines)
            prog = bound.program
            taken = []
            for kind in (unit.functions, unit.macro_functions):
                for name, fn in list(kind.items()):
                    changed = any(sl.added for sl in lines[fn.line - 1: fn.end_line])
                    if name in prog.functions and not changed:
                        del kind[name]  # the model's files (the code under review) define it
                        continue
                    prog.functions.pop(name, None)  # the patch's version of the header wins
                    taken.append((name, fn))
            prog.add_unit(unit, lines)
            for name, fn in taken:
                if name not in prog.functions:
                    continue  # a macro named like a primitive: the primitive's rule wins
                span = lines[fn.line - 1: fn.end_line]
                changed = any(sl.added for sl in span)
                if any(sl.from_patch for sl in span):
                    bound.patched[name] = hpath
                if changed:
                    bound.changed[name] = hpath
                pl = [sl.line for sl in span if sl.file == hpath]
                if pl:
                    bound.spans[name] = (hpath, min(pl), max(pl))


def _header_code(spec: ModelSpec, hpath: str, ref: str, layers: list[list[FileDiff]],
                 bound: Bound) -> list[list[SourceLine]]:
    """The header's code: its reference with every layer's hunks applied, or each hunk's post-image.
    With a reference, a hunk that places nowhere in it but shows whole the definition it changes (a
    function-like macro where the reference states a static inline: architectures keep the same
    hook in either shape) contributes that definition, as a header without a reference would."""
    last = len(layers) - 1
    if ref:
        rel = f"models/{spec.directory.name}/{ref}"
        lines = reference_lines(rel, (spec.directory / ref).read_text())
        whole: list[list[SourceLine]] = []
        known = defined_names(lines)
        for i, layer in enumerate(layers):
            fd = next((f for f in layer if f.path == hpath), None)
            if fd is None:
                continue
            # a hunk that shows whole a definition the reference states in another shape replaces
            # it; spliced into the other shape, half of each would run
            shown = {id(h): _whole(fd, h, i == last, known) for h in fd.hunks}
            whole += [post for post in shown.values() if post]
            rest = replace(fd, hunks=[h for h in fd.hunks if not shown[id(h)]])
            report = BindReport()
            lines = apply_hunks(lines, rest, report)
            for why in report.failed:
                _unplaced(why, fd, bound)
            if i < last:
                lines = [SourceLine(sl.file, sl.line, sl.text, sl.from_patch, False) for sl in lines]
        return [lines] + whole
    out: list[list[SourceLine]] = []
    for i, layer in enumerate(layers):
        for fd in (f for f in layer if f.path == hpath):
            for h in fd.hunks:
                out.append(_post_image(fd, h, i == last))
    return out


def _other_shape(h: Hunk, items: dict, known: frozenset[str]) -> bool:
    """The hunk's post-image defines a stated function as a macro where its pre-image (and so the
    reference's shape, for an aligned hunk) did not, or the reverse: it is a definition to take
    whole. The same shape on both sides is an edit to splice."""
    pre = "\n".join(ln.text for ln in h.lines if ln.tag != "+")
    post = "\n".join(ln.text for ln in h.lines if ln.tag != "-")
    for name in set(items) & known:
        macro = re.compile(rf"^\s*#\s*define\s+{re.escape(name)}\s*\(", re.M)
        if bool(macro.search(pre)) != bool(macro.search(post)) or macro.search(post):
            return True
    return False


def header_takes(spec: ModelSpec, fd: FileDiff) -> bool:
    """Every hunk of a change to one of the model's headers lands on the header's reference or shows
    whole a definition it states in another shape: the model can say what the change does there.
    (A header that only brings a wildcard model in judges nothing else of its file.)"""
    ref = spec.headers.get(fd.path, "")
    if not ref:
        return True
    lines = reference_lines(f"models/{spec.directory.name}/{ref}", (spec.directory / ref).read_text())
    known = defined_names(lines)
    return bool(fd.hunks) and all(_whole(fd, h, True, known) or _changed_definition(h) in known for h in fd.hunks)


_DEF = re.compile(r"^(?:#\s*define\s+([A-Za-z_]\w*)\s*\(|[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\()")


def _changed_definition(h: Hunk) -> str:
    """The function or macro the hunk's first change is in: the last definition the hunk opens
    before it, else the one git's section line names."""
    name = ""
    for ln in h.lines:
        if ln.tag != " ":
            break
        m = _DEF.match(ln.text)
        if m and not ln.text.rstrip().endswith(";"):
            name = m.group(1) or m.group(2)
    if not name:
        m = _DEF.match(h.section.strip())
        name = (m.group(1) or m.group(2)) if m else ""
    return name


def _post_image(fd: FileDiff, h: Hunk, last: bool) -> list[SourceLine]:
    return [SourceLine(fd.path, ln.new_no or 0, ln.text, True, ln.tag == "+" and last)
            for ln in h.lines if ln.tag != "-"]


def _hunk_of(why: str, fd: FileDiff) -> Hunk | None:
    m = re.search(r"@@ -(\d+)", why)
    return next((h for h in fd.hunks if m and str(h.old_start) == m.group(1)), None)


def _shown_whole(why: str, fd: FileDiff, last: bool, known: frozenset[str]) -> list[SourceLine]:
    h = _hunk_of(why, fd)
    return _whole(fd, h, last, known) if h is not None else []


def _whole(fd: FileDiff, h: Hunk, last: bool, known: frozenset[str]) -> list[SourceLine]:
    """The post-image of a hunk when it holds whole the function or macro its changed lines belong
    to, in another shape than the reference states it (a macro for a static inline, or the other
    way): empty otherwise."""
    post = _post_image(fd, h, last)
    marks: list[tuple[int, ...]] = []  # the post-image lines (1-based) each change sits at or beside
    n = 0
    for ln in h.lines:
        if ln.tag != "-":
            n += 1
        if ln.tag == "+":
            marks.append((n,))
        elif ln.tag == "-":
            marks.append((n, n + 1))  # a removed line sits between two post-image lines
    unit, _lines = program_from_text("\n".join(sl.text for sl in post), post)
    items = {**unit.functions, **unit.macro_functions}
    if not set(items) & known or not _other_shape(h, items, known):
        return []
    spans = [(fn.line, fn.end_line) for fn in items.values()]
    return post if marks and all(any(a <= m <= b for a, b in spans for m in at) for at in marks) else []


def _unplaced(why: str, fd: FileDiff, bound: Bound) -> None:
    """A header hunk that matches nothing of the reference: a problem only if it touches code the
    program runs."""
    hunk = _hunk_of(why, fd)
    names = {w for ln in (hunk.lines if hunk else []) if ln.tag != " " for w in _IDENT.findall(ln.text)}
    if names & set(bound.program.functions):
        bound.report.failed.append(why)
    else:
        bound.notes.append(f"{why.split(': ', 1)[0]}: a header change no scenario reaches, left out")
