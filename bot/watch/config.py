"""The watch config: TOML, checked against one schema on load, into frozen dataclasses.

The file has the sections of docs/architecture.md ([lore], [kernel], [smtp], [policy], [publish],
[state]) plus [fetch], and one [[list]] table per watched list for more than one. [policy] holds
the defaults; a list's own [list.policy] overrides them key by key. Relative paths are relative
to the config file. A bad file is one line naming the key: "FILE: policy.reply_to: 'some' is not
one of ['all', 'author', 'none']".
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from bot.report.reply import parse_mailbox


class ConfigError(Exception):
    """The config cannot be used: one line, naming the file and the key."""


def _s(description: str, **kw: Any) -> dict[str, Any]:
    return {"description": description, **kw}


_STR = {"type": "string"}
_URL = {"type": "string", "pattern": "^https?://[^\\s]+$"}
_ADDRS = {"type": "array", "items": {"type": "string", "minLength": 1}}

POLICY = {
    "send": _s("false: replies go to the outbox maildir, nothing is mailed (the default)", type="boolean"),
    "reply_to": _s("who the reply is addressed to: all (author, Cc the posting's To/Cc), author, none",
                   enum=["all", "author", "none"]),
    "cc_individuals": _s("with reply_to = all: Cc the people of the posting's To/Cc too, not only the list",
                         type="boolean"),
    "embargo_hours": _s("hours between first seeing a posting and replying to it", type="number", minimum=0),
    "max_replies_per_hour": _s("replies sent to this list in any hour; the rest wait, in order",
                               type="integer", minimum=0),
    "send_positive_review": _s("also reply when a relevant patch is judged and nothing is found",
                               type="boolean"),
    "send_cost_notes": _s("mail cost and noise findings too; off: a reply lists correctness findings only "
                          "and a posting with only cost notes gets no mail (its page still shows them)",
                          type="boolean"),
    "review_reply_diffs": _s("review a diff posted inside a reply (a reviewer's proposed fix) like a patch",
                             type="boolean"),
    "ignored_senders": _s("addresses (or *@domain) whose postings are never reviewed or answered", **_ADDRS),
    "maintainers": _s("addresses that may send 'review-bot: stop' / 'unmute' for any thread, "
                      "besides the patch's author", **_ADDRS),
    "max_reviews_per_poll": _s("postings reviewed per poll; the rest stay queued for the next poll",
                               type="integer", minimum=1),
}

LIST = {
    "name": _s("short name of the list, used in logs, state and page paths (default: last URL component)",
               type="string", pattern="^[A-Za-z0-9._-]+$"),
    "url": _s("the list's public-inbox base URL, e.g. https://lore.kernel.org/linux-s390", **_URL),
    "address": _s("the list's posting address (default: the inbox's own config, else List-Id)", **_STR),
    "poll_seconds": _s("seconds between polls of this list", type="number", minimum=1),
    "since": _s("the first poll looks back to this date (YYYY-MM-DD or ISO time; default: one day)",
                **_STR),
    "tree": _s("kernel git tree for this list (default: [kernel] tree)", **_STR),
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "lore": _s("the watched list, when there is one (same keys as a [[list]] table)", type="object",
                   additionalProperties=False, properties=LIST),
        "list": _s("one table per watched list: the [lore] keys plus a [list.policy] table", type="array",
                   items={"type": "object", "additionalProperties": False, "required": ["url"],
                          "properties": {**LIST, "policy": {"type": "object", "additionalProperties": False,
                                                            "properties": POLICY}}}),
        "kernel": _s("the kernel tree for full post-images", type="object", additionalProperties=False,
                     properties={"tree": _s("path of a kernel git tree (optional)", **_STR)}),
        "smtp": _s("the mail server and the bot's identity", type="object", additionalProperties=False,
                   properties={
                       "host": _s("SMTP server (default 127.0.0.1)", **_STR),
                       "port": _s("SMTP port (default 25)", type="integer", minimum=1, maximum=65535),
                       "from": _s("From: of every reply, 'Name <address>'", **_STR),
                       "contact": _s("who runs the bot (an address or URL): named in every reply's footer "
                                     "and sent in the User-Agent (default: the From address)", **_STR),
                       "envelope_from": _s("SMTP MAIL FROM (default: the From address)", **_STR),
                       "message_id_domain": _s("domain of the replies' Message-IDs (default: the From domain)",
                                               type="string", pattern="^[A-Za-z0-9.-]+$"),
                       "starttls": _s("STARTTLS before sending", type="boolean"),
                       "username": _s("SMTP AUTH user (with password_file)", **_STR),
                       "password_file": _s("file holding the SMTP AUTH password", **_STR),
                       "timeout_seconds": _s("SMTP connect and command timeout", type="number", minimum=1),
                       "confirm_minutes": _s("after a crash in the middle of sending, how long to look for "
                                             "the reply in the list archive before sending it again",
                                             type="number", minimum=0),
                   }),
        "policy": _s("reply policy, the default of every list (mute by default)", type="object",
                     additionalProperties=False, properties=POLICY),
        "publish": _s("an HTML page per review and an index", type="object", additionalProperties=False,
                      properties={"dir": _s("directory the pages are written to", **_STR),
                                  "base_url": _s("URL of that directory; replies link to their page", **_URL)}),
        "state": _s("where the bot keeps what it has seen and sent", type="object", additionalProperties=False,
                    properties={"path": _s("the sqlite state database (default state.sqlite)", **_STR),
                                "outbox": _s("maildir that send = false writes to (default outbox)", **_STR),
                                "cache": _s("HTTP and verdict cache directory (default cache)", **_STR)}),
        "fetch": _s("how the bot talks to public-inbox servers", type="object", additionalProperties=False,
                    properties={
                        "timeout_seconds": _s("read timeout per request", type="number", minimum=1),
                        "retries": _s("further attempts on errors, 429 and 5xx", type="integer", minimum=0,
                                      maximum=10),
                        "backoff_seconds": _s("first wait between attempts; doubles each time",
                                              type="number", minimum=0),
                        "max_thread_mb": _s("cap on a downloaded thread or search result (on the wire, "
                                            "and again decompressed)",
                                            type="number", minimum=1),
                        "cache_seconds": _s("a thread fetched this recently is reused when it holds "
                                            "every message needed", type="number", minimum=0),
                    }),
    },
}


@dataclass(frozen=True)
class Policy:
    send: bool = False
    reply_to: str = "all"
    cc_individuals: bool = True
    embargo_hours: float = 0.0
    max_replies_per_hour: int = 10
    send_positive_review: bool = False
    send_cost_notes: bool = False
    review_reply_diffs: bool = False
    ignored_senders: tuple[str, ...] = ()
    maintainers: tuple[str, ...] = ()
    max_reviews_per_poll: int = 200


@dataclass(frozen=True)
class ListConfig:
    name: str
    url: str
    policy: Policy
    address: str = ""
    poll_seconds: float = 300.0
    since: float | None = None  # epoch seconds
    tree: str | None = None


@dataclass(frozen=True)
class Smtp:
    sender: str  # "Name <addr>"
    address: str  # the From address
    contact: str = ""
    host: str = "127.0.0.1"
    port: int = 25
    envelope_from: str = ""
    message_id_domain: str = ""
    starttls: bool = False
    username: str = ""
    password_file: str = ""
    timeout_seconds: float = 30.0
    confirm_minutes: float = 30.0


@dataclass(frozen=True)
class Fetch:
    timeout_seconds: float = 120.0
    retries: int = 3
    backoff_seconds: float = 1.0
    max_thread_mb: float = 64.0
    cache_seconds: float = 60.0


@dataclass(frozen=True)
class Config:
    path: Path
    lists: tuple[ListConfig, ...]
    smtp: Smtp
    fetch: Fetch
    state_path: Path
    outbox: Path
    cache_dir: Path
    publish_dir: Path | None = None
    base_url: str = ""
    tree: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def list_named(self, name: str) -> ListConfig | None:
        return next((lst for lst in self.lists if lst.name == name), None)


DEFAULT_SENDER = "review-bot <review-bot@localhost>"


def load(path: str | Path) -> Config:
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read config {p}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    return parse(raw, p)


def parse(raw: dict[str, Any], path: Path) -> Config:
    data = _jsonable(raw)
    err = next(iter(sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path))),
               None)
    if err is not None:
        where = ".".join(str(k) for k in err.path) or "(top level)"
        raise ConfigError(f"{path}: {where}: {err.message}")
    here = path.resolve().parent

    def rel(value: str | None, default: str) -> Path:
        v = Path(value or default).expanduser()
        return v if v.is_absolute() else here / v

    smtp = _smtp(data.get("smtp", {}), path)
    defaults = _policy(Policy(), data.get("policy", {}))
    tables = ([data["lore"]] if "lore" in data else []) + list(data.get("list", []))
    if not tables:
        raise ConfigError(f"{path}: no list to watch: give [lore] url = ... or [[list]] tables")
    lists = []
    for i, t in enumerate(tables):
        where = "lore" if "lore" in data and i == 0 else f"list.{i - ('lore' in data)}"
        if "url" not in t:
            raise ConfigError(f"{path}: {where}: 'url' is a required property")
        lists.append(_list(t, defaults, path, where, rel))
    names = [lst.name for lst in lists]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise ConfigError(f"{path}: two lists are named {dup!r}: give each a distinct name")
    pub = data.get("publish", {})
    if pub.get("base_url") and not pub.get("dir"):
        raise ConfigError(f"{path}: publish.base_url needs publish.dir (where the pages are written)")
    st = data.get("state", {})
    f = data.get("fetch", {})
    tree = data.get("kernel", {}).get("tree")
    return Config(
        path=path, lists=tuple(lists), smtp=smtp,
        fetch=Fetch(**{k: f[k] for k in (x.name for x in fields(Fetch)) if k in f}),
        state_path=rel(st.get("path"), "state.sqlite"), outbox=rel(st.get("outbox"), "outbox"),
        cache_dir=rel(st.get("cache"), "cache"),
        publish_dir=rel(pub["dir"], "") if pub.get("dir") else None,
        base_url=(pub.get("base_url") or "").rstrip("/") + "/" if pub.get("base_url") else "",
        tree=str(rel(tree, "")) if tree else None,
    )


def _jsonable(v: Any) -> Any:
    """TOML dates become ISO strings, so the schema (JSON types) can check everything else."""
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return v


def _smtp(t: dict[str, Any], path: Path) -> Smtp:
    sender = t.get("from", DEFAULT_SENDER)
    box = parse_mailbox(sender)
    if box is None:
        raise ConfigError(f"{path}: smtp.from: {sender!r} is not a mailbox ('Name <address>')")
    env = t.get("envelope_from", "")
    if env and parse_mailbox(env) is None:
        raise ConfigError(f"{path}: smtp.envelope_from: {env!r} is not an address")
    kw = {k: t[k] for k in ("host", "port", "starttls", "username", "password_file", "timeout_seconds",
                            "confirm_minutes") if k in t}
    return Smtp(sender=str(box), address=box.addr_spec, contact=t.get("contact") or box.addr_spec,
                envelope_from=parse_mailbox(env).addr_spec if env else box.addr_spec,
                message_id_domain=t.get("message_id_domain") or box.domain, **kw)


def _policy(base: Policy, t: dict[str, Any]) -> Policy:
    kw = dict(t)
    for k in ("ignored_senders", "maintainers"):
        if k in kw:
            kw[k] = tuple(a.strip().lower() for a in kw[k])
    return replace(base, **kw)


def _list(t: dict[str, Any], defaults: Policy, path: Path, where: str, rel: Any) -> ListConfig:
    url = t["url"].rstrip("/")
    name = t.get("name") or urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or urlsplit(url).netloc
    since = None
    if "since" in t:
        try:
            when = dt.datetime.fromisoformat(t["since"])
        except ValueError:
            raise ConfigError(f"{path}: {where}.since: {t['since']!r} is not a date (YYYY-MM-DD)") from None
        since = (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()
    return ListConfig(name=name, url=url, policy=_policy(defaults, t.get("policy", {})),
                      address=t.get("address", "").strip().lower(), poll_seconds=float(t.get("poll_seconds", 300)),
                      since=since, tree=str(rel(t["tree"], "")) if t.get("tree") else None)


def schema_keys() -> list[str]:
    """Every key as 'section.key'; a [[list]] table's keys as list.key and list.policy.key."""
    out = []
    for sec, spec in SCHEMA["properties"].items():
        props = spec.get("properties") or spec.get("items", {}).get("properties", {})
        for key in props:
            out += [f"list.policy.{k}" for k in POLICY] if (sec, key) == ("list", "policy") else [f"{sec}.{key}"]
    return out
