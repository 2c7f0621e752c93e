"""The judgement stage: call sites → model → scenarios → findings, for one posting.

A posting is judged by every model whose files it changes. Its code runs on top of the earlier
patches of its series (its base); the same scenarios run on the base alone, so a hazard the base
already has is reported as pre-existing, not blamed on the patch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot import cache, pool, scenario_cache
from bot.callers import caller_findings, coverage
from bot.classify import class_of, hazard_class, hazard_of
from bot.cmodel.decide import Decision, deciding_branch
from bot.cmodel.machine import Machine
from bot.cmodel.models import (
    Bound,
    ModelSpec,
    Scenario,
    SetupError,
    Tree,
    build_program,
    config_variants,
    context_scenarios,
    cost_counterexample,
    models_for,
    scenario_machine,
    scenario_runnable,
    through_headers_it_takes,
)
from bot.cmodel.program import SourceLine
from bot.cmodel.select import choose
from bot.code_base import applies_on, norm_line
from bot.commands import replay_commands
from bot.findings import Finding, Review, TraceStep, hazard_finding, trace_steps
from bot.options import Options
from bot.patch import FileDiff, Posting
from bot.proposal import proposal
from bot.sim.core import CheckResult, Counterexample
from bot.sites import analyze
from bot.tree import base_revision, resolve, tree_reader
from bot.undeclared import undeclared_reads
from bot.verdict import ModelOutcome, ScenarioFailure, decide

log = logging.getLogger(__name__)
MAX_RUNS = 32  # model runs a judge keeps (each holds its program and its scenarios' machines)
MAX_SITEMAPS = 256  # call-site maps a judge keeps, by their diffs' content


@dataclass
class ModelRun:
    bound: Bound
    results: dict[str, CheckResult] = field(default_factory=dict)
    costs: dict[str, str] = field(default_factory=dict)
    cost_scenario: dict[str, str] = field(default_factory=dict)  # cost → a scenario that shows it
    ran: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)  # calls the model does not know, run as opaque
    choices: set[str] = field(default_factory=set)  # unknown or opaque calls whose result was explored both ways
    notes: set[str] = field(default_factory=set)
    failed: dict[str, ScenarioFailure] = field(default_factory=dict)  # scenarios that prove nothing
    scenario_ran: dict[str, set[str]] = field(default_factory=dict)  # completed scenario → functions
    problems: list[str] = field(default_factory=list)  # why the code under review is not what ran
    machines: dict[str, Machine] = field(default_factory=dict)  # scenario → its machine, for replays
    context: list[Scenario] = field(default_factory=list)  # lifetime pairs the change asks for (model.toml)

    def hazards(self) -> set[str]:
        return {h for r in self.results.values() for c in r.counterexamples if (h := hazard_of(c.violation))}


class Judge:
    def __init__(self, options: Options, context: list[Posting]) -> None:
        self.opts = options
        self.context = context
        self.by_id = {p.msgid: p for p in context}
        self._revisions: dict[tuple[str, int], list[Posting]] | None = None
        self._runs: dict[tuple, ModelRun] = {}  # the last MAX_RUNS runs, least recently used first
        self._code_keys: dict[int, tuple[Posting, str]] = {}  # id(posting) → (it, its diffs' digest)
        self._pristine: dict[tuple, ModelRun] = {}  # (model, rev, the layers' digests) → its run as made
        self._code_bases: dict[str, tuple[Posting, int] | None] = {}
        self._proposals: dict[str, Posting] = {}  # a reply's msgid → the patch its pasted code is on top of
        self._sitemaps: dict[str, tuple[Any, list[str]]] = {}  # the diffs' digest → _sites() of them
        self.cache = cache.for_options(options)
        # processes that may explore one model run's scenarios side by side: 1 unless the whole
        # input is one posting on an otherwise idle machine (bot.pipeline decides)
        self.scenario_jobs = 1

    # ---- series structure -------------------------------------------------------------------
    def base_of(self, p: Posting) -> list[Posting]:
        """The code a posting applies to: the earlier patches of its series revision, and for a
        formal follow-up ("[PATCH v3 07/13 fix]") the patch it follows up. A diff pasted in a reply
        is an alternative to the patch it answers, so it applies to that patch's base."""
        if p.msgid in self._proposals:  # code pasted in a reply: on top of the patch it answers
            answered = self._proposals[p.msgid]
            return self.base_of(answered) + [answered]
        if p.is_reply:
            parent = self._formal_ancestor(p)
            return self.base_of(parent) if parent is not None else []
        out: list[Posting] = []
        s = p.series
        if s is not None and s.index > 0:
            for q in self._revision(s.key, s.revision):
                qs = q.series
                if q is p or qs is None or q.is_reply or not q.files:
                    continue
                # A follow-up posted for the same slot applies on top of the patch it follows up,
                # which sits in its References.
                same_slot = qs.index == s.index and (q.msgid in p.references or (s.extra and not qs.extra))
                if 0 < qs.index < s.index or same_slot:
                    out.append(q)
        out.sort(key=lambda q: (q.series.index if q.series else 0, bool(q.series and q.series.extra)))
        if not out and (s is None or s.total <= 1):
            found = self.code_base(p)
            if found is not None:
                return self.base_of(found[0]) + [found[0]]
        return out

    def code_base(self, p: Posting) -> tuple[Posting, int] | None:
        """For a lone patch: the earlier posting its removed lines come from (bot.code_base)."""
        if p.msgid not in self._code_bases:
            paths = {fd.path for fd in p.files}
            known = {path: self._reference_lines(path) for path in paths if models_for({path})}
            self._code_bases[p.msgid] = applies_on(p, self.context, known) if known else None
        return self._code_bases[p.msgid]

    def _reference_lines(self, path: str) -> set[str]:
        return {norm_line(t) for t in self._reference_text(path)}

    def _reference_text(self, path: str) -> list[str]:
        """The lines of every model's reference of a kernel path."""
        out: list[str] = []
        for spec in models_for({path}):
            ref = spec.references.get(path) or spec.headers.get(path)
            if ref:
                out += (spec.directory / ref).read_text().splitlines()
        return out

    def _revision(self, key: str, revision: int) -> list[Posting]:
        """The postings of the context in one series revision, in context order."""
        if self._revisions is None:
            self._revisions = {}
            for q in self.context:
                if q.series is not None:
                    self._revisions.setdefault((q.series.key, q.series.revision), []).append(q)
        return self._revisions.get((key, revision), [])

    def as_proposal(self, p: Posting) -> tuple[Posting, Posting | None]:
        """A reply's pasted functions as a diff on top of the patch it answers (bot.proposal), with
        that patch; else the posting itself and None."""
        if p.files or not p.is_reply:
            return p, None
        answered = self._formal_ancestor(p)
        if answered is None:
            return p, None
        q = proposal(p, answered, {fd.path: self._reference_text(fd.path) for fd in answered.files})
        if q is None:
            return p, None
        self._proposals[p.msgid] = answered
        return q, answered

    def share_group(self, p: Posting) -> str:
        """Postings of one group share what judging them builds (their bases, the earlier patches'
        programs and runs): the revisions of one series, and the diffs in replies to its patches."""
        q = self._formal_ancestor(p) if p.is_reply else p
        q = q if q is not None else p
        return q.series.key if q.series is not None and q.series.key else q.msgid

    def _formal_ancestor(self, p: Posting) -> Posting | None:
        for mid in [p.in_reply_to or ""] + list(reversed(p.references)):
            q = self.by_id.get(mid)
            if q is not None and not q.is_reply and q.files:
                return q
        return None

    def layers_for(self, p: Posting, spec: ModelSpec) -> tuple[list[Posting], str | None]:
        """What a posting's code runs on for one model: the earlier patches of its series that touch
        the model's files, and the tree revision to read the rest from (None: the reference model).
        A base-commit that already holds the series leaves no earlier patch to apply."""
        rev, whole = base_revision(p) if self.opts.tree else (None, False)
        if whole:
            return [], rev
        return [q for q in self.base_of(p) if {fd.path for fd in q.files} & set(spec.reads)], rev

    def bind(self, spec: ModelSpec, layers: list[Posting | None], rev: str | None) -> Bound:
        """The model's program with the layers' diffs applied, on the tree at rev when there is one."""
        diffs: list[list[FileDiff]] = [q.files for q in layers if q is not None]
        tree = None
        if rev and self.opts.tree:
            reader = tree_reader(self.opts.tree, rev)
            if reader.ok:
                tree = Tree(reader, rev, (self.opts.tree, reader.commit))
        return build_program(spec, diffs, tree)

    # ---- running models ---------------------------------------------------------------------
    # The ladder of outcomes of one scenario run (not runnable, out of time, too deep, setup broken,
    # unknown calls, unresolved names, result) is the one place that decides what a run may prove.
    def run(self, spec: ModelSpec, layers: list[Posting | None], rev: str | None = None,
            only_if_changed: bool = False, context: list[Scenario] | None = None) -> ModelRun:
        """The model's scenarios on its code with `layers` applied. only_if_changed: when the last
        layer changes none of the model's functions, bind only (nothing of it would run). `context`:
        the lifetime pairs to run besides (None: those the last layer's change asks for)."""
        key = (spec.name, rev, tuple(q.msgid if q else "" for q in layers))
        hit = self._runs.pop(key, None)
        if hit is not None:
            self._runs[key] = hit  # most recently used
            log.debug("%s: same code as an earlier run, results reused", spec.name)
            more = [sc for sc in context or [] if sc.name not in {c.name for c in hit.context}]
            if more:  # the run of an earlier patch, as the base of a later one: its pairs too
                hit.context += more
                self._run_scenarios(spec, hit, more)
            return hit
        code = (spec.name, rev, tuple(self._code_key(q) for q in layers))
        same = self._same_code(spec, code, only_if_changed, context)
        if same is not None:
            log.debug("%s: the same code as an earlier posting's run, its results reused", spec.name)
            mr, ran = same
            if ran:
                self._remember(key, mr)
            return mr
        try:
            bound = self.bind(spec, layers, rev)
        except RecursionError:
            bound = self.bind(spec, layers[:-1], rev)  # too deep to read: model the base
            mr = ModelRun(bound, problems=["the patch's code is nested too deeply to model"])
            self._remember(key, mr)
            return mr
        mr = ModelRun(bound, problems=list(bound.report.failed[:3]))
        _log_bind(spec, bound, sum(q is not None for q in layers))
        if only_if_changed and not bound.changed and not bound.report.failed:
            return mr
        mr.context = context_scenarios(spec, bound) if context is None else list(context)
        if mr.context:
            log.info("%s: the change meets the unchanged paths in %s", spec.name,
                     ", ".join(sc.name for sc in mr.context))
        self._run_scenarios(spec, mr, spec.scenarios + mr.context)
        self._remember(key, mr)
        if not any(TIME_SPENT in f.reason for f in mr.failed.values()) and not any(
                r.verdict == "inconclusive" and r.states <= self.opts.budget_states for r in mr.results.values()):
            self._pristine[code] = _copy_run(mr)  # what time stopped is not reused, as in the verdict cache
            while len(self._pristine) > MAX_RUNS:
                del self._pristine[next(iter(self._pristine))]
        return mr

    def _same_code(self, spec: ModelSpec, code: tuple, only_if_changed: bool,
                   context: list[Scenario] | None) -> tuple[ModelRun, bool] | None:
        """The run an earlier posting made of the same code (equal diffs on equal earlier code), as it
        was when made (later patches add pairs to a run they build on), when what is asked of it is
        what it ran: a fresh run would be the same. With it, whether its scenarios ran (False: bound
        only, as run() leaves a layer that changes nothing). None: run it."""
        made = self._pristine.get(code)
        if made is None:
            return None
        self._pristine[code] = self._pristine.pop(code)  # most recently used
        bound = made.bound
        if only_if_changed and not bound.changed and not bound.report.failed:
            return ModelRun(bound, problems=list(bound.report.failed[:3])), False
        asked = context_scenarios(spec, bound) if context is None else context
        if [sc.name for sc in asked] != [sc.name for sc in made.context]:
            return None
        return _copy_run(made), True

    def _run_scenarios(self, spec: ModelSpec, mr: ModelRun, scenarios: list[Scenario]) -> None:  # noqa: C901
        bound = mr.bound
        deadline = time.monotonic() + self.opts.review_seconds
        ahead = self._explore_ahead(spec, bound, scenarios, deadline)
        for i, sc in enumerate(scenarios):
            if not scenario_runnable(sc, bound.program):
                log.debug("%s/%s: not run, it needs %s", spec.name, sc.name, ", ".join(sc.needs))
                continue
            early = ahead.get(i)
            if early == _LATE or (early is None and time.monotonic() > deadline):
                mr.failed[sc.name] = ScenarioFailure(
                    f"not run: the review's {TIME_SPENT} ({self.opts.review_seconds:g} s) is spent", None)
                continue
            res, m, failure = self.explore(spec, bound, sc, early)
            if res is None or m is None:
                mr.failed[sc.name] = failure  # type: ignore[assignment]
                continue
            mr.ran |= m.obs.ran
            if m.obs.unresolved:
                mr.failed[sc.name] = failure  # type: ignore[assignment]
                continue
            mr.results[sc.name] = res
            if failure is not None:
                mr.failed[sc.name] = failure
            else:
                mr.scenario_ran[sc.name] = set(m.obs.ran)
            mr.machines[sc.name] = m
            for k, v in m.obs.costs.items():
                mr.costs.setdefault(k, v)
                mr.cost_scenario.setdefault(k, sc.name)
            mr.ran |= m.obs.ran
            mr.unknown |= m.obs.unknown
            mr.choices |= m.obs.choices
            mr.notes |= m.obs.notes

    def _explore_ahead(self, spec: ModelSpec, bound: Bound, scenarios: list[Scenario],
                       deadline: float) -> dict[int, Any]:
        """The runnable scenarios explored on scenario_jobs processes at once, before the review
        reads their results in order: index → what scenario_cache.run_scenario gave (its result and
        observations, or the exception it raised), or _LATE when the review's time was spent
        before it started. {} when they run one after another (one core, a verbose log, a pool
        worker, fewer than two to run)."""
        todo = [i for i, sc in enumerate(scenarios) if scenario_runnable(sc, bound.program)]
        if self.scenario_jobs < 2 or len(todo) < 2 or log.isEnabledFor(logging.INFO):
            return {}
        found = pool.run(_explore_part, (self.opts, spec, bound, [scenarios[i] for i in todo], deadline),
                         [[k] for k in range(len(todo))], self.scenario_jobs)
        return dict(zip(todo, found))

    def explore(self, spec: ModelSpec, bound: Bound, sc: Scenario, early: Any = None,
                ) -> tuple[CheckResult | None, Any, ScenarioFailure | None]:
        """One scenario on bound code, as the review runs it (and `explore` replays it): its result,
        its machine, and why what it found proves nothing (None: the result stands). early: what
        _explore_ahead() found for it in another process (its machine is then set up again only
        if a replay asks for it, as for a cached result)."""
        try:
            if early is not None:
                res, obs, error = early
                if error is not None:
                    raise error
                m = scenario_cache.Replayed(obs, lambda: scenario_machine(spec, bound, sc))
            else:
                res, m = scenario_cache.run_scenario(spec, bound, sc, self.opts.budget_states, self.opts.budget_seconds,
                                            self.cache)
        except RecursionError:
            return None, None, ScenarioFailure("the code is too deeply nested to model", None)
        except SetupError as e:
            return None, None, ScenarioFailure(str(e).removeprefix(f"scenario {sc.name}: "), None)
        _log_scenario(spec, sc.name, res, self.opts)
        # Calls the model does not know ran as opaque (rules/README.md, "Unknown calls"): the
        # scenario stands, and the review names them.
        if m.obs.unresolved:
            return res, m, ScenarioFailure("; ".join(sorted(m.obs.unresolved)[:3]), set(m.obs.ran))
        unclassified = [cx for cx in res.counterexamples if hazard_of(cx.violation) is None]
        if unclassified:
            return res, m, ScenarioFailure(
                f"{unclassified[0].violation.detail} (a violation no rule classifies: a modelling limit)", None)
        if res.verdict == "inconclusive":
            return res, m, ScenarioFailure(f"inconclusive ({res.reason})", None)
        return res, m, None

    def _code_key(self, q: Posting | None) -> str:
        """What a layer gives a model run: its diffs' content. A repost, or a patch unchanged in a
        later revision, on the same earlier code is the run already made."""
        if q is None:
            return ""
        hit = self._code_keys.get(id(q))
        if hit is None or hit[0] is not q:
            hit = self._code_keys[id(q)] = (q, cache.files_digest(q.files))
        return hit[1]

    def _remember(self, key: tuple, mr: ModelRun) -> None:
        """Keep a run for the postings that build on it (a series' next patch runs on this one's code,
        every lone patch on the reference): the most recent ones, so memory stays bounded however
        long the input."""
        self._runs[key] = mr
        while len(self._runs) > MAX_RUNS:
            del self._runs[next(iter(self._runs))]

    # ---- the stages of one posting (bot.pipeline.review_posting composes them) ---------------
    def start(self, p: Posting) -> Review:
        """The posting as an empty review: its place in its series."""
        series = None
        if p.series is not None:
            series = {"cover": p.series.cover, "revision": p.series.revision, "index": p.series.index,
                      "total": p.series.total}
        return Review(p.msgid, p.subject, series, False, posting=p)

    def sites(self, p: Posting, review: Review) -> tuple[Any, str]:
        """Call sites: the posting's C code mapped to lifetime primitives, and the caller-side pattern
        rules over them (their findings go straight into the review). The map is None when the
        posting has no C code or the analysis failed (then the second value says why)."""
        sitemap, site_notes = self._site_map(p)
        review.notes += site_notes
        if sitemap is not None:
            for f in caller_findings(sitemap, p):
                review.findings.append(self._with_replay(f, p, ""))  # a rule, not a scenario: `check` redoes it
        return sitemap, site_notes[0] if site_notes else ""

    def _site_map(self, p: Posting) -> tuple[Any, list[str]]:
        """_sites(p), once per content of the posting's diffs (a repost, a patch unchanged in a later
        revision): the map is made of the diffs alone, and nothing edits it once made."""
        if not _has_c_code(p):
            return None, []  # as _sites() says, without the key's digest
        key = self._code_key(p)
        hit = self._sitemaps.pop(key, None)
        if hit is None:
            hit = _sites(p)
        self._sitemaps[key] = hit  # most recently used
        while len(self._sitemaps) > MAX_SITEMAPS:
            del self._sitemaps[next(iter(self._sitemaps))]
        return hit[0], list(hit[1])

    def models_for(self, p: Posting, review: Review) -> list[ModelSpec]:
        """The models that judge the posting: of those covering a file it changes, the ones whose
        references its code is for (bot.cmodel.select: by the tree's files or the hunks' alignment)."""
        paths = {fd.path for fd in p.files}
        specs = through_headers_it_takes(models_for(paths), p.files)
        if len(specs) > 1:
            specs = self._choose(p, specs)
        specs += [v for spec in list(specs) for v in config_variants(spec, p.files)]
        log.debug("<%s> %s: files %s; models: %s", p.msgid, p.subject, ", ".join(sorted(paths)) or "none",
                  ", ".join(s.name for s in specs) or "none covers them")
        if specs and self.opts.tree and base_revision(p)[0] is None:
            review.notes.append("no base-commit to read the kernel tree at: the reference model stands in")
        return specs

    def _choose(self, p: Posting, specs: list[ModelSpec]) -> list[ModelSpec]:
        rev, whole = base_revision(p) if self.opts.tree else (None, False)
        reader = tree_reader(self.opts.tree, rev) if self.opts.tree and rev else None
        if reader is not None and not reader.ok:
            reader = None
        paths = {fd.path for fd in p.files}
        base = [] if whole else self.base_of(p)
        layers = [q.files for q in base if {fd.path for fd in q.files} & paths] + [p.files]
        return choose(specs, layers, reader)

    def judge_model(self, p: Posting, spec: ModelSpec, review: Review) -> ModelOutcome:
        """Scenarios → findings for one model: the scenarios run on the posting's base and with the
        posting; what the patch adds over its base becomes findings in the review."""
        layers, rev = self.layers_for(p, spec)
        found = self._code_bases.get(p.msgid)
        if found is not None and found[0] in layers:
            note = (f"applies on top of <{found[0].msgid}> {found[0].subject}: {found[1]} lines it removes are that "
                    "patch's added lines, so that patch and its base are the code it changes")
            if note not in review.notes:
                review.notes.append(note)
        log.info("<%s> model %s (covers %s); the base: %s plus %d earlier patch(es) of the series",
                 p.msgid, spec.name, ", ".join(sorted({fd.path for fd in p.files} & set(spec.reads))),
                 f"the tree at {rev}" if rev else "the reference model", len(layers))
        log.info("<%s> %s: scenarios with the patch", p.msgid, spec.name)
        cur_run = self.run(spec, list(layers) + [p], rev, only_if_changed=True)
        label = self._base_label(spec, cur_run, rev)
        if p.msgid in self._proposals:
            label += f", the reply's functions on top of <{self._proposals[p.msgid].msgid}>"
        outcome = ModelOutcome(spec.name, list(spec.reads), label,
                               set(cur_run.bound.changed), dict(cur_run.scenario_ran),
                               dict(cur_run.failed), list(cur_run.problems),
                               {f"{path}:{fn}" for fn, path in cur_run.bound.removed.items()})
        broken, explained = undeclared_reads(p, cur_run.bound, cur_run.failed)
        lost = self._swallowed(spec, layers, rev, cur_run) if cur_run.unknown else []
        if lost:
            broken.append("the patched code swallows functions of its file it does not remove ("
                          + ", ".join(f"{f}()" for f in lost[:4]) + "): an unbalanced brace or a hunk cut short, "
                          "so what runs is not the kernel's code")
        if broken:  # code C would reject: nothing it "does" is a finding
            outcome.problems += broken
            outcome.failed = {sc: fail for sc, fail in outcome.failed.items() if sc not in explained}
            return outcome
        touched = set(cur_run.bound.changed) & cur_run.ran
        if not touched or cur_run.problems:
            if not touched:
                log.info("<%s> %s: no scenario runs a function the patch changes", p.msgid, spec.name)
            return outcome  # what ran is not the patch's code: the verdict names why (bot/verdict.py)
        log.info("<%s> %s: scenarios on the base", p.msgid, spec.name)
        base_run = self.run(spec, list(layers), rev, context=cur_run.context)
        review.modeled += [f"{cur_run.bound.changed[f]}:{f}" for f in sorted(touched)]
        review.findings += self._findings(p, spec, cur_run, base_run)
        review.notes += sorted(cur_run.notes)
        if cur_run.bound.kept:
            review.notes.append("removed by the patch but still called by code outside it that the model runs "
                                "(converted elsewhere in the kernel); their former bodies stand for those calls: "
                                + ", ".join(f"{f}()" for f in cur_run.bound.kept))
        unknown = sorted(cur_run.unknown)
        if unknown:
            review.opaque_calls += [f"{u}()" for u in unknown if f"{u}()" not in review.opaque_calls]
            both = sorted(cur_run.choices & cur_run.unknown)
            review.notes.append("calls the model does not know, run as opaque (they touch nothing the model "
                                "tracks" + (f"; the results of {', '.join(b + '()' for b in both)} were explored "
                                            "both ways" if both else "") + "): " + ", ".join(u + "()" for u in unknown))
        return outcome

    def _swallowed(self, spec: ModelSpec, layers: list[Posting], rev: str | None, cur: ModelRun) -> list[str]:
        """Functions the code under review calls as unknown that its base defines and the patch does
        not remove: the patch's text swallowed them (a body that never closes)."""
        base = self.bind(spec, list(layers), rev).program.functions
        return sorted(f for f in cur.unknown if f in base and f not in cur.bound.removed)

    def finish(self, p: Posting, review: Review, sitemap: Any, site_note: str,
               outcomes: list[ModelOutcome]) -> Review:
        """The verdict (judged, or not judged and why) and the findings in report order."""
        judged_by_rules, hidden = coverage(sitemap, p) if sitemap is not None else ({}, [])
        decide(review, outcomes, sitemap, judged_by_rules, hidden, site_note)
        review.findings.sort(key=lambda f: (f.cls != "correctness", not f.introduced, f.file, f.line))
        _log_review(review)
        return review

    def _base_label(self, spec: ModelSpec, run: ModelRun, rev: str | None) -> str:
        if run.bound.base.startswith("the kernel tree") and self.opts.tree and rev:
            return f"the kernel tree {self.opts.tree} at {resolve(self.opts.tree, rev) or rev}"
        where = f"the reference model models/{spec.directory.name}"
        return where if self.opts.tree else f"{where} (mail only)"

    def _findings(self, p: Posting, spec: ModelSpec, cur: ModelRun, base: ModelRun) -> list[Finding]:
        added = {(fd.path, ln.new_no) for fd in p.files for h in fd.hunks for ln in h.lines if ln.tag == "+"}
        base_hazards = base.hazards()
        best: dict[str, tuple[tuple, str, Counterexample]] = {}
        for sc_name, res in cur.results.items():
            for cx in res.counterexamples:
                hz = hazard_of(cx.violation)
                if hz is None:
                    continue
                at = cx.violation.attr("at")
                direct = at and tuple(at.rsplit(":", 1)) in {(f, str(n)) for f, n in added}
                rank = (0 if direct else 1, len(cx.trace))
                if hz not in best or rank < best[hz][0]:
                    best[hz] = (rank, sc_name, cx)
        out: list[Finding] = []
        for hz, (_rank, sc_name, cx) in sorted(best.items()):
            out.append(self._finding(p, spec, cur, hz, sc_name, cx, added, introduced=hz not in base_hazards))
        for cost, where in sorted(cur.costs.items()):
            if cost in base.costs:
                continue
            file, line, fn, trace = self._locate_cost(p, spec, cur, cost, where, added)
            sc_name = cur.cost_scenario.get(cost, "")
            out.append(self._with_replay(hazard_finding(
                cost, cls=hazard_class(cost) if hazard_class(cost) != "correctness" else "cost",
                introduced=True, file=file, line=line, function=fn, evidence=self._evidence(cur, file, line),
                trace=trace), p, f"{spec.name}/{sc_name}" if sc_name else ""))
        return out

    def _finding(self, p: Posting, spec: ModelSpec, run: ModelRun, hz: str, sc_name: str, cx: Counterexample,
                 added: set, introduced: bool) -> Finding:
        m = run.machines.get(sc_name)
        decision = deciding_branch(m, cx, lambda f, n: (f, n) in added) if m is not None else None
        file, line = self._anchor(cx, added, run, decision)
        sc = next(s for s in spec.scenarios + run.context if s.name == sc_name)
        kept = unchanged_on_path(run.bound, cx)
        context = (" On this path runs code the patch does not change: "
                   + "; ".join(f"{fn}() from {where}" for fn, where in kept) + ".") if kept else ""
        return self._with_replay(hazard_finding(
            hz, cls=class_of(cx.violation), introduced=introduced, file=file, line=line,
            function=self._function_at(run, file, line), evidence=self._evidence(run, file, line),
            lead=f"Scenario {spec.name}/{sc.name}: {sc.about}. {cx.violation.detail}.{context}",
            trace=trace_steps(cx, _decision_step(decision)),
            invariant=cx.violation.detail,
            unmodeled=[f"unchanged by the patch, on this path: {fn}() from {where}" for fn, where in kept]
            + self._unmodeled(run)), p, f"{spec.name}/{sc_name}")

    def _anchor(self, cx: Counterexample, added: set, run: ModelRun,
                decision: Decision | None = None) -> tuple[str, int]:
        """Where to point: the violating step if it is a line the patch adds, else the branch that
        decides the violation, else the latest step of the trace on an added line, else any patch
        line, else the first changed function."""
        def split(at: str) -> tuple[str, int] | None:
            if ":" not in at:
                return None
            f, n = at.rsplit(":", 1)
            return (f, int(n)) if n.isdigit() else None
        direct = split(cx.violation.attr("at") or "")
        if decision is not None and not (direct is not None and direct in added):
            return decision.branch.file, decision.branch.line
        cands = [cx.violation.attr("at")] + [e.at for e in reversed(cx.trace)]
        for want_added in (True, False):
            for at in cands:
                loc = split(at or "")
                if loc is None or loc[0].startswith("models/"):
                    continue
                if not want_added or loc in added:
                    return loc
        fn = next(iter(sorted(run.bound.changed)), "")
        span = run.bound.spans.get(fn)
        return (span[0], span[1]) if span else ("", 0)

    def _function_at(self, run: ModelRun, file: str, line: int) -> str:
        for fn, (f, lo, hi) in run.bound.spans.items():
            if f == file and lo <= line <= hi:
                return fn
        return ""

    def _evidence(self, run: ModelRun, file: str, line: int) -> list[str]:
        for lines in run.bound.program.origin.values():
            for sl in lines:
                if sl.file == file and sl.line == line:
                    return [sl.text.strip()]
        return []

    def _locate_cost(self, p: Posting, spec: ModelSpec, run: ModelRun, cost: str, where: str,
                     added: set) -> tuple[str, int, str, list[TraceStep]]:
        """The statement that incurs a cost: the call or lock that did, or for a cost seen only at the
        end of a run, the branch on an added line that decides it (found on a shortest path to it)."""
        if ":" in where and where.rsplit(":", 1)[1].isdigit():
            f, n = where.rsplit(":", 1)
            return f, int(n), self._function_at(run, f, int(n)), []
        sc = next((s for s in spec.scenarios + run.context if s.name == run.cost_scenario.get(cost)), None)
        got = cost_counterexample(spec, run.bound, sc, cost, self.opts.budget_states,
                                  self.opts.budget_seconds) if sc is not None else None
        if got is not None:
            cx, m = got
            decision = deciding_branch(m, cx, lambda f, n: (f, n) in added)
            trace = trace_steps(cx, _decision_step(decision))
            if decision is not None:
                b = decision.branch
                return b.file, b.line, self._function_at(run, b.file, b.line), trace
            for e in reversed(cx.trace):
                f, _, n = e.at.rpartition(":")
                if n.isdigit() and (f, int(n)) in added:
                    return f, int(n), self._function_at(run, f, int(n)), trace
        fn = next(iter(sorted(run.bound.changed)), "")
        span = run.bound.spans.get(fn, ("", 0, 0))
        return span[0], span[1], fn, []


    def _unmodeled(self, run: ModelRun) -> list[str]:
        out = []
        ref = sorted(f for f in run.ran if not f.startswith(("scenario:", "$")) and f not in run.bound.patched)
        origin = run.bound.program.origin
        by_source: dict[str, list[str]] = {}
        for f in ref:
            src = origin[f][0].file if origin.get(f) else ""
            if src.startswith("models/"):
                what = f"the reference model ({src})"
            elif src in run.bound.spans.get(f, ("",))[:1]:
                what = run.bound.base
            else:
                what = f"the tree's header {src}" if src else run.bound.base
            by_source.setdefault(what, []).append(f)
        for what, fns in by_source.items():
            out.append(f"not in the patch, run from {what}: " + ", ".join(fns))
        if run.bound.filled:
            out.append("the tree's file lacks, run from the reference model instead: " + ", ".join(run.bound.filled))
        if run.unknown:
            out.append("calls the model does not know, run as opaque: " + ", ".join(u + "()" for u in sorted(run.unknown)))
        if run.bound.report.failed:
            out.append("hunks that matched no modeled code: " + "; ".join(run.bound.report.failed[:3]))
        return out

    def _with_replay(self, f: Finding, p: Posting, scenario: str) -> Finding:
        """Attach the commands that reproduce f: `explore` for a scenario, `check` for a rule."""
        local, public = replay_commands(self.opts.origin, p.msgid, p.commit, scenario, self.opts.tree)
        f.replay, f.replay_public = local.line, public.line
        f.replay_why_not = public.why_not or local.why_not
        return f


