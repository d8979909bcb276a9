"""``simsource run | compare | sweep`` end to end, with the real model (scenario.years = 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from simsource.cli import main
from simsource.experiment.results import load_results
from simsource.experiment.tables import warmup_warning
from simsource.scenario import load_scenario
from simsource.stats import paired_difference, unpaired_difference

SHORT = ["--set", "scenario.years=2"]


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False)


def same_files(a: Path, b: Path) -> None:
    for f in ("replications.parquet", "timeseries.parquet", "summary.csv"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_run_shows_progress_and_summary_and_writes_five_files(runner: CliRunner,
                                                               tmp_path: Path) -> None:
    res = invoke(runner, "run", "nacka-multi", "-n", "4", "-j", "1", *SHORT,
                 "--out", str(tmp_path / "r"))
    assert res.exit_code == 0, res.output
    assert "4/4" in res.stderr
    assert "rep" in res.stderr
    assert "innovations_per_year" in res.stdout
    assert "95 % CI" in res.stdout
    for f in ("manifest.json", "scenario.toml", "replications.parquet", "timeseries.parquet",
              "summary.csv"):
        assert (tmp_path / "r" / f).is_file(), f
    assert len(pd.read_parquet(tmp_path / "r" / "replications.parquet")) == 4


@pytest.mark.slow
def test_identical_parquet_for_one_and_two_jobs(runner: CliRunner, tmp_path: Path) -> None:
    for jobs in ("1", "2"):
        res = invoke(runner, "run", "nacka-multi", "-n", "8", "-j", jobs, "--seed", "11",
                     *SHORT, "--out", str(tmp_path / f"j{jobs}"), "-q")
        assert res.exit_code == 0, res.output
    same_files(tmp_path / "j1", tmp_path / "j2")


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_uninterrupted_rows(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "simsource", "run", "nacka-multi", "-n", "24", "-j", "2",
           *SHORT, "--out", str(out), "-q"]
    deadline = time.monotonic() + 300
    with subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            while len(list((out / "chunks").glob("*.json"))) < 2:
                assert proc.poll() is None, "finished before it could be killed"
                assert time.monotonic() < deadline, "no chunk written in time"
                time.sleep(0.02)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker processes
            proc.wait()
    assert not (out / "replications.parquet").exists()
    kept = {p.name: p.stat().st_ino for p in (out / "chunks").glob("*.json")}
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert {p.name: p.stat().st_ino for p in (out / "chunks").glob("*.json")
            if p.name in kept} == kept  # resumed, not recomputed
    ref = invoke(runner, "run", "nacka-multi", "-n", "24", "-j", "1", *SHORT,
                 "--out", str(tmp_path / "ref"), "-q")
    assert ref.exit_code == 0, ref.output
    same_files(out, tmp_path / "ref")


def test_a_folder_of_another_scenario_or_seed_is_refused(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    out = str(tmp_path / "r")
    assert invoke(runner, "run", "nacka-multi", "-n", "2", "-j", "1", *SHORT, "--out", out,
                  "-q").exit_code == 0
    res = invoke(runner, "run", "nacka-multi", "-n", "2", "-j", "1", *SHORT, "--seed", "3",
                 "--out", out, "-q")
    assert res.exit_code == 2
    assert "manifest.json: holds scenario nacka-multi" in res.stderr
    assert "seed 0" in res.stderr
    assert "use --overwrite or another --out" in res.stderr
    res = invoke(runner, "run", "nacka-single", "-n", "2", "-j", "1", *SHORT, "--out", out, "-q")
    assert res.exit_code == 2
    assert "holds scenario nacka-multi" in res.stderr
    res = invoke(runner, "run", "nacka-single", "-n", "2", "-j", "1", *SHORT, "--out", out,
                 "-q", "--overwrite")
    assert res.exit_code == 0, res.output
    (tmp_path / "r" / "manifest.json").write_text("{broken")
    res = invoke(runner, "run", "nacka-single", "-n", "2", "-j", "1", *SHORT, "--out", out, "-q")
    assert res.exit_code == 2
    assert "manifest.json: broken JSON" in res.stderr


@pytest.mark.slow
def test_a_truncated_chunk_is_reported_and_recomputed(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["run", "nacka-multi", "-n", "6", "-j", "1", *SHORT, "--out", str(out), "-q"]
    assert invoke(runner, *args).exit_code == 0
    before = {f: (out / f).read_bytes() for f in ("replications.parquet", "timeseries.parquet")}
    victim = sorted((out / "chunks").glob("*.ts.parquet"))[-1]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    res = invoke(runner, *args)
    assert res.exit_code == 0, res.output
    assert "checksum mismatch" in res.stderr
    assert victim.name in res.stderr
    assert "computed again" in res.stderr
    for f, data in before.items():
        assert (out / f).read_bytes() == data, f


@pytest.mark.slow
def test_extending_n_adds_replications(runner: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "r")
    assert invoke(runner, "run", "nacka-multi", "-n", "3", "-j", "1", *SHORT, "--out", out,
                  "-q").exit_code == 0
    assert invoke(runner, "run", "nacka-multi", "-n", "5", "-j", "1", *SHORT, "--out", out,
                  "-q").exit_code == 0
    assert invoke(runner, "run", "nacka-multi", "-n", "5", "-j", "1", *SHORT, "--out",
                  str(tmp_path / "fresh"), "-q").exit_code == 0
    same_files(Path(out), tmp_path / "fresh")


@pytest.mark.slow
def test_compare_pairs_by_replication_and_beats_the_unpaired_interval(
        runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = invoke(runner, "compare", "nacka-multi", "nacka-multi-10", "-n", "30", "-j", "2",
                 *SHORT, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "paired diff" in res.stdout
    assert "p (Holm)" in res.stdout
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == ["kpi", "scenario", "mean", "ci_low", "ci_high", "n", "diff",
                                   "diff_ci_low", "diff_ci_high", "p_value", "p_holm"]
    a = pd.read_parquet(out / "nacka-multi" / "replications.parquet")
    b = pd.read_parquet(out / "nacka-multi-10" / "replications.parquet")
    # common random numbers: the same incidents and ideas in both scenarios, so KPIs driven by
    # them are positively correlated and the paired interval is much narrower
    for kpi in ("incidents_per_year", "sla_breach_share", "misrouted_share"):
        paired = paired_difference(a[kpi], b[kpi])
        unpaired = unpaired_difference(a[kpi], b[kpi])
        assert paired.high - paired.low < 0.8 * (unpaired.high - unpaired.low), kpi
        row = table[(table["kpi"] == kpi) & (table["scenario"] == "nacka-multi-10")].iloc[0]
        assert np.isclose(row["diff_ci_high"] - row["diff_ci_low"], paired.high - paired.low)
    assert np.isnan(table[table["scenario"] == "nacka-multi"]["diff"]).all()
    loaded = load_results(out)
    assert loaded.kind == "compare"
    assert list(loaded.members) == ["nacka-multi", "nacka-multi-10"]
    assert loaded.replications.groupby("scenario")["replication"].count().to_dict() == {
        "nacka-multi": 30, "nacka-multi-10": 30}
    # the same comparison from the folders that exist now
    again = invoke(runner, "compare", str(out / "nacka-multi"), str(out / "nacka-multi-10"),
                   "--out", str(tmp_path / "cmp2"), "-q")
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / "cmp2" / "comparison.csv"))
    bad = invoke(runner, "compare", str(out / "nacka-multi"), str(out / "nacka-multi-10"),
                 "--seed", "4", "--out", str(tmp_path / "cmp3"), "-q")
    assert bad.exit_code == 2
    assert "holds seed 0" in bad.stderr


@pytest.mark.slow
def test_sweep_cli_runs_the_factorial(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sw"
    res = invoke(runner, "sweep", "nacka-multi-10", "--vary", "coordination.staff=10:16:6",
                 "--vary", "partnership.preset=light,heavy", "-n", "2", "-j", "2", *SHORT,
                 "--out", str(out))
    assert res.exit_code == 0, res.output
    design = pd.read_csv(out / "design.csv")
    assert design.to_dict("list") == {"point": [0, 1, 2, 3],
                                      "coordination.staff": [10, 10, 16, 16],
                                      "partnership.preset": ["light", "heavy"] * 2}
    assert len(pd.read_parquet(out / "sweep.parquet")) == 8
    assert "p0003" in res.stdout


@pytest.mark.slow
def test_run_precision_reports_what_it_reached(runner: CliRunner, tmp_path: Path) -> None:
    res = invoke(runner, "run", "nacka-multi", "--precision", "0.5", "--max-n", "12",
                 "--kpis", "cost_total_msek_per_year", "-j", "1", *SHORT,
                 "--out", str(tmp_path / "p"))
    assert res.exit_code == 0, res.output
    # ±1 % after the first 10, then Hoad's look-ahead of 5 more, capped by --max-n
    assert "precision ±50.0% reached after 12 replications" in res.stdout
    assert len(pd.read_parquet(tmp_path / "p" / "replications.parquet")) == 12
    short = invoke(runner, "run", "nacka-multi", "--precision", "0.001", "--max-n", "4",
                   "-j", "1", *SHORT, "--out", str(tmp_path / "s"), "-q")
    assert short.exit_code == 0, short.output
    assert "NOT reached after the maximum of 4 replications" in short.stderr
    bad = invoke(runner, "run", "nacka-multi", "--precision", "0.5", "--max-n", "12",
                 "--kpis", "nope", "-j", "1", *SHORT, "--out", str(tmp_path / "q"), "-q")
    assert bad.exit_code == 2
    assert "--kpis: unknown KPI 'nope'" in bad.stderr


def test_warmup_warning_when_mser5_wants_more(tmp_path: Path) -> None:
    no_plan = {"coordination.plan": []}     # no staffing ramp: a transient is a warm-up issue
    sc = load_scenario("nacka-multi", {"scenario.warmup_years": 0.5, **no_plan})  # 5.5 months
    months = np.arange(44.0)
    for name, wip in (("ramp", np.minimum(months, 20.0)), ("flat", np.full(44, 3.0)),
                      ("short", np.minimum(months, 12.0))):
        rows = pd.DataFrame({"replication": 0, "month": months, "wip_project": wip,
                             "load_project": 0.5})
        (tmp_path / name).mkdir()
        rows.to_parquet(tmp_path / name / "timeseries.parquet")
    message = warmup_warning(tmp_path / "ramp", sc)
    assert message is not None
    assert "wip_project" in message
    assert "scenario.warmup_years = 0.5" in message
    assert warmup_warning(tmp_path / "flat", sc) is None
    # MSER-5 says 15 months for the short ramp: 11 months is within one 5-month batch of it
    one_year = load_scenario("nacka-multi", {"scenario.warmup_years": 1.0, **no_plan})
    assert warmup_warning(tmp_path / "short", one_year) is None
    assert warmup_warning(tmp_path / "short", sc) is not None
    # with the shipped staffing ramp (until day 440) the transient is the ramp: a note, not a
    # warning
    ramp = load_scenario("nacka-multi", {"scenario.warmup_years": 0.5})
    note = warmup_warning(tmp_path / "ramp", ramp)
    assert note is not None
    assert note.startswith("note: the KPI window includes the staffing plan's ramp")


def test_help_does_not_load_pandas_or_pyarrow() -> None:
    code = ("import sys; from click.testing import CliRunner; from simsource.cli import main; "
            "r = CliRunner().invoke(main, ['run', '--help']); assert r.exit_code == 0; "
            "assert '--precision' in r.output; "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("args", "message"), [
    (["run", "nacka-multi", "--scheduler", "tcp://x:1"], "--scheduler: only with"),
    (["run", "nacka-multi", "--backend", "cloud"], "unknown backend 'cloud'"),
    (["run", "nacka-multi", "-n", "0"], "-n/--replications: must be at least 1"),
    (["run", "nacka-multi", "-j", "0"], "-j/--jobs: must be at least 1"),
    (["run", "nacka-multi", "--kpis", "a"], "--kpis: only with --precision"),
    (["compare", "nacka-multi"], "at least two"),
    (["sweep", "nacka-multi", "--vary", "coordination.staff=8:30"], "needs a step"),
])
def test_bad_options_exit_2(runner: CliRunner, tmp_path: Path, args: list[str],
                            message: str) -> None:
    res = invoke(runner, *args, "--out", str(tmp_path / "x"), "-q")
    assert res.exit_code == 2, args
    assert message in res.stderr, args
    assert "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_compare_ladder_reports_each_step(runner: CliRunner, tmp_path: Path) -> None:
    """--ladder: each scenario's difference is to the one before it; the last step plus the
    steps before add up to the difference to the first (paired means are linear)."""
    out = tmp_path / "ladder"
    res = invoke(runner, "compare", "--ladder", "nacka-single", "nacka-split", "nacka-multi-10",
                 "-n", "3", "-j", "1", *SHORT, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "step from the one above" in res.stdout
    assert json.loads((out / "compare.json").read_text())["ladder"] is True
    table = pd.read_csv(out / "comparison.csv")
    frames = {s: pd.read_parquet(out / s / "replications.parquet")
              for s in ("nacka-single", "nacka-split", "nacka-multi-10")}
    kpi = "operations_share_of_unit_effort"
    rows = table[table["kpi"] == kpi].set_index("scenario")
    step = (frames["nacka-multi-10"][kpi] - frames["nacka-split"][kpi]).mean()
    assert rows.loc["nacka-multi-10", "diff"] == pytest.approx(step)
    first = (frames["nacka-split"][kpi] - frames["nacka-single"][kpi]).mean()
    assert rows.loc["nacka-split", "diff"] == pytest.approx(first)
    assert rows.loc["nacka-split", "diff"] + rows.loc["nacka-multi-10", "diff"] == pytest.approx(
        (frames["nacka-multi-10"][kpi] - frames["nacka-single"][kpi]).mean())
