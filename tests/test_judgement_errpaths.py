"""Error paths after a failed allocation: a call that may fail (rules/primitives.toml `may_fail`)
fails on some path inside the functions a scenario names (allocations_may_fail()), never in its
setup; a model's allocation path ([[lifetime.alloc]]) runs that way when a patch changes it, alone
and while each free path runs. What the error path leaves behind or frees under the other path is a
finding; an error path that undoes what it did is clean."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bot.cmodel.models import build_program, context_scenarios, load_models
from bot.mail import load
from bot.patch import Posting
from tests.breadth_model import run_model, scenario
from tests.corpus import thread
from tests.test_judgement_edits import V3_05, V3_07
from tests.test_judgement_today import edited, introduced, mail, real, review, synthetic

# ---- the primitive, on a model written for these tests -------------------------------------------

ALLOC = """
unsigned long *table_alloc(void)
{
	struct page *page = alloc_page(GFP_KERNEL);

	if (!page)
		return NULL;
	if (!pgtable_pte_page_ctor(page)) {
		__free_page(page);
		return NULL;
	}
	return (unsigned long *) page_to_virt(page);
}
"""


def _ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, threads: tuple[str, ...], setup: str = "",
         more: str = ""):
    return run_model(tmp_path, monkeypatch, code, scenario("e", setup, *threads, live='["P", "Q"]') + more)


def test_an_error_path_that_keeps_the_page_leaks_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _ran(tmp_path, monkeypatch, ALLOC.replace("__free_page(page);", ""), ("allocations_may_fail(1); P = table_alloc();",))
    assert r.verdict("e") == "unsafe" and r.hazards("e") == {"PAGETABLE_LEAK"}
    (cx,) = r.results["e"][0].counterexamples
    assert any("pgtable_pte_page_ctor() fails on this path" in e.op for e in cx.trace)


def test_an_error_path_that_frees_the_page_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _ran(tmp_path, monkeypatch, ALLOC, ("allocations_may_fail(1); P = table_alloc();",),
             more=scenario("plain", "", "P = table_alloc();", live='["P"]'))
    assert r.verdict("e") == "safe" and r.verdict("plain") == "safe"
    # each of the two allocations fails on a path of its own: the search has the paths of both
    assert r.results["e"][0].states > r.results["plain"][0].states


def test_the_setup_and_code_outside_the_named_functions_never_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    leaky = ALLOC.replace("__free_page(page);", "") + """
unsigned long *outer(void)
{
	return table_alloc();
}
"""
    # the setup's allocation succeeds although the budget is already set
    r = _ran(tmp_path, monkeypatch, leaky, ("Q = 0;",), setup="allocations_may_fail(1); P = table_alloc();")
    assert r.verdict("e") == "safe"
    d = tmp_path / "scoped"
    d.mkdir()
    body = scenario("e", "", "allocations_may_fail(1); P = outer();", live='["P"]')
    r = run_model(d, monkeypatch, leaky, body.replace('live = ["P"]', 'live = ["P"]\nfail_in = ["outer"]'))
    assert r.verdict("e") == "unsafe"  # inside outer(), table_alloc()'s allocations may fail
    d = tmp_path / "elsewhere"
    d.mkdir()
    r = run_model(d, monkeypatch, leaky, body.replace('live = ["P"]', 'live = ["P"]\nfail_in = ["nothing_here"]'))
    assert r.verdict("e") == "safe"


LOCKED = """
struct holder h;

