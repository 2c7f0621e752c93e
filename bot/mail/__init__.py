"""The mail stage: read an archive, parse each message, assemble series.

    load(path, msgid=None) -> LoadResult        everything at once
    iter_load(path, ..., progress=cb)          the same, streaming, for scan
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bot.mail.memo import Item, Result, Store, parsed, parsed_side_by_side
from bot.mail.parse import Parsed
from bot.mail.read import InputError, Limits, Skip, read_bytes, read_path
from bot.mail.series import Cover, Series, assemble, by_key
from bot.patch import Posting

__all__ = ["InputError", "LoadResult", "Limits", "Series", "iter_load", "load", "load_bytes"]


MAX_SKIP_RECORDS = 100  # skip records kept as examples; the rest are counted in one more record


@dataclass
class LoadResult:
    messages: int = 0
    postings: list[Posting] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    covers: list[Cover] = field(default_factory=list)
    skip_kinds: Counter[str] = field(default_factory=Counter)  # every skip, by the words before its ":"
    parents: dict[str, str | None] | None = None  # Message-ID → parent, for every message, when asked for

    def revisions(self) -> dict[str, list[Series]]:
        """Series key → its revisions, oldest first."""
        return by_key(self.series)

    def posting(self, msgid: str) -> Posting | None:
        msgid = msgid.strip().strip("<>")
        return next((p for p in self.postings if p.msgid == msgid), None)

    def skip(self, record: dict[str, str]) -> None:
        """Count a skip; keep it as an example while there are few. Past MAX_SKIP_RECORDS one last
        record counts the rest ("count"), so a flood of bad messages costs no memory."""
        self.skip_kinds[record["reason"].split(":", 1)[0][:80]] += 1
        if len(self.skipped) < MAX_SKIP_RECORDS:
            self.skipped.append(record)
            return
        if len(self.skipped) == MAX_SKIP_RECORDS:
            self.skipped.append({"msgid": "", "reason": "", "count": "0"})
        rest = int(self.skipped[-1]["count"]) + 1
        kinds = ", ".join(f"{n} x {k}" for k, n in self.skip_kinds.most_common(5))
        self.skipped[-1] = {"msgid": "", "reason": f"{rest} more skipped messages not listed (of all skips: "
                            f"{kinds})", "count": str(rest)}


def iter_load(
    path: str,
    result: LoadResult | None = None,
    progress: Callable[[int], None] | None = None,
    limits: Limits | None = None,
    store: Store | None = None,
    jobs: int = 1,
    open_store: Callable[[], Store | None] | None = None,
) -> Iterator[Posting]:
    """Yield postings as they are read, filling `result` (messages, skipped, covers) on the way;
    store: where each message's parse is kept and looked up (bot.mail.memo), the result is the same.
    With jobs > 1 and open_store (a store connection of the calling process's own), a file of
    SIDE_BY_SIDE_BYTES or more is parsed on jobs processes into the store (memo.parsed_side_by_side).

    Series are assembled (and each posting's SeriesInfo completed) when the input ends,
    since a cover may arrive after its patches.
    """
    res = result if result is not None else LoadResult()
    if store is not None and open_store is not None and jobs > 1 and _big_file(path):
        items = parsed_side_by_side(lambda: read_path(path, limits), store, open_store, jobs)
    else:
        items = parsed(read_path(path, limits), store)
    yield from _consume(items, res, progress)


SIDE_BY_SIDE_BYTES = 8 << 20  # below this (a thread, a month of a list) a helper costs more than it saves


def _big_file(path: str) -> bool:
    try:
        return path != "-" and os.path.isfile(path) and os.path.getsize(path) >= SIDE_BY_SIDE_BYTES
    except OSError:
        return False


def _consume(items: Iterable[tuple[Item, Result]], res: LoadResult,
             progress: Callable[[int], None] | None) -> Iterator[Posting]:
    for item, result in items:
        if isinstance(item, Skip):
            res.skip(item.as_dict())
            if item.reason.startswith(("too large", "input ends inside", "parse error")):
                res.messages += 1  # it was a message, just not a usable one
            continue
        res.messages += 1
        if isinstance(result, Skip):
            res.skip(result.as_dict())
        elif isinstance(result, Parsed):
            if res.parents is not None:
                res.parents[result.msgid] = result.in_reply_to or (result.references[-1:] or [None])[0]
            if result.cover is not None:
                res.covers.append(result.cover)
            if result.posting is not None:
                res.postings.append(result.posting)
                yield result.posting
        if progress is not None:
            progress(res.messages)
    res.series = assemble(res.postings, res.covers)


def load(path: str, msgid: str | None = None, limits: Limits | None = None,
         progress: Callable[[int], None] | None = None) -> LoadResult:
    """Read everything in path ("-" is stdin). With msgid, keep only that posting, or the
    postings of the series whose cover it is. Raises InputError for unreadable input."""
    res = LoadResult()
    for _ in iter_load(path, res, progress, limits):
        pass
    return _select(res, msgid) if msgid else res


def load_bytes(data: bytes, limits: Limits | None = None, parents: bool = False, name: str = "bytes") -> LoadResult:
    """Like load(), from bytes in memory; parents: also the reply structure of every message;
    name: the input as errors name it."""
    res = LoadResult(parents={} if parents else None)
    for _ in _consume(parsed(read_bytes(data, limits, name)), res, None):
        pass
    return res


def _select(res: LoadResult, msgid: str) -> LoadResult:
    mid = msgid.strip().strip("<>")
    keep = [p for p in res.postings if p.msgid == mid or (p.series and p.series.cover == mid)]
    res.postings = keep
    return res