TIME_SPENT = "time budget"


def _copy_run(mr: ModelRun) -> ModelRun:
    """A run whose collections are its own (what a later patch adds to one is not in the other)."""
    return ModelRun(mr.bound, results=dict(mr.results), costs=dict(mr.costs), cost_scenario=dict(mr.cost_scenario),
                    ran=set(mr.ran), unknown=set(mr.unknown), choices=set(mr.choices), notes=set(mr.notes),
                    failed=dict(mr.failed), scenario_ran=dict(mr.scenario_ran), problems=list(mr.problems),
                    machines=dict(mr.machines), context=list(mr.context))


def unchanged_on_path(bound: Bound, cx: Counterexample) -> list[tuple[str, str]]:
    """The functions of the code under review (and the model's code around it) that the
    counterexample runs and the patch does not change, each with where its code came from (the
    kernel tree, the reference model, the patch's context lines): what a change of one path was
    checked against. The function of the breaking step comes first. A function the patch changes
    whose lines on the path the patch does not show is named too, as run in part from elsewhere."""
    out: list[tuple[str, str]] = []
    parts: dict[str, list[SourceLine]] = {}
    for fn, sl in _steps_on_path(bound, cx):
        if fn not in bound.changed:
            if all(fn != f for f, _w in out):
                out.append((fn, _source_of(bound, fn)))
        elif not sl.from_patch:
            parts.setdefault(fn, []).append(sl)
    for fn, lines in parts.items():
        out.append((fn, _lines_from(bound, lines) + ", the part of it the patch does not show"))
    return out


