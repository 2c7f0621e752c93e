"""json.dumps(data, indent=2, ensure_ascii=False), the same text, written about twice as fast.

With an indent the standard library encodes in Python through a generator per nesting level;
a year's scan report is millions of tokens. This writes each value straight into one list,
leaving strings to the C escaper. Containers of other types than dict, list and tuple, and keys
other than str, int, float, bool and None, are TypeErrors, as in json.dumps.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C escaper json.dumps uses when ensure_ascii=False
from typing import Any

STEP = "  "


def dumps(data: Any) -> str:
    out: list[str] = []
    _value(data, "", out)
    return "".join(out)


def _float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


def _key(k: Any) -> str:
    if isinstance(k, str):
        return encode_basestring(k)
    if k is True or k is False or k is None:
        return '"' + {True: "true", False: "false", None: "null"}[k] + '"'
    if isinstance(k, int):
        return '"' + int.__repr__(k) + '"'
    if isinstance(k, float):
        return '"' + _float(k) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _value(o: Any, pad: str, out: list[str]) -> None:  # noqa: C901 - one dispatch on the JSON types
    t = type(o)
    if t is str:
        out.append(encode_basestring(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(o))
    elif t is float:
        out.append(_float(o))
    elif t is dict:
        _object(o, pad, out)
    elif t is list or t is tuple:
        _array(o, pad, out)
    elif isinstance(o, str):
        out.append(encode_basestring(o))
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, dict):
        _object(o, pad, out)
    elif isinstance(o, (list, tuple)):
        _array(o, pad, out)
    else:
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _object(o: dict, pad: str, out: list[str]) -> None:
    if not o:
        out.append("{}")
        return
    inner = pad + STEP
    sep = "{\n" + inner
    for k, v in o.items():
        out.append(sep)
        out.append(_key(k))
        out.append(": ")
        _value(v, inner, out)
        sep = ",\n" + inner
    out.append("\n" + pad + "}")


def _array(o: list | tuple, pad: str, out: list[str]) -> None:
    if not o:
        out.append("[]")
        return
    inner = pad + STEP
    if all(type(v) is str for v in o):  # lists of names, notes, lines: escaped and joined at C speed
        out.append("[\n" + inner + (",\n" + inner).join(map(encode_basestring, o)) + "\n" + pad + "]")
        return
    sep = "[\n" + inner
    for v in o:
        out.append(sep)
        _value(v, inner, out)
        sep = ",\n" + inner
    out.append("\n" + pad + "]")
