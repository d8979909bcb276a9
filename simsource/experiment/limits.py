"""Limits on the size of a batch, checked before anything runs, so that memory stays flat and a
typo (``-n 1000000000``, ``--vary x=8:30:1e-9``, ``--lhs 1e8``) is one clear line, not a hang.

* replications per scenario or design point: at most :data:`MAX_REPLICATIONS`;
* design points of a sweep (grid, factorial or Latin hypercube): at most :data:`MAX_POINTS`,
  counted *before* the design is built;
* seeds: ``0 ≤ seed < 2**63`` (numpy's ``SeedSequence`` takes no negative seed; the results
  files store seeds as 64-bit integers);
* the expected work of one replication: :func:`simsource.scenario.workload.check_workload`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from simsource.errors import UserError

if TYPE_CHECKING:
    from simsource.scenario import Scenario

MAX_REPLICATIONS = 100_000
MAX_POINTS = 10_000
MAX_SEED = 2**63 - 1


def check_replications(n: int, option: str = "-n/--replications") -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise UserError(f"{option}: must be a whole number, got {n!r}")
    if n < 1:
        raise UserError(f"{option}: must be at least 1, got {n}")
    if n > MAX_REPLICATIONS:
        raise UserError(f"{option}: at most {MAX_REPLICATIONS:,} replications, got {n:,} "
                        "(the confidence intervals stop narrowing long before)")


def check_points(count: float, where: str,
                 hint: str = "use a coarser step or a Latin hypercube, --lhs K") -> None:
    """A design of ``count`` points (counted before it is built)."""
    if count > MAX_POINTS:
        raise UserError(f"{where}: {count:,.0f} design points; at most {MAX_POINTS:,} ({hint})")


def check_seed(seed: int, option: str = "--seed") -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UserError(f"{option}: must be a whole number from 0 to 2**63 - 1, got {seed}")


def check_workloads(scenarios: Iterable[Scenario], max_events: float | None) -> None:
    """Every scenario's expected events per replication within ``max_events`` (None: the
    default limit; 0 or less: no limit)."""
    from simsource.scenario.workload import DEFAULT_MAX_EVENTS, check_workload

    limit = DEFAULT_MAX_EVENTS if max_events is None else max_events
    if limit <= 0:
        return
    for sc in scenarios:
        check_workload(sc, limit)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def warn_jobs(jobs: int | None, warn: Callable[[str], None]) -> None:
    """A warning when more worker processes are asked for than there are cores."""
    n = cores()
    if jobs is not None and jobs > n:
        warn(f"-j {jobs} is more than the {n} cores this process may use; the extra workers "
             "only compete for them (results are the same)")
