"""Running the teaching page's settings on the experiment engine, fast and in steps.

Replication ``i`` of a setting with root seed ``S`` is ``simulate_full(sc, S, i)`` — the same
numbers as ``simsource run FILE -n N --seed S`` — so two settings run with the same seed share
their random numbers (common random numbers) and a paired difference is fair.

* The page calls :func:`warm_up` when it loads: the process's warm worker pool
  (:mod:`simsource.experiment.pool`) starts in the background, so pressing **Run** finds the
  model imported in every worker.
* :func:`run_settings` runs the baseline and the current setting together in one stream of
  small chunks and reports each partial result (replications so far) through a callback, so
  the page shows the first numbers after the first chunks and fills in as the rest finish.
* Replications already run are kept (:class:`ReplicationCache`, shared by every session of
  the server): a setting run before comes back at once, and asking for more replications runs
  only the new ones.
* Served with ``simsource app --posterior DIR`` (environment variable
  :data:`~simsource.experiment.posterior.POSTERIOR_ENV`), replication ``i`` of every setting
  draws its calibrated parameters from that posterior (:mod:`simsource.experiment.posterior`),
  as ``run --posterior`` does, so the page's intervals include parameter uncertainty.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simsource.experiment import pool
from simsource.experiment.backend import default_jobs, using_backend
from simsource.experiment.engine import Work, stream
from simsource.experiment.posterior import POSTERIOR_ENV, Posterior
from simsource.experiment.worker import ChunkResult
from simsource.scenario import Scenario

#: replications per chunk: one, so the first results come back as soon as possible (a task
#: costs the warm pool about a millisecond; a replication a few hundred)
CHUNK = 1
#: settings whose replications are kept in memory
CACHED_SETTINGS = 64


@functools.lru_cache(maxsize=1)
def posterior() -> Posterior | None:
    """The posterior the page was served with (``simsource app --posterior DIR``), or None."""
    folder = os.environ.get(POSTERIOR_ENV)
    return Posterior.load(folder) if folder else None


@dataclass(frozen=True)
class BatchResult:
    """``n`` replications of one setting with root seed ``seed`` (``n`` may be a partial count
    while a run is under way)."""

    seed: int
    n: int
    kpis: pd.DataFrame          # one row per replication (index = replication)
    timeseries: pd.DataFrame    # mean over replications, one row per month
    events: list[dict[str, Any]]  # event log of replication 0
    seconds: float
    warmup_days: float
    horizon_days: float

    def mean(self, kpi: str) -> float:
        if kpi not in self.kpis:
            return math.nan
        col = self.kpis[kpi].to_numpy(dtype=np.float64)
        col = col[~np.isnan(col)]
        return float(col.mean()) if col.size else math.nan


@dataclass(frozen=True)
class Replication:
    """One replication's KPIs, monthly series and (replication 0 only) event log."""

    kpis: dict[str, float]
    timeseries: dict[str, list[float]]
    events: list[dict[str, Any]] | None


