"""End to end: ``simsource app`` serves the page, headless Chromium loads it, changes a control,
clicks Run and sees the results; nothing is fetched from outside 127.0.0.1.

Needs Debian's ``chromium`` (``apt-get install chromium chromium-driver``; ``.ci/run`` installs
it) driven by Playwright with ``executable_path=/usr/bin/chromium`` — never ``playwright
install``. With ``SIMSOURCE_UPDATE_SCREENSHOT=1`` the test also writes docs/figures/app.png.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from simsource.app import cards
from simsource.model import catalogue

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "figures" / "app.png"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="headless Chromium not found at /usr/bin/chromium (install the "
                              "Debian packages chromium and chromium-driver; .ci/run does)"),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started (its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)   # workers left behind, if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``simsource app --port <free port>`` as a subprocess; always killed afterwards."""
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simsource", "app", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail("simsource app exited: " +
                            (tmp_path / "server.log").read_text(errors="replace"))
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("simsource app did not start within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc)
        log.close()
    assert proc.poll() is not None


@contextlib.contextmanager
def _chromium_page(width: int, height: int) -> Iterator[Any]:
    """A page in headless Chromium; afterwards, nothing may have been fetched from outside."""
    sync_api = pytest.importorskip("playwright.sync_api")
    outside: list[str] = []

    def note(request: object) -> None:
        url = str(getattr(request, "url", ""))
        host = urlparse(url).hostname
        if url.startswith(("http", "ws")) and host not in ("127.0.0.1", "localhost"):
            outside.append(url)

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("request", note)
            yield page
        finally:
            browser.close()
    assert outside == [], f"the page fetched from outside: {outside[:3]}"


def _open_with_24_coordinators(page: Any, server: str) -> Any:
    """Load the page and set 24 coordinators; returns the Run button."""
    page.goto(server, wait_until="domcontentloaded")
    run = page.get_by_role("button", name="Run", exact=True)
    run.wait_for(timeout=90_000)
    staff = page.get_by_role("spinbutton", name="Coordinators (staff)")
    staff.fill("24")
    staff.press("Enter")
    page.get_by_text("Changes from the baseline (1)").wait_for(timeout=30_000)
    return run


def test_page_runs_in_headless_chromium(server: str) -> None:
    with _chromium_page(1400, 2200) as page:
        run = _open_with_24_coordinators(page, server)
        run.click()
        metrics = page.locator("[data-testid=stMetric]")
        metrics.first.wait_for(timeout=240_000)          # partial results, then the final
        images = page.locator("[data-testid=stImage] img")
        images.nth(3).wait_for(timeout=240_000)          # funnel, load, costs, ambition
        page.wait_for_timeout(1500)
        text = page.locator("[data-testid=stMain]").inner_text()
        headings = [c.label for c in cards.CARDS]
        assert headings[0] in text                     # "Innovations per year"
        assert cards.Card(catalogue.get("between_chairs_per_year")).label in text
        assert "— better" in text                      # a paired CI that excludes zero
        assert "Partial result" not in text
        assert metrics.count() == len(headings) - 1    # no transfer: no transfer card
        images = page.locator("[data-testid=stImage] img")
        images.nth(3).wait_for(timeout=30_000)           # funnel, load, costs, ambition
        page.wait_for_timeout(1500)
        if os.environ.get("SIMSOURCE_UPDATE_SCREENSHOT") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        page.get_by_role("tab", name="What happened to one idea").click()
        page.get_by_text("An idea that was implemented").wait_for(timeout=30_000)
        story = page.locator("[data-testid=stMain]").inner_text()
        assert "a new idea from" in story
        assert "In all:" in story


WATCH_SCREENSHOT = ROOT / "docs" / "figures" / "watch.png"
CLOCK = "() => Array.from(document.querySelectorAll('text')).map(e => e.textContent || '')" \
        ".find(t => t.startsWith('Working day ') && t.includes(' · year ')) || ''"


def test_watch_tab_replays_both_settings_and_play_moves_the_clock(server: str) -> None:
    """The Watch tab shows the baseline and the current setting on one clock; pressing Play
    advances it. Prints the time from the click to the first frame (docs/performance.md)."""
    with _chromium_page(1600, 1400) as page:
        _open_with_24_coordinators(page, server)
        page.get_by_role("tab", name="Watch").click()
        show = page.get_by_role("button", name="Show the replay")
        t0 = time.monotonic()
        show.click()                                        # year 1, nothing run yet
        page.wait_for_function(f"() => ({CLOCK})().startsWith('Working day 0 ')",
                               timeout=120_000)
        first_frame = time.monotonic() - t0
        text = page.locator("[data-testid=stMain]").inner_text()
        ready = re.search(r"ready after ([0-9.]+) s", text)
        print(f"\nWatch: first frame of year 1 {first_frame:.2f} s after the click "
              f"(replay built in {ready.group(1) if ready else '?'} s)")
        assert "Baseline:" in text
        assert "Current:" in text
        year = page.get_by_role("slider", name="Simulated year to watch")
        year.focus()
        year.press("End")                                   # the last simulated year
        page.wait_for_timeout(1500)
        show.click()
        page.wait_for_function(f"() => ({CLOCK})().includes(' · year 3,')", timeout=120_000)
        start = page.evaluate(CLOCK)
        page.locator("g.updatemenu-button", has_text="2×").first.click()
        page.wait_for_function(f"() => ({CLOCK})() !== {start!r}", timeout=30_000)
        page.wait_for_timeout(6000)
        page.locator("g.updatemenu-button", has_text="Pause").first.click()
        page.wait_for_timeout(1000)
        assert page.evaluate(CLOCK) != start
        if os.environ.get("SIMSOURCE_UPDATE_SCREENSHOT") == "1":
            chart = page.locator("[data-testid=stPlotlyChart]").first
            chart.screenshot(path=str(WATCH_SCREENSHOT))
