"""Data types of the judgement stage: findings and reviews, and their stable JSON shape.

The JSON contract (docs/architecture.md) only grows: add keys, never rename.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bot import __version__

if TYPE_CHECKING:
    from bot.sim.core import Counterexample

# Exit codes of `check` and `scan` (README, "Exit codes"); 2 is bad usage or input (bot.cli).
EXIT_OK, EXIT_FINDINGS, EXIT_NOT_JUDGED = 0, 1, 3


@dataclass
class TraceStep:
    ctx: str  # "CPU0", "CPU1", "softirq@CPU0", "RCU", "kworker", ...
    op: str  # what happened, in kernel words
    at: str = ""  # "file:line" of the code that ran, when known
    violation: bool = False  # the step that breaks the invariant
    decides: bool = False  # the branch whose outcome leads to the violation (the finding's line)


@dataclass
class Finding:
    hazard: str  # catalog id, e.g. "RCU_HEAD_SHARED"
    cls: str  # "correctness" | "cost" | "noise"
    introduced: bool  # False when the hazard is already present before the patch
    file: str
    line: int
    function: str
    evidence: list[str] = field(default_factory=list)  # quoted source lines
    trace: list[TraceStep] = field(default_factory=list)
    explanation: str = ""
    fix: str = ""
    references: list[str] = field(default_factory=list)  # Message-IDs of prior discussion
    title: str = ""
    invariant: str = ""  # the violated invariant in one sentence
    replay: str = ""  # the command that reproduces it, for this run's reports (bot.commands); "" when none
    replay_public: str = ""  # the same for a reply to the list: never a local path; "" when none
    replay_why_not: str = ""  # why a command is missing where it is ("" when both exist)
    unmodeled: list[str] = field(default_factory=list)  # what the bot could not model

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["class"] = d.pop("cls")
        return d


def hazard_finding(hazard: str, *, cls: str, introduced: bool, file: str, line: int, function: str,
                   evidence: list[str], lead: str = "", trace: list[TraceStep] | None = None,
                   invariant: str = "", replay: str = "", unmodeled: list[str] | None = None) -> Finding:
    """The one way a finding is made: the catalog (rules/hazards.toml) gives the title, invariant,
    explanation, fix and references of the hazard; `lead` (what this run showed) goes before the
    catalog's explanation, `invariant` stands in when the catalog has none."""
    from bot.classify import hazard_text

    text = hazard_text(hazard)
    return Finding(
        hazard=hazard, cls=cls, introduced=introduced, file=file, line=line, function=function,
        evidence=evidence, trace=trace or [], explanation=(f"{lead} " + str(text["explanation"])).strip(),
        fix=str(text["fix"]), references=list(text["references"]), title=str(text["title"]),
        invariant=str(text["invariant"]) or invariant, replay=replay, unmodeled=unmodeled or [])


def trace_steps(cx: Counterexample, decided: tuple[int, TraceStep] | None = None) -> list[TraceStep]:
    """A counterexample as trace steps, the breaking one marked; a violation found at quiescence (a
    leak, a cost seen at the end) breaks at no step of its own, so an "end" step states it. `decided`
    is the branch that decides it, inserted where it ran (an index into the counterexample's events)."""
    trace = [TraceStep(e.ctx, e.op, e.at) for e in cx.trace]
    at_end = cx.violation.kind in ("leak", "cost") or not trace
    if not at_end:
        trace[-1].violation = True
    if decided is not None:
        trace.insert(min(decided[0], len(trace)), decided[1])
    if at_end:
        trace.append(TraceStep("end", cx.violation.detail, "", True))
    return trace


@dataclass
class Review:
    msgid: str
    subject: str
    series: dict[str, Any] | None
    relevant: bool
    modeled: list[str] = field(default_factory=list)  # "file:function" the models ran
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # inconclusive results, unknown calls
    posting: Any = None  # the bot.patch.Posting reviewed (not serialised)
    # The verdict of a relevant review (README, "Reading a review"): judged (findings, or every
    # check that applies ran conclusively) or not, and why not.
    judged: bool = False
    not_judged: list[str] = field(default_factory=list)
    base: str = ""  # what the verdict stands on: "the kernel tree PATH at SHA", "the reference model …"
    scenarios: list[str] = field(default_factory=list)  # "model/scenario" that ran the changed code
    caller_rules: list[str] = field(default_factory=list)  # "HAZARD: function()" caller rules applied
    opaque_calls: list[str] = field(default_factory=list)  # "f()": calls the models do not know, run as opaque

    def to_json(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "subject": self.subject,
            "series": self.series,
            "relevant": self.relevant,
            "modeled": self.modeled,
            "findings": [f.to_json() for f in self.findings],
            "notes": self.notes,
            "judged": self.judged,
            "not_judged": self.not_judged,
            "base": self.base,
            "scenarios": self.scenarios,
            "caller_rules": self.caller_rules,
            "opaque_calls": self.opaque_calls,
        }

    @property
    def correctness(self) -> list[Finding]:
        return [f for f in self.findings if f.cls == "correctness"]


@dataclass
class Report:
    messages: int
    skipped: list[dict[str, str]]
    reviews: list[Review]

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": "review-bot",
            "version": __version__,
            "messages": self.messages,
            "skipped": self.skipped,
            "reviews": [r.to_json() for r in self.reviews],
        }

    @property
    def skip_count(self) -> int:
        """Messages skipped: past the first examples, one record counts the rest ("count")."""
        return sum(int(s.get("count", "1")) for s in self.skipped)

    @property
    def unjudged(self) -> list[Review]:
        """Relevant reviews that reached no verdict."""
        return [r for r in self.reviews if r.relevant and not r.judged and not r.correctness]

    def exit_code(self, strict: bool = False) -> int:
        """EXIT_FINDINGS on a correctness finding; with strict, EXIT_NOT_JUDGED when a relevant
        posting is not judged; else EXIT_OK."""
        if any(r.correctness for r in self.reviews):
            return EXIT_FINDINGS
        return EXIT_NOT_JUDGED if strict and self.unjudged else EXIT_OK
