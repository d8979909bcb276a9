"""Global sensitivity analysis (SALib): Morris screening and Sobol indices over the schema's ranges.

Every numeric scenario parameter declares a plausible range (``json_schema_extra["range"]`` in
:mod:`simsource.scenario.schema`). :func:`parameter_space` lists those that apply to a scenario
(per-supplier and per-source keys expanded for the scenario's suppliers and sources, parameters of
switched-off mechanisms left out). :func:`run_sensitivity` samples a design with SALib, evaluates
every design point as the mean of ``replications`` replications with *common random numbers*
(the same seed and replication indices at every point, so differences between points come from
the parameters, not the dice) and analyses one KPI.

* Morris: ``mu_star`` is the mean absolute elementary effect. SALib measures effects per unit of
  the *normalised* range, so ``mu_star`` reads as "change of the KPI when the parameter moves
  across its whole range" (in the KPI's unit); ``sigma`` large relative to ``mu_star`` means
  non-linear or interacting; ``mu`` (signed) gives the direction.
* Sobol (Saltelli sampling, first and total order): ``S1`` share of KPI variance due to the
  parameter alone, ``ST`` including all its interactions.

Design points run through :class:`BatchRunner`, which keeps one backend of
:mod:`simsource.experiment` open (worker processes for ``jobs > 1``); any other callable with the
:data:`Evaluate` signature can be injected instead.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel

from simsource import formatting
from simsource.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from simsource.experiment.backend import Backend
    from simsource.scenario import Scenario

Method = Literal["morris", "sobol"]
METHODS: tuple[str, ...] = ("morris", "sobol")

#: ``evaluate(scenarios, replications, seed)`` → one KPI frame per scenario (one row per
#: replication ``0..replications-1``, the same seed for every scenario: common random numbers)
Evaluate = Callable[["Sequence[Scenario]", int, int], "list[pd.DataFrame]"]

#: parameters analysed when none are named (those that apply to the scenario)
DEFAULT_PARAMS: tuple[str, ...] = (
    "coordination.staff",
    "coordination.consultants",
    "coordination.governance_fte_per_supplier",
    "coordination.governance_fte_per_pair",
    "funnel.screening_pass",
    "funnel.matching_pass",
    "funnel.project_effort_days_mean",
    "budget.innovation_msek_per_year",
    "partnership.autonomy",
    "partnership.intensity",
)

TABLE_COLUMNS: dict[str, list[str]] = {
    "morris": ["parameter", "low", "high", "mu_star", "mu_star_conf", "sigma", "mu"],
    "sobol": ["parameter", "low", "high", "S1", "S1_conf", "ST", "ST_conf"],
}


# ---- the parameter space -------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter to vary: dotted key, range, whether it is an integer, its current value."""

    key: str
    low: float
    high: float
    integer: bool = False
    value: float = math.nan
    unit: str = ""

    def cast(self, x: float) -> int | float:
        return round(x) if self.integer else float(x)


def _n_suppliers(sc: Scenario) -> int:
    return len(sc.suppliers)


_EFFECT_PARAMS = ("handoff_delay_days", "colocation_speedup", "decision_interval_days",
                  "line_meeting_interval_days", "escalation_reject_prob", "max_tasks")

#: (fnmatch pattern, does it apply?) — parameters of mechanisms the scenario switches off
_GATES: tuple[tuple[str, Callable[[Scenario], bool]], ...] = (
    ("transition.*", lambda sc: sc.transition.enabled),
    ("transition.underestimation_*", lambda sc: sc.transition.underestimation),
    ("transition.planned_effort_cv", lambda sc: not sc.transition.deterministic_effort),
    ("operations.*", lambda sc: sc.operations.enabled),
    ("operations.cross_supplier_multiplier", lambda sc: _n_suppliers(sc) > 1),
    ("coordination.triage_effort_days",
     lambda sc: sc.operations.enabled and _n_suppliers(sc) > 1),
    ("coordination.governance_*", lambda sc: sc.coordination.governance),
    ("coordination.governance_fte_per_pair", lambda sc: _n_suppliers(sc) > 1),
    *((f"partnership.{name}", lambda sc: sc.partnership.effects) for name in _EFFECT_PARAMS),
    ("funnel.screening_pass", lambda sc: sc.funnel.attrition),
    ("funnel.matching_pass", lambda sc: sc.funnel.attrition),
    ("responsibility.success_*", lambda sc: sc.funnel.attrition),
    ("ideas.supplier_business_pass_factor", lambda sc: sc.funnel.attrition),
    ("budget.*", lambda sc: sc.budget.limited),
)


