"""Validation by ablation: the model reproduces what the whitepaper and the literature report,
and we say which input could encode each fact (MODEL.md §8–§9, issue 12 item 8).

Each fact is a paired comparison of means over 30 replications with common random numbers and
a 99 % t-interval of the paired difference. Each names the input that could *encode* it and
re-runs with that input neutralised: a fact that still holds is **validated** (it emerges from
the mechanisms), one that vanishes is **assumed** (it restates its input). The outcome of every
ablation is asserted here, so the table in ``docs/model.md`` cannot drift from the model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fake_models import Record
from replicate import replicate as run_replications
from scipy import stats

from simsource import load_scenario
from simsource.model import simulate_full
from simsource.scenario import Scenario

REPS, SEED = 30, 2017
CELLS = [(r, col) for r in ("supplier", "shared", "internal") for col in ("it", "business")]

# ---- running replications ---------------------------------------------------------------


def project_outcomes(sc: Scenario, seed: int, rep: int) -> Record:
    """Realised project success per domain of one replication, from the event log: ideas
    that left the project stage, and those of them that passed (whole run). A model for
    :func:`replicate` (run by the engine's workers, so it lives at module level)."""
    r = simulate_full(sc, seed=seed, replication=rep, trace=True)
    assert r.events is not None
    domain: dict[int, str] = {}
    out = {f"{w}_{d}": 0.0 for w in ("left", "passed") for d in ("it", "business", "new_service")}
    for e in r.events:
        if e["kind"] != "idea":
            continue
        if e["event"] == "created":
            domain[e["id"]] = e["detail"].split(" idea in ")[1].split(",")[0]
        elif e["event"] in ("passes project", "dropped at project"):
            d = domain[e["id"]]
            out[f"left_{d}"] += 1
            out[f"passed_{d}"] += e["event"] == "passes project"
    return Record(out)


def replicate(name: str, overrides: dict[str, Any] | None = None, n: int = REPS,
              seed: int = SEED, model: str | None = None) -> list[dict[str, float]]:
    """Replications 0..n-1 (cached, on the engine's warm pool), by default REPS of them with
    seed SEED."""
    return run_replications(name, overrides, n, seed, model)


def column(runs: list[dict[str, float]], kpi: str) -> np.ndarray:
    return np.array([r[kpi] for r in runs], dtype=float)


def paired_ci(a: np.ndarray, b: np.ndarray, level: float = 0.99) -> tuple[float, float, float]:
    """Mean of the paired differences b - a and its two-sided t-interval."""
    d = b - a
    assert len(d) >= 30
    assert not np.isnan(d).any()
    m = float(d.mean())
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return m, m - half, m + half


def describe(a: np.ndarray, b: np.ndarray, ci: tuple[float, float, float]) -> str:
    return (f"means {a.mean():.4g} -> {b.mean():.4g}, difference {ci[0]:.4g} "
            f"(99 % CI {ci[1]:.4g} … {ci[2]:.4g})")


def test_paired_ci_helper() -> None:
    a = np.zeros(30)
    b = np.linspace(0.9, 1.1, 30)
    m, lo, hi = paired_ci(a, b)
    assert m == pytest.approx(1.0)
    assert lo < 1.0 < hi
    assert hi - lo < 0.1
    m, lo, hi = paired_ci(a, a + 2.0)   # a constant difference has a zero-width interval
    assert m == lo == hi == 2.0


# ---- fact 1: one supplier → four, same unit ----------------------------------------------
# Could encode it: the governance sizes a·n + b·n(n−1)/2 (more suppliers, more work by
# definition). Neutralised: governance off in both rungs.


def test_fact1_the_split_rung_changes_ownership_only() -> None:
    single, split = load_scenario("nacka-single"), load_scenario("nacka-split")
    assert (len(single.suppliers), len(split.suppliers)) == (1, 4)
    assert single.coordination == split.coordination
    assert single.partnership == split.partnership
    assert single.responsibility == split.responsibility
    assert single.scenario == split.scenario
    (inc,) = single.suppliers.values()
    parts = split.suppliers.values()
    assert sum(s.staff for s in parts) == inc.staff
    assert sum(s.annual_fee_msek for s in parts) == pytest.approx(inc.annual_fee_msek)
    for s in parts:
        assert (s.proactive, s.reactive, s.change_markup) == (
            inc.proactive, inc.reactive, inc.change_markup)


def fact1_holds(extra: dict[str, Any]) -> None:
    single, split = replicate("nacka-single", extra), replicate("nacka-split", extra)
    for k in ("coordinator_utilisation", "operations_share_of_unit_effort",
              "between_chairs_per_year"):
        a, b = column(single, k), column(split, k)
        ci = paired_ci(a, b)
        assert ci[1] > 0, f"{k} not raised: {describe(a, b, ci)}"
    a, b = column(single, "innovations_per_year"), column(split, "innovations_per_year")
    ci = paired_ci(a, b)
    assert ci[2] <= 0, f"innovations raised: {describe(a, b, ci)}"


@pytest.mark.slow
def test_fact1_more_suppliers_load_the_unit_without_more_innovation() -> None:
    fact1_holds({})


@pytest.mark.slow
def test_fact1_holds_without_the_governance_term() -> None:
    """Validated: misrouting across more owners, the unit's triage and a change request per
    supplier involved load the unit even with no governance at all."""
    fact1_holds({"coordination.governance": False})


# ---- fact 2: four suppliers and a grown unit ----------------------------------------------
# Could encode it: the procured fees (58 vs 72 MSEK) for the cost; the new suppliers'
# abilities for the innovations. Neutralised one at a time.

INCUMBENT_LIKE = {f"suppliers.{s}.{k}": v for s in ("dcg", "basefarm", "dustin", "certessa")
                  for k, v in (("proactive", 0.2), ("reactive", 0.3), ("change_markup", 0.4))}
SAME_FEES = {f"suppliers.{s}.annual_fee_msek": f for s, f in
             (("dcg", 17.4), ("basefarm", 32.2), ("dustin", 9.9), ("certessa", 12.5))}


def fact2_diffs(extra: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    single, multi = replicate("nacka-single"), replicate("nacka-multi", extra)
    return {k: paired_ci(column(single, k), column(multi, k))
            for k in ("cost_operations_msek_per_year", "innovations_per_year")}


@pytest.mark.slow
def test_fact2_multi_sourcing_with_grown_unit_is_cheaper_and_more_innovative() -> None:
    multi = load_scenario("nacka-multi")
    assert (multi.coordination.staff, len(multi.suppliers)) == (24, 4)
    d = fact2_diffs({})
    assert d["cost_operations_msek_per_year"][2] < 0, d
    assert d["innovations_per_year"][1] > 0, d


@pytest.mark.slow
def test_fact2_lower_operations_cost_is_assumed_from_the_procured_fees() -> None:
    """Assumed: with the incumbent's 72 MSEK split over the four, nearly all of the saving
    goes — it is the procured price, an input. What remains (about 2 %) is emergent: the more
    proactive suppliers spend more time on improvement, which cuts next year's fee."""
    saving = -fact2_diffs({})["cost_operations_msek_per_year"][0]
    residual = -fact2_diffs(SAME_FEES)["cost_operations_msek_per_year"][0]
    assert 0 < residual < 0.15 * saving, (residual, saving)


@pytest.mark.slow
def test_fact2_more_innovation_holds_with_the_incumbents_abilities() -> None:
    """Validated: with the incumbent's proactive/reactive abilities and markup, the grown unit
    still implements more (capacity, and coordinators out in the business)."""
    d = fact2_diffs(INCUMBENT_LIKE)
    assert d["innovations_per_year"][1] > 0, d


# ---- fact 3: heavy vs light partner organisation ----------------------------------------------
# Could encode it: colocation_speedup (co-located teams are faster by definition) for the lead
# time; the mandate (the line's business-case hurdle) for the business innovations.

HEAVY, LIGHT = {"partnership.preset": "heavy"}, {"partnership.preset": "light"}


def fact3_diffs(name: str, light_extra: dict[str, Any], heavy_extra: dict[str, Any]
                ) -> dict[str, tuple[float, float, float]]:
    light = replicate(name, {**LIGHT, **light_extra})
    heavy = replicate(name, {**HEAVY, **heavy_extra})
    return {k: paired_ci(column(light, k), column(heavy, k))
            for k in ("lead_time_days_median_completed", "innovations_business_per_year")}


@pytest.mark.slow
def test_fact3_heavy_partnership_is_faster() -> None:
    sc = load_scenario("nacka-multi", overrides=HEAVY)
    assert min(sc.partnership.dims().values()) >= 0.9 - 1e-9
    d = fact3_diffs("nacka-multi", {}, {})
    assert d["lead_time_days_median_completed"][2] < 0, d


@pytest.mark.slow
def test_fact3_heavy_partnership_develops_more_business_where_capacity_binds() -> None:
    """In the unit of 10 with four suppliers, heavy implements far more business development.
    (At Nacka's grown staffing the gain is small — about +0.7 a year, not significant at 99 %:
    the light unit, further from its ambition, compensates by engaging more in the business;
    docs/model.md.)"""
    d = fact3_diffs("nacka-multi-10", {}, {})
    assert d["innovations_business_per_year"][1] > 0, d


@pytest.mark.slow
def test_fact3_shorter_lead_time_holds_without_the_colocation_speedup() -> None:
    """Validated: sync points, hand-offs, escalations and the ring-fence shorten it anyway."""
    no_speedup = {"partnership.colocation_speedup": 1.0}
    d = fact3_diffs("nacka-multi", no_speedup, no_speedup)
    assert d["lead_time_days_median_completed"][2] < 0, d


@pytest.mark.slow
def test_fact3_more_business_holds_with_a_limited_mandate() -> None:
    """Validated: with the light organisation's mandate (the line's business-case hurdle,
    which rejects ideas) the heavy organisation still implements more business development
    where capacity binds — through the ring-fence, the speed and less switching."""
    d = fact3_diffs("nacka-multi-10", {}, {"partnership.mandate": 0.2})
    assert d["innovations_business_per_year"][1] > 0, d


# ---- fact 4: supplier-led business development has the lowest project success ----------------
# Could encode it: the six success probabilities of Fig. 4 (cell 2 is typed in lowest).

FACT4_BASE = {"scenario.years": 2.0}


def realised_success(extra: dict[str, Any]) -> dict[tuple[str, str], np.ndarray]:
    """Per Fig. 4 cell (responsibility, column): realised project success per replication.
    Cell (r, "it") is IT ideas, (r, "business") business-development ideas, in the scenario
    where every domain is led by r."""
    out = {}
    for resp in ("supplier", "shared", "internal"):
        ov = {**FACT4_BASE, **extra, "responsibility.it": resp, "responsibility.business": resp,
              "responsibility.new_service": resp}
        runs = replicate("nacka-multi", ov, model="test_model_validation:project_outcomes")
        for col in ("it", "business"):
            left, passed = column(runs, f"left_{col}"), column(runs, f"passed_{col}")
            assert left.min() >= 5, f"too few {col} projects to estimate success ({resp})"
            out[resp, col] = passed / left
    return out


def lowest_is_cell2(rates: dict[tuple[str, str], np.ndarray]) -> bool:
    worst = ("supplier", "business")
    return all(paired_ci(rates[cell], rates[worst])[2] < 0 for cell in CELLS if cell != worst)


@pytest.mark.slow
def test_fact4_supplier_led_business_development_has_lowest_project_success() -> None:
    rates = realised_success({})
    assert lowest_is_cell2(rates)
    means = {cell: float(r.mean()) for cell, r in rates.items()}
    assert min(means, key=means.__getitem__) == ("supplier", "business"), means


@pytest.mark.slow
def test_fact4_is_assumed_it_is_the_success_matrix() -> None:
    """Assumed: with equal success probabilities in all six cells the fact vanishes — the
    model has no mechanism for *why* suppliers lack business knowledge; Fig. 4's cell 2 is an
    input."""
    equal = {f"responsibility.success_{r}_{c}": 0.6 for r, c in CELLS}
    assert not lowest_is_cell2(realised_success(equal))


@pytest.mark.slow
def test_fact4_realised_success_follows_the_responsibility_matrix() -> None:
    """Each cell's realised success is its configured probability (the wiring of Fig. 4)."""
    rates = realised_success({})
    matrix = load_scenario("nacka-multi").responsibility
    for resp, col in CELLS:
        p = getattr(matrix, f"success_{resp}_{col}")
        r = rates[resp, col]
        half = stats.t.ppf(0.995, len(r) - 1) * r.std(ddof=1) / math.sqrt(len(r))
        assert abs(r.mean() - p) <= half, (resp, col, r.mean(), p)


# ---- fact 5: a shared transfer team meets the deadline less often ------------------------------
# Could encode it: the disruption factors (more and slower incidents in areas in transfer).
# The fact itself is tested in test_transition.py; here its ablation.

TRANSFER = {"scenario.years": 0.75, "scenario.warmup_years": 0.0,
            "transition.disruption_incident_factor": 1.0,
            "transition.disruption_resolution_factor": 1.0}


@pytest.mark.slow
def test_fact5_holds_without_disruption() -> None:
    """Validated: with no extra incidents during the transfer, a team that also resolves
    incidents still meets the deadline less often than a separate one of the same size."""
    met = "transition_deadline_met"
    shared = column(replicate("nacka-transfer-2017", TRANSFER, n=60), met)
    separate = column(replicate("nacka-transfer-2017-separate-teams", TRANSFER, n=60), met)
    assert separate.mean() - shared.mean() > 0.1, (shared.mean(), separate.mean())


# ---- plausibility (issue 3 item 4, MODEL.md §5) ---------------------------------------------

PLAUSIBLE = [
    pytest.param("nacka-single", REPS, id="nacka-single"),
    pytest.param("nacka-multi", REPS, id="nacka-multi"),
    pytest.param("nacka-multi-10", REPS, id="nacka-multi-10"),
    pytest.param("nacka-transfer-2017", 10, id="nacka-transfer-2017"),
    pytest.param("nacka-transfer-2017-separate-teams", 10,
                 id="nacka-transfer-2017-separate-teams"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "n"), PLAUSIBLE)
def test_conversion_ideas_to_innovations_is_plausible(name: str, n: int) -> None:
    """Overall idea → implemented conversion between 2 % and 15 % (PDMA; Better Reykjavik
    ≈ 9 %), as the mean over replications of innovations per year / ideas per year."""
    runs = replicate(name, n=n)
    conv = column(runs, "innovations_per_year") / column(runs, "ideas_per_year")
    assert 0.02 <= conv.mean() <= 0.15, f"{name}: conversion {conv.mean():.4f}"


@pytest.mark.slow
def test_operations_are_about_a_third_of_unit_effort_in_nacka_multi() -> None:
    """MODEL.md §5: operations ≈ 1/3 of the digitalisation unit's effort after the transfer
    (the KPI window starts after the first year)."""
    share = column(replicate("nacka-multi"), "operations_share_of_unit_effort")
    half = stats.t.ppf(0.995, len(share) - 1) * share.std(ddof=1) / math.sqrt(len(share))
    assert share.mean() - half >= 0.2, share.mean()
    assert share.mean() + half <= 0.45, share.mean()
