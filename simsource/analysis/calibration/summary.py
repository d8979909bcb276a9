"""What a history matching found: parameter quantiles, each fact's predictions, the tables.

* :func:`parameter_summary`: prior (uniform) and posterior (weighted) quantiles of each
  parameter, and how much the posterior's 90 % interval narrowed the prior's;
* :func:`fact_summary`: each fact's observation against its prior and posterior *predictive*
  intervals (one history: parameter uncertainty and the randomness of a single run together),
  the interval of its *mean* under the posterior (parameter uncertainty alone), and the share of
  the prior's candidates the fact rules out by itself;
* :func:`evaluations_frame`: every candidate with its values, implausibilities and weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simsource.analysis.calibration.implausibility import estimate, implausibility
from simsource.analysis.calibration.matching import Matching, Target, weighted_quantiles

if TYPE_CHECKING:
    import pandas as pd

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Q_NAMES = ("q05", "q25", "q50", "q75", "q95")


def _quantiles(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    return dict(zip(Q_NAMES, weighted_quantiles(x, w, QUANTILES), strict=True))


def parameter_summary(m: Matching, weights: np.ndarray) -> list[dict[str, Any]]:
    out = []
    for j, p in enumerate(m.params):
        x = np.array([m.values(c)[p.key] for c in range(m.size)], dtype=float)
        prior = {n: p.low + q * (p.high - p.low) for n, q in zip(Q_NAMES, QUANTILES, strict=True)}
        post = _quantiles(x, weights)
        width = 0.9 * (p.high - p.low)
        narrowed = (post["q95"] - post["q05"]) / width if width > 0 else float("nan")
        mean = float(np.sum(weights * x)) if weights.sum() > 0 else float("nan")
        out.append({"key": p.key, "integer": p.integer, "scenario_value": p.value,
                    "prior": {"lower": p.low, "upper": p.high, **prior},
                    "posterior": {"mean": mean, **post},
                    "width_ratio_90": narrowed, "column": j})
    return out


def replication_values(m: Matching, t: Target, ids: Sequence[int]) -> np.ndarray:
    """Candidates × replications of the fact's statistic per replication (the KPI, or its
    paired difference or ratio to the baseline)."""
    reps = min(m.groups[g].reps for g in t.groups)
    y = m.matrix(t.group, t.fact.kpi, ids, reps)
    if t.baseline is None:
        return y
    b = m.matrix(t.baseline, t.fact.kpi, ids, reps)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = y - b if t.fact.statistic == "difference" else y / b
    return out


def _predictive(values: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Quantiles and mean of every replication, each candidate's weight spread over its
    replications."""
    finite = np.isfinite(values)
    n = finite.sum(axis=1)
    rep_w = np.where(finite, (w / np.maximum(n, 1))[:, None], 0.0)
    flat, fw = values[finite], rep_w[finite]
    mean = float(np.sum(flat * fw) / fw.sum()) if fw.sum() > 0 else float("nan")
    return {"mean": mean, **_quantiles(flat, fw)}


def fact_summary(m: Matching, weights: np.ndarray) -> list[dict[str, Any]]:
    first = np.array([c in set(m.waves[0].ids) for c in range(m.size)]) if m.waves else \
        np.zeros(m.size, dtype=bool)
    out = []
    for t in m.targets:
        f = t.fact
        ids = m.evaluated(t)
        vals = replication_values(m, t, ids)
        w_post = weights[ids]
        w_prior = first[ids].astype(float)
        reps = min(m.groups[g].reps for g in t.groups)
        y = m.matrix(t.group, f.kpi, ids, reps)
        b = None if t.baseline is None else m.matrix(t.baseline, f.kpi, ids, reps)
        est = estimate(f, y, b)
        imp = implausibility(f, est)
        post = _predictive(vals, w_post)
        ruled = float(np.mean(imp[w_prior > 0] >= m.cutoff)) if (w_prior > 0).any() \
            else float("nan")
        covered = bool(post["q05"] <= f.upper and post["q95"] >= f.lower) \
            if np.isfinite(post["q05"]) else False
        out.append({
            "name": f.name, "kpi": f.kpi, "scenario": m.groups[t.group].label,
            "baseline": None if t.baseline is None else m.groups[t.baseline].label,
            "statistic": f.statistic, "observed": f.observed,
            "lower": f.lower if np.isfinite(f.lower) else None,
            "upper": f.upper if np.isfinite(f.upper) else None,
            "value": f.value, "tolerance": f.tolerance, "source": f.source,
            "used": t.used, "replications": reps,
            "prior_predictive": _predictive(vals, w_prior),
            "posterior_predictive": post,
            "posterior_mean_interval": _quantiles(est.mean, w_post),
            "covered_by_posterior_90": covered,
            "prior_share_ruled_out": ruled,
            "posterior_implausibility_median": weighted_quantiles(imp, w_post, [0.5])[0],
        })
    return out


def evaluations_frame(m: Matching, weights: np.ndarray) -> pd.DataFrame:
    """One row per candidate: ``candidate, wave``, the values, ``I_<fact>`` of every fact (NaN:
    not evaluated, held-back facts too), ``I_max`` over the used facts, ``accepted``,
    ``weight``."""
    import pandas as pd

    wave_of = {c: w.number for w in m.waves for c in w.ids}
    rows: dict[str, Any] = {"candidate": np.arange(m.size),
                            "wave": [wave_of[c] for c in range(m.size)]}
    for p in m.params:
        rows[p.key] = [m.values(c)[p.key] for c in range(m.size)]
    used = []
    for t in m.targets:
        imp = m.implausibilities(t)
        rows[f"I_{t.fact.name}"] = imp
        if t.used:
            used.append(imp)
    table = np.column_stack(used) if used else np.zeros((m.size, 0))
    with np.errstate(invalid="ignore"):
        rows["I_max"] = np.where(np.isnan(table).any(axis=1), np.nan, table.max(axis=1)) \
            if table.shape[1] else np.zeros(m.size)
    rows["accepted"] = m.accepted()
    rows["weight"] = weights
    return pd.DataFrame(rows)
