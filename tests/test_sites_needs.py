"""The call-site stage skips C diffs that cannot hold a site that counts (bot/sites/needs.py): proved
on every C posting of two whole years of linux-s390, and the names come from the data files."""

from __future__ import annotations

import lzma
import shutil

import pytest

from bot import callers, pool
from bot.mail import load
from bot.patch import FileDiff, Hunk, HunkLine, Posting
from bot.sites import analyze, analyze_files
from bot.sites.needs import can_hold_sites, names, site_files
from bot.sites.rules import load as load_rules
from bot.sites.rules import parse
from tests.corpus import corpus_path

YEARS = ("lists/linux-s390-2023.mbox.xz", "lists/linux-s390-2024.mbox.xz")


def _is_c(p: Posting) -> bool:
    return any(fd.path.endswith((".c", ".h")) for fd in p.files)


def _read(sm, p: Posting) -> tuple:
    """Everything of a site map that a review reads (bot/judge.py, bot/verdict.py)."""
    findings = [(f.hazard, f.file, f.line, f.function, f.evidence) for f in callers.caller_findings(sm, p)]
    return sm.relevant, sm.modeled, sm.file_scope_reasons, sm.reasons, callers.coverage(sm, p), findings


def _check(postings: list[Posting], part: list[int]) -> list[tuple[str, int, int, str]]:
    """Per posting: (msgid, C diffs, C diffs parsed, what differs); the full stage on every C diff."""
    rules = load_rules()
    out = []
    for i in part:
        p = postings[i]
        full = analyze_files(p.files, rules)
        kept = site_files(p.files, rules)
        problem = ""
        if not kept and (full.relevant or full.reasons or _read(full, p)[4] != ({}, [])):
            problem = "skipped entirely, yet the full stage finds a site that counts"
        elif _read(analyze(p, rules), p) != _read(full, p):
            problem = "the review would read something else"
        out.append((p.msgid, sum(fd.path.endswith((".c", ".h")) for fd in p.files), len(kept), problem))
    return out


@pytest.fixture(scope="module", params=YEARS, ids=["2023", "2024"])
def year_checked(request, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, int, str]]:
    src = corpus_path(request.param)
    mbox = tmp_path_factory.mktemp("needs") / "year.mbox"
    with lzma.open(src) as f, mbox.open("wb") as g:
        shutil.copyfileobj(f, g, 1 << 20)
    postings = [p for p in load(str(mbox)).postings if _is_c(p)]
    mbox.unlink()
    jobs = pool.jobs_for(None, len(postings))
    parts = pool.chunks([1] * len(postings), [str(i) for i in range(len(postings))], jobs)
    return pool.run(_check, postings, parts, jobs)


def test_skipping_changes_nothing_a_review_reads(year_checked):
    assert len(year_checked) > 2000  # the whole year was read
    bad = [(m, why) for m, _n, _k, why in year_checked if why]
    assert bad == []
    skipped = sum(1 for _m, _n, kept, _w in year_checked if kept == 0)
    assert skipped > 0.8 * len(year_checked)  # the filter is worth having: most C postings are skipped


def _posting(path: str, lines: list[str], section: str = "") -> Posting:
    hunk = Hunk(10, len(lines), 10, len(lines), section,
                [HunkLine("+", t, None, 10 + i) for i, t in enumerate(lines)])
    return Posting("m@x", "s", "a", [], [], "", None, [], None, "", [FileDiff(path, path, [hunk])])


def test_names_come_from_the_data_files():
    rules = load_rules()
    found = names(rules, callers.rules())
    assert set(rules.modeled) <= found
    assert {n for p in rules.primitives if p.relevance == "always" for n in p.names} <= found
    assert {f.path[-1] for f in rules.fields if f.relevance == "always"} <= found
    assert {n for r in callers.rules() for n in r.get("sequence", []) + r.get("relaxes", [])} <= found
    in_scope_only = {n for p in rules.primitives if p.relevance != "always" for n in p.names} - found
    assert "spin_lock" in in_scope_only  # a lock in a driver is no site that counts


def test_a_file_is_parsed_for_a_name_in_its_hunks_or_section_or_for_its_path():
    rules = load_rules()
    driver = "drivers/s390/cio/x.c"
    assert not can_hold_sites(_posting(driver, ["\tspin_lock(&sch->lock);"]).files[0], rules)
    assert can_hold_sites(_posting(driver, ["\tmmdrop_async(mm);"]).files[0], rules)
    assert can_hold_sites(_posting(driver, ["\tx = 1;"], "static void pte_free_defer(pgtable_t t)").files[0], rules)
    assert can_hold_sites(_posting("arch/s390/mm/pgalloc.c", ["\tspin_lock(&l);"]).files[0], rules)
    assert not can_hold_sites(_posting("arch/s390/mm/x.S", ["\tmmdrop_async"]).files[0], rules)
    p = _posting(driver, ["\tspin_lock(&sch->lock);"])
    assert analyze(p).all() == [] and analyze_files(p.files).all() != []


def test_a_new_rule_is_a_new_name_and_a_pattern_that_counts_everywhere_parses_all():
    data = {"primitive": {"frob_table": {"category": "rcu", "relevance": "always"},
                          "spin_lock": {"category": "lock"}}}
    rules = parse(data)
    fd = _posting("drivers/x.c", ["\tfrob_table(t);"]).files[0]
    assert can_hold_sites(fd, rules) and not can_hold_sites(fd, load_rules())
    data["primitive"]["frobs"] = {"category": "rcu", "match": "^frob", "relevance": "always"}
    anything = _posting("drivers/x.c", ["\tx = 1;"]).files[0]
    assert can_hold_sites(anything, parse(data))


def test_skipping_a_file_keeps_the_sites_of_the_others():
    p = _posting("drivers/x.c", ["\tspin_lock(&l);"])
    p.files.append(_posting("kernel/fork.c", ["\tmmdrop_async(mm);"], "void __mmdrop(struct mm_struct *mm)").files[0])
    sm = analyze(p)
    assert sm.relevant and [fs.file for fs in sm.all()] == ["kernel/fork.c", "kernel/fork.c"]
