"""Each message parsed once: what parse_message() made of a message's bytes, kept in the verdict cache.

parse_message() depends on nothing but the bytes (and the engine's source, which the cache's
environment holds), so its result is kept under their SHA-256: an archive scanned again, or grown
by new mail, reads its old messages back instead of parsing them (a fifth of the time). Entries are
read back through the cache's own safe unpickler; one that is not a parse result is a miss and is
parsed, and stored, again. Lookups and stores go in batches, which bounds the memory they hold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Protocol

from bot.mail.parse import Parsed, parse_message
from bot.mail.read import Skip

KIND = "mail"  # the entries' kind in the cache, beside its scenario and review entries
BATCH = 256  # messages looked up, and stored, at once

Item = bytes | Skip  # what the reader yields: a raw message, or why one was not read
Result = Parsed | Skip | None  # parse_message() of a raw message; None for a reader's Skip


class Store(Protocol):
    """The part of bot.cache.VerdictCache used here."""

    def get_many(self, kind: str, keys: list[str]) -> list[Any | None]: ...

    def put_many(self, kind: str, items: Iterable[tuple[str, Any]]) -> None: ...


def parsed(items: Iterable[Item], store: Store | None = None) -> Iterator[tuple[Item, Result]]:
    """(item, its parse) for every item, in order; with a store, each message parsed at most once."""
    if store is None:
        yield from ((item, parse_message(item) if isinstance(item, bytes) else None) for item in items)
        return
    it = iter(items)
    while batch := list(islice(it, BATCH)):
        raws = [item for item in batch if isinstance(item, bytes)]
        keys = [hashlib.sha256(raw).hexdigest() for raw in raws]
        looked_up = iter(zip(keys, store.get_many(KIND, keys)))
        results: list[Result] = []
        new: list[tuple[str, Result]] = []
        for item in batch:
            if not isinstance(item, bytes):
                results.append(None)
                continue
            key, got = next(looked_up)
            if not isinstance(got, Parsed | Skip):
                got = parse_message(item)
                new.append((key, got))
            results.append(got)
        store.put_many(KIND, new)  # before anyone sees them: what is stored is the parse as made
        yield from zip(batch, results)
