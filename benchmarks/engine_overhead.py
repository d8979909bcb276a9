"""Engine overhead (simsource events/s against a bare-SimPy M/M/5 queue in the same run),
replication cost, and the Ciw and salabim peers, measured in this process."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import mmc_ciw, mmc_salabim, mmc_simpy
from benchmarks.figures import Figure, Settings, median, quartiles
from benchmarks.harness import ROOT, Clock, rotated


def _timed_simulate(sc: Any, seed: int, reps: int, first: int = 0
                    ) -> tuple[float, float, float]:
    """Wall time, CPU time and events (KPI ``sim_events``) of replications first..first+reps-1."""
    from simsource import simulate

    wall = cpu = events = 0.0
    for r in range(first, first + reps):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        kpis = simulate(sc, seed=seed, replication=r)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        events += kpis["sim_events"]
    return wall, cpu, events


# the Python model, in a child process (this one has the compiled model loaded, if built):
# _timed_simulate there, one line of JSON per request, interleaved with the rest
_PURE_CHILD = """
import json, sys
from benchmarks.engine_overhead import _timed_simulate
from simsource import load_scenario
from simsource.model import native
sc = load_scenario(sys.argv[1])
seed, reps = int(sys.argv[2]), int(sys.argv[3])
_timed_simulate(sc, seed + 1, 1)
print(json.dumps({"model": native.describe()}), flush=True)
for _ in sys.stdin:
    wall, cpu, events = _timed_simulate(sc, seed, reps)
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "events": events, "reps": reps}), flush=True)
"""


class PureModel:
    """``nacka-multi`` on the pure-Python model (``SIMSOURCE_PURE=1``) in a child process that
    stays up between repeats: what the engine ratio is without the compiled modules."""

    def __init__(self, scenario: str, seed: int, reps: int) -> None:
        from simsource.model import native

        env = {**os.environ, native.ENV_PURE: "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _PURE_CHILD, scenario, str(seed), str(reps)], env=env,
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.model = str(self._read()["model"])

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the pure-Python model process ended (exit {self.proc.wait()})")
        data: dict[str, Any] = json.loads(line)
        return data

    def measure(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def model_pending(sc: Any, seed: int) -> float:
    """The mean number of events pending (heap and instant queues) when the model schedules
    one, over one replication (untimed): the model's concurrency, to match a reference queue."""
    from simsource.model import world
    from simsource.model.loop import Environment

    class Counting(Environment):
        scheduled = 0
        pending_sum = 0

        def schedule(self, event: Any, priority: Any = 1, delay: float = 0) -> None:
            self.scheduled += 1
            self.pending_sum += self.pending()
            super().schedule(event, priority, delay)

    made: list[Counting] = []

    def make() -> Counting:
        made.append(Counting())
        return made[-1]

    plain = world.Environment  # type: ignore[attr-defined]
    setattr(world, "Environment", make)   # noqa: B010 - the world's environment, counting
    try:
        world.World(sc, seed, 0).run()
    finally:
        setattr(world, "Environment", plain)  # noqa: B010
    return made[0].pending_sum / made[0].scheduled


