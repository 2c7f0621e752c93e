"""`review-bot watch` with a kernel tree in its config: a posting that names its base-commit is judged
on the real file of that tree at that commit, and the reply says so; one that names none is judged
from the mail with the reference model, and the reply says that instead."""

from __future__ import annotations

from pathlib import Path

from tests.kernel_tree import KernelTree
from tests.pinbox import PublicInbox
from tests.smtpsink import Sink
from tests.watchkit import LIST_ADDRESS, from_real_07, watch_once, write_config


def _with_base(raw: bytes, commit: str) -> bytes:
    """The posting as `git format-patch --base` writes it: a base-commit trailer after the diff."""
    return raw.rstrip(b"\n") + b"\n\nbase-commit: " + commit.encode() + b"\n"


def test_reply_names_the_base_the_verdict_stands_on(tmp_path: Path, pinbox: PublicInbox,
                                                    kernel_tree: KernelTree) -> None:
    inbox = pinbox.add_inbox("watch-tree", "watch-tree@example.org")
    on_tree, mail_only = "tree-base@test.example.org", "tree-none@test.example.org"
    inbox.deliver(_with_base(from_real_07(on_tree, "[PATCH] s390: add pte_free_defer(), on a base"),
                             kernel_tree.base))
    inbox.deliver(from_real_07(mail_only, "[PATCH] s390: add pte_free_defer(), no base"))
    sink = Sink(archive=inbox, list_address=LIST_ADDRESS)
    try:
        cfg = write_config(tmp_path / "watch.toml", inbox.base, sink.port, since=None,
                           extra=f'[kernel]\ntree = "{kernel_tree.repo}"\n')
        run = watch_once(cfg)
        assert run.returncode == 0, run.stderr[-3000:]
        bodies = {m.in_reply_to: " ".join(m.msg.get_content().split()) for m in sink.messages()}
        assert set(bodies) == {on_tree, mail_only}
        assert f"on the kernel tree {kernel_tree.repo} at {kernel_tree.base}" in bodies[on_tree]
        assert "on the reference model" in bodies[mail_only] and kernel_tree.base not in bodies[mail_only]
        reviewed = {e["msgid"]: e for e in run.of("reviewed")}
        assert reviewed[on_tree]["verdict"] == reviewed[mail_only]["verdict"] == "findings"
    finally:
        sink.stop()
