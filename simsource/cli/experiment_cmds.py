"""``simsource run | compare | sweep``: Monte Carlo batches, paired comparisons, parameter sweeps.

Thin commands over :mod:`simsource.experiment`; the library is imported inside each command so
``simsource --help`` stays fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simsource.cli import UsageProblem
from simsource.cli.params import RESULTS_DIR, SEED, max_events_option
from simsource.cli.scenario_cmds import load_with_sets, set_option

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from simsource.experiment.backend import Backend

DEFAULT_N = 100


def _warn(msg: str) -> None:
    click.echo(f"warning: {msg}", err=True)


def _command() -> str:
    from simsource.experiment.manifest import command_line

    return command_line(cli=True)


@contextlib.contextmanager
def _backend(name: str, jobs: int | None, scheduler: str | None) -> Iterator[Backend]:
    from simsource.experiment.backend import make_backend
    from simsource.experiment.limits import warn_jobs

    warn_jobs(jobs, _warn)
    be = make_backend(name, jobs, scheduler)
    try:
        yield be
    finally:
        be.close()


def _batch_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by run, compare and sweep (applied bottom-up)."""
    opts = [
        click.option("-n", "--replications", type=int, default=None, metavar="N",
                     help=f"Replications per scenario or design point (default {DEFAULT_N})."),
        click.option("--seed", type=SEED, default=None, metavar="S",
                     help="Root seed; replication i uses (S, i) (default 0)."),
        click.option("-j", "--jobs", type=int, default=None, metavar="JOBS",
                     help="Worker processes (default: every core)."),
        set_option,
        click.option("--out", type=RESULTS_DIR, default=None,
                     metavar="DIR", help="Results folder (default under results/)."),
        click.option("-q", "--quiet", is_flag=True,
                     help="No progress bar and no summary table."),
        click.option("--overwrite", is_flag=True,
                     help="Replace a folder that holds another scenario, seed or design."),
        click.option("--backend", default="local", show_default=True,
                     help="Where replications run: local (worker processes) or dask."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="With --backend dask: the scheduler, e.g. tcp://10.0.0.5:8786 "
                          "(default: a local cluster of -j workers)."),
        max_events_option(),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _warn_overloaded(table: pd.DataFrame, scenario: str | None = None) -> None:
    """Print the catalogue's overload warning for each scenario of a summary (``scenario``
    names it) or comparison table whose funnel is mostly unstable; nothing for results
    without ``funnel_stable``."""
    from simsource.model import catalogue

    rows = table[table["kpi"] == catalogue.STABILITY_KPI]
    for r in rows.to_dict("records"):
        name = scenario if scenario is not None else str(r["scenario"])
        if catalogue.is_overloaded(float(r["mean"])):
            _warn(catalogue.overload_warning(name, float(r["mean"])))


def _print_summary(out: Path, title: str) -> None:
    import pandas as pd

    from simsource.experiment.tables import summary_table

    click.echo(title)
    click.echo(summary_table(pd.read_csv(out / "summary.csv")))


@click.command("run")
@click.argument("scenario", metavar="FILE_OR_NAME")
@_batch_options
@click.option("--precision", type=float, default=None, metavar="P",
              help="Add replications until every --kpis KPI's 95 % CI half-width is within "
                   "P × |mean| (e.g. 0.05); -n is then the starting number.")
@click.option("--max-n", type=int, default=1000, show_default=True, metavar="M",
              help="With --precision: never more replications than this.")
@click.option("--kpis", default=None, metavar="A,B",
              help="With --precision: the KPIs that must reach it (default: innovations, "
                   "lead time, coordinator utilisation, total cost).")
def run_cmd(scenario: str, replications: int | None, seed: int | None, jobs: int | None,
            sets: tuple[str, ...], out: Path | None, quiet: bool, overwrite: bool,
            backend: str, scheduler: str | None, max_events: float | None,
            precision: float | None, max_n: int, kpis: str | None) -> None:
    """Run N replications of a scenario in parallel; write a results folder and print a summary.

    Re-running the same command continues an interrupted batch; a larger -n extends it.
    """
    from simsource.experiment.limits import check_workloads
    from simsource.experiment.tables import warmup_warning

    sc = load_with_sets(scenario, sets)
    check_workloads([sc], max_events)
    seed = 0 if seed is None else seed
    out = out or Path("results") / sc.name
    if kpis is not None and precision is None:
        raise UsageProblem("--kpis: only with --precision")
    with _backend(backend, jobs, scheduler) as be:
        if precision is None:
            from simsource.experiment.runner import run_batch

            n = DEFAULT_N if replications is None else replications
            run_batch(sc, n, seed, jobs, out, progress=not quiet, overwrite=overwrite,
                      backend=be, command=_command(), warn=_warn)
            outcome = None
        else:
            from simsource.experiment.precision import run_precise

            names = [k.strip() for k in kpis.split(",") if k.strip()] if kpis else None
            frame, outcome = run_precise(sc, out, target=precision, max_n=max_n, seed=seed,
                                         kpis=names, min_n=replications or 10, jobs=jobs,
                                         progress=not quiet, overwrite=overwrite, backend=be,
                                         command=_command(), warn=_warn)
            n = len(frame)
    note = ""
    if outcome is not None and outcome.reached:
        note = outcome.describe()
    elif outcome is not None:
        _warn(outcome.describe())
    if not quiet:
        _print_summary(out, f"{sc.name}: {n} replications, seed {seed} -> {out}")
        if note:
            click.echo(note)
    warning = warmup_warning(out, sc)
    if warning:
        if warning.startswith("note:"):
            click.echo(warning, err=True)
        else:
            _warn(warning)
    import pandas as pd

    _warn_overloaded(pd.read_csv(out / "summary.csv"), sc.name)
    if quiet:
        click.echo(str(out))


def _is_results_dir(arg: str) -> bool:
    p = Path(arg)
    return p.is_dir() and ((p / "manifest.json").is_file() or (p / "compare.json").is_file())


@click.command("compare")
@click.argument("sources", nargs=-1, required=True, metavar="SCENARIO_OR_DIR...")
@click.option("--ladder", is_flag=True,
              help="Compare each scenario with the one before it (a ladder of one-change "
                   "steps, e.g. nacka-single nacka-split nacka-multi-10 nacka-multi-10-cell1 "
                   "nacka-multi-10-reinvest nacka-multi), not with the first.")
@_batch_options
def compare_cmd(sources: tuple[str, ...], ladder: bool, replications: int | None,
                seed: int | None, jobs: int | None, sets: tuple[str, ...], out: Path | None,
                quiet: bool, overwrite: bool, backend: str, scheduler: str | None,
                max_events: float | None) -> None:
    """Compare scenarios with common random numbers: each one's mean and 95 % CI, and the paired
    difference to the first with its CI and Holm-corrected p-value.

    Arguments are scenario names/files (run into DIR/<name>/, resumable; --set applies to every
    one) or existing results folders (their seed is used unless --seed is given). With --ladder
    each difference is the step from the scenario before: each rung's own contribution.
    """
    from simsource.experiment.compare import run_compare
    from simsource.experiment.manifest import read_manifest
    from simsource.experiment.tables import comparison_table

    if len(sources) < 2:
        raise UsageProblem("compare: give at least two scenarios or results folders")
    items: list[Any] = []
    for arg in sources:
        if _is_results_dir(arg):
            items.append(Path(arg))
            if seed is None:
                seed = int(read_manifest(Path(arg)).get("seed", 0))
        else:
            items.append(load_with_sets(arg, sets))
    seed = 0 if seed is None else seed
    n = DEFAULT_N if replications is None else replications
    with _backend(backend, jobs, scheduler) as be:
        table = run_compare(items, n, seed, jobs, out, progress=not quiet, overwrite=overwrite,
                            backend=be, command=_command(), max_events=max_events, warn=_warn,
                            ladder=ladder)
    from simsource.experiment.compare import default_out

    _warn_overloaded(table)
    where = out or default_out(list(dict.fromkeys(table["scenario"])))
    if quiet:
        click.echo(str(where))
        return
    how = "each with the one before it (ladder)" if ladder else "paired by replication"
    click.echo(f"comparison, seed {seed}, {how} -> {where}")
    click.echo(comparison_table(table, ladder=ladder))


@click.command("sweep")
@click.argument("scenario", metavar="FILE_OR_NAME")
@click.option("--vary", "vary", multiple=True, required=True, metavar="KEY=VALUES",
              help="A parameter and its values: a,b,c or start:stop:step (stop included when "
                   "on the grid); with --lhs an interval lo:hi. Repeat for a full factorial.")
@click.option("--lhs", type=int, default=None, metavar="K",
              help="A Latin hypercube of K points over the --vary intervals (seeded by --seed).")
@_batch_options
def sweep_cmd(scenario: str, vary: tuple[str, ...], lhs: int | None, replications: int | None,
              seed: int | None, jobs: int | None, sets: tuple[str, ...], out: Path | None,
              quiet: bool, overwrite: bool, backend: str, scheduler: str | None,
              max_events: float | None) -> None:
    """Run a scenario over a design of parameter values (common random numbers at every point).

    Writes sweep.parquet, sweep_summary.csv, design.csv and one results folder per point.
    """
    from simsource.experiment.design import expand
    from simsource.experiment.sweep import default_out, run_sweep
    from simsource.experiment.tables import sweep_table

    sc = load_with_sets(scenario, sets)
    seed = 0 if seed is None else seed
    n = DEFAULT_N if replications is None else replications
    points = expand(vary, sc, lhs=lhs, seed=seed)
    with _backend(backend, jobs, scheduler) as be:
        design, summary = run_sweep(sc, points, n, seed, jobs, out, progress=not quiet,
                                    overwrite=overwrite, backend=be, command=_command(),
                                    lhs=lhs, max_events=max_events, warn=_warn)
    where = out or default_out(sc)
    if quiet:
        click.echo(str(where))
        return
    click.echo(f"sweep of {sc.name}: {len(design)} points x {n} replications, seed {seed} "
               f"-> {where}")
    click.echo(sweep_table(design, summary))
