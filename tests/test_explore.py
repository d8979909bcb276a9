"""`simsource explore` end to end on a small real model: failure driven by one known parameter
is found by PRIM; the folder is complete, resumable, reused for other targets, refused when it
holds something else, the same on any number of workers, and `plot`/`report` work on it.

The policies have one idea source and nothing else producing ideas, so ``ideas_per_year`` is (up
to Poisson noise) that source's ``rate_per_year``: a target on it fails exactly in the futures
with a low rate, whatever the other uncertain parameters do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simsource.cli import main
from simsource.experiment import load_results
from simsource.experiment.ownership import Ownership

POLICY = """
name = "{name}"
[scenario]
years = 1.5
warmup_years = 0.5
areas = ["network"]
[suppliers.solo]
areas = ["network"]
[coordination]
staff = {staff}
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
DRIVER = "ideas.sources.citizens.rate_per_year"
UNCERTAIN = f"{DRIVER}=20:80,funnel.matching_pass,partnership.autonomy"
TARGET = "ideas_per_year>=50"


def write_policies(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, staff in (("lean", 6), ("staffed", 14)):
        path = folder / f"{name}.toml"
        path.write_text(POLICY.format(name=name, staff=staff), encoding="utf-8")
        paths.append(str(path))
    return paths


def explore(runner: CliRunner, policies: list[str], out: Path, *extra: str,
            futures: int = 60) -> tuple[int, str]:
    result = runner.invoke(main, ["explore", *policies, "--uncertain", UNCERTAIN, "--futures",
                                  str(futures), "-n", "1", "--target", TARGET, "--seed", "3",
                                  "-j", "1", "--out", str(out), *extra])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    root = tmp_path_factory.mktemp("explore")
    policies = write_policies(root / "policies")
    code, output = explore(CliRunner(), policies, root / "res")
    assert code == 0, output
    return root / "res", policies, output


@pytest.mark.slow
def test_writes_futures_robustness_discovery_and_plots(
        explored: tuple[Path, list[str], str]) -> None:
    out, _, output = explored
    futures = pd.read_parquet(out / "futures.parquet")
    assert len(futures) == 60 * 2
    assert list(futures.columns[:2]) == ["future", "policy"]
    assert {DRIVER, "funnel.matching_pass", "partnership.autonomy", "ideas_per_year",
            "innovations_per_year"} <= set(futures.columns)
    # every policy meets the same futures: identical uncertain values per future
    wide = futures.pivot_table(index="future", columns="policy", values=DRIVER)
    assert (wide["lean"] == wide["staffed"]).all()
    robustness = pd.read_csv(out / "robustness.csv")
    sat = robustness[robustness["measure"] == "satisficing"].set_index("policy")
    expected = (futures.groupby("policy")["ideas_per_year"]
                .apply(lambda v: (v >= 50).mean()))
    assert sat.loc["lean", "value"] == pytest.approx(expected["lean"])
    assert 0.2 < sat.loc["lean", "value"] < 0.8
    discovery = pd.read_csv(out / "discovery.csv")
    for policy in ("lean", "staffed"):
        first = discovery[(discovery["policy"] == policy) & (discovery["box"] == 1)]
        assert list(first["parameter"]) == [DRIVER]   # failure comes from the low rates
        assert first["upper"].iloc[0] < 60
    for name in ("robustness", "tradeoff", "discovery"):
        assert (out / "plots" / f"{name}.png").is_file()
    assert "share of futures meeting the target" in output
    assert f"misses {TARGET} (box 1) when {DRIVER} in" in output


@pytest.mark.slow
def test_load_results_plot_and_report(explored: tuple[Path, list[str], str]) -> None:
    out, _, _ = explored
    res = load_results(out)
    assert res.kind == "explore"
    assert len(res.futures) == 120
    assert set(res.summary["measure"]) == {"satisficing", "regret_mean", "regret_p90"}
    assert list(res.discovery["parameter"].unique())[:1] == [DRIVER]
    member = res.member("lean/f0007")
    assert member.kind == "run"
    assert member.replications["ideas_per_year"].mean() == pytest.approx(
        res.futures.query("policy == 'lean' and future == 7")["ideas_per_year"].iloc[0])
    runner = CliRunner()
    plotted = runner.invoke(main, ["plot", str(out)])
    assert plotted.exit_code == 0, plotted.output
    assert "tradeoff.png" in plotted.output
    one = runner.invoke(main, ["plot", str(out), "--kind", "tradeoff", "--kpi",
                               "ideas_per_year", "--kpi", "innovations_per_year"])
    assert one.exit_code == 0, one.output
    reported = runner.invoke(main, ["report", str(out)])
    assert reported.exit_code == 0, reported.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="across-futures"' in html
    assert "Satisficing robustness" in html
    assert DRIVER in html
    written = Ownership.load(out).recorded()     # simsource's record of what it wrote
    assert {"futures.parquet", "robustness.csv", "discovery.csv", "report.html",
            "plots/robustness.png", "futures/lean/f0007/"} <= set(written)


@pytest.mark.slow
def test_rerun_reuses_simulations_and_other_targets_reanalyse(
        explored: tuple[Path, list[str], str], tmp_path: Path) -> None:
    out, policies, _ = explored
    before = (out / "futures.parquet").read_bytes()
    chunk = next((out / "futures" / "lean" / "f0000" / "chunks").glob("*.kpi.parquet"))
    stamp = chunk.stat().st_mtime_ns
    runner = CliRunner()
    code, output = explore(runner, policies, out, "--target", "ideas_per_year>=30")
    assert code == 0, output
    assert chunk.stat().st_mtime_ns == stamp              # nothing simulated again
    assert (out / "futures.parquet").read_bytes() == before
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["targets"] == [TARGET, "ideas_per_year>=30"]
    assert "ideas_per_year>=30" in set(pd.read_csv(out / "robustness.csv")["target"])
    # other futures (another seed) are refused without --overwrite, and nothing is lost
    result = runner.invoke(main, ["explore", *policies, "--uncertain", UNCERTAIN, "--futures",
                                  "60", "-n", "1", "--seed", "4", "-j", "1", "--out", str(out)])
    assert result.exit_code == 2
    assert "--overwrite" in result.output
    assert (out / "futures.parquet").read_bytes() == before


@pytest.mark.slow
def test_same_numbers_on_any_number_of_workers(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "p")
    runner = CliRunner()
    code1, out1 = explore(runner, policies, tmp_path / "j1", futures=6)
    code2, out2 = explore(runner, policies, tmp_path / "j2", "-j", "2", futures=6)
    assert code1 == 0, out1
    assert code2 == 0, out2
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "j1" / "futures.parquet"),
                                  pd.read_parquet(tmp_path / "j2" / "futures.parquet"))


