"""The watch config: the architecture's example reads as it is, mistakes are one line naming the key,
and every key of the schema is documented in the README and in deploy/review-bot.toml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.watch.config import ConfigError, load, parse, schema_keys
from tests.conftest import REPO, run_cli

ARCHITECTURE_EXAMPLE = '''
[lore]
url = "https://lore.kernel.org/linux-s390"   # a public-inbox base
poll_seconds = 300
[kernel]
tree = "/srv/linux"                          # optional, for full post-images
[smtp]
host = "127.0.0.1"
port = 25
from = "review-bot <review-bot@example.org>"
[policy]                                     # per list, off by default
send = false                                 # dry run: write replies to outbox/
reply_to = "all"                             # all | author | none
cc_individuals = true
embargo_hours = 0
max_replies_per_hour = 10
send_positive_review = false
ignored_senders = []
[publish]                                    # optional: HTML page per review
dir = "/srv/review-bot/www"
base_url = "https://review-bot.example.org/"
[state]
path = "state.sqlite"
'''


def test_the_architecture_example_reads(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text(ARCHITECTURE_EXAMPLE)
    cfg = load(p)
    (lst,) = cfg.lists
    assert lst.name == "linux-s390" and lst.policy.send is False and lst.policy.reply_to == "all"
    assert cfg.smtp.address == "review-bot@example.org" and cfg.smtp.message_id_domain == "example.org"
    assert cfg.smtp.envelope_from == "review-bot@example.org"
    assert cfg.state_path == tmp_path / "state.sqlite" and cfg.outbox == tmp_path / "outbox"
    assert cfg.base_url == "https://review-bot.example.org/"


def test_several_lists_override_the_policy_key_by_key(tmp_path: Path) -> None:
    cfg = parse({"policy": {"send": True, "max_replies_per_hour": 3},
                 "list": [{"url": "https://lore.kernel.org/linux-mm"},
                          {"url": "https://lore.kernel.org/linux-s390", "since": "2024-01-01",
                           "policy": {"send": False, "maintainers": ["A@Example.org"]}}],
                 "smtp": {"from": "bot <bot@example.net>", "message_id_domain": "ids.example.net"}},
                tmp_path / "c.toml")
    mm, s390 = cfg.lists
    assert (mm.name, mm.policy.send, mm.policy.max_replies_per_hour) == ("linux-mm", True, 3)
    assert (s390.policy.send, s390.policy.max_replies_per_hour, s390.policy.maintainers) == (False, 3, ("a@example.org",))
    assert s390.since == 1704067200.0 and cfg.smtp.message_id_domain == "ids.example.net"


@pytest.mark.parametrize(("text", "message"), [
    ('[lore]\nurl = "https://x/y"\n[policy]\nreply_to = "some"\n', "policy.reply_to: 'some' is not one of"),
    ('[lore]\nurl = "https://x/y"\n[policy]\nsend = "yes"\n', "policy.send: 'yes' is not of type 'boolean'"),
    ('[lore]\nurl = "https://x/y"\n[policy]\nsned = true\n', "policy: Additional properties are not allowed ('sned'"),
    ('[lore]\nurl = "ftp://x/y"\n', "lore.url: 'ftp://x/y' does not match"),
    ('[lore]\nurl = "https://x/y"\n[smtp]\nfrom = "not a mailbox"\n', "smtp.from: 'not a mailbox' is not a mailbox"),
    ('[lore]\nurl = "https://x/y"\nsince = "last tuesday"\n', "lore.since: 'last tuesday' is not a date"),
    ('[smtp]\nport = 25\n', "no list to watch"),
    ('[[list]]\nname = "a"\n', "list.0: 'url' is a required property"),
    ('[lore]\nurl = "https://x/y"\n[publish]\nbase_url = "https://p/"\n', "publish.base_url needs publish.dir"),
    ("[lore\n", "not valid TOML"),
])
def test_mistakes_are_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load(p)
    assert message in str(e.value) and "\n" not in str(e.value) and str(p) in str(e.value)
    res = run_cli("status", "--config", str(p))
    assert res.returncode == 2 and len(res.stderr_lines) == 1 and message in res.stderr


def _documented_name(key: str) -> str:
    """[[list]] keys are documented once, as the [lore] / [policy] keys they repeat."""
    if key.startswith("list.policy."):
        return "policy." + key.removeprefix("list.policy.")
    if key.startswith("list."):
        return "lore." + key.removeprefix("list.")
    return key


def test_every_key_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("### Config reference"):]
    missing = [k for k in schema_keys() if f"`{_documented_name(k)}`" not in table]
    assert missing == []


def test_every_key_is_in_the_example_config() -> None:
    text = (REPO / "deploy" / "review-bot.toml").read_text()
    section, found = "", set()
    for line in text.splitlines():
        bare = line.lstrip("# ").rstrip()
        m = re.match(r"^\[\[?([a-z.]+)\]?\]", bare)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([a-z_]+) = ", bare)
        if m and section:
            found.add(f"{section}.{m.group(1)}")
    assert sorted(set(schema_keys()) - found) == []
    cfg = load(REPO / "deploy" / "review-bot.toml")  # and it is a valid config as shipped
    assert cfg.lists[0].policy.send is False


def test_status_without_state(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[lore]\nurl = "https://lore.kernel.org/linux-s390"\n')
    res = run_cli("status", "--config", str(p))
    assert res.returncode == 0, res.stderr
    assert "list linux-s390 (https://lore.kernel.org/linux-s390), outbox only (send = false)" in res.stdout
    assert "last poll: never" in res.stdout and not (tmp_path / "state.sqlite").exists()
