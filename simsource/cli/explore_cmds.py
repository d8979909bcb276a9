"""``simsource explore``: which policy is robust across plausible futures, and where does each
one fail?

A thin command over :mod:`simsource.experiment.explore` (the runs), :mod:`simsource.analysis.
explore` (robustness, scenario discovery) and :mod:`simsource.analysis.plots` (figures); the
libraries are imported inside the command so ``simsource --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simsource.cli import UsageProblem
from simsource.cli.experiment_cmds import _backend, _warn
from simsource.cli.params import RESULTS_DIR, SEED, max_events_option
from simsource.cli.scenario_cmds import load_with_sets, set_option

DEFAULT_FUTURES = 100
DEFAULT_REPLICATIONS = 3


@click.command("explore")
@click.argument("policies", nargs=-1, required=True, metavar="POLICY...")
@click.option("--uncertain", default=None, metavar="K1,K2,...|all",
              help="Uncertain parameters: dotted keys, globs ('funnel.*'), KEY=LOW:HIGH or "
                   "'all'; sampled by Latin hypercube over the schema's plausible ranges (mixes "
                   "stay valid). Optional with --posterior.")
@click.option("--futures", "n_futures", type=int, default=DEFAULT_FUTURES, show_default=True,
              metavar="M", help="Number of futures every policy meets.")
@click.option("-n", "--replications", type=int, default=DEFAULT_REPLICATIONS,
              show_default=True, metavar="R",
              help="Replications per policy and future (KPI means over them).")
@click.option("--target", "targets", multiple=True, metavar="'KPI>=X'",
              help="A target a policy should meet (KPI>=X, KPI<=X, KPI>X or KPI<X; the KPI's "
                   "mean in a future); repeatable.")
@click.option("--posterior", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Draw the futures from a calibration posterior (DIR/posterior.parquet, by "
                   "weight); --uncertain keys it lacks are sampled by Latin hypercube.")
@click.option("--seed", type=SEED, default=0, show_default=True, metavar="S",
              help="Root seed: of the futures' sample and of every replication.")
@click.option("-j", "--jobs", type=int, default=None, metavar="JOBS",
              help="Worker processes (default: every core).")
@click.option("--backend", default="local", show_default=True,
              help="Where replications run: local (worker processes) or dask.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --backend dask: the scheduler, e.g. tcp://10.0.0.5:8786 (default: a "
                   "local cluster of -j workers).")
@click.option("--out", type=RESULTS_DIR, default=None, metavar="DIR",
              help="Results folder (default results/explore-P1-vs-P2/).")
@click.option("--max-boxes", type=click.IntRange(1, 10), default=3, show_default=True,
              help="PRIM boxes per policy and target, at most.")
@set_option
@click.option("--overwrite", is_flag=True,
              help="Replace a folder that holds other policies, seed or futures.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no tables.")
@max_events_option()
def explore_cmd(policies: tuple[str, ...], uncertain: str | None, n_futures: int,
                replications: int, targets: tuple[str, ...], posterior: Path | None, seed: int,
                jobs: int | None, backend: str, scheduler: str | None, out: Path | None,
                max_boxes: int, sets: tuple[str, ...], overwrite: bool, quiet: bool,
                max_events: float | None) -> None:
    """Which policy is robust across plausible futures, and where does each one fail? Runs every
    policy (a scenario name or file) in the same sampled futures with common random numbers.

    Writes futures.parquet (one row per future and policy: the uncertain values and each KPI's
    mean), robustness.csv (share of futures meeting each target; mean and 90th-percentile
    regret against the best policy in the same future), discovery.csv (PRIM boxes of the
    futures where a policy misses a target) and plots/. Re-running continues an interrupted
    exploration; other --target values reuse its simulations.
    """
    import time

    from simsource.analysis import explore as ana
    from simsource.analysis.plots import load_analysis, plot_all
    from simsource.experiment import sampling
    from simsource.experiment.engine import kpi_names
    from simsource.experiment.explore import check_policies, default_out, run_explore
    from simsource.experiment.limits import check_points, check_replications
    from simsource.experiment.manifest import command_line

    if uncertain is None and posterior is None:
        raise UsageProblem("explore: name the uncertain parameters with --uncertain (or draw "
                           "futures from a calibration with --posterior DIR)")
    if n_futures < 1:
        raise UsageProblem(f"--futures: must be at least 1, got {n_futures}")
    check_points(n_futures, "--futures", "fewer --futures")
    check_replications(replications)
    scs = [load_with_sets(p, sets) for p in policies]
    check_policies(scs)
    goals = ana.targets_of(targets, kpi_names(scs[0]))
    space: list[sampling.Uncertain] = []
    frames: list[Any] = []
    info: dict[str, Any] = {"posterior": None, "sampling": "latin hypercube"}
    if posterior is not None:
        where = f"{posterior / sampling.POSTERIOR_FILE}"
        post = sampling.posterior_shares(sampling.read_posterior(posterior), scs, where)
        pspace = sampling.posterior_space(post, scs, where)
        space += pspace
        frames.append(sampling.draw_posterior(post, n_futures, seed))
        info.update(posterior=str(posterior), sampling="posterior draws by weight")
    if uncertain is not None:
        taken = {u.key for u in space}
        rest = [u for u in sampling.resolve_uncertain(scs, uncertain) if u.key not in taken]
        if rest:
            space += rest
            lhs = sampling.latin_hypercube_sets(rest, n_futures, seed,
                                                scenarios=[] if posterior else scs)
            frames.append(lhs)
            if lhs.attrs.get("rejected"):
                info.update(rejected=lhs.attrs["rejected"], rejection=lhs.attrs["rejection"])
                click.echo(f"note: {lhs.attrs['rejected']} sampled futures broke a rule between "
                           f"parameters and were replaced by valid ones (e.g. "
                           f"{lhs.attrs['rejection']})", err=True)
            if posterior is not None:
                info["sampling"] = ("posterior draws by weight; latin hypercube for "
                                    + ", ".join(u.key for u in rest))
    import pandas as pd

    futures = pd.concat(frames, axis=1)
    folder = out or default_out([sc.name for sc in scs])
    t0 = time.perf_counter()
    with _backend(backend, jobs, scheduler) as be:
        run_explore(scs, space, futures, replications, seed, jobs, folder, progress=not quiet,
                    overwrite=overwrite, backend=be, command=command_line(cli=True),
                    max_events=max_events, info=info, warn=_warn)
    simulated = time.perf_counter() - t0
    result = ana.analyse(folder, goals, max_boxes)
    written = plot_all(load_analysis(folder))
    elapsed = time.perf_counter() - t0
    if quiet:
        click.echo(str(folder))
        return
    click.echo(f"explore: {len(scs)} policies × {n_futures} futures × {replications} "
               f"replications ({len(space)} uncertain parameters, seed {seed}, common random "
               f"numbers) in {elapsed:.0f} s ({simulated:.0f} s simulating) -> {folder}")
    click.echo(ana.format_robustness(result.robustness))
    for line in ana.describe_boxes(result.discovery, result.robustness):
        click.echo(line)
    click.echo(f"wrote {folder}/futures.parquet, robustness.csv, discovery.csv and "
               f"{len(written)} plots")
