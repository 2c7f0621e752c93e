"""A series' later patches build on the file as the earlier patches left it, remembered once: the
program of every patch must be the one built from scratch, layer by layer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import cache
from bot.cmodel import models
from bot.cmodel.models import build_program
from bot.judge import Judge
from bot.mail import load
from bot.options import Options
from tests import corpus


def _builds(n: int) -> list[tuple[str, models.ModelSpec, list]]:
    postings = load(str(corpus.thread(n))).postings
    judge = Judge(Options(cache=False), postings)
    out = []
    for p in postings:
        for spec in judge.models_for(p, judge.start(p)):  # the models the review builds programs of
            layers, _rev = judge.layers_for(p, spec)
            out.append((p.msgid, spec, [q.files for q in layers] + [p.files]))
    return out


@pytest.mark.parametrize("n", [1, 2, 3])
def test_remembered_prefixes_build_the_same_program(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = _builds(n)
    assert any(len(layers) > 2 for _m, _s, layers in builds), "no patch of the thread has earlier patches"
    remembered = models._PrefixStates()
    monkeypatch.setattr(models, "_PREFIXES", remembered)
    cached = [build_program(spec, layers) for _m, spec, layers in builds]
    assert remembered.states, "no prefix was remembered"
    for (msgid, spec, layers), got in zip(builds, cached):
        monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
        fresh = build_program(spec, layers)
        assert got == fresh, f"<{msgid}> on {spec.name}: the program differs from one built from scratch"
        # and again from what is remembered now (every prefix of this series is there)
        monkeypatch.setattr(models, "_PREFIXES", remembered)
        assert build_program(spec, layers) == fresh


def test_a_report_is_counted_once_per_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """What applying the earlier patches reported is in every later build's report, once."""
    builds = [b for b in _builds(1) if len(b[2]) > 2]
    monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
    first = [build_program(spec, layers).report for _m, spec, layers in builds]
    again = [build_program(spec, layers).report for _m, spec, layers in builds]
    assert first == again
    # every earlier layer is accounted for: placed, or outside what a partial reference states
    assert all(r.applied + r.outside + r.appended + len(r.failed) >= len(layers) - 1
               for r, (_m, _s, layers) in zip(first, builds))


def test_a_judge_keeps_few_runs_and_judges_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A judge remembers only its latest model runs (memory stays bounded over a year); what it
    forgets is run again, to the same reviews."""
    from bot import judge
    from tests.throughput import review_json

    path = corpus.thread(1)
    want = review_json(path, cache=False, jobs=1)
    kept: list[int] = []
    remember = judge.Judge._remember

    def counting(self: judge.Judge, key: tuple, mr: judge.ModelRun) -> None:
        remember(self, key, mr)
        kept.append(len(self._runs))

    monkeypatch.setattr(judge, "MAX_RUNS", 2)
    monkeypatch.setattr(judge.Judge, "_remember", counting)
    assert review_json(path, cache=False, jobs=1) == want
    assert kept and max(kept) == 2


def _with_reposts(n: int, dest: Path) -> Path:
    """Thread n's first patches and, after them, each posted again under a new Message-ID, as a
    later revision ("v9") of the same diffs, each on the same earlier patches."""
    data = corpus.thread(n).read_bytes()
    msgs = [m for m in re.split(rb"(?m)^(?=From \S+ )", data)
            if re.search(rb"(?m)^Subject: \[PATCH (?:v\d+ )?0[0-7]/1\d\]", m)]  # cover, patches up to s390's

    def resend(raw: bytes) -> bytes:
        head, sep, body = raw.partition(b"\n\n")
        head = re.sub(rb"<([^<>@\s]+@[^<>\s]+)>", rb"<resend.\1>", head)
        head = re.sub(rb"(?m)^Subject: \[PATCH (?:v\d+ )?", b"Subject: [PATCH v9 ", head)
        return head + sep + body

    out = dest / f"reposted-v{n}.mbox"
    out.write_bytes(b"".join(msgs + [resend(m) for m in msgs]))
    return out


@pytest.mark.parametrize("n", [1, 3])
def test_equal_diffs_on_equal_code_reuse_one_model_run(n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A repost's model runs are the original's, as they were made (not as later patches grew
    them): every review is the one judged with each posting's runs made afresh."""
    from bot import judge
    from tests.throughput import review_json

    path = _with_reposts(n, tmp_path)
    built: list[int] = []
    bind = judge.Judge.bind

    def counting(self: judge.Judge, *a: object, **k: object) -> object:
        built.append(1)
        return bind(self, *a, **k)

    monkeypatch.setattr(judge.Judge, "bind", counting)
    reused = review_json(path, cache=False, jobs=1)
    n_reused = len(built)
    built.clear()
    monkeypatch.setattr(judge.Judge, "_same_code", lambda *a: None)
    afresh = review_json(path, cache=False, jobs=1)
    assert reused == afresh
    assert '"relevant": true' in reused
    assert 0 < n_reused < len(built)  # the reposts built nothing again


