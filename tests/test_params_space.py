"""The parameter space covers per-area rates and mixes (issue 13 item 6): sensitivity
analysis, calibration and exploration can vary every numeric parameter, and mixes stay valid."""

from __future__ import annotations

import numpy as np
import pytest

from simsource import load_scenario
from simsource.experiment.design import point_scenarios
from simsource.experiment.params import mix_key, parameter_space, select_params, to_overrides
from simsource.scenario.mixes import mix_from_unit, unit_from_mix


def test_unit_from_mix_inverts_stick_breaking() -> None:
    rng = np.random.default_rng(1)
    for k in (2, 3, 5):
        for _ in range(50):
            u = rng.random(k - 1)
            mix = mix_from_unit(u)
            assert unit_from_mix(mix) == pytest.approx(tuple(u), abs=1e-9)
            assert mix_from_unit(unit_from_mix(mix)) == pytest.approx(mix, abs=1e-12)


def test_space_has_per_area_rates_and_mix_coordinates() -> None:
    sc = load_scenario("nacka-multi")
    keys = {p.key for p in parameter_space(sc)}
    for area in sc.scenario.areas:
        assert f"operations.incidents_per_year.{area}" in keys
    assert "operations.incidents_per_year.workplace" not in keys      # not one of its areas
    for mix in ("ideas.areas_needed_probs", "ideas.sources.citizens.domain_mix",
                "ideas.supplier_domain_mix", "engagement.domain_mix", "changes.areas_probs"):
        assert {f"{mix}#1", f"{mix}#2"} <= keys, mix
        assert mix_key(f"{mix}#1") == mix
    assert mix_key("operations.sla_days") is None
    chosen = {p.key for p in select_params(sc, "ideas.areas_needed_probs")}
    assert chosen == {"ideas.areas_needed_probs#1", "ideas.areas_needed_probs#2"}


def test_a_point_at_the_current_coordinates_is_the_scenario_itself() -> None:
    sc = load_scenario("nacka-multi")
    space = {p.key: p for p in parameter_space(sc)}
    point = {k: p.value for k, p in space.items() if mix_key(k) is not None}
    [same] = point_scenarios(sc, [point])
    assert same.ideas.areas_needed_probs == pytest.approx(sc.ideas.areas_needed_probs)
    assert same.ideas.sources["citizens"].domain_mix.as_tuple() == pytest.approx(
        sc.ideas.sources["citizens"].domain_mix.as_tuple())


def test_corner_points_give_valid_extreme_mixes() -> None:
    sc = load_scenario("nacka-multi")
    ov = to_overrides(sc, {"ideas.areas_needed_probs#1": 1.0,
                           "operations.incidents_per_year.network": 900.0})
    assert ov["ideas.areas_needed_probs"] == pytest.approx([1.0, 0.0, 0.0])
    [s] = point_scenarios(sc, [{"ideas.areas_needed_probs#1": 0.0,
                                "ideas.areas_needed_probs#2": 0.5,
                                "operations.incidents_per_year.network": 900.0}])
    assert sum(s.ideas.areas_needed_probs) == pytest.approx(1.0)
    assert s.ideas.areas_needed_probs[0] == pytest.approx(0.0)
    assert s.operations.incidents_per_year["network"] == 900.0
