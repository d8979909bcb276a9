"""The event log of one replication as a table: ``simsource trace`` and the replay.

:func:`trace_events` runs replication ``i`` of a scenario with root seed ``S`` on the engine
(traced) and returns its log — the same list as ``simulate_full(sc, S, i, trace=True).events``.
:func:`events_frame` turns that list into the documented table (one row per event, typed
columns, :data:`COLUMNS`); :func:`write_trace` writes it as Parquet with simsource's mark in the
file's metadata, and :func:`read_trace` reads it back. docs/results-format.md describes the
columns and the events of each kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simsource.errors import UserError
from simsource.experiment.backend import SerialBackend
from simsource.experiment.engine import Work, replications
from simsource.experiment.outputs import claim_file
from simsource.experiment.parquetio import atomic_write_bytes, table_bytes
from simsource.scenario import Scenario

#: the columns of the log, in order, with their Arrow types (``slot`` is null where the event
#: has no resource slot; the model's ``-1``)
COLUMNS: dict[str, pa.DataType] = {
    "time": pa.float64(),      # working days since the start of the run
    "kind": pa.string(),       # entity kind: idea, incident, coordinator, supplier, system
    "id": pa.int64(),          # entity id within its kind (a coordinator: its desk)
    "event": pa.string(),      # what happened
    "stage": pa.string(),      # funnel stage, incident area or kind of coordinator work
    "resource": pa.string(),   # who: a supplier, "coordinators", "transfer team", ...
    "slot": pa.int64(),        # the desk (resource slot), null where there is none
    "detail": pa.string(),     # human-readable detail (efforts, waits, values)
}
KINDS = ("idea", "incident", "coordinator", "supplier", "system")
#: key of simsource's mark in the Parquet file's key-value metadata
META_KEY = b"simsource.trace"


def trace_events(sc: Scenario, seed: int, replication: int) -> list[dict[str, Any]]:
    """The event log of replication ``replication`` of ``sc`` with root ``seed`` (run in this
    process, through the engine)."""
    [res] = replications([Work(sc, seed, [replication], trace=(replication,))],
                         SerialBackend())
    return list(res.events.get(replication, []))


def events_frame(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The log as a table: one row per event, in log order, with the columns of
    :data:`COLUMNS` (``slot`` nullable)."""
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for e in events:
        for c in COLUMNS:
            cols[c].append(e.get(c))
    slots = [None if s is None or int(s) < 0 else int(s) for s in cols["slot"]]
    frame = pd.DataFrame({
        "time": pd.Series(cols["time"], dtype="float64"),
        "kind": pd.Series(cols["kind"], dtype="string"),
        "id": pd.Series(cols["id"], dtype="int64"),
        "event": pd.Series(cols["event"], dtype="string"),
        "stage": pd.Series(cols["stage"], dtype="string"),
        "resource": pd.Series(cols["resource"], dtype="string"),
        "slot": pd.Series(slots, dtype="Int64"),
        "detail": pd.Series(cols["detail"], dtype="string"),
    })
    return frame


def trace_meta(sc: Scenario, seed: int, replication: int, command: str = "") -> dict[str, Any]:
    from simsource import __version__

    return {"simsource_version": __version__, "scenario": sc.name, "seed": seed,
            "replication": replication, "years": sc.scenario.years,
            "working_days_per_year": sc.scenario.working_days_per_year,
            "command": command, "scenario_json": sc.model_dump_json()}


def _is_trace_file(path: Path) -> bool:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return META_KEY in meta


def claim_trace_file(path: Path, option: str = "--out") -> None:
    """Check ``path`` before the run: a ``.parquet`` name, and no file of the user's there."""
    claim_file(path, (".parquet",), option, "the event log (Parquet)", _is_trace_file)


def write_trace(path: Path, frame: pd.DataFrame, meta: Mapping[str, Any]) -> None:
    """Write the log atomically, with ``meta`` (JSON) under :data:`META_KEY`."""
    schema = pa.schema([pa.field(c, t) for c, t in COLUMNS.items()],
                       metadata={META_KEY: json.dumps(dict(meta), sort_keys=True).encode()})
    table = pa.Table.from_pandas(frame[list(COLUMNS)], schema=schema, preserve_index=False)
    atomic_write_bytes(Path(path), table_bytes(table))


def read_trace(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A log written by :func:`write_trace` and its metadata (one clear error otherwise)."""
    p = Path(path)
    try:
        table = pq.read_table(p)
    except (OSError, pa.ArrowException) as exc:
        raise UserError(f"{p}: not a readable event log ({exc})") from None
    meta = (table.schema.metadata or {}).get(META_KEY)
    missing = [c for c in COLUMNS if c not in table.column_names]
    if meta is None or missing:
        raise UserError(f"{p}: not an event log written by `simsource trace`")
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype(),
                                          pa.int64(): pd.Int64Dtype()}.get)
    frame["id"] = frame["id"].astype("int64")
    return frame, json.loads(meta)
