"""Implausibility of a fact at candidate parameter values (history matching for a stochastic model).

History matching (Craig et al. 1997; Vernon, Goldstein & Bower 2010; for stochastic simulators
Andrianakis et al. 2015) rules out parameter values whose predictions are too far from the
observations, measured in standard deviations of everything that makes them differ:

    I(x) = |z − m(x)| / sqrt(V_obs + V_s(x) / H + V_s(x) / R)

* ``z`` is the observed value (the middle of a two-sided interval); ``V_obs = (h / 3)²`` for a
  tolerance (half-width) ``h``: a prediction within the tolerance is acceptable by itself, so the
  tolerance stands for observation error and model discrepancy together;
* ``m(x)`` is the mean of the fact's statistic over ``R`` replications with the candidate values;
* ``V_s(x)`` is the variance between replications: Nacka's history is *one* realisation of a
  stochastic process, so a single history may lie that far from the mean (an observation that
  averages ``H`` independent histories, the fact's ``histories``, varies ``H`` times less);
  ``V_s / R`` is the Monte Carlo error of ``m(x)`` itself;
* a one-sided fact (``lower`` only, or ``upper`` only) has ``I = 0`` when ``m`` is on the right
  side and the distance to the bound over ``sqrt(V_s / H + V_s / R)`` otherwise.

A candidate is *non-implausible* when ``max_f I_f < cutoff`` (3, Pukelsheim's 3σ rule: at least
95 % of any unimodal distribution lies within three standard deviations).

``V_s`` from a handful of replications is noisy, so each candidate's sample variance is
moderated towards the variance pooled over all candidates (the empirical-Bayes shrinkage of
Smyth 2004, with :data:`PRIOR_DF` prior degrees of freedom); a 0/1 KPI (``transition_deadline_met``)
takes the binomial variance of its smoothed share ``(k + ½) / (R + 1)`` instead. A difference
between two scenarios adds the two variances (two separate histories) and takes the Monte Carlo
error from the paired differences (common random numbers); a ratio uses the delta method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsource.analysis.calibration.facts import Fact

#: prior degrees of freedom of the moderated variance (Smyth 2004)
PRIOR_DF = 4.0
DEFAULT_CUTOFF = 3.0


@dataclass(frozen=True)
class Estimate:
    """Per candidate: mean of the fact's statistic, the between-replication variance of one
    history (``spread``) and the variance of the mean itself (``error``)."""

    mean: np.ndarray
    spread: np.ndarray
    error: np.ndarray


def _nanvar(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample variance and count of each row, ignoring NaN (variance NaN below two values)."""
    n = np.sum(np.isfinite(a), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(a, axis=1) / n
        var = np.nansum((a - mean[:, None]) ** 2, axis=1) / (n - 1)
    var[n < 2] = np.nan
    return var, n


def moderated(var: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Each row's variance shrunk towards the mean variance of all rows ``s0²``:
    ``(d·s² + d0·s0²) / (d + d0)`` with ``d = n − 1`` and ``d0`` = :data:`PRIOR_DF` (Smyth
    2004)."""
    d = np.maximum(n - 1, 0).astype(float)
    ok = np.isfinite(var)
    s0 = float(np.mean(var[ok])) if ok.any() else 0.0
    own = np.where(ok, var, 0.0)
    out: np.ndarray = (d * own + PRIOR_DF * s0) / (d + PRIOR_DF)
    return out


def estimate(fact: Fact, y: np.ndarray, b: np.ndarray | None = None) -> Estimate:
    """The fact's statistic per candidate from replication values ``y`` (candidates × R) of the
    fact's scenario and, for a fact about two scenarios, ``b`` of its baseline (paired by
    column: the same replication). Variances are moderated towards the mean over the rows
    given, so pass every candidate evaluated so far."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    if fact.statistic == "mean":
        n = np.sum(np.isfinite(y), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.nansum(y, axis=1) / n
        if fact.binary:
            p = (np.nansum(y, axis=1) + 0.5) / (n + 1.0)
            spread = p * (1 - p)
        else:
            var, _ = _nanvar(y)
            spread = moderated(var, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return Estimate(m, spread, spread / n)
    assert b is not None, "a fact about two scenarios needs its baseline's values"
    b = np.atleast_2d(np.asarray(b, dtype=float))
    both = np.isfinite(y) & np.isfinite(b)
    ys, bs = np.where(both, y, np.nan), np.where(both, b, np.nan)
    n = np.sum(both, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        my, mb = np.nansum(ys, axis=1) / n, np.nansum(bs, axis=1) / n
    vy, _ = _nanvar(ys)
    vb, _ = _nanvar(bs)
    if fact.statistic == "difference":
        vd, _ = _nanvar(ys - bs)
        spread = moderated(vy, n) + moderated(vb, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return Estimate(my - mb, spread, moderated(vd, n) / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = my / mb
        # delta method for a ratio of means (paired): Var(ȳ/b̄) ≈ Var(y − r·b) / (n · b̄²)
        vr, _ = _nanvar(ys - r[:, None] * bs)
        spread = r ** 2 * (moderated(vy, n) / my ** 2 + moderated(vb, n) / mb ** 2)
        return Estimate(r, spread, moderated(vr, n) / (n * mb ** 2))


def implausibility(fact: Fact, est: Estimate) -> np.ndarray:
    """``I`` of each candidate (``inf`` where the statistic could not be computed)."""
    m = est.mean
    var = est.spread / fact.histories + est.error
    with np.errstate(invalid="ignore", divide="ignore"):
        if fact.one_sided:
            gap = np.maximum(fact.lower - m, 0.0) if np.isfinite(fact.lower) else \
                np.maximum(m - fact.upper, 0.0)
            out = np.where(gap > 0, gap / np.sqrt(var), 0.0)
        else:
            obs = ((fact.upper - fact.lower) / 6.0) ** 2
            gap = np.abs(fact.centre - m)
            out = np.where(gap > 0, gap / np.sqrt(obs + var), 0.0)
    out = np.where(np.isfinite(m) & ~np.isnan(out), out, np.inf)
    return np.asarray(out, dtype=float)
