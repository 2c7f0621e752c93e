"""Every data file of rules/ and models/, mutated one place at a time, fails to load with one line
naming the file: a key no schema knows added to any table, and any value replaced by one of a type
no schema accepts. Walks the shipped files, so a new file or key is covered without a new test.

Large files are sampled evenly (`_sample`). A few tables map free names to values (`[constants]`, `[options]`, struct fields, litmus objects):
an extra name there is data, not a typo, so only the wrong-type mutation applies to them; FREE lists
them, each with why.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from bot import callers, classify
from bot.cmodel import constants, costs, kconfig, layout, models, preprocess, primitives
from bot.datafile import DataError, display, read_toml
from bot.paths import models_dir, rules_dir
from bot.sim import scenario
from bot.sites import rules as callsites

RULES, MODELS = rules_dir(), models_dir()

# (file pattern, table path pattern): tables whose keys are names the data gives, not schema keys
FREE = [
    (r"rules/constants\.toml", r"constants"),  # kernel constant names
    (r"rules/macros\.toml", r"macros"),  # macro names
    (r"rules/families\.toml", r"family\[\d+\]\.parts"),  # a family's part names
    (r"rules/callsites\.toml", r"primitive|field"),  # call and field names
    (r"models/[\w-]+/config\.toml", r"options|defines"),  # CONFIG_ options, predefined macros
    (r"models/.*layout\.toml", r"struct(\..*)?|sizes"),  # struct names, field names, type sizes
    (r"models/[\w-]+/model\.toml", r"references|types|consts|params|headers"),  # file and name maps
    (r"models/.*scenarios\.toml", r"scenario\[\d+\]\.params"),  # model parameters
    (r"models/(scenarios|designs)/.*", r"objects|functions|threads|init\.listed"),  # names
]


def _toml(v: Any) -> str:
    """One TOML value, tables inline (tomllib reads the whole document back as the same data)."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v)


def _dump(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in data.items())


def _tables(v: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(v, dict):
        yield path, v
        for k, x in v.items():
            yield from _tables(x, f"{path}.{k}" if path else k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _tables(x, f"{path}[{i}]")


def _leaves(v: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every value that is not a table."""
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, x in items:
        if isinstance(x, dict | list) and x:
            yield from _leaves(x)
            if isinstance(x, list):
                yield v, k
        else:
            yield v, k


def _sample(items: list[Any], most: int = 120) -> list[Any]:
    """Every item of a small file; of a large one (primitives.toml), an even spread of `most`."""
    step = max(1, -(-len(items) // most))
    return items[::step]


def _free(rel: str, table: str) -> bool:
    return any(re.fullmatch(f, rel) and re.fullmatch(t, table) for f, t in FREE)


def _loader(rel: str, path: Path) -> Callable[[], object]:
    name = path.name
    if rel.startswith("rules/"):
        by_name: dict[str, Callable[[], object]] = {
            "primitives.toml": lambda: primitives.load(path), "families.toml": lambda: primitives.load_families(path),
            "opaque.toml": lambda: primitives.load_opaque(path), "constants.toml": lambda: constants.load(path),
            "macros.toml": lambda: preprocess.load_macros(path), "classify.toml": lambda: classify.load_rules(path),
            "hazards.toml": lambda: classify.load_catalog(path), "costs.toml": lambda: costs.load(path),
            "callers.toml": lambda: callers.load(path),
            "callsites.toml": lambda: callsites.parse(read_toml(path), display(path)),
        }
        return by_name[name]
    if "/scenarios/" in rel or "/designs/" in rel:
        return lambda: scenario.load(path)
    if name == "model.toml":
        return lambda: models.load_model(path)
    if name == "config.toml":
        return lambda: kconfig.load_config(path)
    if name == "layout.toml":
        common = path.parent.parent / "common" / "layout.toml"
        return lambda: layout.read_layouts(common, None if path == common else path)
    return lambda: models.load_scenarios(path, known_bad=True)


def _files() -> list[str]:
    out = [f"rules/{p.name}" for p in sorted(RULES.glob("*.toml"))]
    out += [f"models/{p.relative_to(MODELS)}" for p in sorted(MODELS.rglob("*.toml"))]
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    shutil.copytree(RULES, root / "rules")
    shutil.copytree(MODELS, root / "models")
    return root


def _fails(load: Callable[[], object], path: Path) -> str:
    try:
        load()
    except DataError as e:
        msg = str(e)
        assert "\n" not in msg, msg
        assert msg.startswith(f"{path}: "), msg
        return msg
    return ""


@pytest.mark.parametrize("rel", _files())
def test_every_data_file_rejects_an_unknown_key_and_a_wrong_type(tree: Path, rel: str) -> None:
    path = tree / rel
    original = path.read_text()
    data = tomllib.loads(original)
    load = _loader(rel, path)
    path.write_text(_dump(data))
    try:
        assert _fails(load, path) == "", "the file, re-serialised unchanged, must load"
        unknown = wrong = 0
        for table, t in _sample([(table, t) for table, t in _tables(data) if not _free(rel, table)]):
            t["zz_unknown"] = "x"
            path.write_text(_dump(data))
            del t["zz_unknown"]
            msg = _fails(load, path)
            assert "zz_unknown" in msg, f"{rel} [{table}]: an unknown key loads ({msg or 'no error'})"
            unknown += 1
        for container, key in _sample(list(_leaves(data))):
            old = container[key]
            container[key] = {"zz_wrong_type": 1}
            path.write_text(_dump(data))
            container[key] = old
            assert _fails(load, path), f"{rel}: {key!r} = a table loads"
            wrong += 1
        assert unknown + wrong > 0
    finally:
        path.write_text(original)


def test_the_walk_sees_every_kind_of_file() -> None:
    files = _files()
    assert len(files) >= 40
    for kind in ("rules/primitives.toml", "rules/families.toml", "models/s390/config.toml",
                 "models/common/layout.toml", "models/common/table-scenarios.toml", "models/s390/scenarios.toml"):
        assert kind in files
