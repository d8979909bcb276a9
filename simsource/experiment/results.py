"""``load_results(DIR)``: any results folder (run, compare, sweep or explore) as pandas objects.

>>> res = load_results("results/nacka-multi")      # doctest: +SKIP
>>> res.kind, res.summary.head(), res.replications["innovations_per_year"].describe()

``replications`` and ``timeseries`` are read on first access (the time series of a large batch
can be big); a comparison's, a sweep's and an exploration's are the members' tables stacked
(tagged by ``scenario`` / ``point`` / ``future`` and ``policy``). An exploration's own tables are
``futures`` (one row per future and policy), ``summary`` (``robustness.csv``) and ``discovery``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.manifest import read_manifest
from simsource.experiment.ownership import MANIFEST

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

COMPARE_JSON = "compare.json"

#: the columns every results table starts with (docs/results-format.md) and their kinds:
#: "i" integer, "s" text; all other columns must be numbers
ID_COLUMNS: dict[str, dict[str, str]] = {
    "replications.parquet": {"scenario": "s", "replication": "i", "seed": "i"},
    "timeseries.parquet": {"scenario": "s", "replication": "i", "seed": "i", "month": "n"},
    "sweep.parquet": {"point": "i", "replication": "i", "seed": "i"},
    "parameters.parquet": {"replication": "i", "seed": "i", "posterior_row": "i"},
    "futures.parquet": {"future": "i", "policy": "s"},
}


def _check_schema(path: Path, schema: pa.Schema) -> None:
    """A results table with the columns and types of docs/results-format.md, else a
    :class:`UserError` naming the first problem."""
    import pyarrow as pa

    ids = ID_COLUMNS.get(path.name)
    if ids is None:
        return
    missing = [c for c in ids if c not in schema.names]
    if missing:
        raise UserError(f"{path}: not a simsource results table (no column "
                        f"{', '.join(missing)}); rerun the command that wrote this folder")
    for field in schema:
        want = ids.get(field.name, "d" if path.name == "sweep.parquet" else "n")
        t = field.type
        ok = {"s": pa.types.is_string(t) or pa.types.is_large_string(t),
              "i": pa.types.is_integer(t),
              "n": pa.types.is_integer(t) or pa.types.is_floating(t),
              "d": True}[want]  # a sweep's design columns may hold any value
        if not ok:
            raise UserError(f"{path}: column '{field.name}' holds {t}, not the "
                            f"{'text' if want == 's' else 'numbers'} of a simsource results "
                            "table; rerun the command that wrote this folder")


def _read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        _check_schema(path, pq.read_schema(path))
        return pd.read_parquet(path, columns=columns)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; run the command that made this folder again to "
                        "finish it") from None
    except (OSError, pa.ArrowException) as exc:
        raise UserError(f"{path}: unreadable Parquet ({exc}); rerun the command that wrote "
                        "this folder") from None


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; run the command that made this folder again to "
                        "finish it") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable CSV ({exc})") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


class Results:
    """A results folder: ``kind`` (run | compare | sweep | explore), ``manifest`` (dict),
    ``summary``, ``replications``, ``timeseries`` (DataFrames), ``scenario_toml`` (str) and, for
    a comparison, a sweep or an exploration, ``members`` (name, point or ``policy/f0003`` →
    folder) and :meth:`member`. An exploration also has ``futures`` (``futures.parquet``) and
    ``discovery``; its ``summary`` is ``robustness.csv``.

    Run with ``--posterior``, ``posterior`` describes the calibration posterior (else None) and
    ``parameters`` says which parameter set each replication used (``replication, seed,
    posterior_row`` and one column per key; stacked with ``scenario`` / ``point`` for a
    comparison or a sweep)."""

    def __init__(self, path: Path, kind: str, manifest: dict[str, Any], summary: pd.DataFrame,
                 scenario_toml: str, members: dict[str, Path] | None = None) -> None:
        self.path = path
        self.kind = kind
        self.manifest = manifest
        self.summary = summary
        self.scenario_toml = scenario_toml
        self.members = members or {}

    def member(self, name: str) -> Results:
        """The results folder of one scenario (compare), point (sweep, e.g. ``"p0003"``) or
        policy in a future (explore, e.g. ``"nacka-multi/f0003"``)."""
        if name not in self.members:
            raise UserError(f"{self.path}: no member '{name}' (have: {', '.join(self.members)})")
        return load_results(self.members[name])

    @functools.cached_property
    def futures(self) -> pd.DataFrame:
        """An exploration's ``futures.parquet``: one row per (future, policy)."""
        if self.kind != "explore":
            raise UserError(f"{self.path}: a {self.kind} folder has no futures")
        return _read_parquet(self.path / "futures.parquet")

    @functools.cached_property
    def discovery(self) -> pd.DataFrame:
        """An exploration's ``discovery.csv`` (PRIM boxes; empty before the analysis ran)."""
        if self.kind != "explore":
            raise UserError(f"{self.path}: a {self.kind} folder has no scenario discovery")
        return _read_csv(self.path / "discovery.csv") if (
            self.path / "discovery.csv").is_file() else _empty_discovery()

    @functools.cached_property
    def replications(self) -> pd.DataFrame:
        if self.kind == "run":
            return _read_parquet(self.path / "replications.parquet")
        if self.kind == "sweep":
            return _read_parquet(self.path / "sweep.parquet")
        return self._stack("replications")

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        if self.kind == "run":
            return _read_parquet(self.path / "timeseries.parquet")
        return self._stack("timeseries")

    @property
    def posterior(self) -> dict[str, Any] | None:
        """The posterior the replications drew their parameters from (folder, sha256, sets,
        keys), or None."""
        record = self.manifest.get("posterior_source")
        return dict(record) if isinstance(record, dict) else None

    @functools.cached_property
    def parameters(self) -> pd.DataFrame | None:
        """The parameter set each replication used (run with ``--posterior``), else None."""
        from simsource.experiment.posterior import PARAMETERS_FILE

        if self.posterior is None:
            return None
        if self.kind == "run":
            return _read_parquet(self.path / PARAMETERS_FILE)
        return self._stack("parameters", tag=True)

    def _stack(self, what: str, tag: bool = False) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for name, folder in self.members.items():
            df = _read_parquet(folder / f"{what}.parquet")
            if self.kind == "sweep":
                df.insert(0, "point", int(name.lstrip("p")))
            elif self.kind == "explore":
                policy, _, future = name.rpartition("/")
                df.insert(0, "policy", policy)
                df.insert(0, "future", int(future.lstrip("f")))
            elif tag:
                df.insert(0, "scenario", name)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def __repr__(self) -> str:
        n = self.manifest.get("replications")
        return f"Results({str(self.path)!r}, kind={self.kind!r}, replications={n})"


