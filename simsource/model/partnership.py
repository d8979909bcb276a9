"""The partner organisation's five dimensions (MODEL.md §4, whitepaper Fig. 7) as mechanisms.

* colocation — hand-off delay between unit and supplier at each stage (mean
  ``handoff_delay_days x (1 - colocation)``) and a project effort divisor
  ``1 + (colocation_speedup - 1) x colocation``;
* mandate — with probability ``1 - mandate`` a funding decision is escalated: it waits for the
  line organisation's next meeting and is rejected with ``escalation_reject_prob``;
* information — with probability ``1 - information`` a stage transition waits for the next sync
  point (every ``decision_interval_days``); continuous information passes immediately;
* autonomy — operations requests pre-empt innovation work with probability ``1 - autonomy``;
* intensity — part-time staff are split over ``1 + (max_tasks - 1)(1 - intensity)`` tasks and
  lose ``switching_loss_per_task`` per extra task (Weinberg), which inflates innovation effort.

With ``partnership.effects = false`` none of these act (textbook reduction).
"""

from __future__ import annotations

import math

from simsource.scenario.schema import Partnership


class PartnershipEffects:
    def __init__(self, p: Partnership) -> None:
        self.p = p
        self.handoff_mean = p.handoff_delay_days * (1.0 - p.colocation) if p.effects else 0.0
        self.speedup = 1.0 + (p.colocation_speedup - 1.0) * p.colocation if p.effects else 1.0
        self.preempt_prob = 1.0 - p.autonomy if p.effects else 0.0
        tasks = 1.0 + (p.max_tasks - 1.0) * (1.0 - p.intensity)
        loss = min(0.9, p.switching_loss_per_task * (tasks - 1.0)) if p.effects else 0.0
        self.switching_factor = 1.0 / (1.0 - loss)
        self.escalate_prob = 1.0 - p.mandate if p.effects else 0.0
        self.batch_prob = 1.0 - p.information if p.effects else 0.0

    def handoff_delay(self, u: float) -> float:
        """Delay of one hand-off between the unit and a supplier, from a uniform draw."""
        return -math.log(1.0 - u) * self.handoff_mean if self.handoff_mean > 0 else 0.0

    def sync_wait(self, now: float, u: float) -> float:
        """Wait until the next sync point if this transition is batched."""
        if u >= self.batch_prob:
            return 0.0
        return next_multiple(now, self.p.decision_interval_days) - now

    def escalation(self, now: float, u: float, v: float) -> tuple[float, bool] | None:
        """None if the unit decides itself; else (wait for the line meeting, rejected?)."""
        if u >= self.escalate_prob:
            return None
        wait = next_multiple(now, self.p.line_meeting_interval_days) - now
        return wait, v < self.p.escalation_reject_prob

    def fixed_cost_msek_per_year(self) -> float:
        dims = self.p.dims()
        return self.p.heavy_fixed_cost_msek_per_year * sum(dims.values()) / len(dims)


def next_multiple(t: float, step: float) -> float:
    """The first multiple of ``step`` strictly after ``t`` (meetings happen at k x step)."""
    return (math.floor(t / step + 1e-9) + 1.0) * step