# ---- workers -------------------------------------------------------------------------------
def app_jobs() -> int:
    """Worker processes: ``SIMSOURCE_APP_JOBS`` or the number of cores (at most 8)."""
    env = os.environ.get("SIMSOURCE_APP_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, default_jobs()))


def warm_up(jobs: int | None = None) -> None:
    """Start the warm pool's workers in the background (once per server process)."""
    jobs = app_jobs() if jobs is None else jobs
    live = pool.current()
    if jobs > 1 and (live is None or live.size < jobs):
        pool.warm_up(jobs)


# ---- the cache -----------------------------------------------------------------------------
class ReplicationCache:
    """Replications by (setting as JSON, seed, replication), for the last
    :data:`CACHED_SETTINGS` settings; safe to use from the server's threads."""

    def __init__(self, settings: int = CACHED_SETTINGS) -> None:
        self.settings = settings
        self._data: OrderedDict[tuple[str, int], dict[int, Replication]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, setting: str, seed: int) -> dict[int, Replication]:
        with self._lock:
            reps = self._data.get((setting, seed))
            if reps is None:
                return {}
            self._data.move_to_end((setting, seed))
            return dict(reps)

    def put(self, setting: str, seed: int, new: dict[int, Replication]) -> None:
        with self._lock:
            self._data.setdefault((setting, seed), {}).update(new)
            self._data.move_to_end((setting, seed))
            while len(self._data) > self.settings:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


CACHE = ReplicationCache()


def _replications(chunk: ChunkResult) -> dict[int, Replication]:
    ids = ("replication", "seed")
    out = {}
    for k, t in zip(chunk.kpi_rows, chunk.ts_rows, strict=True):
        i = int(k["replication"])
        out[i] = Replication({n: v for n, v in k.items() if n not in ids},
                             {n: v for n, v in t.items() if n not in ids},
                             chunk.events.get(i))
    return out


def assemble(sc: Scenario, seed: int, reps: dict[int, Replication],
             seconds: float = 0.0) -> BatchResult:
    """One :class:`BatchResult` from replications (any subset, any order)."""
    order = sorted(reps)
    kpis = pd.DataFrame([reps[i].kpis for i in order],
                        index=pd.Index(order, name="replication"))
    if order:
        ts_all = pd.concat([pd.DataFrame(reps[i].timeseries) for i in order])
        ts = ts_all.groupby("month", sort=True).mean().reset_index()
    else:
        ts = pd.DataFrame()
    events = [e for i in order if reps[i].events is not None for e in reps[i].events or []]
    return BatchResult(seed=seed, n=len(order), kpis=kpis, timeseries=ts, events=events,
                       seconds=seconds, warmup_days=sc.warmup_days, horizon_days=sc.horizon_days)


# ---- running -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Partial:
    """Where a run stands: ``done`` of ``total`` replications to run are finished;
    :meth:`results` assembles the results so far (only when asked: it costs a few ms)."""

    done: int
    total: int
    make: Callable[[], list[BatchResult | None]]

    def results(self) -> list[BatchResult | None]:
        """One result per setting (None while a setting has no replication yet)."""
        return self.make()


Update = Callable[[Partial], None]
Progress = Callable[[int, int], None]


def run_settings(settings: Sequence[Scenario], seed: int, n: int, *, jobs: int | None = None,
                 on_update: Update | None = None, cache: ReplicationCache = CACHE,
                 posterior: Posterior | None = None) -> list[BatchResult]:
    """Replications ``0..n-1`` of every setting with root ``seed`` (replication 0 traced),
    reusing cached ones; identical settings run once. ``on_update`` gets a :class:`Partial`
    after every chunk (and once at the start if anything was cached). With ``posterior``,
    replication ``i`` uses the parameter set drawn for ``(seed, i)``."""
    if n < 1:
        raise ValueError(f"replications must be at least 1, got {n}")
    t0 = time.perf_counter()
    tag = f"|posterior:{posterior.digest}" if posterior is not None else ""
    keys = [sc.model_dump_json() + tag for sc in settings]
    have = {key: {i: r for i, r in cache.get(key, seed).items() if i < n}
            for key in dict.fromkeys(keys)}
    unique = list(have)
    first = {key: settings[keys.index(key)] for key in unique}
    missing = {key: [i for i in range(n) if i not in have[key]] for key in unique}
    todo_keys = [key for key in unique if missing[key]]
    works = [Work(first[key], seed, missing[key], trace=(0,),
                  params=posterior.params_for(first[key], seed, missing[key])
                  if posterior is not None else {})
             for key in todo_keys]
    todo = sum(len(w.reps) for w in works)

    def results() -> list[BatchResult | None]:
        elapsed = time.perf_counter() - t0
        return [assemble(sc, seed, have[key], elapsed) if have[key] else None
                for sc, key in zip(settings, keys, strict=True)]

    if on_update is not None and todo and any(have.values()):
        on_update(Partial(0, todo, results))
    if todo:
        done = 0
        with using_backend("local", app_jobs() if jobs is None else max(1, jobs)) as be:
            for index, chunk in stream(works, be, chunk_size=CHUNK):
                key = todo_keys[index]
                new = _replications(chunk)
                have[key].update(new)
                cache.put(key, seed, new)
                done += len(new)
                if on_update is not None:
                    on_update(Partial(done, todo, results))
    final = results()
    return [r for r in final if r is not None]


def run_setting(sc: Scenario, seed: int, n: int, *, jobs: int | None = None,
                progress: Progress | None = None,
                cache: ReplicationCache = CACHE) -> BatchResult:
    """Replications ``0..n-1`` of one setting (see :func:`run_settings`); ``progress(done,
    total)`` after every chunk."""
    def update(p: Partial) -> None:
        if progress is not None and p.done:
            progress(p.done, p.total)

    [res] = run_settings([sc], seed, n, jobs=jobs, on_update=update, cache=cache)
    return res
