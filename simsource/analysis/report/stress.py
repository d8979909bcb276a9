"""The reproducibility section: the STRESS-DES items (Monks et al. 2019) filled in for a folder."""

from __future__ import annotations

import math
import platform
from typing import Any

import matplotlib
import pandas

from simsource import formatting
from simsource.analysis.plots.data import AnalysisData
from simsource.analysis.report.futures import policy_tomls
from simsource.analysis.report.sections import (
    Table,
    headline_labels,
    replications,
    run_manifest,
    scenario_meta,
)


def _aims(data: AnalysisData) -> str:
    show = formatting.parameter
    return {
        "run": f"Estimate the outputs of scenario {', '.join(data.scenarios)}.",
        "compare": f"Compare {', '.join(data.scenarios[1:])} with {data.scenarios[0]} "
                   "(paired by replication).",
        "sweep": "Show how the outputs change with " + ", ".join(
            f"{k} ({', '.join(map(show, v))})" for k, v in data.vary.items()) + ".",
        "explore": f"Find which of {', '.join(data.scenarios)} is robust across "
                   f"{data.manifest.get('futures', '?')} plausible futures, and in which "
                   "futures each one misses its targets (scenario discovery with PRIM).",
    }[data.kind]


def _tomls(data: AnalysisData) -> list[str]:
    if data.kind == "explore":
        return [t for t in policy_tomls(data).values() if t]
    return [r.scenario_toml for r in data.runs]


def items(data: AnalysisData) -> list[tuple[str, str, str]]:
    """``(item number, item, what this study did)`` for each STRESS-DES item reported."""
    show = formatting.parameter
    m = run_manifest(data)
    run = [md.get("scenario", {}) for md in (scenario_meta(t) for t in _tomls(data))]
    warm = sorted({(float(s.get("warmup_years", math.nan)), float(s.get("years", math.nan)),
                    int(s.get("working_days_per_year", 220))) for s in run})
    warm_txt = "; ".join(f"{show(w)} of {show(y)} simulated years ({d} working days a year)"
                         for w, y, d in warm)
    unit = {"sweep": "design point", "explore": "policy and future"}.get(data.kind, "scenario")
    return [
        ("1.1", "Purpose of the model",
         "Show how single- versus multi-sourced public IT operations, the coordinating "
         "digitalisation unit and the partner organisation affect innovation throughput, lead "
         "time, service levels and cost (the Nacka case; Axelson, Nordström & Rognes 2019)."),
        ("1.2", "Model outputs",
         f"Per replication, after warm-up: {headline_labels()}, and every other KPI of "
         "docs/results-format.md (replications.parquet); monthly time series of WIP and "
         "coordinator load."),
        ("1.3", "Experimentation aims", _aims(data)),
        ("2.2", "Base model logic",
         "SimPy discrete-event model: Poisson idea sources feed a staged funnel (screening, "
         "matching, decision, project); one coordinator pool shared by operations and innovation "
         "work with priorities; suppliers own technical areas; incidents, governance and an "
         "optional transfer of systems. See docs/model.md."),
        ("3.3", "Input parameters",
         "The fully resolved scenario is stored as scenario.toml in each results folder; the "
         "parameters that differ from the schema defaults are listed under “What was run”."),
        ("3.4", "Assumptions", "Defaults, their sources and the assumptions are documented in "
                               "docs/model.md and docs/scenario-reference.md."),
        ("4.1", "Initialisation (warm-up)",
         f"Warm-up {warm_txt or 'n/a'}; KPIs are measured after the warm-up, time series "
         "include it (shaded in the figures)."),
        ("4.2", "Run length", "; ".join(f"{show(y)} simulated years, warm-up included"
                                        for _, y, _ in warm) or "n/a"),
        ("4.3", "Estimation approach",
         f"{replications(data)} independent replications per {unit}; "
         "95 % t confidence intervals of the mean; scenario differences paired by replication "
         "(common random numbers) with Holm-adjusted p-values; deadline probabilities with "
         "Wilson intervals."),
        ("5.1", "Software",
         f"simsource {m.get('simsource_version', '?')}, Python {m.get('python', '?')}, numpy "
         f"{m.get('numpy', '?')}, SimPy {m.get('simpy', '?')}; this report: pandas "
         f"{pandas.__version__}, matplotlib {matplotlib.__version__}."),
        ("5.2", "Random sampling",
         f"Root seed {data.seed}; replication i uses numpy SeedSequence(seed, spawn_key=(i,)) "
         "with one named child stream per stochastic activity, so scenarios run with the same "
         "seed share their random numbers where their inputs agree."),
        ("5.3", "Model execution",
         f"Event-driven (SimPy); backend {m.get('backend', '?')} with {m.get('jobs', '?')} "
         "job(s); results do not depend on the number of workers."),
        ("5.4", "System specification",
         f"Started {m.get('started') or '?'}, finished {m.get('finished') or '?'} (UTC). "
         f"Report made on {platform.system()} {platform.machine()} with Python "
         f"{platform.python_version()}."),
        ("6.1", "Code access / reproduce", "The command that produced these results is below; "
                                           "the same seed and version give the same numbers."),
    ]


def reproducibility(data: AnalysisData) -> dict[str, Any]:
    rows: list[list[str | Any]] = [list(item) for item in items(data)]
    return {"table": Table(["STRESS-DES item", "", "this study"], rows, num_from=9),
            "command": data.command or "(not recorded in the manifest)"}