def applies(key: str, sc: Scenario) -> bool:
    """Whether changing ``key`` can matter in ``sc`` (False for switched-off mechanisms)."""
    return all(ok(sc) for pattern, ok in _GATES if fnmatch.fnmatchcase(key, pattern))


def _walk(model: BaseModel, prefix: str) -> list[Param]:
    out: list[Param] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            out += _walk(value, f"{key}.")
            continue
        if isinstance(value, dict):
            for sub, item in value.items():
                if isinstance(item, BaseModel):
                    out += _walk(item, f"{key}.{sub}.")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        rng = extra.get("range")
        if not isinstance(rng, list) or len(rng) != 2 or isinstance(value, bool) \
                or not isinstance(value, int | float):
            continue
        lo, hi = float(rng[0]), float(rng[1])  # type: ignore[arg-type]
        unit = extra.get("unit")
        out.append(Param(key, lo, hi, integer=info.annotation is int, value=float(value),
                         unit=unit if isinstance(unit, str) else ""))
    return out


def parameter_space(sc: Scenario, only_applicable: bool = True) -> list[Param]:
    """Every numeric parameter of ``sc`` with a declared range, in schema order."""
    params = _walk(sc, "")
    return [p for p in params if applies(p.key, sc)] if only_applicable else params


def _parse_range(key: str, text: str) -> tuple[float, float]:
    lo_s, sep, hi_s = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise UserError(f"--params: {key}={text}: expected a range LOW:HIGH, e.g. "
                        f"{key}=10:30") from None
    if not lo < hi:
        raise UserError(f"--params: {key}={text}: LOW must be below HIGH")
    return lo, hi


def select_params(sc: Scenario, spec: str | Sequence[str] | None) -> list[Param]:
    """Parameters from a ``--params`` value.

    ``None`` or ``""``: :data:`DEFAULT_PARAMS` that apply; ``"all"``: the whole
    :func:`parameter_space`; otherwise comma-separated items, each a dotted key, an fnmatch
    pattern (``suppliers.*.proactive``) or ``KEY=LOW:HIGH`` (own range; also for parameters
    without a declared one).
    """
    space = parameter_space(sc)
    if spec is None or spec == "" or spec == ():
        chosen = [p for p in space if p.key in DEFAULT_PARAMS]
        if not chosen:
            raise UserError("--params: none of the default parameters applies to this scenario; "
                            "name some (see --list-params)")
        return chosen
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    items = [s for s in items if s]
    if items == ["all"]:
        if not space:
            raise UserError("--params all: the scenario has no parameter with a declared range")
        return space
    by_key = {p.key: p for p in space}
    every = {p.key: p for p in parameter_space(sc, only_applicable=False)}
    chosen, problems = [], []
    for item in items:
        key, eq, rng = item.partition("=")
        key = key.strip()
        if any(c in key for c in "*?["):
            hits = [p for p in space if fnmatch.fnmatchcase(p.key, key)]
            if not hits:
                problems.append(f"--params: {key}: matches no parameter with a range that "
                                "applies to this scenario")
            chosen += hits
            continue
        if eq:
            lo, hi = _parse_range(key, rng.strip())
            base = by_key.get(key) or every.get(key) or _bare_param(sc, key, problems)
            if base is not None:
                chosen.append(Param(key, lo, hi, base.integer, base.value, base.unit))
            continue
        if key in by_key:
            chosen.append(by_key[key])
        elif key in every:
            problems.append(f"--params: {key}: does not apply to this scenario (its mechanism is "
                            "switched off)")
        else:
            near = difflib.get_close_matches(key, list(every), n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(near)}?)" if near else \
                " (see --list-params; give KEY=LOW:HIGH for a parameter without a range)"
            problems.append(f"--params: {key}: not a parameter with a declared range{hint}")
    if problems:
        raise UserError(problems)
    seen: dict[str, Param] = {}
    for p in chosen:
        seen.setdefault(p.key, p)
    if not seen:
        raise UserError("--params: no parameters selected")
    return list(seen.values())


def _bare_param(sc: Scenario, key: str, problems: list[str]) -> Param | None:
    """A numeric parameter without a declared range (the user supplies one)."""
    node: Any = sc
    for part in key.split("."):
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            problems.append(f"--params: {key}: no such parameter in this scenario")
            return None
    if isinstance(node, bool) or not isinstance(node, int | float):
        problems.append(f"--params: {key}: not a numeric parameter")
        return None
    return Param(key, 0.0, 1.0, integer=isinstance(node, int), value=float(node))


