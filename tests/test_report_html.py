"""The HTML page: self-contained, escaped, SVG timeline; rendered for real in headless Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html import unescape
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


_MEASURE = """<script>
addEventListener("load", () => {
  const out = {scroll: document.documentElement.scrollWidth, inner: innerWidth, boxes: 0, clipped: [],
               texts: [], inner_scroll: []};
  document.querySelectorAll("svg.timeline").forEach(svg => {
    const wrap = svg.parentElement;
    if (wrap.scrollWidth > wrap.clientWidth) out.inner_scroll.push([wrap.scrollWidth, wrap.clientWidth]);
  });
  document.querySelectorAll("svg.timeline g.step").forEach(g => {
    const box = g.querySelector("rect.box").getBoundingClientRect();
    out.boxes++;
    out.texts.push(Array.from(g.querySelectorAll("tspan")).map(t => t.textContent).join(" "));
    g.querySelectorAll("tspan").forEach(t => {
      const r = t.getBoundingClientRect();
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5 || r.bottom > box.bottom + 0.5) out.clipped.push(t.textContent);
    });
  });
  document.body.setAttribute("data-measure", JSON.stringify(out));
});
</script>"""


def _long_trace() -> list[TraceStep]:
    ctxs = ["CPU0", "CPU1", "RCU", "softirq@CPU0", "kworker/1:2"]
    steps = []
    for n in range(24):
        op = (f"step {n}: spin_lock_bh(&mm->context.lock) in page_table_free_pgste_and_friends() "
              "while the other half of the page is still queued for pte_free_now()")
        if n == 7:
            op = "an_identifier_far_longer_than_any_box_could_hold_on_one_line_at_all(page->pt_frag_refcount)"
        steps.append(TraceStep(ctxs[n % len(ctxs)], op, f"arch/s390/mm/pgalloc.c:{300 + n}", n == 23))
    return steps


@needs_chromium
@pytest.mark.parametrize("window", [1200, 820])
def test_chromium_long_trace_needs_no_sideways_scrolling(tmp_path: Path, window: int) -> None:
    import json

    html = render(make_report([make_review([rcu_head_shared(trace=_long_trace())])]), "html")
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    proc = _chromium(tmp_path, f"--window-size={window},900", "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'data-measure="([^"]*)"', proc.stdout)
    assert m, proc.stdout[-2000:]
    got = json.loads(unescape(m.group(1)))
    assert got["boxes"] == 24
    assert got["scroll"] <= got["inner"], got  # the page is no wider than the window
    assert got["inner_scroll"] == [], got["inner_scroll"]  # nor is the timeline wider than its box
    assert got["clipped"] == [], got["clipped"]  # every line of every step lies inside its box
    for step, shown in zip(_long_trace(), got["texts"], strict=True):  # and no text is cut off
        assert shown.replace(" ", "") == step.op.replace(" ", ""), (shown, step.op)


@needs_chromium
def test_chromium_screenshot_of_a_long_trace(tmp_path: Path) -> None:
    page = tmp_path / "long.html"
    page.write_text(render(make_report([make_review([rcu_head_shared(trace=_long_trace())])]), "html"),
                    encoding="utf-8")
    png = tmp_path / "long.png"
    proc = _chromium(tmp_path, f"--screenshot={png}", page.as_uri())
    assert png.exists(), proc.stderr[-2000:]
    width, _height = struct.unpack(">II", png.read_bytes()[16:24])
    assert width == 1200 and len(png.read_bytes()) > 30_000


def test_timeline_grows_down_not_sideways_and_keeps_every_character() -> None:
    from bot.report.timeline import layout

    short, long = layout(_long_trace()[:3]), layout(_long_trace())
    assert long.width == layout(_long_trace()[:5]).width  # more steps: taller, never wider
    assert long.height > short.height
    assert long.width <= 1000
    for box, step in zip(long.boxes, _long_trace(), strict=True):
        assert "".join(box.lines).replace(" ", "") == step.op.replace(" ", "")
        assert all(len(ln) * 6.7 <= long.box_w - 16 + 0.01 for ln in box.lines), box.lines
    ys = [b.y for b in long.boxes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)  # one row per step, in time order


def test_page_states_each_verdict() -> None:
    unjudged = make_review([], judged=False, not_judged=["no model covers mm/x.c", "x() is unknown"])
    html = render(make_report([make_review([]), unjudged]), "html")
    assert '<p class="verdict judged">judged, no hazard found: 1 scenario of s390-2k-fragments ran ' in html
    assert '<p class="verdict not-judged">not judged: no model covers mm/x.c (and 1 more reason)</p>' in html
    assert "<li>x() is unknown</li>" in html
