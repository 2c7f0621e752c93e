"""Parsed C kept in the verdict cache by the text's digest, for the next process.

A model's reference, environment and scenario sources are the same text in every review, and so
are the files an earlier patch left: a one-patch process (a b4 hook's) parsed them all again,
~20 ms of tree-sitter and AST building for v1 07/12, ten times what reading them back costs. A
unit depends on the text alone and on the front end that reads it (bot.cmodel.cparse and ir,
the C grammar), which the cache's environment covers: every entry of another front end is
unreachable. Only in a process that uses a verdict cache (bot.cache.current(); never with
--no-cache); an entry that does not read back as a unit is a miss, parsed and written again.
"""

from __future__ import annotations

import hashlib

from bot import cache
from bot.cmodel.cparse import CUnit, parse_unit
from bot.cmodel.ir import NODE_TYPES, STMT_TYPES
from bot.safepickle import DataUnpickler

KIND = "cunit"


class _Unpickler(DataUnpickler):
    """bot's dataclasses, and the IR's node tuples (NamedTuples: a tuple with names, nothing more)."""

    ALSO = frozenset((t.__module__, t.__name__) for t in (*NODE_TYPES, *STMT_TYPES))


def parsed(text: str) -> CUnit:
    """parse_unit(text), read back from the cache when an earlier process parsed the same text."""
    store = cache.current()
    if store is None:
        return parse_unit(text)
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    unit = store.get_many(KIND, [key], _Unpickler)[0]
    if type(unit) is not CUnit:
        unit = parse_unit(text)
        store.put(KIND, key, unit)
    return unit
