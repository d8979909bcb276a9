"""Global sensitivity analysis (SALib): Morris screening and Sobol indices over the schema's ranges.

:func:`run_sensitivity` takes parameters of the scenario's parameter space
(:mod:`simsource.experiment.params`), samples a design with SALib
(:func:`simsource.experiment.design.design_matrix`), has every design point evaluated as the mean
of ``replications`` replications with *common random numbers* (the same seed and replication
indices at every point, so differences between points come from the parameters, not the dice)
by the experiment engine, and analyses one KPI.

* Morris: ``mu_star`` is the mean absolute elementary effect. SALib measures effects per unit of
  the *normalised* range, so ``mu_star`` reads as "change of the KPI when the parameter moves
  across its whole range" (in the KPI's unit); ``sigma`` large relative to ``mu_star`` means
  non-linear or interacting; ``mu`` (signed) gives the direction.
* Sobol (Saltelli sampling, first and total order): ``S1`` share of KPI variance due to the
  parameter alone, ``ST`` including all its interactions.

Design points run through :class:`simsource.experiment.engine.Evaluator` (one backend of
:mod:`simsource.experiment` kept open); any other callable with the :data:`Evaluate`
signature can be injected instead. This module runs nothing itself.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from simsource import formatting
from simsource.errors import UserError
from simsource.experiment.design import (
    design_matrix,
    design_points,
    point_scenarios,
    salib_problem,
    sobol_samples,
)
from simsource.experiment.engine import Evaluator, kpi_names
from simsource.experiment.params import DEFAULT_PARAMS, Param, parameter_space, select_params

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from simsource.experiment.backend import Backend
    from simsource.scenario import Scenario

__all__ = [
    "DEFAULT_PARAMS", "METHODS", "TABLE_COLUMNS", "Evaluate", "Param", "SensitivityResult",
    "analyse", "check_inputs", "check_kpi", "format_table", "kpi_names", "parameter_space",
    "plot_sensitivity", "run_sensitivity", "select_params", "sobol_samples",
]  # fmt: skip

Method = Literal["morris", "sobol"]
METHODS: tuple[str, ...] = ("morris", "sobol")

#: ``evaluate(scenarios, replications, seed)`` → one KPI frame per scenario (one row per
#: replication ``0..replications-1``, the same seed for every scenario: common random numbers)
Evaluate = Callable[["Sequence[Scenario]", int, int], "list[pd.DataFrame]"]

TABLE_COLUMNS: dict[str, list[str]] = {
    "morris": ["parameter", "low", "high", "mu_star", "mu_star_conf", "sigma", "mu"],
    "sobol": ["parameter", "low", "high", "S1", "S1_conf", "ST", "ST_conf"],
}


def check_kpi(kpi: str, names: Sequence[str], option: str = "--kpi") -> None:
    """A :class:`UserError` naming close KPI names if ``kpi`` is not one of ``names``."""
    if kpi in names:
        return
    close = [n for n in names if kpi and (kpi in n or n in kpi)]
    close += [n for n in difflib.get_close_matches(kpi, list(names), n=5, cutoff=0.6)
              if n not in close]
    hint = f"; close names: {', '.join(close[:6])}" if close else \
        f"; known: {', '.join(sorted(names)[:12])}, …"
    raise UserError(f"{option}: unknown KPI '{kpi}'{hint}")


def point_means(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per design point: the mean over its replications of every numeric KPI."""
    import pandas as pd

    rows = []
    for df in frames:
        num = df.select_dtypes(include="number").drop(columns=["replication", "seed"],
                                                       errors="ignore")
        rows.append(num.mean(skipna=True))
    return pd.DataFrame(rows).reset_index(drop=True)


# ---- the analysis --------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` found; ``table`` is sorted, most influential first."""

    method: str
    kpi: str
    params: list[Param]
    table: pd.DataFrame
    design: pd.DataFrame  # point, one column per parameter, then the mean of every KPI
    samples: int
    replications: int
    seed: int
    scenario: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ranking(self) -> list[str]:
        return [str(p) for p in self.table["parameter"]]


