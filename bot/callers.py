"""Caller-side pattern rules (rules/callers.toml) over the call sites of one posting.

They judge the khugepaged side of page-table freeing (retract and collapse paths) by the order of
calls in one function, and stay silent whenever the hunks do not show enough of the function.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.classify import hazard_class, known_hazard
from bot.compiled import loader
from bot.datafile import Fields, display, read_toml
from bot.findings import Finding, hazard_finding
from bot.paths import rules_dir


@loader
def rules() -> list[dict[str, Any]]:
    return load(rules_dir() / "callers.toml")


def load(path: Path) -> list[dict[str, Any]]:
    """rules/callers.toml, checked: the keys its header lists, each of its type."""
    top = Fields(read_toml(path), display(path))
    out = []
    for f in top.tables("rule"):
        rule: dict[str, Any] = {"hazard": f.get("hazard", str), "why": f.get("why", str)}
        known_hazard(f, rule["hazard"], "caller")
        for key in ("sequence", "missing_anywhere", "missing_between", "relaxes", "retracts", "walk",
                    "exempt_lock_calls"):
            if f.has(key):
                rule[key] = list(f.strs(key))
        for key in ("lock_before", "guard", "exempt_lock_guard"):
            if f.has(key):
                rule[key] = f.get(key, str)
        if f.has("require_complete"):
            rule["require_complete"] = f.get("require_complete", bool)
        if f.has("between"):
            between = f.get("between", list)
            if len(between) != 2 or not all(x == "lock" or type(x) is int for x in between):
                raise f.error("key 'between' must be two sequence indexes (or \"lock\" first)")
            rule["between"] = between
        if ("missing_between" in rule) != ("between" in rule):
            raise f.error("missing_between and between go together")
        if "relaxes" in rule:
            if not ("walk" in rule and "guard" in rule and "retracts" in rule):
                raise f.error("a rule that relaxes needs walk, guard and retracts")
            re.compile(rule["guard"])
        elif "sequence" not in rule:
            raise f.error("a rule needs a sequence (or relaxes/walk/guard)")
        f.close()
        out.append(rule)
    top.close()
    return out


def _calls(fs: Any) -> list[Any]:
    return sorted((o for o in fs.ops if o.kind in ("call", "unknown")), key=lambda o: o.line)


def _visible_from_start(posting: Any, fs: Any, line: int) -> bool:
    """Every line from the function's first line down to `line` is shown by the hunks."""
    shown: dict[int, str] = {}
    for fd in posting.files:
        if fd.path == fs.file:
            for h in fd.hunks:
                shown.update({ln.new_no: ln.text for ln in h.lines if ln.tag != "-" and ln.new_no})
    head = re.compile(rf"\b{re.escape(fs.name)}\s*\(")
    starts = [n for n, t in shown.items() if n <= line and head.search(t) and not t.rstrip().endswith(";")]
    if not starts:
        return False
    return all(n in shown for n in range(max(starts), line + 1))


# What a rule says about one function: it fires (op: where), the ordering holds, the hunks hide
# part of what it needs (no verdict), or its premises are absent (it does not apply).
FIRES, HOLDS, HIDDEN, NOT_APPLICABLE = "fires", "holds", "hidden", "n/a"
Outcome = tuple[str, Any | None]


def _evaluate_relaxed(rule: dict[str, Any], fs: Any, posting: Any, calls: list[Any]) -> Outcome:
    """A walk before the guard, in a function whose lock assertion the patch relaxes."""
    if not any(o.name in rule["relaxes"] and o.added for o in calls):
        return NOT_APPLICABLE, None
    if not any(o.name in rule["retracts"] for o in calls):
        return NOT_APPLICABLE, None  # the function frees no table: a walk alone is not this teardown race
    guard = re.compile(rule["guard"])
    guarded = [o.line for o in fs.ops if any(guard.search(c) for c in o.path)]
    first_guard = min(guarded) if guarded else None
    walk = next((o for o in calls if o.name in rule["walk"]), None)
    if walk is None or (first_guard is not None and walk.line >= first_guard):
        return HOLDS, None
    if first_guard is not None:
        return FIRES, walk
    # no guard seen: fire only if nothing between the function's start and the walk is hidden
    return (FIRES, walk) if _visible_from_start(posting, fs, walk.line) else (HIDDEN, None)


def _sequence(rule: dict[str, Any], calls: list[Any]) -> list[Any] | None:
    seq: list[Any] = []
    start = 0
    for name in rule["sequence"]:
        nxt = next((o for o in calls if o.name == name and o.line >= start), None)
        if nxt is None:
            return None
        seq.append(nxt)
        start = nxt.line
    return seq


def evaluate(rule: dict[str, Any], fs: Any, posting: Any) -> Outcome:
    """(outcome, the op a finding points at) of a rule on one function."""
    calls = _calls(fs)
    if "relaxes" in rule:
        return _evaluate_relaxed(rule, fs, posting, calls)
    seq = _sequence(rule, calls)
    if seq is None or not seq[-1].added:  # the rule is about a patch that introduces the free path
        return NOT_APPLICABLE, None
    if rule.get("require_complete") and not fs.complete:
        return HIDDEN, None
    guard = rule.get("exempt_lock_guard")
    if guard and any(o.name in rule.get("exempt_lock_calls", []) and any(guard in c for c in o.path)
                     for o in calls):
        return HOLDS, None
    if any(o.name in rule.get("missing_anywhere", []) for o in calls):
        return HOLDS, None
    if "missing_between" in rule:
        lo_ref, hi_ref = rule["between"]
        if lo_ref == "lock":
            locks = [o for o in calls if o.name.startswith("spin_lock") and o.line < seq[0].line
                     and any(rule["lock_before"] in a for a in o.args[:1])]
            if not locks:
                return NOT_APPLICABLE, None
            lo = locks[-1].line
        else:
            lo = seq[int(lo_ref)].line
        hi = seq[int(hi_ref)].line
        if any(o.name in rule["missing_between"] and lo <= o.line <= hi for o in calls):
            return HOLDS, None
    return FIRES, seq[-1]


def coverage(sitemap: Any, posting: Any) -> tuple[dict[str, list[str]], list[str]]:
    """Which functions the caller rules judged ("file:function" → the rules' hazards), and the
    rules that could not judge a function because the hunks hide part of it."""
    judged: dict[str, list[str]] = {}
    hidden: list[str] = []
    for fs in sitemap.functions.values():
        for rule in rules():
            outcome, _op = evaluate(rule, fs, posting)
            if outcome in (FIRES, HOLDS):
                judged.setdefault(fs.key, []).append(rule["hazard"])
            elif outcome == HIDDEN:
                hidden.append(f"caller rule {rule['hazard']}: the hunks do not show all of {fs.name}()")
    return judged, hidden


def caller_findings(sitemap: Any, posting: Any) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for fs in sitemap.functions.values():
        for rule in rules():
            if rule["hazard"] in seen:
                continue
            outcome, op = evaluate(rule, fs, posting)
            if outcome != FIRES:
                continue
            seen.add(rule["hazard"])
            out.append(hazard_finding(
                rule["hazard"], cls=hazard_class(rule["hazard"]), introduced=True, file=op.file, line=op.line,
                function=fs.name, evidence=[op.text.strip()], lead=f"{rule['why']}.",
                unmodeled=["a caller-side pattern rule (rules/callers.toml) over the order of calls in "
                           f"{fs.name}(), not a simulated interleaving"]))
    return out
