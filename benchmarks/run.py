"""The simsource benchmark suite: every figure a ratio or a time measured in this same run.

    python -m benchmarks.run                 # make bench: full suite, < 10 min on 2 cores
    python -m benchmarks.run --quick         # tiny smoke run (seconds, numbers meaningless)
    python -m benchmarks.run --only engine,startup
    python -m benchmarks.run --profile       # + cProfile of 20 nacka-multi replications

Writes ``benchmarks/results/latest.json`` (or ``--json PATH``) and prints a table of every
figure with its target and whether it is met. Timed figures are the median of ``--repeats``
(default 5) interleaved repeats: each repeat runs every contender once, in a rotated order, so
drift on a shared, noisy machine hits all of them alike. See docs/performance.md.

Parts (``--only``): ``engine`` (engine overhead, replication cost), ``peers`` (Ciw, salabim),
``startup``, ``parallel``, ``memory``, ``store``. The parts that run the ``simsource run``
command line (startup, parallel, memory) are skipped with a note when the command is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import math
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks import mmc_ciw, mmc_salabim, mmc_simpy

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("engine", "peers", "startup", "parallel", "memory", "store")
HEAVY_MODULES = ("pandas", "matplotlib", "pyarrow", "scipy", "streamlit", "dask")
SCHEMA = 1


# ---- settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    repeats: int = 5
    seed: int = 1
    customers: int = mmc_simpy.CUSTOMERS      # bare SimPy M/M/5 reference run
    model_reps: int = 2                       # replications per scenario and repeat
    scenarios: tuple[str, ...] = ("nacka-multi", "nacka-transfer-2017")
    peer_customers: int = 10_000              # Ciw / salabim / SimPy comparison
    peer_repeats: int = 3
    batch_n: int = 200                        # parallel efficiency batch
    # To fit the 10-minute budget the `simsource run` batches simulate fewer years than the
    # scenario's 4: the work per replication shrinks, the per-command costs do not, so these
    # settings understate parallel efficiency rather than flatter it.
    batch_sets: tuple[str, ...] = ("scenario.years=2", "scenario.warmup_years=1")
    memory_small: int = 100
    memory_large: int = 2000
    memory_sets: tuple[str, ...] = ("scenario.years=1", "scenario.warmup_years=0.5")
    store_n: int = 200                        # synthetic batch written through ResultStore
    store_jobs: int = 2
    profile_reps: int = 0


_TINY = ("scenario.years=0.25", "scenario.warmup_years=0.1")
QUICK = Settings(repeats=2, customers=5_000, model_reps=1, peer_customers=500, peer_repeats=1,
                 batch_n=4, batch_sets=_TINY, memory_small=2, memory_large=4, memory_sets=_TINY,
                 store_n=4)


# ---- figures -------------------------------------------------------------------------------
@dataclass
class Figure:
    """One number of the table. ``target`` is ``(op, value)`` with op ``>=`` or ``<=``, or None
    for a figure that is only reported."""

    key: str
    label: str
    unit: str
    target: tuple[str, float] | None = None
    value: float | None = None
    samples: list[float] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None or math.isnan(self.value):
            return None
        op, bound = self.target
        return self.value >= bound if op == ">=" else self.value <= bound

    def target_text(self) -> str:
        return "report" if self.target is None else f"{self.target[0]} {_fmt(self.target[1])}"

    def status(self) -> str:
        if self.value is None:
            return "skipped"
        if self.target is None:
            return "-"
        return "met" if self.met else "NOT MET"

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label, "unit": self.unit, "value": _clean(self.value),
            "target": self.target_text(),
            "target_op": self.target[0] if self.target else None,
            "target_value": self.target[1] if self.target else None,
            "met": self.met, "status": self.status(),
            "samples": [_clean(s) for s in self.samples],
            "detail": _clean(self.detail), "note": self.note,
        }


FIGURES: list[tuple[str, str, str, tuple[str, float] | None]] = [
    ("engine_overhead_ratio", "engine overhead: simsource ev/s / bare SimPy M/M/5 ev/s", "ratio",
     (">=", 0.75)),
    ("engine_overhead_ratio_cpu", "  the same ratio in CPU time (robust to load)", "ratio", None),
    ("simsource_events_per_s", "  simsource events/s (nacka-multi)", "events/s", None),
    ("simpy_events_per_s", "  bare SimPy M/M/5 events/s", "events/s", None),
    ("replication_s_nacka_multi", "replication cost: nacka-multi", "s/rep", None),
    ("replication_s_nacka_transfer_2017", "replication cost: nacka-transfer-2017", "s/rep", None),
    ("sim_years_per_s_nacka_multi", "simulated years per second: nacka-multi", "years/s", None),
    ("sim_years_per_s_nacka_transfer_2017", "simulated years per second: nacka-transfer-2017",
     "years/s", None),
    ("parallel_efficiency", "parallel efficiency, {n} reps: reps/s -j 2 / (2 x -j 1)", "ratio",
     (">=", 0.85)),
    ("memory_ratio", "memory: peak RSS {large} reps / {small} reps", "ratio", ("<=", 1.3)),
    ("startup_help_s", "start-up: simsource --help", "s", ("<=", 0.5)),
    ("startup_run_n1_s", "start-up: simsource run nacka-multi -n 1 --quiet", "s", None),
    ("store_overhead_share", "store overhead: result writing / batch time", "share",
     ("<=", 0.05)),
    ("ciw_vs_simpy", "peer: Ciw customers/s / SimPy customers/s (M/M/5)", "ratio", None),
    ("salabim_vs_simpy", "peer: salabim customers/s / SimPy customers/s (M/M/5)", "ratio", None),
]


def new_figures(s: Settings) -> dict[str, Figure]:
    names = {"small": s.memory_small, "large": s.memory_large, "n": s.batch_n}
    return {k: Figure(k, label.format(**names), unit, target)
            for k, label, unit, target in FIGURES}


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isnan(v):
        return "nan"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf become None, tuples lists, floats rounded to 6 significant digits."""
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _median(xs: Sequence[float]) -> float | None:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return statistics.median(xs) if xs else None


