"""The reference queue: an M/M/c queue written in plain SimPy, the way a SimPy tutorial would.

c = 5 servers, arrival rate λ = 4.5, service rate μ = 1 (ρ = 0.9), 200,000 customers. Each
customer is one SimPy process that requests a server, holds it for an exponential service time
and releases it. Events are counted exactly as simsource counts its KPI ``sim_events``: the
number of events the environment scheduled, ``next(env._eid)`` after the run.

    python -m benchmarks.mmc_simpy            # one run, prints customers/s and events/s
    python -m benchmarks.mmc_simpy --batch 4 --customers 60000 --jobs 2
                                              # 4 runs on 2 forked processes, as a command
                                              # (one JSON line: each run's CPU seconds and
                                              # mean wait, the processes that ran them)

The batch is the bare-SimPy counterpart of ``simsource run -n N -j 2`` against ``-j 1`` (the
parallel-efficiency pairs of ``make bench``): what two processes of plain SimPy get from this
host's two cores, with no start-up, transfer or store of their own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import time
from collections.abc import Generator
from typing import Any

import simpy

C, LAMBDA, MU, CUSTOMERS = 5, 4.5, 1.0, 200_000


def erlang_c_wait(c: int = C, lam: float = LAMBDA, mu: float = MU) -> float:
    """The exact mean wait in queue Wq of an M/M/c queue (Erlang C), for checking every peer."""
    a = lam / mu
    rho = a / c
    term, total = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c / (1.0 - rho)
    p_wait = last / (total + last)
    return p_wait / (c * mu - lam)


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts, at every event scheduled, the events already pending:
    for measuring a queue's concurrency, not for timing."""

    def __init__(self) -> None:
        super().__init__()
        self.scheduled = 0
        self.pending_sum = 0

    def schedule(self, event: simpy.Event, priority: Any = 1, delay: float = 0) -> None:
        self.scheduled += 1
        self.pending_sum += len(self._queue)
        super().schedule(event, priority, delay)


def run(customers: int = CUSTOMERS, c: int = C, lam: float = LAMBDA, mu: float = MU,
        seed: int = 1, count_pending: bool = False) -> dict[str, Any]:
    """Simulate ``customers`` arrivals; wall time, events scheduled and the mean wait (and,
    with ``count_pending``, the mean number of events pending when one is scheduled)."""
    rng = random.Random(seed)
    env = CountingEnvironment() if count_pending else simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    waits = [0.0]
    served = [0]

    def customer() -> Generator[simpy.Event, Any, None]:
        arrived = env.now
        with servers.request() as req:
            yield req
            waits[0] += env.now - arrived
            yield env.timeout(rng.expovariate(mu))
        served[0] += 1

    def source() -> Generator[simpy.Event, Any, None]:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer())

    c0, t0 = time.process_time(), time.perf_counter()
    env.process(source())
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    events = next(env._eid)  # same count as simsource's KPI sim_events
    out: dict[str, Any] = {"engine": "simpy", "customers": float(served[0]),
                           "events": float(events), "wall_s": wall, "cpu_s": cpu,
                           "mean_wait": waits[0] / served[0]}
    if isinstance(env, CountingEnvironment):
        out["mean_pending"] = env.pending_sum / env.scheduled
    return out


def servers_for_pending(pending: float, rho: float = LAMBDA / (C * MU), seed: int = 1,
                        customers: int = 20_000) -> int:
    """The number of servers c at which this M/M/c queue (same utilisation) has ``pending``
    events pending on average: interpolated between c = 5 and c = 100, both measured."""
    lo, hi = 5, 100
    p_lo, p_hi = (float(run(customers, c=k, lam=rho * k * MU, seed=seed,
                            count_pending=True)["mean_pending"]) for k in (lo, hi))
    c = lo + (pending - p_lo) * (hi - lo) / (p_hi - p_lo)
    return max(1, round(c))


def _one(args: tuple[int, int]) -> tuple[float, float, int]:
    """One run of a batch: its CPU seconds, its mean wait and the process that ran it."""
    customers, seed = args
    r = run(customers, seed=seed)
    return float(r["cpu_s"]), float(r["mean_wait"]), os.getpid()


def batch(runs: int, customers: int, jobs: int, seed: int = 1
          ) -> list[tuple[float, float, int]]:
    """``runs`` runs of ``customers`` (seeds ``seed``, ``seed`` + 1, ...), in this process
    (``jobs`` 1) or on ``jobs`` forked worker processes; each run's CPU seconds, mean wait
    (the same for any ``jobs``) and process id."""
    tasks = [(customers, seed + i) for i in range(runs)]
    if jobs <= 1:
        return [_one(t) for t in tasks]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return pool.map(_one, tasks, chunksize=1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.mmc_simpy")
    ap.add_argument("--batch", type=int, default=0, help="runs of a batch (default: one run)")
    ap.add_argument("--customers", type=int, default=CUSTOMERS)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.batch:
        runs = batch(a.batch, a.customers, a.jobs, a.seed)
        # in_this_process: runs made by this process, not by a worker (all of them at --jobs 1)
        print(json.dumps({"runs": a.batch, "customers": a.customers, "jobs": a.jobs,
                          "cpu_s": [r[0] for r in runs], "mean_wait": [r[1] for r in runs],
                          "processes": len({r[2] for r in runs}),
                          "in_this_process": sum(r[2] == os.getpid() for r in runs)}))
        return
    r = run(a.customers, seed=a.seed)
    print(f"SimPy M/M/{C}: {r['customers']:.0f} customers in {r['wall_s']:.2f} s = "
          f"{r['customers'] / r['wall_s']:,.0f} customers/s, {r['events'] / r['wall_s']:,.0f} "
          f"events/s; mean wait {r['mean_wait']:.3f} (Erlang C {erlang_c_wait():.3f})")


if __name__ == "__main__":
    main()
