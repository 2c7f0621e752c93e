"""`review-bot scan`: triage a whole archive — which postings touch modeled call sites, and their findings."""

from __future__ import annotations

import gc
import sys

from bot import cache, pool
from bot.commands import Origin
from bot.findings import Report, Review
from bot.mail import LoadResult, iter_load
from bot.patch import Posting
from bot.pipeline import Options, review_postings
from bot.progress import Status

# The archive stays loaded until the end: the postings read so far are moved out of the cycle
# collector's sight every so many, or each collection would walk all of them again (a fifth of
# the load), and so would every collection while judging (and touch the pages forked workers share).
FREEZE_EVERY = 200


def review(postings: list[Posting], origin: Origin | None = None, status: Status | None = None,
           options: Options | None = None) -> list[Review]:
    """The judgement stage over every posting of the archive (each series is the context of its
    patches); `origin` is where the replay commands read them again."""
    opts = options or Options()
    if origin is not None:
        opts.origin = origin
    if status is not None:
        status.begin_judging(len(postings))
    return review_postings(postings, opts, context=postings,
                           on_review=(lambda r: status.judged_one(r.relevant)) if status else None)


def scan_full(path: str, progress: bool = False, options: Options | None = None,
              origin: Origin | None = None) -> tuple[Report, LoadResult]:
    """Load (streaming) and review; the LoadResult is returned too, for summarize().
    With `progress`, a status line on stderr when it is a terminal (reading, then judging)."""
    res = LoadResult()
    status = Status(sys.stderr, "scan") if progress else None
    opts = options or Options()
    store = cache.for_options(opts)  # an archive scanned again is not parsed again
    # a big archive is parsed on every core the judgement will use, into the store
    jobs = pool.jobs_for(opts, sys.maxsize)
    try:  # series (and so SeriesInfo) are complete only at the end of the input
        for n, _ in enumerate(iter_load(path, res, status.reading if status else None, store=store, jobs=jobs,
                                        open_store=lambda: cache.for_options(opts)), 1):
            if n % FREEZE_EVERY == 0:
                gc.freeze()
        gc.freeze()
        reviews = review(res.postings, origin or Origin("mbox", path=path), status, options)
    except BaseException:
        if status is not None:
            status.stop()  # the error, not a stale status line, is the last thing on the screen
        raise
    finally:
        gc.unfreeze()
    if status is not None:
        relevant = sum(1 for r in reviews if r.relevant)
        status.finish(f"{res.messages} messages, {len(reviews)} postings judged, {relevant} relevant")
    return Report(messages=res.messages, skipped=res.skipped, reviews=reviews), res


def scan(path: str, progress: bool = False, options: Options | None = None, origin: Origin | None = None) -> Report:
    return scan_full(path, progress, options, origin)[0]


def summarize(report: Report, load_result: LoadResult) -> str:
    """A human summary of a scan: what was read, what was skipped and why, what is relevant."""
    res = load_result
    replies = sum(1 for p in res.postings if p.is_reply)
    covered = sum(1 for s in res.series if s.cover is not None)
    lines = [
        f"messages read: {res.messages}",
        f"patch postings: {len(res.postings) - replies} (+ {replies} diffs inside replies)",
        f"series: {len(res.series)} ({covered} with a cover letter, {len(res.revisions())} distinct "
        f"series across revisions)",
        f"skipped: {sum(res.skip_kinds.values())}",
    ]
    for reason, n in res.skip_kinds.most_common():
        lines.append(f"  {n} x {reason}")
    relevant = [r for r in report.reviews if r.relevant]
    lines.append(f"postings touching modeled call sites: {len(relevant)}")
    for r in relevant:
        nf = len(r.correctness)
        lines.append(f"  <{r.msgid}> {r.subject}")
        if r.modeled:
            lines.append(f"    modeled: {', '.join(r.modeled)}")
        lines.append(f"    correctness findings: {nf}; other findings: {len(r.findings) - nf}")
    return "\n".join(lines) + "\n"
