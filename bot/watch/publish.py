"""Published pages: one HTML page per relevant review and an index of the reviewed series.

Pages live under [publish] dir as LIST/<hash of the Message-ID>.html (stable, so a reply can link
to its page before the page is rewritten) and are written atomically. The index is rebuilt from
the state database after each poll.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bot import __version__
from bot.findings import Report, Review
from bot.report.env import render_template
from bot.report.html import render_html
from bot.watch.state import State

_CSS = {"findings": "v-findings", "cost notes": "v-cost", "no hazard": "v-clean"}


def page_path(lst: str, msgid: str) -> str:
    """The page's path below the publish directory (and below base_url)."""
    return f"{lst}/{hashlib.sha256(msgid.encode()).hexdigest()[:20]}.html"


def write_page(root: Path, lst: str, review: Review) -> str:
    rel = page_path(lst, review.msgid)
    atomic_write(root / rel, render_html(Report(messages=1, skipped=[], reviews=[review])))
    return rel


def write_index(root: Path, state: State, lists: list[str], replies: dict[str, str]) -> Path:
    out = []
    for name in lists:
        series: dict[str, dict[str, Any]] = {}
        for row in reversed(state.reviews(name)):
            if not row["page"]:
                continue
            info = json.loads(row["series"] or "null") or {}
            key = info.get("key") or row["msgid"]
            group = series.setdefault(key, {"title": info.get("title") or row["subject"],
                                            "revision": info.get("revision"), "rows": []})
            group["rows"].append({
                "page": row["page"], "subject": row["subject"], "verdict": row["verdict"],
                "css": _CSS.get(row["verdict"], "v-other"), "judged": bool(row["judged"]),
                "correctness": row["correctness"], "other": row["other"], "base": row["base"] or "",
                "reviewed": _when(row["reviewed_at"]), "reply": replies.get(row["msgid"], "none"),
            })
        for group in series.values():
            group["rows"].sort(key=lambda r: r["subject"])
        out.append({"name": name, "series": list(series.values())})
    path = root / "index.html"
    atomic_write(path, render_template("index.html.j2", lists=out, tool="review-bot", version=__version__,
                                       updated=_when(dt.datetime.now(dt.timezone.utc).timestamp())))
    return path


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
