"""Chunk files: a contiguous block of replications, written atomically and verified before use.

A chunk ``chunks/r0000050-0000099`` is three files: ``.kpi.parquet`` (the rows of
``replications.parquet``), ``.ts.parquet`` (the rows of ``timeseries.parquet``) and ``.json``, a
sidecar with the replication range, the scenario hash, the seed and the sha256 of both Parquet
files. The sidecar is written last: it is the commit mark. A chunk without a sidecar was cut off by
a kill and is removed quietly; a chunk whose sidecar does not match its files is reported and
removed, so its replications are computed again — it is never used.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simsource.experiment.parquetio import (
    TMP_PREFIX,
    atomic_write_bytes,
    sha256_bytes,
    sha256_file,
    table_bytes,
)

ID_COLUMNS = ("replication", "seed")
_STEM = re.compile(r"^r(\d{7,})-(\d{7,})$")
SUFFIXES = (".kpi.parquet", ".ts.parquet", ".json")

KpiRow = dict[str, Any]
TsRow = dict[str, Any]


@dataclass(frozen=True, order=True)
class Chunk:
    first: int
    last: int  # inclusive

    @property
    def stem(self) -> str:
        return f"r{self.first:07d}-{self.last:07d}"

    @property
    def reps(self) -> range:
        return range(self.first, self.last + 1)

    def path(self, folder: Path, suffix: str) -> Path:
        return folder / f"{self.stem}{suffix}"


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def kpi_table(scenario: str, rows: Sequence[KpiRow]) -> pa.Table:
    """``scenario, replication, seed`` then every KPI as float64, in the model's order."""
    names = [k for k in rows[0] if k not in ID_COLUMNS]
    cols: dict[str, pa.Array] = {
        "scenario": pa.array([scenario] * len(rows), pa.string()),
        "replication": pa.array([int(r["replication"]) for r in rows], pa.int64()),
        "seed": pa.array([int(r["seed"]) for r in rows], pa.int64()),
    }
    for k in names:
        cols[k] = pa.array([_float(r.get(k)) for r in rows], pa.float64())
    return pa.table(cols)


def ts_table(scenario: str, rows: Sequence[TsRow]) -> pa.Table:
    """The monthly series of several replications, stacked: ``scenario, replication, seed, ...``."""
    names = [k for k in rows[0] if k not in ID_COLUMNS]
    lengths = [len(r[names[0]]) if names else 0 for r in rows]
    total = sum(lengths)
    cols: dict[str, pa.Array] = {
        "scenario": pa.array([scenario] * total, pa.string()),
        "replication": pa.array(
            [int(r["replication"]) for r, m in zip(rows, lengths, strict=True) for _ in range(m)],
            pa.int64()),
        "seed": pa.array(
            [int(r["seed"]) for r, m in zip(rows, lengths, strict=True) for _ in range(m)],
            pa.int64()),
    }
    for k in names:
        parts: list[np.ndarray] = []
        for r, m in zip(rows, lengths, strict=True):
            series = r.get(k)
            if series is None or len(series) == 0:
                parts.append(np.full(m, math.nan))
                continue
            if len(series) != m:
                raise ValueError(f"time series '{k}' of replication {r['replication']} has "
                                 f"{len(series)} months, expected {m}")
            parts.append(np.asarray(series, dtype=np.float64))   # None becomes NaN
        cols[k] = pa.array(np.concatenate(parts) if parts else np.empty(0), pa.float64())
    return pa.table(cols)


