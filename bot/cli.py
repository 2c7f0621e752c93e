"""The `review-bot` command line: check, scan, explore, watch, status.

Exit codes (docs/architecture.md, README): 0 judged clean or nothing relevant, 1 at least one
correctness finding, 2 bad usage or unreadable input, reported as exactly one line on stderr (a
traceback only with --debug), 3 with --strict: a relevant patch was not judged.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bot import __version__
from bot.datafile import DataError

PROG = "review-bot"
FORMATS = ("text", "email", "json", "sarif", "html", "checkpatch", "b4-review")
EXPLORE_FORMATS = ("text", "json")
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NOT_JUDGED = 0, 1, 2, 3
# Allocations between two young-generation collections. A review allocates millions of short-lived
# tuples and dicts that hold no cycles: at Python's 700, collecting them was ~5% of a one-patch check.
# This is the command's own setting (the mail parse, the report); judging raises it further while it
# runs (bot.pipeline.JUDGING_GC_YOUNG), in-process callers included.
GC_YOUNG = 20_000
EXIT_CODES = (
    "Exit codes: 0 every relevant patch judged and clean (or nothing relevant), 1 at least one "
    "correctness finding, 2 bad usage or unreadable input, 3 (only with --strict) a relevant patch "
    "was not judged. Without --strict a patch that was not judged exits 0 and says so in the report."
)
log = logging.getLogger("bot.cli")


class UsageError(Exception):
    """Bad usage or unreadable input: exit 2 with one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage block) so scripts can read it."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# -- parser ---------------------------------------------------------------------------------------


def _common(debug_default: Any, formats: Sequence[str] = FORMATS) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--format", choices=formats, default="text", help="output format (default: text)")
    g.add_argument(
        "--tree", metavar="PATH", help="kernel tree for full post-images (git worktree at the base)"
    )
    g.add_argument(
        "--budget-states", metavar="N", type=_positive_int, help="simulator state budget per scenario"
    )
    g.add_argument(
        "--budget-seconds", metavar="S", type=_positive_float, help="simulator time budget per scenario"
    )
    g.add_argument(
        "-j", "--jobs", metavar="N", type=_positive_int, help="judge on N processes (default: one per core)"
    )
    g.add_argument(
        "--no-cache", action="store_true", help="judge everything again: no verdict cache lookups or stores"
    )
    g.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    g.add_argument(
        "--verbose", action="store_true", default=debug_default,
        help="log each stage's decisions on stderr (models, hunks, scenarios, budgets, why not judged)",
    )
    g.add_argument(
        "--debug", action="store_true", default=debug_default, help="--verbose, more detail, tracebacks on errors"
    )
    return p


def _ci_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 3 when a relevant patch is not judged (and has no correctness finding), for CI",
    )
    p.add_argument(
        "--sarif",
        metavar="FILE",
        help="also write the report as SARIF to FILE (beside --format, from the same run)",
    )


def _positive_int(s: str) -> int:
    try:
        n = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {s!r}")
    return n


