"""Headers a model reads (model.toml [headers]): their functions and function-like macros, as the
patch changes them, run in place of the model's own.

A kernel patch often changes behaviour in a header: a static inline, or a macro such as
`#define destroy_context(mm) synchronize_rcu()`. A header with a reference in the model directory
(its functions in our words) has the patch's hunks applied to it like a model file. A header
without one contributes what the hunks show whole: every complete function or function-like macro
in a hunk's post-image. A hunk that places nowhere matters only if it names a function the program
has: then nothing can say what the changed code does, and the review is not judged; otherwise
(a change to code no scenario reaches) it is left out, with a note.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.cmodel.bind import BindReport, apply_hunks, reference_lines
from bot.cmodel.program import SourceLine, program_from_text
from bot.patch import FileDiff

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
    """The header's code: its reference with every layer's hunks applied, or each hunk's post-image."""
    last = len(layers) - 1
    if ref:
        rel = f"models/{spec.directory.name}/{ref}"
        lines = reference_lines(rel, (spec.directory / ref).read_text())
        for i, layer in enumerate(layers):
            fd = next((f for f in layer if f.path == hpath), None)
            if fd is None:
                continue
            report = BindReport()
            lines = apply_hunks(lines, fd, report)
            for why in report.failed:
                _unplaced(why, fd, bound)
            if i < last:
                lines = [SourceLine(sl.file, sl.line, sl.text, sl.from_patch, False) for sl in lines]
        return [lines]
    out: list[list[SourceLine]] = []
    for i, layer in enumerate(layers):
        for fd in (f for f in layer if f.path == hpath):
            for h in fd.hunks:
                out.append([SourceLine(fd.path, ln.new_no or 0, ln.text, True, ln.tag == "+" and i == last)
                            for ln in h.lines if ln.tag != "-"])
    return out


def _unplaced(why: str, fd: FileDiff, bound: Bound) -> None:
    """A header hunk that matches nothing of the reference: a problem only if it touches code the
    program runs."""
    m = re.search(r"@@ -(\d+)", why)
    hunk = next((h for h in fd.hunks if m and str(h.old_start) == m.group(1)), None)
    names = {w for ln in (hunk.lines if hunk else []) if ln.tag != " " for w in _IDENT.findall(ln.text)}
    if names & set(bound.program.functions):
        bound.report.failed.append(why)
    else:
        bound.notes.append(f"{why.split(': ', 1)[0]}: a header change no scenario reaches, left out")