def test_a_diff_digest_is_its_content() -> None:
    import copy

    p = next(q for q in load(str(corpus.thread(1))).postings if q.subject.startswith("[PATCH 07/12]"))
    q = copy.deepcopy(p)
    q.msgid, q.subject = "other@example.org", "[PATCH RESEND 07/12] other words"
    assert cache.files_digest(q.files) == cache.files_digest(p.files)
    ln = q.files[0].hunks[0].lines[0]
    q.files[0].hunks[0].lines[0] = type(ln)(ln.tag, ln.text + " ", ln.old_no, ln.new_no)
    assert cache.files_digest(q.files) != cache.files_digest(p.files)


@pytest.mark.parametrize("n", [1, 3])
def test_remembered_splices_build_the_same_program(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A diff applied once as a build's last layer and again as an earlier layer of the next patch's
    build is spliced once (_APPLIED): every build is the one made from scratch."""
    builds = _builds(n)
    monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
    monkeypatch.setattr(models, "_APPLIED", models._PrefixStates())
    spliced: list[int] = []
    real = models.apply_hunks

    def counting(*a: object, **k: object) -> object:
        spliced.append(1)
        return real(*a, **k)

    monkeypatch.setattr(models, "apply_hunks", counting)
    remembered = [models._build_program(spec, layers, None) for _m, spec, layers in builds]
    n_remembered = len(spliced)
    spliced.clear()
    for (msgid, spec, layers), got in zip(builds, remembered):
        monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
        monkeypatch.setattr(models, "_APPLIED", models._PrefixStates())
        assert got == models._build_program(spec, layers, None), f"<{msgid}> on {spec.name}"
    assert 0 < n_remembered < len(spliced)


def test_a_splice_is_remembered_for_its_file_text_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same diffs on the tree's text of the file (or another text of it) are spliced again."""
    from bot.cmodel.bind import BindReport

    _msgid, spec, layers = next(b for b in _builds(1) if len(b[2]) > 1)
    kpath = next(fd.path for fd in layers[-1] if fd.path in spec.references)
    monkeypatch.setattr(models, "_APPLIED", models._PrefixStates())
    on_reference = models._code_under_review(spec, kpath, None, layers, BindReport())
    text = "\n".join(sl.text for sl in spec.reference_lines(kpath))
    for tree_text in (text, text + "\n/* one more line */"):
        got = models._code_under_review(spec, kpath, tree_text, layers, BindReport())
        monkeypatch.setattr(models, "_APPLIED", models._PrefixStates())
        monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
        assert got == models._code_under_review(spec, kpath, tree_text, layers, BindReport())
        assert got != on_reference  # the tree's lines are the kernel path's


def _struct_diff(path: str, body: list[str]) -> list:
    from bot.patch import FileDiff, Hunk, HunkLine

    lines = [HunkLine("+", t, None, i + 1) for i, t in enumerate(body)]
    return [FileDiff(path, path, [Hunk(1, 0, 1, len(lines), "", lines)])]


def test_remembered_layouts_are_what_the_layers_make(monkeypatch: pytest.MonkeyPatch) -> None:
    """patch_layout() goes on from the layout the earlier layers made (_STATES), for the same layout
    and the same layers only."""
    from bot.cmodel import patch_layout as pl
    from bot.cmodel.layout import load_layout

    monkeypatch.setattr(pl, "_STATES", pl._States())
    one = _struct_diff("include/linux/a.h", ["struct one_of_ours {", "\tlong a;", "\tint b;", "};"])
    two = _struct_diff("include/linux/b.h", ["struct two_of_ours {", "\tstruct one_of_ours x;", "\tint c;", "};"])
    three = _struct_diff("include/linux/c.h", ["struct three {", "\tint d;", "};"])
    layout = load_layout("")

    def fresh(base: object, layers: list) -> object:
        monkeypatch.setattr(pl, "_STATES", pl._States())
        return pl.patch_layout(base, layers)  # type: ignore[arg-type]

    first = pl.patch_layout(layout, [one, two])
    assert first.structs["struct two_of_ours"]["c"] == (16, "int")
    later = pl.patch_layout(layout, [one, two, three])  # goes on from [one, two]
    assert later == fresh(layout, [one, two, three])
    # another first layer under the same second one: its own layout
    wider = _struct_diff("include/linux/a.h", ["struct one_of_ours {", "\tlong a;", "\tlong b;", "\tint e;", "};"])
    pl.patch_layout(layout, [one, two])
    assert pl.patch_layout(layout, [wider, two]) == fresh(layout, [wider, two]) != first
    # the same layers on another model's layout
    other = next(load_layout(spec.directory.name) for spec in models.load_models()
                 if load_layout(spec.directory.name) != layout)
    pl.patch_layout(layout, [one, two])
    assert pl.patch_layout(other, [one, two]) == fresh(other, [one, two]) != first


def test_remembered_diff_scores_choose_the_same_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """select.choose() scores each (reference, diff) once: the models it chooses for every posting of
    the threads are those chosen with nothing remembered, and a diff scored against one reference
    is scored again against another."""
    import copy

    from bot.cmodel import select

    cases = []
    for n in (1, 2, 3):
        postings = load(str(corpus.thread(n))).postings
        judge = Judge(Options(cache=False), postings)
        for p in postings:
            specs = models.through_headers_it_takes(models.models_for({fd.path for fd in p.files}), p.files)
            if len(specs) > 1:
                base = judge.base_of(p)
                paths = {fd.path for fd in p.files}
                cases.append((specs, [q.files for q in base if {fd.path for fd in q.files} & paths] + [p.files]))
    assert len(cases) >= 5, len(cases)
    monkeypatch.setattr(select, "_DIFFS", {})
    remembered = [[s.name for s in select.choose(specs, layers)] for specs, layers in cases]
    assert select._DIFFS
    for (specs, layers), got in zip(cases, remembered):
        monkeypatch.setattr(select, "_DIFFS", {})
        assert got == [s.name for s in select.choose(specs, layers)]
    # one diff, two references of its file: each its own score
    scored = [(select._key(s, fd.path), fd) for specs, layers in cases for s in specs for fd in layers[-1]
              if select._has_reference(s, fd.path)]
    pairs = [(a, b, fd) for a, fd in scored for b, fd2 in scored if fd2 is fd and a != b]
    monkeypatch.setattr(select, "_DIFFS", {})
    fresh = {(k, id(fd)): select._diff_score(k, fd) for k, _b, fd in pairs}
    edited = copy.deepcopy(pairs[0][2])
    h = next(h for h in edited.hunks if any(ln.tag == "+" for ln in h.lines))
    h.lines = [type(ln)("+", ln.text, None, ln.new_no) if ln.tag == " " else ln for ln in h.lines]
    assert select._diff_score(pairs[0][0], edited) == select._diff_score(pairs[0][0], copy.deepcopy(edited))
    assert any(fresh[(a, id(fd))] != fresh[(b, id(fd))] for a, b, fd in pairs), "no diff scores differently"
    monkeypatch.setattr(select, "_DIFFS", {})
    for a, b, fd in pairs:
        select._diff_score(a, fd)
        assert select._diff_score(b, fd) == fresh[(b, id(fd))]


def test_a_call_site_map_is_made_once_per_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge.sites() maps a posting's diffs once per their content: a repost's map is the original's,
    an edited diff gets its own."""
    import copy

    from bot import judge as judge_module

    postings = load(str(corpus.thread(1))).postings
    p = next(q for q in postings if q.subject.startswith("[PATCH 07/12]"))
    made: list[object] = []
    real = judge_module._sites

    def counting(q: object) -> object:
        made.append(q)
        return real(q)  # type: ignore[arg-type]

    monkeypatch.setattr(judge_module, "_sites", counting)
    judge = Judge(Options(cache=False), postings)
    first, _note = judge.sites(p, judge.start(p))
    repost = copy.deepcopy(p)
    repost.msgid = "repost@example.org"
    again, _note = judge.sites(repost, judge.start(repost))
    assert len(made) == 1 and again is first
    edited = copy.deepcopy(p)
    edited.msgid = "edited@example.org"
    h = next(h for fd in edited.files for h in fd.hunks if any(ln.tag == "+" for ln in h.lines))
    i = next(i for i, ln in enumerate(h.lines) if ln.tag == "+")
    ln = h.lines[i]
    h.lines[i] = type(ln)(ln.tag, ln.text + " call_rcu(&x->rcu, f);", ln.old_no, ln.new_no)
    other, _note = judge.sites(edited, judge.start(edited))
    assert len(made) == 2 and other == real(edited)[0] != first


def test_a_splice_is_remembered_by_the_diffs_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """A later revision's equal diff is spliced as before; a diff that says anything else is spliced
    anew."""
    import copy

    from bot.cmodel.bind import BindReport

    _msgid, spec, layers = next(b for b in _builds(1) if len(b[2]) > 1)
    kpath = next(fd.path for fd in layers[-1] if fd.path in spec.references)
    monkeypatch.setattr(models, "_APPLIED", models._PrefixStates())
    monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
    first = models._code_under_review(spec, kpath, None, layers, BindReport())
    spliced: list[int] = []
    real = models.apply_hunks
    monkeypatch.setattr(models, "apply_hunks", lambda *a, **k: spliced.append(1) or real(*a, **k))
    again = copy.deepcopy(layers)
    assert models._code_under_review(spec, kpath, None, again, BindReport()) == first and not spliced
    again = copy.deepcopy(layers)  # a diff is never edited once made: an edited one is another diff
    fd = next(fd for fd in again[-1] if fd.path == kpath)
    h = fd.hunks[-1]
    i = next(i for i, ln in enumerate(h.lines) if ln.tag == "+")
    h.lines[i] = type(h.lines[i])("+", h.lines[i].text + " /* edited */", None, h.lines[i].new_no)
    got = models._code_under_review(spec, kpath, None, again, BindReport())
    assert spliced and got != first
    monkeypatch.setattr(models, "_APPLIED", models._PrefixStates())
    monkeypatch.setattr(models, "_PREFIXES", models._PrefixStates())
    assert got == models._code_under_review(spec, kpath, None, again, BindReport())
