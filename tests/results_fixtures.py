"""Results folders for ``test_plots.py`` and ``test_report.py``, written by the real experiment
API — :func:`run_compare`, :func:`run_batch` and :func:`run_sweep`, so the real result store
writes every file (docs/results-format.md) — with the real model for a few short replications
in-process. Their ``compare_dir``, ``single_dir`` and ``sweep_dir`` fixtures
reach the tests through ``conftest.py``; each kind of folder is built once per test session,
so a change of the store's files shows in the plots and the report at once."""

from __future__ import annotations

import itertools
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from simsource.experiment.compare import run_compare
from simsource.experiment.runner import run_batch
from simsource.experiment.sweep import run_sweep
from simsource.scenario import load_scenario, parse_overrides

SEED = 11
COMPARE = ("nacka-single", "nacka-multi-10", "nacka-multi")
SHORT = ("scenario.years=2.5",)  # short runs keep the suite fast; warm-up stays 1 year
REPS = 5
JOBS = 1  # in-process: cheaper than a pool for these few replications, also under xdist


def _sets(overrides: Sequence[str]) -> list[str]:
    return [a for o in overrides for a in ("--set", o)]


def write_compare(root: Path, names: Sequence[str] = COMPARE, overrides: Sequence[str] = SHORT,
                  seed: int = SEED, reps: int = REPS) -> Path:
    command = shlex.join(["simsource", "compare", *names, "-n", str(reps), "--seed", str(seed),
                          *_sets(overrides), "--out", str(root)])
    scenarios = [load_scenario(n, parse_overrides(tuple(overrides))) for n in names]
    run_compare(scenarios, reps, seed, jobs=JOBS, out=root, command=command)
    return root


def write_single(root: Path, name: str = "nacka-multi", seed: int = SEED,
                 reps: int = REPS) -> Path:
    command = shlex.join(["simsource", "run", name, "-n", str(reps), "--seed", str(seed),
                          *_sets(SHORT), "--out", str(root)])
    run_batch(load_scenario(name, parse_overrides(SHORT)), reps, seed, jobs=JOBS, out=root,
              command=command)
    return root


TRANSFER_VARY: dict[str, list[Any]] = {"transition.team_size": [6, 10, 14],
                                       "transition.shared_with_operations": [True, False]}


def write_sweep(root: Path, base: str = "nacka-transfer-2017",
                vary: dict[str, list[Any]] | None = None, seed: int = SEED,
                reps: int = 4) -> Path:
    vary = vary or TRANSFER_VARY
    sets = ("scenario.years=1.5",)
    command = shlex.join(["simsource", "sweep", base,
                          *(f"--vary={k}={','.join(map(str, v)).lower()}"
                            for k, v in vary.items()),
                          "-n", str(reps), "--seed", str(seed), *_sets(sets), "--out", str(root)])
    points = [dict(zip(vary, combo, strict=True)) for combo in itertools.product(*vary.values())]
    run_sweep(load_scenario(base, parse_overrides(sets)), points, reps, seed, jobs=JOBS,
              out=root, command=command)
    return root


_CACHE: dict[str, Path] = {}


def cached_folder(kind: str, factory: pytest.TempPathFactory) -> Path:
    """Each kind of folder built once per test session (shared by test_plots and test_report)."""
    if kind not in _CACHE:
        base = factory.mktemp(kind)
        maker = {"compare": write_compare, "single": write_single, "sweep": write_sweep}[kind]
        _CACHE[kind] = maker(base / "res")
    return _CACHE[kind]


@pytest.fixture(scope="session")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_folder("compare", tmp_path_factory)


@pytest.fixture(scope="session")
def single_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_folder("single", tmp_path_factory)


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_folder("sweep", tmp_path_factory)
