"""The model's shared vocabulary: funnel stages, coordinator work kinds and priorities.

Everything in :mod:`simsource.model` imports this small module; it imports nothing of the model
(so there is no import circle between the actors).
"""

from __future__ import annotations

from typing import Final

#: Funnel stages in order (whitepaper Fig. 5).
STAGES: Final[tuple[str, ...]] = ("screening", "matching", "decision", "project")

#: A *month* of the time series, in working days.
MONTH_DAYS: Final[float] = 20.0

# Coordinator work priorities (lower = more urgent; MODEL.md §3). Operations work (priority
# below PREEMPTIBLE_FROM) pre-empts innovation work in the shared part of the unit.
PRIO_TRIAGE: Final[int] = 1
PRIO_GOVERNANCE: Final[int] = 2      # supplier governance, change coordination, hand-offs
PRIO_PROJECT: Final[int] = 3
PRIO_MATCHING: Final[int] = 4
PRIO_SCREENING: Final[int] = 5
PRIO_EMBEDDED: Final[int] = 6        # work out in the business (lowest: uses spare capacity)
PREEMPTIBLE_FROM: Final[int] = PRIO_PROJECT

#: Kinds of coordinator work, each booked separately (``coordinator_utilisation_<kind>``).
COORD_KINDS: Final[tuple[str, ...]] = ("triage", "governance", "change", "handoff", "project",
                                       "matching", "screening", "embedded")
#: The kinds that count as operations coordination (``operations_share_of_unit_effort``).
OPS_KINDS: Final[tuple[str, ...]] = ("triage", "governance", "change", "handoff")

# Supplier staff classes (non-preemptive, FIFO within a class).
SUP_INCIDENT: Final[int] = 0
SUP_CHANGE: Final[int] = 1
SUP_IMPROVEMENT: Final[int] = 2

#: The business application owner: an owner that borders incidents with any sourcing.
APP_OWNER: Final[str] = "<application owner>"
