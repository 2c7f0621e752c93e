"""One structured log line per decision: a JSON object on stderr (journald keeps it as one entry).

ASCII-only JSON, so a hostile subject or address can neither break the line nor reach the
terminal as control sequences. While the watcher runs, every other log record of the bot (a
pipeline warning, --debug detail) is written as such a line too, so stderr stays one JSON object
per line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

log = logging.getLogger("review-bot.watch")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.name == log.name:
            return record.getMessage()  # already a decision line
        rec = {"ts": _now(), "event": "log", "level": record.levelname.lower(), "logger": record.name,
               "message": record.getMessage()}
        if record.exc_info:
            rec["traceback"] = self.formatException(record.exc_info)
        return json.dumps(rec, ensure_ascii=True, default=str)


def setup(stream: Any = None, debug: bool = False) -> None:
    """Every log record to stderr as one JSON line; decisions always, the rest from WARNING up."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    log.setLevel(logging.INFO)


def decision(event: str, **fields: Any) -> None:
    rec: dict[str, Any] = {"ts": _now(), "event": event}
    rec.update({k: v for k, v in fields.items() if v is not None and v != ""})
    log.info(json.dumps(rec, ensure_ascii=True, default=str))
