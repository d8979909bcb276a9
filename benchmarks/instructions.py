"""Instructions per SimPy event, counted by valgrind's callgrind: a figure that does not depend
on the load other work puts on the machine (the timed figures of ``benchmarks.run`` do).

    python -m benchmarks.instructions            # model (nacka-multi) and bare SimPy, ~5-15 min
    python -m benchmarks.instructions --quick    # a smoke run: short scenario, few customers

Each side runs twice under callgrind, with *k* = 0 and with *k* replications (customers) after
the same imports and warm-up; the difference of the two instruction totals divided by the
events of the *k* replications (KPI ``sim_events``; 6 per M/M/5 customer) is the cost of one
event. Two runs of the same code agree to about 0.03 %. Not part of ``make bench``: it needs
valgrind and runs Python about 50 times slower. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.harness import ROOT

# the workload, run in a fresh interpreter: imports, a warm-up, then k units; prints EVENTS
_MODEL = """
import sys
from simsource import load_scenario, simulate
sc = load_scenario("nacka-multi", dict(a.split("=", 1) for a in sys.argv[2:]))
simulate(sc, seed=1, replication=0)
print("EVENTS", sum(simulate(sc, seed=1, replication=i + 1)["sim_events"]
                    for i in range(int(sys.argv[1]))))
"""
_SIMPY = """
import sys
from benchmarks import mmc_simpy
mmc_simpy.run(2_000, seed=1)
k = int(sys.argv[1])
print("EVENTS", mmc_simpy.run(k, seed=1)["events"] if k else 0)
"""


def count(code: str, k: int, extra: list[str]) -> tuple[int, float]:
    """(instructions, events) of the workload ``code`` with ``k`` units, under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        res = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
             "-c", code, str(k), *extra],
            capture_output=True, text=True, cwd=ROOT, check=True)
    collected = re.search(r"Collected : (\d+)", res.stderr)
    events = re.search(r"EVENTS ([\d.]+)", res.stdout)
    if collected is None or events is None:
        raise RuntimeError(f"callgrind gave no count:\n{res.stderr[-2000:]}")
    return int(collected.group(1)), float(events.group(1))


def per_event(code: str, k: int, extra: list[str]) -> tuple[float, float]:
    """(instructions per event, events) of ``k`` units beyond the imports and warm-up; the two
    runs side by side (the counts do not depend on what else runs)."""
    with ThreadPoolExecutor(2) as ex:
        base_run, full_run = ex.submit(count, code, 0, extra), ex.submit(count, code, k, extra)
        (base, _), (total, events) = base_run.result(), full_run.result()
    return (total - base) / events, events


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short scenario and few customers")
    ap.add_argument("--replications", type=int, default=2)
    ap.add_argument("--customers", type=int, default=30_000)
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("benchmarks.instructions: valgrind is not installed", file=sys.stderr)
        return 2
    extra = ["scenario.years=0.5", "scenario.warmup_years=0.1"] if args.quick else []
    reps, customers = (1, 2_000) if args.quick else (args.replications, args.customers)
    with ThreadPoolExecutor(2) as ex:
        model_run = ex.submit(per_event, _MODEL, reps, extra)
        simpy_run = ex.submit(per_event, _SIMPY, customers, [])
        (model, model_events), (simpy, simpy_events) = model_run.result(), simpy_run.result()
    print(f"model nacka-multi{' (quick)' if args.quick else ''}: {model:,.0f} instructions "
          f"per event ({model_events:,.0f} events in {reps} replications)")
    print(f"bare SimPy M/M/5: {simpy:,.0f} instructions per event ({simpy_events:,.0f} events)")
    print(f"ratio (bare SimPy / model): {simpy / model:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
