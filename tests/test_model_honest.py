"""Honest numbers (issue 13): overload detection, censored lead times, yearly budgets and
lifetime benefits, on the shipped scenarios."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from replicate import replicate

from simsource import load_scenario
from simsource.model import simulate
from simsource.model.kpis import STABLE_GROWTH_SHARE

REPS, SEED = 8, 5


def column(name: str, k: str, overrides: dict[str, Any] | None = None,
           n: int = REPS) -> np.ndarray:
    return np.array([r[k] for r in replicate(name, overrides, n, SEED)], dtype=float)


# ---- overload detection -----------------------------------------------------------------------


@pytest.mark.slow
def test_overload_is_flagged_for_the_unit_of_ten_not_for_the_grown_unit() -> None:
    assert column("nacka-multi-10", "funnel_stable").mean() < 0.5
    assert column("nacka-multi", "funnel_stable").mean() == 1.0


@pytest.mark.slow
def test_backlog_growth_is_the_trend_of_the_backlog() -> None:
    growth = column("nacka-multi-10", "backlog_growth_per_year")
    inflow = column("nacka-multi-10", "ideas_per_year")
    assert (growth > STABLE_GROWTH_SHARE * inflow).all()
    # the backlog at the horizon is roughly what the trend says has piled up over the window
    end = column("nacka-multi-10", "backlog_end")
    assert np.median(end / growth) == pytest.approx(3.0, rel=0.5)
    stable = column("nacka-multi", "backlog_growth_per_year")
    assert (np.abs(stable) < STABLE_GROWTH_SHARE * column("nacka-multi", "ideas_per_year")).all()


@pytest.mark.slow
def test_longer_runs_show_the_overload_grow() -> None:
    """Where the funnel is overloaded, the completed-only lead time depends on the run length;
    where it is stable it does not (much)."""
    short = column("nacka-multi-10", "backlog_end", {"scenario.years": 3.0})
    long = column("nacka-multi-10", "backlog_end", {"scenario.years": 5.0})
    assert long.mean() > 1.4 * short.mean()
    a = column("nacka-multi", "backlog_end", {"scenario.years": 3.0})
    b = column("nacka-multi", "backlog_end", {"scenario.years": 5.0})
    assert b.mean() < 1.4 * a.mean()


# ---- censored lead times ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nacka-multi-10", "nacka-single", "nacka-multi"])
def test_kaplan_meier_median_is_never_below_the_completed_median(name: str) -> None:
    for r in replicate(name, None, REPS, SEED):
        km, done = r["lead_time_days_median"], r["lead_time_days_median_completed"]
        if math.isnan(km):
            assert r["lead_time_censored_share"] > 0.5, r["lead_time_censored_share"]
        else:
            assert km >= done - 1e-9, (name, km, done)


@pytest.mark.slow
def test_overloaded_funnel_has_an_undefined_median() -> None:
    share = column("nacka-multi-10", "lead_time_censored_share")
    assert (share > 0.5).all()
    assert np.isnan(column("nacka-multi-10", "lead_time_days_median")).all()
    assert np.isfinite(column("nacka-multi", "lead_time_days_median")).all()


# ---- budget and benefits ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_small_budget_binds_and_nothing_lapses() -> None:
    ov = {"budget.innovation_msek_per_year": 2.0, "budget.reinvest_savings_share": 0.0}
    spent = column("nacka-multi", "cost_innovation_msek_per_year", ov)
    lapsed = column("nacka-multi", "budget_lapsed_msek_per_year", ov)
    # the planned cost is funded within the appropriation; overruns come on top of it
    assert spent.mean() < 2.0 * 1.6
    assert lapsed.mean() < 0.5


def test_npv_discounts_benefits_and_subtracts_costs() -> None:
    sc = load_scenario("nacka-multi", overrides={"scenario.years": 2.0,
                                                 "scenario.warmup_years": 0.5})
    flat = simulate(sc.model_copy(update={"budget": sc.budget.model_copy(
        update={"discount_rate": 0.0})}), seed=1, replication=0)
    years = 1.5
    undiscounted = flat["benefit_msek_per_year"] * years - flat[
        "cost_innovation_msek_per_year"] * years
    assert flat["benefit_npv_msek"] == pytest.approx(undiscounted, rel=1e-9)
    k = simulate(sc, seed=1, replication=0)
    assert k["benefit_npv_msek"] < flat["benefit_npv_msek"]
