"""Running replications of a scenario for the model tests (``test_model_*.py``).

Replications run on up to two worker processes (results never depend on the number of workers)
and are cached per session. A test module that calls :func:`replicate` imports the
``_shutdown_pool`` fixture too, so the worker processes are shut down when the module is done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

import pytest

from simsource import load_scenario, simulate

Job = tuple[str, str, int, int]  # scenario name, overrides as JSON, seed, replication


@lru_cache(maxsize=64)
def _scenario(name: str, overrides: str) -> Any:
    return load_scenario(name, overrides=json.loads(overrides))


def _one(args: Job) -> dict[str, float]:
    name, overrides, seed, rep = args
    return simulate(_scenario(name, overrides), seed=seed, replication=rep)


_POOL: list[ProcessPoolExecutor] = []
_CACHE: dict[tuple[str, str, str, int, int], list[dict[str, float]]] = {}


@pytest.fixture(scope="module", autouse=True)
def _shutdown_pool() -> Iterator[None]:
    yield
    while _POOL:
        _POOL.pop().shutdown()


def replicate(name: str, overrides: dict[str, Any] | None, n: int, seed: int,
              fn: Callable[[Job], dict[str, float]] = _one) -> list[dict[str, float]]:
    """``fn`` (by default the KPIs) of replications 0..n-1 (cached, run on up to two worker
    processes); ``fn`` must be a module-level function, so worker processes can import it."""
    key = json.dumps(overrides or {}, sort_keys=True)
    cache_key = (f"{fn.__module__}.{fn.__qualname__}", name, key, n, seed)
    if cache_key not in _CACHE:
        jobs = [(name, key, seed, i) for i in range(n)]
        if (os.cpu_count() or 1) < 2:
            _CACHE[cache_key] = [fn(j) for j in jobs]
        else:
            if not _POOL:
                _POOL.append(ProcessPoolExecutor(max_workers=2))
            _CACHE[cache_key] = list(_POOL[0].map(fn, jobs))
    return _CACHE[cache_key]