def _positive_float(s: str) -> float:
    try:
        x = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {s!r}")
    return x


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command. argparse translates its group titles and -h's help for each of
    the parsers (22 calls, 3 texts) and gettext searches the locale directories on every call (~2 ms
    of a one-patch check): while the parser is built, each text is translated once."""
    translate = argparse._  # type: ignore[attr-defined]
    argparse._ = functools.lru_cache(maxsize=None)(translate)  # type: ignore[attr-defined]
    try:
        return _build_parser()
    finally:
        argparse._ = translate  # type: ignore[attr-defined]


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Review Linux kernel patch series for page-table and RCU lifetime hazards.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--verbose", action="store_true", help="log each stage's decisions on stderr")
    parser.add_argument("--debug", action="store_true", help="--verbose, more detail, tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    common = _common(argparse.SUPPRESS)  # SUPPRESS: a subcommand's default must not undo a global --debug

    from bot.paths import DEFAULT_LORE

    check = sub.add_parser(
        "check",
        parents=[common],
        epilog=EXIT_CODES,
        help="review a patch or series (lore, mbox, git range, stdin)",
        description="Review the patch a Message-ID names (a cover letter: the whole series), an mbox, "
        "the commits of a git range, or one patch email on stdin.",
    )
    check.add_argument("target", nargs="?", metavar="MSGID_OR_URL", help="Message-ID or lore URL to fetch")
    check.add_argument(
        "--lore-url",
        metavar="URL",
        default=DEFAULT_LORE,
        help=f"public-inbox base to fetch from (default: {DEFAULT_LORE})",
    )
    check.add_argument(
        "-v", "--revision", metavar="N", type=_positive_int, help="review revision N of the series"
    )
    src = check.add_argument_group("offline sources (instead of MSGID_OR_URL)")
    src.add_argument("--mbox", metavar="FILE", help="an mbox (.mbox, .gz, .xz), maildir or patch file")
    src.add_argument("--msgid", metavar="ID", help="with --mbox: only the posting (or series) this names")
    src.add_argument("--git", metavar="RANGE", help="review each commit of RANGE (CI hook)")
    src.add_argument("--repo", metavar="DIR", help="with --git: the repository (default: .)")
    src.add_argument("--stdin", action="store_true", help="one patch email on stdin (b4 check protocols)")
    _ci_options(check)
    check.set_defaults(func=cmd_check)

    scan = sub.add_parser(
        "scan",
        parents=[common],
        epilog=EXIT_CODES,
        help="triage a whole archive",
        description="Triage an archive: which postings touch modeled call sites, and their findings.",
    )
    scan.add_argument("--mbox", metavar="FILE", help="an mbox archive (.mbox, .gz, .xz) or maildir")
    scan.add_argument("--lore-url", metavar="URL", help="a public-inbox base; fetches the result of --query")
    scan.add_argument(
        "--details", action="store_true",
        help="with --format text: after the table, each relevant posting's verdict and findings in full",
    )
    scan.add_argument(
        "--query",
        metavar="Q",
        default="s:PATCH d:1.week.ago..",
        help="with --lore-url: public-inbox search query (default: %(default)r)",
    )
    _ci_options(scan)
    scan.set_defaults(func=cmd_scan)

    explore = sub.add_parser(
        "explore",
        parents=[_common(argparse.SUPPRESS, EXPLORE_FORMATS)],
        help="run the simulator on a scenario or named design",
        description="Explore every interleaving of a scenario: a file, a bundled scenario or design by "
        "name (see --list), or a model scenario run on a patch's own code.",
    )
    explore.add_argument(
        "scenario_file", nargs="?", metavar="SCENARIO|MSGID_OR_URL",
        help="a scenario file, or the name of a bundled scenario or design (see --list); with --scenario, "
        "the Message-ID or lore URL of the patch whose code runs",
    )
    explore.add_argument("--list", action="store_true", help="list the bundled scenarios and designs")
    explore.add_argument("--design", metavar="NAME", help="a bundled design (the same as naming it)")
    explore.add_argument(
        "--width", metavar="N", type=_positive_int,
        help="wrap text and tables to N columns (default: the terminal's width, else 100)",
    )
    explore.add_argument(
        "--scenario", metavar="MODEL/NAME", help="replay a finding: the model scenario to run on the patch"
    )
    explore.add_argument(
        "--lore-url", metavar="URL", default=DEFAULT_LORE,
        help=f"with --scenario MSGID_OR_URL: public-inbox base to fetch from (default: {DEFAULT_LORE})",
    )
    explore.add_argument("--mbox", metavar="FILE", help="with --scenario: the mbox holding the patch")
    explore.add_argument("--msgid", metavar="ID", help="with --mbox: the patch whose code runs")
    explore.add_argument("--git", metavar="RANGE", help="with --scenario: the patch is the last commit of RANGE")
    explore.add_argument("--repo", metavar="DIR", help="with --git: the repository (default: .)")
    explore.set_defaults(func=cmd_explore)

    watch = sub.add_parser(
        "watch",
        help="the list bot: poll, review, reply, remember",
        description="Watch the lists of a config file: review each new patch posting and reply by its "
        "policy (outbox maildir unless send = true), remembering what was seen and sent.",
    )
    watch.add_argument("--config", metavar="FILE", required=True, help="the watch config (TOML)")
    watch.add_argument("--once", action="store_true", help="one pass over every list, then exit (for timers)")
    watch.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks on errors")
    watch.set_defaults(func=cmd_watch)

    status = sub.add_parser(
        "status",
        help="what the list bot last did: last poll, queue, sent, muted",
        description="Print the state of `watch` for each list of a config file.",
    )
    status.add_argument("--config", metavar="FILE", required=True, help="the watch config (TOML)")
    status.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    status.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks on errors")
    status.set_defaults(func=cmd_status)
    return parser


# -- shared plumbing --------------------------------------------------------------------------------


def _options(args: argparse.Namespace, tree: str | None = None) -> Any:
    from bot.pipeline import Options

    if args.tree:
        from bot.tree import TreeError, check_tree

        try:
            check_tree(args.tree)
        except TreeError as e:
            raise UsageError(str(e)) from None
    kw: dict[str, Any] = {"tree": args.tree or tree}
    if args.budget_states is not None:
        kw["budget_states"] = args.budget_states
    if args.budget_seconds is not None:
        kw["budget_seconds"] = args.budget_seconds
    if args.jobs is not None:
        kw["jobs"] = args.jobs
    kw["cache"] = not args.no_cache
    return Options(**kw)


def _readable(path: str, what: str = "") -> Path:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"cannot read {what}{path}: No such file or directory")
    if not os.access(p, os.R_OK):
        raise UsageError(f"cannot read {what}{path}: Permission denied")
    return p


def _mail_load(path: str, msgid: str | None = None) -> Any:
    from bot import mail

    try:
        return mail.load(path, msgid) if msgid else mail.load(path)
    except mail.InputError as e:
        raise UsageError(str(e) or f"cannot read {path}") from None


def _count(messages: Any) -> int:
    return messages if isinstance(messages, int) else len(messages)


def _review(
    args: argparse.Namespace,
    messages: int,
    postings: list[Any],
    skipped: list[Any],
    tree: str | None = None,
    context: list[Any] | None = None,
    origin: Any = None,
) -> Any:
    from bot.findings import Report
    from bot.pipeline import review_postings

    opts = _options(args, tree)
    if origin is not None:
        opts.origin = origin
    if args.tree:
        _need_revisions(args.tree, postings)
    reviews = review_postings(postings, opts, context=context) if postings else []
    return Report(messages=messages, skipped=list(skipped), reviews=reviews)


def _need_revisions(tree: str, postings: list[Any]) -> None:
    """A tree given with --tree must hold the revision each posting applies to."""
    from bot.tree import base_revision, resolve

    for p in postings:
        rev, _whole = base_revision(p)
        if rev and resolve(tree, rev) is None:
            raise UsageError(f"--tree {tree} has no commit {rev} (the base of <{p.msgid}>); fetch it or "
                             "leave out --tree")


def _render(args: argparse.Namespace, report: Any, fmt: str) -> str:
    from bot.report import render

    on_terminal = not args.output and sys.stdout.isatty()
    out = render(report, fmt, details=getattr(args, "details", True), width=_terminal_width(),
                 fit=on_terminal)
    return out if out.endswith("\n") or not out else out + "\n"


def _write(path: str, text: str) -> None:
    """Write a report file whole or not at all: a temporary file beside it, renamed over it, so an
    interrupted run leaves the old report (a FIFO or device is written directly)."""
    import tempfile

    target = Path(path)
    data = text.encode("utf-8")
    try:
        if target.exists() and not target.is_file():
            target.write_bytes(data)
            return
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output:
        _write(args.output, text)
        return
    sys.stdout.write(text)
    sys.stdout.flush()


def _finish(args: argparse.Namespace, report: Any) -> int:
    if getattr(args, "sarif", None):
        _write(args.sarif, _render(args, report, "sarif"))
    _emit(args, _render(args, report, args.format))
    return int(report.exit_code(strict=bool(getattr(args, "strict", False))))


# -- commands ---------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from bot.commands import Origin

    sources = [
        n
        for n, v in (
            ("MSGID_OR_URL", args.target),
            ("--mbox", args.mbox),
            ("--git", args.git),
            ("--stdin", args.stdin),
        )
        if v
    ]
    if len(sources) != 1:
        raise UsageError(
            "give exactly one of MSGID_OR_URL, --mbox FILE, --git RANGE, --stdin"
            + (f" (got {', '.join(sources)})" if sources else "")
            + " (see 'review-bot check --help')"
        )
    if args.msgid and not args.mbox:
        raise UsageError("--msgid goes with --mbox")
    if args.repo and not args.git:
        raise UsageError("--repo goes with --git")
    if args.revision and not args.target:
        raise UsageError("-v/--revision goes with MSGID_OR_URL")

    if args.mbox:
        _readable(args.mbox)
        res = _mail_load(args.mbox)
        if not _count(res.messages):
            raise UsageError(f"no messages in {args.mbox}")
        context = list(res.postings)
        chosen = context
        if args.msgid:
            mid = args.msgid.strip().strip("<>")
            chosen = [p for p in context if p.msgid == mid or (p.series and p.series.cover == mid)]
            if not chosen:
                raise UsageError(f"no patch posting or series with Message-ID <{mid}> in {args.mbox}")
        return _finish(
            args,
            _review(args, _count(res.messages), chosen, res.skipped, context=context,
                    origin=Origin("mbox", path=args.mbox)),
        )

    if args.stdin:
        return _check_stdin(args)

    if args.git:
        from bot.gitsrc import GitSourceError, load_range

        try:
            res = load_range(args.git, args.repo or ".")
        except GitSourceError as e:
            raise UsageError(str(e)) from None
        return _finish(args, _review(args, res.messages, res.postings, res.skipped, tree=res.workdir,
                                     origin=Origin("git")))

    from bot.fetch import FetchError, fetch_thread, load_thread
    from bot.revisions import find_revision

    try:
        fetched = fetch_thread(args.target, args.lore_url)
        sel = find_revision(fetched, args.revision) if args.revision else load_thread(fetched)
    except FetchError as e:
        raise UsageError(str(e)) from None
    log.info(
        "fetched %s: %d message(s), %d posting(s) selected", fetched.url, sel.messages, len(sel.postings)
    )
    return _finish(args, _review(args, sel.messages, sel.postings, sel.skipped, context=sel.context or None,
                                 origin=Origin("lore", lore_url=fetched.base)))


def _check_stdin(args: argparse.Namespace) -> int:
    from bot.commands import Origin

    if getattr(args, "own_process", False):
        # One patch email in a process of its own, as a b4 hook runs it: its review leaves a few
        # hundred objects in cycles (725 for v1 07/12), and the collector's passes over everything
        # it keeps alive (rules, models, programs) were 11-20 ms of the process's ~0.4 CPU s.
        gc.disable()

    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("--stdin reads one patch email from standard input, which is a terminal")
    from bot.mail.read import MAX_MESSAGE

    data = sys.stdin.buffer.read(MAX_MESSAGE + 1)  # one patch email: never all of an endless stream
    if len(data) > MAX_MESSAGE:
        raise UsageError(f"stdin holds more than {MAX_MESSAGE >> 20} MiB: --stdin reads one patch email")
    if not data.strip():
        raise UsageError("no input on stdin")
    from bot import mail

    try:  # parsed where it is, in memory: the same reader as for a file
        res = mail.load_bytes(data, name="stdin")
    except mail.InputError as e:
        raise UsageError(str(e) or "cannot read stdin") from None
    if not _count(res.messages):
        raise UsageError("no email on stdin")
    return _finish(args, _review(args, _count(res.messages), list(res.postings), res.skipped,
                                 origin=Origin("stdin")))


def cmd_scan(args: argparse.Namespace) -> int:
    from bot.commands import Origin

    if bool(args.mbox) == bool(args.lore_url):
        raise UsageError("give exactly one of --mbox FILE or --lore-url URL (see 'review-bot scan --help')")
    if args.mbox:
        _readable(args.mbox)
    from bot import scan

    progress = sys.stderr.isatty()  # a status line only on a terminal
    opts = _options(args)
    from bot.mail import InputError

    if args.mbox:
        try:
            report = scan.scan(args.mbox, progress, opts, Origin("mbox", path=args.mbox))
        except InputError as e:
            raise UsageError(str(e) or f"cannot read {args.mbox}") from None
        if not report.messages:
            raise UsageError(f"no messages in {args.mbox}")
        return _finish(args, report)
    import tempfile

    from bot.fetch import FetchError, fetch_search

    try:
        mbox = fetch_search(args.lore_url, args.query)
    except FetchError as e:
        raise UsageError(str(e)) from None
    with tempfile.TemporaryDirectory(prefix="review-bot-scan-") as tmp:
        path = Path(tmp) / "search.mbox"
        path.write_bytes(mbox)
        try:
            report = scan.scan(str(path), progress, opts, Origin("lore", lore_url=args.lore_url.rstrip("/")))
        except InputError as e:
            raise UsageError(f"the search result from {args.lore_url} is not an mbox: "
                             + str(e).replace(f"{path}: ", "")) from None
    return _finish(args, report)


def cmd_explore(args: argparse.Namespace) -> int:
    started = time.monotonic()  # --budget-seconds holds for the whole command, not only the search
    from bot import explore
    from bot.sim.scenario import ScenarioError

    width = args.width or _terminal_width()
    if args.list:
        if args.scenario_file or args.design or args.mbox or args.msgid or args.scenario or args.git:
            raise UsageError("--list takes no scenario")
        _emit(args, explore.render_list(width))
        return EXIT_OK
    if args.scenario or args.mbox or args.msgid or args.git:
        return _explore_patch(args, width)
    if bool(args.scenario_file) == bool(args.design):
        raise UsageError(
            "give exactly one of SCENARIO, --design NAME or a patch (MSGID_OR_URL, --mbox FILE --msgid ID"
            " or --git RANGE) with --scenario MODEL/NAME (see 'review-bot explore --help')"
        )
    try:
        path = explore.resolve(args.scenario_file) if args.scenario_file else explore.design_path(args.design)
    except ScenarioError as e:
        raise UsageError(str(e)) from None
    opts = _options(args)
    try:
        result, meta = explore.run_scenario_file(str(path), opts.budget_states, opts.budget_seconds, started=started)
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"bad scenario {path}: {str(e).removeprefix(f'{path}: ')}") from None
    if args.format == "json":
        data = {
            "scenario": meta.name,
            "verdict": result.verdict,
            "states": result.states,
            "seconds": round(result.seconds, 4),
            "expected": meta.matches(result),
            "hazards": meta.hazards,
            "costs": meta.costs,
            "violations": [
                {"kind": c.violation.kind, "detail": c.violation.detail,
                 "trace": [{"ctx": e.ctx, "op": e.op, "at": e.at} for e in c.trace]}
                for c in result.counterexamples
            ],
        }
        from bot.report.textutil import json_text

        _emit(args, json_text(data))
    else:
        _emit(args, explore.render_text(result, meta, width))
    return EXIT_FINDINGS if result.verdict == "unsafe" else EXIT_OK


def _terminal_width() -> int:
    """The terminal's width when stdout is one, else 100 (a pipe, a file, CI logs)."""
    try:
        return max(os.get_terminal_size(sys.stdout.fileno()).columns, 40) if sys.stdout.isatty() else 100
    except (OSError, ValueError, AttributeError):
        return 100


