"""``simsource scenarios | validate | show``: list, check and print scenario files."""

from __future__ import annotations

import click

from simsource.cli import UsageProblem
from simsource.cli.params import max_events_option

set_option = click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE",
    help="Override a parameter with a TOML literal, e.g. --set coordination.staff=24 (repeatable).",
)


def load_with_sets(name: str, sets: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Load a scenario with CLI overrides (user errors surface as exit 2)."""
    from simsource.scenario import load_scenario, parse_overrides

    return load_scenario(name, parse_overrides(sets))


@click.command("scenarios")
def scenarios_cmd() -> None:
    """List the built-in scenarios (name and title)."""
    from simsource.scenario.loader import builtin_names, load_raw

    names = builtin_names()
    if not names:
        raise UsageProblem("no built-in scenarios found (set SIMSOURCE_SCENARIOS?)")
    width = max(len(n) for n in names)
    for name in names:
        data, _ = load_raw(name)
        click.echo(f"{name:<{width}}  {data.get('title', '')}")


@click.command("validate")
@click.argument("scenarios", nargs=-1, required=True, metavar="FILE_OR_NAME...")
@set_option
@max_events_option()
def validate_cmd(scenarios: tuple[str, ...], sets: tuple[str, ...],
                 max_events: float | None) -> None:
    """Check scenario files; print one line per problem (exit 2 if any). A scenario that
    passes is one `run` accepts: also its expected work per replication is checked."""
    from simsource.errors import UserError
    from simsource.experiment.limits import check_workloads
    from simsource.scenario import load_scenario, parse_overrides

    overrides = parse_overrides(sets)  # a malformed --set is one problem, not one per file
    problems: list[str] = []
    for name in scenarios:
        try:
            sc = load_scenario(name, overrides)
            check_workloads([sc], max_events)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        click.echo(f"ok: {name} ({sc.title or sc.name})")
    if problems:
        raise UsageProblem(problems)


@click.command("show")
@click.argument("scenario", metavar="FILE_OR_NAME")
@set_option
def show_cmd(scenario: str, sets: tuple[str, ...]) -> None:
    """Print the fully resolved scenario as TOML, every default filled in."""
    from simsource.scenario import scenario_toml

    click.echo(scenario_toml(load_with_sets(scenario, sets)), nl=False)
