"""Parameter sets (simsource.experiment.sampling): which keys are uncertain for several
scenarios, Latin hypercube sets that stay valid (mixes, rules between parameters), posterior
folders read with clear errors and drawn by weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simsource.errors import UserError
from simsource.experiment.sampling import (
    applicable,
    columns,
    draw_posterior,
    latin_hypercube_sets,
    posterior_shares,
    posterior_space,
    read_posterior,
    resolve_uncertain,
    set_scenarios,
)
from simsource.scenario import Scenario, load_scenario

MIX = "ideas.sources.citizens.domain_mix"


@pytest.fixture(scope="module")
def policies() -> list[Scenario]:
    return [load_scenario("nacka-single"), load_scenario("nacka-multi")]


def test_keys_globs_and_mixes_resolve_over_several_policies(policies: list[Scenario]) -> None:
    space = resolve_uncertain(policies, "funnel.screening_pass,operations.cross_supplier_*,"
                                        f"{MIX},ideas.areas_needed_probs")
    keys = [u.key for u in space]
    assert keys == ["funnel.screening_pass", "operations.cross_supplier_multiplier", MIX,
                    "ideas.areas_needed_probs"]
    single, multi = policies
    # the multiplier matters only with several suppliers: it applies to one policy
    assert "operations.cross_supplier_multiplier" not in [u.key for u in applicable(space, single)]
    assert [u.key for u in applicable(space, multi)] == keys
    mix = space[2]
    assert mix.is_mix
    assert mix.dims == 2
    assert mix.columns == [f"{MIX}.it", f"{MIX}.business", f"{MIX}.new_service"]
    glob = resolve_uncertain(policies, "ideas.sources.*.domain_mix")
    assert len(glob) == 3
    assert all(u.is_mix for u in glob)
    everything = resolve_uncertain(policies, "all")
    assert len(everything) > 100
    assert MIX in [u.key for u in everything]
    # the parameter space's mix coordinates (KEY#i) select the mix whole, never a coordinate
    assert not [u.key for u in everything if "#" in u.key]
    assert [u.key for u in resolve_uncertain(policies, f"{MIX}#1")] == [MIX]
    assert "operations.incidents_per_year.network" in [u.key for u in everything]


def test_unknown_or_inapplicable_keys_are_one_clear_line(policies: list[Scenario]) -> None:
    with pytest.raises(UserError, match=r"--uncertain: funnel\.screening_pas: .*did you mean "
                                        r"funnel\.screening_pass"):
        resolve_uncertain(policies, "funnel.screening_pas")
    with pytest.raises(UserError, match="does not apply"):
        resolve_uncertain(policies, "transition.team_size")
    with pytest.raises(UserError, match="matches no parameter"):
        resolve_uncertain(policies, "nothing.*")
    with pytest.raises(UserError, match="at least one"):
        resolve_uncertain(policies, " , ")


def test_latin_hypercube_has_one_value_per_stratum_and_valid_mixes(
        policies: list[Scenario]) -> None:
    space = resolve_uncertain(policies, f"funnel.screening_pass,coordination.staff,{MIX}")
    k = 40
    sets = latin_hypercube_sets(space, k, seed=7)
    assert list(sets.columns) == columns(space)
    u = (sets["funnel.screening_pass"] - 0.10) / (0.45 - 0.10)
    assert sorted(np.floor(u * k).astype(int)) == list(range(k))  # one point per stratum
    assert pd.api.types.is_integer_dtype(sets["coordination.staff"])
    shares = sets[[f"{MIX}.it", f"{MIX}.business", f"{MIX}.new_service"]]
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert (shares >= 0).all().all()
    pd.testing.assert_frame_equal(sets, latin_hypercube_sets(space, k, seed=7))
    assert not sets.equals(latin_hypercube_sets(space, k, seed=8))
    scenarios = set_scenarios(policies[0], space, sets)
    assert scenarios[3].ideas.sources["citizens"].domain_mix.it == pytest.approx(
        sets.loc[3, f"{MIX}.it"])
    assert scenarios[3].coordination.staff == sets.loc[3, "coordination.staff"]


def test_sets_that_break_a_rule_between_parameters_are_replaced(policies: list[Scenario]) -> None:
    # independent ranges: a small ordinary overrun with many, large black swans is refused
    space = resolve_uncertain(policies, "funnel.overrun_mean,funnel.black_swan_*")
    raw = latin_hypercube_sets(space, 60, seed=1)
    with pytest.raises(UserError, match="overrun_mean"):
        set_scenarios(policies[0], space, raw)
    sets = latin_hypercube_sets(space, 60, seed=1, scenarios=policies)
    assert sets.attrs["rejected"] > 0
    assert "overrun_mean" in sets.attrs["rejection"]
    assert len(sets) == 60
    assert len(set_scenarios(policies[1], space, sets)) == 60  # every set is valid now


def write_posterior(folder: Path, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "posterior.parquet")
    return folder


def test_posterior_is_read_and_drawn_by_weight(tmp_path: Path, policies: list[Scenario]) -> None:
    post = pd.DataFrame({"funnel.screening_pass": [0.2, 0.3, 0.4],
                         f"{MIX}.it": [0.2, 0.3, 0.5], f"{MIX}.business": [0.5, 0.4, 0.3],
                         f"{MIX}.new_service": [0.3, 0.3, 0.2],
                         "weight": [1.0, 0.0, 3.0]})
    frame = read_posterior(write_posterior(tmp_path / "post", post))
    space = posterior_space(frame, policies)
    assert sorted(u.key for u in space) == sorted([MIX, "funnel.screening_pass"])
    draws = draw_posterior(frame, 400, seed=5)
    assert set(draws["posterior_row"]) == {0, 2}            # weight 0 is never drawn
    assert (draws["posterior_row"] == 2).mean() == pytest.approx(0.75, abs=0.07)
    pd.testing.assert_frame_equal(draws, draw_posterior(frame, 400, seed=5))
    scenarios = set_scenarios(policies[1], space, draws.head(3))
    assert scenarios[0].funnel.screening_pass == draws.loc[0, "funnel.screening_pass"]


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"funnel.screening_pass": [0.2]}), "no column 'weight'"),
    (pd.DataFrame({"funnel.screening_pass": [0.2], "weight": [-1.0]}), "non-negative"),
    (pd.DataFrame({"funnel.screening_pass": ["a"], "weight": [1.0]}), "not numbers"),
    (pd.DataFrame({"weight": [1.0]}), "no parameter columns"),
])
def test_broken_posteriors_name_the_file(tmp_path: Path, frame: pd.DataFrame,
                                         message: str) -> None:
    folder = write_posterior(tmp_path / "post", frame)
    with pytest.raises(UserError, match=message) as err:
        read_posterior(folder)
    assert str(folder / "posterior.parquet") in str(err.value)


def test_posterior_mix_coordinates_become_shares(policies: list[Scenario]) -> None:
    post = pd.DataFrame({f"{MIX}#1": [0.5, 0.0], f"{MIX}#2": [0.5, 1.0], "weight": [1.0, 1.0]})
    frame = posterior_shares(post, policies)
    assert list(frame.columns) == ["weight", f"{MIX}.it", f"{MIX}.business", f"{MIX}.new_service"]
    assert frame.loc[0, f"{MIX}.it"] == pytest.approx(1 - 0.5 ** 0.5)
    assert frame.loc[1].drop("weight").tolist() == pytest.approx([0.0, 1.0, 0.0])
    assert [u.key for u in posterior_space(frame, policies)] == [MIX]
    with pytest.raises(UserError, match=f"column {MIX}#2 missing"):
        posterior_shares(post.drop(columns=[f"{MIX}#2"]), policies)


def test_posterior_columns_must_be_parameters(tmp_path: Path, policies: list[Scenario]) -> None:
    with pytest.raises(UserError, match="no such folder"):
        read_posterior(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"posterior\.parquet: missing"):
        read_posterior(tmp_path / "empty")
    frame = pd.DataFrame({"funnel.screening_pasz": [0.2], "weight": [1.0]})
    with pytest.raises(UserError, match=r"'funnel\.screening_pasz' is not a parameter"):
        posterior_space(frame, policies)
    half_mix = pd.DataFrame({f"{MIX}.it": [0.2], "weight": [1.0]})
    with pytest.raises(UserError, match="needs all its shares"):
        posterior_space(half_mix, policies)
