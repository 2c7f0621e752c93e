import tomllib

import pytest

from bot.explore import DESIGNS, design_path, render_text, run_scenario_file
from bot.sim.core import check
from bot.sim.litmus import ScenarioModel
from bot.sim.scenario import ScenarioError, compile_scenario

NAMES = [
    "v1-mmgrab-mmdrop-async",
    "free-mm-by-call-rcu",
    "synchronize-rcu-in-mmdrop",
    "rcu-barrier-then-call-rcu",
    "hh-bits-global-lock",
    "typesafe-by-rcu-list",
    "typesafe-by-rcu-list-reinit",
    "page-active-no-reuse",
]


def test_all_thread_designs_exist() -> None:
    for n in NAMES:
        assert design_path(n).is_file()
    with pytest.raises(ScenarioError, match="no design"):
        design_path("nope")


def test_declared_hazards_and_costs() -> None:
    want = {
        "v1-mmgrab-mmdrop-async": ({"RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU"}, {"MMGRAB_PER_TABLE"}),
        "free-mm-by-call-rcu": ({"MM_UAF_UNORDERED_CALLBACKS"}, set()),
        "synchronize-rcu-in-mmdrop": ({"SYNC_RCU_HOT_PATH"}, {"SYNC_RCU_HOT_PATH"}),
        "hh-bits-global-lock": (set(), {"GLOBAL_LOCK_SCALABILITY"}),
        "typesafe-by-rcu-list-reinit": ({"TYPESAFE_BY_RCU_REINIT"}, set()),
        "page-active-no-reuse": (set(), {"FRAGMENT_MEMORY_WASTE"}),
    }
    for name, (hz, costs) in want.items():
        _, meta = run_scenario_file(design_path(name))
        assert (set(meta.hazards), set(meta.costs)) == (hz, costs), name


def test_render_has_a_column_per_context_and_costs() -> None:
    text = render_text(*run_scenario_file(design_path("v1-mmgrab-mmdrop-async")))
    assert "verdict: unsafe" in text and "expectation: as expected" in text
    assert "violation rcu_head_requeued" in text and "MMGRAB_PER_TABLE" in text
    lines = text.splitlines()
    header = next(ln for i, ln in enumerate(lines) if "CPU0" in ln and lines[i + 1].strip().startswith("----"))
    assert "CPU0" in header and "CPU1" in header
    # laid out like check's tables: within the width asked for, except a single word too long to wrap
    for width in (72, 100):
        text = render_text(*run_scenario_file(design_path("v1-mmgrab-mmdrop-async")), width=width)
        over = [ln for ln in text.splitlines() if len(ln) > width and len(ln.split()[-1]) <= 16]
        assert not over, over


def _mutated(name: str, edit) -> ScenarioModel:
    data = tomllib.loads(design_path(name).read_text())
    edit(data)
    return ScenarioModel(compile_scenario(data, name))


def test_page_active_without_the_flag_frees_under_a_reader() -> None:
    # without SetPageActive the last free is immediate: the walker reads a freed page
    def drop_flag(d):
        d["threads"]["khugepaged"]["ops"].remove("set_flag(pg.active)")

    r = check(_mutated("page-active-no-reuse", drop_flag))
    assert r.verdict == "unsafe" and "reader_saw_free" in r.kinds


def test_hh_bits_without_the_recheck_uses_a_freed_mm() -> None:
    def no_recheck(d):
        d["functions"]["pte_free_half0"][2] = {"if": "true_", "then": []}

    with pytest.raises(ScenarioError):
        _mutated("hh-bits-global-lock", no_recheck)

    def use_unconditionally(d):
        d["functions"]["pte_free_half0"].insert(1, "use(mm, write)")

    r = check(_mutated("hh-bits-global-lock", use_unconditionally))
    assert r.verdict == "unsafe" and r.kinds == {"use_after_free"}


def test_design_dir_has_only_known_designs() -> None:
    assert {p.stem for p in DESIGNS.glob("*.toml")} == set(NAMES)
