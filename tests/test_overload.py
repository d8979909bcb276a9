"""The overload warning (issue 13 item 1): `run`, `compare`, the plots, the report and the
teaching page say "overloaded" when most replications' funnels are unstable, all with the
catalogue's one rule and one sentence; results without ``funnel_stable`` get no warning.

The results are written by the real experiment layer with a model that adds a
``funnel_stable`` column we control (unstable when the unit has fewer than 15 coordinators)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simsource.analysis.plots import load_analysis, render
from simsource.analysis.plots._common import OVERLOAD_GID
from simsource.analysis.report import build_report
from simsource.cli import main
from simsource.experiment import run_batch
from simsource.model import ReplicationResult, catalogue, simulate_full
from simsource.scenario import Scenario, load_scenario

MODEL = "test_overload:with_stability"  # importable by worker processes (tests/ is on sys.path)
SETS = ["scenario.years=1.4", "scenario.warmup_years=0.4", "coordination.plan=[]"]
N, SEED = 3, 7


def with_stability(sc: Scenario, seed: int, replication: int) -> ReplicationResult:
    """The real model, plus ``funnel_stable``: 0 with fewer than 15 coordinators, else 1."""
    res = simulate_full(sc, seed=seed, replication=replication)
    stable = 0.0 if sc.coordination.staff < 15 else 1.0
    return dataclasses.replace(res, kpis={**res.kpis, catalogue.STABILITY_KPI: stable})


STAFF = {"busy": 10, "calm": 30}


def _scenario(name: str) -> Scenario:
    """The scenario ``simsource run nacka-multi`` + :func:`_sets` resolves to."""
    return load_scenario("nacka-multi", {"scenario.years": 1.4, "scenario.warmup_years": 0.4,
                                         "coordination.plan": [],
                                         "coordination.staff": STAFF[name], "name": name})


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("overload")
    out = {}
    for name in STAFF:
        out[name] = root / name
        run_batch(_scenario(name), N, SEED, 1, out[name], model=MODEL)
    return out


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _sets(name: str) -> list[str]:
    sets = [*SETS, f"coordination.staff={STAFF[name]}", f"name={name}"]
    return [a for s in sets for a in ("--set", s)]


def test_run_warns_when_most_replications_are_unstable(folders: dict[str, Path]) -> None:
    # the folder is complete: `run` resumes it without running anything, then checks it
    busy = _cli("run", "nacka-multi", *_sets("busy"), "-n", str(N), "--seed", str(SEED), "-j", "1",
                "--out", str(folders["busy"]), "-q")
    assert busy.exit_code == 0, busy.output
    assert "overloaded" in busy.stderr
    assert catalogue.overload_warning("busy", 0.0) in busy.stderr
    calm = _cli("run", "nacka-multi", *_sets("calm"), "-n", str(N), "--seed", str(SEED), "-j", "1",
                "--out", str(folders["calm"]), "-q")
    assert calm.exit_code == 0, calm.output
    assert "overloaded" not in calm.stderr


def test_compare_warns_for_the_overloaded_scenario_only(folders: dict[str, Path],
                                                       tmp_path: Path) -> None:
    res = _cli("compare", str(folders["calm"]), str(folders["busy"]), "--out",
               str(tmp_path / "cmp"), "-q")
    assert res.exit_code == 0, res.output
    assert res.stderr.count("overloaded") == 1


@pytest.mark.slow
def test_plots_and_report_carry_the_same_warning(folders: dict[str, Path]) -> None:
    data = load_analysis(folders["busy"])
    fig = render(data, "leadtime")
    notes = [" ".join(t.get_text().split()) for t in fig.findobj()
             if getattr(t, "get_gid", None) and t.get_gid() == OVERLOAD_GID]  # wrapped lines
    assert notes == [f"⚠ {catalogue.overload_warning('busy', 0.0)}"]
    html = build_report(data)
    warning = catalogue.overload_warning("busy", 0.0).replace("'", "&#39;")
    assert html.count(warning) == 2  # at the top and in the summary
    calm = load_analysis(folders["calm"])
    assert "overloaded" not in build_report(calm)
    assert not [t for t in render(calm, "funnel").findobj()
                if getattr(t, "get_gid", None) and t.get_gid() == OVERLOAD_GID]


@pytest.mark.slow
def test_results_without_funnel_stable_get_no_warning(compare_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Results of model v1 (no ``funnel_stable`` column) are never called overloaded: here the
    catalogue looks for a column the results lack."""
    data = load_analysis(compare_dir)
    assert catalogue.STABILITY_KPI in data.replications.columns
    assert re.search(r"overloaded", build_report(data))     # nacka-multi-10 is
    monkeypatch.setattr(catalogue, "STABILITY_KPI", "funnel_stable_of_a_later_model")
    html = build_report(data)
    assert not re.search(r"overloaded", html)
