"""The work a worker does: replications of one scenario, sent as a compact task.

Replication ``i`` of a batch with seed ``S`` is ``simulate_full(sc, seed=S, replication=i)``,
whatever the backend, the worker or the chunking, so every row can be reproduced alone and
results never depend on ``-j``. One top-level, picklable function, :func:`run_task`, does the
work on every backend (in this process for ``-j 1``, in the warm pool of
:mod:`simsource.experiment.pool`, on Dask workers).

A task carries its scenario as JSON; each worker parses a scenario once and keeps it
(:func:`scenario_from_json`), so a batch of many chunks of one scenario validates it once per
worker. This module is preloaded by the fork server of the local pool: it imports the model, so
a new worker starts with the model already imported.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from simsource.model import simulate_full
from simsource.scenario import Scenario, with_overrides

KpiRow = dict[str, Any]
TsRow = dict[str, Any]
Events = list[dict[str, Any]]


class Replication(Protocol):
    """What a model returns for one replication (:class:`simsource.model.ReplicationResult`)."""

    @property
    def kpis(self) -> dict[str, float]: ...

    @property
    def timeseries(self) -> dict[str, list[float]]: ...

    @property
    def events(self) -> Events | None: ...


Model = Callable[..., Replication]


class ChunkResult(NamedTuple):
    """Rows of the replications of one task, in replication order; ``events`` holds the event
    log of each traced replication."""

    kpi_rows: list[KpiRow]
    ts_rows: list[TsRow]
    events: dict[int, Events]


@dataclass(frozen=True)
class ChunkTask:
    """A contiguous block of replications of one work item (``key``), as sent to a worker.

    ``model`` is an optional ``"module:function"`` with the signature of
    :func:`simsource.model.simulate_full` (tests, alternative models); ``trace`` lists the
    replications whose event log comes back; ``params``, when given, holds one JSON object of
    overrides per replication of ``reps`` (``""``: none) — a parameter set per replication,
    e.g. drawn from a calibration posterior.
    """

    key: int
    scenario_json: str
    seed: int
    reps: tuple[int, ...]
    model: str | None = None
    trace: tuple[int, ...] = ()
    params: tuple[str, ...] = ()


@functools.lru_cache(maxsize=32)
def scenario_from_json(scenario_json: str) -> Scenario:
    """A scenario from its JSON, parsed once per process."""
    return Scenario.model_validate_json(scenario_json)


@functools.lru_cache(maxsize=256)
def scenario_with(scenario_json: str, params_json: str) -> Scenario:
    """A scenario with one replication's overrides (JSON) applied, built once per process."""
    sc = scenario_from_json(scenario_json)
    return with_overrides(sc, json.loads(params_json)) if params_json else sc


def _simulate_full(sc: Scenario, seed: int, replication: int, trace: bool = False
                   ) -> Replication:
    return simulate_full(sc, seed=seed, replication=replication, trace=trace)


def _model(path: str | None) -> Model:
    if path is None:
        return _simulate_full
    module, _, name = path.partition(":")
    fn: Model = getattr(importlib.import_module(module), name)
    return fn


def run_task(task: ChunkTask) -> ChunkResult:
    """Run the replications of ``task``: their KPI rows, time-series rows and traced events."""
    sc = scenario_from_json(task.scenario_json)
    simulate = _model(task.model)
    kpi_rows: list[KpiRow] = []
    ts_rows: list[TsRow] = []
    events: dict[int, Events] = {}
    for k, i in enumerate(task.reps):
        traced = i in task.trace
        sc_i = scenario_with(task.scenario_json, task.params[k]) if task.params else sc
        res = simulate(sc_i, task.seed, i, True) if traced else simulate(sc_i, task.seed, i)
        kpi_rows.append({"replication": i, "seed": task.seed, **res.kpis})
        ts_rows.append({"replication": i, "seed": task.seed, **res.timeseries})
        if traced and res.events is not None:
            events[i] = res.events
    return ChunkResult(kpi_rows, ts_rows, events)


def run_chunk(scenario_json: str, seed: int, reps: Sequence[int],
              model: str | None = None) -> tuple[list[KpiRow], list[TsRow]]:
    """KPI rows and time-series rows of replications ``reps`` of a scenario (as JSON)."""
    res = run_task(ChunkTask(0, scenario_json, seed, tuple(reps), model))
    return res.kpi_rows, res.ts_rows


def ready() -> int:
    """A task that does nothing: sent once per worker to start the pool ahead of a batch."""
    import os

    return os.getpid()
