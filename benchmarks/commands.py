"""The command line as a user runs it: start-up, parallel efficiency (``-j 2`` against ``-j 1``
as whole commands) and peak memory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks.figures import Figure, Settings, median
from benchmarks.harness import (
    Clock,
    Proc,
    check,
    heavy_modules,
    manifest,
    manifest_store_share,
    rotated,
    run_args,
    run_cmd,
    simsource_cmd,
)


def bench_startup(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path) -> None:
    helps, runs = [], []
    for i in range(s.repeats):
        for what in rotated(["help", "run"], i):
            clock.say(f"start-up repeat {i + 1}/{s.repeats}: {what}")
            if what == "help":
                p = run_cmd([*simsource_cmd(), "--help"])
                check(p, "simsource --help")
                helps.append(p.wall_s)
            else:
                out = tmp / f"startup-{i}"
                p = run_cmd([*simsource_cmd(), "run", "nacka-multi", "-n", "1", "--quiet",
                             "--seed", str(s.seed), "--out", str(out)])
                check(p, "simsource run nacka-multi -n 1")
                runs.append(p.wall_s)
                shutil.rmtree(out, ignore_errors=True)
    clock.say("start-up: which heavy libraries load")
    fh, fr = figs["startup_help_s"], figs["startup_run_n1_s"]
    fh.samples, fh.value = helps, median(helps)
    fh.detail = {"heavy_modules_imported": heavy_modules(["--help"])}
    fr.samples, fr.value = runs, median(runs)
    out = tmp / "startup-probe"
    fr.detail = {"heavy_modules_imported": heavy_modules(
        ["run", "nacka-multi", "-n", "1", "--quiet", "--seed", str(s.seed), "--out", str(out)]),
        "jobs": "default (every core)"}
    shutil.rmtree(out, ignore_errors=True)


def bench_parallel(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path,
                   hook_shares: list[float]) -> None:
    walls: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    lingers: list[float] = []
    loads: list[float] = []
    wall_shares: list[float] = []
    # the host's ceiling, measured beside each pair: the same pair of bare SimPy (M/M/5 runs on
    # one process, then on two forked ones), whole commands too
    bare_walls: dict[int, list[float]] = {1: [], 2: []}
    bare_cpus: dict[int, list[float]] = {1: [], 2: []}
    # a planner's session: the simsource daemon runs (started by an earlier command); a first
    # command that starts it is measured apart below
    check(run_cmd(run_args("nacka-multi", 2, tmp / "parallel-warm", s.seed, 2, ())),
          "simsource run -n 2 -j 2 (starts the daemon)")
    shutil.rmtree(tmp / "parallel-warm", ignore_errors=True)
    for i in range(s.batch_repeats):
        with contextlib.suppress(OSError, AttributeError):
            loads.append(os.getloadavg()[0])
        for jobs in rotated([1, 2], i):
            clock.say(f"parallel repeat {i + 1}/{s.batch_repeats}: "
                      f"run -n {s.batch_n} -j {jobs}")
            out = tmp / f"parallel-{i}-j{jobs}"
            p = run_cmd(run_args("nacka-multi", s.batch_n, out, s.seed, jobs, s.batch_sets),
                        cpu=True)
            check(p, f"simsource run -n {s.batch_n} -j {jobs}")
            walls[jobs].append(p.wall_s)
            cpus[jobs].append(p.tree_cpu_s)
            if jobs == 2:
                lingers.append(p.linger_s)
            man = manifest(out)
            share = manifest_store_share(man)
            if share is not None and jobs == 2:   # the default -j on 2 cores, the harder case
                hook_shares.append(share)
                wall_share = manifest_store_share(man, "store_wall_s")
                if wall_share is not None:
                    wall_shares.append(wall_share)
            shutil.rmtree(out, ignore_errors=True)
        for jobs in rotated([1, 2], i):
            clock.say(f"parallel repeat {i + 1}/{s.batch_repeats}: bare SimPy, "
                      f"{s.bare_runs} M/M/5 runs on {jobs} process(es)")
            p = run_cmd(bare_args(s, jobs))
            check(p, f"bare SimPy batch, {jobs} process(es)")
            bare_walls[jobs].append(p.wall_s)
            bare_cpus[jobs].append(sum(json.loads(p.stdout.strip().splitlines()[-1])["cpu_s"]))
    # the first -j 2 command of a session starts the daemon and waits for it (a fresh one per
    # command: SIMSOURCE_DAEMON_TAG is part of its fingerprint); without the daemon, each
    # command starts a fork server of its own (SIMSOURCE_DAEMON=0: what it did before); with
    # the daemon running but the command in its own process (SIMSOURCE_DELEGATE=0: before
    # commands ran in a fork of the daemon; its own daemon, started here first)
    own = {"SIMSOURCE_DELEGATE": "0"}
    check(run_cmd(run_args("nacka-multi", 2, tmp / "parallel-own-warm", s.seed, 2, ()), env=own),
          "simsource run -n 2 -j 2 (starts the daemon of SIMSOURCE_DELEGATE=0)")
    shutil.rmtree(tmp / "parallel-own-warm", ignore_errors=True)
    other: dict[str, list[float]] = {"cold": [], "off": [], "own": []}
    for i in range(max(2, s.batch_repeats // 3)):
        for kind, env in (("cold", {"SIMSOURCE_DAEMON_TAG": f"bench-cold-{os.getpid()}-{i}",
                                    "SIMSOURCE_DAEMON_IDLE": "2"}),
                          ("off", {"SIMSOURCE_DAEMON": "0"}), ("own", own)):
            clock.say(f"parallel, daemon {kind} {i + 1}: run -n {s.batch_n} -j 2")
            out = tmp / f"parallel-{kind}-{i}"
            p = run_cmd(run_args("nacka-multi", s.batch_n, out, s.seed, 2, s.batch_sets),
                        cpu=True, env=env)
            check(p, f"simsource run -n {s.batch_n} -j 2 (daemon {kind})")
            other[kind].append(p.wall_s)
            shutil.rmtree(out, ignore_errors=True)
    f = figs["parallel_efficiency"]
    rps1 = [s.batch_n / w for w in walls[1]]
    rps2 = [s.batch_n / w for w in walls[2]]
    f.samples = [b / (2 * a) for a, b in zip(rps1, rps2, strict=True)]
    f.value = median(f.samples)
    f.detail = {"replications": s.batch_n, "sets": list(s.batch_sets),
                "reps_per_s_j1": median(rps1), "reps_per_s_j2": median(rps2),
                "wall_s_j1": median(walls[1]), "wall_s_j2": median(walls[2]),
                "best_sample": max(f.samples), "load_1min_before_each_repeat": loads,
                "efficiency_of_medians": _of_medians(walls),
                "cpus": os.cpu_count(),
                # the store's share of the -j 2 batches with the chunks' wall time (waiting for
                # a core included); the store figure uses their CPU time
                "store_wall_share_j2": median(wall_shares),
                # how long the fork server and workers outlived a -j 2 command (waited for
                # before the next command starts)
                "linger_s_j2": median(lingers),
                # -j 1 (median) against the first -j 2 command of a session (it starts the
                # daemon) and against -j 2 without the daemon
                "wall_s_j2_cold_daemon": median(other["cold"]),
                "efficiency_cold_daemon": _of_medians({1: walls[1], 2: other["cold"]}),
                "wall_s_j2_no_daemon": median(other["off"]),
                "efficiency_no_daemon": _of_medians({1: walls[1], 2: other["off"]}),
                # and against -j 2 in its own process, taking its workers from the daemon
                "wall_s_j2_own_process": median(other["own"]),
                "efficiency_own_process": _of_medians({1: walls[1], 2: other["own"]})}
    bare = [a / (2 * b) for a, b in zip(bare_walls[1], bare_walls[2], strict=True)]
    fb = figs["parallel_efficiency_bare_simpy"]
    fb.samples, fb.value = bare, median(bare)
    fb.detail = {"runs": s.bare_runs, "customers": s.bare_customers,
                 "wall_s_1": median(bare_walls[1]), "wall_s_2": median(bare_walls[2]),
                 # the ratio of the medians, beside the median of the pairs' ratios: where
                 # they differ much, the host changed speed within pairs
                 "efficiency_of_medians": _of_medians(bare_walls),
                 # the CPU two runs at once cost beyond one at a time, timed in the runs (no
                 # start-up, no transfer): what this host charges for running two at once
                 "cpu_overhead_2": median([b / a - 1 for a, b in
                                           zip(bare_cpus[1], bare_cpus[2], strict=True)])}
    fb.note = ("the same pairs in plain SimPy (M/M/5 runs on 1 process, then on 2 forked "
               "ones), each beside a simsource pair: what a program with no fixed cost gets "
               "from this host's cores (as noisy as the pairs; detail.cpu_overhead_2 is not)")
    fv = figs["parallel_efficiency_vs_bare"]
    fv.samples = [a / b for a, b in zip(f.samples, bare, strict=True)]
    fv.value = median(fv.samples)
    fv.note = "per pair: simsource's efficiency / bare SimPy's measured beside it"
    if all(cpus[1]) and all(cpus[2]):
        # psutil accounting of the command's process tree: the cores -j 2 actually got, and
        # the CPU it spent beyond -j 1 (pool start, sending tasks): neither depends on load
        f.detail.update(
            tree_cpu_s_j1=median(cpus[1]), tree_cpu_s_j2=median(cpus[2]),
            cores_used_j2=median([c / w for c, w in zip(cpus[2], walls[2], strict=True)]),
            cpu_overhead_j2=median([b / a - 1 for a, b in zip(cpus[1], cpus[2], strict=True)]))
    f.note = ("wall time of the whole command (start-up, pool start and finalize included), "
              "the simsource daemon running: -j 2 runs in a fork of it, -j 1 in its own "
              "process (a session's later commands; its first: detail.efficiency_cold_daemon; "
              "-j 2 in its own process: detail.efficiency_own_process)"
              + ("; the batch simulates " + ", ".join(s.batch_sets) if s.batch_sets else ""))


def _of_medians(walls: dict[int, list[float]]) -> float | None:
    one, two = median(walls[1]), median(walls[2])
    return one / (2 * two) if one is not None and two else None


def bare_args(s: Settings, jobs: int) -> list[str]:
    """The bare-SimPy batch of the parallel pairs, as a command (benchmarks/mmc_simpy.py)."""
    return [sys.executable, "-m", "benchmarks.mmc_simpy", "--batch", str(s.bare_runs),
            "--customers", str(s.bare_customers), "--jobs", str(jobs), "--seed", str(s.seed)]


def bench_memory(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path) -> None:
    peaks: dict[int, Proc] = {}
    for n in (s.memory_small, s.memory_large):
        clock.say(f"memory: run -n {n} -j 2 (peak RSS)")
        out = tmp / f"memory-{n}"
        # in its own process (SIMSOURCE_DELEGATE=0): a command run by the daemon would leave
        # here a thin caller as the "main process" (the tree, the figure, counts it all the same)
        p = run_cmd(run_args("nacka-multi", n, out, s.seed, 2, s.memory_sets), memory=True,
                    timeout=3600, env={"SIMSOURCE_DELEGATE": "0"})
        check(p, f"simsource run -n {n}")
        peaks[n] = p
        shutil.rmtree(out, ignore_errors=True)
    small, large = peaks[s.memory_small], peaks[s.memory_large]
    f = figs["memory_ratio"]
    if small.peak_tree_rss:
        f.value = large.peak_tree_rss / small.peak_tree_rss
        f.samples = [f.value]
    mb = 1024 * 1024
    f.detail = {
        f"peak_rss_mb_{s.memory_small}": small.peak_tree_rss / mb,
        f"peak_rss_mb_{s.memory_large}": large.peak_tree_rss / mb,
        f"peak_main_process_rss_mb_{s.memory_small}": small.peak_main_rss / mb,
        f"peak_main_process_rss_mb_{s.memory_large}": large.peak_main_rss / mb,
        "main_process_ratio": (large.peak_main_rss / small.peak_main_rss
                               if small.peak_main_rss else None),
        f"wall_s_{s.memory_large}": large.wall_s, "method": small.rss_method,
        "jobs": 2, "sets": list(s.memory_sets)}
    f.note = ("one measurement each (peak memory is not timing noise); process tree = command, "
              "fork server and workers; the command in its own process "
              "(SIMSOURCE_DELEGATE=0); batches simulate " + ", ".join(s.memory_sets))
