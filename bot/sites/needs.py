"""Which C file diffs can hold a call site that counts, decided without parsing them.

Parsing hunks with tree-sitter and walking the trees is most of the call-site stage's cost, and
most C diffs on a list never touch a lifetime primitive. What a review reads from the stage (a
reason that makes the posting relevant; a caller rule that fires, holds, or finds the hunks too
short) always needs, in a file's hunk lines or their section lines, one of these names, each taken
from the data files:
  - a primitive or field whose relevance is "always" (a field by the last member of its chain);
  - a function of [modeled] in rules/callsites.toml: a change inside one is a reason, and an
    "in-scope" call counts outside [scope].paths only inside one;
  - a callee that a rules/callers.toml rule's sequence names, or a call whose relaxation it
    judges: no rule can apply to a function that calls none of them;
or the file is one of [scope].paths (old or new name), where "in-scope" calls count. A C diff with
none of these holds no such site, so it is not parsed. A name pattern (`match`) of relevance
"always" could match any identifier: with one, every C diff is parsed.
"""

from __future__ import annotations

from typing import Any

from bot.patch import FileDiff
from bot.sites.rules import CallsiteRules

C_EXT = (".c", ".h")
CALLER_KEYS = ("sequence", "relaxes")  # the calls a caller rule cannot apply without


def names(rules: CallsiteRules, caller_rules: list[dict[str, Any]]) -> frozenset[str]:
    """Every name without which no rule can find a site that counts."""
    out: set[str] = set(rules.modeled)
    for p in rules.primitives:
        if p.relevance == "always":
            out.update(p.names)
    out.update(f.path[-1] for f in rules.fields if f.relevance == "always")
    for rule in caller_rules:
        for key in CALLER_KEYS:
            out.update(rule.get(key, ()))
    return frozenset(n for n in out if n)


_NEEDLES: dict[int, tuple[CallsiteRules, tuple[str, ...] | None]] = {}


def _needles(rules: CallsiteRules) -> tuple[str, ...] | None:
    """The names, to be found as substrings (None: every C diff must be parsed)."""
    hit = _NEEDLES.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    from bot.callers import rules as caller_rules

    found = None
    if not any(p.match is not None and p.relevance == "always" for p in rules.primitives):
        found = tuple(sorted(names(rules, caller_rules())))
    if len(_NEEDLES) >= 8:
        _NEEDLES.clear()
    _NEEDLES[id(rules)] = (rules, found)
    return found


def can_hold_sites(fd: FileDiff, rules: CallsiteRules) -> bool:
    paths = [p for p in (fd.old_path, fd.new_path) if p and p.endswith(C_EXT)]
    if not paths or not fd.hunks:
        return False
    if any(rules.in_scope(p) for p in paths):
        return True
    needles = _needles(rules)
    if needles is None:
        return True
    # An identifier equal to a name holds it as a substring, whatever the text around it; the
    # newlines keep one line's end from joining the next line's start. One substring test per
    # name over the whole file's text is several times faster than one alternation pattern.
    text = "\n".join([h.section for h in fd.hunks] + [ln.text for h in fd.hunks for ln in h.lines])
    return any(n in text for n in needles)


def site_files(files: list[FileDiff], rules: CallsiteRules) -> list[FileDiff]:
    """The file diffs the call-site stage must parse, in their order."""
    return [fd for fd in files if can_hold_sites(fd, rules)]
