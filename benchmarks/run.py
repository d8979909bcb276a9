"""The simsource benchmark suite: every figure a ratio or a time measured in this same run.

    python -m benchmarks.run                 # make bench: full suite, 13-15 min on 2 cores
    python -m benchmarks.run --quick         # tiny smoke run (seconds, numbers meaningless)
    python -m benchmarks.run --only engine,startup
    python -m benchmarks.run --profile       # + cProfile of 20 nacka-multi replications

Writes ``benchmarks/results/latest.json`` (or ``--json PATH``) and prints a table of every
figure with its target and whether it is met. Timed figures are the median of ``--repeats``
(default 5; 9 pairs of commands for parallel efficiency, the noisiest, each beside the same
pair in bare SimPy; the engine ratio over 8 adjacent pairs per repeat of a replication and a
bare-SimPy run of as many events) interleaved repeats:
each repeat runs every contender once, in a rotated order, so drift on a shared, noisy machine
hits all of them alike. See docs/performance.md.

Parts (``--only``), one module each: ``engine`` (engine overhead, replication cost:
engine_overhead.py), ``peers`` (Ciw, salabim), ``startup``, ``parallel`` and ``memory`` (the
command line: commands.py), ``pool`` (warm-pool speed-up: warm_pool.py), ``app`` (teaching page
first-result latency: app_latency.py), ``store`` (store_overhead.py), ``design`` (the cost of a
``calibrate`` and an ``explore`` design point: design_points.py); profile_model.py profiles,
figures.py holds the figures and their targets, harness.py runs and times commands. The parts
that run the ``simsource run`` command line are skipped with a note when it is missing.
Instructions per event, independent of load, are counted apart: ``python -m
benchmarks.instructions`` (needs valgrind).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from benchmarks.app_latency import bench_app, bench_app_browser
from benchmarks.commands import bench_memory, bench_parallel, bench_startup
from benchmarks.design_points import bench_design
from benchmarks.engine_overhead import bench_engine
from benchmarks.figures import FIGURES, QUICK, Settings, clean, new_figures, table
from benchmarks.harness import ROOT, Clock, cli_available, scratch
from benchmarks.profile_model import profile_model
from benchmarks.store_overhead import bench_store, store_worker
from benchmarks.warm_pool import bench_warm_pool

__all__ = ["FIGURES", "PARTS", "main", "run_suite"]

RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("engine", "peers", "startup", "parallel", "pool", "app", "memory", "store", "design")
SCHEMA = 1


def machine() -> dict[str, Any]:
    import numpy
    import simpy

    from simsource.model import native

    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count(), "simpy": simpy.__version__,
                            "numpy": numpy.__version__, "model": native.describe()}
    with contextlib.suppress(OSError, AttributeError):
        info["load_avg_start"] = list(os.getloadavg())
    steal = _steal_s()
    if steal is not None:
        info["cpu_steal_s_start"] = steal
    for mod in ("ciw", "salabim"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    return info


def run_suite(s: Settings, parts: Sequence[str], clock: Clock) -> dict[str, Any]:
    figs = new_figures(s)
    info = machine()
    if "engine" in parts or "peers" in parts:
        bench_engine(s, figs, clock, peers="peers" in parts, engine="engine" in parts)
    cli_parts = [p for p in ("startup", "parallel", "memory", "design") if p in parts]
    hook_shares: list[float] = []
    with scratch() as tmp:
        if cli_parts:
            ok, why = cli_available()
            if not ok:
                for key in ("startup_help_s", "startup_run_n1_s", "parallel_efficiency",
                            "memory_ratio", "calibrate_point_s", "explore_point_s"):
                    figs[key].note = f"skipped: {why}"
                cli_parts = []
        if "startup" in cli_parts:
            bench_startup(s, figs, clock, tmp)
        if "parallel" in cli_parts:
            bench_parallel(s, figs, clock, tmp, hook_shares)
        if "memory" in cli_parts:
            bench_memory(s, figs, clock, tmp)
        if "design" in cli_parts:
            bench_design(s, figs, clock, tmp)
        if "pool" in parts:
            bench_warm_pool(s, figs, clock)
        if "app" in parts:
            bench_app(s, figs, clock)
            bench_app_browser(s, figs, clock)
        if "store" in parts:
            per_rep = figs["replication_s_nacka_multi"].value
            try:
                bench_store(s, figs, clock, tmp, per_rep, hook_shares)
            except (ImportError, RuntimeError, TypeError) as exc:
                figs["store_overhead_share"].note = f"skipped: store API not usable: {exc}"
    for key in ("ciw_vs_simpy", "salabim_vs_simpy"):
        if "peers" not in parts and not figs[key].note:
            figs[key].note = "skipped: not in --only"
    for f in figs.values():
        if f.value is None and not f.note:
            f.note = "skipped: not in --only"
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": " ".join(["python -m benchmarks.run", *sys.argv[1:]]),
        "machine": info, "settings": asdict(s), "parts": list(parts),
        "figures": {k: f.as_json() for k, f in figs.items()},
    }
    if s.profile_reps:
        clock.say(f"profile: {s.profile_reps} nacka-multi replications under cProfile")
        report["profile"] = clean(profile_model(s.profile_reps, s.seed))
    with contextlib.suppress(OSError, AttributeError):
        info["load_avg_end"] = list(os.getloadavg())
    steal = _steal_s()
    if steal is not None and "cpu_steal_s_start" in info and clock.elapsed > 0:
        info["cpu_steal_share"] = ((steal - info.pop("cpu_steal_s_start"))
                                   / (clock.elapsed * (info["cpus"] or 1)))
    report["elapsed_s"] = round(clock.elapsed, 1)
    report["_table"] = table(figs)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes and 2 repeats: a smoke test, not a measurement")
    ap.add_argument("--only", default=",".join(PARTS), metavar="PARTS",
                    help=f"comma-separated parts to run (default all: {','.join(PARTS)})")
    ap.add_argument("--repeats", type=int, default=None,
                    help="interleaved repeats (default 5; parallel: 9)")
    ap.add_argument("--json", type=Path, default=RESULTS / "latest.json", metavar="PATH",
                    help="where to write the results (default benchmarks/results/latest.json)")
    ap.add_argument("--profile", nargs="?", type=int, const=20, default=0, metavar="REPS",
                    help="also profile REPS nacka-multi replications (default 20) with cProfile "
                         "into benchmarks/results/profile.txt")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--store-worker", nargs=2, metavar=("PAYLOAD", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.store_worker:
        store_worker(*a.store_worker)
        return 0
    parts = [p.strip() for p in a.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        ap.error(f"--only: unknown part(s) {', '.join(unknown)} (known: {', '.join(PARTS)})")
    s = QUICK if a.quick else Settings()
    if a.repeats is not None:
        if a.repeats < 1:
            ap.error("--repeats: must be at least 1")
        s = replace(s, repeats=a.repeats, batch_repeats=a.repeats)
    if a.profile:
        s = replace(s, profile_reps=a.profile)
    clock = Clock(a.quiet)
    report = run_suite(s, parts, clock)
    text = report.pop("_table")
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"simsource benchmarks: median of {s.repeats} interleaved repeats"
          f"{' (QUICK: sizes too small to mean anything)' if a.quick else ''}; "
          f"{info_line(report['machine'])}")
    print(text)
    for line in load_lines(report["machine"]):
        print(f"\n{line}")
    if "profile" in report:
        print("\nprofile, own time (cProfile, "
              f"{report['profile']['replications']} nacka-multi replications):")
        for r in report["profile"]["top_own_time"][:10]:
            print(f"  {r['own_pct']:5.1f} %  (cum {r['cum_pct']:5.1f} %)  {r['function']}")
        print("own time by module:")
        for g in report["profile"]["own_time_by_group"][:10]:
            print(f"  {g['own_pct']:5.1f} %  {g['group']}")
    print(f"\nwritten {a.json} in {report['elapsed_s']:.0f} s")
    return 0


def _steal_s() -> float | None:
    """CPU seconds the hypervisor gave to others while this machine's CPUs wanted to run
    (``steal``, all CPUs), or None where it is not known."""
    try:
        import psutil
    except ImportError:
        return None
    return getattr(psutil.cpu_times(), "steal", None)


#: the share of the CPUs' time taken by the hypervisor above which a run is flagged
STEAL_WARNING = 0.05


def load_lines(m: dict[str, Any]) -> list[str]:
    """What the table's end says about the machine's load: a warning when other work was
    running as the suite started (the load average then) or the hypervisor took more than
    ``STEAL_WARNING`` of the CPUs' time; the load at the end counts the suite's own ``-j 2``
    parts, so it is only reported."""
    cpus = m.get("cpus") or 1
    start = m.get("load_avg_start", [None])[0]
    end = m.get("load_avg_end", [None])[0]
    steal = m.get("cpu_steal_share")
    lines = []
    if start is not None and start > cpus:
        lines.append(f"warning: load average {start:.1f} on {cpus} CPUs when the suite started: "
                     "other work shared the machine; wall-time figures (parallel efficiency, "
                     "start-up) suffer most")
    if steal is not None and steal > STEAL_WARNING:
        lines.append(f"warning: the hypervisor took {steal:.0%} of the CPUs' time (steal): "
                     "the host was shared; every timed figure suffers")
    parts = [f"load average {start:.1f} at the start" if start is not None else "",
             f"{end:.1f} at the end (the suite's own parallel parts included)"
             if end is not None else "",
             f"CPU steal {steal:.1%}" if steal is not None else ""]
    if any(parts):
        lines.append("machine: " + ", ".join(x for x in parts if x))
    return lines


def info_line(m: dict[str, Any]) -> str:
    return f"{m['cpus']} CPUs, Python {m['python']}, SimPy {m['simpy']}; model {m['model']}"


if __name__ == "__main__":
    sys.exit(main())
