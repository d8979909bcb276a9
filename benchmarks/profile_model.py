"""cProfile of nacka-multi replications: where the model spends its time."""

from __future__ import annotations

from typing import Any

from benchmarks.harness import ROOT

RESULTS = ROOT / "benchmarks" / "results"


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
    rows: list[dict[str, Any]] = []
    for (file, line, name), (_cc, ncalls, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{_short(file)}:{line}({name})", "calls": ncalls,
                     "own_pct": 100 * tt / total, "cum_pct": 100 * ct / total})
    rows.sort(key=lambda r: -r["own_pct"])
    groups: dict[str, float] = {}
    for row in rows:
        group = _group(row["function"])
        groups[group] = groups.get(group, 0.0) + row["own_pct"]
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
