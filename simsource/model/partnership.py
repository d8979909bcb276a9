"""The partner organisation's five dimensions (MODEL.md §4, whitepaper Fig. 7), one mechanism
each:

* **colocation** — every hand-off between the unit and a supplier takes
  Exp(``handoff_delay_days × (1 − colocation)``); project effort is divided by
  ``1 + (colocation_speedup − 1) × colocation``;
* **mandate** — the unit may fund projects up to ``mandate × full_mandate_msek`` itself; a
  dearer project is escalated: it waits for the line organisation's next meeting (every
  ``line_meeting_interval_days``), which approves it only if its yearly value ×
  ``line_hurdle_years`` covers its cost (a payback hurdle, not a coin);
* **information** — stage transitions wait for the next sync point; sync points come every
  ``decision_interval_days × (1 − information)`` (continuous information: no wait);
* **autonomy** — ``autonomy × ring_fence_max_share`` of the coordinators and of each supplier's
  staff are ring-fenced for innovation work. This *replaces* v1's pre-emption coin: in the
  shared part of the unit, operations work always pre-empts innovation work;
* **intensity** — part-time staff are split over ``1 + (max_tasks − 1)(1 − intensity)`` tasks
  and lose ``switching_loss_per_task`` per extra task (Weinberg), which inflates innovation
  effort.

With ``partnership.effects = false`` none of these act (textbook reduction).
"""

from __future__ import annotations

import math

from simsource.scenario.schema import Partnership


class PartnershipEffects:
    def __init__(self, p: Partnership) -> None:
        self.p = p
        on = p.effects
        self.handoff_mean = p.handoff_delay_days * (1.0 - p.colocation) if on else 0.0
        self.speedup = 1.0 + (p.colocation_speedup - 1.0) * p.colocation if on else 1.0
        self.fence_share = p.autonomy * p.ring_fence_max_share if on else 0.0
        tasks = 1.0 + (p.max_tasks - 1.0) * (1.0 - p.intensity)
        loss = min(0.9, p.switching_loss_per_task * (tasks - 1.0)) if on else 0.0
        self.switching_factor = 1.0 / (1.0 - loss)
        self.authority_msek = p.mandate * p.full_mandate_msek if on else math.inf
        self.sync_interval = p.decision_interval_days * (1.0 - p.information) if on else 0.0

    def handoff_delay(self, e: float) -> float:
        """Delay of one hand-off between the unit and a supplier (``e``: a unit exponential)."""
        return e * self.handoff_mean

    def sync_wait(self, now: float) -> float:
        """Wait until the next sync point (none with continuous information)."""
        if self.sync_interval <= 1e-9:
            return 0.0
        return next_multiple(now, self.sync_interval) - now

    def escalates(self, cost_msek: float) -> bool:
        """Does a project of this cost exceed the unit's own spending authority?"""
        return cost_msek > self.authority_msek

    def line_meeting_wait(self, now: float) -> float:
        return next_multiple(now, self.p.line_meeting_interval_days) - now

    def line_approves(self, value_msek_per_year: float, cost_msek: float) -> bool:
        """The line organisation's payback hurdle."""
        return value_msek_per_year * self.p.line_hurdle_years >= cost_msek

    def fixed_cost_msek_per_year(self) -> float:
        dims = self.p.dims()
        return self.p.heavy_fixed_cost_msek_per_year * sum(dims.values()) / len(dims)


def next_multiple(t: float, step: float) -> float:
    """The first multiple of ``step`` strictly after ``t`` (meetings happen at k x step)."""
    return (math.floor(t / step + 1e-9) + 1.0) * step
