"""The HTML page: self-contained, escaped, SVG timeline; rendered for real in headless Chromium."""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.findings import TraceStep
from bot.report import render
from bot.report.timeline import grace_periods
from tests.test_report_fixtures import (
    make_posting,
    make_report,
    make_review,
    mmgrab_cost,
    preexisting_noise,
    rcu_head_shared,
)

CONTEXTS = ["CPU0", "RCU", "CPU1", "softirq@CPU0"]


class _Svg(HTMLParser):
    """Collects, per timeline <svg>, its lanes, steps and grace-period bands."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[dict[str, list]] = []
        self.depth = 0
        self.scripts = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "script":
            self.scripts += 1
        for key in ("src", "srcset"):
            if a.get(key):
                self.external.append(a[key] or "")
        if tag == "link":
            self.external.append(a.get("href") or "")
        if tag == "svg" and "timeline" in cls:
            self.svgs.append({"lanes": [], "steps": [], "bands": []})
        if not self.svgs:
            return
        svg = self.svgs[-1]
        if tag == "g" and "lane" in cls:
            svg["lanes"].append(a.get("data-ctx"))
        if tag == "g" and "step" in cls:
            svg["steps"].append((a.get("data-step"), a.get("data-ctx"), "violation" in cls))
        if tag == "rect" and "gp-band" in cls:
            svg["bands"].append((int(a["x"] or 0), int(a["width"] or 0)))


def _parse(html: str) -> _Svg:
    p = _Svg()
    p.feed(html)
    return p


def _page() -> str:
    return render(make_report([make_review([rcu_head_shared(), mmgrab_cost(), preexisting_noise()])]), "html")


def test_page_is_self_contained_with_one_lane_per_context() -> None:
    html = _page()
    p = _parse(html)
    assert p.scripts == 0 and p.external == []
    assert "<style>" in html and "@import" not in html and "url(" not in html
    assert len(p.svgs) == 1  # only the finding with a trace gets a timeline
    svg = p.svgs[0]
    assert svg["lanes"] == CONTEXTS
    assert [s[0] for s in svg["steps"]] == [str(n) for n in range(1, 7)]
    assert [s[0] for s in svg["steps"] if s[2]] == ["4"]  # the violating step, and only it
    assert len(svg["bands"]) == 1


def test_page_shows_quoted_code_and_every_section() -> None:
    html = _page()
    assert '<span class="mark">+\tcall_rcu(&amp;page-&gt;rcu_head, pte_free_now);</span>' in html
    for heading in ("Invariant violated", "Why it breaks", "Why it matters", "Fix the thread converged on"):
        assert f"<h4>{heading}</h4>" in html
    assert 'href="https://lore.kernel.org/r/ZHSwWgLWaEd+zi%2Fg@casper.infradead.org"' in html
    assert "Pre-existing (not introduced by this patch)" in html
    assert html.index("RCU_HEAD_SHARED") < html.index("MMGRAB_PER_TABLE") < html.index("PGSTE_WARN")


def test_grace_period_convention() -> None:
    steps = [
        TraceStep("CPU0", "call_rcu()"),
        TraceStep("RCU", "grace period starts"),
        TraceStep("CPU1", "reader"),
        TraceStep("RCU", "grace period ends"),
        TraceStep("CPU0", "synchronize_rcu(): waits for a grace period"),  # not RCU's own step
    ]
    assert grace_periods(steps) == [(1, 3)]
    one_step = [TraceStep("CPU0", "x"), TraceStep("RCU", "grace period 1 starts and ends"), TraceStep("CPU1", "y")]
    assert grace_periods(one_step) == [(1, 1)]
    assert grace_periods([TraceStep("RCU", "callbacks run"), TraceStep("CPU0", "x")]) == [(0, 2)]
    assert grace_periods([TraceStep("CPU0", "x"), TraceStep("CPU1", "grace period elapsed")]) == [(-1, 1)]
    assert grace_periods([TraceStep("CPU0", "x")]) == []


def test_hostile_text_is_escaped_everywhere() -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    posting = make_posting(subject=evil, author=f"{evil} <a@b.org>")
    finding = rcu_head_shared(
        title=evil,
        explanation=evil,
        function=evil,
        file=evil,
        references=[evil],
        trace=[TraceStep(evil, evil, evil, violation=True)],
    )
    review = make_review([finding], posting=posting)
    review.subject = evil
    review.msgid = evil
    html = render(make_report([review]), "html")
    p = _parse(html)
    assert p.scripts == 0 and p.external == []
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert p.svgs[0]["lanes"] == [evil.replace("\t", " ")]


# --- real rendering in headless Chromium ---------------------------------------------------------

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium): HTML not rendered"
)


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--window-size=1200,900",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@needs_chromium
def test_chromium_screenshot_is_non_trivial(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_page(), encoding="utf-8")
    png = tmp_path / "report.png"
    proc = _chromium(tmp_path, f"--screenshot={png}", page.as_uri())
    assert png.exists(), proc.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    assert len(data) > 30_000  # a blank or error page compresses to a few KiB


@needs_chromium
def test_chromium_dom_has_the_svg_lanes(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_page(), encoding="utf-8")
    proc = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    p = _parse(proc.stdout)
    assert len(p.svgs) == 1
    assert p.svgs[0]["lanes"] == CONTEXTS
    assert sum(1 for s in p.svgs[0]["steps"] if s[2]) == 1
