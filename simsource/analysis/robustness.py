"""Robustness of policies across futures: satisficing shares and regret (``robustness.csv``).

The input is ``futures.parquet`` of an explore folder: one row per (future, policy) with each
KPI's mean over the replications.

* **Satisficing** (Simon 1956; Starr's domain criterion): per policy and target, the share of
  futures in which the policy meets the target (the KPI's mean over the replications satisfies
  ``KPI op X``), with its 95 % Wilson interval over the futures.
* **Regret** (Savage 1951): per policy, KPI and future, how far the policy falls short of the
  best policy *in that future* — ``max − value`` for a KPI whose catalogue direction is
  ``higher``, ``value − min`` for ``lower`` — summarised over the futures by its mean and its
  90th percentile (the usual robustness pair: typical and bad-case loss; McPhail et al. 2018).
  With one policy every regret is zero.

``robustness.csv`` is tidy: ``policy, measure, target, kpi, value, ci_low, ci_high, futures``
with ``measure`` one of ``satisficing``, ``regret_mean``, ``regret_p90`` (``target`` empty for
regret rows).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simsource.analysis.staffing import Target, parse_target
from simsource.model import catalogue
from simsource.stats import wilson

__all__ = ["COLUMNS", "MEASURES", "Target", "parse_target", "regret", "regret_kpis",
           "robustness_table", "satisficing", "target_text"]

COLUMNS = ["policy", "measure", "target", "kpi", "value", "ci_low", "ci_high", "futures"]
MEASURES = ("satisficing", "regret_mean", "regret_p90")
P90 = 90.0


def target_text(t: Target) -> str:
    """``kpi>=X`` without spaces: the form of the ``target`` column and of ``--target``."""
    return f"{t.kpi}{t.op}{t.threshold:g}"


def policies_of(futures: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(futures["policy"].astype(str)))


def wide_table(frame: pd.DataFrame, index: str, columns: str, values: str) -> pd.DataFrame:
    """One row per ``index``, one column per ``columns`` value (each cell one value; NaN
    kept)."""
    return frame.pivot_table(index=index, columns=columns, values=values, aggfunc="first",
                             dropna=False, sort=False)


def by_policy(wide: pd.DataFrame, column: str) -> dict[str, float]:
    """A column of a :func:`wide_table` (indexed by policy) as ``{policy: value}``."""
    return dict(zip(wide.index.astype(str), wide[column].to_numpy(dtype=float), strict=True))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dictionaries (column → value)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def met(futures: pd.DataFrame, target: Target) -> np.ndarray:
    """Whether each row (a policy in a future) meets ``target`` (a NaN mean never does)."""
    if target.kpi not in futures.columns:
        return np.zeros(len(futures), dtype=bool)
    return target.met(futures[target.kpi].to_numpy(dtype=float))


def satisficing(futures: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """Per policy and target: the share of futures meeting it, with a Wilson interval."""
    rows = []
    for policy in policies_of(futures):
        mine = futures[futures["policy"] == policy]
        for t in targets:
            ok = met(mine, t)
            n, k = int(ok.size), int(ok.sum())
            low, high = wilson(k, n) if n else (np.nan, np.nan)
            rows.append({"policy": policy, "measure": "satisficing", "target": target_text(t),
                         "kpi": t.kpi, "value": k / n if n else np.nan, "ci_low": low,
                         "ci_high": high, "futures": n})
    return pd.DataFrame(rows, columns=COLUMNS)


def regret_kpis(futures: pd.DataFrame, targets: Sequence[Target] = ()) -> list[str]:
    """The KPIs regret is reported for: the targets' KPIs and the catalogue's headline KPIs,
    each only when it has a better direction and a value in some future."""
    names = [t.kpi for t in targets] + list(catalogue.names("headline"))
    out = []
    for k in dict.fromkeys(names):
        if k not in futures.columns or not futures[k].notna().any():
            continue
        try:
            better = catalogue.get(k).better
        except KeyError:
            continue
        if better in ("higher", "lower"):
            out.append(k)
    return out


def regret(futures: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """The regret of every row (policy in a future) on ``kpi``: ``future, policy, regret``
    (NaN where the policy's mean is undefined in that future)."""
    better = catalogue.get(kpi).better
    if better not in ("higher", "lower"):
        raise ValueError(f"{kpi}: no better direction, so no regret")
    wide = wide_table(futures, "future", "policy", kpi)
    values = wide.to_numpy(dtype=float)
    with warnings.catch_warnings():
        # a future where every policy's mean is NaN has NaN regret, as meant
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        best = np.nanmax(values, axis=1) if better == "higher" else np.nanmin(values, axis=1)
    r = best[:, None] - values if better == "higher" else values - best[:, None]
    frame = pd.DataFrame(r, index=wide.index, columns=list(wide.columns)).reset_index()
    return frame.melt(id_vars="future", var_name="policy", value_name="regret")


def regret_rows(futures: pd.DataFrame, kpis: Sequence[str]) -> pd.DataFrame:
    """Per policy and KPI: the mean and the 90th percentile of regret over the futures."""
    rows = []
    for kpi in kpis:
        r = regret(futures, kpi)
        for policy in policies_of(futures):
            v = r.loc[r["policy"] == policy, "regret"].to_numpy(dtype=float)
            v = v[~np.isnan(v)]
            n = int(v.size)
            mean = float(v.mean()) if n else np.nan
            p90 = float(np.percentile(v, P90)) if n else np.nan
            for measure, value in (("regret_mean", mean), ("regret_p90", p90)):
                rows.append({"policy": policy, "measure": measure, "target": "", "kpi": kpi,
                             "value": value, "ci_low": np.nan, "ci_high": np.nan, "futures": n})
    return pd.DataFrame(rows, columns=COLUMNS)


def robustness_table(futures: pd.DataFrame, targets: Sequence[Target],
                     kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """``robustness.csv``: satisficing rows (per policy and target), then regret rows (per
    policy and KPI of ``kpis``, default :func:`regret_kpis`)."""
    kpis = regret_kpis(futures, targets) if kpis is None else list(kpis)
    parts = [satisficing(futures, targets), regret_rows(futures, kpis)]
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=COLUMNS)
    table["futures"] = table["futures"].astype("int64")
    return table[COLUMNS]
