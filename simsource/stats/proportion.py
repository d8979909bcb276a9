"""Confidence intervals of a proportion (share of replications meeting a target)."""

from __future__ import annotations

import math


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n`` (NaN for ``n == 0``), from
    :func:`scipy.stats.binomtest`."""
    if n <= 0:
        return math.nan, math.nan
    # imported here: scipy.stats takes most of a second to import, and every `simsource run`
    # imports this package (for summary.csv) without needing it
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