def _explore_patch(args: argparse.Namespace, width: int) -> int:
    """Replay a finding: the patch (from lore, an mbox or a git range) under one model scenario."""
    target = args.scenario_file
    sources = [n for n, v in (("MSGID_OR_URL", target), ("--mbox", args.mbox), ("--git", args.git)) if v]
    if not args.scenario or len(sources) != 1:
        raise UsageError("replaying a finding needs --scenario MODEL/NAME and exactly one of MSGID_OR_URL, "
                         "--mbox FILE --msgid ID or --git RANGE")
    if args.msgid and not args.mbox:
        raise UsageError("--msgid goes with --mbox")
    if args.repo and not args.git:
        raise UsageError("--repo goes with --git")
    from bot.replay import ReplayError, replay

    tree = None
    if args.mbox:
        if not args.msgid:
            raise UsageError("--mbox needs --msgid ID: the patch whose code runs")
        _readable(args.mbox)
        postings, msgid = list(_mail_load(args.mbox).postings), args.msgid.strip().strip("<>")
    elif args.git:
        from bot.gitsrc import GitSourceError, load_range

        try:
            res = load_range(args.git, args.repo or ".")
        except GitSourceError as e:
            raise UsageError(str(e)) from None
        if not res.postings:
            raise UsageError(f"no patch in {args.git}")
        postings, msgid, tree = list(res.postings), res.postings[-1].msgid, res.workdir
    else:
        from bot.fetch import FetchError, fetch_thread, load_thread

        try:
            fetched = fetch_thread(target, args.lore_url)
            postings, msgid = list(load_thread(fetched).context), fetched.msgid
        except FetchError as e:
            raise UsageError(str(e)) from None
    opts = _options(args, tree)
    try:
        text, unsafe = replay(postings, msgid, args.scenario, opts, width=width)
    except ReplayError as e:
        raise UsageError(str(e)) from None
    _emit(args, text)
    return EXIT_FINDINGS if unsafe else EXIT_OK


