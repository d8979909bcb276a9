"""Option types that refuse bad input before a command starts (exit 2, one line).

* :data:`SEED` — a whole number from 0 to 2**63 − 1 (numpy takes no negative seed; results
  files store seeds as 64-bit integers);
* :data:`RESULTS_DIR` — a results folder: not empty text (``--out ""`` would be the working
  folder), and no part of it an existing file (``--out file/sub``);
* :func:`max_events_option` — the limit on the expected events of one replication;
* :data:`posterior_option` — ``--posterior DIR``, a calibration folder to draw parameters from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from simsource.experiment.limits import MAX_SEED

F = TypeVar("F", bound=Callable[..., Any])

SEED = click.IntRange(0, MAX_SEED)


class ResultsDir(click.ParamType):  # type: ignore[type-arg]
    name = "DIR"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Path:
        if isinstance(value, Path):
            return value
        text = str(value)
        if not text.strip():
            self.fail("empty path; name a results folder, e.g. results/my-run", param, ctx)
        if "\x00" in text:
            self.fail("a path cannot hold a NUL character", param, ctx)
        path = Path(text)
        for p in (path, *path.parents):
            try:
                if p.exists() and not p.is_dir():
                    self.fail(f"{p} is a file, not a folder", param, ctx)
            except OSError as exc:  # a name the file system refuses (too long, ...)
                self.fail(f"{exc.strerror}", param, ctx)
        return path


RESULTS_DIR = ResultsDir()


def max_events_option() -> Callable[[F], F]:
    # the default lives in simsource.scenario.workload (not imported here: --help stays fast;
    # a test keeps this text in step)
    return click.option(
        "--max-events", type=click.FloatRange(min=0), default=None, metavar="E",
        help="Refuse a scenario whose expected simulation events per replication exceed E, "
             "estimated before anything runs (default: 50 million; 0: no limit).")


posterior_option = click.option(
    "--posterior", "posterior_dir", type=click.Path(path_type=Path), default=None,
    metavar="DIR",
    help="A folder written by `simsource calibrate`: replication i uses a parameter set drawn "
         "(from seed and i) from its posterior, so the intervals include parameter uncertainty.")
