"""``simsource kpis``: the model's KPI catalogue, as text or JSON."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from typing import Any

import click


@click.command("kpis")
@click.option("--json", "as_json", is_flag=True,
              help="Print the catalogue as JSON (a list of objects) instead of text.")
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print the KPI section of docs/results-format.md.")
@click.option("--headline", is_flag=True, help="Only the headline KPIs.")
def kpis_cmd(as_json: bool, as_markdown: bool, headline: bool) -> None:
    """List every KPI the model reports, with its unit and meaning.

    KPIs are grouped as in docs/results-format.md; * marks a headline KPI (what tables, the
    report and the teaching page show first). Rates are per year in the KPI window, after the
    warm-up; shares are fractions of one.
    """
    from simsource.model import catalogue

    chosen = catalogue.kpis("headline" if headline else None)
    if as_markdown:
        click.echo(catalogue.markdown())
        return
    if as_json:
        rows: list[dict[str, Any]] = []
        for k in chosen:
            row = asdict(k)
            row["tags"] = sorted(k.tags)
            row["headline"] = k.headline
            rows.append(row)
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(k.name) for k in chosen) + 2
    unit_width = max(len(k.unit) for k in chosen)
    indent = " " * (width + unit_width + 4)
    for group in dict.fromkeys(k.group for k in chosen):
        click.echo(f"\n{group}:")
        for k in (k for k in chosen if k.group == group):
            mark = "*" if k.headline else " "
            text = k.description + (f" Deprecated: {k.deprecated}." if k.deprecated else "")
            line = f"{mark} {k.name:<{width}}{k.unit:<{unit_width}}  {text}"
            click.echo(textwrap.fill(line, 100, subsequent_indent=indent))
    click.echo("\n* = headline KPI")
