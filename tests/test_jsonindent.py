"""The reports' indented JSON is byte for byte what json.dumps(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.report import jsonindent

_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text())
_keys = st.text() | st.integers(-1000, 1000) | st.booleans() | st.none() | st.floats(allow_nan=False)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5) | st.lists(st.text(), max_size=5)
                     | st.tuples(inner, inner) | st.dictionaries(_keys, inner, max_size=5), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_the_same_text_as_the_standard_library(data: object) -> None:
    assert jsonindent.dumps(data) == json.dumps(data, indent=2, ensure_ascii=False)


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


def test_subclasses_and_edge_values_read_as_the_standard_library_reads_them() -> None:
    data = {"enum": Level.LOW, "str": Name('a "quoted"\u2028 line'), "nan": math.nan, "neg": -math.inf,
            1.5: [], 2: {}, None: [[]], True: ("x", 1), "ctl": "\x00\x1f\u202e"}
    assert jsonindent.dumps(data) == json.dumps(data, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("bad", [{"k": object()}, {(1, 2): 1}, {"s": {1, 2}}, b"bytes"])
def test_what_json_refuses_is_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        json.dumps(bad, indent=2)
    with pytest.raises(TypeError):
        jsonindent.dumps(bad)