# ---- progress ------------------------------------------------------------------------------
class Clock:
    def __init__(self, quiet: bool) -> None:
        self.t0 = time.perf_counter()
        self.quiet = quiet

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(f"[bench {self.elapsed:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _rotated(items: Sequence[Any], i: int) -> list[Any]:
    k = i % len(items)
    return [*items[k:], *items[:k]]


# ---- engine overhead, replication cost, peers (in this process) ------------------------------
def _timed_simulate(sc: Any, seed: int, reps: int) -> tuple[float, float, float]:
    """Wall time, CPU time and events (KPI ``sim_events``) of replications 0..reps-1."""
    from simsource import simulate

    wall = cpu = events = 0.0
    for r in range(reps):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        kpis = simulate(sc, seed=seed, replication=r)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        events += kpis["sim_events"]
    return wall, cpu, events


def bench_engine(s: Settings, figs: dict[str, Figure], clock: Clock, peers: bool,
                 engine: bool) -> None:
    from simsource import load_scenario

    scs = {name: load_scenario(name) for name in s.scenarios} if engine else {}
    if engine:  # warm-up: imports, caches, first-call costs
        _timed_simulate(load_scenario("nacka-multi", {"scenario.years": 0.25,
                                                      "scenario.warmup_years": 0.0}), s.seed, 1)
        mmc_simpy.run(2_000)
    peer_runs: dict[str, Callable[[int], dict[str, float] | None]] = {
        "simpy": lambda n: mmc_simpy.run(n, seed=s.seed),
        "ciw": lambda n: mmc_ciw.run(n, seed=s.seed),
        "salabim": lambda n: mmc_salabim.run(n, seed=s.seed),
    }
    rows: dict[str, list[dict[str, float]]] = {}
    peer_rows: dict[str, list[dict[str, float] | None]] = {k: [] for k in peer_runs}

    for i in range(s.repeats):
        tasks: list[tuple[str, Callable[[], None]]] = []
        if engine:
            def simpy_task() -> None:
                gc.collect()
                rows.setdefault("simpy", []).append(mmc_simpy.run(s.customers, seed=s.seed))
            tasks.append(("simpy", simpy_task))
            for name, sc in scs.items():
                def model_task(name: str = name, sc: Any = sc) -> None:
                    wall, cpu, events = _timed_simulate(sc, s.seed, s.model_reps)
                    rows.setdefault(name, []).append(
                        {"wall_s": wall, "cpu_s": cpu, "events": events, "reps": s.model_reps,
                         "years": sc.scenario.years})
                tasks.append((name, model_task))
        if peers and i < s.peer_repeats:
            for peer, fn in peer_runs.items():
                def peer_task(peer: str = peer, fn: Callable[..., Any] = fn) -> None:
                    gc.collect()
                    peer_rows[peer].append(fn(s.peer_customers))
                tasks.append((f"peer:{peer}", peer_task))
        for label, task in _rotated(tasks, i):
            clock.say(f"engine repeat {i + 1}/{s.repeats}: {label}")
            task()

    if engine:
        _engine_figures(s, figs, rows)
    if peers:
        _peer_figures(s, figs, peer_rows)


def _engine_figures(s: Settings, figs: dict[str, Figure],
                    rows: dict[str, list[dict[str, float]]]) -> None:
    simpy_eps = [r["events"] / r["wall_s"] for r in rows["simpy"]]
    multi = rows["nacka-multi"]
    multi_eps = [r["events"] / r["wall_s"] for r in multi]
    ratios = [m / b for m, b in zip(multi_eps, simpy_eps, strict=True)]
    f = figs["engine_overhead_ratio"]
    f.samples, f.value = ratios, _median(ratios)
    cpu_ratios = [(m["events"] / m["cpu_s"]) / (b["events"] / b["cpu_s"])
                  for m, b in zip(multi, rows["simpy"], strict=True)]
    figs["engine_overhead_ratio_cpu"].samples = cpu_ratios
    figs["engine_overhead_ratio_cpu"].value = _median(cpu_ratios)
    f.detail = {"events_per_replication": _median([r["events"] / r["reps"] for r in multi]),
                "simpy_events_per_customer": rows["simpy"][0]["events"] / s.customers,
                "simpy_customers": s.customers, "model_reps_per_repeat": s.model_reps}
    figs["simsource_events_per_s"].samples = multi_eps
    figs["simsource_events_per_s"].value = _median(multi_eps)
    figs["simpy_events_per_s"].samples = simpy_eps
    figs["simpy_events_per_s"].value = _median(simpy_eps)
    figs["simpy_events_per_s"].detail = {
        "mean_wait": _median([r["mean_wait"] for r in rows["simpy"]]),
        "erlang_c_mean_wait": mmc_simpy.erlang_c_wait()}
    for name in s.scenarios:
        key = name.replace("-", "_")
        per_rep = [r["wall_s"] / r["reps"] for r in rows[name]]
        years = rows[name][0]["years"]
        rep_fig, yps_fig = figs[f"replication_s_{key}"], figs[f"sim_years_per_s_{key}"]
        rep_fig.samples, rep_fig.value = per_rep, _median(per_rep)
        rep_fig.detail = {"years_per_replication": years,
                          "cpu_s_per_replication": _median([r["cpu_s"] / r["reps"]
                                                            for r in rows[name]]),
                          "events_per_replication": _median([r["events"] / r["reps"]
                                                             for r in rows[name]])}
        yps = [years / x for x in per_rep]
        yps_fig.samples, yps_fig.value = yps, _median(yps)


def _peer_figures(s: Settings, figs: dict[str, Figure],
                  peer_rows: dict[str, list[dict[str, float] | None]]) -> None:
    simpy_cps = [r["customers"] / r["wall_s"] for r in peer_rows["simpy"] if r]
    base = _median(simpy_cps)
    for peer, key in (("ciw", "ciw_vs_simpy"), ("salabim", "salabim_vs_simpy")):
        f = figs[key]
        runs = [r for r in peer_rows[peer] if r]
        if not runs:
            f.note = f"skipped: {peer} is not installed (pip install {peer})"
            continue
        cps = [r["customers"] / r["wall_s"] for r in runs]
        f.samples = [c / b for c, b in zip(cps, simpy_cps, strict=False)]
        f.value = _median(f.samples)
        f.detail = {"customers": s.peer_customers, "customers_per_s": _median(cps),
                    "simpy_customers_per_s": base,
                    "mean_wait": _median([r["mean_wait"] for r in runs]),
                    "simpy_mean_wait": _median([r["mean_wait"] for r in peer_rows["simpy"] if r]),
                    "erlang_c_mean_wait": mmc_simpy.erlang_c_wait()}


# ---- the command line, as a user runs it -----------------------------------------------------
def simsource_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "simsource"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "simsource"]


