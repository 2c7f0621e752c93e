"""Data types of the mail stage: a patch posting and the diff it carries.

Everything downstream (call sites, models, reports) consumes these types only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(unsafe_hash=True)  # hashable like a frozen one, built three times faster: a year of mail
class HunkLine:  # parses into 300k of them. Nothing changes one once made
    tag: str  # " " context, "+" added, "-" removed
    text: str  # without the leading tag character and without the newline
    old_no: int | None  # line number in the pre-image (None for "+")
    new_no: int | None  # line number in the post-image (None for "-")


@dataclass
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # text after the second "@@" (git's function-name hint), may be ""
    lines: list[HunkLine] = field(default_factory=list)

    def pre_image(self) -> list[HunkLine]:
        return [ln for ln in self.lines if ln.tag != "+"]

    def post_image(self) -> list[HunkLine]:
        return [ln for ln in self.lines if ln.tag != "-"]


@dataclass
class FileDiff:
    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False  # "Binary files ... differ" / "GIT binary patch": no hunks to read
    notes: list[str] = field(default_factory=list)  # parse repairs: truncated or skipped hunks

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


@dataclass
class SeriesInfo:
    cover: str | None  # Message-ID of the cover letter (without <>) when known
    revision: int  # 1 when the subject has no vN
    index: int  # n of [PATCH n/m]; 0 for a cover letter; 1 for a lone patch
    total: int  # m of [PATCH n/m]; 1 for a lone patch
    key: str = ""  # stable identity of the series across revisions
    rfc: bool = False  # [RFC PATCH ...]
    extra: list[str] = field(default_factory=list)  # other prefix words: "fix", "mm", "RESEND", "net-next"


@dataclass
class Posting:
    """One message that carries a patch (a formal posting or a diff inside a reply)."""

    msgid: str  # without <>
    subject: str
    author: str  # "Name <addr>" as in From:
    to: list[str]
    cc: list[str]
    date: str
    in_reply_to: str | None
    references: list[str]
    series: SeriesInfo | None
    body: str  # the plain-text body (commit message + diff), decoded
    files: list[FileDiff] = field(default_factory=list)
    is_reply: bool = False  # a diff pasted inside a "Re:" message
    list_ids: list[str] = field(default_factory=list)
    trailers: list[tuple[str, str]] = field(default_factory=list)
    commit: str | None = None  # the commit this posting was made from (check --git), when known
    parent: str | None = None  # that commit's first parent (None for a root commit)  # ("Fixes", "abc123 (...)"), ...
