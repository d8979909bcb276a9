"""Store overhead: the share of a batch's time spent writing its results folder."""

from __future__ import annotations

import json
import pickle
import shutil
import sys
import time
from pathlib import Path

from benchmarks.figures import Figure, Settings, median
from benchmarks.harness import Clock, check, run_cmd


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
        check(p, "store worker")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        shutil.rmtree(out, ignore_errors=True)
    shares = [r["store_s"] / (r["store_s"] + compute) for r in runs]
    f.samples, f.value = shares, median(shares)
    f.detail = {"replications": s.store_n, "jobs": s.store_jobs,
                "s_per_replication": per_rep, "compute_s": compute,
                **{k: median([r[k] for r in runs]) for k in runs[0] if k != "chunks"},
                "chunks": runs[0]["chunks"],
                "share_excluding_imports": median(
                    [(r["store_s"] - r["import_s"]) / (r["store_s"] + compute) for r in runs])}
    f.note = ("no timing in manifest.json: ResultStore timed directly on a synthetic batch of "
              f"{s.store_n} real nacka-multi rows in a fresh interpreter (lazy imports count), "
              f"against {s.store_n} x s/rep / {s.store_jobs} cores of simulation")
    if hook_shares:
        f.detail["synthetic_share"] = f.value
        f.samples, f.value = hook_shares, median(hook_shares)
        f.note = ("from the store's timing in manifest.json (store_s / wall_s) of the "
                  "parallel-efficiency part's `run -n 60 -j 2` batches; the synthetic batch's "
                  "share (lazy imports included) is detail.synthetic_share")
