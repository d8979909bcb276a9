"""Lead times with unfinished ideas: Kaplan–Meier with right-censoring (issue 13).

Ideas implemented in the KPI window contribute their lead time (creation → implementation);
ideas still in the funnel at the horizon are right-censored at their age. Dropped ideas leave
the population (they will never be implemented). The median and the 90th percentile are read
off the Kaplan–Meier survival function (``scipy.stats.ecdf``): the first time it falls to the
quantile's level, or the middle of a flat stretch exactly at that level (R's ``survfit``
convention, which gives ``numpy.median`` when nothing is censored). Where it never falls that
far — more than half (a tenth) of the ideas are still waiting — the quantile is undefined and
reported as NaN; ``lead_time_censored_share`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import stats


def km_quantiles(done: Sequence[float], waiting: Sequence[float],
                 qs: Sequence[float] = (0.5, 0.9)) -> list[float]:
    """Quantiles of the time to implementation, ``waiting`` right-censored."""
    if not done:
        return [math.nan] * len(qs)
    # imported here, not with the model: scipy.stats takes most of a second to import, which
    # every command paid before its first replication (serially, also with -j 2, whose workers
    # get it from the fork server's preload, simsource.experiment.pool.PRELOAD)
    from scipy import stats

    events = np.asarray(done, dtype=float)
    if waiting:
        data: stats.CensoredData | np.ndarray = stats.CensoredData(
            uncensored=events, right=np.asarray(waiting, dtype=float))
    else:
        data = events
    sf = stats.ecdf(data).sf
    times, surv = sf.quantiles, sf.probabilities
    out = []
    for q in qs:
        level = 1.0 - q
        hit = np.nonzero(surv <= level + 1e-12)[0]
        if not hit.size:
            out.append(math.nan)
            continue
        i = int(hit[0])
        if abs(surv[i] - level) < 1e-12 and i + 1 < len(times):
            out.append(float(0.5 * (times[i] + times[i + 1])))
        else:
            out.append(float(times[i]))
    return out
