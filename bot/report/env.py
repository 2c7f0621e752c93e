"""The one jinja2 environment: templates ship in bot/report/templates as package data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe

from bot.report.textutil import WIDTH, oneline, shell_wrap, visible, wrap

TEMPLATES = Path(__file__).resolve().parent / "templates"

CLASS_NOTE = {  # how a finding's class reads next to it
    "correctness": "correctness",
    "cost": "cost (performance/memory, not a correctness bug)",
    "noise": "noise (a warning that fires in valid situations)",
}


def _autoescape(name: str | None) -> bool:
    # plain-text outputs (*.txt.j2) are not markup; everything else is, and is escaped
    return not (name or "").endswith(".txt.j2")


def lore_link(msgid: str) -> str:
    # a reference may already be a link (a lore search); otherwise it is a Message-ID, escaped the
    # way public-inbox escapes it in a URL ("/" becomes %2F)
    if oneline(msgid).startswith(("https://", "http://")):
        return oneline(msgid)
    return "https://lore.kernel.org/r/" + quote(oneline(msgid).strip("<>"), safe="-._~!$&'()*+,;=:@")


def bracket_msgid(msgid: str) -> str:
    if oneline(msgid).startswith(("https://", "http://")):
        return oneline(msgid)
    return "<" + oneline(msgid).strip("<>") + ">"


def _finalize(value: Any) -> Any:
    """Every {{ }} of every template: invisible and control characters made visible (escaping, in
    HTML, comes after this and is not undone: an already-safe Markup value stays Markup)."""
    if isinstance(value, markupsafe.Markup):
        return markupsafe.Markup(visible(str(value)))
    return visible(value) if isinstance(value, str) else value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails loudly in tests
        finalize=_finalize,
    )
    env.filters.update(
        oneline=oneline,
        wrap=wrap,
        shell_wrap=shell_wrap,
        lore=lore_link,
        msgid=bracket_msgid,
        classnote=lambda c: CLASS_NOTE.get(c, oneline(c)),
    )
    env.globals.update(WIDTH=WIDTH)
    return env


def render_template(name: str, **ctx: Any) -> str:
    return environment().get_template(name).render(**ctx)
