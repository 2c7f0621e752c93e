"""The watcher: for each list, poll → triage → review → plan → deliver → record, then sleep.

Each step leaves the state database consistent: killing the process at any point (kill -9
included) and starting it again neither loses a reply nor sends one twice. SIGTERM and SIGINT let
the current step finish (the review or the reply in progress) and then end the run.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import __version__
from bot.commands import Origin
from bot.fetch import FetchError, Http, Politeness
from bot.findings import Review
from bot.mail.series import parse_subject
from bot.pipeline import Options
from bot.report.reply import mailboxes, parse_mailbox
from bot.watch import deliver as dl
from bot.watch.config import Config, ListConfig
from bot.watch.discover import SEARCH_EVERY, Found, feed, fetch_raw, in_order, search, window_start
from bot.watch.log import decision
from bot.watch.plan import plan, wanted
from bot.watch.publish import write_index, write_page
from bot.watch.review import position, review_thread, slot, summarize
from bot.watch.state import Reply, State
from bot.watch.triage import Incoming, classify

TRIAGE_BATCH = 100  # messages triaged per transaction (a flood costs a few commits, not thousands)
MAX_ATTEMPTS = 3  # a thread that cannot be fetched or reviewed this often is skipped, with the reason
CACHE_KEEP = 7 * 86400.0  # HTTP cache entries older than this are removed ...
CACHE_PRUNE_EVERY = 3600.0  # ... checked at most once an hour
_ADDRESS_LINE = re.compile(r"(?m)^\s*address\s*=\s*(\S+@\S+)\s*$")


def user_agent(cfg: Config) -> str:
    return f"review-bot/{__version__} (+{cfg.smtp.contact})"


class Watcher:
    def __init__(self, cfg: Config, clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.clock = clock
        self.state = State(cfg.state_path)
        mb = int(cfg.fetch.max_thread_mb * (1 << 20))
        self.http = Http(Politeness(user_agent=user_agent(cfg), timeout=(10.0, cfg.fetch.timeout_seconds),
                                    retries=cfg.fetch.retries, backoff_seconds=cfg.fetch.backoff_seconds,
                                    max_compressed=mb, max_decompressed=mb, cache_dir=str(cfg.cache_dir)))
        self.outbox = dl.Outbox(cfg.outbox)
        self.stopping = False
        self._addresses: dict[str, set[str]] = {}
        self._pruned = 0.0
        self._current: set[str] = set()  # the postings under review (finished on SIGTERM, with their replies)
        self.tally: dict[str, dict[str, int]] = {lst.name: {} for lst in cfg.lists}  # for --once's summary
        self._said: set[tuple[str, str]] = set()  # (reply, what) already logged by this process

    # -- the loop ---------------------------------------------------------------------------------
    def stop(self, signum: int = 0, _frame: Any = None) -> None:
        if not self.stopping:
            decision("stopping", signal=signal.Signals(signum).name if signum else "",
                     detail="finishing the current step")
        self.stopping = True

    def run(self, once: bool = False) -> int:
        """Watch until SIGTERM/SIGINT (or one pass); Busy when another watcher holds the state."""
        self.state.lock()
        old = {s: signal.signal(s, self.stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            due = {lst.name: 0.0 for lst in self.cfg.lists}
            decision("start", lists=[lst.name for lst in self.cfg.lists], once=once, version=__version__)
            warm_up()
            while not self.stopping:
                for lst in self.cfg.lists:
                    if self.stopping:
                        break
                    if self.clock() >= due[lst.name]:
                        due[lst.name] = self.clock() + lst.poll_seconds
                        self.cycle(lst)
                if once:
                    break
                self._sleep_until(min(due.values()))
            decision("exit", reason="stopped by signal" if self.stopping else "one pass done")
            if once:
                for lst in self.cfg.lists:
                    print(summary_line(lst, self.tally[lst.name]), flush=True)
            return 0
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            self.state.close()

    def _sleep_until(self, when: float) -> None:
        while not self.stopping and self.clock() < when:
            time.sleep(min(0.1, max(0.0, when - self.clock())))

    def cycle(self, lst: ListConfig) -> None:
        """One pass over a list. Each step stops early on SIGTERM and leaves the rest for the next run."""
        for step in (self.recover, self.poll, self.review, self.deliver):
            if self.stopping:
                if step == self.deliver and self._current:
                    self.deliver(lst)  # the replies to the postings whose review SIGTERM let finish
                return
            step(lst)
        self.publish_index()
        if self.clock() - self._pruned > CACHE_PRUNE_EVERY:
            self._pruned = self.clock()
            removed = self.http.prune_cache(CACHE_KEEP)
            if removed:
                decision("cache-pruned", removed=removed, older_than_days=CACHE_KEEP / 86400)

    # -- discovery and triage -------------------------------------------------------------------
    def poll(self, lst: ListConfig) -> None:
        started = self.clock()
        self.addresses(lst)  # learns the list's address; warns once when the URL is not an inbox
        prev = self.state.poll(lst.name)
        last_search = prev["searched"] if prev else None
        found = Found()
        try:
            ids: list[str] | None = feed(self.http, lst.url)
        except FetchError as e:
            ids = None
            decision("feed-failed", list=lst.name, error=str(e), fallback="search")
        unseen = [m for m in ids or [] if not self.state.seen(lst.name, m)]
        overflow = bool(ids) and len(unseen) == len(ids or [])
        if ids is None or overflow or last_search is None or started - last_search >= SEARCH_EVERY:
            start = window_start(last_search, lst.since, started)
            try:
                search(self.http, lst.url, start, found)
            except FetchError as e:
                decision("poll-failed", list=lst.name, error=str(e))
                if ids is None:
                    return
        have = {m.msgid for m in found.messages}
        for mid in unseen:
            if mid not in have:
                fetch_raw(self.http, lst.url, mid, found)
        own = self.state.reply_ids()
        fresh = [m for m in in_order(found) if not self.state.seen(lst.name, m.msgid)]
        for i in range(0, len(fresh), TRIAGE_BATCH):
            if self.stopping:
                return  # the poll is not recorded: the next run sees the rest again
            self.triage(lst, fresh[i:i + TRIAGE_BATCH], own)
        new = len(fresh)
        for mid in found.unreadable:
            decision("skipped", list=lst.name, msgid=mid, reason="unreadable message")
        self.state.record_poll(lst.name, started, started if found.searched else last_search, new)
        decision("polled", list=lst.name, feed=len(ids or []), searched=found.searched,
                 messages=len(found.messages), new=new)

    def triage(self, lst: ListConfig, batch: list[Incoming], own: set[str]) -> None:
        """The first decision for each message, recorded (with a command's effect) in one transaction
        per batch; the log lines follow the commit."""
        now = self.clock()
        lines = []
        with self.state.tx() as db:
            for m in batch:
                v = classify(m, own_address=self.cfg.smtp.address.lower(), own_ids=own,
                             own_domain=self.cfg.smtp.message_id_domain,
                             ignored_senders=lst.policy.ignored_senders,
                             review_reply_diffs=lst.policy.review_reply_diffs)
                kind = {"queue": "queued", "skip": "skipped", "command": "command"}[v.decision]
                reason, fields = v.reason, {}
                if v.decision == "command":
                    kind, reason, fields = self._command(db, lst, m, v.command, v.answers, now)
                self.state.add_message(db, lst.name, m.msgid, sender=m.sender, subject=m.subject[:300],
                                       thread=m.thread, decision=kind, reason=reason, now=now)
                lines.append((kind, m, reason, fields))
        for kind, m, reason, fields in lines:
            self._count(lst, "new")
            decision(kind, list=lst.name, msgid=m.msgid, sender=m.sender, subject=m.subject[:120],
                     reason=reason, **fields)

    def _command(self, db: Any, lst: ListConfig, m: Incoming, cmd: str, answers: str,
                 now: float) -> tuple[str, str, dict[str, Any]]:
        reply = self.state.reply(f"<{answers}>")
        if reply is None:
            return "skipped", f"review-bot: {cmd} answers no reply of this bot", {}
        allowed = m.sender == reply.author or m.sender in lst.policy.maintainers
        if not allowed:
            return "skipped", (f"review-bot: {cmd} ignored: {m.sender} is neither the patch's author nor a "
                               "configured maintainer"), {"thread": reply.thread}
        self.state.set_mute(db, reply.list, reply.thread, cmd == "stop", m.sender, m.msgid, now)
        what = "muted" if cmd == "stop" else "unmuted"
        return "command", f"review-bot: {cmd}: thread {what}", {"thread": reply.thread, "by": m.sender}

    # -- review and plan ------------------------------------------------------------------------
    def options(self, lst: ListConfig) -> Options:
        tree = lst.tree or self.cfg.tree
        if tree and not (Path(tree) / ".git").exists() and not (Path(tree) / "HEAD").exists():
            self._once(tree, "tree", "config-warning", list=lst.name,
                       reason=f"kernel tree {tree} is not a git repository: reviewing from the mail only")
            tree = None
        # Replies print `review-bot explore MSGID --scenario …` reading the thread from this list again.
        return Options(tree=tree, origin=Origin("lore", lore_url=lst.url),
                       cache_path=str(self.cfg.cache_dir / "verdicts.sqlite"))

    def review(self, lst: ListConfig) -> None:
        queue = self.state.queue(lst.name)
        groups: dict[str, list[Any]] = {}
        for row in queue:
            groups.setdefault(row["thread"] or row["msgid"], []).append(row)
        budget = lst.policy.max_reviews_per_poll
        done = 0
        for thread, rows in groups.items():
            if self.stopping:
                return
            if done >= budget:
                for row in rows:
                    self._once(row["msgid"], "budget", "waiting", list=lst.name, msgid=row["msgid"],
                               reason=f"review budget of this poll ({budget}) spent: reviewed in a later poll")
                continue
            done += len(rows)
            self._current = {r["msgid"] for r in rows}
            self._review_group(lst, thread, rows)
            if not self.stopping:
                self._current = set()

    def _review_group(self, lst: ListConfig, thread: str, rows: list[Any]) -> None:
        msgids = [r["msgid"] for r in rows]
        opts = self.options(lst)
        try:
            tr = review_thread(self.http, lst.url, msgids, opts, self.cfg.fetch.cache_seconds)
            first_seen = {r["msgid"]: r["first_seen"] for r in rows}
            for mid in tr.missing:
                with self.state.tx() as db:
                    self.state.set_decision(db, lst.name, mid, "skipped", "no patch in it")
                decision("skipped", list=lst.name, msgid=mid, reason="no patch in it")
            for review in tr.reviews:
                self.record(lst, review, thread, first_seen.get(review.msgid, self.clock()), tr.titles)
        except Exception as e:  # noqa: BLE001 - one thread must not stop the bot; it is retried, then skipped
            self._failed(lst, [r["msgid"] for r in self.state.queue(lst.name) if r["msgid"] in msgids], e)

    def _failed(self, lst: ListConfig, msgids: list[str], e: BaseException) -> None:
        """Postings whose review broke stay queued for MAX_ATTEMPTS polls, then are skipped with why."""
        why = str(e) if isinstance(e, FetchError) else f"{type(e).__name__}: {e}"
        for mid in msgids:
            n = self.state.count_attempt(lst.name, mid)
            if n >= MAX_ATTEMPTS:
                with self.state.tx() as db:
                    self.state.set_decision(db, lst.name, mid, "skipped", f"not reviewed: {why}"[:300])
                decision("skipped", list=lst.name, msgid=mid, reason=f"not reviewed after {n} attempts: {why}"[:400])
            else:
                decision("review-failed", list=lst.name, msgid=mid, attempt=n, error=why[:300])

    def record(self, lst: ListConfig, review: Review, thread: str, first_seen: float,
               titles: dict[str, str]) -> None:
        summary = summarize(review)
        posting = review.posting
        page = ""
        if self.cfg.publish_dir is not None and review.relevant:
            try:
                page = write_page(self.cfg.publish_dir, lst.name, review)  # before the reply that links to it
            except OSError as e:
                decision("publish-failed", list=lst.name, msgid=review.msgid, error=f"{e.filename}: {e.strerror}")
        page_url = self.cfg.base_url + page if page and self.cfg.base_url else ""
        why = wanted(summary, lst)
        the_slot, pos = slot(posting), position(posting)
        hazards = ",".join(summary.hazards)
        if not why and self.state.muted(lst.name, thread):
            why = "thread muted"
        if not why and (taken := self.state.slot_taken(the_slot)):
            why = f"already answered: {taken}"
        if not why and (same := self.state.same_findings_sent(pos, hazards)):
            why = f"the same findings were already sent for this patch: {same}"
        planned = None
        if not why:
            planned = plan(review, summary, self.cfg, lst, list_addresses=self.addresses(lst), page_url=page_url)
            if planned is None:
                why = "no one to reply to (no valid author address, or the bot's own posting)"
        now = self.clock()
        not_before = first_seen + lst.policy.embargo_hours * 3600
        with self.state.tx() as db:
            self.state.add_review(db, lst.name, review.msgid, slot=the_slot, subject=review.subject[:300],
                                  series=_series_json(review, titles), verdict=summary.verdict,
                                  correctness=summary.correctness, other=summary.other, judged=summary.judged,
                                  base=summary.base, page=page, reviewed_at=now,
                                  summary={"hazards": list(summary.hazards)})
            if planned is not None:
                author = parse_mailbox(getattr(posting, "author", "") or "")
                self.state.plan_reply(db, Reply(
                    reply_msgid=planned.reply_msgid, list=lst.name, parent=review.msgid, slot=the_slot,
                    position=pos, hazards=hazards, thread=thread,
                    author=author.addr_spec.lower() if author else "", status="planned", planned_at=now,
                    first_seen=first_seen, attempt_at=None, sent_at=None, via=None,
                    recipients=planned.recipients, raw=planned.raw, to_list=planned.to_list))
            self.state.set_decision(db, lst.name, review.msgid, "reviewed",
                                    f"{summary.verdict}; reply {'planned' if planned else 'none: ' + why}"[:300])
        self._count(lst, "reviewed")
        if planned is not None:
            self._count(lst, "planned")
        decision("reviewed", list=lst.name, msgid=review.msgid, subject=review.subject[:120],
                 verdict=summary.verdict, correctness=summary.correctness, other=summary.other,
                 judged=summary.judged, page=page_url or page,
                 reply=planned.reply_msgid if planned else f"none: {why}",
                 embargo_until=int(not_before) if planned and not_before > now else None)

    def addresses(self, lst: ListConfig) -> set[str]:
        """The list's posting address(es): configured, else from the inbox's own config."""
        if lst.name not in self._addresses:
            found = {lst.address} if lst.address else set()
            if not found:
                try:
                    text = self.http.get(f"{lst.url}/_/text/config/raw", not_found="no inbox config",
                                         max_age=86400)
                    found = {a.lower() for a in _ADDRESS_LINE.findall(text.decode("utf-8", "replace"))}
                except FetchError as e:
                    decision("config-warning", list=lst.name, reason=f"{lst.url} gives no inbox config ({e}): "
                             "is it a public-inbox base? Without the list's address, replies offer no mail "
                             "commands; set address")
            self._addresses[lst.name] = {a for a in (b.addr_spec.lower() for b in mailboxes(sorted(found)))}
        return self._addresses[lst.name]

    # -- delivery -------------------------------------------------------------------------------
    def recover(self, lst: ListConfig) -> None:
        """Replies a killed run left in "sending": confirmed in the archive, or sent again later."""
        for r in self.state.replies(lst.name, ("sending",)):
            if self.stopping:
                return
            found = dl.in_archive(self.http, lst.url, r.reply_msgid) if r.to_list else False
            if found:
                self.state.set_reply(r.reply_msgid, "sent", sent_at=self.clock(), via="list archive")
                decision("confirmed", list=lst.name, reply=r.reply_msgid, parent=r.parent,
                         reason="an interrupted send: the list archive has it")
                continue
            if found is None:  # the archive cannot say now: sending again could send it twice
                self._once(r.reply_msgid, "no-archive", "unconfirmed", list=lst.name, reply=r.reply_msgid,
                           reason="an interrupted send: the list archive cannot be asked now; asked again next poll")
                continue
            age = self.clock() - (r.attempt_at or 0)
            if age >= self.cfg.smtp.confirm_minutes * 60:
                self.state.set_reply(r.reply_msgid, "planned")
                decision("resend", list=lst.name, reply=r.reply_msgid, parent=r.parent,
                         reason=f"an interrupted send, not in the list archive after {age / 60:.1f} min")
            else:
                self._once(r.reply_msgid, "unconfirmed", "unconfirmed", list=lst.name, reply=r.reply_msgid,
                           reason="an interrupted send: waiting for it to show in the list archive")

    def deliver(self, lst: ListConfig) -> None:
        now = self.clock()
        sent = self.state.sent_since(lst.name, now - 3600)
        cap = lst.policy.max_replies_per_hour
        for r in self.state.replies(lst.name, ("planned", "deferred")):
            if self.stopping and r.parent not in self._current:
                continue  # stopping: only the current postings' replies still go out
            if self.state.muted(lst.name, r.thread):
                self.state.set_reply(r.reply_msgid, "cancelled", via="thread muted")
                decision("cancelled", list=lst.name, reply=r.reply_msgid, parent=r.parent, reason="thread muted")
                continue
            if r.first_seen + lst.policy.embargo_hours * 3600 > now:
                continue  # embargo (the policy's current one): its end was logged with the review
            if sent >= cap:
                if r.status != "deferred":
                    self.state.set_reply(r.reply_msgid, "deferred")
                    decision("deferred", list=lst.name, reply=r.reply_msgid, parent=r.parent,
                             reason=f"max_replies_per_hour ({cap}) reached: sent when the hour allows")
                continue
            if self._send(lst, r):
                sent += 1

    def _send(self, lst: ListConfig, r: Reply) -> bool:
        if not lst.policy.send:
            path = self.outbox.put(r.reply_msgid, r.raw)
            self.state.set_reply(r.reply_msgid, "sent", sent_at=self.clock(), via=f"outbox {path.name}")
            self._count(lst, "outbox")
            decision("outbox", list=lst.name, reply=r.reply_msgid, parent=r.parent, path=str(path))
            return True
        self.state.set_reply(r.reply_msgid, "sending", attempt_at=self.clock())
        try:
            answer = dl.smtp_send(self.cfg.smtp, r.recipients, r.raw)
        except dl.TransientError as e:
            self.state.set_reply(r.reply_msgid, "planned")
            decision("send-failed", list=lst.name, reply=r.reply_msgid, error=str(e), retry="next poll")
            return False
        except dl.PermanentError as e:
            self.state.set_reply(r.reply_msgid, "failed", via=f"refused: {e}"[:300])
            decision("send-refused", list=lst.name, reply=r.reply_msgid, error=str(e))
            return False
        except dl.Unknown as e:
            decision("send-unknown", list=lst.name, reply=r.reply_msgid, error=str(e),
                     retry="looked up in the list archive first")
            return True
        self.state.set_reply(r.reply_msgid, "sent", sent_at=self.clock(), via=f"smtp {answer}"[:300])
        self._count(lst, "mailed")
        decision("sent", list=lst.name, reply=r.reply_msgid, parent=r.parent, to=r.recipients[:1],
                 cc=len(r.recipients) - 1, smtp=answer)
        return True

    def publish_index(self) -> None:
        if self.cfg.publish_dir is None:
            return
        try:
            write_index(self.cfg.publish_dir, self.state, [lst.name for lst in self.cfg.lists],
                        self.state.reply_status_by_parent())
        except OSError as e:
            self._once("index", "publish", "publish-failed", error=f"{e.filename}: {e.strerror}")

    def _count(self, lst: ListConfig, what: str) -> None:
        self.tally[lst.name][what] = self.tally[lst.name].get(what, 0) + 1

    def _once(self, key: str, what: str, event: str, **fields: Any) -> None:
        if (key, what) not in self._said:
            self._said.add((key, what))
            decision(event, **fields)


def summary_line(lst: ListConfig, t: dict[str, int]) -> str:
    """What one pass did to a list, for a person running --once."""
    sent = (f"{t.get('mailed', 0)} mailed" if lst.policy.send else f"{t.get('outbox', 0)} written to the outbox")
    return (f"{lst.name}: {t.get('new', 0)} new message(s), {t.get('reviewed', 0)} posting(s) reviewed, "
            f"{t.get('planned', 0)} reply(s) planned, {sent}")


def warm_up() -> None:
    """Read rules/ and models/ once before the first poll, so the first posting's reply is not late."""
    from bot.classify import catalog
    from bot.cmodel.models import load_models
    from bot.judge import Judge  # noqa: F401 - the judgement stage and its parsers, imported once
    from bot.sites.rules import load as load_site_rules

    load_models()
    catalog()
    load_site_rules()


def _series_json(review: Review, titles: dict[str, str]) -> str:
    s = review.posting.series if review.posting is not None else None
    if s is None:
        return "null"
    title = titles.get(s.key) or parse_subject(review.subject).title
    return json.dumps({"key": f"{s.key}|v{s.revision}", "revision": s.revision, "index": s.index,
                       "total": s.total, "title": title})


__all__ = ["Watcher", "summary_line", "user_agent"]
