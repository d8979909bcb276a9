"""Warm-pool speed-up: a second 20-replication ``run_batch`` in the same process, against the
same 20 replications in series.

Each repeat is a fresh interpreter, as a user's script or notebook is: it runs the batch in
series (``jobs=1``), then twice on two workers (``jobs=2``). The first parallel batch starts
the process's warm pool; the second finds its workers ready, which is what every later batch
of a session (the teaching page, a sensitivity analysis, a notebook) sees. The order of the
serial and the parallel batches alternates between repeats.

    python -m benchmarks.warm_pool            # one measurement, as JSON
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from benchmarks.figures import Figure, Settings, median
from benchmarks.harness import Clock, check, run_cmd

REPLICATIONS = 20
SCENARIO = "nacka-multi"


def _cpu(procs: list[Any]) -> float:
    return float(sum(t.user + t.system for t in (p.cpu_times() for p in procs)))


def _workers() -> list[Any]:
    import psutil

    from simsource.experiment import pool

    live = pool.current()
    return [psutil.Process(p.pid) for p in live.processes()] if live else []


def measure(n: int = REPLICATIONS, sets: tuple[str, ...] = (), serial_first: bool = True,
            seed: int = 1) -> dict[str, float]:
    """Wall times of ``n`` replications: in series, first and second batch on two workers;
    with psutil also the CPU seconds of this process and of the workers during each batch
    (they do not depend on other load on the machine)."""
    from simsource.experiment import run_batch
    from simsource.scenario import load_scenario, parse_overrides

    sc = load_scenario(SCENARIO, parse_overrides(sets))
    times: dict[str, float] = {}
    try:
        import psutil
    except ImportError:
        psutil = None

    def timed(key: str, jobs: int) -> None:
        me = psutil.Process() if psutil else None
        before = _cpu([me, *_workers()]) if me else 0.0
        mine = _cpu([me]) if me else 0.0
        t0 = time.perf_counter()
        run_batch(sc, n, seed=seed, jobs=jobs)
        times[key] = time.perf_counter() - t0
        if me is not None:
            times[key.replace("_s", "_parent_cpu_s")] = _cpu([me]) - mine
            times[key.replace("_s", "_cpu_s")] = _cpu([me, *_workers()]) - before

    order = [("serial_s", 1), ("first_s", 2), ("second_s", 2)]
    if not serial_first:
        order = [*order[1:], order[0]]
    for key, jobs in order:
        timed(key, jobs)
    return times


def bench_warm_pool(s: Settings, figs: dict[str, Figure], clock: Clock) -> None:
    runs: list[dict[str, float]] = []
    for i in range(s.repeats):
        clock.say(f"warm pool repeat {i + 1}/{s.repeats}: {s.pool_n} replications, fresh process")
        args = [sys.executable, "-m", "benchmarks.warm_pool", str(s.pool_n), str(i % 2 == 0),
                *s.pool_sets]
        p = run_cmd(args)
        check(p, "warm-pool batch")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    f = figs["warm_pool_speedup"]
    f.samples = [r["serial_s"] / r["second_s"] for r in runs]
    f.value = median(f.samples)
    f.detail = {
        "replications": s.pool_n, "scenario": SCENARIO, "sets": list(s.pool_sets),
        **{k: median([r[k] for r in runs]) for k in runs[0]},
        "first_batch_speedup": median([r["serial_s"] / r["first_s"] for r in runs]),
    }
    if "second_cpu_s" in runs[0]:
        # what two free cores would give: the serial batch's CPU time against the second
        # batch's work split over two workers plus what this process did meanwhile
        f.detail["speedup_with_two_free_cores"] = median(
            [r["serial_cpu_s"] / ((r["second_cpu_s"] - r["second_parent_cpu_s"]) / 2
                                  + r["second_parent_cpu_s"]) for r in runs])
    f.note = ("serial_s / second_s in one fresh process per repeat; the first parallel batch "
              "pays the pool's start-up (first_batch_speedup)")


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else REPLICATIONS
    serial_first = argv[1] != "False" if len(argv) > 1 else True
    times: dict[str, Any] = measure(n, tuple(argv[2:]), serial_first)
    print(json.dumps(times))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
