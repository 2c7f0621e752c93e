"""Every call the relevant postings of the 2023 and 2024 list years make is modeled or deliberately
opaque: a primitive of rules/primitives.toml or rules/families.toml, a call rules/opaque.toml lists
with its reason, a macro rules/macros.toml defines, or a function of the code under review (the
posting, its series, a model's sources). A call of a function-like macro the posting defines in the
same file counts as the calls of its body, which is what bot.cmodel.macros runs.

The calls counted are those of the code the models run or the caller rules read: every function a
relevant posting changes in a file a model covers, and every changed function holding lifetime call
sites (bot.sites). Declarations at file scope are not code that runs. A posting is relevant when the
call-site stage says so or it changes a model's file. A new unknown call fails this test by name:
model it, or list it in rules/opaque.toml with the reason it does not matter.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict

import pytest

from bot.cmodel.macros import call_macros
from bot.cmodel.models import load_models
from bot.cmodel.preprocess import model_macros
from bot.cmodel.primitives import primitives
from bot.cmodel.program import SourceLine, program_from_text
from bot.patch import HunkLine, Posting
from bot.sites import analyze
from bot.sites.postimage import FILE_SCOPE
from tests.corpus import year_postings


def model_functions() -> set[str]:
    names: set[str] = set()
    for spec in load_models():
        parts = {part for kpath in spec.reference_parts for part in spec.reference_parts[kpath]}
        for src in sorted(parts | set(spec.env)):
            unit, _ = program_from_text((spec.directory / src).read_text())
            names |= set(unit.functions)
    return names


_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
_KEYWORDS = {"while", "if", "for", "switch", "sizeof", "return"}


def posting_macros(p: Posting) -> dict[tuple[str, str], tuple[list[str], str]]:
    """(file, name) → the function-like macro a posting defines in that file, which
    bot.cmodel.macros expands where the file's code uses it (a wrapper some configurations
    compile to nothing): its uses are no calls, its body's calls are."""
    return {(fd.path, name): m for fd in p.files
            for name, m in call_macros([SourceLine(fd.path, 0, ln.text, True, ln.tag == "+")
                                        for h in fd.hunks for ln in h.lines if ln.tag != "-"]).items()}


def unknown_calls(postings: tuple[Posting, ...]) -> dict[str, set[str]]:
    """callee → where ("subject: file:function") for calls no rule, model or patch defines."""
    known = set(primitives()) | model_functions() | {key.split("(")[0] for key in model_macros()}
    model_files = {f for spec in load_models() for f in spec.files}
    sitemaps = {}
    for p in postings:
        if not p.files:
            continue
        try:
            sm = analyze(p)
        except Exception:  # noqa: BLE001 - a diff the call-site stage cannot read is its own tests' business
            continue
        if sm.relevant or {fd.path for fd in p.files} & model_files:
            sitemaps[p.msgid] = (p, sm)
    defined_by_series: dict[str, set[str]] = defaultdict(set)
    macros_by_series: dict[str, dict[tuple[str, str], tuple[list[str], str]]] = defaultdict(dict)
    for p, sm in sitemaps.values():
        key = p.series.key if p.series else p.msgid
        defined_by_series[key] |= {fs.name for fs in sm.all() if fs.name}
        macros_by_series[key].update(posting_macros(p))
    out: dict[str, set[str]] = defaultdict(set)
    for p, sm in sitemaps.values():
        key = p.series.key if p.series else p.msgid
        local, macros = defined_by_series[key], macros_by_series[key]
        for fs in sm.all():
            if fs.name == FILE_SCOPE or not (fs.file in model_files or fs.key in sm.modeled):
                continue
            for op in fs.ops:
                if op.kind not in ("call", "unknown"):
                    continue
                # a macro the series defines runs as its body: its calls are what is checked
                macro = macros.get((fs.file, op.name))
                for name in _CALL.findall(macro[1]) if macro else [op.name]:
                    if name not in known and name not in local and name not in _KEYWORDS:
                        out[name].add(f"{p.subject[:60]}: {fs.file}:{fs.name}")
    return out


@pytest.mark.parametrize("year", ["2023", "2024"])
def test_every_call_of_the_relevant_postings_is_modeled_or_opaque(year: str) -> None:
    missing = unknown_calls(year_postings(year))
    assert not missing, "calls no rule models or lists as opaque: " + "; ".join(
        f"{name}() in {sorted(where)[0]}" for name, where in sorted(missing.items()))


def test_the_check_names_a_new_unknown_call() -> None:
    # The same check over a real posting edited to call a function nobody defines.
    def adds_lock(q: Posting) -> bool:
        return any(ln.tag == "+" and "spin_lock_bh(" in ln.text for fd in q.files if fd.path == "arch/s390/mm/pgalloc.c"
                   for h in fd.hunks for ln in h.lines)
    p = next(q for q in year_postings("2023") if not q.is_reply and adds_lock(q))
    q = copy.deepcopy(p)
    for fd in q.files:
        for h in fd.hunks:
            for i, ln in enumerate(h.lines):
                if ln.tag == "+" and "spin_lock_bh(" in ln.text:
                    h.lines[i] = HunkLine("+", ln.text.replace("spin_lock_bh(", "frobnicate_lock_bh("), ln.old_no,
                                          ln.new_no)
    assert "frobnicate_lock_bh" in unknown_calls((q,))