def cli_available() -> tuple[bool, str]:
    """Whether ``simsource run`` exists (and why not)."""
    try:
        p = subprocess.run([*simsource_cmd(), "run", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"simsource could not be started: {exc}"
    if p.returncode != 0:
        return False, "`simsource run` is not available yet (simsource/cli/experiment_cmds.py)"
    return True, ""


@dataclass
class Proc:
    wall_s: float
    returncode: int
    stdout: str
    stderr: str
    peak_tree_rss: int = 0      # bytes: largest sum of RSS over the process and its descendants
    peak_main_rss: int = 0      # bytes: largest RSS of the command's own process
    rss_method: str = ""


def _tree_rss(ps: Any, proc: Any) -> tuple[int, int]:
    try:
        members = [proc, *proc.children(recursive=True)]
    except ps.Error:
        return 0, 0
    total = main = 0
    for p in members:
        try:
            rss = p.memory_info().rss
        except ps.Error:
            continue
        total += rss
        if p.pid == proc.pid:
            main = rss
    return total, main


_RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\nBENCH-MAXRSS-KB {kb}\\n')\n"
    "sys.exit(rc)\n"
)


def run_cmd(args: Sequence[str], memory: bool = False, timeout: float = 1800) -> Proc:
    """Run a command from the project root; its wall time and, with ``memory``, peak RSS
    (psutil polling of the whole process tree every 20 ms; without psutil the peak RSS of the
    largest waited-for descendant from getrusage)."""
    args = list(args)
    ps: Any = None
    if memory:
        try:
            import psutil as ps
        except ImportError:
            args = [sys.executable, "-c", _RUSAGE_WRAPPER, *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, text=True)
        peak_tree = peak_main = 0
        if memory and ps is not None:
            handle = ps.Process(p.pid)
            while p.poll() is None:
                tree, main = _tree_rss(ps, handle)
                peak_tree, peak_main = max(peak_tree, tree), max(peak_main, main)
                time.sleep(0.02)
                if time.perf_counter() - t0 > timeout:
                    p.kill()
        try:
            p.wait(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        res = Proc(wall, p.returncode, out.read(), err.read())
    if memory:
        if ps is not None:
            res.peak_tree_rss, res.peak_main_rss, res.rss_method = peak_tree, peak_main, "psutil"
        else:
            for line in res.stderr.splitlines():
                if line.startswith("BENCH-MAXRSS-KB "):
                    res.peak_tree_rss = res.peak_main_rss = int(line.split()[1]) * 1024
            res.rss_method = "getrusage(RUSAGE_CHILDREN) ru_maxrss"
    return res


def _check(p: Proc, what: str) -> None:
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{what} failed (exit {p.returncode}): {tail}")


def _run_args(scenario: str, n: int, out: Path, seed: int, jobs: int | None,
              sets: Sequence[str]) -> list[str]:
    args = [*simsource_cmd(), "run", scenario, "-n", str(n), "--seed", str(seed), "--quiet",
            "--out", str(out)]
    if jobs is not None:
        args += ["-j", str(jobs)]
    for kv in sets:
        args += ["--set", kv]
    return args


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def manifest_store_share(man: dict[str, Any]) -> float | None:
    """Store share from a runner timing hook, if the manifest has one:
    ``"timing": {"wall_s": ..., "store_s": ...}`` (seconds)."""
    t = man.get("timing")
    if isinstance(t, dict):
        wall, store = t.get("wall_s"), t.get("store_s")
        if isinstance(wall, int | float) and isinstance(store, int | float) and wall > 0:
            return float(store) / float(wall)
    return None


_MODULE_PROBE = (
    "import atexit, json, sys\n"
    "HEAVY = {heavy!r}\n"
    "atexit.register(lambda: sys.stderr.write('\\nBENCH-MODULES ' + json.dumps(\n"
    "    sorted(m for m in HEAVY if m in sys.modules)) + '\\n'))\n"
    "sys.argv = ['simsource', *sys.argv[1:]]\n"
    "from simsource.cli import main\n"
    "main(prog_name='simsource')\n"
)


def heavy_modules(args: Sequence[str]) -> list[str] | None:
    """The heavy libraries that ``simsource ARGS`` imports in its own process."""
    code = _MODULE_PROBE.format(heavy=HEAVY_MODULES)
    p = run_cmd([sys.executable, "-c", code, *args])
    for line in p.stderr.splitlines():
        if line.startswith("BENCH-MODULES "):
            found: list[str] = json.loads(line.split(" ", 1)[1])
            return found
    return None


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="simsource-bench-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def bench_startup(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path) -> None:
    helps, runs = [], []
    for i in range(s.repeats):
        for what in _rotated(["help", "run"], i):
            clock.say(f"start-up repeat {i + 1}/{s.repeats}: {what}")
            if what == "help":
                p = run_cmd([*simsource_cmd(), "--help"])
                _check(p, "simsource --help")
                helps.append(p.wall_s)
            else:
                out = tmp / f"startup-{i}"
                p = run_cmd([*simsource_cmd(), "run", "nacka-multi", "-n", "1", "--quiet",
                             "--seed", str(s.seed), "--out", str(out)])
                _check(p, "simsource run nacka-multi -n 1")
                runs.append(p.wall_s)
                shutil.rmtree(out, ignore_errors=True)
    clock.say("start-up: which heavy libraries load")
    fh, fr = figs["startup_help_s"], figs["startup_run_n1_s"]
    fh.samples, fh.value = helps, _median(helps)
    fh.detail = {"heavy_modules_imported": heavy_modules(["--help"])}
    fr.samples, fr.value = runs, _median(runs)
    out = tmp / "startup-probe"
    fr.detail = {"heavy_modules_imported": heavy_modules(
        ["run", "nacka-multi", "-n", "1", "--quiet", "--seed", str(s.seed), "--out", str(out)]),
        "jobs": "default (every core)"}
    shutil.rmtree(out, ignore_errors=True)


def bench_parallel(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path,
                   hook_shares: list[float]) -> None:
    walls: dict[int, list[float]] = {1: [], 2: []}
    loads: list[float] = []
    for i in range(s.repeats):
        with contextlib.suppress(OSError, AttributeError):
            loads.append(os.getloadavg()[0])
        for jobs in _rotated([1, 2], i):
            clock.say(f"parallel repeat {i + 1}/{s.repeats}: run -n {s.batch_n} -j {jobs}")
            out = tmp / f"parallel-{i}-j{jobs}"
            p = run_cmd(_run_args("nacka-multi", s.batch_n, out, s.seed, jobs, s.batch_sets))
            _check(p, f"simsource run -n {s.batch_n} -j {jobs}")
            walls[jobs].append(p.wall_s)
            share = manifest_store_share(_manifest(out))
            if share is not None:
                hook_shares.append(share)
            shutil.rmtree(out, ignore_errors=True)
    f = figs["parallel_efficiency"]
    rps1 = [s.batch_n / w for w in walls[1]]
    rps2 = [s.batch_n / w for w in walls[2]]
    f.samples = [b / (2 * a) for a, b in zip(rps1, rps2, strict=True)]
    f.value = _median(f.samples)
    f.detail = {"replications": s.batch_n, "sets": list(s.batch_sets),
                "reps_per_s_j1": _median(rps1), "reps_per_s_j2": _median(rps2),
                "wall_s_j1": _median(walls[1]), "wall_s_j2": _median(walls[2]),
                "best_sample": max(f.samples), "load_1min_before_each_repeat": loads,
                "cpus": os.cpu_count()}
    f.note = ("wall time of the whole command (start-up included); the batch simulates "
              + ", ".join(s.batch_sets) + " to fit the time budget")


def bench_memory(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path) -> None:
    peaks: dict[int, Proc] = {}
    for n in (s.memory_small, s.memory_large):
        clock.say(f"memory: run -n {n} -j 2 (peak RSS)")
        out = tmp / f"memory-{n}"
        p = run_cmd(_run_args("nacka-multi", n, out, s.seed, 2, s.memory_sets), memory=True,
                    timeout=3600)
        _check(p, f"simsource run -n {n}")
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
              "fork server and workers; batches simulate " + ", ".join(s.memory_sets))


# ---- store overhead ------------------------------------------------------------------------
def _store_payload(s: Settings, path: Path) -> float:
    """Real rows of two nacka-multi replications for the synthetic batch; returns s/rep."""
    from simsource import load_scenario
    from simsource.experiment.runner import run_chunk

    sc = load_scenario("nacka-multi")
    t0 = time.perf_counter()
    kpi_rows, ts_rows = run_chunk(sc.model_dump_json(), s.seed, [0, 1])
    per_rep = (time.perf_counter() - t0) / 2
    with open(path, "wb") as fh:
        pickle.dump({"scenario_json": sc.model_dump_json(), "seed": s.seed, "n": s.store_n,
                     "jobs": s.store_jobs, "kpi": kpi_rows, "ts": ts_rows}, fh)
    return per_rep


def store_worker(payload_path: str, out: str) -> None:
    """In a fresh interpreter (as one ``simsource run`` pays it): write a synthetic batch of
    ``n`` replications through ResultStore, chunked as ``run -j jobs`` chunks it; print the
    seconds spent in each step as JSON."""
    t0 = time.perf_counter()
    from simsource.experiment.runner import auto_chunk_size
    from simsource.experiment.store import ResultStore
    from simsource.scenario import Scenario

    t_import = time.perf_counter() - t0
    with open(payload_path, "rb") as fh:
        d = pickle.load(fh)
    sc = Scenario.model_validate_json(d["scenario_json"])
    n, kpi, ts = d["n"], d["kpi"], d["ts"]
    size = auto_chunk_size(n, d["jobs"])
    blocks = [list(range(a, min(n, a + size))) for a in range(0, n, size)]
    chunks = [([{**kpi[i % len(kpi)], "replication": i} for i in b],
               [{**ts[i % len(ts)], "replication": i} for i in b]) for b in blocks]
    t1 = time.perf_counter()
    with ResultStore.open(Path(out), sc, d["seed"], requested=n, backend="local",
                          jobs=d["jobs"], command="benchmarks.run store", warn=lambda m: None
                          ) as store:
        t2 = time.perf_counter()
        for k, t in chunks:
            store.write(k, t)
        t3 = time.perf_counter()
        store.finalize(n)
        t4 = time.perf_counter()
    t5 = time.perf_counter()
    print(json.dumps({"import_s": t_import, "open_s": t2 - t1, "write_s": t3 - t2,
                      "finalize_s": t4 - t3, "close_s": t5 - t4, "chunks": len(chunks),
                      "store_s": t_import + (t5 - t1)}))


def bench_store(s: Settings, figs: dict[str, Figure], clock: Clock, tmp: Path,
                per_rep_s: float | None, hook_shares: list[float]) -> None:
    f = figs["store_overhead_share"]
    payload = tmp / "store-payload.pkl"
    clock.say("store: two real replications for the synthetic batch")
    measured = _store_payload(s, payload)
    per_rep = per_rep_s or measured
    compute = s.store_n * per_rep / s.store_jobs
    runs: list[dict[str, float]] = []
    for i in range(s.repeats):
        clock.say(f"store repeat {i + 1}/{s.repeats}: {s.store_n} replications, fresh process")
        out = tmp / f"store-{i}"
        p = run_cmd([sys.executable, "-m", "benchmarks.run", "--store-worker", str(payload),
                     str(out)])
        _check(p, "store worker")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        shutil.rmtree(out, ignore_errors=True)
    shares = [r["store_s"] / (r["store_s"] + compute) for r in runs]
    f.samples, f.value = shares, _median(shares)
    f.detail = {"replications": s.store_n, "jobs": s.store_jobs,
                "s_per_replication": per_rep, "compute_s": compute,
                **{k: _median([r[k] for r in runs]) for k in runs[0] if k != "chunks"},
                "chunks": runs[0]["chunks"],
                "share_excluding_imports": _median(
                    [(r["store_s"] - r["import_s"]) / (r["store_s"] + compute) for r in runs])}
    f.note = ("no timing in manifest.json: ResultStore timed directly on a synthetic batch of "
              f"{s.store_n} real nacka-multi rows in a fresh interpreter (lazy imports count), "
              f"against {s.store_n} x s/rep / {s.store_jobs} cores of simulation")
    if hook_shares:
        f.detail["synthetic_share"] = f.value
        f.samples, f.value = hook_shares, _median(hook_shares)
        f.note = "from the runner's timing in manifest.json of the parallel batches"


# ---- profile ---------------------------------------------------------------------------------
def profile_model(reps: int, seed: int, top: int = 15) -> dict[str, Any]:
    """cProfile of ``reps`` nacka-multi replications: own-time hot spots, also written to
    ``benchmarks/results/profile.txt``."""
    import cProfile
    import io
    import pstats

    from simsource import load_scenario, simulate

    sc = load_scenario("nacka-multi")
    simulate(sc, seed=seed, replication=0)  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    for r in range(reps):
        simulate(sc, seed=seed, replication=r)
    prof.disable()
    st = pstats.Stats(prof)
    total = st.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, ncalls, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{_short(file)}:{line}({name})", "calls": ncalls,
                     "own_pct": 100 * tt / total, "cum_pct": 100 * ct / total})
    rows.sort(key=lambda r: -r["own_pct"])
    groups: dict[str, float] = {}
    for r in rows:
        group = _group(r["function"])
        groups[group] = groups.get(group, 0.0) + r["own_pct"]
    by_group = [{"group": g, "own_pct": v} for g, v in sorted(groups.items(), key=lambda x: -x[1])]
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(40)
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile.txt").write_text(buf.getvalue(), encoding="utf-8")
    return {"replications": reps, "profiled_s": total, "top_own_time": rows[:top],
            "own_time_by_group": by_group}


