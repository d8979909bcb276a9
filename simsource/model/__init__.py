"""The SimPy world (MODEL.md §2–§7): one module per actor, one entry point.

The model never imports the CLI, experiments, analysis or plotting. Its hot modules run
compiled when ``make`` has built them from this very source (:mod:`simsource.model.native`),
else as Python: the same numbers either way.
"""

from __future__ import annotations

from simsource.model import native

native.install()   # the compiled modules, when built from exactly this source (model/native.py)

from simsource.model.world import ReplicationResult, World  # noqa: E402
from simsource.scenario.schema import Scenario  # noqa: E402


def simulate_full(sc: Scenario, seed: int = 0, replication: int = 0,
                  trace: bool = False) -> ReplicationResult:
    """Run one replication: KPIs, monthly time series and (with ``trace``) the event log.

    All randomness comes from ``SeedSequence(seed, spawn_key=(replication,))`` and named child
    streams per stochastic activity, never from global state.
    """
    return World(sc, seed, replication, trace=trace).run()


def simulate(sc: Scenario, seed: int = 0, replication: int = 0,
             trace: bool = False) -> dict[str, float]:
    """KPIs of one replication (see :func:`simulate_full`)."""
    return simulate_full(sc, seed, replication, trace).kpis


__all__ = ["ReplicationResult", "World", "simulate", "simulate_full"]