def check_inputs(method: str, samples: int, replications: int, levels: int) -> None:
    if method not in METHODS:
        raise UserError(f"--method: must be one of {', '.join(METHODS)}, got '{method}'")
    if samples < 2:
        raise UserError(f"--samples: must be at least 2, got {samples}")
    if replications < 1:
        raise UserError(f"-r/--replications: must be at least 1, got {replications}")
    if levels < 2 or levels % 2:
        raise UserError(f"--levels: must be an even number ≥ 2, got {levels}")


def run_sensitivity(sc: Scenario, params: Sequence[Param], *, method: str = "morris",
                    samples: int = 8, kpi: str = "innovations_per_year", replications: int = 3,
                    seed: int = 0, evaluate: Evaluate | None = None, jobs: int | None = None,
                    progress: bool = False, levels: int = 4,
                    backend: str | Backend = "local") -> SensitivityResult:
    """Sample ``params`` with SALib, evaluate every point (mean of ``replications``, common
    random numbers) and analyse ``kpi``. ``evaluate`` defaults to an :class:`Evaluator` with
    ``jobs`` workers on ``backend`` (a name, or a ready backend the caller closes)."""
    import pandas as pd

    check_inputs(method, samples, replications, levels)
    if not params:
        raise UserError("--params: no parameters selected")
    check_kpi(kpi, kpi_names(sc))
    if method == "sobol":
        samples = sobol_samples(samples)
    x = design_matrix(params, method, samples, seed, levels)
    points = design_points(params, x)
    scenarios = point_scenarios(sc, points)
    if evaluate is None:
        with Evaluator(jobs, progress=progress, desc=f"{method} {sc.name}",
                       backend=backend) as runner:
            frames = runner(scenarios, replications, seed)
    else:
        frames = evaluate(scenarios, replications, seed)
    means = point_means(frames)
    design = pd.concat([pd.DataFrame(points), means], axis=1)
    design.insert(0, "point", range(len(points)))
    y = means[kpi].to_numpy(dtype=float)
    bad = np.isnan(y)
    if bad.any():
        first = points[int(np.argmax(bad))]
        where = ", ".join(f"{k}={v}" for k, v in first.items())
        raise UserError(f"--kpi {kpi}: undefined (NaN) at {int(bad.sum())} of {len(y)} design "
                        f"points (e.g. {where}); choose another KPI or more replications")
    table = analyse(params, method, x, y, seed=seed, levels=levels)
    return SensitivityResult(method, kpi, list(params), table, design, samples, replications,
                             seed, sc.name)


def analyse(params: Sequence[Param], method: str, x: np.ndarray, y: np.ndarray, *,
            seed: int = 0, levels: int = 4) -> pd.DataFrame:
    """The SALib analysis of outputs ``y`` at design ``x`` as a table, most influential first."""
    import pandas as pd

    problem = salib_problem(params)
    base = {"parameter": [p.key for p in params], "low": [p.low for p in params],
            "high": [p.high for p in params]}
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "morris":
            from SALib.analyze import morris as morris_analyze

            res = morris_analyze.analyze(problem, x, y, num_levels=levels, conf_level=0.95,
                                         print_to_console=False, seed=seed)
            table = pd.DataFrame({**base, "mu_star": res["mu_star"],
                                  "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"],
                                  "mu": res["mu"]})
            order = "mu_star"
        else:
            from SALib.analyze import sobol as sobol_analyze

            res = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                                        print_to_console=False, seed=seed)
            table = pd.DataFrame({**base, "S1": res["S1"], "S1_conf": res["S1_conf"],
                                  "ST": res["ST"], "ST_conf": res["ST_conf"]})
            order = "ST"
    table = table.astype({c: float for c in table.columns if c != "parameter"})
    return table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)


