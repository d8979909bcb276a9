"""Output analysis for replicated simulation runs.

Pure functions over numpy arrays and pandas DataFrames: t confidence intervals, paired
(common random numbers) and Welch comparisons, Holm–Bonferroni correction, the sequential
replication-count procedure of Hoad, Robinson & Davies (2010) and MSER-5 warm-up detection
(White 1997). NaN observations are dropped; too little data gives NaN results, never an
exception or a RuntimeWarning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

ID_COLUMNS: tuple[str, ...] = ("replication", "seed", "point")
SUMMARY_COLUMNS: list[str] = ["kpi", "mean", "std", "ci_low", "ci_high", "n"]
COMPARE_COLUMNS: list[str] = [
    "kpi", "scenario", "mean", "ci_low", "ci_high", "n",
    "diff", "diff_ci_low", "diff_ci_high", "p_value", "p_holm",
]  # fmt: skip
N_MAX = 1_000_000_000  # cap for replications_needed when no finite n reaches the target
_NAN = float("nan")


@dataclass(frozen=True)
class CI:
    """Mean with a two-sided t confidence interval."""

    mean: float
    std: float
    low: float
    high: float
    n: int
    half_width: float


@dataclass(frozen=True)
class Difference:
    """Mean difference (b - a) with its confidence interval and two-sided p-value."""

    mean: float
    low: float
    high: float
    p_value: float
    n: int


def _clean(x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


@lru_cache(maxsize=4096)
def _t_quantile(confidence: float, df: float) -> float:
    """Two-sided critical value t_{df, (1 + confidence) / 2}."""
    return float(special.stdtrit(df, 0.5 + confidence / 2.0))


def _p_two_sided(mean: float, se: float, df: float) -> float:
    """p-value of H0: mean == 0 for a t statistic; se == 0 means a degenerate sample."""
    if se == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    return float(min(1.0, 2.0 * special.stdtr(df, -abs(mean) / se)))


def mean_ci(x: ArrayLike, confidence: float = 0.95) -> CI:
    """Sample mean with a t-interval; NaNs dropped; n < 2 gives NaN std and bounds."""
    _check_confidence(confidence)
    v = _clean(x)
    n = int(v.size)
    if n == 0:
        return CI(_NAN, _NAN, _NAN, _NAN, 0, _NAN)
    mean = float(v.mean())
    if n < 2:
        return CI(mean, _NAN, _NAN, _NAN, n, _NAN)
    std = float(v.std(ddof=1))
    half = _t_quantile(confidence, n - 1) * std / math.sqrt(n)
    return CI(mean, std, mean - half, mean + half, n, half)


def _kpi_columns(df: pd.DataFrame) -> list[str]:
    numeric = df.select_dtypes(include="number").columns
    return [str(c) for c in numeric if c not in ID_COLUMNS]


def summarize(
    df: pd.DataFrame, kpis: Sequence[str] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """One row per KPI (in the given order): kpi, mean, std, ci_low, ci_high, n."""
    names = list(kpis) if kpis is not None else _kpi_columns(df)
    rows = []
    for kpi in names:
        ci = mean_ci(df[kpi].to_numpy(dtype=np.float64), confidence)
        rows.append([kpi, ci.mean, ci.std, ci.low, ci.high, ci.n])
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return out.astype({"kpi": object, "n": np.int64})


def _from_moments(mean: float, se: float, df: float, n: int, confidence: float) -> Difference:
    if se == 0.0:  # every difference identical: the interval collapses to the point
        return Difference(mean, mean, mean, 1.0 if mean == 0.0 else 0.0, n)
    half = _t_quantile(confidence, df) * se
    return Difference(mean, mean - half, mean + half, _p_two_sided(mean, se, df), n)


def paired_difference(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> Difference:
    """Paired t comparison of b - a (element-wise); pairs with a NaN on either side dropped."""
    _check_confidence(confidence)
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples differ in length: {xa.size} != {xb.size}")
    d = _clean(xb - xa)
    n = int(d.size)
    if n == 0:
        return Difference(_NAN, _NAN, _NAN, _NAN, 0)
    mean = float(d.mean())
    if n < 2:
        return Difference(mean, _NAN, _NAN, _NAN, n)
    # Differences equal up to rounding (e.g. b = a + 0.1) count as identical.
    if float(np.ptp(d)) <= 1e-12 * float(np.max(np.abs(d))):
        return _from_moments(mean, 0.0, n - 1, n, confidence)
    se = float(d.std(ddof=1)) / math.sqrt(n)
    return _from_moments(mean, se, n - 1, n, confidence)


def unpaired_difference(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> Difference:
    """Welch comparison of mean(b) - mean(a); ``n`` is the total count of both samples."""
    _check_confidence(confidence)
    xa, xb = _clean(a), _clean(b)
    na, nb = int(xa.size), int(xb.size)
    if na == 0 or nb == 0:
        return Difference(_NAN, _NAN, _NAN, _NAN, na + nb)
    mean = float(xb.mean() - xa.mean())
    if na < 2 or nb < 2:
        return Difference(mean, _NAN, _NAN, _NAN, na + nb)
    va, vb = float(xa.var(ddof=1)) / na, float(xb.var(ddof=1)) / nb
    se2 = va + vb
    if se2 == 0.0:
        return _from_moments(mean, 0.0, na + nb - 2, na + nb, confidence)
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return _from_moments(mean, math.sqrt(se2), df, na + nb, confidence)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1; NaN kept)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    if m:
        order = idx[np.argsort(p[idx], kind="stable")]
        scaled = (m - np.arange(m)) * p[order]
        out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return [float(v) for v in out]


def compare_table(
    frames: Mapping[str, pd.DataFrame],
    kpis: Sequence[str] | None = None,
    confidence: float = 0.95,
    ladder: bool = False,
) -> pd.DataFrame:
    """Compare scenarios with the first one, paired by ``replication`` (see docs). With
    ``ladder``, each scenario is compared with the one before it instead: a ladder of scenarios
    that each change one thing, read step by step."""
    names = list(frames)
    if not names:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    for name, frame in frames.items():
        if "replication" not in frame.columns:
            raise ValueError(f"scenario {name!r}: no 'replication' column to pair on")
        if frame["replication"].duplicated().any():
            raise ValueError(f"scenario {name!r}: duplicate replication numbers")
    if kpis is None:  # numeric KPI columns of the reference present in every scenario
        kpis = [k for k in _kpi_columns(frames[names[0]])
                if all(k in f.columns for f in frames.values())]  # fmt: skip
    indexed = {s: f.set_index("replication") for s, f in frames.items()}
    rows: list[dict[str, object]] = []
    for kpi in kpis:
        p_raw: list[float] = []
        block: list[dict[str, object]] = []
        for i, s in enumerate(names):
            col = indexed[s][kpi]
            ref = indexed[names[i - 1]] if ladder and i > 0 else indexed[names[0]]
            ci = mean_ci(col.to_numpy(dtype=np.float64), confidence)
            row: dict[str, object] = {
                "kpi": kpi, "scenario": s, "mean": ci.mean, "ci_low": ci.low,
                "ci_high": ci.high, "n": ci.n, "diff": _NAN, "diff_ci_low": _NAN,
                "diff_ci_high": _NAN, "p_value": _NAN, "p_holm": _NAN,
            }  # fmt: skip
            if s != names[0]:
                ra, rb = ref[kpi].align(col, join="inner")
                d = paired_difference(ra.to_numpy(np.float64), rb.to_numpy(np.float64), confidence)
                row.update(diff=d.mean, diff_ci_low=d.low, diff_ci_high=d.high, p_value=d.p_value)
                p_raw.append(d.p_value)
            block.append(row)
        for row, p_adj in zip(block[1:], holm(p_raw), strict=True):
            row["p_holm"] = p_adj
        rows.extend(block)
    out = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    return out.astype({"kpi": object, "scenario": object, "n": np.int64})


def relative_half_width(x: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width / |mean|; inf if the mean is 0 or n < 2, but 0.0 if the sample is constant."""
    ci = mean_ci(x, confidence)
    if ci.n < 2:
        return math.inf
    if ci.half_width == 0.0:
        return 0.0
    if ci.mean == 0.0:
        return math.inf
    return ci.half_width / abs(ci.mean)


