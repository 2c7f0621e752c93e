"""Inputs shared by the cache and pool tests: the three threads and a slice of the 2023 year."""

from __future__ import annotations

import bisect
import json
import lzma
import re
from pathlib import Path

from bot.commands import Origin
from bot.mail import load
from bot.options import Options
from bot.pipeline import review_postings
from tests import corpus

SLICE = 400  # messages of the year around the first one that changes pte_free_defer()
_FROM = re.compile(rb"^From \S+ .*$", re.M)


def year_slice(dest: Path) -> Path:
    """An mbox of SLICE consecutive messages of the 2023 year, starting a quarter before the first
    message whose diff adds pte_free_defer (so the slice holds judged postings and plain traffic)."""
    data = lzma.decompress(corpus.year().read_bytes())
    starts = [m.start() for m in _FROM.finditer(data)]
    hit = re.search(rb"\n\+[^\n]*pte_free_defer\(", data)
    assert hit is not None, "no message of the year adds a pte_free_defer() call"
    first = bisect.bisect_right(starts, hit.start()) - 1
    lo = max(0, first - SLICE // 4)
    hi = min(len(starts), lo + SLICE)
    out = dest / "year-slice.mbox"
    out.write_bytes(data[starts[lo]:starts[hi] if hi < len(starts) else None])
    return out


def review_json(path: Path, **options: object) -> str:
    """check --mbox PATH as JSON: every posting of the file, reviewed with the file as context."""
    res = load(str(path))
    opts = Options(origin=Origin("mbox", path=str(path)), **options)  # type: ignore[arg-type]
    reviews = review_postings(res.postings, opts, context=res.postings)
    return json.dumps([r.to_json() for r in reviews], indent=1, sort_keys=True)


def inputs(tmp: Path) -> dict[str, Path]:
    out = {f"v{n}": corpus.thread(n) for n in (1, 2, 3)}
    out["2023-slice"] = year_slice(tmp)
    return out
