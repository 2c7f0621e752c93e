"""The verdict of one relevant posting: judged (findings, or every check that applies ran
conclusively) or not judged, with the reasons — never a silent pass.

The rule (README, "Reading a review"): a relevant review is judged when it has a correctness
finding, or when
  1. every model covering a changed file placed all of the patch's hunks, and each of its scenarios
     that can run on this code completed conclusively — set up, explored within its budgets, no
     name nothing assigns, no violation the rules cannot classify (a call the models do not know
     runs as opaque and is named, rules/README.md; an unresolved name or unclassified violation
     counts only when the scenario ran changed code; a failed setup, a budget or a skipped scenario
     always counts: what it would have run is unknown);
  2. every changed function holding lifetime call sites was run by such a scenario or examined by
     a caller rule (rules/callers.toml) that applies to it (a function the patch deletes runs no
     more: its callers are what is judged), and no change outside functions touches such sites; and
  3. something ran the changed code at all.
Anything else is "not judged", each reason named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.findings import Review


@dataclass
class ScenarioFailure:
    reason: str
    ran: set[str] | None  # the functions it ran before failing, None when it never got going


@dataclass
class ModelOutcome:
    """What one model's scenarios did with the code under review."""

    model: str
    files: list[str]
    base: str  # where the code the patch does not show came from
    changed: set[str]  # functions the posting changes in the model's files
    completed: dict[str, set[str]] = field(default_factory=dict)  # scenario → functions it ran
    failed: dict[str, ScenarioFailure] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # unplaceable hunks, code too deep to read
    removed: set[str] = field(default_factory=set)  # "path:function" the posting deletes: nothing runs them now

    def touched(self) -> set[str]:
        """Changed functions that a conclusive scenario ran."""
        return {f for ran in self.completed.values() for f in ran} & self.changed

    def counted_failures(self) -> list[str]:
        return [f"{self.model}/{sc}: {fail.reason}" for sc, fail in sorted(self.failed.items())
                if fail.ran is None or fail.ran & self.changed]

    def sees_change(self) -> bool:
        ran_failed = {f for fail in self.failed.values() for f in (fail.ran or set())}
        return bool(self.touched() or ran_failed & self.changed or self.problems
                    or (self.changed and any(fail.ran is None for fail in self.failed.values())))


def decide(review: Review, outcomes: list[ModelOutcome], sitemap: Any,
           caller_judged: dict[str, list[str]], caller_hidden: list[str], site_failure: str = "") -> None:
    """Set review.relevant, judged, not_judged, base, scenarios and caller_rules."""
    seen = [o for o in outcomes if o.sees_change()]
    reasons: list[str] = []
    explained: set[str] = set()  # files whose model already says why it proves nothing
    for o in seen:
        failures = [f"{o.model}: {p}" for p in o.problems] + o.counted_failures()
        reasons += failures
        if failures:
            explained |= set(o.files)
        review.scenarios += [f"{o.model}/{sc}" for sc, ran in sorted(o.completed.items()) if ran & o.changed]
    covered = {f"{path}:{fn}" for o in seen for fn in o.touched() for path in o.files}
    review.caller_rules = [f"{hz}: {key.rsplit(':', 1)[1]}()" for key, hzs in sorted(caller_judged.items())
                           for hz in hzs]
    covered |= set(caller_judged)
    covered |= {key for o in outcomes for key in o.removed}  # a deleted function's callers are judged, not it
    if sitemap is not None:
        modeled_files = {path: o.model for o in outcomes for path in o.files}
        unmodeled: dict[str, list[str]] = {}
        for key in sitemap.modeled:
            if key in covered:
                continue
            path, _, fn = key.rpartition(":")
            if path in explained:
                continue
            if path in modeled_files:
                reasons.append(f"{fn}() changes lifetime call sites, but no scenario of "
                               f"{modeled_files[path]} that completed runs it and no caller rule applies")
            else:
                unmodeled.setdefault(path, []).append(f"{fn}()")
        reasons += [f"no model covers {path} (changed: {', '.join(fns)}) and no caller rule applies"
                    for path, fns in sorted(unmodeled.items())]
        outside = [why for why in sitemap.file_scope_reasons if why.split(":", 1)[0] not in modeled_files]
        reasons += [f"a change outside any function that no model reads: {why}" for why in outside[:3]]
        if sitemap.relevant:
            reasons += caller_hidden
    elif site_failure:
        reasons.append(site_failure)
    review.relevant = bool(review.relevant or seen or (sitemap is not None and sitemap.relevant)
                           or site_failure or review.findings)
    review.base = "; ".join(dict.fromkeys(o.base for o in seen)) or (
        "the patch's hunks" if review.caller_rules else "")
    if not review.relevant:
        return
    if review.correctness:
        review.judged = True  # a counterexample stands whatever else could not be run
        review.notes += [f"not judged in part: {r}" for r in reasons]
        return
    if not reasons and not (review.scenarios or review.caller_rules):
        reasons.append("no model scenario or caller rule ran the changed code")
    review.judged = not reasons
    review.not_judged = list(dict.fromkeys(reasons))
