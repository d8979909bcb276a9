"""The reference M/M/c queue (c = 5, λ = 4.5, μ = 1) in Ciw, an optional peer of bare SimPy.

Ciw is not event-driven by SimPy processes, so its events are not comparable: compare
customers per second. Skipped (``None``) when Ciw is not installed.

    python -m benchmarks.mmc_ciw
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.mmc_simpy import CUSTOMERS, LAMBDA, MU, C, erlang_c_wait


def run(customers: int = CUSTOMERS, c: int = C, lam: float = LAMBDA, mu: float = MU,
        seed: int = 1) -> dict[str, Any] | None:
    """Simulate until ``customers`` have been served; None when Ciw is missing."""
    try:
        import ciw
    except ImportError:
        return None
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)],
        service_distributions=[ciw.dists.Exponential(rate=mu)],
        number_of_servers=[c],
    )
    ciw.seed(seed)
    t0 = time.perf_counter()
    q = ciw.Simulation(network)
    q.simulate_until_max_customers(customers, method="Finish")
    wall = time.perf_counter() - t0
    recs = q.get_all_records()
    served = len(recs)
    mean_wait = sum(r.waiting_time for r in recs) / served if served else float("nan")
    return {"engine": "ciw", "customers": float(served), "events": float("nan"),
            "wall_s": wall, "mean_wait": mean_wait}


def main() -> None:
    r = run()
    if r is None:
        print("Ciw is not installed (pip install ciw): skipped")
        return
    print(f"Ciw M/M/{C}: {r['customers']:.0f} customers in {r['wall_s']:.2f} s = "
          f"{r['customers'] / r['wall_s']:,.0f} customers/s; mean wait {r['mean_wait']:.3f} "
          f"(Erlang C {erlang_c_wait():.3f})")


if __name__ == "__main__":
    main()
