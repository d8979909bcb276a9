"""The fat-tailed overrun of IT projects and migrations (MODEL.md §5).

Flyvbjerg & Budzier (2011, 1,471 IT projects): the mean cost overrun is +27 %, and one project in
six is a *black swan* whose cost overrun averages about +200 % (with a schedule overrun of about
+70 %). The model draws the **effort** factor (actual / planned person-days) from a mixture:

* with probability ``1 - s`` an ordinary project: lognormal with mean ``m_ordinary`` and sigma
  ``sigma``, where ``m_ordinary`` is solved so that the whole mixture has the mean ``1 + mean``;
* with probability ``s`` a black swan: ``1 + 0.5 + Y``, Y lognormal with log-sigma
  ``swan_sigma``, its mean solved so that the swan's mean overrun is ``swan_mean`` once the
  factor is cut at ``cap`` (bounded work).

Cost follows effort (every person-day is paid), so the cost overrun is the effort overrun.
Schedule is *not* drawn: it emerges from the effort passing through queues of people, so the
schedule overrun is an output of the simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from simsource.model.rng import lognormal_mean

SWAN_THRESHOLD = 0.5   # a black swan overruns by at least +50 % (assumption)


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _capped_lognormal_mean(mean: float, sigma: float, k: float) -> float:
    """E[min(Y, k)] for Y lognormal with mean ``mean`` and log-sigma ``sigma``."""
    mu = math.log(mean) - 0.5 * sigma * sigma
    a = (math.log(k) - mu) / sigma
    return mean * _phi(a - sigma) + k * (1.0 - _phi(a))


@lru_cache(maxsize=64)
def _swan_lognormal_mean(swan_mean: float, sigma: float, cap: float) -> float:
    """The uncapped lognormal mean whose capped mean is ``swan_mean - SWAN_THRESHOLD``."""
    target = swan_mean - SWAN_THRESHOLD
    k = cap - 1.0 - SWAN_THRESHOLD
    lo, hi = target, target * 64.0
    if _capped_lognormal_mean(hi, sigma, k) < target:
        return hi
    for _ in range(100):          # bisection on a monotone function (60 steps suffice)
        mid = 0.5 * (lo + hi)
        if _capped_lognormal_mean(mid, sigma, k) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True, slots=True)
class OverrunTail:
    mean: float            # overall mean overrun (0.27 = +27 %)
    sigma: float           # log-sigma of ordinary projects
    swan_share: float
    swan_mean: float       # mean overrun of a black swan (2.0 = +200 %)
    swan_sigma: float
    cap: float             # largest factor

    @property
    def ordinary_mean(self) -> float:
        s = self.swan_share
        return (1.0 + self.mean - s * (1.0 + self.swan_mean)) / (1.0 - s) if s < 1 else 1.0

    def factor(self, u_kind: float, u_size: float) -> float:
        """An effort factor from two uniforms: which kind of project, and how large."""
        if u_kind < self.swan_share:
            y_mean = _swan_lognormal_mean(self.swan_mean, self.swan_sigma, self.cap)
            f = 1.0 + SWAN_THRESHOLD + lognormal_mean(y_mean, self.swan_sigma, u_size)
        else:
            f = lognormal_mean(self.ordinary_mean, self.sigma, u_size)
        return min(f, self.cap)
