"""Robustness and scenario discovery on futures tables made by hand: satisficing shares,
regret against the best policy per future (in the catalogue's better direction), and PRIM
finding the one parameter that drives failure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simsource.analysis.discovery import COLUMNS as DISCOVERY_COLUMNS
from simsource.analysis.discovery import discover, find_boxes
from simsource.analysis.robustness import (
    COLUMNS,
    parse_target,
    regret,
    regret_kpis,
    robustness_table,
    satisficing,
)


def futures_table() -> pd.DataFrame:
    """Two policies in four futures; innovations higher is better, lead time lower is better."""
    return pd.DataFrame({
        "future": [0, 0, 1, 1, 2, 2, 3, 3],
        "policy": ["one", "four"] * 4,
        "x": [0.1, 0.1, 0.4, 0.4, 0.6, 0.6, 0.9, 0.9],
        "innovations_per_year": [10.0, 14.0, 12.0, 11.0, 20.0, 25.0, 16.0, np.nan],
        "lead_time_days_median": [100.0, 80.0, 90.0, 95.0, 70.0, 70.0, 60.0, 65.0],
    })


def test_satisficing_counts_futures_meeting_the_target_and_nan_never_meets() -> None:
    t = parse_target("innovations_per_year>=12")
    sat = satisficing(futures_table(), [t]).set_index("policy")
    assert sat.loc["one", "value"] == pytest.approx(3 / 4)   # 12, 20, 16 meet it
    assert sat.loc["four", "value"] == pytest.approx(2 / 4)  # 14, 25 meet it; NaN does not
    assert (sat["futures"] == 4).all()
    assert (sat["ci_low"] <= sat["value"]).all()
    assert (sat["value"] <= sat["ci_high"]).all()
    assert list(sat["target"]) == ["innovations_per_year>=12"] * 2


def test_regret_is_the_shortfall_against_the_best_policy_of_each_future() -> None:
    f = futures_table()
    up = regret(f, "innovations_per_year").set_index(["future", "policy"])["regret"]
    assert up[(0, "one")] == pytest.approx(4.0)
    assert up[(0, "four")] == pytest.approx(0.0)
    assert up[(1, "four")] == pytest.approx(1.0)
    assert up[(3, "one")] == pytest.approx(0.0)       # the only defined value is the best
    assert np.isnan(up[(3, "four")])
    down = regret(f, "lead_time_days_median").set_index(["future", "policy"])["regret"]
    assert down[(0, "one")] == pytest.approx(20.0)    # lower is better: 100 − 80
    assert down[(3, "four")] == pytest.approx(5.0)
    assert (down >= 0).all()


def test_robustness_table_is_tidy_with_mean_and_p90_regret() -> None:
    f = futures_table()
    targets = [parse_target("innovations_per_year>=12"),
               parse_target("lead_time_days_median<=90")]
    table = robustness_table(f, targets)
    assert list(table.columns) == COLUMNS
    assert set(table["measure"]) == {"satisficing", "regret_mean", "regret_p90"}
    reg = table[table["measure"] != "satisficing"].set_index(["policy", "measure", "kpi"])
    one = [4.0, 0.0, 5.0, 0.0]   # innovations regret of "one" in futures 0..3
    assert reg.loc[("one", "regret_mean", "innovations_per_year"), "value"] == \
        pytest.approx(np.mean(one))
    assert reg.loc[("one", "regret_p90", "innovations_per_year"), "value"] == \
        pytest.approx(np.percentile(one, 90))
    assert reg.loc[("four", "regret_mean", "innovations_per_year"), "futures"] == 3
    # only KPIs with a direction and a value: the targets' first, then the headline ones
    assert regret_kpis(f, targets) == ["innovations_per_year", "lead_time_days_median"]


def synthetic(n: int = 240, seed: int = 3, noise: float = 0.04) -> tuple[pd.DataFrame,
                                                                         np.ndarray]:
    """Six uniform parameters; failure when ``driver`` exceeds 0.65 (a few labels flipped)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({k: rng.random(n) for k in ("a", "b", "driver", "d", "e", "f")})
    fails = (x["driver"].to_numpy() > 0.65) ^ (rng.random(n) < noise)
    return x, fails


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prims_first_box_restricts_exactly_the_parameter_driving_failure(seed: int) -> None:
    x, fails = synthetic(seed=seed)
    boxes = find_boxes(x, fails)
    assert boxes, "PRIM found no box"
    limits, coverage, density, mass = boxes[0]
    assert list(limits.index) == ["driver"]
    assert limits.loc["driver", "lower"] == pytest.approx(0.65, abs=0.06)
    assert limits.loc["driver", "upper"] == pytest.approx(1.0, abs=0.02)
    assert coverage > 0.8
    assert density > 0.8
    assert mass == pytest.approx(0.35, abs=0.08)


def test_discover_reports_only_restricted_parameters_of_the_failing_policy() -> None:
    x, fails = synthetic(seed=4)
    n = len(x)
    futures = pd.concat([
        x.assign(future=range(n), policy="fragile",
                 innovations_per_year=np.where(fails, 5.0, 20.0)),
        x.assign(future=range(n), policy="robust", innovations_per_year=20.0),
    ], ignore_index=True)
    cols = list(x.columns)
    table = discover(futures, [parse_target("innovations_per_year>=15")],
                     {"fragile": cols, "robust": cols})
    assert list(table.columns) == DISCOVERY_COLUMNS
    assert set(table["policy"]) == {"fragile"}            # the robust policy never fails
    first = table[table["box"] == 1]
    assert list(first["parameter"]) == ["driver"]
    assert (first["target"] == "innovations_per_year>=15").all()
    # the parameters a policy is not affected by are not offered to PRIM
    none = discover(futures, [parse_target("innovations_per_year>=15")],
                    {"fragile": ["a", "b"], "robust": cols})
    assert "driver" not in set(none["parameter"])


def test_no_failures_or_only_failures_give_no_box() -> None:
    x, _ = synthetic()
    assert find_boxes(x, np.zeros(len(x), dtype=bool)) == []
    assert find_boxes(x, np.ones(len(x), dtype=bool)) == []
