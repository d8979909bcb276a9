"""The innovation budget: a yearly appropriation, as in a Swedish municipality (MODEL.md §3).

At the start of each year the budget receives ``budget.innovation_msek_per_year`` plus, with
``reinvest_savings_share``, that share of the year's operations savings against
``baseline_operations_msek`` (the whitepaper: the savings funded new initiatives). Unspent money
lapses at year end unless ``carry_over``. A project's planned supplier cost is funded at the
decision (the project waits until the money is there); its overrun is paid at completion from
what the budget still holds (and is spent even when it does not: the project is finished
anyway), and an underrun flows back.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from simsource.model.world import World


class InnovationBudget:
    def __init__(self, w: World) -> None:
        self.w = w
        self.spec = w.sc.budget
        self.limited = self.spec.limited
        self.money = simpy.Container(w.env, init=0.0) if self.limited else None
        self.reinvested_window = 0.0

    def appropriate(self, year: int, fees: float) -> None:
        """Year ``year`` starts (operations fees of the year already known)."""
        b, rec, now = self.spec, self.w.rec, self.w.env.now
        if self.money is None:
            return
        if not b.carry_over and self.money.level > 0:
            lapsed = self.money.level
            self.money.get(lapsed)
            if rec.in_window(now):
                rec.budget_lapsed += lapsed
        amount = b.innovation_msek_per_year
        if b.reinvest_savings_share > 0 and b.baseline_operations_msek > 0:
            saving = max(0.0, b.baseline_operations_msek - fees) * b.reinvest_savings_share
            amount += saving
            if rec.in_window(now):
                self.reinvested_window += saving
        if rec.in_window(now):
            rec.budget_appropriated += amount
        if amount > 0:
            self.money.put(amount)

    def fund(self, cost: float) -> Generator[simpy.Event, Any, None]:
        """Wait until ``cost`` MSEK is available and take it."""
        if self.money is not None:
            yield self.money.get(cost)
        self.w.rec.spend_innovation(self.w.env.now, cost)

    def charge_overrun(self, extra: float) -> None:
        if self.money is not None:
            take = min(extra, self.money.level)
            if take > 0:
                self.money.get(take)
        self.w.rec.spend_innovation(self.w.env.now, extra)

    def refund(self, amount: float) -> None:
        if self.money is not None:
            self.money.put(amount)
        self.w.rec.spend_innovation(self.w.env.now, -amount)