def _watch_config(path: str) -> Any:
    from bot.watch.config import ConfigError, load

    _readable(path, "config ")
    try:
        return load(path)
    except ConfigError as e:
        raise UsageError(str(e)) from None


def cmd_watch(args: argparse.Namespace) -> int:
    from bot.watch.log import setup
    from bot.watch.run import Watcher
    from bot.watch.state import Busy

    cfg = _watch_config(args.config)
    setup(debug=bool(getattr(args, "debug", False)))
    watcher = Watcher(cfg)
    try:
        return watcher.run(once=args.once)
    except Busy as e:
        watcher.state.close()
        raise UsageError(str(e)) from None


def cmd_status(args: argparse.Namespace) -> int:
    from bot.watch.status import collect, render

    sys.stdout.write(render(collect(_watch_config(args.config)), args.format))
    return EXIT_OK


# -- entry point ------------------------------------------------------------------------------------


class _StageFormatter(logging.Formatter):
    """"review-bot: judge: ..." — the stage is the module that decided; warnings say so."""

    def format(self, record: logging.LogRecord) -> str:
        stage = record.name.removeprefix("bot.").split(".")[-1]
        kind = "warning: " if record.levelno >= logging.WARNING else ""
        return f"{PROG}: {stage}: {kind}{' '.join(record.getMessage().split())}"


