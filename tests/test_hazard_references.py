"""Prior discussion is cited as https://lore.kernel.org/r/<msgid>, and every cited message is real."""

from __future__ import annotations

import re
import tomllib
from urllib.parse import unquote

from bot.classify import LORE_LINK
from bot.mail.read import read_path
from bot.paths import rules_dir
from tests import corpus

_MSGID = re.compile(rb"(?im)^message-id:[ \t]*(?:\r?\n[ \t]+)?<([^>\s]+)>")


def _cited() -> dict[str, list[str]]:
    data = tomllib.loads((rules_dir() / "hazards.toml").read_text())
    out: dict[str, list[str]] = {}
    for hz, entry in data.items():
        for ref in entry.get("references", []):
            assert LORE_LINK.match(ref), f"{hz}: {ref}"
            out.setdefault(unquote(ref.rsplit("/", 1)[1]), []).append(hz)
    return out


def test_every_hazard_cites_prior_discussion_as_lore_links() -> None:
    data = tomllib.loads((rules_dir() / "hazards.toml").read_text())
    assert all(entry.get("references") for entry in data.values())
    assert "?q=" not in (rules_dir() / "hazards.toml").read_text()


def test_every_cited_message_is_in_the_corpus() -> None:
    want = set(_cited())
    have: set[str] = set()
    for src in [corpus.thread(n) for n in (1, 2, 3)] + [corpus.year(2023), corpus.year(2024)]:
        for raw in read_path(str(src)):
            if isinstance(raw, bytes) and (m := _MSGID.search(raw[:65536])):
                have.add(m.group(1).decode("ascii", "replace"))
        if want <= have:
            break
    assert want - have == set()
