"""`simsource sensitivity`: the parameter space from the schema, common random numbers, and
Morris/Sobol ranking the parameter that obviously dominates a KPI first.

The dominance scenario has one idea source and nothing else producing ideas, so
``ideas_per_year`` is (up to Poisson noise) that source's ``rate_per_year``; coordinator staffing,
autonomy and the matching pass rate cannot change how many ideas arrive.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.patches import Rectangle

from simsource.analysis.sensitivity import (
    DEFAULT_PARAMS,
    Param,
    parameter_space,
    plot_sensitivity,
    run_sensitivity,
    select_params,
)
from simsource.cli import main
from simsource.errors import UserError
from simsource.experiment.engine import Evaluator
from simsource.scenario import Scenario, load_scenario, scenario_from_dict

WriteScenario = Callable[[str, str], Path]

ONE_SOURCE = """
name = "one-source"
[scenario]
years = 2
warmup_years = 1
areas = ["network"]
[suppliers.solo]
areas = ["network"]
ideas_per_year = 0
[operations]
enabled = false
[engagement]
enabled = false
[ideas.sources.business_units]
rate_per_year = 0
[ideas.sources.digital_unit]
rate_per_year = 0
[ideas.sources.citizens]
rate_per_year = 40
"""
DOMINANT = "ideas.sources.citizens.rate_per_year"
OTHERS = ("coordination.staff", "partnership.autonomy", "funnel.matching_pass")


def one_source() -> Scenario:
    return scenario_from_dict(tomllib.loads(ONE_SOURCE), source="one-source")


# ---- the parameter space -------------------------------------------------------------------
def test_space_expands_suppliers_and_sources_and_skips_switched_off_mechanisms() -> None:
    sc = load_scenario("nacka-multi")
    keys = [p.key for p in parameter_space(sc)]
    for name in sc.suppliers:
        assert f"suppliers.{name}.proactive" in keys
    for name in sc.ideas.sources:
        assert f"ideas.sources.{name}.rate_per_year" in keys
    assert not [k for k in keys if k.startswith("transition.")]  # transition disabled
    assert "coordination.plan" not in keys  # not a number (every number has a range now)
    staff = next(p for p in parameter_space(sc) if p.key == "coordination.staff")
    assert (staff.low, staff.high, staff.integer, staff.value) == (6, 40, True, 24)

    transfer = load_scenario("nacka-transfer-2017")
    assert "transition.team_size" in [p.key for p in parameter_space(transfer)]
    single = one_source()
    single_keys = [p.key for p in parameter_space(single)]
    assert "coordination.governance_fte_per_pair" not in single_keys  # one supplier: no pairs
    assert not [k for k in single_keys if k.startswith("operations.")]  # operations off
    assert "suppliers.solo.proactive" in single_keys


def test_select_params_defaults_patterns_and_ranges() -> None:
    sc = load_scenario("nacka-multi")
    assert [p.key for p in select_params(sc, None)] == \
        [p.key for p in parameter_space(sc) if p.key in DEFAULT_PARAMS]
    assert len(select_params(sc, None)) == 10
    assert [p.key for p in select_params(sc, "suppliers.*.reactive")] == \
        [f"suppliers.{s}.reactive" for s in sc.suppliers]
    [p] = select_params(sc, "coordination.staff=10:30")
    assert (p.low, p.high, p.integer) == (10, 30, True)
    [p] = select_params(sc, "ambition.innovations_per_year=10:30")  # no declared range
    assert (p.low, p.high, p.integer) == (10, 30, False)
    assert len(select_params(sc, "all")) == len(parameter_space(sc))
    with pytest.raises(UserError, match=r"did you mean coordination\.staff"):
        select_params(sc, "coordination.staf")
    with pytest.raises(UserError, match="does not apply"):
        select_params(sc, "transition.team_size")
    with pytest.raises(UserError, match="LOW:HIGH"):
        select_params(sc, "coordination.staff=30")


# ---- common random numbers -------------------------------------------------------------------
def test_evaluator_gives_every_point_the_same_random_numbers() -> None:
    sc = one_source()
    with Evaluator(jobs=1) as run:
        a, b = run([sc, sc], 3, 11)
        [c] = run([sc], 3, 12)
    assert a["replication"].tolist() == [0, 1, 2]
    pd.testing.assert_frame_equal(a, b)
    assert not a["ideas_per_year"].equals(c["ideas_per_year"])


def test_design_points_share_seed_and_replications() -> None:
    seen: list[tuple[int, int, int]] = []

    def spy(scenarios: Sequence[Scenario], reps: int, seed: int) -> list[pd.DataFrame]:
        seen.append((len(scenarios), reps, seed))
        with Evaluator(jobs=1) as run:
            return run(scenarios, reps, seed)

    params = [p for p in parameter_space(one_source()) if p.key in (DOMINANT, *OTHERS)]
    res = run_sensitivity(one_source(), params, samples=2, kpi="ideas_per_year",
                          replications=2, seed=5, evaluate=spy)
    assert seen == [(len(res.design), 2, 5)]  # one call: every point, same seed and reps
    assert pd.api.types.is_integer_dtype(res.design["coordination.staff"])  # ints rounded
    assert pd.api.types.is_float_dtype(res.design["partnership.autonomy"])


# ---- the analyses ----------------------------------------------------------------------------
def _params(sc: Scenario) -> list[Param]:
    return select_params(sc, ",".join((*OTHERS, DOMINANT)))  # the dominant one last


def test_morris_ranks_the_dominant_parameter_first() -> None:
    sc = one_source()
    res = run_sensitivity(sc, _params(sc), method="morris", samples=4, kpi="ideas_per_year",
                          replications=1, seed=1, jobs=1)
    assert list(res.table.columns) == ["parameter", "low", "high", "mu_star", "mu_star_conf",
                                       "sigma", "mu"]
    assert res.ranking[0] == DOMINANT
    top = res.table.iloc[0]
    # over its whole range (0..200 ideas/year) the rate moves ideas_per_year by about 200
    assert 150 < top["mu_star"] < 250
    assert top["mu"] > 0
    assert res.table["mu_star"].iloc[1] < 0.2 * top["mu_star"]
    assert len(res.design) == 4 * (len(OTHERS) + 2)

    fig = plot_sensitivity(res)
    ax = fig.axes[0]
    bars = [b for b in ax.patches if isinstance(b, Rectangle)]
    widths = sorted((b.get_width() for b in bars), reverse=True)
    assert widths == pytest.approx(res.table["mu_star"].tolist())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == DOMINANT  # largest at the top


@pytest.mark.slow
def test_sobol_ranks_the_dominant_parameter_first() -> None:
    sc = one_source()
    params = select_params(sc, f"partnership.autonomy,{DOMINANT}")
    res = run_sensitivity(sc, params, method="sobol", samples=12, kpi="ideas_per_year",
                          replications=1, seed=2, jobs=1)
    assert res.samples == 16  # rounded up to a power of two
    assert len(res.design) == 16 * (2 + 2)
    assert list(res.table.columns) == ["parameter", "low", "high", "S1", "S1_conf", "ST",
                                       "ST_conf"]
    assert res.ranking[0] == DOMINANT
    assert res.table["ST"].iloc[0] > 0.8
    assert res.table["ST"].iloc[1] < 0.2


def test_unknown_or_undefined_kpi_is_a_user_error() -> None:
    sc = one_source()
    with pytest.raises(UserError, match=r"unknown KPI 'idea_per_year'.*ideas_per_year"):
        run_sensitivity(sc, _params(sc), kpi="idea_per_year", jobs=1)
    with pytest.raises(UserError, match=r"undefined \(NaN\)"):
        run_sensitivity(sc, _params(sc), samples=2, kpi="transition_finish_day",
                        replications=1, jobs=1)


# ---- the command -----------------------------------------------------------------------------
@pytest.mark.slow
def test_sensitivity_command_writes_table_plot_and_design(runner: CliRunner,
                                                          write_scenario: WriteScenario,
                                                          tmp_path: Path) -> None:
    write_scenario("one.toml", ONE_SOURCE)
    args = ["sensitivity", "one.toml", "--method", "morris", "--params",
            ",".join((*OTHERS, DOMINANT)), "--samples", "3", "-r", "2", "--kpi",
            "ideas_per_year", "-q", "--seed", "4"]
    res = runner.invoke(main, [*args, "-j", "2", "--out", "par"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    assert lines[header].split() == ["rank", "parameter", "low", "high", "mu_star",
                                     "mu_star_conf", "sigma", "mu"]
    assert lines[header + 1].split()[:2] == ["1", DOMINANT]
    table = pd.read_csv(tmp_path / "par" / "sensitivity.csv")
    assert table["parameter"].iloc[0] == DOMINANT
    points = pd.read_csv(tmp_path / "par" / "points.csv")
    assert len(points) == 3 * 5
    meta = json.loads((tmp_path / "par" / "sensitivity.json").read_text(encoding="utf-8"))
    assert (meta["replications"], meta["seed"], meta["points"]) == (2, 4, 15)
    assert (tmp_path / "par" / "sensitivity.png").stat().st_size > 1000


@pytest.mark.parametrize(("args", "message"), [
    (["--params", "coordination.staf"], "--params: coordination.staf: not a parameter"),
    (["--params", "coordination.staff=30"],
     "--params: coordination.staff=30: expected a range LOW:HIGH"),
    (["--kpi", "nope"], "--kpi: unknown KPI 'nope'"),
    (["--backend", "nope"], "--backend: unknown backend 'nope'"),
    (["--method", "fast"], "Invalid value for '--method'"),
])
def test_sensitivity_command_bad_params_exit_2(runner: CliRunner, write_scenario: WriteScenario,
                                              args: list[str], message: str) -> None:
    write_scenario("one.toml", ONE_SOURCE)
    res = runner.invoke(main, ["sensitivity", "one.toml", *args, "-q"])
    assert res.exit_code == 2, res.output
    assert f"rror: {message}" in res.stderr  # ours say "error:", click's usage errors "Error:"
    assert "Traceback" not in res.output
