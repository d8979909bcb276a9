"""The ``simsource`` command line: a thin click layer over the library.

:data:`main` is a lazy group (click's documented ``LazyGroup`` pattern, "Complex Applications
→ Lazily Loading Subcommands"): each command lives in its own module, which is imported only
when that command runs or shows its help. ``simsource --help`` lists the commands from
:data:`COMMANDS` without importing any of them, so it loads click and nothing heavy.
Command modules import the library inside the command bodies (click's "further deferring
imports"), so ``simsource run --help`` stays fast too; the library modules themselves use
plain top-level imports.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import click

from simsource.errors import UserError, environment_problem


class UsageProblem(Exception):
    """Bad input from the user: reported as one line per problem, exit code 2."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Lazy(NamedTuple):
    """Where a command lives (``module:attribute``) and its one-line summary for the group's
    help (the first paragraph of the command's docstring; a test keeps them equal)."""

    target: str
    summary: str


#: every command, in the order ``simsource --help`` lists them
COMMANDS: dict[str, Lazy] = {
    "run": Lazy("simsource.cli.experiment_cmds:run_cmd",
                "Run N replications of a scenario in parallel; write a results folder and print "
                "a summary."),
    "compare": Lazy("simsource.cli.experiment_cmds:compare_cmd",
                    "Compare scenarios with common random numbers: each one's mean and 95 % CI, "
                    "and the paired difference to the first with its CI and Holm-corrected "
                    "p-value."),
    "sweep": Lazy("simsource.cli.experiment_cmds:sweep_cmd",
                  "Run a scenario over a design of parameter values (common random numbers at "
                  "every point)."),
    "staff": Lazy("simsource.cli.analysis_sa_cmds:staff_cmd",
                  "How many coordinators are needed? The smallest coordination.staff for which "
                  "TARGET holds in at least --confidence of the replications, its cost, and the "
                  "curve."),
    "sensitivity": Lazy("simsource.cli.analysis_sa_cmds:sensitivity_cmd",
                        "Which parameters drive a KPI? Morris or Sobol sensitivity analysis "
                        "(SALib) over the plausible ranges the scenario schema declares."),
    "calibrate": Lazy("simsource.cli.calibrate_cmds:calibrate_cmd",
                      "Which parameter values reproduce what was observed? History matching of a "
                      "scenario's parameters against a facts file; writes a posterior for "
                      "--posterior."),
    "explore": Lazy("simsource.cli.explore_cmds:explore_cmd",
                    "Which policy is robust across plausible futures, and where does each one "
                    "fail? Runs every policy (a scenario name or file) in the same sampled "
                    "futures with common random numbers."),
    "plot": Lazy("simsource.cli.analysis_cmds:plot_cmd",
                 "Draw the figures of a results folder from `run`, `compare` or `sweep`."),
    "report": Lazy("simsource.cli.analysis_cmds:report_cmd",
                   "Write one self-contained HTML report (figures embedded, no network needed "
                   "to view): what was run, key results with 95 % CIs, differences between "
                   "scenarios, a plain-language summary, every figure and a STRESS-DES "
                   "reproducibility section."),
    "kpis": Lazy("simsource.cli.kpi_cmds:kpis_cmd",
                 "List every KPI the model reports, with its unit and meaning."),
    "scenarios": Lazy("simsource.cli.scenario_cmds:scenarios_cmd",
                      "List the built-in scenarios (name and title)."),
    "validate": Lazy("simsource.cli.scenario_cmds:validate_cmd",
                     "Check scenario files; print one line per problem (exit 2 if any). A "
                     "scenario that passes is one `run` accepts: also its expected work per "
                     "replication is checked."),
    "show": Lazy("simsource.cli.scenario_cmds:show_cmd",
                 "Print the fully resolved scenario as TOML, every default filled in."),
    "trace": Lazy("simsource.cli.replay_cmds:trace_cmd",
                  "Write one replication's event log: one row per event (time, entity kind and "
                  "id, event, stage, resource and desk), the log of `simulate(..., "
                  "trace=True)`."),
    "animate": Lazy("simsource.cli.replay_cmds:animate_cmd",
                    "Write an animated replay of one replication as a self-contained HTML page: "
                    "ideas moving through the funnel, incidents at each supplier, the "
                    "coordinators' desks, with a clock, play, pause and speed controls."),
    "daemon": Lazy("simsource.cli.daemon_cmds:daemon_cmd",
                   "List this user's simsource daemons, the warm worker servers that parallel "
                   "commands share (Linux); with --stop, end them."),
    "app": Lazy("simsource.cli.app_cmds:app_cmd",
                "Start the teaching what-if page (Streamlit) on http://HOST:PORT; Ctrl-C stops "
                "it."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented pattern), and
    whose help lists them from their registered summaries without importing them."""

    def __init__(self, *args: Any, lazy_subcommands: Mapping[str, Lazy] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy_subcommands, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._lazy_load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _lazy_load(self, cmd_name: str) -> click.Command:
        module, attr = self.lazy_subcommands[cmd_name].target.split(":")
        cmd = getattr(importlib.import_module(module), attr)
        if not isinstance(cmd, click.Command):
            raise TypeError(f"{module}:{attr} is not a click command")
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(n) for n in self.list_commands(ctx))
        # a stand-in command with the summary as its help shortens it exactly as click would
        rows = [(name, click.Command(name, help=lazy.summary).get_short_help_str(limit))
                for name, lazy in self.lazy_subcommands.items()]
        rows += [(name, cmd.get_short_help_str(limit)) for name, cmd in self.commands.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


#: commands that run batches on the local worker pool when ``-j`` is not 1
POOL_COMMANDS = frozenset({"run", "compare", "sweep", "staff", "sensitivity", "calibrate",
                           "explore"})


def _option(args: list[str], long: str, short: str | None = None) -> str | None:
    """The value of an option in raw arguments (``--jobs 2``, ``--jobs=2``, ``-j 2``, ``-j2``),
    the last one given; None when absent."""
    value = None
    for k, arg in enumerate(args):
        if arg == "--":
            break
        if arg == long or (short is not None and arg == short):
            value = args[k + 1] if k + 1 < len(args) else None
        elif arg.startswith(long + "="):
            value = arg[len(long) + 1:]
        elif short is not None and arg.startswith(short) and not arg.startswith("--"):
            value = arg[len(short):]
    return value


def local_pool_jobs(args: list[str]) -> int:
    """The workers of the local pool these command-line arguments run a batch on (a pool
    command, ``-j`` not 1, the local backend, not ``--help``), as far as the raw arguments
    tell before click parses them; 0 for none. Only to start the pool early, so a wrong guess
    costs time, never a result."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in POOL_COMMANDS or {"-h", "--help"} & set(args):
        return 0
    if (_option(args, "--backend") or "local") != "local":
        return 0
    jobs = _option(args, "--jobs", "-j")
    if jobs is None:
        from simsource.experiment.backend import default_jobs

        n = default_jobs()
    else:
        try:
            n = int(jobs)
        except ValueError:
            return 0
    return n if n > 1 else 0


_exit_quickly: list[bool] = []


def exit_quickly() -> None:
    """At exit, after everything else (the first handler registered runs last), move every
    object to the collector's permanent generation (``gc.freeze``): the interpreter's final
    collections then skip them. They found nothing to free that the operating system does not
    free anyway (every file simsource writes is closed and synced before), and took 0.3 s of
    every command that had imported pandas and scipy.stats (docs/performance.md)."""
    if not _exit_quickly:
        _exit_quickly.append(True)
        atexit.register(gc.freeze)


class SimsourceGroup(LazyGroup):
    """Turns user errors into clear lines with exit 2 and internal errors into exit 1."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        exit_quickly()
        # before the command's module and the library are imported (a third of a second): the
        # command connects to the simsource daemon, or starts it (or, without one, a fork
        # server), which imports the model meanwhile, on the other core
        jobs = 0 if ctx.resilient_parsing else local_pool_jobs(args)   # not for completion
        if jobs:
            from simsource.experiment import pool

            if args == sys.argv[1:]:   # a command line (not main(args) called in a program)
                # run whole by the daemon, where it runs
                status = pool.delegate(f"{__name__}:main", sys.argv)
                if status is not None:
                    os._exit(status)   # this process wrote nothing and holds nothing
            pool.use_daemon()   # this command's workers come from the daemon, where it runs
            with contextlib.suppress(OSError):   # no server now: the pool starts one later
                pool.prestart(jobs)
        return super().parse_args(ctx, args)

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
        except BrokenPipeError:  # e.g. `simsource kpis | head`: the reader has gone
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
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
    if isinstance(exc, UsageProblem):
        return exc.problems
    if isinstance(exc, UserError):
        return list(exc.problems)
    problem = environment_problem(exc)
    return [problem] if problem is not None else None


@click.group(cls=SimsourceGroup, lazy_subcommands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simsource", prog_name="simsource")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def main(debug: bool) -> None:
    """simsource — simulate single- vs multi-sourced public IT and the innovation it delivers.

    Scenarios are TOML files or built-in names (see `simsource scenarios`); override any
    parameter with --set KEY=VALUE (e.g. --set coordination.staff=24). `simsource kpis`
    lists what every command reports.
    """
    _stop_cleanly_on_sigterm()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop_cleanly_on_sigterm() -> None:
    """``kill`` (SIGTERM) stops a command as Ctrl-C does: the chunks already done stay stored,
    open folders are left resumable and the worker pool is shut down, so no worker outlives
    the command (Python's default would end the process at once and orphan its workers)."""
    with contextlib.suppress(ValueError):  # not the main thread (embedded): leave it alone
        signal.signal(signal.SIGTERM, _terminated)
