"""``simsource plot | report``: figures and a self-contained HTML report of a results folder.

pandas and matplotlib are imported inside the commands, so ``simsource plot --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from simsource.analysis.kinds import KIND_TEXTS as KINDS
from simsource.cli import UsageProblem

_KIND_HELP = "; ".join(f"{name}: {what}" for name, what in KINDS.items())


@click.command("plot")
@click.argument("results", type=click.Path(path_type=Path), metavar="RESULTS")
@click.option("--kind", type=click.Choice(list(KINDS)), default=None,
              help=f"Only this kind (default: every kind that applies). {_KIND_HELP}.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              metavar="FILE", help="Write one figure here (.png or .svg); needs --kind.")
@click.option("--kpi", "kpis", multiple=True, metavar="KPI",
              help="KPI(s) for the distributions and sweep kinds (repeatable), e.g. "
                   "--kpi innovations_per_year.")
@click.option("--x", "x", default=None, metavar="PARAM",
              help="Swept parameter on the x-axis of a sweep plot (default: the first numeric "
                   "one).")
def plot_cmd(results: Path, kind: str | None, output: Path | None, kpis: tuple[str, ...],
             x: str | None) -> None:
    """Draw the figures of a results folder from `run`, `compare` or `sweep`.

    By default every applicable kind is written as RESULTS/plots/<kind>.png.
    """
    from simsource.analysis.plots import check_format

    if output is not None:
        if kind is None:
            raise UsageProblem("-o/--output writes one figure: choose it with --kind "
                               f"({', '.join(KINDS)})")
        check_format(output)
    from simsource.analysis.plots import applicable_kinds, load_analysis, render, save

    data = load_analysis(results)
    kinds = [kind] if kind is not None else applicable_kinds(data)
    if not kinds:
        raise UsageProblem(f"{results}: nothing to plot in this {data.kind} folder")
    for k in kinds:
        fig = render(data, k, list(kpis) or None, x)
        path = save(fig, output if output is not None else results / "plots" / f"{k}.png")
        click.echo(f"wrote {path}")


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path), metavar="RESULTS")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              metavar="FILE.html", help="Where to write the report (default: RESULTS/report.html).")
def report_cmd(results: Path, output: Path | None) -> None:
    """Write one self-contained HTML report (figures embedded, no network needed to view):
    what was run, key results with 95 % CIs, differences between scenarios, a plain-language
    summary, every figure and a STRESS-DES reproducibility section."""
    if output is not None and output.suffix.lower() not in (".html", ".htm"):
        raise UsageProblem(f"{output}: the report is HTML; use a .html file name")
    from simsource.analysis.report import write_report

    path = write_report(results, output)
    click.echo(f"wrote {path}")
