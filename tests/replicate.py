"""Running replications of a scenario for the model tests (``test_model_*.py``).

Replications run on the experiment engine (:func:`simsource.experiment.engine.replications`),
on the process's warm worker pool with up to two workers (in-process under pytest-xdist and
mutmut), and are cached per session (not under mutmut). A
``model`` other than the simulator is a ``"module:function"`` with the signature of
:func:`simsource.model.simulate_full` whose ``kpis`` are what the test wants per replication
(e.g. counts from the event log); it must live in an importable module (``tests/`` is on the
workers' path).
"""

from __future__ import annotations

import json
import os
from typing import Any

from simsource import load_scenario
from simsource.experiment.backend import make_backend
from simsource.experiment.engine import Work, replications

_CACHE: dict[tuple[str | None, str, str, int, int], list[dict[str, float]]] = {}


def under_mutmut() -> bool:
    """Whether mutmut (``make mutate``) runs the tests. It learns which test reaches which
    function from the calls *in the test process*, and a cached result hides a mutant: there,
    replications run in-process and nothing is cached from one test to the next."""
    return "MUTANT_UNDER_TEST" in os.environ


def jobs() -> int:
    """Two workers; one (in-process) under mutmut, and when pytest-xdist already runs a test
    process per core (make test-fast), where a pool per test process would only fight for the
    same cores."""
    if under_mutmut() or os.environ.get("PYTEST_XDIST_WORKER"):
        return 1
    return min(2, os.cpu_count() or 1)


def replicate(name: str, overrides: dict[str, Any] | None, n: int, seed: int,
              model: str | None = None) -> list[dict[str, float]]:
    """The KPIs (or ``model``'s) of replications 0..n-1 of a built-in scenario with
    ``overrides`` (cached)."""
    key = json.dumps(overrides or {}, sort_keys=True)
    cache_key = (model, name, key, n, seed)
    if under_mutmut():
        _CACHE.clear()
    if cache_key not in _CACHE:
        sc = load_scenario(name, overrides=json.loads(key))
        backend = make_backend("local", jobs())
        try:
            [res] = replications([Work(sc, seed, range(n))], backend, model=model)
        finally:
            backend.close()
        _CACHE[cache_key] = [{k: v for k, v in row.items() if k not in ("replication", "seed")}
                             for row in res.kpi_rows]
    return _CACHE[cache_key]
