"""The one number formatter (simsource.formatting): the rules every output writes numbers by."""

from __future__ import annotations

import math

import pytest

from simsource import formatting as f
from simsource.model import catalogue


@pytest.mark.parametrize(("values", "places"), [
    ((123.4,), 0), ((12.34,), 1), ((0.1234,), 2), ((0.01234,), 3), ((5.0, 7.0), 0),
    ((19.2, 15.2, 23.2), 1), ((0.05, 0.3), 3), ((math.nan,), 1), ((0.0,), 0),
])
def test_decimals_follow_the_largest_magnitude(values: tuple[float, ...], places: int) -> None:
    assert f.decimals(*values) == places


@pytest.mark.parametrize(("value", "text"), [
    (1234.5, "1 234"), (-0.25, "−0.25"), (-0.0001, "0.000"), (0.0, "0"), (3, "3"),
    (math.nan, "n/a"), (math.inf, "n/a"), (None, "n/a"), (12_345_678.9, "12 345 679"),
])
def test_number(value: float | None, text: str) -> None:
    assert f.number(value) == text


def test_signs_ranges_percent_and_p_values() -> None:
    assert f.signed(2.345) == "+2.3"
    assert f.signed(-2.345) == "−2.3"
    assert f.signed(0.0, 1) == "0.0"
    assert f.number_range(4.94, 7.31, 1) == "4.9–7.3"
    assert f.number_range(-1.2, 3.4, 1) == "−1.2 to 3.4"   # a dash would read as a minus
    assert f.number_range(math.nan, 1.0, 1) == "n/a"
    assert f.percent(0.426) == "43 %"
    assert f.p_value(0.0004) == "<0.001"
    assert f.p_value(0.0312) == "0.031"
    assert f.number(math.nan, missing="–") == "–"


def test_kpi_values_use_the_catalogue_unit() -> None:
    inn = catalogue.get("innovations_per_year")
    util = catalogue.get("coordinator_utilisation")
    assert f.kpi_value(inn, 13.625) == "13.6 innovations/year"
    assert f.kpi_value(util, 0.4521) == "45.2 %"
    assert f.kpi_delta(util, -0.031) == "−3.1 pp"
    assert f.kpi_delta(inn, 2.1, unit=False) == "+2.1"
    assert f.kpi_ci(inn, 19.24, 15.21, 23.27) == "19.2 innovations/year (95 % CI 15.2–23.3)"
    assert f.kpi_ci(util, 0.5, math.nan, math.nan) == "50 % (no CI: fewer than two values)"
    assert f.kpi_mean_and_ci(util, 0.5, 0.45, 0.55) == ("50", "[45, 55]")


def test_parameters_are_written_as_in_a_scenario_file() -> None:
    assert f.parameter(True) == "true"
    assert f.parameter(0.15) == "0.15"
    assert f.parameter([0.6, 0.3, 0.1]) == "[0.6, 0.3, 0.1]"
    assert f.parameter([{"until_day": 220.0, "staff": 16}]) == "[{until_day=220, staff=16}]"
    assert f.parameter([]) == "[]"