def _group(function: str) -> str:
    """simsource/model/x.py, simpy/core.py, simpy/resources, simpy/events.py or other."""
    path = function.split(":", 1)[0]
    if path.startswith("simpy/resources"):
        return "simpy/resources"
    if path.startswith(("simsource/", "simpy/")):
        return path
    return "builtins/numpy/other"


def _short(file: str) -> str:
    for marker in ("site-packages/", "/simsource/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1] if marker != "/simsource/" else \
                "simsource/" + file.split(marker, 1)[1]
    return file


# ---- report ------------------------------------------------------------------------------------
def table(figs: dict[str, Figure]) -> str:
    w = max(len(f.label) for f in figs.values())
    lines = [f"{'figure':<{w}}  {'value':>12}  {'unit':<9}  {'target':<8}  status",
             "-" * (w + 45)]
    for f in figs.values():
        lines.append(f"{f.label:<{w}}  {_fmt(f.value):>12}  {f.unit:<9}  {f.target_text():<8}"
                     f"  {f.status()}")
    notes = [f"  {f.key}: {f.note}" for f in figs.values() if f.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import numpy
    import simpy

    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count(), "simpy": simpy.__version__,
                            "numpy": numpy.__version__}
    with contextlib.suppress(OSError, AttributeError):
        info["load_avg_start"] = list(os.getloadavg())
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
    cli_parts = [p for p in ("startup", "parallel", "memory") if p in parts]
    hook_shares: list[float] = []
    with scratch() as tmp:
        if cli_parts:
            ok, why = cli_available()
            if not ok:
                for key in ("startup_help_s", "startup_run_n1_s", "parallel_efficiency",
                            "memory_ratio"):
                    figs[key].note = f"skipped: {why}"
                cli_parts = []
        if "startup" in cli_parts:
            bench_startup(s, figs, clock, tmp)
        if "parallel" in cli_parts:
            bench_parallel(s, figs, clock, tmp, hook_shares)
        if "memory" in cli_parts:
            bench_memory(s, figs, clock, tmp)
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
        report["profile"] = _clean(profile_model(s.profile_reps, s.seed))
    with contextlib.suppress(OSError, AttributeError):
        info["load_avg_end"] = list(os.getloadavg())
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
    ap.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 5)")
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
        s = replace(s, repeats=a.repeats)
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
    load = max(report["machine"].get("load_avg_start", [0.0])[:1]
               + report["machine"].get("load_avg_end", [0.0])[:1])
    if load > (report["machine"]["cpus"] or 1):
        print(f"\nwarning: load average {load:.1f} on {report['machine']['cpus']} CPUs: other "
              "work shared the machine; wall-time figures (parallel efficiency, start-up) "
              "suffer most")
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


def info_line(m: dict[str, Any]) -> str:
    return f"{m['cpus']} CPUs, Python {m['python']}, SimPy {m['simpy']}"


if __name__ == "__main__":
    sys.exit(main())
