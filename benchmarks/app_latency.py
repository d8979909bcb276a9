"""App first-result latency: seconds from pressing **Run** on the teaching page to the first
result shown, for the default setting (nacka-multi-10, 20 replications, 3 simulated years).

Each repeat is a fresh interpreter driving the page with Streamlit's AppTest, as a class
would: the page loads (and starts its worker pool), the teacher presses **Run** after
``--pause`` seconds (default 2: reading the page), and again after changing a control (24
coordinators). The page measures itself — from the click to the first partial cards, and to
all replications — and keeps the figures in its session state; AppTest's wall time of each
click (the whole script run, charts included) is reported alongside.

With headless Chromium at ``/usr/bin/chromium`` (and Playwright), the real page is measured
too, as a browser shows it: ``simsource app`` is started, the page loaded, **Run** pressed
after the pause, and the time taken until the first KPI card and until the four charts
(everything) appear on screen.

    python -m benchmarks.app_latency          # one AppTest measurement, as JSON
    python -m benchmarks.app_latency 2 browser   # one headless-Chromium measurement
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.figures import Figure, Settings, median
from benchmarks.harness import ROOT, Clock, check, run_cmd

PAGE = ROOT / "simsource" / "app" / "serve.py"  # the script `simsource app` serves
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def measure(pause: float = 2.0) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    t0 = time.perf_counter()
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.run()
    out: dict[str, Any] = {"load_s": time.perf_counter() - t0}
    time.sleep(pause)
    for label, change in (("default", None), ("changed", 24)):
        if change is not None:
            at.number_input(key="c_staff").set_value(change).run()
        t0 = time.perf_counter()
        at.button(key="run").click().run()
        if at.exception:
            raise RuntimeError(str(at.exception))
        res = at.session_state["results"]
        out[f"{label}_click_s"] = time.perf_counter() - t0
        out[f"{label}_first_s"] = res["first_s"]
        out[f"{label}_all_s"] = res["seconds"]
        out[f"{label}_n"] = int(res["cur"].n)
    return out


@contextlib.contextmanager
def served_page() -> Iterator[str]:
    """``simsource app`` on a free port of 127.0.0.1 (its process group killed afterwards)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen([sys.executable, "-m", "simsource", "app", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("simsource app did not start")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def measure_browser(pause: float = 2.0) -> dict[str, Any]:
    """The real page in headless Chromium: seconds from the click on Run to the first partial
    KPI cards on screen and to the final charts, for the default setting and then 24
    coordinators."""
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with served_page() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200})
            t0 = time.perf_counter()
            page.goto(url, wait_until="domcontentloaded")
            run = page.get_by_role("button", name="Run", exact=True)
            run.wait_for(timeout=120_000)
            out["load_s"] = time.perf_counter() - t0
            page.wait_for_timeout(pause * 1000)
            for label in ("default", "changed"):
                if label == "changed":
                    staff = page.get_by_role("spinbutton", name="Coordinators (staff)")
                    staff.fill("24")
                    staff.press("Enter")
                    page.get_by_text("Changes from the baseline (1)").wait_for(timeout=60_000)
                    page.wait_for_timeout(500)
                partial = page.get_by_text("Partial result:")
                t0 = time.perf_counter()
                run.click()
                partial.first.wait_for(timeout=300_000)  # the live cards of this run
                out[f"{label}_first_s"] = time.perf_counter() - t0
                partial.first.wait_for(state="detached", timeout=300_000)
                page.locator("[data-testid=stImage] img").nth(3).wait_for(timeout=300_000)
                out[f"{label}_all_s"] = time.perf_counter() - t0
        finally:
            browser.close()
    return out


def _repeats(s: Settings, clock: Clock, what: str, mode: str = "") -> list[dict[str, Any]]:
    """Each repeat in a fresh interpreter (``python -m benchmarks.app_latency PAUSE [MODE]``)."""
    runs: list[dict[str, Any]] = []
    for i in range(min(s.repeats, s.app_repeats)):
        clock.say(f"{what}, repeat {i + 1}: load the page, Run, change, Run")
        p = run_cmd([sys.executable, "-m", "benchmarks.app_latency", str(s.app_pause),
                     *([mode] if mode else [])])
        check(p, what)
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return runs


def _fill(f: Figure, runs: list[dict[str, Any]], s: Settings, note: str) -> None:
    f.samples = [r["default_first_s"] for r in runs]
    f.value = median(f.samples)
    f.detail = {k: median([r[k] for r in runs]) for k in runs[0] if k.endswith("_s")}
    f.detail["pause_before_run_s"] = s.app_pause
    f.note = note


def bench_app_browser(s: Settings, figs: dict[str, Figure], clock: Clock) -> None:
    f = figs["app_first_result_browser_s"]
    if not CHROMIUM.exists():
        f.note = f"skipped: no headless Chromium at {CHROMIUM} (apt-get install chromium)"
        return
    try:
        import playwright  # noqa: F401
    except ImportError:
        f.note = "skipped: playwright is not installed (the dev extra has it)"
        return
    _fill(f, _repeats(s, clock, "app in Chromium", "browser"), s,
          "simsource app served, headless Chromium: click on Run to the first KPI cards on "
          "screen (a fresh server per repeat)")


def bench_app(s: Settings, figs: dict[str, Figure], clock: Clock) -> None:
    f = figs["app_first_result_s"]
    try:
        import streamlit  # noqa: F401
    except ImportError:
        f.note = "skipped: streamlit is not installed (pip install 'simsource[app]')"
        return
    runs = _repeats(s, clock, "app under AppTest")
    _fill(f, runs, s, "AppTest, fresh process per repeat; first partial result of the default "
          f"setting after pressing Run {s.app_pause:g} s after the page loaded")
    f.detail["replications"] = runs[0]["default_n"]


if __name__ == "__main__":
    PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    browser_mode = len(sys.argv) > 2 and sys.argv[2] == "browser"
    print(json.dumps(measure_browser(PAUSE) if browser_mode else measure(PAUSE)))
