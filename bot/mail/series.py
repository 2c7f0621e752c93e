"""Subject prefixes → SeriesInfo, trailers, and assembly of series (cover, n/m, vN, key).

Own code rather than b4.LoreMessage: b4 builds a whole LoreMessage (all headers, body,
trailers, attestation) per message, which costs more than our entire parse, and its
subject parser has no notion of "[PATCH v3 07/13 fix]" or "[BUG] Re: [PATCH ...]".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.patch import Posting, SeriesInfo

_REPLY = re.compile(r"(?i)^(re|aw|sv|antw|fwd|odp)\s*(\[\d+\])?\s*:\s*")
_BRACKET = re.compile(r"^\[([^\]]*)\]\s*")
_NM = re.compile(r"^(\d{1,4})/(\d{1,4})$")
_VER = re.compile(r"(?i)^v(\d{1,4})$")
_PATCHV = re.compile(r"(?i)^(patch|rfc)v(\d{1,4})$")  # "[PATCHv2 3/5]"
_WS = re.compile(r"\s+")


@dataclass
class Subject:
    title: str  # subject with every prefix removed, whitespace collapsed
    is_reply: bool = False
    is_patch: bool = False  # a [PATCH ...] / [RFC ...] prefix was present
    rfc: bool = False
    revision: int | None = None  # None when the subject has no vN
    index: int | None = None
    total: int | None = None
    extra: list[str] = field(default_factory=list)

    def info(self) -> SeriesInfo:
        return SeriesInfo(cover=None, revision=self.revision or 1,
                          index=self.index if self.index is not None else 1,
                          total=self.total if self.total is not None else 1,
                          key=title_key(self.title), rfc=self.rfc, extra=list(self.extra))


def parse_subject(subject: str) -> Subject:
    """Parse reply markers and bracketed prefixes anywhere before the title. Never raises."""
    s = _WS.sub(" ", subject).strip()
    out = Subject(title="")
    for _ in range(20):  # bound the loop: "Re: Re: [x] [y] Re: ..." chains are finite
        m = _REPLY.match(s)
        if m:
            out.is_reply = True
            s = s[m.end():]
            continue
        m = _BRACKET.match(s)
        if not m:
            break
        words = m.group(1).replace(",", " ").split()
        upper = [w.upper() for w in words]
        if any(w in ("PATCH", "RFC") or _PATCHV.match(w) for w in upper):
            _patch_words(words, out)
        else:
            out.extra.extend(words)  # "[BUG]", "[GIT PULL]"
        s = s[m.end():]
    out.title = s.strip()
    return out


def _patch_words(words: list[str], out: Subject) -> None:
    for w in words:
        u = w.upper()
        if u == "PATCH":
            out.is_patch = True
        elif u == "RFC":
            out.is_patch = out.rfc = True
        elif m := _PATCHV.match(w):
            out.is_patch = True
            out.rfc = out.rfc or m.group(1).upper() == "RFC"
            out.revision = int(m.group(2))
        elif m := _VER.match(w):
            out.revision = int(m.group(1))
        elif (m := _NM.match(w)) and out.index is None:
            out.index, out.total = int(m.group(1)), int(m.group(2))
        else:
            out.extra.append(w)


def title_key(title: str) -> str:
    """Normalised title: the revision-independent identity of a series without change-id."""
    return "subject:" + _WS.sub(" ", title).strip().lower()


# --- trailers -------------------------------------------------------------------------------

TRAILER_NAMES = ("Signed-off-by", "Reviewed-by", "Acked-by", "Tested-by", "Reported-by", "Suggested-by",
                 "Co-developed-by", "Fixes", "Link", "Closes", "Cc", "change-id", "base-commit",
                 "prerequisite-change-id", "prerequisite-patch-id", "prerequisite-message-id")
_TRAILER = re.compile(r"(?im)^(" + "|".join(re.escape(n) for n in TRAILER_NAMES) + r")[ \t]*:[ \t]*(\S.*?)\s*$")
_CANON = {n.lower(): n for n in TRAILER_NAMES}
_DIFF_START = re.compile(r"(?m)^(diff --git |--- a/|---\s*$)")
_ANYWHERE = ("change-id", "base-commit", "prerequisite-change-id", "prerequisite-patch-id",
             "prerequisite-message-id")


def parse_trailers(body: str) -> list[tuple[str, str]]:
    """Trailers of a commit message or cover letter, in order.

    Review/commit trailers are read only above the first "---" / diff (a diff's own lines
    can look like trailers); b4's base-commit / change-id footers are read anywhere.
    """
    m = _DIFF_START.search(body)
    head = body[: m.start()] if m else body
    out = [(_CANON[k.lower()], v) for k, v in _TRAILER.findall(head)]
    if m:
        for k, v in _TRAILER.findall(body[m.start():]):
            if k.lower() in _ANYWHERE:
                out.append((_CANON[k.lower()], v))
    return out


def trailer(trailers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in trailers:
        if k.lower() == name.lower():
            return v
    return None


# --- assembly ----------------------------------------------------------------------------------

_LINK_TO_V = re.compile(r"(?im)^\s*-?\s*(?:link to )?v\d+\s*:\s*\S*?/([^/\s]+@[^/\s]+?)/?\s*$")


@dataclass
class Cover:
    """What assembly needs from a cover letter (it carries no diff, so it is not a Posting)."""

    msgid: str
    subject: str
    date: str
    trailers: list[tuple[str, str]] = field(default_factory=list)
    prior: list[str] = field(default_factory=list)  # msgids of earlier revisions ("Link to v1: ...")


@dataclass
class Series:
    key: str
    revision: int
    title: str
    total: int
    cover: Cover | None = None
    root: str = ""  # cover msgid, or the thread root the patches hang from
    patches: dict[int, Posting] = field(default_factory=dict)  # index → the formal posting
    followups: list[Posting] = field(default_factory=list)  # "[PATCH v3 07/13 fix]", reposts, reply diffs
    rfc: bool = False

    @property
    def missing(self) -> list[int]:
        return [i for i in range(1, self.total + 1) if i not in self.patches]

    @property
    def base_commit(self) -> str | None:
        return trailer(self.cover.trailers, "base-commit") if self.cover else None


def cover_from(msgid: str, subject: str, date: str, body: str) -> Cover:
    tr = parse_trailers(body)
    prior = [m.strip("<>") for m in _LINK_TO_V.findall(body)]
    return Cover(msgid=msgid, subject=subject, date=date, trailers=tr, prior=prior)


def assemble(postings: list[Posting], covers: list[Cover]) -> list[Series]:
    """Group postings under covers (or thread roots), fill each posting's SeriesInfo, link revisions.

    A patch belongs to the cover found in its References/In-Reply-To; a patch without
    a vN inherits the cover's revision (e.g. "[PATCH mm 12/13]" inside a v3 thread).
    """
    by_cover = {c.msgid: c for c in covers}
    series: dict[str, Series] = {}
    for c in covers:
        sub = parse_subject(c.subject)
        ck = trailer(c.trailers, "change-id")
        key = f"change-id:{ck}" if ck else title_key(sub.title)
        series[c.msgid] = Series(key=key, revision=sub.revision or 1, title=sub.title,
                                 total=sub.total or 0, cover=c, root=c.msgid, rfc=sub.rfc)
    _link_revisions(series)
    patch_roots = {p.msgid: p for p in postings if not p.is_reply}
    for p in postings:
        sub = parse_subject(p.subject)
        thread = [*p.references, *([p.in_reply_to] if p.in_reply_to else [])]
        cover_id = next((m for m in thread if m in by_cover), None)
        if cover_id is not None:
            s = series[cover_id]
        else:
            root = thread[0] if thread and thread[0] in patch_roots else p.msgid
            s = series.get(root) or _root_series(root, patch_roots.get(root, p), series)
        info = SeriesInfo(cover=s.cover.msgid if s.cover else None,
                          revision=sub.revision or s.revision,
                          index=sub.index if sub.index is not None else (1 if not p.is_reply else 0),
                          total=sub.total if sub.total is not None else max(s.total, 1),
                          key=s.key, rfc=sub.rfc or s.rfc, extra=list(sub.extra))
        p.series = info
        if p.is_reply or info.extra or info.index in s.patches or info.index == 0:
            s.followups.append(p)
        else:
            s.patches[info.index] = p
    return sorted(series.values(), key=lambda s: (s.key, s.revision, s.root))


def _root_series(root: str, first: Posting, series: dict[str, Series]) -> Series:
    """A series without a cover: the thread root patch (1/n, or a lone patch) names it."""
    sub = parse_subject(first.subject)
    s = Series(key=title_key(sub.title), revision=sub.revision or 1, title=sub.title,
               total=sub.total or 1, root=root, rfc=sub.rfc)
    series[root] = s
    return s


def _link_revisions(series: dict[str, Series]) -> None:
    """Covers that point at an earlier revision ("Link to v1: .../msgid") share its key."""
    for s in sorted(series.values(), key=lambda s: s.revision):
        for prior in s.cover.prior if s.cover else []:
            if prior in series and series[prior].key != s.key:
                old = s.key
                for t in series.values():
                    if t.key == old:
                        t.key = series[prior].key


def by_key(series: list[Series]) -> dict[str, list[Series]]:
    """Revisions of each series, oldest first."""
    out: dict[str, list[Series]] = {}
    for s in series:
        out.setdefault(s.key, []).append(s)
    for v in out.values():
        v.sort(key=lambda s: (s.revision, s.cover.date if s.cover else ""))
    return out