def bench_engine(s: Settings, figs: dict[str, Figure], clock: Clock, peers: bool,
                 engine: bool) -> None:
    from simsource import load_scenario

    scs = {name: load_scenario(name) for name in s.scenarios} if engine else {}
    if engine:  # warm-up: imports, caches, first-call costs (a whole replication of each
        # scenario: a short one left the Kaplan-Meier's first import of scipy.stats, about
        # 2 s, in the first repeat)
        warm_events = {name: _timed_simulate(sc, s.seed + 1, 1)[2] for name, sc in scs.items()}
        warm = mmc_simpy.run(2_000)
        # the engine pairs' bare-SimPy half: as many events as one nacka-multi replication
        pair_customers = max(100, round(warm_events["nacka-multi"]
                                        / (warm["events"] / warm["customers"])))
        # the reference at the model's concurrency: as many events pending on average
        pending = model_pending(scs["nacka-multi"], s.seed)
        matched_c = mmc_simpy.servers_for_pending(pending, seed=s.seed)
        matched = mmc_simpy.run(s.customers // 4, c=matched_c, lam=0.9 * matched_c,
                                seed=s.seed, count_pending=True)
        concurrency = {"model_mean_pending": pending, "matched_servers": matched_c,
                       "matched_mean_pending": matched["mean_pending"],
                       "mm5_mean_pending": mmc_simpy.run(
                           s.customers // 4, seed=s.seed, count_pending=True)["mean_pending"]}
    peer_runs: dict[str, Callable[[int], dict[str, float] | None]] = {
        "simpy": lambda n: mmc_simpy.run(n, seed=s.seed),
        "ciw": lambda n: mmc_ciw.run(n, seed=s.seed),
        "salabim": lambda n: mmc_salabim.run(n, seed=s.seed),
    }
    rows: dict[str, list[dict[str, float]]] = {}
    pure = PureModel("nacka-multi", s.seed, s.model_reps) if engine else None
    peer_rows: dict[str, list[dict[str, float] | None]] = {k: [] for k in peer_runs}

    for i in range(s.repeats):
        tasks: list[tuple[str, Callable[[], None]]] = []
        if engine:
            def simpy_task() -> None:
                gc.collect()
                rows.setdefault("simpy", []).append(mmc_simpy.run(s.customers, seed=s.seed))
            tasks.append(("simpy", simpy_task))

            def pairs_task(i: int = i) -> None:
                for j in range(s.engine_pairs):
                    rows.setdefault("pairs", []).append(
                        _engine_pair(scs["nacka-multi"], s.seed, j, pair_customers,
                                     model_first=(i + j) % 2 == 0))
            tasks.append(("engine pairs", pairs_task))

            def matched_task() -> None:
                gc.collect()
                rows.setdefault("simpy_matched", []).append(
                    mmc_simpy.run(s.customers, c=matched_c, lam=0.9 * matched_c, seed=s.seed))
            tasks.append(("simpy-matched", matched_task))
            for name, sc in scs.items():
                def model_task(name: str = name, sc: Any = sc) -> None:
                    wall, cpu, events = _timed_simulate(sc, s.seed, s.model_reps)
                    rows.setdefault(name, []).append(
                        {"wall_s": wall, "cpu_s": cpu, "events": events, "reps": s.model_reps,
                         "years": sc.scenario.years})
                tasks.append((name, model_task))

            def pure_task() -> None:
                assert pure is not None
                rows.setdefault("pure", []).append(pure.measure())
            tasks.append(("nacka-multi, pure Python", pure_task))
        if peers and i < s.peer_repeats:
            for peer, fn in peer_runs.items():
                def peer_task(peer: str = peer, fn: Callable[..., Any] = fn) -> None:
                    gc.collect()
                    peer_rows[peer].append(fn(s.peer_customers))
                tasks.append((f"peer:{peer}", peer_task))
        for label, task in rotated(tasks, i):
            clock.say(f"engine repeat {i + 1}/{s.repeats}: {label}")
            task()

    if engine:
        assert pure is not None
        pure.close()
        _engine_figures(s, figs, rows)
        _matched_figures(figs, rows, concurrency)
        _pure_figure(figs, rows, pure.model)
    if peers:
        _peer_figures(s, figs, peer_rows)


def _engine_pair(sc: Any, seed: int, j: int, customers: int, model_first: bool
                 ) -> dict[str, float]:
    """One engine pair: replication ``j`` of the model and a bare-SimPy M/M/5 run of about as
    many events (seed ``seed + j``), one right after the other, in the order given."""
    out: dict[str, float] = {"pair": j, "model_first": float(model_first),
                             "simpy_customers": customers}

    def model() -> None:
        wall, cpu, events = _timed_simulate(sc, seed, 1, first=j)
        out.update(model_wall_s=wall, model_cpu_s=cpu, model_events=events)

    def bare() -> None:
        gc.collect()
        r = mmc_simpy.run(customers, seed=seed + j)
        out.update(simpy_wall_s=r["wall_s"], simpy_cpu_s=r["cpu_s"], simpy_events=r["events"])

    for half in (model, bare) if model_first else (bare, model):
        half()
    return out


def _pair_ratio(p: dict[str, float], clock: str) -> float:
    return (p["model_events"] / p[f"model_{clock}_s"]) / (p["simpy_events"] / p[f"simpy_{clock}_s"])


def _engine_figures(s: Settings, figs: dict[str, Figure],
                    rows: dict[str, list[dict[str, float]]]) -> None:
    """The engine ratio: the median over every adjacent pair (``s.engine_pairs`` per repeat) of
    the model's events/s over bare SimPy's; the host's speed, which drifts by tens of per cent
    within minutes on a shared machine, is nearly the same for a pair's two halves."""
    pairs = rows["pairs"]
    f = figs["engine_overhead_ratio"]
    f.samples = [_pair_ratio(p, "wall") for p in pairs]
    f.value = median(f.samples)
    g = figs["engine_overhead_ratio_cpu"]
    g.samples = [_pair_ratio(p, "cpu") for p in pairs]
    g.value = median(g.samples)

    def pooled(ps: list[dict[str, float]]) -> float:
        return ((sum(p["model_events"] for p in ps) / sum(p["model_wall_s"] for p in ps))
                / (sum(p["simpy_events"] for p in ps) / sum(p["simpy_wall_s"] for p in ps)))

    per_repeat = [pooled(pairs[k:k + s.engine_pairs])
                  for k in range(0, len(pairs), s.engine_pairs)]
    # the ratio as measured before the pairs: the long M/M/5 run and the model's replications
    # as separate tasks of a repeat, tens of seconds apart (kept to show what pairing removes)
    simpy_eps = [r["events"] / r["wall_s"] for r in rows["simpy"]]
    multi = rows["nacka-multi"]
    far = [(m["events"] / m["wall_s"]) / b for m, b in zip(multi, simpy_eps, strict=True)]
    f.detail = {"pairs": len(pairs), "pairs_per_repeat": s.engine_pairs,
                "pair_quartiles": quartiles(f.samples),
                "pooled_per_repeat": per_repeat,
                "model_first_median": median([r for r, p in zip(f.samples, pairs, strict=True)
                                              if p["model_first"]]),
                "simpy_first_median": median([r for r, p in zip(f.samples, pairs, strict=True)
                                              if not p["model_first"]]),
                "pair_simpy_customers": pairs[0]["simpy_customers"],
                "events_per_replication": median([p["model_events"] for p in pairs]),
                "far_apart_ratio": median(far), "far_apart_samples": far,
                "simpy_events_per_customer": rows["simpy"][0]["events"] / s.customers,
                "simpy_customers_long_run": s.customers}
    model_eps = [p["model_events"] / p["model_wall_s"] for p in pairs]
    pair_simpy_eps = [p["simpy_events"] / p["simpy_wall_s"] for p in pairs]
    figs["simsource_events_per_s"].samples = model_eps
    figs["simsource_events_per_s"].value = median(model_eps)
    figs["simpy_events_per_s"].samples = pair_simpy_eps
    figs["simpy_events_per_s"].value = median(pair_simpy_eps)
    figs["simpy_events_per_s"].detail = {
        "long_run_events_per_s": median(simpy_eps), "long_run_customers": s.customers,
        "mean_wait": median([r["mean_wait"] for r in rows["simpy"]]),
        "erlang_c_mean_wait": mmc_simpy.erlang_c_wait()}
    for name in s.scenarios:
        key = name.replace("-", "_")
        per_rep = [r["wall_s"] / r["reps"] for r in rows[name]]
        years = rows[name][0]["years"]
        rep_fig, yps_fig = figs[f"replication_s_{key}"], figs[f"sim_years_per_s_{key}"]
        rep_fig.samples, rep_fig.value = per_rep, median(per_rep)
        rep_fig.detail = {"years_per_replication": years,
                          "cpu_s_per_replication": median([r["cpu_s"] / r["reps"]
                                                            for r in rows[name]]),
                          "events_per_replication": median([r["events"] / r["reps"]
                                                             for r in rows[name]])}
        yps = [years / x for x in per_rep]
        yps_fig.samples, yps_fig.value = yps, median(yps)


def _pure_figure(figs: dict[str, Figure], rows: dict[str, list[dict[str, float]]],
                 pure_model: str) -> None:
    """The engine ratio of the model run as Python (``SIMSOURCE_PURE=1``), same repeats."""
    from simsource.model import native

    simpy_eps = [r["events"] / r["wall_s"] for r in rows["simpy"]]
    pure_eps = [r["events"] / r["wall_s"] for r in rows["pure"]]
    f = figs["engine_overhead_ratio_pure"]
    f.samples = [p / b for p, b in zip(pure_eps, simpy_eps, strict=True)]
    f.value = median(f.samples)
    compiled = [r["events"] / r["wall_s"] for r in rows["nacka-multi"]]
    f.detail = {"pure_events_per_s": median(pure_eps),
                "compiled_over_pure": median([c / p for c, p in
                                              zip(compiled, pure_eps, strict=True)]),
                "pure_process_model": pure_model, "this_process_model": native.describe()}
    figs["engine_overhead_ratio"].detail["model"] = native.describe()


def _matched_figures(figs: dict[str, Figure], rows: dict[str, list[dict[str, float]]],
                     concurrency: dict[str, float]) -> None:
    """The engine ratio against bare SimPy at the model's concurrency, and what that
    concurrency alone costs bare SimPy (the M/M/5 ratio of a model with no code of its own)."""
    eps = {k: [r["events"] / r["cpu_s"] for r in rows[k]]
           for k in ("simpy", "simpy_matched", "nacka-multi")}
    matched = [m / b for m, b in zip(eps["nacka-multi"], eps["simpy_matched"], strict=True)]
    ceiling = [b / a for b, a in zip(eps["simpy_matched"], eps["simpy"], strict=True)]
    f = figs["engine_overhead_ratio_matched"]
    f.samples, f.value = matched, median(matched)
    f.detail = dict(concurrency)
    g = figs["concurrency_ceiling"]
    g.samples, g.value = ceiling, median(ceiling)
    g.detail = {"matched_servers": concurrency["matched_servers"]}


def _peer_figures(s: Settings, figs: dict[str, Figure],
                  peer_rows: dict[str, list[dict[str, float] | None]]) -> None:
    simpy_cps = [r["customers"] / r["wall_s"] for r in peer_rows["simpy"] if r]
    base = median(simpy_cps)
    for peer, key in (("ciw", "ciw_vs_simpy"), ("salabim", "salabim_vs_simpy")):
        f = figs[key]
        runs = [r for r in peer_rows[peer] if r]
        if not runs:
            f.note = f"skipped: {peer} is not installed (pip install {peer})"
            continue
        cps = [r["customers"] / r["wall_s"] for r in runs]
        f.samples = [c / b for c, b in zip(cps, simpy_cps, strict=False)]
        f.value = median(f.samples)
        f.detail = {"customers": s.peer_customers, "customers_per_s": median(cps),
                    "simpy_customers_per_s": base,
                    "mean_wait": median([r["mean_wait"] for r in runs]),
                    "simpy_mean_wait": median([r["mean_wait"] for r in peer_rows["simpy"] if r]),
                    "erlang_c_mean_wait": mmc_simpy.erlang_c_wait()}
