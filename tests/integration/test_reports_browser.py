"""The HTML reports in a real browser: headless Chromium loads every chart and renders a screenshot.

The .html written beside its PNG files (the email's cid: images as files) is opened twice: once a
copy with a small probe script reports which images loaded and how tall the page is, then the
untouched file is screenshotted at that height. `SYNCD_UPDATE_SCREENSHOTS=1` also copies the
executive and engineering screenshots to docs/ for the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from syncd.reporting import generate_report, write_report
from tests.reports_sandbox import NOW, SandboxStore, build_sandbox_store

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
DOCS_HEIGHT = 2200
PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.src; });
  document.title = JSON.stringify({images: imgs.length, broken: broken, height: document.documentElement.scrollHeight,
                                   widths: imgs.map(function (i) { return i.getBoundingClientRect().width; })});
});
</script>"""


def _chromium(*args: str) -> str:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--allow-file-access-from-files", "--virtual-time-budget=5000", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    if CHROMIUM is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    return build_sandbox_store(tmp_path_factory.mktemp("sandbox"))


@pytest.mark.parametrize(("audience", "width"), [("executive", 800), ("engineering", 1040)])
def test_html_report_renders_with_every_chart_loaded(sandbox: SandboxStore, tmp_path: Path, audience: str,
                                                     width: int) -> None:
    report = generate_report(sandbox.settings, sandbox.store, "status", audience, now=NOW, record=False)
    paths = write_report(report, tmp_path, ("html",), sender="s@example.com", recipients=[])
    page = next(p for p in paths if p.suffix == ".html")
    assert all((tmp_path / name).is_file() for name in report.charts)

    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _chromium("--dump-dom", f"--window-size={width},1000", probe.as_uri())
    title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)
    assert title is not None, dom[:500]
    state = json.loads(title.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert state["images"] == len(report.charts)
    assert state["broken"] == []
    assert all(w > 300 for w in state["widths"])  # charts shown at their intended size, not collapsed

    shot = tmp_path / f"{audience}.png"
    height = min(int(state["height"]) + 20, 16000)
    _chromium(f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri())
    w, h = _png_size(shot)
    assert (w, h) == (width, height) and shot.stat().st_size > 20_000
    if os.environ.get("SYNCD_UPDATE_SCREENSHOTS") == "1":  # the top of the page, README-sized
        DOCS.mkdir(exist_ok=True)
        _chromium(f"--screenshot={DOCS / f'{audience}.png'}", f"--window-size={width},{min(height, DOCS_HEIGHT)}",
                  page.as_uri())


FRAME = """<!DOCTYPE html><html><body style="margin: 0"><iframe id="f" src="{src}" width="{width}" height="1000"
style="border: 0; display: block"></iframe><script>
document.getElementById("f").addEventListener("load", function () {{
  var doc = this.contentDocument, view = doc.documentElement.clientWidth, over = [];
  var all = doc.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {{
    var r = all[i].getBoundingClientRect();
    if (r.right > view + 1) over.push(all[i].tagName + ": " + (all[i].textContent || "").slice(0, 60));
  }}
  var tables = Array.prototype.map.call(doc.querySelectorAll("table.data"),
                                        function (t) {{ return t.getBoundingClientRect().width; }});
  document.title = JSON.stringify({{view: view, scroll: doc.documentElement.scrollWidth, over: over.slice(0, 10),
                                   tables: tables}});
}});
</script></body></html>"""


@pytest.mark.parametrize("width", [400, 900])
def test_timeline_fits_a_phone_and_a_desktop_without_sideways_scrolling(sandbox: SandboxStore, tmp_path: Path,
                                                                        width: int) -> None:
    """The timeline at 400 px (a phone) and 900 px: no element reaches past the viewport's right edge.

    Headless Chromium will not make a window narrower than 500 px, so the page is measured inside an
    iframe of the width (media queries answer to the iframe's viewport, as they do to a phone's). Both
    the .html written with its charts and the email's HTML with its images not loaded (a client that
    blocks images, or the golden file opened from disk) are measured.
    """
    report = generate_report(sandbox.settings, sandbox.store, "timeline", None, now=NOW, record=False)
    paths = write_report(report, tmp_path, ("html",), sender="s@example.com", recipients=[])
    page = next(p for p in paths if p.suffix == ".html")
    assert "## Dependencies across epics, teams and releases" in report.markdown
    blocked = tmp_path / "images-blocked.html"  # the email's HTML as is: its cid: charts cannot load here
    blocked.write_text(report.html, encoding="utf-8")
    assert 'src="cid:' in report.html
    for shown in (page, blocked):
        frame = tmp_path / "frame.html"
        frame.write_text(FRAME.format(src=shown.name, width=width), encoding="utf-8")
        dom = _chromium("--dump-dom", "--window-size=1000,1000", frame.as_uri())
        title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)
        assert title is not None, dom[:500]
        state = json.loads(title.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                           .replace("&gt;", ">"))
        assert state["view"] == width
        assert state["tables"] and max(state["tables"]) <= width, shown.name  # every table, the dependencies' too
        assert state["scroll"] <= width and state["over"] == [], (shown.name, state)
