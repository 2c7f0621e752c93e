"""scan on the 2023 year: the status line advances on a terminal while the postings are judged (and is
absent on a pipe), and the text output is one line per relevant posting."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

from tests import corpus
from tests.conftest import REPO, run_cli

JUDGING = re.compile(r"scan: judging (\d+)/(\d+) postings \[[#-]+\] (\d+) relevant, \S+ elapsed(?:, ETA (\S+))?")


FINAL = re.compile(r"scan: (\d+) messages, (\d+) postings judged, (\d+) relevant in \S+\r?\n")
ROW = re.compile(r"^  \d{4}-\d\d-\d\d  .+  (findings: [A-Z_]+.*|judged clean.*|not judged: .+)$")


def test_scan_of_the_year_on_a_terminal(tmp_path) -> None:  # noqa: ANN001
    year = corpus.year()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    # a cache of its own: judged for real, whatever the session's cache already holds of the year
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = (tmp_path / "scan.txt").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "scan", "--mbox", str(year)],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    seen: list[tuple[float, int, int, int, str | None]] = []  # (time, judged, total, relevant, eta)
    buf = ""
    tail = ""
    deadline = time.monotonic() + 400
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536).decode("utf-8", "replace")
            except OSError:  # EIO: the child closed the terminal
                break
            buf += chunk
            tail = (tail + chunk)[-400:]
            *frames, buf = buf.split("\r")
            for frame in frames:
                m = JUDGING.search(frame)
                if m:
                    seen.append((time.monotonic(), int(m[1]), int(m[2]), int(m[3]), m[4]))
                assert len(frame.replace("\x1b[K", "")) < 120, frame  # cut to the terminal: never wraps
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        os.close(master)
        out.close()
    assert proc.returncode == 1, tail  # the year has correctness findings
    assert len(seen) >= 12, (seen, buf[-500:])
    judged = [s[1] for s in seen]
    assert judged == sorted(judged) and judged[-1] > judged[0] + 10, judged
    assert len({s[2] for s in seen}) == 1 and seen[0][2] > 3000  # every posting of the year, fixed total
    assert all(s[4] for s in seen if 0 < s[1] < s[2])  # an ETA while judging
    rate = (len(seen) - 1) / (seen[-1][0] - seen[0][0])
    assert 2 <= rate <= 12, rate  # live (several redraws a second), never a flood
    final = FINAL.search(tail)
    assert final, tail  # the status ends in one kept line with the totals
    assert int(final[2]) == seen[0][2]
    relevant = int(final[3])
    # stdout: the counts, then exactly one line per relevant posting, with its verdict
    lines = (tmp_path / "scan.txt").read_text().splitlines()
    assert lines[0].startswith(f"review-bot: {final[1]} messages: ") and lines[1] == ""
    assert lines[2].split() == ["date", "posting", "verdict"]
    rows = lines[3:]
    assert len(rows) == relevant > 50, (len(rows), relevant)
    assert all(ROW.match(r) for r in rows), [r for r in rows if not ROW.match(r)][:3]
    counted = re.search(r"\((\d+) with correctness findings, (\d+) judged clean, (\d+) not judged", lines[0])
    assert counted and sum(map(int, counted.groups())) == relevant, lines[0]


def test_no_progress_on_a_pipe() -> None:
    res = run_cli("scan", "--mbox", str(corpus.thread(1)), "--format", "json")
    assert res.returncode in (0, 1), res.stderr
    assert res.stderr == ""


def test_status_ticks_while_nothing_arrives_and_stops_cleanly() -> None:
    from bot.progress import TICK, Status

    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as term:
        before = signal.getsignal(signal.SIGALRM)
        status = Status(term, "scan")
        status.begin_judging(10)
        first = status.draws
        time.sleep(TICK * 4.5)  # no posting judged meanwhile: the timer redraws elapsed and ETA
        assert status.draws >= first + 2, (first, status.draws)
        status.stop()
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is before
        drawn = status.draws
        time.sleep(TICK * 2)
        assert status.draws == drawn  # nothing after stop()
    os.close(master)
