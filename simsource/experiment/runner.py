"""Run batches of replications on any backend and stream them into results folders.

Replication ``i`` of a batch with seed ``S`` is ``simulate_full(sc, seed=S, replication=i)``,
whatever the backend, the number of workers or the chunking, so every row can be reproduced
alone and results never depend on ``-j``. One top-level function, :func:`run_chunk`, does the
work on every backend (in this process for ``-j 1``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from simsource.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.model import ReplicationResult
    from simsource.scenario import Scenario

KpiRow = dict[str, Any]
TsRow = dict[str, Any]
ChunkResult = tuple[list[KpiRow], list[TsRow]]
MAX_CHUNK = 50


# ---- the work, on any worker ---------------------------------------------------------------------
def _simulate_full(sc: Scenario, seed: int, replication: int) -> ReplicationResult:
    from simsource.model import simulate_full

    return simulate_full(sc, seed=seed, replication=replication, trace=False)


@functools.lru_cache(maxsize=16)
def _scenario(scenario_json: str) -> Scenario:
    from simsource.scenario import Scenario

    return Scenario.model_validate_json(scenario_json)


def _model(path: str | None) -> Callable[[Scenario, int, int], ReplicationResult]:
    if path is None:
        return _simulate_full
    module, _, name = path.partition(":")
    fn: Callable[[Scenario, int, int], ReplicationResult] = getattr(
        importlib.import_module(module), name)
    return fn


def run_chunk(scenario_json: str, seed: int, reps: list[int],
              model: str | None = None) -> ChunkResult:
    """Run replications ``reps`` of a scenario (as JSON): KPI rows and time-series rows.

    ``model`` is an optional ``"module:function"`` with the signature of
    :func:`simsource.model.simulate_full` (for tests and alternative models).
    """
    sc = _scenario(scenario_json)
    simulate = _model(model)
    kpi_rows: list[KpiRow] = []
    ts_rows: list[TsRow] = []
    for i in reps:
        res = simulate(sc, seed, i)
        kpi_rows.append({"replication": i, "seed": seed, **res.kpis})
        ts_rows.append({"replication": i, "seed": seed, **res.timeseries})
    return kpi_rows, ts_rows


@dataclass(frozen=True)
class ChunkTask:
    """A contiguous block of replications of one job (``key``), as sent to a worker."""

    key: int
    scenario_json: str
    seed: int
    reps: tuple[int, ...]
    model: str | None = None


def run_task(task: ChunkTask) -> ChunkResult:
    return run_chunk(task.scenario_json, task.seed, list(task.reps), task.model)


# ---- where results go ------------------------------------------------------------------------
class Sink(Protocol):
    def write(self, kpi_rows: Sequence[KpiRow], ts_rows: Sequence[TsRow]) -> None: ...


class MemorySink:
    """Keeps KPI rows in memory (time series dropped) for ``run_batch`` without ``out``."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.rows: list[KpiRow] = []

    def write(self, kpi_rows: Sequence[KpiRow], ts_rows: Sequence[TsRow]) -> None:
        self.rows.extend(kpi_rows)

    def frame(self) -> pd.DataFrame:
        from simsource.experiment.chunks import kpi_table

        rows = sorted(self.rows, key=lambda r: int(r["replication"]))
        df: pd.DataFrame = kpi_table(self.scenario, rows).to_pandas()
        return df


@dataclass
class Job:
    """Replications ``reps`` of ``sc`` with ``seed``, results into ``sink``."""

    sink: Sink
    sc: Scenario
    seed: int
    reps: list[int]


