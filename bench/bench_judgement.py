"""Benchmark: review-bot's verdicts against the ground truth in ../shared/corpus/labels.toml.

1. Labelled patches: the formal postings of the three pte-free-defer threads are reviewed (each
   thread with its own postings as context) and compared with labels.toml. A finding counts when it
   is introduced by the patch (`f.introduced`). Per hazard id and per scope (arch, caller):
     tp  a `must` id reported            fn  a `must` id not reported
     fp  a correctness id reported that is not in must/should/may (must_not ids included)
   `may` ids are neither. Cost ids (`should`) are scored separately: tp/fn against `should`, fp when
   a cost id in `must_not` is reported; other unlabelled cost notes are listed, not scored.
2. False alarms over each year of the list (../shared/corpus/lists/linux-s390-{2023,2024}.mbox.xz):
   every formal posting is reviewed with the whole year as context; every correctness finding on a
   posting that is not labelled is a false alarm (target 0). `--year-filter` reviews only the
   postings that touch a model's files or that the call-site stage calls relevant (the others cannot
   produce a finding from a model; it is faster), and the output says which selection was used.
3. Coverage of each year: judged / relevant formal postings (README, "Reading a review"), with the
   reasons the rest were not judged, counted by kind.

Prints tables and writes bench/results/judgement.json. Run from the repo root:
    /work/venv/bin/python bench/bench_judgement.py [--no-year] [--year-filter]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.classify import hazard_class  # noqa: E402
from bot.commands import Origin  # noqa: E402
from bot.findings import Review  # noqa: E402
from bot.mail import load  # noqa: E402
from bot.patch import Posting  # noqa: E402
from bot.pipeline import Options, review_postings  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
LABELS = CORPUS / "labels.toml"
YEAR = CORPUS / "lists" / "linux-s390-2023.mbox.xz"
YEARS = {"2023": YEAR, "2024": CORPUS / "lists" / "linux-s390-2024.mbox.xz"}
# Kinds of "not judged" reasons, by the words the judge uses for them (first match wins).
REASON_KINDS = (
    ("inconclusive (budget)", ("inconclusive",)),
    ("review time budget spent", ("time budget",)),
    ("setup fails", ("its setup",)),
    ("unknown calls", ("calls the model does not know",)),
    ("patch would not compile", ("would not compile",)),
    ("unresolved names", ("which nothing", "nothing assigns", "nothing defines")),
    ("unclassified violation", ("no rule classifies",)),
    ("unplaceable hunk", ("hunk @@", "did not match the model")),
    ("too deeply nested", ("too deeply", "nested too deeply")),
    ("file no model covers", ("no model covers",)),
    ("changed function no scenario runs", ("no scenario of",)),
    ("caller rule cannot see the code", ("hunks do not show",)),
    ("change outside functions", ("outside any function",)),
    ("call-site analysis failed", ("call-site analysis failed",)),
    ("nothing ran the changed code", ("no model scenario or caller rule ran",)),
)
RESULTS = REPO / "bench" / "results"
SCOPES = ("arch", "caller")


def thread_path(n: int) -> Path:
    return CORPUS / "threads" / f"pte-free-defer-v{n}.mbox"


@dataclass
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_json(self) -> dict[str, Any]:
        return {"tp": self.tp, "fn": self.fn, "fp": self.fp, "precision": _r(self.precision),
                "recall": _r(self.recall)}


@dataclass
class PatchScore:
    label: dict[str, Any]
    reviewed: bool
    found: list[str] = field(default_factory=list)  # introduced hazard ids, any class
    tp: list[str] = field(default_factory=list)
    fn: list[str] = field(default_factory=list)
    fp: list[str] = field(default_factory=list)
    may: list[str] = field(default_factory=list)  # `may` ids reported (neither tp nor fp)
    cost_tp: list[str] = field(default_factory=list)
    cost_fn: list[str] = field(default_factory=list)
    cost_fp: list[str] = field(default_factory=list)
    cost_unlabelled: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # noise-class or pre-existing findings, for the record

    def to_json(self) -> dict[str, Any]:
        lab = self.label
        return {"id": lab["id"], "msgid": lab["msgid"], "subject": lab.get("subject", ""),
                "scope": lab["scope"], "reviewed": self.reviewed, "found": self.found, "tp": self.tp,
                "fn": self.fn, "fp": self.fp, "may_reported": self.may, "cost_tp": self.cost_tp,
                "cost_fn": self.cost_fn, "cost_fp": self.cost_fp, "cost_unlabelled": self.cost_unlabelled,
                "other": self.other}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float | None) -> str:
    return "   -" if x is None else f"{x:4.2f}"


def load_labels(path: Path = LABELS) -> list[dict[str, Any]]:
    with open(path, "rb") as f:
        return list(tomllib.load(f)["patch"])


def review_thread(n: int) -> tuple[list[Review], float, set[str]]:
    """All formal postings of thread vN, with every posting of the thread as context; also the
    Message-IDs of every posting in the thread."""
    path = thread_path(n)
    t = time.perf_counter()
    res = load(str(path))
    formal = [p for p in res.postings if not p.is_reply]
    out = review_postings(formal, Options(origin=Origin("mbox", path=str(path)), cache=False, jobs=1), context=res.postings)
    return out, time.perf_counter() - t, {p.msgid for p in res.postings}


def score_patch(label: dict[str, Any], review: Review | None) -> PatchScore:
    must = set(label.get("must", []))
    should = set(label.get("should", []))
    may = set(label.get("may", []))
    must_not = set(label.get("must_not", []))
    ps = PatchScore(label, review is not None)
    if review is None:
        ps.fn = sorted(must)
        ps.cost_fn = sorted(should)
        return ps
    introduced = {f.hazard: f.cls for f in review.findings if f.introduced}
    ps.found = sorted(introduced)
    ps.other = sorted({f"{f.hazard} (pre-existing)" for f in review.findings if not f.introduced}
                      | {h for h, c in introduced.items() if c not in ("correctness", "cost")})
    correctness = {h for h, c in introduced.items() if c == "correctness"}
    costs = {h for h, c in introduced.items() if c == "cost"}
    ps.tp = sorted(must & set(introduced))
    ps.fn = sorted(must - set(introduced))
    ps.fp = sorted(correctness - must - should - may)
    ps.may = sorted(may & set(introduced))
    ps.cost_tp = sorted(should & costs)
    ps.cost_fn = sorted(should - set(introduced))
    ps.cost_fp = sorted(costs & must_not)
    ps.cost_unlabelled = sorted(costs - should - may - must_not)
    return ps



def _tally(table: Any, tp: Any, fn: Any, fp: Any) -> None:
    """Count each hazard id's true positives, misses and false alarms into table[id]."""
    for h in tp:
        table[h].tp += 1
    for h in fn:
        table[h].fn += 1
    for h in fp:
        table[h].fp += 1

