"""C-aware call-site mapping: the lifetime-relevant operations of a patch, with file:line evidence.

    analyze(posting) -> SiteMap    (of the C diffs that can hold a site that counts: bot/sites/needs.py)
        .functions   name -> FunctionSites (post-image ops in program order, callbacks, unknown calls)
        .relevant    whether the patch's added/removed code touches modeled call sites
        .reasons     why, one line each, "file:line: ..." evidence
        .modeled     "file:function" for every touched function holding modeled sites
        .file_scope_reasons  the reasons found outside any function (declarations, macros)

What counts is data (rules/callsites.toml); decisions use code only, never subject or author.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.patch import FileDiff, Posting
from bot.sites.extract import Op, extract
from bot.sites.needs import site_files
from bot.sites.postimage import FILE_SCOPE, FunctionImage, file_images
from bot.sites.rules import CallsiteRules, load

__all__ = ["FunctionSites", "Op", "SiteMap", "analyze", "analyze_files"]


@dataclass
class FunctionSites:
    name: str  # FILE_SCOPE ("") for code outside functions
    file: str
    complete: bool  # the whole body is visible in the hunks
    ops: list[Op] = field(default_factory=list)  # post-image, program order
    callbacks: list[str] = field(default_factory=list)  # functions this one passes to call_rcu & co
    unknown_calls: list[str] = field(default_factory=list)
    removed_ops: list[Op] = field(default_factory=list)  # pre-image ops on removed lines
    changed_lines: list[int] = field(default_factory=list)  # post-image lines with changed code
    removed_lines: list[int] = field(default_factory=list)  # pre-image lines with removed code
    guards: list[str] = field(default_factory=list)  # enclosing #ifdef lines

    @property
    def key(self) -> str:
        return f"{self.file}:{self.name}"

    @property
    def changed(self) -> bool:
        return bool(self.changed_lines or self.removed_lines)

    def calls(self, name: str | None = None) -> list[Op]:
        return [o for o in self.ops if o.kind == "call" and (name is None or o.name == name)]


@dataclass
class SiteMap:
    functions: dict[str, FunctionSites] = field(default_factory=dict)
    file_scope: list[FunctionSites] = field(default_factory=list)
    relevant: bool = False
    reasons: list[str] = field(default_factory=list)
    modeled: list[str] = field(default_factory=list)
    file_scope_reasons: list[str] = field(default_factory=list)  # reasons outside any function

    def callback(self, name: str) -> FunctionSites | None:
        """The body of a callback function when the patch shows it."""
        return self.functions.get(name)

    def all(self) -> list[FunctionSites]:
        return list(self.functions.values()) + self.file_scope


def _sites(img: FunctionImage, rules: CallsiteRules, local: frozenset[str]) -> FunctionSites:
    ops = extract(img, rules, local)
    cbs = list(dict.fromkeys(c for o in ops for c in o.callbacks))
    unknown = list(dict.fromkeys(o.name for o in ops if o.kind == "unknown"))
    return FunctionSites(img.name, img.file, img.complete, ops, cbs, unknown,
                         changed_lines=img.changed_code_lines(), guards=img.guards)


def analyze_files(files: list[FileDiff], rules: CallsiteRules | None = None) -> SiteMap:
    rules = rules or load()
    new = [img for fd in files for img in file_images(fd, "new")]
    old = [img for fd in files for img in file_images(fd, "old")]
    local = frozenset(i.name for i in new + old if i.name != FILE_SCOPE)
    sm = SiteMap()
    by_key: dict[str, FunctionSites] = {}
    for img in new:
        fs = _sites(img, rules, local)
        by_key[fs.key] = fs
        if img.name == FILE_SCOPE:
            sm.file_scope.append(fs)
        else:  # name collisions across files (generic and arch pte_free_defer) get "file:name"
            sm.functions[img.name if img.name not in sm.functions else fs.key] = fs
    for img in old:
        pre = _sites(img, rules, local)
        fs = by_key.get(pre.key)
        if fs is None:  # removed entirely: keep it visible, with no post-image ops
            fs = FunctionSites(img.name, img.file, False, guards=img.guards)
            (sm.file_scope.append(fs) if img.name == FILE_SCOPE else
             sm.functions.__setitem__(img.name if img.name not in sm.functions else fs.key, fs))
            by_key[fs.key] = fs
        fs.removed_ops = [o for o in pre.ops if o.added]
        fs.removed_lines = img.changed_code_lines()
    _judge(sm, rules)
    return sm


def analyze(posting: Posting, rules: CallsiteRules | None = None) -> SiteMap:
    """The call-site map a review reads: of the posting's C diffs that can hold a site that counts
    (bot/sites/needs.py); the others are not parsed. analyze_files() maps every file it is given."""
    rules = rules or load()
    return analyze_files(site_files(posting.files, rules), rules)


def _counts(op: Op, fs: FunctionSites, rules: CallsiteRules) -> bool:
    """A changed op is a reason when its rule says so, here (scope: file paths, modeled functions)."""
    if op.relevance == "always":
        return True
    return op.relevance == "in-scope" and (rules.in_scope(fs.file) or fs.name in rules.modeled)


def _judge(sm: SiteMap, rules: CallsiteRules) -> None:
    for fs in sm.all():
        why: list[str] = []
        if fs.name in rules.modeled and fs.changed:
            lines = fs.changed_lines or fs.removed_lines
            why.append(f"{fs.file}:{lines[0]}: code of modeled function {fs.name}() changed")
        for op, verb in [(o, "adds") for o in fs.ops] + [(o, "removes") for o in fs.removed_ops]:
            if op.added and op.kind in ("call", "field") and _counts(op, fs, rules):
                what = f"{op.name}()" if op.kind == "call" else f"field {op.args[0]}"
                where = fs.name + "()" if fs.name else "file scope"
                why.append(f"{op.where()}: {verb} {what} [{op.category}] in {where}")
        if why:
            sm.reasons += why
            if fs.name != FILE_SCOPE:
                sm.modeled.append(fs.key)
            else:
                sm.file_scope_reasons += why
    sm.relevant = bool(sm.reasons)
