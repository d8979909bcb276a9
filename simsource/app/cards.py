"""KPI cards of the teaching page: each headline KPI of the catalogue, baseline against current.

A card shows the current mean, the paired difference to the baseline (same seed, so common
random numbers) with its 95 % confidence interval, and a verdict that follows the catalogue's
better direction. Numbers are written by :mod:`simsource.formatting`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from simsource import formatting
from simsource.analysis.plots.labels import axis_label, title
from simsource.model import catalogue
from simsource.model.catalogue import Kpi
from simsource.stats import mean_ci, paired_difference

_SIGN = {"higher": +1, "lower": -1, "none": 0}


class Batch(Protocol):
    """What a card needs of a batch: its seed and one row of KPIs per replication."""

    @property
    def seed(self) -> int: ...

    @property
    def kpis(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Card:
    """One card: the KPI, its heading, the good direction (+1, −1, 0) and the help text."""

    kpi: Kpi

    @property
    def name(self) -> str:
        return self.kpi.name

    @property
    def label(self) -> str:
        """The heading: label and unit (shares carry their ``%`` in the value instead)."""
        return title(self.kpi.name) if self.kpi.share else axis_label(self.kpi.name)

    @property
    def better(self) -> int:
        return _SIGN[self.kpi.better]

    @property
    def help(self) -> str:
        return self.kpi.description


CARDS: tuple[Card, ...] = tuple(Card(k) for k in catalogue.kpis("headline"))

#: The mechanisms behind the cards: KPIs the exercise pack asks students to observe that are
#: not headline cards, shown in a table under the cards (every KPI a worksheet's claim checks
#: is a card, a row of this table or a bar of the cost chart; tests/test_exercises.py).
BEHIND: tuple[Card, ...] = tuple(Card(catalogue.get(n)) for n in (
    "innovations_business_per_year", "innovation_capacity_ratio",
    "funnel_stable", "backlog_growth_per_year", "lead_time_censored_share",
    "ideas_embedded_per_year", "embedded_share_mean", "coordinator_utilisation_embedded",
    "coordinator_utilisation_project", "coordinator_utilisation_governance",
    "pass_rate_project", "decisions_escalated_per_year", "decisions_rejected_per_year",
    "change_requests_negotiated_share", "ideas_from_suppliers_per_year",
    "misrouted_share", "incidents_triaged_per_year",
    "transition_systems_late", "transition_finish_day",
))


def _values(batch: Batch, kpi: str) -> np.ndarray:
    if kpi not in batch.kpis:
        return np.empty(0)
    v = batch.kpis[kpi].to_numpy(dtype=np.float64)
    finite: np.ndarray = v[np.isfinite(v)]
    return finite


def cards_for(*batches: Batch, cards: Iterable[Card] = CARDS) -> tuple[Card, ...]:
    """The cards with a value in at least one batch (no transfer card without a transfer)."""
    return tuple(c for c in cards if any(_values(b, c.name).size for b in batches))


@dataclass(frozen=True)
class CardValue:
    card: Card
    current: float
    baseline: float
    diff: float
    low: float
    high: float
    n: int

    @property
    def clear(self) -> bool:
        """The 95 % CI of the paired difference excludes zero."""
        return not math.isnan(self.low) and (self.low > 0 or self.high < 0)

    @property
    def verdict(self) -> str:
        if math.isnan(self.diff) or (self.diff == 0 and self.low == self.high):
            return "no change"
        if not self.clear:
            return "no clear change"
        if self.card.better == 0:
            return "higher" if self.diff > 0 else "lower"
        return "better" if self.diff * self.card.better > 0 else "worse"

    def _value(self, v: float) -> str:
        kpi = self.card.kpi
        return formatting.kpi_value(kpi, v, unit=kpi.share, missing="–")

    def _delta(self, v: float, places: int | None = None) -> str:
        kpi = self.card.kpi
        return formatting.kpi_delta(kpi, v, places, unit=kpi.share, missing="–")

    @property
    def value_text(self) -> str:
        return self._value(self.current)

    @property
    def delta_text(self) -> str | None:
        """The difference as shown on the card; None when there is no difference at all."""
        if math.isnan(self.diff) or self.verdict == "no change":
            return None
        return self._delta(self.diff)

    @property
    def baseline_text(self) -> str:
        return self._value(self.baseline)

    @property
    def interval_text(self) -> str | None:
        """The 95 % CI of the difference, ``[low, high]``; None when there is none."""
        if math.isnan(self.low):
            return None
        k = self.card.kpi.scale
        d = formatting.decimals(self.diff * k, self.low * k, self.high * k)
        return f"[{self._delta(self.low, d)}, {self._delta(self.high, d)}]"

    @property
    def difference_text(self) -> str:
        """The difference and its 95 % CI in one line ("–" when there is none)."""
        if math.isnan(self.diff):
            return "–"
        return f"{self.delta_text or self._delta(0.0)} {self.interval_text or ''}".strip()

    @property
    def ci_text(self) -> str:
        base = f"baseline {self.baseline_text}"
        interval = self.interval_text
        if interval is None:
            return base
        return f"{base}; difference 95 % CI {interval} — {self.verdict}"


def kpi_cards(baseline: Batch, current: Batch,
              cards: Iterable[Card] | None = None) -> list[CardValue]:
    """Each card: current mean, baseline mean and the paired difference (current − baseline)
    with its 95 % CI over the replications both batches share (same seed: CRN). ``cards``
    default to :func:`cards_for` the two batches."""
    if baseline.seed != current.seed:
        raise ValueError("baseline and current must use the same seed (common random numbers)")
    chosen = cards_for(baseline, current) if cards is None else tuple(cards)
    common = baseline.kpis.index.intersection(current.kpis.index)
    out = []
    for card in chosen:
        k = card.name
        if k not in baseline.kpis or k not in current.kpis:
            nan = math.nan
            cur = _values(current, k)
            base = _values(baseline, k)
            out.append(CardValue(card, float(cur.mean()) if cur.size else nan,
                                 float(base.mean()) if base.size else nan, nan, nan, nan, 0))
            continue
        a = baseline.kpis.loc[common, k].to_numpy(dtype=np.float64)
        b = current.kpis.loc[common, k].to_numpy(dtype=np.float64)
        d = paired_difference(a, b)
        out.append(CardValue(card, mean_ci(b).mean, mean_ci(a).mean, d.mean, d.low, d.high,
                             d.n))
    return out


def behind_table(baseline: Batch, current: Batch) -> pd.DataFrame:
    """The :data:`BEHIND` KPIs both batches have, one row each: label, baseline, current, the
    paired difference with its 95 % CI, the verdict and what the KPI means."""
    values = kpi_cards(baseline, current, cards_for(baseline, current, cards=BEHIND))
    return pd.DataFrame({
        "KPI": [v.card.label for v in values],
        "baseline": [v.baseline_text for v in values],
        "current": [v.value_text for v in values],
        "difference [95 % CI]": [v.difference_text for v in values],
        "verdict": [v.verdict for v in values],
        "meaning": [v.card.help for v in values],
    })


def overload_warnings(batches: Mapping[str, Batch]) -> list[str]:
    """The catalogue's overload warning for each named batch whose funnel is mostly unstable
    (nothing for results without ``funnel_stable``)."""
    out = []
    for label, batch in batches.items():
        share = catalogue.stable_share(_values(batch, catalogue.STABILITY_KPI))
        if catalogue.is_overloaded(share):
            out.append(catalogue.overload_warning(label, share))
    return out
