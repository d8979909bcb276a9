"""``simsource sensitivity | staff``: what drives a KPI, and how many coordinators are needed.

Thin commands over :mod:`simsource.analysis.sensitivity` and :mod:`simsource.analysis.staffing`;
the libraries are imported inside each command so ``simsource --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simsource.cli import UsageProblem
from simsource.cli.params import RESULTS_DIR, SEED, posterior_option
from simsource.cli.scenario_cmds import set_option

if TYPE_CHECKING:
    from simsource.experiment.backend import Backend
    from simsource.scenario import Scenario

DEFAULT_SAMPLES = {"morris": 8, "sobol": 64}
backend_option = click.option("--backend", default="local", show_default=True,
                              help="Where replications run: local (worker processes) or dask.")
scheduler_option = click.option(
    "--scheduler", default=None, metavar="ADDRESS",
    help="With --backend dask: the scheduler, e.g. tcp://10.0.0.5:8786 (default: a local "
         "cluster of -j workers).")


@contextlib.contextmanager
def _backend(name: str, jobs: int | None, scheduler: str | None) -> Iterator[Backend]:
    """The backend for one command, closed when it ends (a LocalCluster is shut down; an
    external Dask cluster keeps running)."""
    from simsource.experiment.backend import make_backend
    from simsource.experiment.limits import warn_jobs

    warn_jobs(jobs, lambda msg: click.echo(f"warning: {msg}", err=True))
    be = make_backend(name, jobs, scheduler)
    try:
        yield be
    finally:
        be.close()


def _command() -> str:
    from simsource.experiment.manifest import command_line

    return command_line(cli=True)


def _load(scenario: str, sets: tuple[str, ...], years: float | None) -> Scenario:
    from simsource.scenario import load_scenario, parse_overrides

    overrides: dict[str, Any] = parse_overrides(sets)
    if years is not None:
        if years <= 0:
            raise UsageProblem(f"--years: must be positive, got {years:g}")
        overrides["scenario.years"] = years
    return load_scenario(scenario, overrides)


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=fig.dpi)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@click.command("sensitivity")
@click.argument("scenario", metavar="FILE_OR_NAME")
@click.option("--method", type=click.Choice(["morris", "sobol"]), default="morris",
              show_default=True, help="Morris screening (cheap) or Sobol indices (thorough).")
@click.option("--params", default=None, metavar="K1,K2,...|all",
              help="Dotted keys (fnmatch patterns like 'suppliers.*.proactive' allowed; "
                   "KEY=LOW:HIGH sets a range), or 'all'. Default: ten key parameters that "
                   "apply to the scenario (see --list-params).")
@click.option("--samples", type=int, default=None, metavar="N",
              help="Morris trajectories (default 8) or Sobol base samples, a power of two "
                   "(default 64).")
@click.option("--kpi", default="innovations_per_year", show_default=True,
              help="The KPI analysed.")
@click.option("-r", "--replications", type=int, default=3, show_default=True, metavar="REPS",
              help="Replications averaged per design point (common random numbers).")
@click.option("--seed", type=SEED, default=0, show_default=True, metavar="S")
@click.option("-j", "--jobs", type=int, default=None, metavar="JOBS",
              help="Worker processes (default: every core).")
@click.option("--out", type=RESULTS_DIR, default=None,
              metavar="DIR", help="Output folder (default results/sensitivity-SCENARIO-METHOD/).")
@set_option
@click.option("--years", type=float, default=None, metavar="Y",
              help="Simulated years incl. warm-up (shorter runs for a quicker screen).")
@click.option("--levels", type=int, default=4, show_default=True,
              help="Morris grid levels (even).")
@click.option("--top", type=int, default=12, show_default=True,
              help="Parameters shown in the plot.")
@click.option("--list-params", is_flag=True,
              help="List the parameters with ranges that apply to the scenario, and exit.")
@backend_option
@scheduler_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def sensitivity_cmd(scenario: str, method: str, params: str | None, samples: int | None,
                    kpi: str, replications: int, seed: int, jobs: int | None, out: Path | None,
                    sets: tuple[str, ...], years: float | None, levels: int, top: int,
                    list_params: bool, backend: str, scheduler: str | None,
                    quiet: bool) -> None:
    """Which parameters drive a KPI? Morris or Sobol sensitivity analysis (SALib) over the
    plausible ranges the scenario schema declares.

    Each design point is the mean of REPS replications with common random numbers. Writes
    sensitivity.csv (Morris: mu_star, mu_star_conf, sigma, mu; Sobol: S1, S1_conf, ST, ST_conf),
    sensitivity.png (tornado of the most influential parameters), points.csv (design and KPI
    means) and sensitivity.json to the output folder.
    """
    from simsource.analysis import sensitivity as sa
    from simsource.experiment.folders import claim_files
    from simsource.experiment.limits import check_points, check_replications, check_workloads

    sc = _load(scenario, sets, years)
    if list_params:
        defaults = set(sa.DEFAULT_PARAMS)
        for p in sa.parameter_space(sc):
            mark = "*" if p.key in defaults else " "
            kind = "int" if p.integer else "float"
            click.echo(f"{mark} {p.key:<48} {p.low:g}..{p.high:g} {kind:<5} (now {p.value:g}"
                       f"{' ' + p.unit if p.unit else ''})")
        click.echo("(* = analysed by default)")
        return
    n = samples if samples is not None else DEFAULT_SAMPLES[method]
    sa.check_inputs(method, n, replications, levels)
    check_replications(replications, "-r/--replications")
    check_points(n, "--samples", "fewer --samples")
    check_workloads([sc], None)
    if method == "sobol" and sa.sobol_samples(n) != n:
        click.echo(f"note: --samples rounded up to {sa.sobol_samples(n)} (Sobol needs a power "
                   "of two)", err=True)
    chosen = sa.select_params(sc, params)
    k = len(chosen)  # design points, counted before SALib builds them
    check_points(n * (k + 1) if method == "morris" else sa.sobol_samples(n) * (2 * k + 2),
                 f"--samples {n} over {k} parameters", "fewer --samples or --params")
    folder = out or Path("results") / f"sensitivity-{sc.name}-{method}"
    files = ("sensitivity.csv", "points.csv", "sensitivity.png", "sensitivity.json")
    claim_files(folder, *files, dry=True)  # a user's file there: refused before the work
    t0 = time.perf_counter()
    with _backend(backend, jobs, scheduler) as be:
        res = sa.run_sensitivity(sc, chosen, method=method, samples=n, kpi=kpi,
                                 replications=replications, seed=seed, jobs=jobs,
                                 progress=not quiet, levels=levels, backend=be)
    elapsed = time.perf_counter() - t0
    claim_files(folder, *files)
    res.table.to_csv(folder / "sensitivity.csv", index=False)
    res.design.to_csv(folder / "points.csv", index=False)
    _save(sa.plot_sensitivity(res, top=top), folder / "sensitivity.png")
    _write_json(folder / "sensitivity.json", {
        "scenario": sc.name, "method": method, "kpi": kpi, "samples": res.samples,
        "levels": levels if method == "morris" else None, "replications": replications,
        "seed": seed, "points": len(res.design), "simulations": len(res.design) * replications,
        "seconds": round(elapsed, 1), "command": _command(),
        "params": [{"key": p.key, "low": p.low, "high": p.high, "integer": p.integer,
                    "value": p.value} for p in chosen],
    })
    what = "mu_star = mean |effect| over the whole range" if method == "morris" else \
        "S1 = share of variance alone, ST = with interactions"
    click.echo(f"{method} sensitivity of {kpi} in {sc.name}: {len(chosen)} parameters, "
               f"{len(res.design)} design points × {replications} replications "
               f"(seed {seed}, common random numbers) in {elapsed:.0f} s; {what}")
    click.echo(sa.format_table(res))
    click.echo(f"wrote {folder}/sensitivity.csv, sensitivity.png, points.csv, sensitivity.json")


@click.command("staff")
@click.argument("scenario", metavar="FILE_OR_NAME")
@click.option("--target", required=True, metavar="'KPI>=X'",
              help="What must hold in a replication: KPI>=X, KPI<=X, KPI>X or KPI<X, e.g. "
                   "'innovations_per_year>=20'.")
@click.option("--confidence", type=float, default=0.9, show_default=True,
              help="Required share of replications meeting the target.")
@click.option("--max-staff", type=int, default=60, show_default=True)
@click.option("--min-staff", type=int, default=1, show_default=True)
@click.option("-n", "--replications", type=int, default=40, show_default=True, metavar="REPS",
              help="Replications per staffing level (common random numbers).")
@click.option("--seed", type=SEED, default=0, show_default=True, metavar="S")
@click.option("-j", "--jobs", type=int, default=None, metavar="JOBS",
              help="Worker processes (default: every core).")
@click.option("--out", type=RESULTS_DIR, default=None,
              metavar="DIR", help="Output folder (default results/staff-SCENARIO/).")
@set_option
@click.option("--years", type=float, default=None, metavar="Y",
              help="Simulated years incl. warm-up.")
@click.option("--strict", is_flag=True,
              help="Require the lower end of the 95 % Wilson interval (not the share itself) "
                   "to reach --confidence.")
@backend_option
@scheduler_option
@posterior_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def staff_cmd(scenario: str, target: str, confidence: float, max_staff: int, min_staff: int,
              replications: int, seed: int, jobs: int | None, out: Path | None,
              sets: tuple[str, ...], years: float | None, strict: bool, backend: str,
              scheduler: str | None, posterior_dir: Path | None, quiet: bool) -> None:
    """How many coordinators are needed? The smallest coordination.staff for which TARGET holds
    in at least --confidence of the replications, its cost, and the curve.

    The staffing plan is emptied (coordination.plan = []), so each level holds from day 0;
    consultants stay as the scenario has them. Levels are searched by galloping up from
    --min-staff and then bisecting (the share is assumed to grow with staffing). Writes
    staff.csv, staff.png and staff.json to the output folder.
    """
    from simsource.analysis import staffing as st
    from simsource.experiment.folders import claim_files
    from simsource.experiment.limits import check_replications, check_workloads

    sc = _load(scenario, sets, years)
    check_replications(replications)
    check_workloads([sc], None)
    folder = out or Path("results") / f"staff-{sc.name}"
    files = ("staff.csv", "staff.png", "staff.json")
    claim_files(folder, *files, dry=True)  # a user's file there: refused before the work
    post = None
    if posterior_dir is not None:
        from simsource.experiment.posterior import Posterior

        post = Posterior.load(posterior_dir)
    t0 = time.perf_counter()
    with _backend(backend, jobs, scheduler) as be:
        res = st.find_staffing(sc, target, confidence=confidence, min_staff=min_staff,
                               max_staff=max_staff, replications=replications, seed=seed,
                               strict=strict, jobs=jobs, progress=not quiet, backend=be,
                               posterior=post)
    elapsed = time.perf_counter() - t0
    claim_files(folder, *files)
    res.table().to_csv(folder / "staff.csv", index=False)
    _save(st.plot_staffing(res), folder / "staff.png")
    chosen = res.chosen
    _write_json(folder / "staff.json", {
        "scenario": sc.name, "target": str(res.target), "confidence": confidence,
        "strict": strict, "min_staff": min_staff, "max_staff": max_staff,
        "replications": replications, "seed": seed, "consultants": res.consultants,
        "answer": res.answer, "met": res.answer is not None,
        "share": None if chosen is None else chosen.share,
        "share_ci": None if chosen is None else [chosen.share_low, chosen.share_high],
        "costs": {} if chosen is None else {k: chosen.means[k] for k in st.COST_KPIS
                                            if k in chosen.means},
        "evaluated": res.evaluated, "seconds": round(elapsed, 1), "command": _command(),
        "note": "coordination.plan = [] (staffing is the steady level from day 0)",
        "posterior_source": None if post is None else post.record(),
    })
    click.echo(f"staffing search: {sc.name}, target {res.target} in ≥ {confidence:.0%} of "
               f"{replications} replications (seed {seed}, common random numbers)")
    click.echo(f"note: coordination.plan = [] — each staffing level holds from day 0; "
               f"consultants held at {res.consultants}")
    click.echo(st.format_levels(res))
    for line in st.describe(res):
        click.echo(line)
    if post is not None:
        click.echo(post.note().replace("intervals include", "the shares and intervals include"))
    click.echo(f"{len(res.levels) * replications} simulations in {elapsed:.0f} s; wrote "
               f"{folder}/staff.csv, staff.png, staff.json")
