"""Scenario tools on well-kept libraries: the one scenario diff, the TOML writer (tomli-w) and
the transfer's dependency check (graphlib)."""

from __future__ import annotations

import tomllib

import pytest

from simsource.scenario import ScenarioError, load_scenario, scenario_toml
from simsource.scenario.diff import MISSING, Change, defaults_like, diff, from_defaults
from simsource.scenario.dump import to_toml, toml_value
from simsource.scenario.loader import validate_data


def test_diff_between_two_scenarios() -> None:
    a = load_scenario("nacka-multi")
    b = load_scenario("nacka-multi", {"coordination.staff": 30, "funnel.screening_pass": 0.3,
                                      "title": "another title"})
    assert diff(a, b) == [Change("coordination.staff", 24, 30),
                          Change("funnel.screening_pass", 0.25, 0.3)]
    assert diff(a, a) == []
    # numbers within a relative 1e-9 are the same parameter value
    c = load_scenario("nacka-multi", {"funnel.screening_pass": 0.1 + 0.15})
    assert diff(a, c) == []


def test_a_new_supplier_set_is_one_change() -> None:
    single, multi = load_scenario("nacka-single"), load_scenario("nacka-multi")
    changes = diff(single, multi)
    assert Change("suppliers", "incumbent", "dcg, basefarm, dustin, certessa") in changes
    assert not any(c.key.startswith("suppliers.") for c in changes)
    detailed = diff(single, multi, collapse_suppliers=False)
    assert Change("suppliers.dcg.staff", MISSING, 6) in detailed


def test_differences_from_the_defaults() -> None:
    sc = load_scenario("nacka-multi")
    changes = {c.key: c for c in from_defaults(sc)}
    assert changes["coordination.staff"] == Change("coordination.staff", 10, 24)
    assert changes["suppliers.basefarm.annual_fee_msek"].old == 15.0   # the supplier default
    assert "suppliers.basefarm.proactive" not in changes                # 0.5 is that default
    assert "name" not in changes
    assert "partnership.preset" not in changes                          # a label only
    assert set(defaults_like(sc)["suppliers"]) == set(sc.suppliers)


def test_toml_writer_round_trips_every_shipped_scenario() -> None:
    for name in ("nacka-single", "nacka-multi", "nacka-transfer-2017"):
        sc = load_scenario(name)
        assert validate_data(tomllib.loads(scenario_toml(sc)), name) == sc
    assert tomllib.loads(to_toml({"a": {"b": None, "c": [1, 2]}})) == {"a": {"c": [1, 2]}}


@pytest.mark.parametrize("value", [1, 1.5, float("inf"), True, "tab\tquote\"del\x7f", [],
                                   [1, [2, 3]], {"a b": [1, {"x": "y"}]}, {}])
def test_toml_value_is_one_line_of_valid_toml(value: object) -> None:
    text = toml_value(value)
    assert "\n" not in text
    assert tomllib.loads(f"v = {text}")["v"] == value


def test_a_dependency_cycle_is_named_in_order() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("nacka-transfer-2017", {
            "transition.systems": 5,
            "transition.dependencies": {"0": [2], "1": [0], "2": [1], "3": [0]}})
    assert "dependencies contain a cycle: 0 → 2 → 1 → 0 (each system needs the next one " \
           "first)" in str(err.value)
    ok = load_scenario("nacka-transfer-2017", {"transition.systems": 5,
                                                "transition.dependencies": {"0": [2], "2": [1]}})
    assert ok.transition.dependencies == {"0": (2,), "2": (1,)} or ok.transition.dependencies