def write_chunk(folder: Path, kpi: pa.Table, ts: pa.Table, identity: Mapping[str, Any]) -> Chunk:
    """Write one chunk (a contiguous, sorted block of replications) atomically."""
    reps = kpi.column("replication").to_pylist()
    chunk = Chunk(reps[0], reps[-1])
    if reps != list(chunk.reps):
        raise ValueError(f"a chunk must hold contiguous sorted replications, got {reps[:5]}...")
    kb, tb = table_bytes(kpi, plain=True), table_bytes(ts, plain=True)
    atomic_write_bytes(chunk.path(folder, ".kpi.parquet"), kb)
    atomic_write_bytes(chunk.path(folder, ".ts.parquet"), tb)
    sidecar = {"first": chunk.first, "last": chunk.last, **identity,
               "sha256": {"kpi": sha256_bytes(kb), "ts": sha256_bytes(tb)}}
    atomic_write_bytes(chunk.path(folder, ".json"), json.dumps(sidecar, indent=1).encode())
    return chunk


def _problem(folder: Path, chunk: Chunk, identity: Mapping[str, Any]) -> str | None:
    """What is wrong with a committed chunk, or None when it is sound."""
    side = chunk.path(folder, ".json")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        sums = meta["sha256"]
        first, last = int(meta["first"]), int(meta["last"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{side.name}: unreadable checksum file"
    if (first, last) != (chunk.first, chunk.last):
        return f"{side.name}: holds replications {first}-{last}, not {chunk.first}-{chunk.last}"
    for key, value in identity.items():
        if meta.get(key) != value:
            return f"{side.name}: belongs to {key} {meta.get(key)!r}, not {value!r}"
    for kind in ("kpi", "ts"):
        path = chunk.path(folder, f".{kind}.parquet")
        if not path.is_file():
            return f"{path.name}: missing"
        if sha256_file(path) != sums.get(kind):
            return f"{path.name}: checksum mismatch (truncated or corrupt)"
        try:
            reps = pq.read_table(path, columns=["replication"]).column("replication")
        except (OSError, pa.ArrowException) as exc:
            return f"{path.name}: unreadable Parquet ({exc})"
        got = list(dict.fromkeys(reps.to_pylist())) if kind == "ts" else reps.to_pylist()
        if sorted(got) != list(chunk.reps) or (kind == "kpi" and got != list(chunk.reps)):
            return f"{path.name}: replications do not match the name {chunk.stem}"
    return None


def _remove(folder: Path, chunk: Chunk) -> None:
    for suffix in SUFFIXES:
        chunk.path(folder, suffix).unlink(missing_ok=True)


def _mine(name: str) -> bool:
    return True


def scan(folder: Path, identity: Mapping[str, Any], warn: Callable[[str], None],
         owns: Callable[[str], bool] = _mine) -> list[Chunk]:
    """The sound chunks in ``folder``, sorted; broken ones are reported via ``warn`` and deleted.

    Leftover temporary files and uncommitted chunks (no sidecar: the writer was killed) are
    removed without a report; overlapping chunks (never written by this code) are reported.
    Only files ``owns(name)`` (the results folder's record) are used or deleted; others are
    left alone.
    """
    if not folder.is_dir():
        return []
    stems: dict[Chunk, set[str]] = {}
    for path in folder.iterdir():
        if not owns(path.name):
            continue
        if path.name.startswith(TMP_PREFIX):
            path.unlink(missing_ok=True)
            continue
        for suffix in SUFFIXES:
            if path.name.endswith(suffix):
                m = _STEM.match(path.name[: -len(suffix)])
                if m:
                    stems.setdefault(Chunk(int(m[1]), int(m[2])), set()).add(suffix)
    good: list[Chunk] = []
    covered: set[int] = set()
    for chunk in sorted(stems):
        if ".json" not in stems[chunk]:
            _remove(folder, chunk)
            continue
        problem = _problem(folder, chunk, identity)
        if problem is None and covered.intersection(chunk.reps):
            problem = f"{chunk.stem}: overlaps another chunk"
        if problem is not None:
            warn(f"{folder / chunk.stem}: {problem}; deleted, its replications will be "
                 "computed again")
            _remove(folder, chunk)
            continue
        good.append(chunk)
        covered.update(chunk.reps)
    return good


def read_chunk(folder: Path, chunk: Chunk, kind: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(chunk.path(folder, f".{kind}.parquet"), columns=columns)
