"""``simsource compare``: several scenarios with common random numbers, paired differences.

Every scenario runs replications ``0..n-1`` with the same seed, so replication ``i`` of each sees
the same ideas and incidents where their inputs agree; the difference to the first scenario is
paired by replication (much tighter than comparing two independent means). Existing results
folders can take part too, as long as they used the same seed.

The comparison folder is locked while it is written and has a record of what simsource wrote
(``compare.json``'s ``"written"``); ``--out`` refuses a folder that is not empty and not a
comparison, and ``--overwrite`` removes only what the record names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.folders import holding
from simsource.experiment.limits import check_seed, check_workloads
from simsource.experiment.manifest import command_line
from simsource.experiment.ownership import COMPARE_JSON, MANIFEST, Ownership
from simsource.experiment.parquetio import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.scenario import Scenario



def default_out(names: Sequence[str]) -> Path:
    return Path("results") / ("compare-" + "-vs-".join(names))


def _claim(out: Path, own: Ownership, overwrite: bool, sources: Sequence[Path]) -> None:
    """Check that ``out`` may hold this comparison (call under its lock)."""
    if (out / MANIFEST).exists():
        if not overwrite:
            raise UserError(f"{out}: holds a single results folder ({MANIFEST}), not a "
                            f"comparison; {own.advice()}")
        own.clear()
        return
    if not (out / COMPARE_JSON).exists():
        bad = own.first_foreign()
        if bad is not None:
            raise UserError(f"{out}: not empty and not a simsource results folder (it holds "
                            f"{bad}); use another --out")
        return
    if overwrite:
        root = out.resolve()
        inside = [s for s in sources if root in s.resolve().parents or s.resolve() == root]
        if inside:
            raise UserError(f"{out}: --overwrite would remove {inside[0]}, which this comparison "
                            "reads; use another --out")
        own.clear()


def run_compare(sources: Sequence[Scenario | Path], replications: int, seed: int = 0,
                jobs: int | None = None, out: Path | str | None = None, progress: bool = False,
                *, overwrite: bool = False, backend: str | Backend = "local",
                command: str | None = None,
                model: str | None = None, max_events: float | None = None,
                warn: Callable[[str], None] | None = None, ladder: bool = False
                ) -> pd.DataFrame:
    """Run (or reuse) each source and write ``comparison.csv`` and ``compare.json``.

    ``sources`` are scenarios (run into ``out/<name>/``, resumable) or paths of existing
    results folders. Returns the comparison table (docs/results-format.md); with ``ladder``
    each scenario's difference is to the one before it (a ladder of one-change steps, e.g.
    ``nacka-single nacka-split nacka-multi-10 …``), not to the first. Scenarios whose
    expected events per replication exceed ``max_events`` are refused before anything runs.
    """
    from simsource.experiment.results import load_results

    if len(sources) < 2:
        raise UserError("compare: needs at least two scenarios or results folders")
    names: list[str] = []
    folders: dict[str, Path] = {}
    loaded: dict[str, pd.DataFrame] = {}
    to_run: list[tuple[Scenario, str]] = []
    for src in sources:
        if isinstance(src, Path):
            res = load_results(src)
            if res.kind != "run":
                raise UserError(f"{src}: a {res.kind} folder cannot take part in a comparison")
            if int(res.manifest.get("seed", -1)) != seed:
                raise UserError(f"{src}: holds seed {res.manifest.get('seed')}, but the "
                                f"comparison uses seed {seed}; pass --seed "
                                f"{res.manifest.get('seed')} to pair by replication")
            name = str(res.manifest.get("scenario", src.name))
            loaded[name] = res.replications
            folders[name] = src
        else:
            name = src.name
            to_run.append((src, name))
        if name in names:
            raise UserError(f"compare: two scenarios are named '{name}'; give one another "
                            "name (name = \"...\" in its file)")
        names.append(name)
    out = Path(out) if out is not None else default_out(names)
    check_seed(seed)
    check_workloads([sc for sc, _ in to_run], max_events)
    with holding(out, "simsource compare") as own:
        _claim(out, own, overwrite, [s for s in sources if isinstance(s, Path)])
        own.adopt()
        own.clean_tmp()
        own.claim(*(f"{name}/" for _, name in to_run))
        return _run(out, own, names, to_run, loaded, folders, replications, seed, jobs,
                    progress, overwrite, backend, command, model, warn, ladder)


def _run(out: Path, own: Ownership, names: list[str], to_run: list[tuple[Scenario, str]],
         loaded: dict[str, pd.DataFrame], folders: dict[str, Path], replications: int,
         seed: int, jobs: int | None, progress: bool, overwrite: bool,
         backend: str | Backend, command: str | None, model: str | None,
         warn: Callable[[str], None] | None, ladder: bool = False) -> pd.DataFrame:
    from simsource.experiment.backend import using_backend
    from simsource.experiment.runner import run_stores
    from simsource.stats import compare_table

    if to_run:
        with using_backend(backend, jobs) as be:
            frames = run_stores([(sc, out / name) for sc, name in to_run], replications, seed,
                                be, progress=progress, desc="compare", overwrite=overwrite,
                                command=command, model=model, warn=warn)
        for (_, name), frame in zip(to_run, frames, strict=True):
            loaded[name] = frame
            folders[name] = out / name
    frames_in_order = {name: loaded[name] for name in names}
    sizes = {name: len(df) for name, df in frames_in_order.items()}
    if len(set(sizes.values())) > 1 and warn is not None:
        warn("compare: the scenarios have different numbers of replications "
             f"({', '.join(f'{k}: {v}' for k, v in sizes.items())}); differences are paired on "
             "the replications they share")
    table = compare_table(frames_in_order, ladder=ladder)
    own.claim("comparison.csv", COMPARE_JSON)
    atomic_write_text(out / "comparison.csv", table.to_csv(index=False))
    meta: dict[str, Any] = {
        "kind": "compare", "scenarios": names, "seed": seed, "ladder": ladder,
        "replications": min(sizes.values()), "command": command or command_line(),
        "folders": {n: os.path.relpath(p, out) for n, p in folders.items()},
        "written": own.recorded(),
    }
    atomic_write_text(out / COMPARE_JSON, json.dumps(meta, indent=2) + "\n")
    return table