def auto_chunk_size(total: int, workers: int) -> int:
    """About four chunks per worker (load balance and a progress bar that moves, while each
    chunk's write stays a small share of the batch), at most 50 replications (what a kill can
    lose)."""
    return max(1, min(MAX_CHUNK, total // (max(1, workers) * 4)))


def _blocks(reps: Sequence[int], size: int) -> Iterator[tuple[int, ...]]:
    """Contiguous runs of sorted ``reps``, cut into blocks of at most ``size``."""
    block: list[int] = []
    for i in sorted(reps):
        if block and (i != block[-1] + 1 or len(block) >= size):
            yield tuple(block)
            block = []
        block.append(i)
    if block:
        yield tuple(block)


def plan_tasks(jobs: Sequence[Job], chunk_size: int, model: str | None = None) -> list[ChunkTask]:
    """Chunks of every job, ordered by replication so parallel jobs progress together."""
    tasks = []
    for key, job in enumerate(jobs):
        js = job.sc.model_dump_json()
        tasks += [ChunkTask(key, js, job.seed, b, model) for b in _blocks(job.reps, chunk_size)]
    return sorted(tasks, key=lambda t: (t.reps[0], t.key))


def progress_bar(total: int, done: int = 0, desc: str = "", enabled: bool = True) -> Any:
    """A tqdm bar on stderr (replications, ETA, rate); inert when not ``enabled``."""
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="rep", desc=desc or None, file=sys.stderr,
                disable=not enabled, dynamic_ncols=True, smoothing=0.05)


def execute(jobs: Sequence[Job], backend: Backend, bar: Any, *, chunk_size: int | None = None,
            model: str | None = None) -> None:
    """Run every job's replications on ``backend``, writing each chunk to its sink on arrival
    and advancing ``bar``. On any error or Ctrl-C the completed chunks are already stored; the
    rest is cancelled."""
    total = sum(len(j.reps) for j in jobs)
    if total == 0:
        return
    size = chunk_size or auto_chunk_size(total, backend.jobs)
    tasks = plan_tasks(jobs, size, model)
    with contextlib.closing(backend.map_chunks(run_task, tasks)) as results:  # type: ignore[type-var]
        for task, (kpi_rows, ts_rows) in results:
            jobs[task.key].sink.write(kpi_rows, ts_rows)
            bar.update(len(task.reps))


def check_replications(n: int) -> None:
    if n < 1:
        raise UserError(f"-n/--replications: must be at least 1, got {n}")
    from simsource.experiment.limits import check_replications as within_limits

    within_limits(n)  # at most MAX_REPLICATIONS: memory stays flat


# ---- the Python API --------------------------------------------------------------------------
def run_batch(sc: Scenario, replications: int, seed: int = 0, jobs: int | None = None,
              out: Path | str | None = None, progress: bool = False, *,
              overwrite: bool = False, backend: str | Backend = "local",
              chunk_size: int | None = None,
              command: str | None = None, model: str | None = None,
              warn: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run replications ``0..replications-1`` of ``sc``; one KPI row each, sorted by replication.

    With ``out``, results go to that folder (docs/results-format.md): chunks already there are
    verified and kept (resume, or extend to more replications); a folder holding another
    scenario or seed is refused unless ``overwrite``. ``jobs=None`` uses every core.
    ``backend`` is a name (``"local"``, ``"dask"``) or a ready :class:`Backend` instance.

    With ``jobs > 1`` worker processes import the calling script again, so a script must guard
    its top level with ``if __name__ == "__main__":`` (notebooks need nothing).
    """
    from simsource.experiment.backend import using_backend
    from simsource.experiment.store import ResultStore

    check_replications(replications)
    with using_backend(backend, jobs) as be:
        if out is None:
            sink = MemorySink(sc.name)
            with progress_bar(replications, 0, sc.name, progress) as bar:
                execute([Job(sink, sc, seed, list(range(replications)))], be, bar,
                        chunk_size=chunk_size, model=model)
            return sink.frame()
        with ResultStore.open(Path(out), sc, seed, requested=replications, overwrite=overwrite,
                              backend=be.name, jobs=be.jobs, command=command, warn=warn) as store:
            todo = store.missing(replications)
            with progress_bar(replications, replications - len(todo), sc.name, progress) as bar:
                execute([Job(store, sc, seed, todo)], be, bar, chunk_size=chunk_size,
                        model=model)
            return store.finalize(replications)


def run_stores(items: Sequence[tuple[Scenario, Path]], replications: int, seed: int,
               backend: Backend, *, progress: bool = False, desc: str = "",
               overwrite: bool = False, command: str | None = None,
               chunk_size: int | None = None, model: str | None = None,
               warn: Callable[[str], None] | None = None,
               batch: int = 64) -> list[pd.DataFrame]:
    """Run several scenarios (same seed: common random numbers) into their folders, sharing one
    pool; returns each folder's KPI frame, in order. At most ``batch`` folders are open at once."""
    from simsource.experiment.store import ResultStore

    check_replications(replications)
    frames: list[pd.DataFrame] = []
    with progress_bar(len(items) * replications, 0, desc, progress) as bar:
        for start in range(0, len(items), batch):
            with contextlib.ExitStack() as stack:
                stores = [stack.enter_context(ResultStore.open(
                    path, sc, seed, requested=replications, overwrite=overwrite,
                    backend=backend.name, jobs=backend.jobs, command=command, warn=warn))
                    for sc, path in items[start:start + batch]]
                jobs = [Job(s, s.sc, seed, s.missing(replications)) for s in stores]
                ready = len(stores) * replications - sum(len(j.reps) for j in jobs)
                if ready:
                    bar.update(ready)
                execute(jobs, backend, bar, chunk_size=chunk_size, model=model)
                frames += [s.finalize(replications) for s in stores]
    return frames
