"""The cost of one design point of ``calibrate`` and of ``explore``, as a planner runs them.

Each is the whole command (start-up, the worker pool, the analysis, the plots and the folder
included) run with the README's settings per point but fewer points, divided by the points it
evaluated:

* **calibrate**: the README command (``nacka-multi`` against ``scenarios/facts/nacka.toml``,
  six parameters, ``-n 4``, seed 2017) with a smaller ``--budget``; a point is a candidate
  parameter set (``calibration.json``: ``candidates``), run with the replications each fact
  asks for. Target: the README command's 146 candidates within its 15 minutes, i.e. at most
  6 s a candidate.
* **explore**: the README command (``nacka-single nacka-multi --uncertain
  'funnel.*,operations.*' -n 3``) with fewer ``--futures``; a point is a future, every policy
  run in it (``manifest.json``: ``futures``). Target: the README command's 200 futures within
  its 10 minutes, i.e. at most 3 s a future.

The fixed costs of a command weigh more on fewer points, so the figures err on the slow side.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from benchmarks.figures import Figure, Settings, median
from benchmarks.harness import Clock, check, manifest, rotated, run_cmd, simsource_cmd

CALIBRATE_PARAMS = ",".join([
    "coordination.governance_fte_per_supplier", "coordination.governance_fte_per_pair",
    "transition.planned_effort_days_mean", "transition.underestimation_mean",
    "transition.shared_incident_share", "transition.disruption_incident_factor"])
EXPLORE_POLICIES = ("nacka-single", "nacka-multi")
EXPLORE_UNCERTAIN = "funnel.*,operations.*"


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def calibrate_args(s: Settings, out: Path) -> list[str]:
    args = [*simsource_cmd(), "calibrate", "nacka-multi", "--facts", "scenarios/facts/nacka.toml",
            "--params", CALIBRATE_PARAMS, "--budget", str(s.calibrate_budget), "-n", "4",
            "--seed", "2017", "-j", "2", "--out", str(out), "--quiet"]
    for kv in s.design_sets:
        args += ["--set", kv]
    return args


def explore_args(s: Settings, out: Path) -> list[str]:
    args = [*simsource_cmd(), "explore", *EXPLORE_POLICIES, "--uncertain", EXPLORE_UNCERTAIN,
            "--futures", str(s.explore_futures), "-n", str(s.explore_replications),
            "--seed", str(s.seed), "-j", "2", "--out", str(out), "--quiet"]
    for kv in s.design_sets:
        args += ["--set", kv]
    return args


def bench_design(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path) -> None:
    cal: list[dict[str, float]] = []
    exp: list[dict[str, float]] = []
    for i in range(s.design_repeats):
        for what in rotated(["calibrate", "explore"], i):
            clock.say(f"design points repeat {i + 1}/{s.design_repeats}: {what}")
            out = tmp / f"design-{what}-{i}"
            if what == "calibrate":
                p = run_cmd(calibrate_args(s, out))
                check(p, "simsource calibrate")
                summary = _json(out / "calibration.json")
                cal.append({"wall_s": p.wall_s, "points": float(summary["candidates"]),
                            "simulations": float(summary["budget"]["used"]),
                            "waves": float(len(summary.get("waves", [])))})
            else:
                p = run_cmd(explore_args(s, out))
                check(p, "simsource explore")
                futures = float(manifest(out)["futures"])
                exp.append({"wall_s": p.wall_s, "points": futures,
                            "simulations": futures * len(EXPLORE_POLICIES)
                            * s.explore_replications})
            shutil.rmtree(out, ignore_errors=True)
    for key, rows, what in (("calibrate_point_s", cal, "candidate"),
                            ("explore_point_s", exp, "future")):
        f = figs[key]
        f.samples = [r["wall_s"] / r["points"] for r in rows]
        f.value = median(f.samples)
        f.detail = {"points": median([r["points"] for r in rows]),
                    "simulations": median([r["simulations"] for r in rows]),
                    "wall_s": median([r["wall_s"] for r in rows]),
                    "s_per_simulation": median([r["wall_s"] / r["simulations"] for r in rows]),
                    "jobs": 2}
        if rows and "waves" in rows[0]:
            f.detail["waves"] = median([r["waves"] for r in rows])
        f.note = (f"whole command / {what}s evaluated (start-up, pool, analysis and plots "
                  "included)" + ("; sets " + ", ".join(s.design_sets) if s.design_sets else ""))
