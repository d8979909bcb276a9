"""App first-result latency: seconds from pressing **Run** on the teaching page to the first
result shown, for the default setting (nacka-multi-10, 20 replications, 3 simulated years).

Each repeat is a fresh interpreter driving the page with Streamlit's AppTest, as a class
would: the page loads (and starts its worker pool), the teacher presses **Run** after
``--pause`` seconds (default 2: reading the page), and again after changing a control (24
coordinators). The page measures itself — from the click to the first partial cards, and to
all replications — and keeps the figures in its session state; AppTest's wall time of each
click (the whole script run, charts included) is reported alongside.

    python -m benchmarks.app_latency          # one measurement, as JSON
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from benchmarks.figures import Figure, Settings, median
from benchmarks.harness import ROOT, Clock, check, run_cmd

PAGE = ROOT / "simsource" / "app" / "page.py"


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


def bench_app(s: Settings, figs: dict[str, Figure], clock: Clock) -> None:
    f = figs["app_first_result_s"]
    try:
        import streamlit  # noqa: F401
    except ImportError:
        f.note = "skipped: streamlit is not installed (pip install 'simsource[app]')"
        return
    runs: list[dict[str, Any]] = []
    for i in range(s.repeats):
        clock.say(f"app repeat {i + 1}/{s.repeats}: load the page, Run, change, Run")
        p = run_cmd([sys.executable, "-m", "benchmarks.app_latency", str(s.app_pause)])
        check(p, "app latency")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    f.samples = [r["default_first_s"] for r in runs]
    f.value = median(f.samples)
    f.detail = {k: median([r[k] for r in runs]) for k in runs[0] if k.endswith("_s")}
    f.detail.update(pause_before_run_s=s.app_pause, replications=runs[0]["default_n"])
    f.note = ("AppTest, fresh process per repeat; first partial result of the default setting "
              f"after pressing Run {s.app_pause:g} s after the page loaded")


if __name__ == "__main__":
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)))
