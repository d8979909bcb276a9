"""The execution engine: every replication simsource runs goes through :func:`stream`.

A caller describes what to run as :class:`Work` items — a scenario, a root seed, the
replications wanted and which of them to trace — and gets each finished chunk back as soon as
it is done, from any backend (``-j 1`` in this process, the warm local pool, Dask)::

    >>> works = [Work(sc, seed=0, reps=range(20)), Work(other, seed=0, reps=range(20))]
    >>> for index, chunk in stream(works, backend, progress=print):    # doctest: +SKIP
    ...     rows = chunk.kpi_rows                                      # of works[index]

On top of it: :func:`~simsource.experiment.runner.run_batch` and the result store (CLI
``run``, ``compare``, ``sweep``, ``--precision``), :class:`Evaluator` (design points of
sensitivity analysis, staffing search, calibration and exploration: one KPI frame per
scenario, common random numbers), :func:`replications` (the teaching page, tests: every row,
time series and event log in memory).

Replication ``i`` of a work item with seed ``S`` is ``simulate_full(sc, S, i)``: chunking,
backend and completion order never change a number.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.worker import ChunkResult, ChunkTask, run_task

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.experiment.posterior import Posterior
    from simsource.scenario import Scenario

MAX_CHUNK = 50
#: ``progress(done, total)``: replications finished so far, out of the whole call
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Work:
    """Replications ``reps`` of ``scenario`` with root ``seed``; ``trace`` lists those whose
    event log is wanted; ``params`` maps a replication to the overrides it runs with (a
    parameter set per replication, e.g. from :mod:`simsource.experiment.posterior`)."""

    scenario: Scenario
    seed: int
    reps: Sequence[int]
    trace: Sequence[int] = ()
    params: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)


# ---- planning ----------------------------------------------------------------------------
def auto_chunk_size(total: int, workers: int) -> int:
    """Four chunks for one worker (a progress bar that moves), two per worker for several (the
    :func:`tapered` plan then splits their last ones: balance at the end, few chunks to write
    and read back), at most :data:`MAX_CHUNK` replications (what a kill can lose); the number
    of chunks is a multiple of ``workers`` and the chunks are of nearly equal size, so no
    worker is left with one more chunk than the others at the end."""
    w = max(1, workers)
    size = max(1, min(MAX_CHUNK, total // (4 if w == 1 else w * 2)))
    chunks = math.ceil(math.ceil(total / size) / w) * w
    return max(1, math.ceil(total / chunks))


def blocks(reps: Iterable[int], size: int) -> Iterator[tuple[int, ...]]:
    """Contiguous runs of sorted ``reps``, cut into blocks of at most ``size``."""
    block: list[int] = []
    for i in sorted(reps):
        if block and (i != block[-1] + 1 or len(block) >= size):
            yield tuple(block)
            block = []
        block.append(i)
    if block:
        yield tuple(block)


def plan_tasks(works: Sequence[Work], chunk_size: int, model: str | None = None,
               taper: int = 0) -> list[ChunkTask]:
    """Chunks of every work item, ordered by replication so parallel items progress
    together. ``taper`` (the workers, for an automatic plan): the last chunks are split, so
    the batch ends on small ones (:func:`tapered`)."""
    planned = sorted(((b[0], key, b) for key, work in enumerate(works)
                      for b in blocks(work.reps, chunk_size)))
    order = [(key, b) for _, key, b in planned]
    if taper > 1:
        order = tapered(order, taper)
    made: dict[int, tuple[str, set[int]]] = {}
    tasks = []
    for key, b in order:
        work = works[key]
        if key not in made:
            made[key] = (work.scenario.model_dump_json(), set(work.trace))
        js, trace = made[key]
        tasks.append(ChunkTask(key, js, work.seed, b, model, tuple(i for i in b if i in trace),
                               _params_json(work.params, b)))
    return tasks


def tapered(order: list[tuple[int, tuple[int, ...]]], workers: int, rounds: int = 3
            ) -> list[tuple[int, tuple[int, ...]]]:
    """Split the last ``workers`` blocks in halves, first halves first, ``rounds`` times: the
    workers' last chunks are an eighth of the others, so the one that finishes first waits
    little for the other (the tail of a batch; "guided" self-scheduling, Polychronopoulos and
    Kuck 1987). Adds at most ``rounds x workers`` chunks, whatever the batch's size."""
    for _ in range(rounds):
        last = order[-workers:]
        if len(last) < workers or any(len(b) < 2 for _, b in last):
            break
        firsts = [(k, b[:(len(b) + 1) // 2]) for k, b in last]
        seconds = [(k, b[(len(b) + 1) // 2:]) for k, b in last]
        order = order[:-workers] + firsts + seconds
    return order


def _params_json(params: Mapping[int, Mapping[str, Any]], reps: Sequence[int]
                 ) -> tuple[str, ...]:
    """One JSON object of overrides per replication (``""`` for none); ``()`` when no
    replication of the block has any."""
    if not params or not any(params.get(i) for i in reps):
        return ()
    return tuple(json.dumps(dict(params[i]), sort_keys=True) if params.get(i) else ""
                 for i in reps)


# ---- running -----------------------------------------------------------------------------
def stream(works: Sequence[Work], backend: Backend, *, chunk_size: int | None = None,
           model: str | None = None, progress: Progress | None = None
           ) -> Iterator[tuple[int, ChunkResult]]:
    """Run every work item's replications on ``backend``; yield ``(index of the work item,
    chunk)`` as each chunk completes (any order). ``model`` is an optional ``"module:function"``
    with the signature of :func:`simsource.model.simulate_full`. Closing the iterator early, an
    error or Ctrl-C cancels what has not run."""
    total = sum(len(w.reps) for w in works)
    if total == 0:
        return
    size = chunk_size or auto_chunk_size(total, backend.jobs)
    done = 0
    taper = backend.jobs if chunk_size is None else 0
    results = backend.map_chunks(run_task, plan_tasks(works, size, model, taper))
    with contextlib.closing(results):  # type: ignore[type-var]
        for task, result in results:
            done += len(task.reps)
            yield task.key, result
            if progress is not None:
                progress(done, total)


def replications(works: Sequence[Work], backend: Backend, *, chunk_size: int | None = None,
                 model: str | None = None, progress: Progress | None = None
                 ) -> list[ChunkResult]:
    """Every work item's replications, gathered: one :class:`ChunkResult` per item with its
    rows sorted by replication."""
    kpis: list[list[dict[str, Any]]] = [[] for _ in works]
    ts: list[list[dict[str, Any]]] = [[] for _ in works]
    events: list[dict[int, Any]] = [{} for _ in works]
    for key, chunk in stream(works, backend, chunk_size=chunk_size, model=model,
                             progress=progress):
        kpis[key] += chunk.kpi_rows
        ts[key] += chunk.ts_rows
        events[key].update(chunk.events)

    def order(row: dict[str, Any]) -> int:
        return int(row["replication"])

    return [ChunkResult(sorted(k, key=order), sorted(t, key=order), e)
            for k, t, e in zip(kpis, ts, events, strict=True)]


def progress_bar(total: int, done: int = 0, desc: str = "", enabled: bool = True) -> Any:
    """A tqdm bar on stderr (replications, ETA, rate); inert when not ``enabled``."""
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="rep", desc=desc or None, file=sys.stderr,
                disable=not enabled, dynamic_ncols=True, smoothing=0.05)


# ---- design points -----------------------------------------------------------------------
def kpi_frame(scenario: str, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """KPI rows as the frame :func:`~simsource.experiment.runner.run_batch` returns."""
    from simsource.experiment.chunks import kpi_table

    ordered = sorted(rows, key=lambda r: int(r["replication"]))
    frame: pd.DataFrame = kpi_table(scenario, ordered).to_pandas()
    return frame


class Evaluator:
    """Design points for sensitivity analysis, staffing, calibration and exploration: calling
    it with scenarios, ``replications`` and a seed returns one KPI frame per scenario (rows
    ``0..replications-1``, the same seed everywhere: common random numbers).

    One backend stays open across calls, with one tqdm bar on stderr whose total grows with
    each call (or is ``total`` from the start, for work of known size). With ``posterior``
    (:class:`~simsource.experiment.posterior.Posterior`), replication ``i`` of every scenario
    runs with the parameter set drawn for ``(seed, i)``, except the keys in ``keep`` (those the
    caller varies itself). Use as a context manager.
    """

    def __init__(self, jobs: int | None = None, *, progress: bool = False, desc: str = "",
                 backend: str | Backend = "local", model: str | None = None,
                 posterior: Posterior | None = None, keep: Sequence[str] = (),
                 total: int | None = None) -> None:
        from simsource.experiment.backend import make_backend

        # a backend given by name is ours to close; a ready one (e.g. on a Dask scheduler the
        # caller connected to) stays the caller's
        self._own_backend = isinstance(backend, str)
        self.backend: Backend = make_backend(backend, jobs) if isinstance(backend, str) \
            else backend
        self.model = model
        self.posterior = posterior
        self.keep = tuple(keep)
        self.bar = progress_bar(total or 0, 0, desc, progress)
        self.simulations = 0

    def __call__(self, scenarios: Sequence[Scenario], replications: int,
                 seed: int) -> list[pd.DataFrame]:
        if replications < 1:
            raise UserError(f"replications: must be at least 1, got {replications}")
        post = self.posterior
        works = [Work(sc, seed, range(replications),
                      params=post.params_for(sc, seed, range(replications), self.keep)
                      if post is not None else {})
                 for sc in scenarios]
        rows: list[list[dict[str, Any]]] = [[] for _ in works]
        needed = self.bar.n + len(works) * replications
        if needed > (self.bar.total or 0):
            self.bar.total = needed
        self.bar.refresh()
        for key, chunk in stream(works, self.backend, model=self.model):
            rows[key] += chunk.kpi_rows
            self.bar.update(len(chunk.kpi_rows))
        self.simulations += len(works) * replications
        return [kpi_frame(sc.name, r) for sc, r in zip(scenarios, rows, strict=True)]

    def close(self) -> None:
        self.bar.close()
        if self._own_backend:
            self.backend.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def kpi_names(sc: Scenario) -> list[str]:
    """The KPI names the model reports for ``sc`` (from one very short replication, run here,
    remembered per supplier set and switches; to check a ``--kpi`` before a long run)."""
    from simsource.scenario import with_overrides

    days = sc.scenario.working_days_per_year
    short = with_overrides(sc, {"scenario.years": 20.0 / days, "scenario.warmup_years": 0.0,
                                "transition.enabled": False})
    return list(_kpi_names(short.model_dump_json()))


@functools.lru_cache(maxsize=8)
def _kpi_names(scenario_json: str) -> tuple[str, ...]:
    from simsource.experiment.worker import run_chunk

    kpi_rows, _ = run_chunk(scenario_json, 0, [0])
    return tuple(k for k in kpi_rows[0] if k not in ("replication", "seed"))
