"""Stand-ins for the model that tests pass to the engine as ``model="fake_models:NAME"``.

Worker processes import this module by name (``tests/`` is on their path), so it stays light:
numpy and the scenario type only, no pandas, pytest or hypothesis to import in every worker.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from simsource.scenario import Scenario


@dataclass(frozen=True)
class Record:
    """What a stand-in returns for one replication (the shape of
    :class:`simsource.model.ReplicationResult`)."""

    kpis: dict[str, float]
    timeseries: dict[str, list[float]] = field(default_factory=dict)
    events: list[dict[str, object]] | None = None


def fake_simulate(sc: Scenario, seed: int, replication: int) -> Record:
    """N(10 + staff/10, 1) draws keyed by (seed, replication), and six months of series."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication,)))
    mean = 10 + sc.coordination.staff / 10
    months = 6
    return Record(
        kpis={"innovations_per_year": float(rng.normal(mean, 1.0)),
              "cost_total_msek_per_year": float(rng.normal(80, 0.5)),
              "transition_finish_day": math.nan},
        timeseries={"month": [float(m) for m in range(months)],
                    "wip_project": [float(x) for x in rng.random(months)],
                    "load_project": [0.5] * months})


def pid_model(sc: Scenario, seed: int, replication: int) -> Record:
    """Which process ran the replication."""
    return Record({"pid": float(os.getpid()), "x": float(replication)})


def failing_model(sc: Scenario, seed: int, replication: int) -> Record:
    """Fails at replication 5."""
    if replication == 5:
        raise RuntimeError("model bug")
    return pid_model(sc, seed, replication)


def calibration_model(sc: Scenario, seed: int, replication: int) -> Record:
    """KPIs with a known dependence on two parameters, for testing calibration:
    ``operations_share_of_unit_effort ~ N(0.1 + 0.3·g, 0.01)`` and
    ``coordinator_utilisation ~ N(0.3 + 0.4·g, 0.02)`` with g =
    ``coordination.governance_fte_per_supplier``; ``innovations_per_year ~ N(40·s, 1)`` with
    s = ``funnel.screening_pass``; ``transition_deadline_met ~ Bernoulli(s)``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication,)))
    g = sc.coordination.governance_fte_per_supplier
    s = sc.funnel.screening_pass
    return Record(kpis={
        "operations_share_of_unit_effort": float(rng.normal(0.1 + 0.3 * g, 0.01)),
        "coordinator_utilisation": float(rng.normal(0.3 + 0.4 * g, 0.02)),
        "innovations_per_year": float(rng.normal(40 * s, 1.0)),
        "transition_deadline_met": float(rng.random() < s),
    })


def dying_model(sc: Scenario, seed: int, replication: int) -> Record:
    """The worker process dies (as a segfault or the kernel's OOM killer would end it) at
    replication 3."""
    if replication == 3:
        os._exit(3)
    return pid_model(sc, seed, replication)


def printing_model(sc: Scenario, seed: int, replication: int) -> Record:
    """Writes a line to standard output and one to standard error."""
    print(f"out {replication}", flush=True)
    import sys

    print(f"err {replication}", file=sys.stderr, flush=True)
    return pid_model(sc, seed, replication)


class TwoPartError(Exception):
    """An exception that pickles but does not unpickle (its ``__init__`` wants two
    arguments, its ``args`` hold one)."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def unpicklable_error_model(sc: Scenario, seed: int, replication: int) -> Record:
    """Raises a :class:`TwoPartError` at replication 1."""
    if replication == 1:
        raise TwoPartError("model", "bug")
    return pid_model(sc, seed, replication)
