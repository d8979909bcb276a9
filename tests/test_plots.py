"""Plots: the data each kind draws (bar heights, line data, boxes), on results folders made by
running the real model for a few short replications and writing the files of
docs/results-format.md (the helpers of ``results_fixtures.py``, shared with ``test_report.py``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from results_fixtures import COMPARE, REPS, TRANSFER_VARY

matplotlib = pytest.importorskip("matplotlib")

# ---------------------------------------------------------------------------------------------
# helpers to read what a figure shows
# ---------------------------------------------------------------------------------------------


def by_gid(fig: Any, prefix: str) -> list[Any]:
    return [a for a in fig.findobj(lambda o: (o.get_gid() or "").startswith(prefix))]


def gid_map(fig: Any, prefix: str) -> dict[str, Any]:
    return {a.get_gid(): a for a in by_gid(fig, prefix)}


def mean(df: pd.DataFrame, scenario: str, kpi: str) -> float:
    v = df.loc[df["scenario"] == scenario, kpi].to_numpy(dtype=np.float64)
    return float(np.nanmean(v))


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_load_compare_folder(compare_dir: Path) -> None:
    from simsource.analysis.plots import applicable_kinds, load_analysis

    data = load_analysis(compare_dir)
    assert data.kind == "compare"
    assert data.scenarios == list(COMPARE)
    assert len(data.replications) == REPS * len(COMPARE)
    assert data.comparison is not None
    assert set(data.comparison["scenario"]) == set(COMPARE)
    assert applicable_kinds(data) == ["funnel", "distributions", "timeseries", "costs",
                                      "ambition", "leadtime"]


@pytest.mark.slow
def test_load_sweep_and_single(sweep_dir: Path, single_dir: Path) -> None:
    from simsource.analysis.plots import applicable_kinds, load_analysis

    sweep = load_analysis(sweep_dir)
    assert sweep.kind == "sweep"
    assert sweep.design_columns == list(TRANSFER_VARY)
    assert applicable_kinds(sweep) == ["sweep", "transfer"]
    single = load_analysis(single_dir)
    assert single.kind == "run"
    assert single.scenarios == ["nacka-multi"]


def test_not_a_results_folder(tmp_path: Path) -> None:
    from simsource.analysis.plots import load_analysis
    from simsource.errors import UserError

    with pytest.raises(UserError, match="not a simsource results folder"):
        load_analysis(tmp_path)
    with pytest.raises(UserError, match="no such results folder"):
        load_analysis(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------
# content of each kind
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_funnel_bar_heights_are_mean_flows(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render
    from simsource.model.core import STAGES

    data = load_analysis(compare_dir)
    reps = data.replications
    fig = render(data, "funnel")
    bars = gid_map(fig, "funnel:")
    assert set(bars) == {f"funnel:{s}:{d}:{st}" for s in COMPARE for d in ("in", "out")
                         for st in STAGES}
    for s in COMPARE:
        for d in ("in", "out"):
            heights = [bars[f"funnel:{s}:{d}:{st}"].get_height() for st in STAGES]
            expected = [mean(reps, s, f"funnel_{d}_{st}_per_year") for st in STAGES]
            assert heights == pytest.approx(expected)
    ax = fig.axes[0]
    assert "funnel" in ax.get_title().lower()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Screening", "Matching",
                                                            "Decision", "Project"]
    assert "per year" in ax.get_ylabel()


@pytest.mark.slow
def test_distributions_one_box_per_scenario_and_ci(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render
    from simsource.model import catalogue
    from simsource.stats import mean_ci

    data = load_analysis(compare_dir)
    fig = render(data, "distributions")
    axes = fig.axes
    reps = data.replications
    # the catalogue's headline KPIs that have a value (no transfer in these scenarios)
    shown = [k for k in catalogue.names("headline") if reps[k].notna().any()]
    assert "transition_deadline_met" not in shown
    assert len(axes) == len(shown)
    for ax, kpi in zip(axes, shown, strict=True):
        boxes = by_gid(ax, "box:")
        assert [b.get_gid() for b in boxes] == [f"box:{s}" for s in COMPARE], kpi
        k = catalogue.get(kpi).scale
        # every replication is a dot
        dots = [c for c in ax.collections if c.__class__.__name__ == "PathCollection"]
        assert sum(len(c.get_offsets()) for c in dots) == len(reps[reps[kpi].notna()])
        # the diamond is the mean, its bar the 95 % CI
        diamonds = [ln for ln in ax.lines if ln.get_marker() == "D"]
        assert len(diamonds) == len(COMPARE)
        for s, d in zip(COMPARE, diamonds, strict=True):
            ci = mean_ci(reps.loc[reps["scenario"] == s, kpi].to_numpy(np.float64))
            assert d.get_ydata()[0] == pytest.approx(ci.mean * k)
        assert ax.get_ylabel()


@pytest.mark.slow
def test_distributions_single_kpi(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render

    fig = render(load_analysis(compare_dir), "distributions", kpis=["backlog_end"])
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title().startswith("Ideas waiting")
    assert fig.axes[0].get_ylabel() == "ideas"


@pytest.mark.slow
def test_timeseries_lines_are_medians(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render

    data = load_analysis(compare_dir)
    fig = render(data, "timeseries")
    assert len(fig.axes) == 2 * len(COMPARE)
    ts = data.timeseries
    for i, s in enumerate(COMPARE):
        sub = ts[ts["scenario"] == s]
        wip_ax, load_ax = fig.axes[i], fig.axes[len(COMPARE) + i]
        lines = {ln.get_gid(): ln for ln in wip_ax.lines}
        for stage in ("screening", "matching", "decision", "project"):
            med = sub.groupby("month")[f"wip_{stage}"].median()
            ln = lines[f"ts:wip_{stage}"]
            assert list(ln.get_xdata()) == list(med.index)
            assert ln.get_ydata() == pytest.approx(med.to_numpy())
        loads = {ln.get_gid(): ln for ln in load_ax.lines}
        med = sub.groupby("month")["load_governance"].median() * 100
        assert loads["ts:load_governance"].get_ydata() == pytest.approx(med.to_numpy())
        # warm-up shaded: the span covers the warm-up months (1 year = 11 months)
        spans = [p for p in wip_ax.patches if p.get_label().startswith("warm-up")]
        assert len(spans) == 1
        x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
        warm = sorted(sub.loc[sub["warmup"] > 0.5, "month"].unique())
        assert (x0, x1) == pytest.approx((warm[0] - 0.5, warm[-1] + 0.5))
        # 5–95 % envelope: one band per drawn line
        assert len(wip_ax.collections) == len(lines)


@pytest.mark.slow
def test_costs_stack_heights_and_benefit(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render
    from simsource.analysis.plots.labels import COST_PARTS

    data = load_analysis(compare_dir)
    reps = data.replications
    fig = render(data, "costs")
    segs = gid_map(fig, "cost:")
    for s in COMPARE:
        top = 0.0
        for col, _ in COST_PARTS:
            bar = segs.get(f"cost:{s}:{col}")
            if bar is None:  # components zero in every scenario are not drawn
                assert reps[col].fillna(0).eq(0).all()
                continue
            assert bar.get_height() == pytest.approx(mean(reps, s, col))
            assert bar.get_y() == pytest.approx(top)
            top += bar.get_height()
        assert top == pytest.approx(mean(reps, s, "cost_total_msek_per_year"))
        benefit = gid_map(fig, "benefit:")[f"benefit:{s}"]
        assert benefit.get_height() == pytest.approx(mean(reps, s, "benefit_msek_per_year"))
    assert "MSEK" in fig.axes[0].get_ylabel()


@pytest.mark.slow
def test_ambition_diagonal_and_points(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render

    data = load_analysis(compare_dir)
    reps = data.replications
    fig = render(data, "ambition")
    (diag,) = by_gid(fig, "ambition:diagonal")
    assert list(diag.get_xdata()) == list(diag.get_ydata())
    for s in COMPARE:
        pt = gid_map(fig, "ambition:")[f"ambition:{s}"]
        assert pt.get_xdata()[0] == pytest.approx(mean(reps, s, "ambition_innovations_per_year"))
        assert pt.get_ydata()[0] == pytest.approx(mean(reps, s, "innovations_per_year"))
    texts = " ".join(t.get_text().lower() for t in fig.axes[0].texts)
    assert "capacity exceeds ambition" in texts
    assert "ambition exceeds capacity" in texts


@pytest.mark.slow
def test_leadtime_boxes(compare_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render

    data = load_analysis(compare_dir)
    fig = render(data, "leadtime")
    assert len(fig.axes) == 2
    for ax, kpi in zip(fig.axes, ("lead_time_days_median", "lead_time_days_p90"), strict=True):
        assert len(by_gid(ax, "box:")) == len(COMPARE)
        reps = data.replications
        expected = [float(reps.loc[reps["scenario"] == s, kpi].median()) for s in COMPARE]
        got = [gid_map(ax, "median:")[f"median:{s}"].get_ydata()[0] for s in COMPARE]
        assert got == pytest.approx(expected, nan_ok=True)   # undefined where overloaded
        assert "working days" in ax.get_ylabel()


@pytest.mark.slow
def test_sweep_lines_are_point_means(sweep_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render

    data = load_analysis(sweep_dir)
    sweep = data.sweep
    assert sweep is not None
    fig = render(data, "sweep")
    assert len(fig.axes) == 2
    lines = gid_map(fig, "sweep:innovations_per_year:")
    assert len(lines) == 2  # shared and separate
    for gid, line in lines.items():
        shared = gid.endswith("shared with operations")
        sub = sweep[sweep["transition.shared_with_operations"] == shared]
        expected = sub.groupby("transition.team_size")["innovations_per_year"].mean()
        assert list(line.get_xdata()) == list(expected.index)
        assert line.get_ydata() == pytest.approx(expected.to_numpy())
    assert fig.axes[0].get_xlabel() == "Transfer team size (persons)"


@pytest.mark.slow
def test_transfer_probability_with_ci(sweep_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render

    data = load_analysis(sweep_dir)
    sweep = data.sweep
    assert sweep is not None
    fig = render(data, "transfer")
    lines = gid_map(fig, "transfer:")
    assert set(lines) == {"transfer:shared", "transfer:separate"}
    for name, shared in (("shared", True), ("separate", False)):
        sub = sweep[sweep["transition.shared_with_operations"] == shared]
        p = sub.groupby("transition.team_size")["transition_deadline_met"].mean() * 100
        assert list(lines[f"transfer:{name}"].get_xdata()) == list(p.index)
        assert lines[f"transfer:{name}"].get_ydata() == pytest.approx(p.to_numpy())
    bands = fig.axes[0].collections
    assert len(bands) == 2
    for band in bands:  # Wilson bands stay within 0–100 % and have width
        ys = np.concatenate([path.vertices[:, 1] for path in band.get_paths()])
        assert ys.min() >= 0
        assert ys.max() <= 100
        assert np.ptp(ys) > 0


def test_wilson_interval() -> None:
    from simsource.analysis.plots._common import wilson

    lo, hi = wilson(0, 10)
    assert lo == 0
    assert 0.25 < hi < 0.35
    lo, hi = wilson(10, 10)
    assert hi == 1
    assert 0.65 < lo < 0.75
    assert all(math.isnan(v) for v in wilson(0, 0))


@pytest.mark.slow
def test_single_run_folder_every_kind(single_dir: Path, tmp_path: Path) -> None:
    from simsource.analysis.plots import load_analysis, plot_all

    data = load_analysis(single_dir)
    written = plot_all(data, tmp_path)
    assert sorted(p.stem for p in written) == sorted(["funnel", "distributions", "timeseries",
                                                      "costs", "ambition", "leadtime"])
    for p in written:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_kind_that_does_not_apply(single_dir: Path) -> None:
    from simsource.analysis.plots import load_analysis, render
    from simsource.errors import UserError

    with pytest.raises(UserError, match="does not apply"):
        render(load_analysis(single_dir), "transfer")
    with pytest.raises(UserError, match="unknown plot kind"):
        render(load_analysis(single_dir), "pie")


@pytest.mark.slow
def test_plot_functions_draw_into_given_ax(compare_dir: Path) -> None:
    from matplotlib.figure import Figure

    from simsource.analysis.plots import load_analysis
    from simsource.analysis.plots.costs import costs_plot
    from simsource.analysis.plots.funnel import funnel_plot

    data = load_analysis(compare_dir)
    fig = Figure()
    a1, a2 = fig.subplots(1, 2)
    assert funnel_plot(data.replications, ax=a1) is fig
    assert costs_plot(data.replications, ax=a2) is fig
    assert len(fig.axes) == 2


# ---------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_plot_all_kinds(compare_dir: Path, runner: Any, tmp_path: Path) -> None:
    import shutil

    from simsource.cli import main

    work = tmp_path / "cmp"
    shutil.copytree(compare_dir, work)
    result = runner.invoke(main, ["plot", str(work)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (work / "plots").iterdir())
    assert names == sorted(f"{k}.png" for k in ("funnel", "distributions", "timeseries", "costs",
                                                 "ambition", "leadtime"))
    assert "wrote" in result.output


@pytest.mark.slow
def test_cli_plot_one_kind_svg(compare_dir: Path, runner: Any, tmp_path: Path) -> None:
    from simsource.cli import main

    out = tmp_path / "f.svg"
    result = runner.invoke(main, ["plot", str(compare_dir), "--kind", "funnel", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml")
    assert "<svg" in text
    assert not (compare_dir / "plots").exists()


@pytest.mark.slow
def test_cli_plot_errors(compare_dir: Path, runner: Any, tmp_path: Path) -> None:
    from simsource.cli import main

    bad = runner.invoke(main, ["plot", str(compare_dir), "--kind", "funnel", "-o",
                               str(tmp_path / "f.jpg")])
    assert bad.exit_code == 2
    assert ".png or .svg" in bad.output
    nokind = runner.invoke(main, ["plot", str(compare_dir), "-o", str(tmp_path / "f.png")])
    assert nokind.exit_code == 2
    assert "--kind" in nokind.output
    wrong = runner.invoke(main, ["plot", str(compare_dir), "--kind", "transfer"])
    assert wrong.exit_code == 2
    assert "does not apply" in wrong.output
    missing = runner.invoke(main, ["plot", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "no such results folder" in missing.output


@pytest.mark.slow
def test_cli_sweep_kinds(sweep_dir: Path, runner: Any, tmp_path: Path) -> None:
    from simsource.cli import main

    out = tmp_path / "sweep.png"
    result = runner.invoke(main, ["plot", str(sweep_dir), "--kind", "sweep", "--kpi",
                                  "lead_time_days_median", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 5000


def test_help_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from simsource.cli import main; "
            "r = CliRunner().invoke(main, ['plot', '--help']); assert r.exit_code == 0, r.output;"
            " print(sorted(m for m in ('matplotlib', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
