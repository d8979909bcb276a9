"""Dask overhead: replications/s on the local process pool vs a Dask LocalCluster, same machine.

Both backends run the same batch (default 200 replications of nacka-multi, 2 simulated years)
with the same number of workers (default 2) and the same automatic chunking, into memory (no
results folder, so only the backends differ). Each repeat runs both, alternating which goes
first; figures are medians over repeats.

* ``overhead_ratio`` — end to end, as one ``simsource run`` sees it: start the workers (pool or
  LocalCluster), warm them up with one replication each, run the batch, shut down.
  ``dask_rate / local_rate``: 1.0 means no overhead, 0.9 means Dask is 10 % slower.
* ``batch_ratio`` — the batch alone on warm workers: the per-chunk cost (scheduling,
  serialisation) without the start-up.

The two backends' KPI tables are checked to be identical (``identical``).

    python -m benchmarks.dask_overhead                     # < 3 min on 2 cores
    python -m benchmarks.dask_overhead -n 40 --repeats 1   # quick look
    python -m benchmarks.dask_overhead --json out.json

From the suite: ``from benchmarks.dask_overhead import run; figures = run(replications=...)``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

SCENARIO = "nacka-multi"
SETS = ("scenario.years=2", "scenario.warmup_years=1")
REPLICATIONS = 200
JOBS = 2
REPEATS = 3


def _execute(backend: Any, sc: Any, seed: int, reps: Sequence[int]) -> Any:
    from simsource.experiment.runner import Job, MemorySink, execute

    class NoBar:
        def update(self, n: int) -> None:
            pass

    sink = MemorySink(sc.name)
    execute([Job(sink, sc, seed, list(reps))], backend, NoBar())
    return sink.frame()


def measure(kind: str, sc: Any, replications: int, seed: int, jobs: int) -> dict[str, Any]:
    """One batch on a fresh backend ``kind``: start-up (incl. one warm-up replication per
    worker), batch and shut-down times in seconds, and the KPI frame."""
    from simsource.experiment import pool
    from simsource.experiment.backend import make_backend

    t0 = time.perf_counter()
    backend = make_backend(kind, jobs)
    try:
        _execute(backend, sc, seed + 1, range(jobs))  # imports the model in every worker
        t1 = time.perf_counter()
        frame = _execute(backend, sc, seed, range(replications))
        t2 = time.perf_counter()
    finally:
        backend.close()
        if kind == "local":
            pool.shutdown()  # the warm pool outlives a backend; a command ends with it
    t3 = time.perf_counter()
    return {"startup_s": t1 - t0, "batch_s": t2 - t1, "close_s": t3 - t2, "total_s": t3 - t0,
            "frame": frame}


def run(replications: int = REPLICATIONS, sets: Sequence[str] = SETS, repeats: int = REPEATS,
        jobs: int = JOBS, scenario: str = SCENARIO, seed: int = 1,
        progress: bool = False) -> dict[str, Any]:
    """Measure local vs Dask throughput; a dict of figures (rates in replications/s)."""
    from simsource.experiment.engine import auto_chunk_size
    from simsource.scenario import load_scenario, parse_overrides

    sc = load_scenario(scenario, parse_overrides(tuple(sets)))
    runs: dict[str, list[dict[str, Any]]] = {"local": [], "dask": []}
    identical = True
    for i in range(repeats):
        order = ("local", "dask") if i % 2 == 0 else ("dask", "local")
        frames = {}
        for kind in order:
            m = measure(kind, sc, replications, seed, jobs)
            frames[kind] = m.pop("frame")
            runs[kind].append(m)
            if progress:
                print(f"repeat {i + 1}/{repeats} {kind:5}: start {m['startup_s']:5.1f} s, "
                      f"batch {m['batch_s']:5.1f} s, close {m['close_s']:4.1f} s",
                      file=sys.stderr)
        identical = identical and frames["local"].equals(frames["dask"])

    def med(kind: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[kind]))

    local_rate = replications / med("local", "total_s")
    dask_rate = replications / med("dask", "total_s")
    local_batch = replications / med("local", "batch_s")
    dask_batch = replications / med("dask", "batch_s")
    return {
        "scenario": scenario, "sets": list(sets), "replications": replications, "jobs": jobs,
        "repeats": repeats, "chunk_size": auto_chunk_size(replications, jobs),
        "local_rate": local_rate, "dask_rate": dask_rate,
        "overhead_ratio": dask_rate / local_rate,
        "local_batch_rate": local_batch, "dask_batch_rate": dask_batch,
        "batch_ratio": dask_batch / local_batch,
        "local_startup_s": med("local", "startup_s"), "dask_startup_s": med("dask", "startup_s"),
        "local_close_s": med("local", "close_s"), "dask_close_s": med("dask", "close_s"),
        "identical": identical,
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
        os.cpu_count(),
        "loadavg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "runs": runs,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.dask_overhead",
                                description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("-n", "--replications", type=int, default=REPLICATIONS)
    p.add_argument("--set", dest="sets", action="append", default=None, metavar="KEY=VALUE",
                   help=f"scenario overrides (default: {' '.join(SETS)})")
    p.add_argument("--repeats", type=int, default=REPEATS)
    p.add_argument("-j", "--jobs", type=int, default=JOBS)
    p.add_argument("--scenario", default=SCENARIO)
    p.add_argument("--json", default=None, metavar="PATH", help="also write the figures here")
    a = p.parse_args(argv)
    r = run(a.replications, tuple(a.sets) if a.sets else SETS, a.repeats, a.jobs, a.scenario,
            progress=True)
    print(f"{r['scenario']} ({' '.join(r['sets'])}): {r['replications']} replications, "
          f"-j {r['jobs']}, chunks of {r['chunk_size']}, median of {r['repeats']}")
    print(f"  end to end : local {r['local_rate']:6.2f} rep/s, dask {r['dask_rate']:6.2f} rep/s"
          f"  -> overhead ratio {r['overhead_ratio']:.3f}")
    print(f"  warm batch : local {r['local_batch_rate']:6.2f} rep/s, dask "
          f"{r['dask_batch_rate']:6.2f} rep/s  -> batch ratio {r['batch_ratio']:.3f}")
    print(f"  start-up   : local {r['local_startup_s']:.1f} s, dask {r['dask_startup_s']:.1f} s;"
          f" shut-down: local {r['local_close_s']:.1f} s, dask {r['dask_close_s']:.1f} s")
    print(f"  identical KPI tables: {r['identical']}; load average {r['loadavg_1min']:.1f} on "
          f"{r['cpus']} CPUs")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(r, f, indent=2)
    return r


if __name__ == "__main__":
    main()