def precision_reached(
    df: pd.DataFrame,
    kpis: Sequence[str],
    rel_precision: float,
    confidence: float = 0.95,
    min_n: int = 10,
) -> bool:
    """Stopping rule of Hoad, Robinson & Davies (2010): at least ``min_n`` replications and
    every KPI's relative half-width <= ``rel_precision``. KPI columns that are entirely NaN
    (e.g. transition KPIs when the transition is disabled) cannot improve and are skipped."""
    if len(df) < max(min_n, 2):
        return False
    for kpi in kpis:
        values = df[kpi].to_numpy(dtype=np.float64)
        if np.isnan(values).all():
            continue
        if not relative_half_width(values, confidence) <= rel_precision:
            return False
    return True


def replications_needed(x: ArrayLike, rel_precision: float, confidence: float = 0.95) -> int:
    """Estimated total replications n so that t_{n-1} s / (sqrt(n) |mean|) <= rel_precision,
    using the sample mean and std of ``x`` (at least 2; ``N_MAX`` if the mean is 0)."""
    if rel_precision <= 0.0:
        raise ValueError(f"rel_precision must be > 0, got {rel_precision}")
    ci = mean_ci(x, confidence)
    if ci.n < 2 or ci.std == 0.0:
        return 2
    if ci.mean == 0.0:
        return N_MAX
    target = rel_precision * abs(ci.mean) / ci.std  # need t_{n-1} / sqrt(n) <= target
    z = _t_quantile(confidence, math.inf)
    n = max(2, math.ceil((z / target) ** 2))  # normal quantile: a lower bound, since t > z
    while n < N_MAX and _t_quantile(confidence, n - 1) / math.sqrt(n) > target:
        n += 1  # t_{n-1} -> z quickly, so only a few steps beyond the normal bound
    return min(n, N_MAX)


