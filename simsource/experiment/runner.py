"""Run batches of replications into results folders (or memory), on any backend.

The replications run on :func:`simsource.experiment.engine.stream`, the one engine of
simsource; this module adds the sinks they are written to (a :class:`ResultStore` folder, or
memory) and the Python API :func:`run_batch`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from simsource.errors import UserError
from simsource.experiment.engine import (
    MAX_CHUNK,
    Work,
    auto_chunk_size,
    kpi_frame,
    plan_tasks,
    progress_bar,
    stream,
)
from simsource.experiment.worker import ChunkResult, ChunkTask, run_chunk, run_task

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.experiment.posterior import Posterior
    from simsource.experiment.store import ResultStore
    from simsource.scenario import Scenario

__all__ = [
    "MAX_CHUNK", "ChunkResult", "ChunkTask", "Job", "MemorySink", "auto_chunk_size",
    "execute", "plan_tasks", "progress_bar", "run_batch", "run_chunk", "run_stores", "run_task",
]  # fmt: skip

KpiRow = dict[str, Any]
TsRow = dict[str, Any]


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
        return kpi_frame(self.scenario, self.rows)


@dataclass
class Job:
    """Replications ``reps`` of ``sc`` with ``seed``, results into ``sink``; ``params`` maps a
    replication to the overrides it runs with (a posterior's parameter set)."""

    sink: Sink
    sc: Scenario
    seed: int
    reps: list[int]
    params: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)


#: What finalizing a folder imports beyond writing chunks: scipy and pandas (with
#: pyarrow.compute), for the summary (about 0.3-0.7 s; pyarrow also imports pandas when the
#: first chunk is converted). With worker processes they are imported in a thread of this
#: process while the workers compute, so the first task is not kept waiting for them
#: (tests/test_model_imports.py: importing what a batch command needs does not import them).
FINALIZE_IMPORTS = ("simsource.stats",)


def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):  # the finalize imports it again and reports it
            importlib.import_module(name)


def import_meanwhile(modules: Sequence[str]) -> threading.Thread | None:
    """Import ``modules`` in a background thread (None if they are all imported already)."""
    missing = [m for m in modules if m not in sys.modules]
    if not missing:
        return None
    thread = threading.Thread(target=_import_all, args=(missing,), name="simsource-import",
                              daemon=True)
    thread.start()
    return thread


def execute(jobs: Sequence[Job], backend: Backend, bar: Any, *, chunk_size: int | None = None,
            model: str | None = None, done: Callable[[int], None] | None = None) -> None:
    """Run every job's replications on ``backend``, writing each chunk to its sink on arrival
    and advancing ``bar``; ``done(i)`` is called as soon as job ``i`` has all its replications
    (while the workers go on with the others). On any error or Ctrl-C the completed chunks are
    already stored; the rest is cancelled. When the replications run elsewhere (``jobs > 1``),
    what finalizing needs is imported meanwhile (:data:`FINALIZE_IMPORTS`), and that is over
    before ``done`` is called and before this returns, on an error too (a thread left importing
    scipy while the interpreter shuts down could crash it)."""
    works = [Work(j.sc, j.seed, j.reps, params=j.params) for j in jobs]
    left = [len(j.reps) for j in jobs]
    importing = import_meanwhile(FINALIZE_IMPORTS) if backend.jobs > 1 else None
    try:
        for key, chunk in stream(works, backend, chunk_size=chunk_size, model=model):
            jobs[key].sink.write(chunk.kpi_rows, chunk.ts_rows)
            bar.update(len(chunk.kpi_rows))
            left[key] -= len(chunk.kpi_rows)
            if left[key] == 0 and done is not None:
                if importing is not None:
                    importing.join()
                done(key)
    finally:
        if importing is not None:
            importing.join()


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
              warn: Callable[[str], None] | None = None,
              posterior: Posterior | None = None) -> pd.DataFrame:
    """Run replications ``0..replications-1`` of ``sc``; one KPI row each, sorted by replication.

    With ``out``, results go to that folder (docs/results-format.md): chunks already there are
    verified and kept (resume, or extend to more replications); a folder holding another
    scenario or seed is refused unless ``overwrite``. ``jobs=None`` uses every core.
    ``backend`` is a name (``"local"``, ``"dask"``) or a ready :class:`Backend` instance.

    With ``posterior`` (:class:`~simsource.experiment.posterior.Posterior`), replication ``i``
    runs with the parameter set drawn for ``(seed, i)``: the results include parameter
    uncertainty, and the folder records which set each replication used
    (``parameters.parquet``).

    With ``jobs > 1`` worker processes import the calling script again, so a script must guard
    its top level with ``if __name__ == "__main__":`` (notebooks need nothing).
    """
    from simsource.experiment.backend import using_backend
    from simsource.experiment.store import ResultStore

    check_replications(replications)
    if posterior is not None:
        posterior.check(sc, seed, range(replications))
    with using_backend(backend, jobs) as be:
        if out is None:
            sink = MemorySink(sc.name)
            reps = list(range(replications))
            with progress_bar(replications, 0, sc.name, progress) as bar:
                execute([Job(sink, sc, seed, reps, _params(posterior, sc, seed, reps))], be,
                        bar, chunk_size=chunk_size, model=model)
            return sink.frame()
        with ResultStore.open(Path(out), sc, seed, requested=replications, overwrite=overwrite,
                              backend=be.name, jobs=be.jobs, command=command, warn=warn,
                              posterior=posterior) as store:
            todo = store.missing(replications)
            with progress_bar(replications, replications - len(todo), sc.name, progress) as bar:
                execute([Job(store, sc, seed, todo, _params(posterior, sc, seed, todo))], be,
                        bar, chunk_size=chunk_size, model=model)
            return store.finalize(replications)


