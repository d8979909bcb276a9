"""The ``simsource`` command line: a thin click layer over the library.

Each group of commands lives in its own module and registers itself on :data:`main`. Heavy
libraries (pandas, matplotlib, pyarrow, streamlit, dask) are imported inside commands only, so
``simsource --help`` starts fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from simsource import __version__


class UsageProblem(Exception):
    """Bad input from the user: reported as one line per problem, exit code 2."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class SimsourceGroup(click.Group):
    """Turns user errors into clear lines with exit 2 and internal errors into exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted: what was written so far is kept; run the same command "
                       "again to continue", err=True)
            sys.exit(130)
        except Exception as exc:
            problems = _user_problems(exc)
            if problems is not None:
                for line in problems:
                    click.echo(f"error: {line}", err=True)
                sys.exit(2)
            if debug:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the "
                       "traceback)", err=True)
            sys.exit(1)


def _user_problems(exc: BaseException) -> list[str] | None:
    """The lines to print for a problem of the user's input or environment (exit 2), or None
    for a bug (exit 1): a read-only folder, a full disk or a missing permission is the
    environment's, named with its path."""
    from simsource.errors import UserError, environment_problem

    if isinstance(exc, UsageProblem):
        return exc.problems
    if isinstance(exc, UserError):
        return list(exc.problems)
    problem = environment_problem(exc)
    return [problem] if problem is not None else None


@click.group(cls=SimsourceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simsource")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def main(debug: bool) -> None:
    """simsource — simulate single- vs multi-sourced public IT and the innovation it delivers.

    Scenarios are TOML files or built-in names (see `simsource scenarios`); override any
    parameter with --set KEY=VALUE (e.g. --set coordination.staff=24).
    """


def _register() -> None:
    import importlib

    modules = ("scenario_cmds", "experiment_cmds", "analysis_cmds", "analysis_sa_cmds",
               "app_cmds", "dask_cmds")
    for mod in modules:
        try:
            importlib.import_module(f"simsource.cli.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"simsource.cli.{mod}":
                raise


_register()
