"""`simsource calibrate`: facts files, implausibility against theory, and the method's self-tests
(simulation-based calibration, a held-back fact) on a model with a known answer and on the real
one; the folder resumes and refuses like ``run``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simsource.analysis.calibration import calibrate, load_calibration, load_facts, setup
from simsource.analysis.calibration.facts import Fact
from simsource.analysis.calibration.implausibility import estimate, implausibility
from simsource.analysis.calibration.matching import weighted_quantiles
from simsource.analysis.calibration.selftest import facts_toml, run_selftest, synthetic_facts
from simsource.cli import main
from simsource.errors import UserError
from simsource.experiment.posterior import Posterior
from simsource.scenario import Scenario, load_scenario

FAKE = "fake_models:calibration_model"
TRUTH = {"coordination.governance_fte_per_supplier": 0.9, "funnel.screening_pass": 0.3}
PARAMS = "coordination.governance_fte_per_supplier,funnel.screening_pass"


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi-10", {"scenario.years": 2})


def write_facts(path: Path, values: dict[str, float], tolerances: dict[str, float],
                scenario: str = "nacka-multi-10") -> Path:
    path.write_text(facts_toml(scenario, values, tolerances, {"scenario.years": 2}),
                    encoding="utf-8")
    return path


# ---- implausibility against theory ---------------------------------------------------------
def fact(**kw: object) -> Fact:
    base: dict[str, object] = {"name": "f", "kpi": "operations_share_of_unit_effort",
                               "lower": 0.28, "upper": 0.38, "source": "s", "value": 0.33,
                               "tolerance": 0.05}
    base.update(kw)
    return Fact(**base)  # type: ignore[arg-type]


def test_a_deterministic_prediction_is_plausible_exactly_within_the_tolerance() -> None:
    f = fact()
    y = np.array([[0.33] * 3, [0.38] * 3, [0.3801] * 3, [0.2799] * 3, [0.40] * 3])
    imp = implausibility(f, estimate(f, y))
    assert imp[0] == 0
    assert imp[1] == pytest.approx(3.0)
    assert imp[2] > 3
    assert imp[3] > 3
    assert imp[4] == pytest.approx(0.07 / (0.05 / 3))


def test_the_spread_of_one_history_and_the_monte_carlo_error_widen_the_denominator() -> None:
    f = fact(tolerance=0.0, lower=0.33, upper=0.33)
    rng = np.random.default_rng(1)
    y = 0.4 + rng.normal(0, 0.05, size=(400, 10))
    est = estimate(f, y)
    # moderated variances average to the pooled one: about 0.05² (+ 0.05²/10 for the mean)
    assert np.mean(est.spread) == pytest.approx(0.05 ** 2, rel=0.1)
    assert np.mean(est.error) == pytest.approx(0.05 ** 2 / 10, rel=0.1)
    imp = implausibility(f, est)
    assert np.median(imp) == pytest.approx(0.07 / math.sqrt(0.05 ** 2 * 1.1), rel=0.1)
    # an observation that averages ten histories varies ten times less than one history
    imp10 = implausibility(fact(tolerance=0.0, lower=0.33, upper=0.33, histories=10), est)
    assert np.median(imp10) == pytest.approx(0.07 / math.sqrt(0.05 ** 2 * 0.2), rel=0.1)


def test_one_sided_binary_and_two_scenario_facts() -> None:
    low = fact(value=None, tolerance=None, lower=0.0, upper=math.inf)
    est = estimate(low, np.array([[1.0, 2.0], [-5.0, -4.0]]))
    imp = implausibility(low, est)
    assert imp[0] == 0
    assert imp[1] > 3
    binary = fact(kpi="transition_deadline_met", value=1.0, tolerance=0.0, lower=1.0, upper=1.0)
    # k successes of R: p̃ = (k + ½)/(R + 1); I = (1 − k/R) / sqrt(p̃(1 − p̃)(1 + 1/R))
    y = np.array([[0.0] * 8, [1.0] + [0.0] * 7, [1.0] * 8])
    imp = implausibility(binary, estimate(binary, y))
    p = 0.5 / 9
    assert imp[0] == pytest.approx(1 / math.sqrt(p * (1 - p) * (1 + 1 / 8)))
    assert imp[0] > 3 > imp[1]
    assert imp[2] == 0
    diff = fact(value=None, tolerance=None, lower=0.0, upper=math.inf, statistic="difference",
                baseline="b", kpi="innovations_per_year")
    a = np.array([[10.0, 12.0, 11.0]])
    est = estimate(diff, a, a - 1)
    assert est.mean[0] == pytest.approx(1.0)
    assert est.error[0] == pytest.approx(0.0)  # identical paired differences
    ratio = fact(value=2.0, tolerance=0.1, statistic="ratio", baseline="b", lower=1.9, upper=2.1)
    assert estimate(ratio, 2 * a, a).mean[0] == pytest.approx(2.0)
    missing = implausibility(fact(), estimate(fact(), np.full((1, 3), np.nan)))
    assert missing[0] == math.inf


def test_weighted_quantiles() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantiles(x, np.ones(4), [0.5])[0] == pytest.approx(2.5)
    assert weighted_quantiles(x, np.array([0, 0, 1.0, 0]), [0.05, 0.95]) == [3.0, 3.0]


# ---- facts files ---------------------------------------------------------------------------
GOOD = """
title = "t"
[facts.a]
kpi = "operations_share_of_unit_effort"
value = 0.33
tolerance = 0.05
source = "interview"
"""


@pytest.mark.parametrize(("text", "message"), [
    ("title = \"t\"\n[facts]\n", "no facts"),
    (GOOD.replace('kpi = "operations_share_of_unit_effort"', 'kpi = "operations_shar"'),
     "facts.a.kpi: unknown KPI 'operations_shar' (did you mean"),
    (GOOD.replace("tolerance = 0.05\n", ""), "facts.a.tolerance: missing"),
    (GOOD.replace("tolerance = 0.05", "tolerance = -1"), "facts.a.tolerance: must not be"),
    (GOOD.replace('source = "interview"', ""), "facts.a.source: missing"),
    (GOOD.replace("value = 0.33\ntolerance = 0.05", "lower = 2\nupper = 1"),
     "lower (2) must be below upper (1)"),
    (GOOD.replace("value = 0.33", 'value = "a third"'), "facts.a.value: must be a finite"),
    (GOOD + "lower = 0.1\n", "not both"),
    (GOOD + "colour = 1\n", "facts.a.colour: unknown key"),
    (GOOD + 'statistic = "difference"\n', "needs a baseline"),
    (GOOD + 'baseline = "nacka-single"\nstatistic = "median"\n', "must be one of"),
    (GOOD + "replications = 0\n", "facts.a.replications"),
    (GOOD + "histories = 0\n", "facts.a.histories"),
    (GOOD + 'set = { "coordination.stafff" = 3 }\n', "facts.a.set.coordination.stafff"),
    (GOOD + '[priors]\n"funnel.screening_pass" = { lower = 0.5, upper = 0.1 }\n',
     "priors.funnel.screening_pass: lower"),
    (GOOD + '[priors]\n"funnel.screeningpass" = { lower = 0.1, upper = 0.5 }\n',
     "priors.funnel.screeningpass: unknown key"),
    ("[facts.a\n", "malformed TOML"),
])
def test_a_bad_facts_file_is_one_line_per_problem_naming_file_and_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("facts.toml").write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_facts("facts.toml")
    assert len(err.value.problems) == 1, err.value.problems
    assert err.value.problems[0].startswith("facts.toml: ")
    assert message in err.value.problems[0]


def test_the_shipped_nacka_facts_load_and_name_their_sources() -> None:
    facts = load_facts(Path(__file__).parents[1] / "scenarios" / "facts" / "nacka.toml")
    names = {f.name for f in facts.facts}
    assert {"transfer_on_time", "operations_share", "innovation_rose"} <= names
    assert all(f.source for f in facts.facts)
    text = facts.text
    for pattern in ("Pattern 2", "Pattern 3", "Pattern 5"):  # left out, with the reason
        assert pattern in text


def test_cli_refuses_bad_input_before_running(tmp_path: Path, runner: CliRunner,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("f.toml").write_text(GOOD, encoding="utf-8")
    cases = [
        (["--facts", "nope.toml", "--params", "funnel.screening_pass"], "nope.toml: no such"),
        (["--facts", "f.toml"], "--params: name the parameters"),
        (["--facts", "f.toml", "--params", "funnel.screeningpass"], "did you mean"),
        (["--facts", "f.toml", "--params", "funnel.screening_pass", "--budget", "10"],
         "--budget: 10 simulations"),
        (["--facts", "f.toml", "--params", "funnel.screening_pass", "--hold-out", "zz"],
         "no fact 'zz'"),
        (["--facts", "f.toml", "--params", "funnel.screening_pass", "--hold-out", "a"],
         "every fact is held back"),
    ]
    for args, message in cases:
        res = runner.invoke(main, ["calibrate", "nacka-multi", *args, "--out", "c"])
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output, (args, res.output)
        assert res.output.count("error:") == 1
        assert not Path("c").exists()


# ---- the method's self-tests on a model with a known answer ---------------------------------
@pytest.mark.slow
def test_simulation_based_calibration_recovers_known_values(tmp_path: Path, sc: Scenario) -> None:
    tol = {"operations_share_of_unit_effort": 0.02, "innovations_per_year": 0.5}
    values = synthetic_facts(sc, TRUTH, tol, reps=200, jobs=2, model=FAKE)
    facts = load_facts(write_facts(tmp_path / "facts.toml", values, tol))
    s = setup(sc, facts, PARAMS, budget=600, replications=4, seed=5)
    res = calibrate(s, tmp_path / "cal", jobs=2, model=FAKE)
    for p in res.summary["params"]:
        post = p["posterior"]
        assert post["q05"] <= TRUTH[p["key"]] <= post["q95"], p
        assert p["width_ratio_90"] < 0.35, p  # much narrower than the prior
    assert all(f["covered_by_posterior_90"] for f in res.summary["facts"])
    post = Posterior.load(tmp_path / "cal")
    assert post.keys == tuple(PARAMS.split(","))
    assert post.sets == res.summary["accepted"] > 10
    assert res.summary["budget"]["used"] <= 600
    assert len(res.summary["waves"]) >= 3
    assert (tmp_path / "cal" / "plots" / "marginals.png").stat().st_size > 1000


@pytest.mark.slow
def test_a_held_back_fact_is_predicted(tmp_path: Path, sc: Scenario) -> None:
    tol = {"operations_share_of_unit_effort": 0.02, "coordinator_utilisation": 0.02}
    values = synthetic_facts(sc, TRUTH, tol, reps=200, jobs=2, model=FAKE)
    facts = load_facts(write_facts(tmp_path / "facts.toml", values, tol))
    s = setup(sc, facts, "coordination.governance_fte_per_supplier", budget=300,
              replications=4, seed=6, hold_out=["coordinator_utilisation"])
    res = calibrate(s, tmp_path / "cal", jobs=1, model=FAKE)
    held = next(f for f in res.summary["facts"] if f["name"] == "coordinator_utilisation")
    assert not held["used"]
    post, prior = held["posterior_predictive"], held["prior_predictive"]
    assert post["q05"] <= values["coordinator_utilisation"] <= post["q95"]
    assert post["q95"] - post["q05"] < 0.4 * (prior["q95"] - prior["q05"])
    evals = res.evaluations
    assert evals["I_coordinator_utilisation"].notna().any()
    assert not (evals["accepted"] & evals["I_coordinator_utilisation"].isna()).any()


@pytest.mark.slow
def test_same_seed_same_posterior_on_any_jobs_and_a_rerun_resumes(
        tmp_path: Path, sc: Scenario) -> None:
    tol = {"operations_share_of_unit_effort": 0.02}
    facts = load_facts(write_facts(tmp_path / "facts.toml", {
        "operations_share_of_unit_effort": 0.37}, tol))
    s = setup(sc, facts, "coordination.governance_fte_per_supplier", budget=120,
              replications=3, seed=7)
    one = calibrate(s, tmp_path / "a", jobs=1, model=FAKE)
    two = calibrate(s, tmp_path / "b", jobs=2, model=FAKE)
    pd.testing.assert_frame_equal(one.posterior, two.posterior)
    batch = sorted((tmp_path / "a" / "evaluations").iterdir())[0]
    stamp = batch.stat().st_mtime_ns
    again = calibrate(s, tmp_path / "a", jobs=2, model=FAKE)
    assert batch.stat().st_mtime_ns == stamp  # reused, not recomputed
    pd.testing.assert_frame_equal(one.posterior, again.posterior)
    other = setup(sc, facts, "coordination.governance_fte_per_supplier", budget=120,
                  replications=3, seed=8)
    with pytest.raises(UserError, match="a calibration of"):
        calibrate(other, tmp_path / "a", jobs=1, model=FAKE)
    assert load_calibration(tmp_path / "a")["seed"] == 7
    data = json.loads((tmp_path / "a" / "calibration.json").read_text())
    assert data["command"]
    assert {"prior", "posterior", "width_ratio_90"} <= set(data["params"][0])


def test_facts_no_candidate_can_meet_give_an_empty_posterior_and_a_warning(
        tmp_path: Path, sc: Scenario) -> None:
    tol = {"operations_share_of_unit_effort": 0.01}
    facts = load_facts(write_facts(tmp_path / "facts.toml", {
        "operations_share_of_unit_effort": 0.95}, tol))  # beyond 0.1 + 0.3·1.5
    s = setup(sc, facts, "coordination.governance_fte_per_supplier", budget=100,
              replications=2, seed=1)
    warnings: list[str] = []
    res = calibrate(s, tmp_path / "cal", jobs=1, model=FAKE, warn=warnings.append)
    assert res.summary["accepted"] == 0
    assert any("no candidate reproduces the facts" in w for w in warnings)
    with pytest.raises(UserError, match="0 rows"):
        Posterior.load(tmp_path / "cal")


# ---- the real model ------------------------------------------------------------------------
@pytest.mark.slow
def test_simulation_based_calibration_and_a_held_back_fact_with_the_real_model(
        tmp_path: Path) -> None:
    """The self-test of docs/calibration.md with a small budget: the operations share pins the
    governance size per supplier, the ideas passed by screening the screening pass rate;
    coordinator utilisation is held back and predicted."""
    got = run_selftest("nacka-multi", tmp_path, budget=150, replications=2, seed=3, jobs=2,
                       overrides={"scenario.years": 2.0})
    for key, p in got["params"].items():
        assert p["covered"], (key, p)
        assert p["width_ratio_90"] < 0.7, (key, p)
    assert got["params"]["coordination.governance_fte_per_supplier"]["width_ratio_90"] < 0.5
    assert all(h["covered"] for h in got["held_back"].values()), got["held_back"]


def test_mixture_weights_undo_the_refocused_sampling() -> None:
    """Wave 1 samples [0, 1], wave 2 the box [0, 0.5] with as many points: the density there
    is three times the density elsewhere, so accepted points inside weigh a third as much."""
    from simsource.analysis.calibration.matching import Matching, WaveInfo
    from simsource.experiment.params import Param

    m = Matching([Param("funnel.screening_pass", 0.1, 0.45)], [], [], 3.0,
                 u=np.array([[0.2], [0.8], [0.1], [0.4]]))
    m.waves = [WaveInfo(1, np.zeros(1), np.ones(1), [0, 1]),
               WaveInfo(2, np.zeros(1), np.full(1, 0.5), [2, 3])]
    w = m.weights()  # no facts: every candidate is accepted
    assert w[1] == pytest.approx(3 * w[0])
    assert w[0] == pytest.approx(w[2])
    assert w.sum() == pytest.approx(1.0)


def test_plan_waves_shares_the_budget_and_stops_when_it_is_spent() -> None:
    from simsource.analysis.calibration.matching import plan_waves

    assert plan_waves(1200, 10, 3, 0, 0) == 40
    assert plan_waves(1200, 10, 3, 400, 1) == 40
    assert plan_waves(1200, 10, 3, 700, 2) == 50  # what an earlier wave saved carries over
    assert plan_waves(1200, 10, 3, 1000, 3) == 20  # more waves while the budget lasts
    assert plan_waves(1200, 10, 3, 1160, 3) == 0


@pytest.mark.slow
def test_cli_calibrate_writes_the_files_and_resumes(tmp_path: Path, runner: CliRunner,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("f.toml").write_text(GOOD + 'set = { "scenario.years" = 1.2 }\n'
                              'scenario = "nacka-multi-10"\n', encoding="utf-8")
    args = ["calibrate", "nacka-multi-10", "--facts", "f.toml", "--params",
            "coordination.governance_fte_per_supplier=0.3:1.2", "--budget", "24", "-n", "2",
            "-j", "1", "--seed", "4", "--out", "cal"]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "width vs prior" in res.output
    assert "use it with --posterior cal" in res.output
    for name in ("posterior.parquet", "calibration.json", "evaluations.parquet", "facts.toml",
                 "plots/marginals.png", "plots/facts.png"):
        assert (Path("cal") / name).is_file(), name
    data = json.loads(Path("cal/calibration.json").read_text())
    assert data["params"][0]["prior"]["lower"] == 0.3  # KEY=LOW:HIGH sets the prior
    assert data["budget"]["used"] <= 24
    again = runner.invoke(main, args)
    assert again.exit_code == 0, again.output
    assert json.loads(Path("cal/calibration.json").read_text())["params"] == data["params"]
    refused = runner.invoke(main, [*args[:-4], "--seed", "5", "--out", "cal"])
    assert refused.exit_code == 2
    assert "a calibration of" in refused.output


def test_parameter_share_of_a_kpi_and_of_a_paired_difference() -> None:
    """Noise sd 1 at fixed values; under the posterior a parameter effect of sd 1 is added to
    B only: half of B's variance (and of B − A's) is parameter uncertainty, none of A's."""
    from simsource.analysis.calibration.uncertainty import parameter_share, with_differences

    rng = np.random.default_rng(0)
    n = 4000
    noise_a, noise_b, effect = rng.normal(size=(3, n))

    def frame(b: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"scenario": ["A"] * n + ["B"] * n,
                             "replication": [*range(n), *range(n)],
                             "innovations_per_year": np.concatenate([noise_a, b])})

    kpis = ["innovations_per_year"]
    table = parameter_share(with_differences(frame(noise_b), kpis),
                            with_differences(frame(noise_b + effect), kpis), kpis)
    share = dict(zip(table["scenario"], table["parameter_share"], strict=True))
    assert share["A"] == 0.0
    assert share["B"] == pytest.approx(0.5, abs=0.05)
    assert share["B − A"] == pytest.approx(1 / 3, abs=0.05)
