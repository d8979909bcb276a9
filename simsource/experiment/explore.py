"""``simsource explore``: several policies, each run in the same set of plausible futures.

A *policy* is a scenario; a *future* is one parameter set of the uncertain parameters
(:mod:`simsource.experiment.sampling`: a Latin hypercube over the schema's ranges, or draws
from a calibration posterior). Every (policy, future) pair is a full results folder
``futures/<policy>/f0000/`` (resumable like ``run``), all with the same seed, so every policy
meets the same futures with common random numbers. Then ``futures.parquet`` holds one row per
(future, policy): ``future``, ``policy``, the future's values and each KPI's mean over the
replications.

The explore folder (``manifest.json`` with ``kind = "explore"``) is locked while it is written
and records what it wrote, like every results folder; it is refused when it holds other policies,
another seed or other futures (``--overwrite`` replaces it). The analyses on top of it
(robustness, scenario discovery: :mod:`simsource.analysis.robustness`,
:mod:`simsource.analysis.discovery`) are stored by :func:`record_files`; they do not take part in
the folder's identity, so other targets reuse the simulations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.design import design_hash
from simsource.experiment.folders import holding
from simsource.experiment.limits import check_points, check_seed, check_workloads
from simsource.experiment.manifest import (
    claim_folder,
    command_line,
    environment,
    now_iso,
    read_manifest,
    write_manifest,
)
from simsource.experiment.ownership import Ownership
from simsource.experiment.parquetio import atomic_write_bytes, atomic_write_text, table_bytes
from simsource.experiment.sampling import Uncertain, applicable, columns, set_scenarios

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.scenario import Scenario

FUTURES = "futures.parquet"
DESIGN = "design.csv"
ID_COLUMNS = ("future", "policy")


def default_out(names: Sequence[str]) -> Path:
    return Path("results") / ("explore-" + "-vs-".join(names))


def future_dir(root: Path, policy: str, future: int) -> Path:
    return root / "futures" / policy / f"f{future:04d}"


def policies_hash(policies: Sequence[Scenario]) -> str:
    from simsource.scenario import scenario_hash

    blob = "\n".join(f"{sc.name}:{scenario_hash(sc)}" for sc in policies)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def check_policies(policies: Sequence[Scenario]) -> None:
    if not policies:
        raise UserError("explore: name at least one policy (a scenario name or file)")
    seen: set[str] = set()
    for sc in policies:
        if sc.name in seen:
            raise UserError(f"explore: two policies are named '{sc.name}'; give one another name "
                            "(name = \"...\" in its file)")
        seen.add(sc.name)


def kpi_means(frame: pd.DataFrame) -> dict[str, float]:
    """The mean over replications of every numeric KPI (NaN replications left out)."""
    num = frame.select_dtypes(include="number").drop(columns=["replication", "seed"],
                                                      errors="ignore")
    return {str(k): float(v) for k, v in num.mean(skipna=True).items()}


def futures_table(futures: pd.DataFrame, names: Sequence[str],
                  frames: Mapping[str, Sequence[pd.DataFrame]]) -> pd.DataFrame:
    """One row per (future, policy): ``future``, ``policy``, the future's values, then the KPI
    means of that policy's replications in that future (future-major order)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    values = [{str(k): v for k, v in row.items()} for row in futures.to_dict("records")]
    for f, future in enumerate(values):
        for name in names:
            rows.append({"future": f, "policy": name, **future,
                         **kpi_means(frames[name][f])})
    table = pd.DataFrame(rows)
    table["future"] = table["future"].astype("int64")
    return table


