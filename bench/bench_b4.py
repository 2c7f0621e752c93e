"""Benchmark: our series assembly against b4's LoreMailbox/LoreSeries on the linux-s390 2023 year.

Why: b4 is the kernel's own patch tool, and its LoreMailbox groups a thread's messages into
revisions and patches. This measures whether it would beat bot.mail where the list bot needs it:
 - time: our load (read, parse, assemble) of the year vs the stdlib parse b4 needs plus b4's
   LoreMailbox over each thread;
 - agreement: per thread, the set of (revision, patch number) of the formal patches each finds,
   with the kinds of disagreement counted.
b4 works one thread at a time: it does not link revisions posted as separate threads (v1 and v2
of pte-free-defer), which our series keys do (change-id, "Link to v1:", the title). Writes
bench/results/b4.json. Run from the repo root (b4 comes with the dev extra):
    .venv/bin/python bench/bench_b4.py
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import lzma
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import mail  # noqa: E402
from bot.mail.read import Skip, read_bytes  # noqa: E402

YEAR = REPO.parent / "shared" / "corpus" / "lists" / "linux-s390-2023.mbox.xz"
OUT = REPO / "bench" / "results" / "b4.json"
_ID = re.compile(r"<([^<>\s]+)>")


def _ids(v: object) -> list[str]:
    return _ID.findall(str(v or ""))


def main() -> int:
    try:
        import b4
    except ImportError:
        print("b4 is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    logging.getLogger("b4").setLevel(logging.CRITICAL)
    data = lzma.open(YEAR).read()

    t = time.perf_counter()
    ours = mail.load_bytes(data)
    t_ours = time.perf_counter() - t

    raws = [r for r in read_bytes(data) if not isinstance(r, Skip)]
    t = time.perf_counter()
    msgs = [email.message_from_bytes(r, policy=email.policy.EmailPolicy(utf8=True)) for r in raws]
    t_parse = time.perf_counter() - t
    root: dict[str, str] = {}
    threads: dict[str, list] = defaultdict(list)
    for m in msgs:
        mid = (_ids(m.get("Message-ID")) or [""])[0]
        refs = _ids(m.get("References")) or _ids(m.get("In-Reply-To"))
        root[mid] = refs[0] if refs else mid
        threads[root[mid]].append(m)
    t = time.perf_counter()
    theirs: dict[str, set[tuple[int, int]]] = defaultdict(set)
    errors = 0
    for r, ms in threads.items():
        try:
            lm = b4.LoreMailbox()
            for m in ms:
                lm.add_message(m)
            for rev in sorted(lm.series):
                s = lm.get_series(revision=rev, codereview_trailers=False)
                for i, p in enumerate(s.patches if s else []):
                    if p is not None and i > 0:
                        theirs[r].add((rev, i))
        except Exception:  # noqa: BLE001 - b4 raising on a thread is a result too
            errors += 1
    t_b4 = time.perf_counter() - t

    mine: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for p in ours.postings:
        if p.is_reply or p.series is None:
            continue
        mine[root.get(p.msgid, p.msgid)].add((p.series.revision, p.series.index))
    roots = set(mine) | set(theirs)
    kinds: Counter[str] = Counter()
    for r in roots:
        a, b = mine[r], theirs[r]
        if a == b:
            kinds["same"] += 1
        elif a < b:
            kinds["b4 finds more"] += 1
        elif b < a:
            kinds["ours finds more"] += 1
        else:
            kinds["different"] += 1
    linked = sum(1 for revs in ours.revisions().values() if len({s.revision for s in revs}) > 1)
    result = {
        "messages": ours.messages, "threads_with_patches": len(roots),
        "ours_seconds": round(t_ours, 2), "b4_seconds": round(t_parse + t_b4, 2),
        "b4_parse_seconds": round(t_parse, 2), "b4_mailbox_seconds": round(t_b4, 2),
        "ratio_b4_vs_ours": round((t_parse + t_b4) / t_ours, 2), "b4_errors": errors,
        "agreement": dict(kinds), "agree_share": round(kinds["same"] / max(1, len(roots)), 3),
        "series_linked_across_revisions_ours": linked,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