def _steps_on_path(bound: Bound, cx: Counterexample) -> list[tuple[str, SourceLine]]:
    """The function and source line of each step of cx that runs the code under review (the
    breaking step first)."""
    prog = bound.program
    at_fn: dict[str, tuple[str, SourceLine]] = {}
    for fn, comp in prog.functions.items():
        if fn.startswith(("scenario:", "$")):
            continue
        for ins in comp.code:
            sl = prog.where(fn, ins.line)
            if sl is not None:
                at_fn.setdefault(f"{sl.file}:{sl.line}", (fn, sl))
    return [hit for at in [cx.violation.attr("at") or ""] + [e.at for e in cx.trace] if (hit := at_fn.get(at))]


def _lines_from(bound: Bound, lines: list[SourceLine]) -> str:
    """Where lines of one function came from, with their numbers."""
    nums = ", ".join(str(n) for n in sorted({sl.line for sl in lines}))
    file = lines[0].file
    if file.startswith("models/"):
        return f"the reference model ({file}:{nums})"
    return f"{bound.base} ({file}:{nums})"


def _source_of(bound: Bound, fn: str) -> str:
    prog = bound.program
    lines = [sl for ins in prog.functions[fn].code if (sl := prog.where(fn, ins.line)) is not None]
    ref = next((sl for sl in lines if sl.file.startswith("models/")), None)
    if ref is not None:
        return f"the reference model ({ref.file}:{min(sl.line for sl in lines if sl.file == ref.file)})"
    if not lines:
        return bound.base
    first = min(sl.line for sl in lines if sl.file == lines[0].file)
    if bound.base.startswith("the kernel tree"):
        return f"{bound.base} ({lines[0].file}:{first})"
    return f"the patch's context lines ({lines[0].file}:{first})"


