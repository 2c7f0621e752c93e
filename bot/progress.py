"""A one-line status on a terminal while a long command runs (scan): redrawn in place, never on a pipe.

The line is rewritten with "\\r" at most RATE times a second and cut to the terminal's width, so it
never wraps (a wrapped line could not be redrawn). While judging, a SIGALRM interval timer
redraws it every TICK seconds or so too: postings judged on other cores come back in batches, and the
elapsed time and the estimate must not freeze in between. (A timer, not a thread: the judging
pool forks, and a child must not inherit a lock a thread held; a forked child has no timer.)
Log records printed meanwhile go through StatusAwareHandler,
which erases the line first and redraws it after, so the two never mix.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any, TextIO

RATE = 10  # redraws per second at most
TICK = 0.25  # at most this long between redraws while nothing arrives (the timer fires twice as often)
_ERASE = "\r\x1b[K"


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Status:
    """The status line of one command; a no-op unless `out` is a terminal."""

    active: Status | None = None  # the line on screen now, for StatusAwareHandler

    def __init__(self, out: TextIO, label: str) -> None:
        self.out = out
        self.label = label
        self.enabled = bool(getattr(out, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.text = ""
        self.draws = 0  # how many times the line was redrawn (for the rate the tests measure)
        self._busy = 0  # drawing now (nesting depth): a tick that lands meanwhile is skipped
        self._old_alarm: Any = None

    # ---- phases -------------------------------------------------------------------------------
    def reading(self, messages: int) -> None:
        noun = "message" if messages == 1 else "messages"
        self._show(f"reading {messages} {noun}, {_duration(time.monotonic() - self.start)} elapsed")

    def begin_judging(self, total: int) -> None:
        self.total = total
        self.judged = 0
        self.relevant = 0
        self.judge_start = time.monotonic()
        self._show(self._judging(), force=True)
        if self.enabled and threading.current_thread() is threading.main_thread():
            self._old_alarm = signal.signal(signal.SIGALRM, self._tick)
            signal.setitimer(signal.ITIMER_REAL, TICK / 2, TICK / 2)

    def _tick(self, _signum: int, _frame: Any) -> None:
        if not self._busy and time.monotonic() - self.last_draw >= TICK:
            try:
                self._show(self._judging(), force=True)
            except (RuntimeError, OSError):  # stderr was mid-write elsewhere (reentrant) or is gone
                pass

    def stop(self) -> None:
        """End the timer and take the line off the screen (an error or ^C ends the command)."""
        self._stop_ticking()
        self.erase()
        if Status.active is self:
            Status.active = None

    def _stop_ticking(self) -> None:
        if self._old_alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_alarm)
            self._old_alarm = None

    def judged_one(self, relevant: bool) -> None:
        self.judged += 1
        self.relevant += int(relevant)
        self._show(self._judging(), force=self.judged == self.total)

    def _judging(self) -> str:
        now = time.monotonic()
        spent = now - self.judge_start
        done, total = self.judged, max(self.total, 1)
        width = 20
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        eta = f", ETA {_duration(spent / done * (total - done))}" if 0 < done < total else ""
        return (f"judging {done}/{self.total} postings [{bar}] {self.relevant} relevant, "
                f"{_duration(now - self.start)} elapsed{eta}")

    # ---- drawing ------------------------------------------------------------------------------
    def _show(self, text: str, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last_draw < 1.0 / RATE:
            self.text = text
            return
        self.text = text
        self.last_draw = now
        self.redraw()

    def redraw(self) -> None:
        if not self.enabled or not self.text:
            return
        self._busy += 1
        try:
            self._draw()
        finally:
            self._busy -= 1

    def _draw(self) -> None:
        try:
            cols = os.get_terminal_size(self.out.fileno()).columns or 100
        except (OSError, ValueError, AttributeError):
            cols = 100
        line = f"{self.label}: {self.text}"
        self.out.write(_ERASE + line[: max(cols - 1, 10)])
        self.out.flush()
        self.draws += 1
        Status.active = self

    def erase(self) -> None:
        if self.enabled and Status.active is self:
            self._busy += 1
            try:
                self.out.write(_ERASE)
                self.out.flush()
            finally:
                self._busy -= 1

    def finish(self, summary: str) -> None:
        """Replace the status with one final line (kept on screen), or nothing when not a terminal."""
        if not self.enabled:
            return
        self._stop_ticking()
        self.erase()
        self.out.write(f"{self.label}: {summary} in {_duration(time.monotonic() - self.start)}\n")
        self.out.flush()
        if Status.active is self:
            Status.active = None


class StatusAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log records on stderr that erase the status line before them and redraw it after."""

    def emit(self, record: logging.LogRecord) -> None:
        status = Status.active
        if status is not None and status.out is self.stream:
            status._busy += 1  # no tick between the erase, the record and the redraw
            try:
                status.erase()
                super().emit(record)
                status.redraw()
            finally:
                status._busy -= 1
        else:
            super().emit(record)
