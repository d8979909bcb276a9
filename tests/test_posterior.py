"""Propagation of a calibration posterior (``--posterior DIR``): replication i draws a parameter
set from (seed, i), any -j, recorded in ``parameters.parquet``; bad posteriors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simsource.cli import main
from simsource.errors import UserError
from simsource.experiment.compare import run_compare
from simsource.experiment.engine import Evaluator
from simsource.experiment.posterior import Posterior, write_posterior
from simsource.experiment.results import load_results
from simsource.experiment.runner import run_batch
from simsource.experiment.sweep import run_sweep
from simsource.scenario import Scenario, load_scenario

FAKE = "fake_models:fake_simulate"  # innovations ~ N(10 + staff/10, 1)
STAFF = np.array([10, 30, 50, 70])
WEIGHTS = np.array([0.1, 0.0, 0.6, 0.3])


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi-10", {"scenario.years": 2})


def make_posterior(folder: Path, staff: np.ndarray = STAFF, weights: np.ndarray = WEIGHTS
                   ) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    values = np.column_stack([staff, np.linspace(0.2, 0.3, len(staff))])
    write_posterior(folder, ["coordination.staff", "funnel.screening_pass"], values, weights,
                    integer=[True, False])
    return folder


@pytest.fixture
def post(tmp_path: Path) -> Posterior:
    return Posterior.load(make_posterior(tmp_path / "cal"))


def test_draws_follow_the_weights_and_depend_only_on_seed_and_replication(
        post: Posterior) -> None:
    rows = np.array([post.draw(5, i) for i in range(4000)])
    assert 1 not in rows  # weight 0: never drawn
    share = np.bincount(rows, minlength=4) / rows.size
    assert share == pytest.approx(WEIGHTS, abs=0.03)
    assert [post.draw(5, i) for i in range(50)] == [post.draw(5, i) for i in range(50)]
    assert [post.draw(5, i) for i in range(50)] != [post.draw(6, i) for i in range(50)]
    assert post.row(2) == {"coordination.staff": 50, "funnel.screening_pass": pytest.approx(
        0.2 + 2 * 0.1 / 3)}
    assert isinstance(post.row(2)["coordination.staff"], int)


def test_run_uses_the_drawn_set_in_each_replication_on_any_jobs(
        tmp_path: Path, sc: Scenario, post: Posterior) -> None:
    one = run_batch(sc, 24, seed=3, jobs=1, out=tmp_path / "a", model=FAKE, posterior=post)
    two = run_batch(sc, 24, seed=3, jobs=2, out=tmp_path / "b", model=FAKE, posterior=post,
                    chunk_size=5)
    pd.testing.assert_frame_equal(one, two)
    plain = run_batch(sc, 24, seed=3, jobs=1, model=FAKE)
    res = load_results(tmp_path / "a")
    params = res.parameters
    assert params is not None
    assert list(params["replication"]) == list(range(24))
    assert list(params["posterior_row"]) == [post.draw(3, i) for i in range(24)]
    staff = params["coordination.staff"].to_numpy()
    # the fake model's mean is 10 + staff/10 with the same noise: the shift is the draw's staff
    shift = one["innovations_per_year"].to_numpy() - plain["innovations_per_year"].to_numpy()
    assert shift == pytest.approx((staff - sc.coordination.staff) / 10)
    assert res.posterior is not None
    assert res.posterior["sha256"] == post.digest
    assert load_results(tmp_path / "a").manifest["posterior"] == post.digest


def test_a_folder_of_another_posterior_is_refused_not_mixed(
        tmp_path: Path, sc: Scenario, post: Posterior) -> None:
    run_batch(sc, 6, seed=3, jobs=1, out=tmp_path / "a", model=FAKE, posterior=post)
    other = Posterior.load(make_posterior(tmp_path / "other", weights=np.array([1, 0, 0, 0])))
    with pytest.raises(UserError, match="posterior"):
        run_batch(sc, 6, seed=3, jobs=1, out=tmp_path / "a", model=FAKE, posterior=other)
    with pytest.raises(UserError, match="posterior"):
        run_batch(sc, 6, seed=3, jobs=1, out=tmp_path / "a", model=FAKE)
    assert load_results(tmp_path / "a").parameters is not None  # nothing lost


def test_compare_pairs_the_same_set_and_sweep_keeps_its_own_keys(
        tmp_path: Path, sc: Scenario, post: Posterior) -> None:
    other = load_scenario("nacka-single", {"scenario.years": 2})
    run_compare([sc, other], 10, seed=4, jobs=1, out=tmp_path / "cmp", model=FAKE,
                posterior=post)
    res = load_results(tmp_path / "cmp")
    params = res.parameters
    assert params is not None
    a, b = (params[params["scenario"] == n].reset_index(drop=True) for n in (sc.name, other.name))
    pd.testing.assert_series_equal(a["posterior_row"], b["posterior_row"])
    _design, _ = run_sweep(sc, [{"coordination.staff": 5}, {"coordination.staff": 90}], 8, seed=4,
                          jobs=1, out=tmp_path / "sw", model=FAKE, posterior=post)
    reps = load_results(tmp_path / "sw").replications
    for staff, group in reps.groupby("coordination.staff"):
        assert group["innovations_per_year"].mean() == pytest.approx(10 + staff / 10, abs=1.0)
    sweep_params = load_results(tmp_path / "sw").parameters
    assert sweep_params is not None
    assert sweep_params["coordination.staff"].isna().all()  # the design's key wins
    assert sweep_params["funnel.screening_pass"].notna().all()


def test_evaluator_draws_per_replication_and_keeps_the_callers_keys(
        sc: Scenario, post: Posterior) -> None:
    with Evaluator(1, model=FAKE, posterior=post, keep=("coordination.staff",)) as ev:
        kept = ev([sc], 12, 2)[0]
    with Evaluator(1, model=FAKE, posterior=post) as ev:
        drawn = ev([sc], 12, 2)[0]
    with Evaluator(1, model=FAKE) as ev:
        plain = ev([sc], 12, 2)[0]
    pd.testing.assert_frame_equal(kept, plain)
    staff = np.array([post.row(post.draw(2, i))["coordination.staff"] for i in range(12)])
    shift = drawn["innovations_per_year"] - plain["innovations_per_year"]
    assert shift.to_numpy() == pytest.approx((staff - sc.coordination.staff) / 10)


@pytest.mark.parametrize(("frame", "message"), [
    (None, "posterior.parquet: missing"),
    (pd.DataFrame({"coordination.staff": [1.0]}), "no column 'weight'"),
    (pd.DataFrame({"weight": [1.0]}), "no parameter columns"),
    (pd.DataFrame({"coordination.staff": [1.0], "weight": [-1.0]}), "non-negative"),
    (pd.DataFrame({"coordination.staff": ["x"], "weight": [1.0]}), "not numbers"),
    (pd.DataFrame({"coordination.staff": [np.nan], "weight": [1.0]}), "missing or infinite"),
    (pd.DataFrame({"coordination..staff": [1.0], "weight": [1.0]}), "coordination..staff"),
    (pd.DataFrame({"coordination.staff": [], "weight": []}), "0 rows"),
])
def test_a_bad_posterior_is_one_line_naming_the_file(
        tmp_path: Path, frame: pd.DataFrame | None, message: str) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    if frame is not None:
        frame.to_parquet(folder / "posterior.parquet")
    with pytest.raises(UserError, match=message) as err:
        Posterior.load(folder)
    assert len(err.value.problems) == 1
    assert "posterior.parquet" in err.value.problems[0]


def test_an_invalid_value_for_the_scenario_is_refused_before_running(
        tmp_path: Path, sc: Scenario) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    pd.DataFrame({"funnel.screening_pass": [1.5], "weight": [1.0]}).to_parquet(
        folder / "posterior.parquet")
    with pytest.raises(UserError, match=r"row 0: .*screening_pass"):
        run_batch(sc, 3, seed=0, jobs=1, out=tmp_path / "r", model=FAKE,
                  posterior=Posterior.load(folder))
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_cli_run_says_the_intervals_include_parameter_uncertainty(
        tmp_path: Path, runner: CliRunner) -> None:
    cal = make_posterior(tmp_path / "cal")
    out = tmp_path / "run"
    res = runner.invoke(main, ["run", "nacka-multi-10", "-n", "4", "-j", "1", "--set",
                               "scenario.years=1.2", "--posterior", str(cal), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "intervals include parameter uncertainty" in res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior_source"]["sets"] == 4
    bad = runner.invoke(main, ["run", "nacka-multi-10", "-n", "2", "--posterior",
                               str(tmp_path / "nope"), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert bad.output.count("\n") == 1
    assert "no such folder" in bad.output


@pytest.mark.slow
def test_cli_staff_and_compare_take_a_posterior(tmp_path: Path, runner: CliRunner) -> None:
    cal = make_posterior(tmp_path / "cal")
    res = runner.invoke(main, ["staff", "nacka-multi-10", "--target", "innovations_per_year>=0",
                               "-n", "2", "--min-staff", "3", "--max-staff", "4", "--years",
                               "1.2", "-j", "1", "-q", "--posterior", str(cal), "--out",
                               str(tmp_path / "staff")])
    assert res.exit_code == 0, res.output
    assert "the shares and intervals include parameter uncertainty" in res.output
    record = json.loads((tmp_path / "staff" / "staff.json").read_text())["posterior_source"]
    assert record["keys"] == ["coordination.staff", "funnel.screening_pass"]
    res = runner.invoke(main, ["compare", "nacka-single", "nacka-multi-10", "-n", "2", "-j", "1",
                               "--set", "scenario.years=1.2", "--posterior", str(cal), "--out",
                               str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    assert "intervals include parameter uncertainty" in res.output
    assert load_results(tmp_path / "cmp").parameters is not None


def test_the_teaching_page_gives_the_same_numbers_as_run_with_the_posterior(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simsource.app import runs

    post = Posterior.load(make_posterior(tmp_path / "cal"))
    short = load_scenario("nacka-multi-10", {"scenario.years": 1.2})
    page = runs.run_settings([short], 5, 3, jobs=1, cache=runs.ReplicationCache(),
                             posterior=post)[0]
    plain = runs.run_settings([short], 5, 3, jobs=1, cache=runs.ReplicationCache())[0]
    batch = run_batch(short, 3, seed=5, jobs=1, posterior=post)
    kpi = "coordinator_utilisation"
    assert page.kpis[kpi].to_numpy() == pytest.approx(batch[kpi].to_numpy())
    assert page.kpis[kpi].to_numpy() != pytest.approx(plain.kpis[kpi].to_numpy())
    monkeypatch.setenv(runs.POSTERIOR_ENV, str(tmp_path / "cal"))
    runs.posterior.cache_clear()
    try:
        served = runs.posterior()
        assert served is not None
        assert served.digest == post.digest
    finally:
        runs.posterior.cache_clear()


def test_mix_coordinates_of_a_posterior_become_the_mixs_shares(sc: Scenario) -> None:
    from simsource.experiment.params import to_overrides
    from simsource.experiment.posterior import applicable

    point = {"ideas.areas_needed_probs#1": 0.9, "coordination.staff": 30,
             "suppliers.nobody.proactive": 0.5}
    got = applicable(sc, point)
    assert got == to_overrides(sc, {k: v for k, v in point.items() if "nobody" not in k})
    probs = got["ideas.areas_needed_probs"]
    assert list(probs) != list(sc.ideas.areas_needed_probs)
    assert sum(probs) == pytest.approx(1.0)
    assert applicable(sc, point, keep=("ideas.areas_needed_probs",)) == {"coordination.staff": 30}


def test_a_run_with_a_posterior_over_a_mix_records_its_coordinates(
        tmp_path: Path, sc: Scenario) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    write_posterior(folder, ["ideas.areas_needed_probs#1"], np.array([[0.1], [0.9]]),
                    np.array([1.0, 1.0]), integer=[False])
    run_batch(sc, 4, seed=3, jobs=1, out=tmp_path / "r", model=FAKE,
              posterior=Posterior.load(folder))
    used = load_results(tmp_path / "r").parameters
    assert set(used["ideas.areas_needed_probs#1"]) <= {0.1, 0.9}