# ---- text and plot -------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return formatting.number(v, missing="nan")


def format_table(result: SensitivityResult) -> str:
    """The table as aligned text (columns of :data:`TABLE_COLUMNS`)."""
    cols = TABLE_COLUMNS[result.method]
    header = ["rank", *cols]
    rows = [[str(i + 1)] + [str(r["parameter"])] + [_fmt(float(r[c])) for c in cols[1:]]
            for i, (_, r) in enumerate(result.table.iterrows())]
    widths = [max(len(h), *(len(row[j]) for row in rows)) for j, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) if j in (0, 1) else h.rjust(w)
                       for j, (h, w) in enumerate(zip(header, widths, strict=True)))]
    for row in rows:
        lines.append("  ".join(c.ljust(w) if j == 1 else c.rjust(w)
                               for j, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines)


def _axis_label(kpi: str) -> str:
    try:
        from simsource.analysis.plots.labels import axis_label
    except ImportError:  # pragma: no cover - plots package absent
        return kpi
    return axis_label(kpi)


def plot_sensitivity(result: SensitivityResult, top: int = 12, ax: Axes | None = None) -> Figure:
    """Tornado-style bars of the ``top`` most influential parameters (largest at the top).

    Morris: ``mu_star`` with its 95 % bootstrap interval, coloured by the sign of ``mu`` (raises
    or lowers the KPI), ``sigma`` as open diamonds. Sobol: ``S1`` and ``ST`` side by side with
    their 95 % intervals.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = result.table.head(top).iloc[::-1].reset_index(drop=True)
    n = len(t)
    if ax is None:
        fig = Figure(figsize=(8.0, 1.5 + 0.36 * n), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        got = ax.get_figure()
        assert isinstance(got, Figure)
        fig = got
    ypos = np.arange(n)
    names = [str(p) for p in t["parameter"]]
    label = _axis_label(result.kpi)
    if result.method == "morris":
        up, down = "#0072B2", "#D55E00"
        colours = [up if m >= 0 else down for m in t["mu"]]
        ax.barh(ypos, t["mu_star"], xerr=t["mu_star_conf"], color=colours, alpha=0.85,
                error_kw={"ecolor": "#333333", "capsize": 3, "lw": 1})
        ax.scatter(t["sigma"], ypos, marker="D", facecolors="none", edgecolors="black", zorder=3)
        ax.set_xlabel(f"μ* = mean |effect| of moving the parameter over its range\n{label}")
        handles = [Patch(color=up, label="raises the KPI (μ > 0)"),
                   Patch(color=down, label="lowers the KPI (μ < 0)"),
                   Line2D([], [], marker="D", ls="", mfc="none", mec="black",
                          label="σ (non-linearity / interaction)")]
        title = "Morris screening"
        detail = f"{result.samples} trajectories"
    else:
        h = 0.38
        ax.barh(ypos + h / 2, t["S1"], height=h, xerr=t["S1_conf"], color="#56B4E9",
                label="S1 (alone)", error_kw={"capsize": 3, "lw": 1})
        ax.barh(ypos - h / 2, t["ST"], height=h, xerr=t["ST_conf"], color="#0072B2",
                label="ST (with interactions)", error_kw={"capsize": 3, "lw": 1})
        ax.set_xlabel(f"share of the variance of: {label}")
        ax.set_xlim(left=min(0.0, float(np.nanmin(t[["S1", "ST"]].to_numpy())) - 0.05))
        handles = None
        title = "Sobol indices"
        detail = f"N = {result.samples}"
    ax.set_yticks(ypos, names, fontsize=9)
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{title}: what drives {result.kpi} in {result.scenario}?\n"
                 f"{detail}, {len(result.design)} points × {result.replications} "
                 "replications (common random numbers)\nbars with 95 % confidence intervals",
                 fontsize=10)
    if handles is not None:
        ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    else:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    return fig