def mser5(series: ArrayLike) -> int:
    """MSER-5 truncation point in original observations (a multiple of 5).

    The series (NaNs dropped) is cut into k batch means of 5 (a trailing partial batch is
    ignored); d minimises sum_{j>d} (Y_j - mean_{>d})^2 / (k - d)^2 over d <= k // 2.
    """
    v = _clean(series)
    k = v.size // 5
    if k < 2:
        return 0
    y = v[: k * 5].reshape(k, 5).mean(axis=1)
    y = y - y.mean()  # centring reduces cancellation in the sums below
    m = np.arange(k, 0, -1, dtype=np.float64)  # k - d batches kept, d = 0 .. k-1
    s1 = np.cumsum(y[::-1])[::-1]
    s2 = np.cumsum((y * y)[::-1])[::-1]
    sse = np.maximum(s2 - s1 * s1 / m, 0.0)
    stat = sse / (m * m)
    d = int(np.argmin(stat[: k // 2 + 1]))
    return d * 5


def warmup_suggestion(ts: pd.DataFrame, column: str, per: str = "replication") -> int:
    """Warm-up in months: MSER-5 on ``column`` averaged across replications (``per``)
    for each ``month`` (or, without a ``month`` column, each row position within ``per``)."""
    if "month" in ts.columns:
        key = ts["month"]
    elif per in ts.columns:
        key = ts.groupby(per).cumcount()
    else:
        key = pd.Series(np.arange(len(ts)), index=ts.index)
    averaged = ts[column].groupby(key.to_numpy()).mean().sort_index()
    return mser5(averaged.to_numpy(dtype=np.float64))