def _decision_step(decision: Decision | None) -> tuple[int, TraceStep] | None:
    """The deciding branch as a trace step, shown with the values its condition read."""
    if decision is None:
        return None
    b = decision.branch
    return b.at_event, TraceStep(b.ctx, f"{b.text}  [{b.describe()}: this decides it]", f"{b.file}:{b.line}",
                                 decides=True)


def _has_c_code(p: Posting) -> bool:
    return any(fd.path.endswith((".c", ".h")) for fd in p.files)


def _sites(p: Posting) -> tuple[Any, list[str]]:
    """The call-site map of the posting's C code (None when it has none)."""
    if not _has_c_code(p):
        return None, []
    try:
        return analyze(p), []
    except Exception as e:  # one malformed diff must not take the review down: say so instead
        return None, [f"call-site analysis failed: {type(e).__name__}: {e}"[:200]]


# ---- the decisions, as log lines (--verbose) -----------------------------------------------------


def _log_bind(spec: ModelSpec, bound: Bound, layers: int) -> None:
    r = bound.report
    log.debug("%s: %d layer(s) of hunks on %s: %d placed, %d appended (context matched nothing)",
              spec.name, layers, bound.base, r.applied, r.appended)
    for why in r.failed:
        log.info("%s: %s", spec.name, why)


