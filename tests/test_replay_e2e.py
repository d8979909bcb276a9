"""End to end: the page `simsource animate nacka-multi-10 --years 1 -o replay.html` writes plays
in headless Chromium — opened from the disk, nothing fetched, and pressing Play moves the clock.

Needs Debian's ``chromium`` driven by Playwright (see test_app_e2e.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_app_e2e import CHROMIUM, CHROMIUM_ARGS, CLOCK

from simsource.cli import main

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="headless Chromium not found at /usr/bin/chromium (install the "
                              "Debian packages chromium and chromium-driver; .ci/run does)"),
]

def test_the_replay_file_plays_in_headless_chromium(tmp_path: Path, runner: CliRunner) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    out = tmp_path / "replay.html"
    res = runner.invoke(main, ["animate", "nacka-multi-10", "--years", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    fetched: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: fetched.append(str(r.url)))
            page.goto(out.as_uri(), wait_until="load")
            page.locator("g.updatemenu-button", has_text="Play").first.wait_for(timeout=60_000)
            assert page.evaluate(CLOCK).startswith("Working day 0 ")
            page.locator("g.updatemenu-button", has_text="4×").first.click()
            page.wait_for_function(f"() => !({CLOCK})().startsWith('Working day 0 ')",
                                   timeout=30_000)
            page.locator("g.updatemenu-button", has_text="Pause").first.click()
            page.wait_for_timeout(500)
            paused = page.evaluate(CLOCK)
            page.wait_for_timeout(1500)
            assert page.evaluate(CLOCK) == paused             # Pause stops the clock
            day = int(paused.split()[2])
            assert 0 < day <= 220
            dots = page.evaluate("() => Array.from(document.querySelectorAll('text'))"
                                 ".filter(e => e.textContent === '●').length")
            assert dots > 0
        finally:
            browser.close()
    outside = [u for u in fetched if not u.startswith(("file:", "data:", "blob:"))]
    assert outside == [], f"the replay fetched: {outside[:3]}"
