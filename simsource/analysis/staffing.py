"""Staffing advice: the smallest coordinator staffing that meets a target with a stated probability.

The planner's question "how many coordinators do we need?" as a search over
``coordination.staff``. The staffing plan (``coordination.plan``) is emptied so the level holds
from day 0; consultants stay as the scenario has them. At each level ``replications``
replications run with the same seed and replication indices (common random numbers), and the
level *passes* when the share of replications meeting the target is at least ``confidence``
(``strict``: when the lower end of its 95 % Wilson interval is).

The search assumes the share grows with staffing (more coordinators never hurt the target): it
gallops up from ``min_staff`` (``min+1, min+3, min+7, …``, each step twice the last) until a level
passes, then bisects between the last failing and the first passing level — about
``2·log2(answer)`` levels instead of one per staffing level. Each level runs once (cached), on
the experiment engine (:class:`simsource.experiment.engine.Evaluator`); this module only decides
which levels to run and what they show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simsource import formatting
from simsource.errors import UserError
from simsource.experiment.engine import Evaluator, kpi_names
from simsource.model import catalogue
from simsource.stats import mean_ci, wilson

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from simsource.analysis.sensitivity import Evaluate
    from simsource.experiment.backend import Backend
    from simsource.experiment.posterior import Posterior
    from simsource.scenario import Scenario

STAFF_KEY = "coordination.staff"
#: the keys a staffing level sets (a posterior's values for them are not applied)
LEVEL_KEYS = (STAFF_KEY, "coordination.plan")
COST_KPIS: tuple[str, ...] = catalogue.names(tag="staffing")
OPERATORS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less,
}
_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*"
                     r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


# ---- the target ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """``kpi op threshold``; a replication meets it when the comparison holds (NaN never does)."""

    kpi: str
    op: str
    threshold: float

    def met(self, values: Any) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            out: np.ndarray = OPERATORS[self.op](v, self.threshold) & ~np.isnan(v)
        return out

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.threshold:g}"


def parse_target(text: str, known: Sequence[str] | None = None) -> Target:
    """``'innovations_per_year>=20'`` → :class:`Target`; a clear :class:`UserError` otherwise
    (with close names when ``known`` is given and the KPI is not among them)."""
    m = _TARGET.match(text or "")
    if m is None:
        raise UserError(f"--target: cannot read '{text}': expected KPI>=X, KPI<=X, KPI>X or "
                        "KPI<X, e.g. 'innovations_per_year>=20'")
    kpi, op, num = m.group(1), m.group(2), float(m.group(3))
    if known is not None:
        from simsource.analysis.sensitivity import check_kpi

        check_kpi(kpi, known, option="--target")
    return Target(kpi, op, num)


# ---- the search ----------------------------------------------------------------------------
def search_smallest(passes: Callable[[int], bool], lo: int, hi: int) -> int | None:
    """The smallest level in ``lo..hi`` for which ``passes`` holds, assuming it is monotone
    (False … False True … True); None if even ``hi`` fails. Gallops up from ``lo`` (offsets
    1, 3, 7, 15, …), then bisects; ``passes`` is called at most once per level by this search
    (cache it if it is called elsewhere too)."""
    if lo > hi:
        raise ValueError(f"lo ({lo}) > hi ({hi})")
    if passes(lo):
        return lo
    if lo == hi:
        return None
    fail, step = lo, 1
    while True:
        cand = min(fail + step, hi)
        if passes(cand):
            ok = cand
            break
        if cand >= hi:
            return None
        fail, step = cand, step * 2
    while ok - fail > 1:
        mid = (fail + ok) // 2
        if passes(mid):
            ok = mid
        else:
            fail = mid
    return ok


@dataclass(frozen=True)
class Level:
    """The replications at one staffing level, summarised."""

    staff: int
    n: int
    met: int
    share: float
    share_low: float
    share_high: float
    passes: bool
    order: int
    means: dict[str, tuple[float, float, float]]  # kpi -> (mean, ci_low, ci_high)


@dataclass
class StaffingResult:
    scenario: str
    target: Target
    confidence: float
    strict: bool
    min_staff: int
    max_staff: int
    replications: int
    seed: int
    consultants: int
    levels: dict[int, Level] = field(default_factory=dict)
    answer: int | None = None

    @property
    def evaluated(self) -> list[int]:
        """Staffing levels in the order they were evaluated."""
        return [lv.staff for lv in sorted(self.levels.values(), key=lambda lv: lv.order)]

    @property
    def chosen(self) -> Level | None:
        return None if self.answer is None else self.levels[self.answer]

    def non_monotone(self) -> list[tuple[int, int]]:
        """Pairs (lower, higher) of evaluated levels where the share *falls* as staff rises."""
        lv = sorted(self.levels.values(), key=lambda v: v.staff)
        return [(a.staff, b.staff) for i, a in enumerate(lv) for b in lv[i + 1:]
                if b.share < a.share]

    def table(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for lv in sorted(self.levels.values(), key=lambda v: v.staff):
            row: dict[str, Any] = {"staff": lv.staff, "consultants": self.consultants, "n": lv.n,
                                   "met": lv.met, "share": lv.share, "share_ci_low": lv.share_low,
                                   "share_ci_high": lv.share_high, "passes": lv.passes,
                                   "chosen": lv.staff == self.answer, "order": lv.order}
            for kpi, (mean, low, high) in lv.means.items():
                row[f"{kpi}_mean"] = mean
                row[f"{kpi}_ci_low"] = low
                row[f"{kpi}_ci_high"] = high
            rows.append(row)
        return pd.DataFrame(rows)


def level_scenario(sc: Scenario, staff: int) -> Scenario:
    """``sc`` with ``staff`` coordinators from day 0 (the staffing plan emptied)."""
    from simsource.scenario import with_overrides

    return with_overrides(sc, {STAFF_KEY: staff, "coordination.plan": []})


def summarise_level(staff: int, df: pd.DataFrame, target: Target, confidence: float,
                    strict: bool, order: int) -> Level:
    met = target.met(df[target.kpi].to_numpy(dtype=float))
    n, k = int(met.size), int(met.sum())
    share = k / n if n else math.nan
    low, high = wilson(k, n)
    passes = (low if strict else share) >= confidence - 1e-12
    means: dict[str, tuple[float, float, float]] = {}
    for kpi in dict.fromkeys((target.kpi, *COST_KPIS)):
        if kpi in df.columns:
            ci = mean_ci(df[kpi].to_numpy(dtype=float))
            means[kpi] = (ci.mean, ci.low, ci.high)
    return Level(staff, n, k, share, low, high, bool(passes), order, means)


def find_staffing(sc: Scenario, target: Target | str, *, confidence: float = 0.9,
                  min_staff: int = 1, max_staff: int = 60, replications: int = 40,
                  seed: int = 0, strict: bool = False, evaluate: Evaluate | None = None,
                  jobs: int | None = None, progress: bool = False,
                  backend: str | Backend = "local",
                  posterior: Posterior | None = None) -> StaffingResult:
    """The smallest ``coordination.staff`` in ``min_staff..max_staff`` meeting ``target`` in at
    least ``confidence`` of the replications (see the module docstring). With ``posterior``,
    replication ``i`` of every level uses the parameter set drawn for ``(seed, i)`` (the
    staffing keys stay the level's), so the share meeting the target includes parameter
    uncertainty."""
    if not 0.0 < confidence <= 1.0:
        raise UserError(f"--confidence: must be in (0, 1], got {confidence}")
    if min_staff < 0:
        raise UserError(f"--min-staff: must be at least 0, got {min_staff}")
    if max_staff < min_staff:
        raise UserError(f"--max-staff ({max_staff}) must be at least --min-staff ({min_staff})")
    if replications < 1:
        raise UserError(f"-n/--replications: must be at least 1, got {replications}")
    names = kpi_names(sc)
    if isinstance(target, str):
        target = parse_target(target, names)
    else:
        from simsource.analysis.sensitivity import check_kpi

        check_kpi(target.kpi, names, option="--target")
    level_scenario(sc, min_staff)  # a bad staffing level is a user error before anything runs
    if posterior is not None:
        posterior.check(level_scenario(sc, min_staff), seed, range(replications), LEVEL_KEYS)
    result = StaffingResult(sc.name, target, confidence, strict, min_staff, max_staff,
                            replications, seed, sc.coordination.consultants)

    def run(evaluate_: Evaluate) -> None:
        def passes(staff: int) -> bool:
            if staff not in result.levels:
                [df] = evaluate_([level_scenario(sc, staff)], replications, seed)
                result.levels[staff] = summarise_level(staff, df, target, confidence, strict,
                                                       len(result.levels))
            return result.levels[staff].passes

        result.answer = search_smallest(passes, min_staff, max_staff)

    if evaluate is None:
        with Evaluator(jobs, progress=progress, desc=f"staff {sc.name}", backend=backend,
                       posterior=posterior, keep=LEVEL_KEYS) as runner:
            run(runner)
    else:
        run(evaluate)
    return result


# ---- text and plot -------------------------------------------------------------------------
def _num(v: float, d: int = 1) -> str:
    return formatting.number(v, d, missing="nan")


def format_levels(result: StaffingResult) -> str:
    kpi = result.target.kpi
    header = ["staff", "met/n", "share", "95 % CI (Wilson)", "pass", f"{kpi} mean",
              "cost total MSEK/yr"]
    rows = []
    for lv in sorted(result.levels.values(), key=lambda v: v.staff):
        mean = lv.means.get(kpi, (math.nan,) * 3)[0]
        cost = lv.means.get("cost_total_msek_per_year", (math.nan,) * 3)[0]
        mark = "yes" if lv.passes else "no"
        if lv.staff == result.answer:
            mark += " ◀"
        rows.append([str(lv.staff), f"{lv.met}/{lv.n}", _num(lv.share, 2),
                     f"{_num(lv.share_low, 2)}–{_num(lv.share_high, 2)}", mark,
                     f"{mean:.3g}", _num(cost, 1)])
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def plateau_from(result: StaffingResult) -> int | None:
    """The smallest evaluated level below the top one whose mean target KPI is within the top
    level's 95 % interval (the curve has levelled off), or None."""
    lv = sorted(result.levels.values(), key=lambda v: v.staff)
    if len(lv) < 2:
        return None
    mean, low, high = lv[-1].means.get(result.target.kpi, (math.nan,) * 3)
    half = max(high - mean, mean - low, 1e-9 * max(1.0, abs(mean)))
    if not math.isfinite(half):
        return None
    for v in lv[:-1]:
        if abs(v.means[result.target.kpi][0] - mean) <= half:
            return v.staff
    return None


def describe(result: StaffingResult) -> list[str]:
    """Plain-language lines: the answer (or that there is none), its cost, the search effort."""
    t, conf = result.target, result.confidence
    rule = (f"the lower end of the 95 % Wilson interval ≥ {conf:.0%}" if result.strict
            else f"at least {conf:.0%} of {result.replications} replications")
    lines: list[str] = []
    lv = result.chosen
    cons = f" (+{result.consultants} consultants)" if result.consultants else ""
    if lv is None:
        top = result.levels[result.max_staff]
        lines.append(f"NOT MET: even {result.max_staff} coordinators{cons} do not meet {t} in "
                     f"{rule}: only {top.met}/{top.n} = {top.share:.0%} (95 % CI "
                     f"{top.share_low:.0%}–{top.share_high:.0%}). Raise --max-staff, lower "
                     "--confidence or revisit the target.")
        flat = plateau_from(result)
        if flat is not None:
            m = result.levels[result.max_staff].means[t.kpi][0]
            lines.append(f"  {t.kpi} levels off at {m:.3g} (mean) from about {flat} "
                         "coordinators: beyond that something else limits it (e.g. the idea "
                         "inflow and funnel pass rates, or the innovation budget; see "
                         "`simsource sensitivity`)")
    else:
        lines.append(f"answer: {lv.staff} coordinators{cons}: {t} holds in {lv.met}/{lv.n} = "
                     f"{lv.share:.0%} of replications (95 % CI {lv.share_low:.0%}–"
                     f"{lv.share_high:.0%}); criterion: {rule}")
        below = result.levels.get(lv.staff - 1)
        if below is not None:
            lines.append(f"  one fewer ({below.staff}): {below.met}/{below.n} = {below.share:.0%}")
        for kpi in COST_KPIS:
            what = catalogue.get(kpi).label
            if kpi in lv.means:
                m, lo, hi = lv.means[kpi]
                lines.append(f"  {what} at {lv.staff}: {m:.1f} MSEK/year (95 % CI "
                             f"{lo:.1f}–{hi:.1f})")
    span = result.max_staff - result.min_staff + 1
    lines.append(f"evaluated {len(result.levels)} of {span} staffing levels "
                 f"({' → '.join(map(str, result.evaluated))}): gallop up, then bisect")
    bad = result.non_monotone()
    if bad:
        pairs = ", ".join(f"{a}>{b}" for a, b in bad[:5])
        lines.append(f"warning: the share falls as staffing rises between evaluated levels "
                     f"({pairs}); the search assumes it never does, so the answer may not be "
                     "the smallest: use more replications (-n)")
    return lines


def plot_staffing(result: StaffingResult) -> Figure:
    """Share of replications meeting the target against staffing (Wilson 95 % band, the
    confidence line, the chosen level marked) above the KPI's mean and 95 % CI with the
    threshold, and total cost on a second axis."""
    from matplotlib.figure import Figure

    from simsource.analysis.sensitivity import _axis_label

    lv = sorted(result.levels.values(), key=lambda v: v.staff)
    x = np.array([v.staff for v in lv], dtype=float)
    fig = Figure(figsize=(7.5, 6.2), dpi=100, layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    blue, orange, grey = "#0072B2", "#E69F00", "#555555"
    share = np.array([v.share for v in lv])
    ax1.fill_between(x, [v.share_low for v in lv], [v.share_high for v in lv], color=blue,
                     alpha=0.2, label="95 % CI (Wilson)")
    ax1.plot(x, share, "-o", color=blue, label="share of replications meeting the target")
    ax1.axhline(result.confidence, color=grey, ls="--", lw=1,
                label=f"required: {result.confidence:.0%}")
    cons = f" + {result.consultants} consultants" if result.consultants else ""
    if result.answer is not None:
        ax1.axvline(result.answer, color=orange, lw=2,
                    label=f"chosen: {result.answer} coordinators{cons}")
        ax2.axvline(result.answer, color=orange, lw=2)
        verdict = f"smallest staffing {result.answer} coordinators{cons}"
    else:
        verdict = f"target not met even with {result.max_staff} coordinators{cons}"
        top = result.levels[result.max_staff]
        ax1.plot([top.staff], [top.share], "X", color="#D55E00", ms=11, zorder=4,
                 label=f"not met at --max-staff {top.staff}")
    ax1.set_ylim(-0.03, 1.03)
    ax1.set_ylabel("share meeting the target")
    ax1.grid(alpha=0.3)
    ax1.legend(loc="best", fontsize=8)
    ax1.set_title(f"How many coordinators? {result.scenario}: {verdict}\n"
                  f"target {result.target} in ≥ {result.confidence:.0%} of replications "
                  f"({result.replications} per level, common random numbers,\n"
                  "staffing from day 0)", fontsize=10)
    kpi = result.target.kpi
    m = np.array([v.means[kpi] for v in lv], dtype=float)
    ax2.errorbar(x, m[:, 0], yerr=[m[:, 0] - m[:, 1], m[:, 2] - m[:, 0]], fmt="-o",
                 color=blue, capsize=3, label=f"{kpi} (mean, 95 % CI)")
    ax2.axhline(result.target.threshold, color=grey, ls="--", lw=1,
                label=f"target {result.target.op} {result.target.threshold:g}")
    ax2.set_ylabel(_axis_label(kpi), fontsize=9)
    ax2.set_xlabel("coordinators employed (coordination.staff)")
    ax2.grid(alpha=0.3)
    handles, labels = ax2.get_legend_handles_labels()
    if all("cost_total_msek_per_year" in v.means for v in lv):
        ax3 = ax2.twinx()
        cost = [v.means["cost_total_msek_per_year"][0] for v in lv]
        (line,) = ax3.plot(x, cost, ":s", color=orange, ms=4, label="total cost (mean)")
        ax3.set_ylabel("total cost (MSEK/year)", fontsize=9)
        handles.append(line)
        labels.append("total cost (mean)")
    ax2.legend(handles, labels, loc="best", fontsize=8)
    return fig
