"""``simsource trace | animate``: one replication's event log, and its animated replay.

The library is imported inside the commands, so ``simsource trace --help`` stays fast.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simsource.cli import UsageProblem
from simsource.cli.params import SEED, max_events_option
from simsource.cli.scenario_cmds import load_with_sets, set_option

if TYPE_CHECKING:
    from simsource.scenario import Scenario

#: the most frames a replay file may hold (about 12 MB of HTML; raise --step for more years)
MAX_FRAMES = 1500

replication_option = click.option(
    "--replication", type=click.IntRange(0, 99_999), default=0, show_default=True,
    metavar="I", help="Which replication of the seed: replication I uses (S, I), as in `run`.")
seed_option = click.option("--seed", type=SEED, default=0, show_default=True, metavar="S",
                           help="Root seed.")


def _scenario(name: str, sets: tuple[str, ...], max_events: float | None,
              years: float | None = None) -> Scenario:
    from simsource.experiment.limits import check_workloads
    from simsource.scenario import with_overrides

    sc: Scenario = load_with_sets(name, sets)
    if years is not None:
        # the replay starts from an empty organisation at day 0; the warm-up only decides where
        # KPIs are measured and does not change what happens (the log is the same either way)
        sc = with_overrides(sc, {"scenario.years": years, "scenario.warmup_years": 0.0})
    check_workloads([sc], max_events)
    return sc


def _counts(events: list[dict[str, object]]) -> str:
    from collections import Counter

    kinds = Counter(str(e["kind"]) for e in events)
    return ", ".join(f"{kinds[k]:,} {k}" for k in sorted(kinds))


@click.command("trace")
@click.argument("scenario", metavar="FILE_OR_NAME")
@set_option
@seed_option
@replication_option
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              metavar="FILE.parquet", help="Where to write the event log (Parquet).")
@max_events_option()
def trace_cmd(scenario: str, sets: tuple[str, ...], seed: int, replication: int, out: Path,
              max_events: float | None) -> None:
    """Write one replication's event log: one row per event (time, entity kind and id, event,
    stage, resource and desk), the log of `simulate(..., trace=True)`.

    The columns and the events of each kind are in docs/results-format.md; load it with
    pandas.read_parquet or simsource.experiment.trace.read_trace.
    """
    from simsource.experiment.manifest import command_line
    from simsource.experiment.trace import (
        claim_trace_file,
        events_frame,
        trace_events,
        trace_meta,
        write_trace,
    )

    sc = _scenario(scenario, sets, max_events)
    claim_trace_file(out)
    t0 = time.perf_counter()
    events = trace_events(sc, seed, replication)
    write_trace(out, events_frame(events), trace_meta(sc, seed, replication,
                                                      command_line(cli=True)))
    click.echo(f"wrote {out}: {len(events):,} events ({_counts(events)}) of {sc.name}, seed "
               f"{seed}, replication {replication}, {_years(sc.scenario.years)}, in "
               f"{time.perf_counter() - t0:.1f} s")


def _years(years: float) -> str:
    return f"{years:g} year" + ("" if years == 1 else "s")


@click.command("animate")
@click.argument("scenario", metavar="FILE_OR_NAME")
@set_option
@seed_option
@replication_option
@click.option("--years", type=click.FloatRange(min=0, min_open=True, max=50), default=1.0,
              show_default=True, metavar="Y",
              help="Simulated years to replay, from day 0 (an empty organisation).")
@click.option("--step", type=click.IntRange(min=1), default=None, metavar="DAYS",
              help="Working days per frame (default: 1 per simulated year, e.g. 1 for one "
                   "year: 220 frames).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              metavar="FILE.html", help="Where to write the replay (self-contained HTML).")
@max_events_option()
def animate_cmd(scenario: str, sets: tuple[str, ...], seed: int, replication: int,
                years: float, step: int | None, output: Path, max_events: float | None) -> None:
    """Write an animated replay of one replication as a self-contained HTML page: ideas
    moving through the funnel, incidents at each supplier, the coordinators' desks, with a
    clock, play, pause and speed controls.

    The page needs nothing from the internet (plotly.js is inside it): show it in slides or
    put it on a learning platform. The teaching page's Watch tab shows the same replay side
    by side with a baseline.
    """
    try:
        from simsource.analysis.replay import Panel, build_replay
        from simsource.analysis.replay.export import claim_replay_file, write_replay
    except ModuleNotFoundError as exc:
        raise UsageProblem(f"animate needs {exc.name}: pip install 'simsource[animate]'"
                           ) from None
    from simsource.experiment.trace import events_frame, trace_events

    sc = _scenario(scenario, sets, max_events, years)
    days = sc.scenario.working_days_per_year
    end = math.floor(years * days)
    step = step if step is not None else max(1, math.ceil(years))
    frames = end // step + 1
    if end < 1:
        raise UsageProblem(f"--years {years:g}: less than one working day to replay")
    if frames > MAX_FRAMES:
        raise UsageProblem(f"--years {years:g} with --step {step}: {frames:,} frames; at most "
                           f"{MAX_FRAMES:,} (raise --step)")
    claim_replay_file(output)
    t0 = time.perf_counter()
    log = events_frame(trace_events(sc, seed, replication))
    label = f"{sc.name} · seed {seed}, replication {replication}"
    fig = build_replay([Panel(label, log, sc)], 0, end, step)
    write_replay(output, fig, f"simsource replay: {sc.name}")
    click.echo(f"wrote {output}: {frames} frames, one every {step} working day"
               f"{'s' if step > 1 else ''} over {_years(years)} of "
               f"{sc.name} (seed {seed}, replication {replication}), in "
               f"{time.perf_counter() - t0:.1f} s; open it in a browser and press Play")
