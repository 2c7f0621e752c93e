"""What the templates see: a review's findings ordered, grouped and pre-laid-out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.findings import Finding, Report, Review
from bot.mail.addr import parse_mailbox
from bot.report.order import order
from bot.report.quote import Quote, hunk_key, quote_for, quote_group
from bot.report.table import contexts, interleaving_table
from bot.report.textutil import WIDTH, oneline
from bot.report.timeline import Timeline
from bot.report.verdict import verdict_line, verdict_state


@dataclass
class FindingView:
    f: Finding
    title: str
    quote: Quote
    table: list[str]
    contexts: list[str]
    code_run: list[tuple[str, list[int]]]  # ("file:line", step numbers that ran it), in trace order
    show_file: bool = True  # quote the file name (the previous quote was of another file)
    anchor: str = ""  # HTML id, unique in the page
    command: str = ""  # the "Reproduce with" command for this audience ("" when none)
    command_why_not: str = ""  # why there is none
    timeline: Timeline | None = None  # HTML only


@dataclass
class QuoteGroup:
    """Findings about one hunk, under one quote of it (text and email quote each hunk once)."""

    quote: Quote
    views: list[FindingView]
    show_file: bool = True


@dataclass
class ReviewView:
    review: Review
    subject: str
    author: str
    attribution: str  # "On DATE, NAME wrote:", "" when the author has no address
    date: str
    verdict: str = ""  # the one-line verdict (bot.report.verdict)
    state: str = ""  # "not relevant" | "findings" | "judged" | "not judged"
    introduced: list[FindingView] = field(default_factory=list)
    preexisting: list[FindingView] = field(default_factory=list)
    introduced_groups: list[QuoteGroup] = field(default_factory=list)
    preexisting_groups: list[QuoteGroup] = field(default_factory=list)

    @property
    def findings(self) -> list[FindingView]:
        return self.introduced + self.preexisting

    def count(self, cls: str, introduced: bool = True) -> int:
        group = self.introduced if introduced else self.preexisting
        return sum(1 for v in group if v.f.cls == cls)


def _code_run(f: Finding) -> list[tuple[str, list[int]]]:
    where: dict[str, list[int]] = {}
    for n, step in enumerate(f.trace, 1):
        if step.at:
            where.setdefault(oneline(step.at), []).append(n)
    return list(where.items())


MAX_NAME = 60  # characters of a display name in the attribution line
MAX_DATE = 64
_HEADERISH = re.compile(r"[:<>@\"\\]")  # "Reviewed-by: x <y@z>" or an address is no name to show


def author_name(author: str) -> str:
    """The display name of "Name <addr>" for the attribution line, else the address; a name that
    holds header or address syntax, or is long, gives way to the address."""
    m = parse_mailbox(author)
    if m is None:
        return ""
    name = oneline(m.name)
    return name if name and len(name) <= MAX_NAME and not _HEADERISH.search(name) else m.addr


def attribution(author: str, date: str) -> str:
    """The one "On DATE, NAME wrote:" line above the quotes. It is never wrapped and always starts
    with the bot's own words, so nothing from the mail can start a line of the reply."""
    name = author_name(author)
    if not name:
        return ""
    date = oneline(date)[:MAX_DATE]
    return f"On {date}, {name} wrote:" if date else f"On the list, {name} wrote:"


def finding_view(f: Finding, posting: Any, public: bool = False, table_width: int = WIDTH) -> FindingView:
    """public: the view goes to the list (a reply), so its command never names a local path;
    table_width: a terminal lays the interleaving out on its own width, mail on 72 columns."""
    command = f.replay_public if public else f.replay
    return FindingView(
        f=f,
        title=oneline(f.title) or oneline(f.hazard),
        quote=quote_for(f, posting),
        table=interleaving_table(f.trace, table_width),
        contexts=contexts(f.trace),
        code_run=_code_run(f),
        command=command,
        command_why_not="" if command else f.replay_why_not,
    )


def review_view(review: Review, public: bool = False, table_width: int = WIDTH) -> ReviewView:
    posting = review.posting
    rv = ReviewView(
        review=review,
        subject=oneline(review.subject or getattr(posting, "subject", "")),
        author=oneline(getattr(posting, "author", "") or ""),
        attribution=attribution(getattr(posting, "author", "") or "", getattr(posting, "date", "") or ""),
        date=oneline(getattr(posting, "date", "") or ""),
        verdict=verdict_line(review),
        state=verdict_state(review),
    )
    rv.introduced = [finding_view(f, posting, public, table_width)
                     for f in order([f for f in review.findings if f.introduced])]
    rv.preexisting = [finding_view(f, posting, public, table_width)
                      for f in order([f for f in review.findings if not f.introduced])]
    last_file = None
    for v in rv.findings:  # name the file only when the quote moves to another file
        v.show_file = v.quote.from_diff and v.quote.file != last_file
        last_file = v.quote.file if v.quote.from_diff else last_file
    rv.introduced_groups = group_by_hunk(rv.introduced, posting)
    rv.preexisting_groups = group_by_hunk(rv.preexisting, posting)
    last_file = None
    for g in rv.introduced_groups + rv.preexisting_groups:
        g.show_file = g.quote.from_diff and g.quote.file != last_file
        last_file = g.quote.file if g.quote.from_diff else last_file
    return rv


def group_by_hunk(views: list[FindingView], posting: Any) -> list[QuoteGroup]:
    """Findings in the order given, those about the same hunk gathered under its first one."""
    keyed: dict[Any, list[FindingView]] = {}
    for n, v in enumerate(views):
        keyed.setdefault(hunk_key(v.f, posting) or n, []).append(v)
    return [QuoteGroup(quote_group([v.f for v in group], posting), group) for group in keyed.values()]


def report_views(report: Report, table_width: int = WIDTH) -> list[ReviewView]:
    return [review_view(r, table_width=table_width) for r in report.reviews]