def _load_run(path: Path) -> Results:
    manifest = read_manifest(path)
    kind = str(manifest.get("kind", "run"))
    if kind == "sweep":
        return _load_sweep(path, manifest)
    if kind == "calibrate":
        raise UserError(f"{path}: a calibration folder, not results of run, compare or sweep; "
                        "read it with simsource.analysis.calibration.load_calibration, or use "
                        "it with --posterior")
    if kind == "explore":
        return _load_explore(path, manifest)
    if manifest.get("finished") is None:
        raise UserError(f"{path}: unfinished run ({manifest.get('replications', 0)} of "
                        f"{manifest.get('requested')} replications on disk); run the same "
                        "command again to complete it")
    return Results(path, "run", manifest, _read_csv(path / "summary.csv"),
                   _read_text(path / "scenario.toml"))


def _load_sweep(path: Path, manifest: dict[str, Any]) -> Results:
    if manifest.get("finished") is None:
        raise UserError(f"{path}: unfinished sweep; run the same command again to complete it")
    design = _read_csv(path / "design.csv")
    members = {f"p{int(p):04d}": path / "points" / f"p{int(p):04d}" for p in design["point"]}
    return Results(path, "sweep", manifest, _read_csv(path / "sweep_summary.csv"),
                   _read_text(path / "scenario.toml"), members)


def _empty_discovery() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=["policy", "target", "box", "parameter", "lower", "upper",
                                 "coverage", "density", "mass"])


def _load_explore(path: Path, manifest: dict[str, Any]) -> Results:
    import pandas as pd

    if manifest.get("finished") is None:
        raise UserError(f"{path}: unfinished exploration; run the same command again to "
                        "complete it")
    policies = [str(p) for p in manifest.get("policies") or []]
    count = int(manifest.get("futures") or 0)
    members = {f"{p}/f{i:04d}": path / "futures" / p / f"f{i:04d}"
               for p in policies for i in range(count)}
    tomls = [f"# ---- {p} ----\n{_read_text(path / 'policies' / f'{p}.toml')}"
             for p in policies]
    summary = _read_csv(path / "robustness.csv") if (path / "robustness.csv").is_file() \
        else pd.DataFrame()
    return Results(path, "explore", manifest, summary, "\n".join(tomls), members)


def _load_compare(path: Path) -> Results:
    file = path / COMPARE_JSON
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
        names = [str(n) for n in meta["scenarios"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{file}: broken comparison file ({exc})") from None
    folders = meta.get("folders") or {}
    members = {n: (path / folders.get(n, n)).resolve() for n in names}
    tomls = [f"# ---- {n} ----\n{_read_text(m / 'scenario.toml')}" for n, m in members.items()]
    return Results(path, "compare", {**meta, "kind": "compare"},
                   _read_csv(path / "comparison.csv"), "\n".join(tomls), members)


def load_results(path: Path | str) -> Results:
    """Open a results folder written by ``simsource run``, ``compare``, ``sweep`` or
    ``explore``."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"{path}: no such results folder")
    if (path / COMPARE_JSON).is_file():
        return _load_compare(path)
    if (path / MANIFEST).is_file():
        return _load_run(path)
    raise UserError(f"{path}: not a simsource results folder (no {MANIFEST} or {COMPARE_JSON})")
