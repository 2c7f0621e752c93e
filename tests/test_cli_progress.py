"""scan's status line: it advances on a terminal while the year is judged, and is absent on a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

from tests import corpus
from tests.conftest import REPO, run_cli

JUDGING = re.compile(r"scan: judging (\d+)/(\d+) postings \[[#-]+\] (\d+) relevant, \S+ elapsed(?:, ETA (\S+))?")


def test_progress_advances_on_a_terminal_while_the_year_is_judged() -> None:
    year = corpus.year()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "scan", "--mbox", str(year), "--format", "json"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    seen: list[tuple[float, int, int, int, str | None]] = []  # (time, judged, total, relevant, eta)
    buf = ""
    deadline = time.monotonic() + 240
    try:
        # read redraws until the judging phase has been shown advancing for a while (then stop early:
        # the rest of the year adds nothing to what this test shows)
        while time.monotonic() < deadline and not (len(seen) >= 12 and seen[-1][0] - seen[0][0] >= 1.0):
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
    assert len(seen) >= 12, (seen, buf[-500:])
    judged = [s[1] for s in seen]
    assert judged == sorted(judged) and judged[-1] > judged[0] + 10, judged
    assert len({s[2] for s in seen}) == 1 and seen[0][2] > 3000  # every posting of the year, fixed total
    assert all(s[4] for s in seen if 0 < s[1] < s[2])  # an ETA while judging
    rate = (len(seen) - 1) / (seen[-1][0] - seen[0][0])
    assert 2 <= rate <= 12, rate  # live (several redraws a second), never a flood


def test_no_progress_on_a_pipe() -> None:
    res = run_cli("scan", "--mbox", str(corpus.thread(1)), "--format", "json")
    assert res.returncode in (0, 1), res.stderr
    assert res.stderr == ""