def run_explore(policies: Sequence[Scenario], space: Sequence[Uncertain],
                futures: pd.DataFrame, replications: int, seed: int = 0,
                jobs: int | None = None, out: Path | str | None = None,
                progress: bool = False, *, overwrite: bool = False,
                backend: str | Backend = "local", command: str | None = None,
                model: str | None = None, max_events: float | None = None,
                info: Mapping[str, Any] | None = None,
                warn: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run every policy in every future (rows of ``futures``, columns of ``space``) with the same
    seed; write the folder (see the module docstring) and return ``futures.parquet``'s table.
    ``info`` is added to the manifest (e.g. where the futures came from)."""
    from simsource.experiment.runner import check_replications

    check_policies(policies)
    check_replications(replications)
    check_seed(seed)
    check_points(len(futures), "--futures", "fewer --futures")
    if len(futures) == 0:
        raise UserError("explore: no futures to run")
    missing = [c for c in columns(space) if c not in futures.columns]
    if missing:
        raise UserError(f"explore: the futures have no column {missing[0]}")
    scenarios = {sc.name: set_scenarios(sc, space, futures) for sc in policies}
    check_workloads((s for group in scenarios.values() for s in group), max_events)
    names = [sc.name for sc in policies]
    root = Path(out) if out is not None else default_out(names)
    design = futures.copy()
    design.insert(0, "future", range(len(design)))
    identity: dict[str, Any] = {
        "kind": "explore", "scenario": " vs ".join(names), "scenario_hash": policies_hash(policies),
        "seed": seed, "design_hash": design_hash([{str(k): v for k, v in row.items()}
                                     for row in design.to_dict("records")])}
    with holding(root, "simsource explore") as own:
        old = claim_folder(root, identity, overwrite, own)
        own.adopt()
        own.clean_tmp()
        manifest: dict[str, Any] = {
            **environment(), **identity, **(dict(info) if info else {}),
            "policies": names, "futures": len(futures), "replications": 0,
            "requested": replications,
            "uncertain": [{"key": u.key, "low": u.low, "high": u.high, "integer": u.integer,
                           "parts": list(u.parts)} for u in space],
            "applies": {sc.name: [u.key for u in applicable(space, sc)] for sc in policies},
            "targets": (old or {}).get("targets", []),
            "backend": backend if isinstance(backend, str) else backend.name, "jobs": jobs,
            "started": (old or {}).get("started") or now_iso(), "finished": None,
            "command": command or command_line(),
        }
        return _explore(root, own, manifest, policies, scenarios, design, replications, seed,
                        jobs, progress, backend, command, model, warn)


def _explore(root: Path, own: Ownership, manifest: dict[str, Any],
             policies: Sequence[Scenario], scenarios: Mapping[str, list[Scenario]],
             design: pd.DataFrame, replications: int, seed: int, jobs: int | None,
             progress: bool, backend: str | Backend, command: str | None, model: str | None,
             warn: Callable[[str], None] | None) -> pd.DataFrame:
    import pyarrow as pa

    from simsource.experiment.backend import using_backend
    from simsource.experiment.runner import run_stores
    from simsource.scenario import scenario_toml

    names = [sc.name for sc in policies]
    count = len(design)
    own.claim(DESIGN, "policies/", *(f"policies/{n}.toml" for n in names), "futures/",
              *(f"futures/{n}/" for n in names),
              *(f"futures/{n}/f{i:04d}/" for n in names for i in range(count)))
    write_manifest(root, manifest, own)
    atomic_write_text(root / DESIGN, design.to_csv(index=False))
    (root / "policies").mkdir(exist_ok=True)
    for sc in policies:
        atomic_write_text(root / "policies" / f"{sc.name}.toml", scenario_toml(sc))
    items = [(scenarios[n][i], future_dir(root, n, i)) for i in range(count) for n in names]
    with using_backend(backend, jobs) as be:
        manifest["jobs"] = be.jobs
        frames = run_stores(items, replications, seed, be, progress=progress,
                            desc=f"explore {len(names)} policies × {count} futures",
                            command=command, model=model, warn=warn)
    by_policy = {n: frames[k::len(names)] for k, n in enumerate(names)}
    table = futures_table(design.drop(columns=["future"]), names, by_policy)
    own.claim(FUTURES)
    atomic_write_bytes(root / FUTURES, table_bytes(pa.Table.from_pandas(table,
                                                                      preserve_index=False)))
    manifest.update(replications=replications, finished=now_iso())
    write_manifest(root, manifest, own)
    return table


def record_files(root: Path | str, files: Mapping[str, str],
                 manifest_update: Mapping[str, Any] | None = None) -> None:
    """Write text files of an analysis into an explore folder (recorded in its record, a user's
    file of the same name refused) and add ``manifest_update`` to its manifest."""
    root = Path(root)
    with holding(root, "simsource explore") as own:
        manifest = read_manifest(root)
        if manifest.get("kind") != "explore":
            raise UserError(f"{root}: not an explore folder")
        own.claim(*files)
        for name, text in files.items():
            atomic_write_text(root / name, text)
        if manifest_update:
            manifest.update(manifest_update)
            manifest.pop("written", None)
            write_manifest(root, manifest, own)


def uncertain_of(manifest: Mapping[str, Any]) -> list[Uncertain]:
    """The uncertain parameters an explore folder's manifest lists."""
    return [Uncertain(str(u["key"]), float(u["low"]), float(u["high"]), bool(u["integer"]),
                      tuple(str(p) for p in u.get("parts") or ()))
            for u in manifest.get("uncertain") or []]


def parameters_of(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per policy, the columns of ``futures.parquet`` holding parameters that apply to it."""
    space = {u.key: u for u in uncertain_of(manifest)}
    applies = manifest.get("applies") or {}
    return {str(p): [c for k in keys if k in space for c in space[k].columns]
            for p, keys in applies.items()}
