"""``simsource compare``: several scenarios with common random numbers, paired differences.

Every scenario runs replications ``0..n-1`` with the same seed, so replication ``i`` of each sees
the same ideas and incidents where their inputs agree; the difference to the first scenario is
paired by replication (much tighter than comparing two independent means). Existing results
folders can take part too, as long as they used the same seed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsource.errors import UserError
from simsource.experiment.manifest import MANIFEST, clear_owned, command_line
from simsource.experiment.parquetio import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.scenario import Scenario

COMPARE_JSON = "compare.json"


def default_out(names: Sequence[str]) -> Path:
    return Path("results") / ("compare-" + "-vs-".join(names))


def _claim(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder; use another --out")
    if (out / MANIFEST).exists():
        if not overwrite:
            raise UserError(f"{out}: holds a single results folder ({MANIFEST}), not a "
                            "comparison; use --overwrite or another --out")
        clear_owned(out)


def run_compare(sources: Sequence[Scenario | Path], replications: int, seed: int = 0,
                jobs: int | None = None, out: Path | str | None = None, progress: bool = False,
                *, overwrite: bool = False, backend: str | Backend = "local",
                command: str | None = None,
                model: str | None = None,
                warn: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run (or reuse) each source and write ``comparison.csv`` and ``compare.json``.

    ``sources`` are scenarios (run into ``out/<name>/``, resumable) or paths of existing
    results folders. Returns the comparison table (docs/results-format.md).
    """
    from simsource.experiment.backend import using_backend
    from simsource.experiment.results import load_results
    from simsource.experiment.runner import run_stores
    from simsource.stats import compare_table

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
    _claim(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
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
    table = compare_table(frames_in_order)
    atomic_write_text(out / "comparison.csv", table.to_csv(index=False))
    meta: dict[str, Any] = {
        "kind": "compare", "scenarios": names, "seed": seed,
        "replications": min(sizes.values()), "command": command or command_line(),
        "folders": {n: os.path.relpath(p, out) for n, p in folders.items()},
    }
    atomic_write_text(out / COMPARE_JSON, json.dumps(meta, indent=2) + "\n")
    return table
