"""``simsource sweep``: one scenario over a design of parameter values, common random numbers.

Each design point is a full results folder ``points/p0000/`` (resumable like ``run``), all with
the same seed; then ``sweep.parquet`` (point, design columns, replication, seed, KPIs — streamed
point by point), ``sweep_summary.csv``, ``design.csv`` and the manifest (``kind = "sweep"``).

The sweep folder is locked for the whole sweep (a concurrent ``sweep --overwrite`` is refused,
not obeyed) and records what it wrote, like every results folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.design import Point, design_hash, point_scenarios
from simsource.experiment.folders import holding
from simsource.experiment.limits import check_seed, check_workloads
from simsource.experiment.manifest import (
    claim_folder,
    command_line,
    environment,
    now_iso,
    write_manifest,
)
from simsource.experiment.ownership import Ownership
from simsource.experiment.parquetio import StreamingParquetWriter, atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.experiment.posterior import Posterior
    from simsource.scenario import Scenario

SUMMARY_COLUMNS = ["kpi", "mean", "ci_low", "ci_high", "n"]


def default_out(sc: Scenario) -> Path:
    return Path("results") / f"sweep-{sc.name}"


def point_dir(root: Path, point: int) -> Path:
    return root / "points" / f"p{point:04d}"


def design_frame(points: Sequence[Point]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(list(points))
    df.insert(0, "point", range(len(points)))
    return df


def _write_outputs(root: Path, design: pd.DataFrame, own: Ownership) -> pd.DataFrame:
    """``sweep.parquet`` (streamed), ``sweep_summary.csv``; returns the summary."""
    import pandas as pd
    import pyarrow as pa

    from simsource.stats import summarize

    cols = [c for c in design.columns if c != "point"]
    dtable = pa.Table.from_pandas(design, preserve_index=False)
    summaries = []
    own.claim("sweep.parquet", "sweep_summary.csv")
    with StreamingParquetWriter(root / "sweep.parquet", 10_000) as writer:
        for i, point in enumerate(design["point"]):
            table = pa.Table.from_pandas(
                pd.read_parquet(point_dir(root, int(point)) / "replications.parquet"),
                preserve_index=False).drop_columns(["scenario"])
            rows = table.num_rows
            front = [pa.repeat(dtable.column(c)[i], rows) for c in ["point", *cols]]
            writer.write(pa.Table.from_arrays([*front, *table.columns],
                                              names=["point", *cols, *table.column_names]))
            s = summarize(table.to_pandas())[SUMMARY_COLUMNS]
            for c in reversed(["point", *cols]):
                s.insert(0, c, design.iloc[i][c])
            summaries.append(s)
    summary = pd.concat(summaries, ignore_index=True)
    atomic_write_text(root / "sweep_summary.csv", summary.to_csv(index=False))
    return summary


def run_sweep(sc: Scenario, points: Sequence[Point], replications: int, seed: int = 0,
              jobs: int | None = None, out: Path | str | None = None, progress: bool = False,
              *, overwrite: bool = False, backend: str | Backend = "local",
              command: str | None = None,
              lhs: int | None = None, model: str | None = None, max_events: float | None = None,
              warn: Callable[[str], None] | None = None,
              posterior: Posterior | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every design point with the same seed; returns (design, sweep summary). Points whose
    expected events per replication exceed ``max_events`` are refused before anything runs.
    With ``posterior``, replication ``i`` of every point uses the parameter set drawn for
    ``(seed, i)``, except the design's own keys (the point's value wins)."""
    from simsource.experiment.runner import check_replications
    from simsource.scenario import scenario_hash

    check_replications(replications)
    check_seed(seed)
    if not points:
        raise UserError("sweep: the design has no points")
    scenarios = point_scenarios(sc, points)
    check_workloads(scenarios, max_events)
    root = Path(out) if out is not None else default_out(sc)
    identity: dict[str, Any] = {"kind": "sweep", "scenario": sc.name,
                                "scenario_hash": scenario_hash(sc), "seed": seed,
                                "design_hash": design_hash(points)}
    if posterior is not None:
        identity["posterior"] = posterior.digest
    with holding(root, "simsource sweep") as own:
        old = claim_folder(root, identity, overwrite, own)
        own.adopt()
        own.clean_tmp()
        return _sweep(root, own, old, identity, sc, scenarios, points, replications, seed, jobs,
                      progress, backend, command, lhs, model, warn, posterior)


def _sweep(root: Path, own: Ownership, old: dict[str, Any] | None, identity: dict[str, Any],
           sc: Scenario, scenarios: list[Scenario], points: Sequence[Point], replications: int,
           seed: int, jobs: int | None, progress: bool, backend: str | Backend,
           command: str | None, lhs: int | None, model: str | None,
           warn: Callable[[str], None] | None, posterior: Posterior | None
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    from simsource.experiment.backend import using_backend
    from simsource.experiment.runner import run_stores
    from simsource.scenario import scenario_toml

    design = design_frame(points)
    keys = [c for c in design.columns if c != "point"]
    manifest: dict[str, Any] = {
        **environment(), **identity, "replications": 0, "requested": replications,
        "backend": backend if isinstance(backend, str) else backend.name, "jobs": jobs,
        "points": len(points), "lhs": lhs,
        "vary": {k: design[k].tolist() if lhs else list(dict.fromkeys(design[k].tolist()))
                 for k in keys},
        "started": (old or {}).get("started") or now_iso(), "finished": None,
        "command": command or command_line(),
    }
    if posterior is not None:
        manifest["posterior_source"] = {**posterior.record(), "keep": keys}
    own.claim("scenario.toml", "design.csv", "points/",
              *(f"{point_dir(Path(), i)}/" for i in range(len(points))))
    write_manifest(root, manifest, own)
    atomic_write_text(root / "scenario.toml", scenario_toml(sc))
    atomic_write_text(root / "design.csv", design.to_csv(index=False))
    with using_backend(backend, jobs) as be:
        manifest["jobs"] = be.jobs
        run_stores([(s, point_dir(root, i)) for i, s in enumerate(scenarios)], replications,
                   seed, be, progress=progress, desc=f"sweep {len(points)} points",
                   command=command, model=model, warn=warn, posterior=posterior, keep=keys)
    summary = _write_outputs(root, design, own)
    manifest.update(replications=replications, finished=now_iso())
    write_manifest(root, manifest, own)
    return design, summary