_LATE = "late"  # _explore_ahead(): the review's time budget was spent before the scenario started


def _explore_part(data: tuple[Options, ModelSpec, Bound, list[Scenario], float], part: list[int]) -> list[Any]:
    """In a forked process: the scenarios of `part`, each through the verdict cache (this process's
    own connection) as the review would run it, with the exception it raised if any."""
    opts, spec, bound, scenarios, deadline = data
    store = cache.for_options(opts)
    out: list[Any] = []
    for i in part:
        if time.monotonic() > deadline:
            out.append(_LATE)
            continue
        try:
            res, m = scenario_cache.run_scenario(spec, bound, scenarios[i], opts.budget_states, opts.budget_seconds, store)
            out.append((res, m.obs, None))
        except Exception as e:  # noqa: BLE001 - raised again where the review reads this scenario
            out.append((None, None, e))
    return out


def _log_scenario(spec: ModelSpec, name: str, res: CheckResult, opts: Options) -> None:
    log.info("%s/%s: %s, %d states in %.2f s (budget %d states, %g s)%s", spec.name, name, res.verdict,
             res.states, res.seconds, opts.budget_states, opts.budget_seconds,
             f": {res.reason}" if res.reason else "")


def _log_review(review: Review) -> None:
    if not review.relevant:
        return
    hz = ", ".join(f"{f.hazard} ({f.cls})" for f in review.findings)
    log.info("<%s> %s", review.msgid, f"findings: {hz}" if hz else "no finding")
    for note in review.notes:
        log.info("<%s> note: %s", review.msgid, note)
