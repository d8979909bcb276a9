"""Supplier governance as a steady load (MODEL.md §5, §9).

Every supplier relationship (``a`` FTE, ``coordination.governance_fte_per_supplier``; vendor
management ≈ 0.2 FTE per supplier, Forrester) and every interface between two suppliers (``b``
FTE, ``governance_fte_per_pair``; Brooks' n(n−1)/2 interfaces) keeps its own rhythm: cycles of
``governance_interval_days`` starting at a random phase, each with a drawn effort (gamma, mean
FTE × interval, coefficient of variation ``governance_effort_cv``). So governance is a steady
load of a·n + b·n(n−1)/2 FTE on average, never a calendar collision that seizes the whole unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsource.model.core import PRIO_GOVERNANCE

if TYPE_CHECKING:
    from simsource.model.world import World


def relationship(w: World, fte: float, label: str) -> Generator[simpy.Event, Any, None]:
    """The governance cycles of one relationship (a supplier, or a pair of suppliers)."""
    env, c = w.env, w.sc.coordination
    interval = c.governance_interval_days
    s = w.streams[f"governance.{label}"]
    yield env.timeout(s.uniform() * interval)          # its own phase
    mean = fte * interval
    while True:
        effort = s.gamma_mean_cv(mean, c.governance_effort_cv)
        if effort > 0:
            env.process(w.coord.work(effort, PRIO_GOVERNANCE, "governance", preempt=True))
        yield env.timeout(interval)


def start_governance(w: World) -> None:
    c = w.sc.coordination
    if not c.governance:
        return
    names = sorted(w.sc.suppliers)
    if c.governance_fte_per_supplier > 0:
        for name in names:
            w.env.process(relationship(w, c.governance_fte_per_supplier, name))
    if c.governance_fte_per_pair > 0:
        for a, b in itertools.combinations(names, 2):
            w.env.process(relationship(w, c.governance_fte_per_pair, f"{a}+{b}"))
