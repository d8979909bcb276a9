"""A results folder (docs/results-format.md) written chunk by chunk, resumable, never mixed.

>>> store = ResultStore.open(Path("results/x"), sc, seed=0, requested=100)   # doctest: +SKIP
>>> todo = store.missing(100)          # verified chunks on disk are kept
>>> store.write(kpi_rows, ts_rows)     # as chunks complete (atomic)
>>> df = store.finalize(100)           # replications/timeseries.parquet, summary.csv, manifest
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from simsource.experiment import chunks as ck
from simsource.experiment.folders import remove_if_empty, take_folder, unlock_folder
from simsource.experiment.limits import check_seed
from simsource.experiment.manifest import (
    claim_folder,
    command_line,
    environment,
    now_iso,
    write_manifest,
)
from simsource.experiment.ownership import Ownership
from simsource.experiment.parquetio import (
    StreamingParquetWriter,
    atomic_write_bytes,
    atomic_write_text,
    table_bytes,
)

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.posterior import Posterior
    from simsource.scenario import Scenario

Warn = Callable[[str], None]
KPI_GROUP_ROWS = 10_000
TS_GROUP_ROWS = 65_536


def _stderr(msg: str) -> None:
    import click

    click.echo(f"warning: {msg}", err=True)


class ResultStore:
    """One scenario's results folder: claimed, locked, filled with verified chunks, finalized."""

    def __init__(self, root: Path, sc: Scenario, seed: int, manifest: dict[str, Any],
                 lock_fd: int | None, warn: Warn, own: Ownership | None = None,
                 posterior: Posterior | None = None, keep: Sequence[str] = ()) -> None:
        from simsource.scenario import scenario_hash

        self.root = root
        self.own = own if own is not None else Ownership.load(root)
        self.sc = sc
        self.seed = seed
        self.manifest = manifest
        self.posterior = posterior
        self.keep = tuple(keep)
        self.identity: dict[str, Any] = {"scenario_hash": scenario_hash(sc), "seed": seed}
        if posterior is not None:  # chunks of another posterior are never mixed in
            self.identity["posterior"] = posterior.digest
        self.warn = warn
        self._lock_fd = lock_fd
        self._chunks: list[ck.Chunk] | None = None
        # seconds since the folder was opened, and of them spent writing it (opening, chunks,
        # the final files): the manifest's "timing" (docs/results-format.md). The chunks are
        # also counted in this thread's CPU time: written while worker processes compute, the
        # wall time of a write includes waiting for a core the workers use meanwhile
        self._opened = time.perf_counter()
        self._open_s = 0.0
        self._chunks_wall_s = 0.0
        self._chunks_cpu_s = 0.0

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | str, sc: Scenario, seed: int = 0, *, requested: int,
             overwrite: bool = False, backend: str = "local", jobs: int = 1,
             command: str | None = None, warn: Warn | None = None,
             posterior: Posterior | None = None, keep: Sequence[str] = ()) -> ResultStore:
        """Claim ``root`` for (scenario, seed[, posterior]) — refusing a folder holding anything
        else — and lock it; write ``scenario.toml`` and a manifest at once, so even a killed run
        is identifiable."""
        from simsource.scenario import scenario_hash, scenario_toml

        t0 = time.perf_counter()
        root = Path(root)
        warn = warn if warn is not None else _stderr
        check_seed(seed)
        identity: dict[str, Any] = {"kind": "run", "scenario": sc.name,
                                    "scenario_hash": scenario_hash(sc), "seed": seed}
        if posterior is not None:
            identity["posterior"] = posterior.digest
        own, fd, created = take_folder(root)
        try:
            old = claim_folder(root, identity, overwrite, own)
            own.adopt()        # an old folder read by format gets a record from now on
            own.clean_tmp()    # temporary files of a killed run (we hold the lock)
            env = environment()
            if old and old.get("simsource_version") != env["simsource_version"]:
                warn(f"{root}: made by simsource {old.get('simsource_version')}, this is "
                     f"{env['simsource_version']}; use --overwrite if the model changed")
            manifest: dict[str, Any] = {
                **env, **identity, "replications": 0, "requested": requested,
                "backend": backend, "jobs": jobs,
                "started": (old or {}).get("started") or now_iso(), "finished": None,
                "command": command or command_line(),
            }
            if posterior is not None:
                manifest["posterior_source"] = {**posterior.record(), "keep": list(keep)}
            own.claim("scenario.toml")
            atomic_write_text(root / "scenario.toml", scenario_toml(sc))
            store = cls(root, sc, seed, manifest, fd, warn, own, posterior, keep)
            manifest["replications"] = len(store.done())
            write_manifest(root, manifest, own)
            store._opened = t0
            store._open_s = time.perf_counter() - t0
        except BaseException:
            unlock_folder(fd)
            remove_if_empty(created)
            raise
        return store

    @property
    def chunk_dir(self) -> Path:
        return self.root / "chunks"

    # ---- chunks --------------------------------------------------------------------------------
    def done(self) -> set[int]:
        """Replications on disk in sound chunks (verified once; broken chunks reported, deleted)."""
        if self._chunks is None:
            self._chunks = ck.scan(self.chunk_dir, self.identity, self.warn,
                                   owns=lambda name: self.own.owns(f"chunks/{name}"))
        return {r for c in self._chunks for r in c.reps}

    def missing(self, n: int) -> list[int]:
        done = self.done()
        return [i for i in range(n) if i not in done]

    def write(self, kpi_rows: Sequence[ck.KpiRow], ts_rows: Sequence[ck.TsRow]) -> None:
        """Store one completed block of replications as an atomic chunk.

        Each chunk is accepted once: the same block delivered again (a backend retrying a task)
        is ignored, since replications are deterministic; a block overlapping stored
        replications otherwise is an error (it would double rows)."""
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            self._write(kpi_rows, ts_rows)
        finally:
            self._chunks_wall_s += time.perf_counter() - t0
            self._chunks_cpu_s += time.thread_time() - c0

    def _write(self, kpi_rows: Sequence[ck.KpiRow], ts_rows: Sequence[ck.TsRow]) -> None:
        kpi_rows = sorted(kpi_rows, key=lambda r: int(r["replication"]))
        ts_rows = sorted(ts_rows, key=lambda r: int(r["replication"]))
        reps = [int(r["replication"]) for r in kpi_rows]
        stored = self.done().intersection(reps)
        if stored:
            assert self._chunks is not None
            if ck.Chunk(reps[0], reps[-1]) in self._chunks:
                return
            raise RuntimeError(f"{self.root}: replications {sorted(stored)[:5]} are already "
                               "stored in another chunk")
        stem = ck.Chunk(reps[0], reps[-1]).stem
        self.own.claim(*(f"chunks/{stem}{suffix}" for suffix in ck.SUFFIXES))
        self.chunk_dir.mkdir(exist_ok=True)
        chunk = ck.write_chunk(self.chunk_dir, ck.kpi_table(self.sc.name, kpi_rows),
                               ck.ts_table(self.sc.name, ts_rows), self.identity)
        self.done()
        assert self._chunks is not None
        self._chunks.append(chunk)
        self._chunks.sort()

    def _tables(self, n: int, kind: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """Tables of the chunks holding replications < n, in replication order, one at a time."""
        missing = self.missing(n)
        if missing:
            raise RuntimeError(f"{self.root}: replications {missing[:5]} are not on disk yet")
        assert self._chunks is not None
        for chunk in self._chunks:
            if chunk.first >= n:
                break
            table = ck.read_chunk(self.chunk_dir, chunk, kind, columns)
            if chunk.last >= n:
                import pyarrow.compute as pc  # 0.07 s to import: only here (pandas has it)

                table = table.filter(pc.less(table.column("replication"), n))
            yield table

    def kpis(self, n: int) -> pd.DataFrame:
        """Replications 0..n-1 as a DataFrame (only KPIs: small even for large n)."""
        return _frame(self._tables(n, "kpi"))

    def timeseries(self, n: int, columns: list[str]) -> pd.DataFrame:
        """Selected time-series columns of replications 0..n-1."""
        return _frame(self._tables(n, "ts", columns))

    # ---- the final files -----------------------------------------------------------------------
    def finalize(self, n: int) -> pd.DataFrame:
        """Write the five files for replications 0..n-1 (streamed chunk by chunk)."""
        t0 = time.perf_counter()
        self.own.claim("replications.parquet", "timeseries.parquet", "summary.csv")
        kpi_tables = []   # read once: written out, then the summary's frame (KPIs are small)
        with StreamingParquetWriter(self.root / "replications.parquet", KPI_GROUP_ROWS) as w:
            for table in self._tables(n, "kpi"):
                w.write(table)
                kpi_tables.append(table)
        with StreamingParquetWriter(self.root / "timeseries.parquet", TS_GROUP_ROWS) as w:
            for table in self._tables(n, "ts"):
                w.write(table)
        if self.posterior is not None:
            from simsource.experiment.posterior import PARAMETERS_FILE

            self.own.claim(PARAMETERS_FILE)
            table = self.posterior.assignments(self.seed, range(n), self.sc, self.keep)
            atomic_write_bytes(self.root / PARAMETERS_FILE,
                               table_bytes(pa.Table.from_pandas(table, preserve_index=False)))
        from simsource.stats import summarize  # pandas and scipy: see runner.FINALIZE_IMPORTS

        df = _frame(kpi_tables)
        atomic_write_text(self.root / "summary.csv", summarize(df).to_csv(index=False))
        now = time.perf_counter()
        fixed = self._open_s + now - t0          # opening and finalizing: wall time
        self.manifest.update(replications=n, requested=max(n, self.manifest["requested"]),
                             finished=now_iso(),
                             timing={"wall_s": round(now - self._opened, 4),
                                     "store_s": round(fixed + self._chunks_cpu_s, 4),
                                     "store_wall_s": round(fixed + self._chunks_wall_s, 4)})
        write_manifest(self.root, self.manifest, self.own)
        return df

    def close(self) -> None:
        """Record progress in the manifest (if not finalized) and release the lock."""
        try:
            if self.manifest.get("finished") is None and self._chunks is not None:
                self.manifest["replications"] = len(self.done())
                write_manifest(self.root, self.manifest, self.own)
        finally:
            unlock_folder(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _frame(tables: Iterable[pa.Table]) -> pd.DataFrame:
    df: pd.DataFrame = pa.concat_tables(list(tables)).to_pandas()
    return df
