"""Each message parsed once: what parse_message() made of a message's bytes, kept in the verdict cache.

parse_message() depends on nothing but the bytes (and the engine's source, which the cache's
environment holds), so its result is kept under their SHA-256: an archive scanned again, or grown
by new mail, reads its old messages back instead of parsing them (a fifth of the time). Entries are
read back through the cache's own safe unpickler; one that is not a parse result is a miss and is
parsed, and stored, again. Lookups and stores go in batches, which bounds the memory they hold.
"""

from __future__ import annotations

import gc
import hashlib
import signal
from collections.abc import Callable, Iterable, Iterator
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
    for _b, batch in _batches(items):
        yield from zip(batch, _parse_batch(batch, store)[0])


def parsed_side_by_side(open_items: Callable[[], Iterable[Item]], store: Store,
                        open_store: Callable[[], Store | None], jobs: int) -> Iterator[tuple[Item, Result]]:
    """parsed(open_items(), store), with jobs - 1 forked helpers parsing every jobs-th batch into
    the store meanwhile: each reads the same items (the same batches), parses and stores its own
    and says so; this process parses the other batches and reads the helpers' back, which costs
    a quarter of parsing them (the result is the same: what a load reads back is what was stored).
    A batch a helper has not stored (it failed, or the store refused it) is parsed here. When the
    first batch is stored whole (the archive was scanned before), no helper starts: reading back
    is all there is to do, and a helper would only read back the same batches again."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    helpers: list[_Helper] = []
    try:
        for b, batch in _batches(open_items()):
            k = b % jobs if helpers else 0
            # a helper's batch already stored (an archive grown by new mail) is not waited for
            wait = (lambda h=helpers[k - 1], b=b: h.wait_for(b)) if k else None
            results, parsed_here = _parse_batch(batch, store, wait)
            yield from zip(batch, results)
            if b == 0 and parsed_here:
                for k in range(1, jobs):
                    got, said = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_help, args=(open_items, open_store, k, jobs, said), daemon=True)
                    proc.start()
                    said.close()
                    helpers.append(_Helper(proc, got))
    finally:
        for h in helpers:
            h.stop()


class _Helper:
    """A forked helper and the pipe on which it names each batch it has stored."""

    def __init__(self, proc: Any, got: Any) -> None:
        self.proc, self.got, self.done = proc, got, -1

    def wait_for(self, batch: int) -> None:
        """Until the helper has stored this batch, or has ended (then what it stored is read back)."""
        while self.done < batch and self.got is not None:
            try:
                self.done = self.got.recv()
            except (EOFError, OSError):
                self.got = None

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()  # the load ended early (an error, a closed generator)
        self.proc.join()
        if self.got is not None:
            self.got.close()


def _help(open_items: Callable[[], Iterable[Item]], open_store: Callable[[], Store | None], k: int, jobs: int,
          said: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C reaches the process group: the parent answers it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and ends this one when it must
    gc.freeze()  # the parent's objects stay untouched (shared pages); each batch's parse is freed by refcount
    store = open_store()  # a connection of this process's own
    if store is None:
        return
    for b, batch in _batches(open_items()):
        if b % jobs == k:
            _parse_batch(batch, store)
            said.send(b)
    said.close()


def _batches(items: Iterable[Item]) -> Iterator[tuple[int, list[Item]]]:
    it = iter(items)
    b = 0
    while batch := list(islice(it, BATCH)):
        yield b, batch
        b += 1


def _parse_batch(batch: list[Item], store: Store,
                 wait: Callable[[], None] | None = None) -> tuple[list[Result], int]:
    """Each item's parse: looked up, else parsed and stored; with how many were parsed. wait: when
    some are not stored yet, what to wait for before they are looked up again (another process
    storing them)."""
    raws = [item for item in batch if isinstance(item, bytes)]
    keys = [hashlib.sha256(raw).hexdigest() for raw in raws]
    found = store.get_many(KIND, keys)
    missing = [j for j, got in enumerate(found) if not isinstance(got, Parsed | Skip)]
    if missing and wait is not None:
        wait()
        for j, got in zip(missing, store.get_many(KIND, [keys[j] for j in missing])):
            found[j] = got
    looked_up = iter(zip(keys, found))
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
    return results, len(new)