# ---- running design points -----------------------------------------------------------------
class BatchRunner:
    """Replications of many scenarios on one :mod:`simsource.experiment` backend, kept open
    across calls, with one tqdm bar on stderr whose total grows with each call.

    Use as a context manager; calling it is an :data:`Evaluate`.
    """

    def __init__(self, jobs: int | None = None, *, progress: bool = False, desc: str = "",
                 backend: str | Backend = "local", model: str | None = None) -> None:
        from simsource.experiment.backend import make_backend
        from simsource.experiment.runner import progress_bar

        # a backend given by name is ours to close; a ready one (e.g. on a Dask scheduler the
        # caller connected to) stays the caller's
        self._own_backend = isinstance(backend, str)
        self.backend: Backend = make_backend(backend, jobs) if isinstance(backend, str) \
            else backend
        self.model = model
        self.bar = progress_bar(0, 0, desc, progress)
        self.simulations = 0

    def __call__(self, scenarios: Sequence[Scenario], replications: int,
                 seed: int) -> list[pd.DataFrame]:
        from simsource.experiment.runner import Job, MemorySink, execute

        if replications < 1:
            raise UserError(f"replications: must be at least 1, got {replications}")
        sinks = [MemorySink(sc.name) for sc in scenarios]
        jobs = [Job(sink, sc, seed, list(range(replications)))
                for sink, sc in zip(sinks, scenarios, strict=True)]
        self.bar.total = (self.bar.total or 0) + len(jobs) * replications
        self.bar.refresh()
        execute(jobs, self.backend, self.bar, model=self.model)
        self.simulations += len(jobs) * replications
        return [sink.frame() for sink in sinks]

    def close(self) -> None:
        self.bar.close()
        if self._own_backend:
            self.backend.close()

    def __enter__(self) -> BatchRunner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def kpi_names(sc: Scenario) -> list[str]:
    """The KPI names the model reports (from one very short replication of ``sc``)."""
    from simsource.model import simulate
    from simsource.scenario import with_overrides

    days = sc.scenario.working_days_per_year
    short = with_overrides(sc, {"scenario.years": 20.0 / days, "scenario.warmup_years": 0.0,
                                "transition.enabled": False})
    return list(simulate(short, 0, 0))


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


def point_scenarios(sc: Scenario, points: Sequence[Mapping[str, Any]]) -> list[Scenario]:
    """The scenario of each design point (all validated before anything runs)."""
    from simsource.scenario import with_overrides

    out, problems = [], []
    for i, p in enumerate(points):
        try:
            out.append(with_overrides(sc, p))
        except UserError as exc:
            label = ", ".join(f"{k}={v}" for k, v in p.items())
            problems += [f"design point {i} ({label}): {line}" for line in exc.problems]
    if problems:
        raise UserError(problems[:10])
    return out


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


def _problem(params: Sequence[Param]) -> dict[str, Any]:
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[p.low, p.high] for p in params]}


def design_matrix(params: Sequence[Param], method: str, samples: int, seed: int,
                  levels: int = 4) -> np.ndarray:
    """The SALib sample (rows = design points, unrounded)."""
    problem = _problem(params)
    if method == "morris":
        from SALib.sample import morris as morris_sample

        x = morris_sample.sample(problem, samples, num_levels=levels, seed=seed)
    else:
        from SALib.sample import sobol as sobol_sample

        x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    return np.asarray(x, dtype=float)


def sobol_samples(n: int) -> int:
    """``n`` rounded up to a power of two (Sobol sequences need one)."""
    return 1 << max(0, math.ceil(math.log2(max(1, n))))


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
    random numbers) and analyse ``kpi``. ``evaluate`` defaults to a :class:`BatchRunner` with
    ``jobs`` workers on ``backend`` (a name, or a ready backend the caller closes)."""
    import pandas as pd

    check_inputs(method, samples, replications, levels)
    if not params:
        raise UserError("--params: no parameters selected")
    check_kpi(kpi, kpi_names(sc))
    if method == "sobol":
        samples = sobol_samples(samples)
    x = design_matrix(params, method, samples, seed, levels)
    points = [{p.key: p.cast(v) for p, v in zip(params, row, strict=True)} for row in x]
    scenarios = point_scenarios(sc, points)
    if evaluate is None:
        with BatchRunner(jobs, progress=progress, desc=f"{method} {sc.name}",
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

    problem = _problem(params)
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
