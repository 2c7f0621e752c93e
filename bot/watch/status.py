"""`review-bot status --config FILE`: what the watcher last did and what it holds, per list."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from bot.watch.config import Config
from bot.watch.state import State


def _when(ts: float | None) -> str:
    if not ts:
        return "never"
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def collect(cfg: Config) -> dict[str, Any]:
    if not cfg.state_path.exists():
        return {"state": str(cfg.state_path), "lists": [
            {"name": lst.name, "url": lst.url, "send": lst.policy.send, "last_poll": None, "queue": 0,
             "replies": {}, "muted": []} for lst in cfg.lists]}
    st = State(cfg.state_path)
    try:
        out = []
        now = time.time()
        for lst in cfg.lists:
            poll = st.poll(lst.name)
            counts = st.counts(lst.name)
            waiting = st.replies(lst.name, ("planned", "deferred"))
            out.append({
                "name": lst.name, "url": lst.url, "send": lst.policy.send,
                "last_poll": {"started": poll["started"], "finished": poll["finished"], "new": poll["found"],
                              "error": poll["error"] or ""} if poll else None,
                "queue": counts.get("messages.queued", 0),
                "seen": sum(v for k, v in counts.items() if k.startswith("messages.")),
                "replies": {k.split(".", 1)[1]: v for k, v in counts.items() if k.startswith("replies.")},
                "embargoed": sum(1 for r in waiting if r.first_seen + lst.policy.embargo_hours * 3600 > now),
                "sent_last_hour": st.sent_since(lst.name, now - 3600),
                "muted": [{"thread": m["thread"], "by": m["by"], "at": m["at"]} for m in st.mutes(lst.name)],
            })
        return {"state": str(cfg.state_path), "lists": out}
    finally:
        st.close()


def render(data: dict[str, Any], fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    lines = [f"state: {data['state']}"]
    for lst in data["lists"]:
        lines.append(f"list {lst['name']} ({lst['url']}), {'sending mail' if lst['send'] else 'outbox only (send = false)'}")
        p = lst["last_poll"]
        lines.append(f"  last poll: {_when(p['finished']) if p else 'never'}"
                     + (f", {p['new']} new message(s)" if p else "") + (f", error: {p['error']}" if p and p["error"] else ""))
        rep = lst["replies"]
        lines.append(f"  queue: {lst['queue']} posting(s) to review, "
                     f"{rep.get('planned', 0) + rep.get('deferred', 0)} reply(s) waiting"
                     f" ({rep.get('deferred', 0)} rate-limited, {lst.get('embargoed', 0)} under embargo)")
        lines.append(f"  sent: {rep.get('sent', 0)} (last hour: {lst.get('sent_last_hour', 0)})"
                     + (f", {rep['sending']} unconfirmed" if rep.get("sending") else "")
                     + (f", {rep['failed']} refused" if rep.get("failed") else "")
                     + (f", {rep['cancelled']} cancelled" if rep.get("cancelled") else ""))
        lines.append(f"  muted: {len(lst['muted'])} thread(s)")
        for m in lst["muted"]:
            lines.append(f"    <{m['thread']}> by {m['by']} at {_when(m['at'])}")
    return "\n".join(lines) + "\n"
