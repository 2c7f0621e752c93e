"""The commands the bot prints ("Reproduce with:"): built as argv lists, quoted in one place.

Every Message-ID, path and URL in a printed command comes from mail or from the user, so a
command is never assembled by pasting strings: it is a list of words, each quoted by
`shell_line()`, and a word that no single shell line can carry (a control character, a line
break, a bidi override) means no command is printed, with the reason instead.

Where the postings came from decides the command (`Origin`):
  lore   `review-bot explore MSGID --scenario M/S [--lore-url URL]` fetches the thread again;
  git    `review-bot explore --git SHA^..SHA --scenario M/S`, run from the repository;
  mbox   `review-bot explore --mbox PATH --msgid ID --scenario M/S` in the run's own reports,
         the lore form in mail (a reply never names a local path);
  stdin  nothing to read the patch from again: no command, and why.
"""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.paths import DEFAULT_LORE

PROG = "review-bot"
_UNPRINTABLE = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}  # controls, format (bidi), unassigned, separators


def shell_quote(word: str) -> str:
    """The one quoting function for a word of a printed command (POSIX sh)."""
    return shlex.quote(word)


def shell_line(argv: Sequence[str]) -> str:
    """argv as one shell line: shlex.split(shell_line(argv)) == list(argv)."""
    return " ".join(shell_quote(w) for w in argv)


def unprintable(word: str) -> str | None:
    """The first character of `word` that a printed command line cannot carry, as "U+XXXX"."""
    for ch in word:
        if unicodedata.category(ch) in _UNPRINTABLE:
            return f"U+{ord(ch):04X}"
    return None


def _opt(name: str, value: str) -> list[str]:
    # "--opt=VALUE" when VALUE looks like an option, so argparse never takes it for one
    return [f"{name}={value}"] if value.startswith("-") else [name, value]


@dataclass(frozen=True)
class Origin:
    """Where the reviewed postings came from, so a printed command can read them again."""

    kind: str = ""  # "lore" | "mbox" | "git" | "stdin" | "" (built in code: no command)
    lore_url: str = DEFAULT_LORE  # lore: the public-inbox base the thread came from
    path: str = ""  # mbox: the file as the user named it


@dataclass(frozen=True)
class Command:
    """A printed command, or why there is none."""

    argv: tuple[str, ...] = ()
    why_not: str = ""

    @property
    def line(self) -> str:
        return shell_line(self.argv) if self.argv else ""


def _checked(argv: list[str], what: dict[str, str]) -> Command:
    for label, word in what.items():
        bad = unprintable(word)
        if bad is not None:
            return Command(why_not=f"no command is printed: the {label} holds {bad}, which no command line "
                           "can carry safely")
    return Command(tuple(argv))


def _target(msgid: str, lore_url: str) -> tuple[str, str]:
    """(the word `explore`/`check` fetches this Message-ID by, "") or ("", why there is none).

    The bare Message-ID when it reads back as itself; else its lore URL (a "/" or a blank in the
    id is percent-encoded there); a Message-ID starting with "-" is written <id>, which is the same."""
    from bot.fetch import FetchError, message_url, split_target  # not for a check of stdin

    if not msgid or msgid.startswith("nomsgid-"):
        return "", "the patch has no Message-ID to fetch it by"
    base = lore_url.rstrip("/")
    bare = f"<{msgid}>" if msgid.startswith("-") else msgid
    url = message_url(base, msgid)
    for word in (bare, url):
        try:
            if split_target(word, base) == (base, msgid):
                return word, ""
        except FetchError:
            continue
    return "", "its Message-ID is not one a public-inbox URL can name"


def lore_form(head: list[str], msgid: str, tail: list[str], lore_url: str, tree: bool) -> Command:
    target, why = _target(msgid, lore_url)
    if not target:
        return Command(why_not=f"no command is printed: {why}")
    argv = [PROG, *head, target, *tail]
    if lore_url.rstrip("/") != DEFAULT_LORE:
        argv += _opt("--lore-url", lore_url)
    if tree:
        argv += ["--tree", "."]  # run from a kernel tree that has the base: never a local path
    return _checked(argv, {"Message-ID": msgid, "lore URL": lore_url})


def replay_commands(origin: Origin, msgid: str, commit: str | None, scenario: str,
                    tree: str | None) -> tuple[Command, Command]:
    """(the command for this run's own reports, the command for a reply to the list).

    scenario "MODEL/NAME" replays that scenario with `explore`; "" (a call-site rule, not a
    simulation) re-runs the review with `check`."""
    verb = ["explore"] if scenario else ["check"]
    tail = _opt("--scenario", scenario) if scenario else []
    lore_url = origin.lore_url if origin.kind == "lore" else DEFAULT_LORE
    if origin.kind == "git" and commit:
        git = _checked([PROG, *verb, "--git", f"{commit}^..{commit}", *tail], {"commit": commit})
        return git, git  # run from the repository, which is also the tree
    if origin.kind == "mbox":
        if not msgid or msgid.startswith("nomsgid-"):
            local = Command(why_not="no command is printed: the patch has no Message-ID to select it by")
        else:
            argv = [PROG, *verb, *_opt("--mbox", origin.path), *_opt("--msgid", msgid), *tail]
            if tree:
                argv += _opt("--tree", tree)
            local = _checked(argv, {"mbox path": origin.path, "Message-ID": msgid,
                                    "tree path": tree or ""})
        return local, lore_form(verb, msgid, tail, lore_url, bool(tree))
    if origin.kind == "lore":
        public = lore_form(verb, msgid, tail, lore_url, bool(tree))
        return public, public
    if origin.kind == "stdin":
        why = ("no command is printed: the patch came on standard input, which a command cannot read "
               f"again; save it as a file and replay it with {PROG} {verb[0]} --mbox")
    else:
        why = "no command is printed: the postings did not come from a source a command can read again"
    return Command(why_not=why), Command(why_not=why)