def aggregate(scores: list[PatchScore]) -> dict[str, Any]:
    by_hazard: dict[str, Counts] = defaultdict(Counts)
    by_scope: dict[str, Counts] = {s: Counts() for s in SCOPES}
    cost_by_hazard: dict[str, Counts] = defaultdict(Counts)
    total, cost = Counts(), Counts()
    hazard_scopes: dict[str, set[str]] = defaultdict(set)
    for ps in scores:
        scope = ps.label["scope"]
        c = Counts(len(ps.tp), len(ps.fn), len(ps.fp))
        by_scope.setdefault(scope, Counts()).add(c)
        total.add(c)
        _tally(by_hazard, ps.tp, ps.fn, ps.fp)
        for h in set(ps.tp) | set(ps.fn) | set(ps.fp):
            hazard_scopes[h].add(scope)
        _tally(cost_by_hazard, ps.cost_tp, ps.cost_fn, ps.cost_fp)
        cost.add(Counts(len(ps.cost_tp), len(ps.cost_fn), len(ps.cost_fp)))
    return {
        "by_hazard": {h: {**by_hazard[h].to_json(), "class": hazard_class(h), "scopes": sorted(hazard_scopes[h])}
                      for h in sorted(by_hazard)},
        "by_scope": {s: {**c.to_json(), "patches": sum(ps.label["scope"] == s for ps in scores),
                         "patches_exact": sum(ps.label["scope"] == s and not ps.fn and not ps.fp for ps in scores)}
                     for s, c in by_scope.items()},
        "all": total.to_json(),
        "cost": {**cost.to_json(), "by_hazard": {h: c.to_json() for h, c in sorted(cost_by_hazard.items())},
                 "unlabelled_notes": sum(len(ps.cost_unlabelled) for ps in scores)},
    }


def accepted_by_tests() -> set[tuple[str, str]]:
    """(label id, hazard) pairs the label tests accept although labels.toml does not list them (a
    finding proven by a concrete interleaving). Still counted as false alarms here, only annotated."""
    try:
        from tests.test_judgement_labels import UNLABELLED_BUT_PROVEN
    except Exception:
        return set()
    return set(UNLABELLED_BUT_PROVEN)


def sites_relevant(p: Posting) -> bool:
    from bot.sites import analyze

    try:
        return bool(analyze(p).relevant)
    except Exception:  # a crash there is the robustness tests' business; count it relevant
        return True


def reason_kind(reason: str) -> str:
    return next((kind for kind, words in REASON_KINDS if any(w in reason for w in words)), "other")


