"""Every data file of rules/ and models/ is checked on load: a typo in a copy of each kind of file is a
one-line error naming the file and the key, and the CLI reports it as exit 2 without a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from bot import callers, classify
from bot.cmodel import costs, layout, models, primitives
from bot.datafile import DataError
from bot.paths import models_dir, rules_dir
from bot.sim import scenario
from bot.sites import rules as callsites

RULES = rules_dir()
MODELS = models_dir()


def _edit(src: Path, dst: Path, old: str, new: str) -> Path:
    text = src.read_text()
    assert old in text, f"{src}: {old!r} not found"
    dst.write_text(text.replace(old, new, 1))
    return dst


def _model_copy(tmp: Path, old: str, new: str, file: str = "model.toml") -> Path:
    d = tmp / "s390"
    shutil.copytree(MODELS / "s390", d)
    _edit(MODELS / "s390" / file, d / file, old, new)
    return d / "model.toml"


# (what, the file the loader reads, the typo, the load, the expected message after "FILE: ")
CASES: list[tuple[str, Path, str, str, Callable[[Path], object], str]] = [
    ("primitive key", RULES / "primitives.toml", 'flavour = "bh"', 'flavor = "bh"', primitives.load,
     "[rcu_read_lock_bh] unknown key 'flavor' (did you mean 'flavour'?)"),
    ("primitive effect", RULES / "primitives.toml", 'effect = "rcu_queue"', 'effect = "rcu_queu"',
     primitives.load, "[call_rcu] unknown effect 'rcu_queu' (did you mean 'rcu_queue'?)"),
    ("primitive type", RULES / "primitives.toml", 'effect = "synchronize_rcu"\nmay_sleep = true',
     'effect = "synchronize_rcu"\nmay_sleep = "yes"', primitives.load,
     "[synchronize_rcu] key 'may_sleep' must be true or false, not 'yes'"),
    ("primitive choice", RULES / "primitives.toml", 'op = "xor"', 'op = "xr"', primitives.load,
     "[atomic_xor_bits] key 'op' must be one of add, sub, xor, and, or, andnot, store, load, not 'xr' (did you "
     "mean 'xor'?)"),
    ("callsite key", RULES / "callsites.toml", "relevance = ", "relevnce = ", callsites.load,
     "unknown key 'relevnce' (did you mean 'relevance'?)"),
    ("classify kind", RULES / "classify.toml", 'kind = "list_double_add"', 'kind = "list_double_ad"',
     classify.load_rules, "kind 'list_double_ad' is not an invariant id (did you mean 'list_double_add'?)"),
    ("classify attr", RULES / "classify.toml", 'ctx = "softirq"', 'ctxt = "softirq"', classify.load_rules,
     "unknown key 'ctxt' (did you mean 'ctx'?)"),
    ("hazard key", RULES / "hazards.toml", 'scope = "arch"', 'scop = "arch"', classify.load_catalog,
     "[RCU_HEAD_SHARED] unknown key 'scop' (did you mean 'scope'?)"),
    ("cost key", RULES / "costs.toml", "in_functions", "in_function", costs.load,
     "[cost[0]] unknown key 'in_function' (did you mean 'in_functions'?)"),
    ("caller key", RULES / "callers.toml", "missing_anywhere = [", "missing_anywher = [", callers.load,
     "[rule[0]] unknown key 'missing_anywher' (did you mean 'missing_anywhere'?)"),
    ("layout type", MODELS / "common" / "layout.toml", 'lru = [8, "struct list_head"]', 'lru = 8',
     layout.read_layouts, "key 'lru' must be an array, not 8"),
    ("litmus key", MODELS / "scenarios" / "double-free.toml", "[expect]", "[expects]", scenario.load,
     "unknown key 'expects' (did you mean 'expect'?)"),
    ("design key", MODELS / "designs" / "free-mm-by-call-rcu.toml", "ops =", "opz =", scenario.load,
     "unknown key 'opz' (did you mean 'ops'?)"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_a_typo_is_a_one_line_error(tmp_path: Path, case) -> None:
    _what, src, old, new, load, want = case
    dst = _edit(src, tmp_path / src.name, old, new)
    with pytest.raises(DataError) as e:
        load(dst)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{dst}: ")
    assert want in msg, msg


def test_model_toml_typo_names_file_and_key(tmp_path: Path) -> None:
    path = _model_copy(tmp_path, "fragments_per_page = 2", "fragment_per_page = 2")
    with pytest.raises(DataError) as e:
        models.load_model(path)
    assert str(e.value) == (f"{path}: unknown key 'fragment_per_page' (did you mean 'fragments_per_page'?)")


def test_c_scenario_typo_names_file_and_key(tmp_path: Path) -> None:
    path = _model_copy(tmp_path, "setup =", "setpu =", "scenarios.toml")
    with pytest.raises(DataError) as e:
        models.load_model(path)
    assert re.fullmatch(rf"{re.escape(str(path.parent / 'scenarios.toml'))}: \[scenario\[\d+\]\] unknown key "
                        r"'setpu' \(did you mean 'setup'\?\)", str(e.value)), str(e.value)


def test_model_overlay_layout_is_checked(tmp_path: Path) -> None:
    own = tmp_path / "layout.toml"
    own.write_text('[struct."struct page"]\nlru = [16]\n')
    with pytest.raises(DataError, match=r"\[struct.struct page\] field 'lru' must be \[offset, \"type\"\]"):
        layout.read_layouts(MODELS / "common" / "layout.toml", own)


def test_the_shipped_files_load() -> None:
    assert primitives.primitives()["synchronize_rcu"].may_sleep
    assert classify.catalog() and classify._rules() and callers.rules() and costs.cost_rules()
    assert callsites.load().primitives
    assert all(spec.scenarios for spec in models.load_models())


def test_cli_reports_a_broken_data_file_in_one_line(tmp_path: Path) -> None:
    """A broken model directory (as an installed copy could be) surfaces as exit 2, one line, no traceback."""
    data = tmp_path / "data"
    shutil.copytree(MODELS, data / "models")
    shutil.copytree(RULES, data / "rules")
    _edit(MODELS / "s390" / "model.toml", data / "models" / "s390" / "model.toml", "fragments_per_page",
          "fragment_per_page")
    mbox = tmp_path / "one.mbox"
    mbox.write_text("From x\nFrom: a <a@example.org>\nSubject: [PATCH] s390/mm: x\nMessage-ID: <t@x>\n\n"
                    "---\n arch/s390/mm/pgalloc.c | 1 +\n\ndiff --git a/arch/s390/mm/pgalloc.c "
                    "b/arch/s390/mm/pgalloc.c\n--- a/arch/s390/mm/pgalloc.c\n+++ b/arch/s390/mm/pgalloc.c\n"
                    "@@ -1,1 +1,2 @@\n #include <linux/mm.h>\n+/* x */\n")
    code = ("import sys, bot.paths as p; from pathlib import Path; d = Path(sys.argv[1]);"
            "p._find = lambda name: d / name; from bot.cli import main; sys.exit(main(sys.argv[2:]))")
    run = subprocess.run([sys.executable, "-c", code, str(data), "check", "--mbox", str(mbox)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert "s390/model.toml: unknown key 'fragment_per_page' (did you mean 'fragments_per_page'?)" in lines[0]


def _sleep_under_lock(may_sleep: bool) -> list[str]:
    from dataclasses import replace

    from bot.cmodel.cparse import parse_unit
    from bot.cmodel.effects import Abort
    from bot.cmodel.machine import Machine
    from bot.cmodel.program import Program, SourceLine
    from bot.cmodel.world import Frame, Thread, World

    src = "void f(void)\n{\n\tspin_lock(&l);\n\tmutex_lock(&m);\n\tspin_unlock(&l);\n}\n"
    prog = Program()
    prog.add_unit(parse_unit(src), [SourceLine("t.c", i + 1, ln, True) for i, ln in enumerate(src.splitlines())])
    m = Machine(prog, "t", World())
    m.lock_addrs = {"l": 0x30_0000_0000, "m": 0x30_0000_0040}
    m.prims = {**m.prims, "mutex_lock": replace(m.prims["mutex_lock"], may_sleep=may_sleep)}
    w = World()
    t = Thread("CPU0", "process", 0, [Frame("f", 0, {})])
    w.threads.append(t)
    kinds: list[str] = []
    try:
        while t.frames:
            m._exec(w, t, [], [])
    except Abort as a:
        kinds.append(a.violation.kind)
    return kinds


def test_may_sleep_key_drives_the_sleep_in_atomic_check() -> None:
    assert primitives.primitives()["mutex_lock"].may_sleep
    assert _sleep_under_lock(True) == ["sleep_in_atomic"]
    assert _sleep_under_lock(False) == []