def _params(posterior: Posterior | None, sc: Scenario, seed: int, reps: Sequence[int],
            keep: Sequence[str] = ()) -> dict[int, dict[str, Any]]:
    return {} if posterior is None else posterior.params_for(sc, seed, reps, keep)
def _finalize(stores: Sequence[ResultStore], n: int, out: dict[int, pd.DataFrame],
              k: int) -> None:
    """Finalize folder ``k`` (as soon as its replications are in) into ``out[k]``."""
    out[k] = stores[k].finalize(n)


def run_stores(items: Sequence[tuple[Scenario, Path]], replications: int, seed: int,
               backend: Backend, *, progress: bool = False, desc: str = "",
               overwrite: bool = False, command: str | None = None,
               chunk_size: int | None = None, model: str | None = None,
               warn: Callable[[str], None] | None = None,
               batch: int = 64, posterior: Posterior | None = None,
               keep: Sequence[str] = ()) -> list[pd.DataFrame]:
    """Run several scenarios (same seed: common random numbers) into their folders, sharing one
    pool; returns each folder's KPI frame, in order. At most ``batch`` folders are open at once;
    each is finalized as soon as its replications are in, while the workers run the others.
    With ``posterior``, replication ``i`` of every scenario uses the parameter set drawn for
    ``(seed, i)`` (except the keys in ``keep``); the sets are checked against the first scenario
    of each name (a sweep's points share one)."""
    from simsource.experiment.store import ResultStore

    check_replications(replications)
    if posterior is not None:
        for sc in {sc.name: sc for sc, _ in reversed(items)}.values():
            posterior.check(sc, seed, range(replications), keep)
    frames: list[pd.DataFrame] = []
    with progress_bar(len(items) * replications, 0, desc, progress) as bar:
        for start in range(0, len(items), batch):
            with contextlib.ExitStack() as stack:
                stores = [stack.enter_context(ResultStore.open(
                    path, sc, seed, requested=replications, overwrite=overwrite,
                    backend=backend.name, jobs=backend.jobs, command=command, warn=warn,
                    posterior=posterior, keep=keep))
                    for sc, path in items[start:start + batch]]
                jobs = [Job(s, s.sc, seed, todo, _params(posterior, s.sc, seed, todo, keep))
                        for s in stores for todo in [s.missing(replications)]]
                ready = len(stores) * replications - sum(len(j.reps) for j in jobs)
                if ready:
                    bar.update(ready)
                finished: dict[int, pd.DataFrame] = {}
                finish = functools.partial(_finalize, stores, replications, finished)
                for k, job in enumerate(jobs):
                    if not job.reps:
                        finish(k)
                execute(jobs, backend, bar, chunk_size=chunk_size, model=model, done=finish)
                frames += [finished[k] for k in range(len(stores))]
    return frames
