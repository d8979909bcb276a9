"""How much of an interval is parameter uncertainty: the same scenarios run twice with the same
seed, once at their own values and once with ``--posterior``.

By the law of total variance, the spread between replications under the posterior is the
randomness of one run plus the spread of the parameters' effect; the spread at fixed values is
the randomness alone. So the share of the variance that is parameter uncertainty is about
``1 − var_fixed / var_posterior`` (assuming the randomness is about as large across the
posterior as at the scenario's values; 0 when the posterior run varies less, which sampling
noise can make happen). Intervals widen in proportion to the standard deviation:
``sd_posterior / sd_fixed``.

``python -m simsource.analysis.calibration.uncertainty FIXED_DIR POSTERIOR_DIR [KPI …]`` prints
the table (markdown) for two comparison (or run) folders, with the paired difference of each
scenario to the first (``B − A``) as rows of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from simsource.experiment.results import load_results
from simsource.model import catalogue


def parameter_share(fixed: pd.DataFrame, posterior: pd.DataFrame,
                    kpis: Sequence[str]) -> pd.DataFrame:
    """Per scenario and KPI: mean and standard deviation at fixed values and under the
    posterior, the interval's widening and the share of the variance that is parameter
    uncertainty (frames of ``load_results(...).replications``, with a ``scenario`` column)."""
    rows = []
    for scenario in dict.fromkeys(fixed["scenario"]):
        a = fixed[fixed["scenario"] == scenario]
        b = posterior[posterior["scenario"] == scenario]
        for kpi in kpis:
            if kpi not in a or kpi not in b:
                continue
            x, y = a[kpi].to_numpy(dtype=float), b[kpi].to_numpy(dtype=float)
            x, y = x[np.isfinite(x)], y[np.isfinite(y)]
            if len(x) < 2 or len(y) < 2:
                continue
            vx, vy = float(np.var(x, ddof=1)), float(np.var(y, ddof=1))
            share = max(0.0, 1.0 - vx / vy) if vy > 0 else 0.0
            rows.append({"scenario": scenario, "kpi": kpi, "mean_fixed": float(np.mean(x)),
                         "sd_fixed": vx ** 0.5, "mean_posterior": float(np.mean(y)),
                         "sd_posterior": vy ** 0.5,
                         "widening": (vy / vx) ** 0.5 if vx > 0 else float("nan"),
                         "parameter_share": share})
    return pd.DataFrame(rows)


def with_differences(frame: pd.DataFrame, kpis: Sequence[str]) -> pd.DataFrame:
    """``frame`` plus, for each scenario after the first, the paired difference to the first
    per replication (scenario ``"B − A"``): the interval of a comparison is that of these."""
    names = list(dict.fromkeys(frame["scenario"]))
    cols = [k for k in kpis if k in frame]
    base = frame[frame["scenario"] == names[0]].set_index("replication")[cols]
    parts = [frame]
    for name in names[1:]:
        other = frame[frame["scenario"] == name].set_index("replication")[cols]
        diff = (other - base).dropna(how="all").reset_index()
        diff["scenario"] = f"{name} − {names[0]}"
        parts.append(diff)
    return pd.concat(parts, ignore_index=True)


def markdown(table: pd.DataFrame) -> str:
    lines = ["| scenario | KPI | mean (fixed) | mean (posterior) | sd (fixed) | sd (posterior) "
             "| parameter share of the variance |", "|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        lines.append(f"| {r['scenario']} | {catalogue.get(r['kpi']).label} | "
                     f"{r['mean_fixed']:.3g} | {r['mean_posterior']:.3g} | {r['sd_fixed']:.3g} "
                     f"| {r['sd_posterior']:.3g} | {r['parameter_share']:.0%} |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    kpis = list(argv[2:]) or list(catalogue.names("headline"))
    fixed = with_differences(load_results(argv[0]).replications, kpis)
    post = with_differences(load_results(argv[1]).replications, kpis)
    print(markdown(parameter_share(fixed, post, kpis)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