def coverage(reviews: list[Review]) -> dict[str, Any]:
    """Judged / relevant postings, and how often each kind of reason left one not judged."""
    relevant = [r for r in reviews if r.relevant]
    judged = [r for r in relevant if r.judged]
    unjudged = [r for r in relevant if not r.judged]
    kinds: dict[str, int] = defaultdict(int)
    for r in unjudged:
        for kind in sorted({reason_kind(why) for why in r.not_judged}):
            kinds[kind] += 1
    return {
        "relevant": len(relevant), "judged": len(judged),
        "judged_fraction": _r(len(judged) / len(relevant)) if relevant else None,
        "judged_with_findings": sum(bool(r.correctness) for r in judged),
        "not_judged": len(unjudged),
        "reasons": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        "not_judged_postings": [{"msgid": r.msgid, "subject": r.subject, "reasons": r.not_judged[:3]}
                                for r in unjudged],
    }


def year_false_alarms(labelled: set[str], filtered: bool, in_threads: set[str],
                      path: Path = YEAR) -> dict[str, Any]:
    """in_threads: Message-IDs of the three pte-free-defer threads (their unlabelled postings are counted
    too, and broken out, since a finding there may be a gap in the labels rather than a false alarm).
    Labelled postings are reviewed too, for the coverage figure, but never counted as false alarms."""
    t = time.perf_counter()
    res = load(str(path))
    t_load = time.perf_counter() - t
    formal = [p for p in res.postings if not p.is_reply]
    todo = list(formal)
    excluded = sum(p.msgid in labelled for p in formal)
    selection = "every formal posting (false alarms: those not labelled)"
    if filtered:
        from bot.cmodel.models import load_models

        model_files = {f for spec in load_models() for f in spec.reads}
        todo = [p for p in todo if {fd.path for fd in p.files} & model_files or sites_relevant(p)]
        selection = ("formal postings that touch a model's files or that bot.sites.analyze calls relevant "
                     "(false alarms: those not labelled)")
    t = time.perf_counter()
    all_reviews = review_postings(todo, Options(origin=Origin("mbox", path=str(path)), cache=False, jobs=1), context=res.postings)
    t_review = time.perf_counter() - t
    reviews = [r for r in all_reviews if r.msgid not in labelled]
    alarms = []
    for r in reviews:
        for f in r.findings:
            if f.cls == "correctness":
                alarms.append({"msgid": r.msgid, "subject": r.subject, "hazard": f.hazard,
                               "introduced": f.introduced, "where": f"{f.file}:{f.line}",
                               "in_labelled_threads": r.msgid in in_threads})
    others = [{"msgid": r.msgid, "hazard": f.hazard, "class": f.cls} for r in reviews for f in r.findings
              if f.cls != "correctness"]
    return {
        "messages": res.messages, "postings": len(res.postings), "formal_postings": len(formal),
        "labelled_excluded": excluded,
        "selection": selection, "reviewed": len(reviews), "relevant": sum(r.relevant for r in reviews),
        "correctness_findings": len(alarms),
        "correctness_findings_introduced": sum(a["introduced"] for a in alarms),
        "postings_with_correctness_findings": len({a["msgid"] for a in alarms}),
        "correctness_findings_in_labelled_threads": sum(a["in_labelled_threads"] for a in alarms),
        "reviewed_in_labelled_threads": sum(r.msgid in in_threads for r in reviews),
        "target": 0, "false_alarms": alarms, "cost_or_noise_findings": others,
        "coverage": coverage(all_reviews),
        "load_seconds": round(t_load, 2), "review_seconds": round(t_review, 2),
    }


def print_year(name: str, year: dict[str, Any]) -> None:
    print()
    print(f"{name} year: {year['reviewed']} postings reviewed ({year['selection']}; "
          f"{year['relevant']} relevant unlabelled) of {year['formal_postings']} formal postings, "
          f"{year['messages']} messages")
    print(f"  correctness findings: {year['correctness_findings']} "
          f"({year['correctness_findings_introduced']} introduced) on "
          f"{year['postings_with_correctness_findings']} unlabelled postings (target 0), "
          f"{year['correctness_findings_in_labelled_threads']} of them on unlabelled postings of the "
          f"pte-free-defer threads; "
          f"load {year['load_seconds']} s, review {year['review_seconds']} s")
    for a in year["false_alarms"][:20]:
        where = " [pte-free-defer thread, unlabelled]" if a["in_labelled_threads"] else ""
        print(f"    {a['hazard']:28} {a['where']:32} {a['subject'][:70]}{where}")
    cov = year["coverage"]
    frac = "-" if cov["judged_fraction"] is None else f"{cov['judged_fraction']:.0%}"
    print(f"  coverage: {cov['judged']} of {cov['relevant']} relevant formal postings judged ({frac}; "
          f"{cov['judged_with_findings']} by a correctness finding); not judged: {cov['not_judged']}")
    for kind, n in cov["reasons"].items():
        print(f"    {n:4} {kind}")