def _setup_logging(level: int | None) -> None:
    """Our stages log under "bot"; other libraries stay at warnings even with --debug."""
    from bot.progress import StatusAwareHandler

    handler = StatusAwareHandler(sys.stderr)
    handler.setFormatter(_StageFormatter())
    root = logging.getLogger("bot")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(level or logging.WARNING)


def _say(msg: str) -> None:
    from bot.report.textutil import visible

    line = visible(" ".join(str(msg).split())) or "unknown error"
    print(f"{PROG}: error: {line}", file=sys.stderr)


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM as SIGINT: temporary files and directories are removed on the way out


def main(argv: Sequence[str] | None = None) -> int:
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    if argv is None:  # the process is the command's own (a caller in Python keeps its settings)
        gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.own_process = argv is None
        debug = bool(getattr(args, "debug", False))
        _setup_logging(logging.DEBUG if debug else logging.INFO if getattr(args, "verbose", False) else None)
        return int(args.func(args))
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_USAGE)
    except (UsageError, DataError) as e:  # a data file of rules/ or models/ that does not read: one line
        if debug:
            traceback.print_exc()
        _say(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_USAGE
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - the contract: one line, exit 2, no traceback
        if debug:
            traceback.print_exc()
        _say(_oserror(e) if isinstance(e, OSError | ImportError) else
             f"internal error: {e or 'no message'} (please report it; --debug shows where)")
        return EXIT_USAGE


def run() -> NoReturn:
    """The console script and `python -m bot`: main() as the whole process. Once main() returns,
    its output flushed and the exit handlers run (logging's, multiprocessing's), the process ends
    without the interpreter freeing its objects one by one: that teardown was ~8% of a one-patch
    check's CPU (the rules, models and programs it loaded), and nothing of it is seen outside."""
    code = main()
    if threading.active_count() > 1:  # a thread still running is waited for, as at a normal exit
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream: as Python's own exit reports it
        sys.exit(code)
    os._exit(code)


def _oserror(e: BaseException) -> str:
    if isinstance(e, ImportError):
        return f"a stage of the bot is missing ({e}); reinstall review-bot"
    if isinstance(e, OSError) and e.filename:
        return f"{e.filename}: {e.strerror}"
    return str(e)


if __name__ == "__main__":
    run()