unsigned long *table_alloc_locked(struct holder *hd)
{
	struct page *page;

	spin_lock(&hd->h_lock);
	page = alloc_page(GFP_ATOMIC);
	if (!page) {
		spin_unlock(&hd->h_lock);
		return NULL;
	}
	spin_unlock(&hd->h_lock);
	return (unsigned long *) page_to_virt(page);
}
"""


@pytest.mark.parametrize("code,verdict", [(LOCKED, "safe"), (LOCKED.replace("\t\tspin_unlock(&hd->h_lock);\n", ""), "unsafe")])
def test_an_error_path_that_returns_with_the_lock_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str,
                                                       verdict: str) -> None:
    r = _ran(tmp_path, monkeypatch, code, ("allocations_may_fail(1); P = table_alloc_locked(&h);",))
    assert r.verdict("e") == verdict
    if verdict == "unsafe":
        assert r.hazards("e") == {"DEADLOCK"} and any("still held" in d for d in r.details("e"))


# ---- the allocation paths of the models, run when a patch changes them -----------------------------

def _context_names(n: int, msgid: str) -> set[str]:
    posts = load(str(thread(n))).postings
    p = next(q for q in posts if q.msgid == msgid)
    out: set[str] = set()
    for spec in load_models():
        if spec.lifetime is not None and {fd.path for fd in p.files} & set(spec.files):
            out |= {sc.name for sc in context_scenarios(spec, build_program(spec, [p.files]))}
    return out


def test_error_paths_run_only_where_the_change_reaches_an_allocation_path() -> None:
    # v3 07 changes page_table_alloc() where a listed page is reused, not its error paths
    assert {n for n in _context_names(3, V3_07) if n.startswith("errpath:")} == {"errpath:alloc"}
    assert not {n for n in _context_names(3, V3_05) if n.startswith("errpath:")}  # powerpc's free paths only


def test_a_change_to_the_error_path_runs_it_beside_every_free_path() -> None:
    p, _ctx = _conversion()
    spec = next(s for s in load_models() if s.name == "s390-2k-fragments-deferred")
    bound = build_program(spec, [p.files])
    names = {sc.name for sc in context_scenarios(spec, bound) if sc.name.startswith("errpath:")}
    assert names == {f"errpath:alloc{w}" for w in ("", "-while-free", "-while-gather", "-while-exit", "-while-defer")}


# The s390 ptdesc conversion of 2023 rewrites page_table_alloc(), its error paths included.
CONVERSION = "s390: Convert various pgalloc functions to use ptdescs"
ALLOC_FN = "page_table_alloc("


def _conversion() -> tuple[Posting, list[Posting]]:
    posts = [q for q in real(2023, CONVERSION)[1]]
    p = [q for q in posts if not q.is_reply and CONVERSION in q.subject][-1]  # its last revision
    return p, posts


def edited_in(p: Posting, ctx: list[Posting], section: str, *subs: tuple[str, str]) -> tuple[Posting, list[Posting]]:
    """p with the substitutions of tests.test_judgement_today.edited() made in the hunks of one
    function only (their section or their lines name `section`): the same line recurs in the other
    functions the patch converts."""
    q = copy.deepcopy(p)
    hits = 0
    for fd in q.files:
        for i, h in enumerate(fd.hunks):
            texts = [ln.text + "\n" for ln in h.lines if ln.tag != "-"]
            ours = section in h.section or any(section in t for t in texts)  # the hunk of that function
            if ours and any(o.removeprefix("^") in t for o, _n in subs for t in texts):
                one = copy.copy(q)
                one.files = [copy.copy(fd)]
                one.files[0].hunks = [h]
                done, _ = edited(one, [], *subs)
                fd.hunks[i] = done.files[0].hunks[0]
                hits += 1
    assert hits, section
    return q, [q if c.msgid == p.msgid else c for c in ctx]


def test_the_conversion_as_posted_is_clean_on_its_error_paths() -> None:
    r = review(*_conversion())
    assert not introduced(r)
    assert any(o.startswith("arch/s390/mm/pgalloc.c:page_table_alloc") for o in r.modeled)


def test_a_constructor_failure_that_keeps_the_page_leaks_it() -> None:
    p, ctx = _conversion()
    q, ctx = edited_in(p, ctx, ALLOC_FN, ("^\t\tpagetable_free(ptdesc);\n", ""))
    r = review(q, ctx)
    assert "PAGETABLE_LEAK" in introduced(r)
    f = next(f for f in r.correctness if f.hazard == "PAGETABLE_LEAK" and f.introduced)
    assert f.function == "page_table_alloc" and "errpath:alloc" in f.explanation
    assert any("pagetable_pte_ctor() fails on this path" in s.op for s in f.trace)


def test_a_constructor_failure_that_frees_the_page_another_way_is_clean() -> None:
    p, ctx = _conversion()
    q, ctx = edited_in(p, ctx, ALLOC_FN, ("^\t\tpagetable_free(ptdesc);\n", "\t\t__free_page(ptdesc_page(ptdesc));\n"))
    assert not introduced(review(q, ctx))


LOCKED_ALLOC = ("^\tptdesc = pagetable_alloc(GFP_KERNEL, 0);\n",
                "\tspin_lock_bh(&mm->context.lock);\n\tptdesc = pagetable_alloc(GFP_ATOMIC, 0);\n"
                "\tif (!ptdesc) {\n{undo}\t\treturn NULL;\n\t}}\n\tspin_unlock_bh(&mm->context.lock);\n")


@pytest.mark.parametrize("undo,hazard", [("", "DEADLOCK"), ("\t\tspin_unlock_bh(&mm->context.lock);\n", None)])
def test_an_allocation_under_the_lock_must_drop_it_on_failure(undo: str, hazard: str | None) -> None:
    p, ctx = _conversion()
    old, new = LOCKED_ALLOC
    q, ctx = edited_in(p, ctx, ALLOC_FN, (old, new.replace("{undo}", undo).replace("}}", "}")))
    found = introduced(review(q, ctx))
    assert found == ({hazard} if hazard else set()), found


# ---- lifetime paths of today's generic model ----------------------------------------------------

def test_a_deferral_that_pins_the_mm_meets_the_unchanged_exit_path() -> None:
    # The callback drops an mm reference the deferral took: when the exiting process dropped its own
    # first (exit's free_pgtables() path, which the patch leaves alone), the callback's mmdrop() is
    # the last one and runs __mmdrop() in softirq. Only a pair with that path shows it.
    r = review(mail("mm/pgtable: pte_free_defer() pins the mm", synthetic("pte-free-defer-pins-mm.diff"), "pins-mm"))
    f = next(f for f in r.correctness if f.hazard == "MMDROP_IN_SOFTIRQ" and f.introduced)
    assert "lifetime:exit-" in f.explanation or "-then-exit" in f.explanation or "-while-exit" in f.explanation
    assert any(u.startswith("unchanged by the patch, on this path: pte_free_tlb()") for u in f.unmodeled)
    assert f.function == "pte_free_now"


def test_the_same_deferral_dropping_the_mm_from_a_workqueue_is_clean() -> None:
    r = review(mail("mm/pgtable: pte_free_defer() pins the mm", synthetic("pte-free-defer-pins-mm-async.diff"), "pins-mm-async"))
    assert r.judged and not introduced(r)


GOTO_UNDO = """
int table_pair(struct holder *hd)
{
	struct page *a, *b;
	int err = -12;

	a = alloc_page(GFP_KERNEL);
	if (!a)
		goto out;
	b = alloc_page(GFP_KERNEL);
	if (b == NULL)
		goto free_a;
	hd->h_obj = (struct obj *) b;
	return 0;
free_a:
	__free_page(a);
out:
	return err;
}
"""


def test_error_path_lines_follow_gotos_and_both_spellings_of_the_test() -> None:
    from bot.cmodel.errpaths import error_path_lines, failing_functions
    from bot.cmodel.primitives import primitives
    from bot.cmodel.program import Program, program_from_text

    prog = Program()
    prog.add_unit(*program_from_text(GOTO_UNDO))
    lines = {prog.where("table_pair", n).text.strip() for n in error_path_lines(
        prog, "table_pair", failing_functions(prog, primitives()))}
    assert {"__free_page(a);", "return err;", "goto free_a;", "goto out;"} <= lines
    assert not {"return 0;", "hd->h_obj = (struct obj *) b;"} & lines  # the success path is not an error path


# powerpc's conversion rewrites __alloc_for_ptecache(), its constructor's error path included.
PPC_CONVERSION = "powerpc: Convert various functions to use ptdescs"


@pytest.mark.parametrize("undo,leaks", [("", True), ("\t\t\t__free_page(ptdesc_page(ptdesc));\n", False)])
def test_powerpc_a_constructor_failure_must_free_the_fragment_page(undo: str, leaks: bool) -> None:
    posts = real(2023, PPC_CONVERSION)[1]
    p = [q for q in posts if not q.is_reply and PPC_CONVERSION in q.subject][-1]
    q, ctx = edited_in(p, posts, "__alloc_for_ptecache(", ("^\t\t\tpagetable_free(ptdesc);\n", undo))
    r = review(q, ctx)
    assert r.judged
    assert introduced(r) == ({"PAGETABLE_LEAK"} if leaks else set())
    if leaks:
        assert {f.function for f in r.correctness if f.introduced} == {"__alloc_for_ptecache"}


SHARED = """
struct holder h;

void holder_init(struct holder *hd)
{
	hd->h_obj = kmalloc(128, GFP_KERNEL);
	spin_lock_init(&hd->h_lock);
}

unsigned long *table_for(struct holder *hd)
{
	struct page *page = alloc_page(GFP_KERNEL);

	if (!page) {
		{undo}
		return NULL;
	}
	return (unsigned long *) page_to_virt(page);
}

int holder_read(struct holder *hd)
{
	int v;

	spin_lock(&hd->h_lock);
	v = hd->h_obj->o_val;
	spin_unlock(&hd->h_lock);
	return v;
}
"""


@pytest.mark.parametrize("undo,verdict", [("", "safe"), ("kfree(hd->h_obj);", "unsafe")])
def test_an_error_path_that_frees_what_another_context_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            undo: str, verdict: str) -> None:
    r = _ran(tmp_path, monkeypatch, SHARED.replace("{undo}", undo),
             ("allocations_may_fail(1); P = table_for(&h);", "Q = holder_read(&h);"), setup="holder_init(&h);")
    assert r.verdict("e") == verdict
    if verdict == "unsafe":
        assert r.hazards("e") == {"USE_AFTER_FREE"}