def print_tables(agg: dict[str, Any], scores: list[PatchScore], years: dict[str, dict[str, Any]]) -> None:
    print(f"{'hazard (correctness, introduced)':34} {'scope':11} {'tp':>3} {'fn':>3} {'fp':>3} {'prec':>5} {'recall':>6}")
    for h, c in agg["by_hazard"].items():
        print(f"{h:34} {','.join(c['scopes']):11} {c['tp']:>3} {c['fn']:>3} {c['fp']:>3} "
              f"{_fmt(c['precision']):>5} {_fmt(c['recall']):>6}")
    print()
    print(f"{'scope':8} {'patches':>7} {'exact':>5} {'tp':>3} {'fn':>3} {'fp':>3} {'prec':>5} {'recall':>6}")
    for s, c in list(agg["by_scope"].items()) + [("all", {**agg["all"], "patches": len(scores),
                                                           "patches_exact": sum(not p.fn and not p.fp for p in scores)})]:
        print(f"{s:8} {c['patches']:>7} {c['patches_exact']:>5} {c['tp']:>3} {c['fn']:>3} {c['fp']:>3} "
              f"{_fmt(c['precision']):>5} {_fmt(c['recall']):>6}")
    print()
    cost = agg["cost"]
    print(f"cost notes (should): tp {cost['tp']} fn {cost['fn']} fp {cost['fp']} "
          f"precision {_fmt(cost['precision']).strip()} recall {_fmt(cost['recall']).strip()}; "
          f"{cost['unlabelled_notes']} unlabelled cost note(s)")
    for h, c in cost["by_hazard"].items():
        print(f"  {h:32} tp {c['tp']} fn {c['fn']} fp {c['fp']}")
    print()
    for ps in scores:
        bits = []
        if not ps.reviewed:
            bits.append("NOT REVIEWED")
        if ps.fn:
            bits.append("missed " + ",".join(ps.fn))
        if ps.fp:
            bits.append("false alarm " + ",".join(ps.fp))
        if ps.cost_fn or ps.cost_fp:
            bits.append("cost " + ",".join([f"missed {h}" for h in ps.cost_fn] + [f"fp {h}" for h in ps.cost_fp]))
        if ps.may:
            bits.append("may " + ",".join(ps.may))
        if ps.cost_unlabelled:
            bits.append("unlabelled cost " + ",".join(ps.cost_unlabelled))
        accepted = [h for h in ps.fp if (ps.label["id"], h) in accepted_by_tests()]
        if accepted:
            bits.append("(tests accept " + ",".join(accepted) + " as unlabelled but proven)")
        if bits:
            print(f"  {ps.label['id']:9} {ps.label['scope']:6} " + "; ".join(bits))
    for name, year in years.items():
        print_year(name, year)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-year", action="store_true", help="skip the year-long parts (false alarms, coverage)")
    ap.add_argument("--year-filter", action="store_true",
                    help="in the year, review only postings touching model files or relevant call sites")
    a = ap.parse_args(argv)
    missing = [p for p in [LABELS] + [thread_path(n) for n in (1, 2, 3)] if not p.exists()]
    if missing:
        print(f"corpus file(s) absent: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    labels = load_labels()
    reviews: dict[str, Review] = {}
    thread_seconds = {}
    thread_ids: set[str] = set()
    for n in (1, 2, 3):
        out, dt, ids = review_thread(n)
        thread_ids |= ids
        thread_seconds[f"v{n}"] = round(dt, 2)
        reviews.update({r.msgid: r for r in out})
    scores = [score_patch(lab, reviews.get(lab["msgid"])) for lab in labels]
    agg = aggregate(scores)
    years: dict[str, dict[str, Any]] = {}
    for name, path in ({} if a.no_year else YEARS).items():
        if path.exists():
            years[name] = year_false_alarms({lab["msgid"] for lab in labels}, a.year_filter, thread_ids, path)
        else:
            print(f"corpus file {path} is absent: year {name} skipped", file=sys.stderr)
    print_tables(agg, scores, years)
    out = {
        "labels": str(LABELS.relative_to(REPO.parent)), "labelled_patches": len(labels),
        "counting": "introduced findings; fp = correctness ids not in must/should/may; may = neither",
        **agg, "patches": [ps.to_json() for ps in scores],
        "fp_accepted_by_tests": sorted(f"{i}:{h}" for i, h in accepted_by_tests()
                                       if any(ps.label["id"] == i and h in ps.fp for ps in scores)), "thread_review_seconds": thread_seconds,
        "year": years.get("2023"), "years": years, "seconds": round(time.perf_counter() - t0, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "judgement.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {(RESULTS / 'judgement.json').relative_to(REPO)} in {out['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
