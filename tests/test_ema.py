"""EMA Workbench interoperability: `simsource.ema.model` is a model EMA's `perform_experiments`
runs, with schema ranges as uncertainties, catalogue directions as outcome kinds, valid mixes,
and the numbers simsource itself gives for the same parameters."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from simsource.ema import SimsourceFunction, ema_name, model
from simsource.errors import UserError
from simsource.experiment.runner import run_batch
from simsource.scenario import load_scenario, with_overrides

# EMA Workbench takes seconds to import: these run in make test, not in make test-fast.
pytestmark = pytest.mark.slow

SHORT = {"scenario.years": 0.6, "scenario.warmup_years": 0.1}
MIX = "ideas.supplier_domain_mix"


@pytest.fixture(scope="module")
def ema_workbench() -> ModuleType:
    """Imported by the tests that need it, not at collection (it takes seconds to import)."""
    return pytest.importorskip(
        "ema_workbench", reason="EMA Workbench is not installed (pip install 'simsource[ema]')")


def test_perform_experiments_runs_simsource(ema_workbench: ModuleType) -> None:
    sc = load_scenario("nacka-multi", SHORT)
    m = model(sc, uncertainties=f"funnel.screening_pass,operations.between_chairs_bounces,{MIX}",
              outcomes=["innovations_per_year", "cost_total_msek_per_year",
                        "coordinator_utilisation"], replications=2, seed=4)
    names = [u.name for u in m.uncertainties]
    assert names == ["funnel__screening_pass", "operations__between_chairs_bounces",
                     f"{ema_name(MIX)}__u1", f"{ema_name(MIX)}__u2"]
    assert all(n.isidentifier() for n in names)
    screening = m.uncertainties["funnel__screening_pass"]
    assert (screening.lower_bound, screening.upper_bound) == (0.10, 0.45)
    kinds = {o.name: o.kind for o in m.outcomes}
    out_kind = ema_workbench.ScalarOutcome
    assert kinds == {"innovations_per_year": out_kind.MAXIMIZE,
                     "cost_total_msek_per_year": out_kind.MINIMIZE,
                     "coordinator_utilisation": out_kind.INFO}
    experiments, outcomes = ema_workbench.perform_experiments(m, 3)
    assert len(experiments) == 3
    assert np.isfinite(outcomes["cost_total_msek_per_year"]).all()
    # the numbers are simsource's own for the same parameters and seed
    row = experiments.iloc[1]
    fn = m.function
    assert isinstance(fn, SimsourceFunction)
    values = {"funnel.screening_pass": row["funnel__screening_pass"],
              "operations.between_chairs_bounces": row["operations__between_chairs_bounces"],
              f"{MIX}#u1": row[f"{ema_name(MIX)}__u1"], f"{MIX}#u2": row[f"{ema_name(MIX)}__u2"]}
    overrides = fn.row(values)
    mix = [overrides[f"{MIX}.{p}"] for p in ("it", "business", "new_service")]
    assert sum(mix) == pytest.approx(1.0)
    same = run_batch(with_overrides(sc, {k: v for k, v in overrides.items()}), 2, seed=4, jobs=1)
    assert outcomes["cost_total_msek_per_year"][1] == pytest.approx(
        same["cost_total_msek_per_year"].mean())


def test_bad_names_are_user_errors(ema_workbench: ModuleType) -> None:
    with pytest.raises(UserError, match=r"did you mean funnel\.screening_pass"):
        model("nacka-multi", uncertainties="funnel.screening_pas")
    with pytest.raises(UserError, match="unknown KPI 'innovations'"):
        model(load_scenario("nacka-multi", SHORT), uncertainties="funnel.screening_pass",
              outcomes=["innovations"])
    with pytest.raises(UserError, match="also an uncertainty"):
        model("nacka-multi", uncertainties="coordination.staff", levers="coordination.staff")
