"""Self-tests of the calibration method: does it find values it was given?

*Simulation-based calibration*: fix known "true" values, generate the facts from the model
itself (each KPI's mean over many replications at the truth, with another seed than the
calibration's), calibrate, and check that each true value lies inside the posterior's 90 %
interval while that interval is much narrower than the prior's. *A held-back fact*: calibrate
on all facts but one, and check that the posterior predicts the one left out.

``python -m simsource.analysis.calibration.selftest --budget 400 --years 2 --out DIR`` runs both
on the real model (docs/calibration.md shows the result); ``tests/test_calibration.py`` runs
them with a small budget.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simsource.analysis.calibration.facts import load_facts
from simsource.analysis.calibration.run import calibrate, setup
from simsource.experiment.engine import Evaluator
from simsource.scenario import Scenario, load_scenario, with_overrides

#: the real-model self-test: two parameters with separate effects, and their true values (the
#: operations share pins the governance size, the ideas passed by screening a year — a portfolio
#: log's count — the screening pass rate; innovations a year would too, but their spread between
#: runs hides a pass rate's effect at a small budget)
TRUTH: dict[str, float] = {"coordination.governance_fte_per_supplier": 1.1,
                           "funnel.screening_pass": 0.35}
#: facts generated at the truth, with their tolerances; the last is held back
TOLERANCES: dict[str, float] = {"operations_share_of_unit_effort": 0.02,
                                "funnel_out_screening_per_year": 5.0,
                                "coordinator_utilisation": 0.03}
HELD_BACK = "coordinator_utilisation"
FACTS_SEED = 99
#: the facts are means over this many runs at the truth (the facts' ``histories``)
FACTS_REPS = 30


def synthetic_facts(sc: Scenario, truth: Mapping[str, float], tolerances: Mapping[str, float],
                    *, reps: int = FACTS_REPS, seed: int = FACTS_SEED, jobs: int | None = None,
                    model: str | None = None) -> dict[str, float]:
    """Each KPI's mean over ``reps`` replications of ``sc`` at the true values."""
    with Evaluator(jobs, model=model) as ev:
        df = ev([with_overrides(sc, truth)], reps, seed)[0]
    return {k: float(df[k].mean()) for k in tolerances}


def facts_toml(scenario: str, values: Mapping[str, float], tolerances: Mapping[str, float],
               overrides: Mapping[str, Any] | None = None, histories: int = 1) -> str:
    """A facts file stating ``values`` ± ``tolerances`` on ``scenario``, each the mean of
    ``histories`` runs."""
    sets = ", ".join(f'"{k}" = {v!r}' for k, v in (overrides or {}).items())
    blocks = ['title = "Generated at known values (self-test)"']
    for kpi, value in values.items():
        blocks.append(f'[facts.{kpi}]\nscenario = "{scenario}"\nkpi = "{kpi}"\n'
                      f"value = {value!r}\ntolerance = {tolerances[kpi]!r}\n"
                      f"histories = {histories}\n"
                      'source = "the model at known values"\n'
                      + (f"set = {{ {sets} }}\n" if sets else ""))
    return "\n".join(blocks)


def run_selftest(scenario: str, out: Path, *, truth: Mapping[str, float] = TRUTH,
                 tolerances: Mapping[str, float] = TOLERANCES,
                 hold_out: Sequence[str] = (HELD_BACK,), budget: int = 600,
                 replications: int = 3, seed: int = 1, overrides: Mapping[str, Any] | None = None,
                 jobs: int | None = None, model: str | None = None,
                 progress: bool = False) -> dict[str, Any]:
    """Generate facts at ``truth``, calibrate ``truth``'s keys on them (``hold_out`` held
    back) into ``out``, and say what was recovered."""
    sc = load_scenario(scenario, dict(overrides or {}))
    values = synthetic_facts(sc, truth, tolerances, reps=FACTS_REPS, jobs=jobs, model=model)
    out.mkdir(parents=True, exist_ok=True)
    facts_path = out / "selftest-facts.toml"
    facts_path.write_text(facts_toml(scenario, values, tolerances, overrides, FACTS_REPS),
                          encoding="utf-8")
    s = setup(sc, load_facts(facts_path), ",".join(truth), budget=budget,
              replications=replications, seed=seed, hold_out=hold_out)
    res = calibrate(s, out / "calibration", jobs=jobs, model=model, progress=progress)
    params = {p["key"]: {"truth": truth[p["key"]], "q05": p["posterior"]["q05"],
                         "q95": p["posterior"]["q95"], "width_ratio_90": p["width_ratio_90"],
                         "covered": p["posterior"]["q05"] <= truth[p["key"]]
                         <= p["posterior"]["q95"]}
              for p in res.summary["params"]}
    held = {f["name"]: {"observed": values[f["name"]], **f["posterior_predictive"],
                        "prior_q05": f["prior_predictive"]["q05"],
                        "prior_q95": f["prior_predictive"]["q95"],
                        "covered": f["covered_by_posterior_90"]}
            for f in res.summary["facts"] if not f["used"]}
    return {"params": params, "held_back": held, "accepted": res.summary["accepted"],
            "candidates": res.summary["candidates"], "budget": res.summary["budget"],
            "seconds": res.summary["seconds"]}


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m simsource.analysis.calibration.selftest",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="nacka-multi")
    ap.add_argument("--budget", type=int, default=600)
    ap.add_argument("-n", "--replications", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--years", type=float, default=None,
                    help="simulated years per replication (default: the scenario's own)")
    ap.add_argument("-j", "--jobs", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("results/calibration-selftest"))
    a = ap.parse_args(argv)
    overrides = None if a.years is None else {"scenario.years": a.years}
    got = run_selftest(a.scenario, a.out, budget=a.budget, replications=a.replications,
                       seed=a.seed, jobs=a.jobs, overrides=overrides, progress=True)
    print(f"{got['accepted']} of {got['candidates']} candidates accepted, "
          f"{got['budget']['used']} simulations, {got['seconds']:.0f} s")
    for key, p in got["params"].items():
        print(f"{key}: truth {p['truth']:g}, posterior 90 % {p['q05']:.3g}..{p['q95']:.3g} "
              f"({'covers' if p['covered'] else 'MISSES'} the truth), "
              f"{p['width_ratio_90']:.0%} of the prior's width")
    for name, h in got["held_back"].items():
        print(f"held back {name}: observed {h['observed']:.3g}, posterior predictive 90 % "
              f"{h['q05']:.3g}..{h['q95']:.3g} (prior {h['prior_q05']:.3g}..{h['prior_q95']:.3g})"
              f", {'covered' if h['covered'] else 'NOT covered'}")
    ok = all(p["covered"] for p in got["params"].values()) and \
        all(h["covered"] for h in got["held_back"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
