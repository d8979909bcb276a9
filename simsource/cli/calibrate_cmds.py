"""``simsource calibrate``: which parameter values reproduce what an organisation observed.

A thin command over :mod:`simsource.analysis.calibration`; the library is imported inside the
command so ``simsource --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simsource.cli.experiment_cmds import _backend, _warn
from simsource.cli.params import RESULTS_DIR, SEED
from simsource.cli.scenario_cmds import load_with_sets, set_option


def _g(x: Any) -> str:
    from simsource import formatting

    if x is None:  # an empty posterior has no quantiles
        return "–"
    return formatting.number(x, 3, missing="–") if isinstance(x, float) else str(x)


def _print(summary: dict[str, Any], folder: Path) -> None:
    from simsource.experiment.tables import render_table

    click.echo(f"calibration of {summary['scenario']} against {summary['facts_file']}: "
               f"{summary['accepted']} of {summary['candidates']} candidates non-implausible "
               f"(I < {summary['cutoff']:g}), {summary['budget']['used']} of "
               f"{summary['budget']['requested']} simulations, {len(summary['waves'])} waves, "
               f"{summary['seconds']:.0f} s")
    rows = []
    for p in summary["params"]:
        pr, po = p["prior"], p["posterior"]
        rows.append([p["key"], f"{_g(pr['lower'])}..{_g(pr['upper'])}",
                     f"{_g(po['q05'])}..{_g(po['q95'])}", _g(po["q50"]),
                     _g(p["width_ratio_90"])])
    click.echo(render_table(["parameter", "prior", "posterior 90 %", "median",
                             "width vs prior"], rows, right={4}))
    rows = []
    for f in summary["facts"]:
        pp, po = f["prior_predictive"], f["posterior_predictive"]
        rows.append([f["name"] + ("" if f["used"] else " (held back)"), f["observed"],
                     f"{_g(pp['q05'])}..{_g(pp['q95'])}", f"{_g(po['q05'])}..{_g(po['q95'])}",
                     "yes" if f["covered_by_posterior_90"] else "NO",
                     _g(f["prior_share_ruled_out"])])
    click.echo(render_table(["fact", "observed", "prior 90 %", "posterior 90 %", "covered",
                             "rules out"], rows, right={5}))
    click.echo(f"wrote {folder}/posterior.parquet, calibration.json, evaluations.parquet, "
               "plots/marginals.png, plots/facts.png; use it with --posterior "
               f"{folder} (run, compare, sweep, staff)")


@click.command("calibrate")
@click.argument("scenario", metavar="FILE_OR_NAME")
@click.option("--facts", "facts_file", type=click.Path(path_type=Path), required=True,
              metavar="FILE", help="The facts file (TOML, docs/calibration.md).")
@click.option("--params", default=None, metavar="K1,K2,...",
              help="Parameters to calibrate: dotted keys, globs ('suppliers.*.proactive') or "
                   "KEY=LOW:HIGH (own prior range); default: the keys of the facts' [priors].")
@click.option("--budget", type=int, default=1000, show_default=True, metavar="N",
              help="Total number of simulations.")
@click.option("-n", "--replications", type=int, default=4, show_default=True, metavar="R",
              help="Replications per candidate and scenario (a fact may ask for more).")
@click.option("--seed", type=SEED, default=0, show_default=True, metavar="S")
@click.option("--waves", type=int, default=3, show_default=True,
              help="Waves of history matching (more run while the budget lasts).")
@click.option("--cutoff", type=float, default=3.0, show_default=True,
              help="Implausibility cut-off (Vernon et al. 2010: 3).")
@click.option("--hold-out", "hold_out", multiple=True, metavar="FACT",
              help="A fact to predict instead of calibrating on (repeatable).")
@click.option("-j", "--jobs", type=int, default=None, metavar="JOBS",
              help="Worker processes (default: every core).")
@click.option("--backend", default="local", show_default=True,
              help="Where replications run: local (worker processes) or dask.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --backend dask: the scheduler address.")
@click.option("--out", type=RESULTS_DIR, default=None, metavar="DIR",
              help="Results folder (default results/calibrate-SCENARIO).")
@click.option("--overwrite", is_flag=True,
              help="Replace a folder that holds another calibration.")
@set_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no tables.")
def calibrate_cmd(scenario: str, facts_file: Path, params: str | None, budget: int,
                  replications: int, seed: int, waves: int, cutoff: float,
                  hold_out: tuple[str, ...], jobs: int | None, backend: str,
                  scheduler: str | None, out: Path | None, overwrite: bool,
                  sets: tuple[str, ...], quiet: bool) -> None:
    """Which parameter values reproduce what was observed? History matching of a scenario's
    parameters against a facts file; writes a posterior for --posterior.

    Candidates from the priors (uniform over the schema's plausible ranges, or the facts'
    [priors]) run on every scenario the facts name; those whose predictions are implausibly
    far from a fact are ruled out, and later waves sample the region left. Writes
    posterior.parquet, calibration.json, evaluations.parquet and plots/; rerunning the same
    command resumes.
    """
    from simsource.analysis.calibration import calibrate, load_facts, setup
    from simsource.experiment.manifest import command_line

    sc = load_with_sets(scenario, sets)
    facts = load_facts(facts_file)
    s = setup(sc, facts, params, budget=budget, replications=replications, waves=waves,
              cutoff=cutoff, seed=seed, hold_out=hold_out)
    folder = out or Path("results") / f"calibrate-{sc.name}"
    with _backend(backend, jobs, scheduler) as be:
        res = calibrate(s, folder, jobs=jobs, backend=be, progress=not quiet,
                        overwrite=overwrite, command=command_line(cli=True), warn=_warn)
    if quiet:
        click.echo(str(folder))
        return
    _print(res.summary, folder)
