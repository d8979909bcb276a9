"""The reference M/M/c queue (c = 5, λ = 4.5, μ = 1) in salabim, an optional peer of bare SimPy.

Written in salabim's classic generator style (``yieldless(False)``), one component per customer
as in the SimPy version; compare customers per second. Skipped (``None``) when salabim is not
installed.

    python -m benchmarks.mmc_salabim
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.mmc_simpy import CUSTOMERS, LAMBDA, MU, C, erlang_c_wait


def run(customers: int = CUSTOMERS, c: int = C, lam: float = LAMBDA, mu: float = MU,
        seed: int = 1) -> dict[str, Any] | None:
    """Simulate ``customers`` arrivals; None when salabim is missing."""
    try:
        import salabim as sim
    except ImportError:
        return None
    sim.yieldless(False)
    env = sim.Environment(trace=False, random_seed=seed)
    servers = sim.Resource("servers", capacity=c, monitor=False)
    inter = sim.Exponential(1.0 / lam)
    service = sim.Exponential(1.0 / mu)
    totals = {"wait": 0.0, "served": 0}

    class Customer(sim.Component):  # type: ignore[misc]
        def process(self) -> Any:
            arrived = env.now()
            yield self.request(servers)
            totals["wait"] += env.now() - arrived
            yield self.hold(service.sample())
            self.release()
            totals["served"] += 1

    class Source(sim.Component):  # type: ignore[misc]
        def process(self) -> Any:
            for _ in range(customers):
                yield self.hold(inter.sample())
                Customer()

    t0 = time.perf_counter()
    Source()
    env.run()
    wall = time.perf_counter() - t0
    served = int(totals["served"])
    return {"engine": "salabim", "customers": float(served), "events": float("nan"),
            "wall_s": wall, "mean_wait": totals["wait"] / served if served else float("nan")}


def main() -> None:
    r = run()
    if r is None:
        print("salabim is not installed (pip install salabim): skipped")
        return
    print(f"salabim M/M/{C}: {r['customers']:.0f} customers in {r['wall_s']:.2f} s = "
          f"{r['customers'] / r['wall_s']:,.0f} customers/s; mean wait {r['mean_wait']:.3f} "
          f"(Erlang C {erlang_c_wait():.3f})")


if __name__ == "__main__":
    main()