@pytest.mark.parametrize(("args", "message"), [
    (["--futures", "3"], "name the uncertain parameters"),
    (["--uncertain", "funnel.screening_pas"], "did you mean funnel.screening_pass"),
    (["--uncertain", "funnel.screening_pass", "--target", "ideas_per_yer>=3"],
     "unknown KPI 'ideas_per_yer'"),
    (["--uncertain", "funnel.screening_pass", "--target", "ideas_per_year=>3"], "cannot read"),
    (["--uncertain", "funnel.screening_pass", "--futures", "0"], "at least 1"),
    (["--uncertain", "funnel.screening_pass", "--posterior", "nowhere"], "no such folder"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                          message: str) -> None:
    policies = write_policies(tmp_path / "p")
    result = CliRunner().invoke(main, ["explore", *policies, "--out", str(tmp_path / "o"),
                                       *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_a_users_folder_is_refused(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "p")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    code, output = explore(CliRunner(), policies, out, futures=2)
    assert code == 2
    assert "notes.txt" in output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_posterior_futures_are_drawn_from_the_calibration(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "p")
    post = tmp_path / "calibration"
    post.mkdir()
    pd.DataFrame({DRIVER: [25.0, 75.0], "weight": [0.0, 1.0]}).to_parquet(
        post / "posterior.parquet")
    result = CliRunner().invoke(main, [
        "explore", *policies, "--posterior", str(post), "--uncertain", "funnel.matching_pass",
        "--futures", "4", "-n", "1", "--target", TARGET, "-j", "1", "--out",
        str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    futures = pd.read_parquet(tmp_path / "o" / "futures.parquet")
    assert (futures[DRIVER] == 75.0).all()                  # the weight-0 row never comes
    assert futures["funnel.matching_pass"].nunique() == 4   # the rest by Latin hypercube
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["posterior"] == str(post)
