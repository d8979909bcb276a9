"""EMA Workbench interoperability: a simsource scenario as an EMA Workbench model.

>>> from ema_workbench import perform_experiments                          # doctest: +SKIP
>>> from simsource.ema import model
>>> m = model("nacka-multi", uncertainties="funnel.screening_pass,operations.*",
...           outcomes=["innovations_per_year", "cost_total_msek_per_year"])
>>> experiments, outcomes = perform_experiments(m, scenarios=50)

EMA Workbench (Kwakkel 2017; the optional extra ``simsource[ema]``) then drives simsource in its
own workflows: ``perform_experiments``, its optimisation and robust search, feature scoring,
its PRIM and CART. :func:`model` returns an ``ema_workbench.Model`` whose function runs
``replications`` replications of the scenario on simsource's engine (in the calling process;
EMA's evaluators parallelise across experiments) and returns each outcome's mean:

* ``uncertainties`` and ``levers`` take what ``simsource explore --uncertain`` takes (dotted
  keys, globs, ``KEY=LOW:HIGH``, ``all``) and become ``RealParameter``/``IntegerParameter`` over
  the schema's plausible ranges. EMA names must be Python identifiers, so a key's dots become
  double underscores (``funnel__screening_pass``); the model function receives the dotted key
  (EMA's ``variable_name``). A *mix* (shares that sum to one) becomes ``k − 1`` unit parameters
  ``<key>__u1 …`` mapped onto the simplex by stick breaking, so every experiment is valid;
* ``outcomes`` are KPI names; each is a ``ScalarOutcome`` whose kind follows the KPI
  catalogue's better direction (``MAXIMIZE``, ``MINIMIZE``, else ``INFO``), ready for
  optimisation;
* every experiment uses the same ``seed`` (common random numbers), so differences between
  experiments come from the parameters, not the dice.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simsource.errors import UserError
from simsource.experiment.sampling import Uncertain, resolve_uncertain, set_overrides
from simsource.model import catalogue
from simsource.scenario import Scenario, load_scenario, with_overrides

__all__ = ["SimsourceFunction", "ema_name", "model"]

DEFAULT_OUTCOMES: tuple[str, ...] = catalogue.names("lead")


def ema_name(key: str) -> str:
    """An EMA-safe identifier for a dotted key (dots and other characters → ``__``/``_``)."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", key.replace(".", "__"))
    return name if name[:1].isalpha() else f"p_{name}"


def _unit_key(u: Uncertain, i: int) -> str:
    return f"{u.key}#u{i + 1}"


class SimsourceFunction:
    """The model function EMA calls: ``f(**{dotted key: value}) -> {outcome: mean}``.

    Picklable (a scenario's JSON and plain data), so EMA's parallel evaluators can ship
    it to its workers.
    """

    def __init__(self, scenario: Scenario, space: Sequence[Uncertain], outcomes: Sequence[str],
                 replications: int, seed: int) -> None:
        self.scenario_json = scenario.model_dump_json()
        self.space = list(space)
        self.outcomes = list(outcomes)
        self.replications = replications
        self.seed = seed

    def row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The parameter set (columns of :mod:`simsource.experiment.sampling`) of one call."""
        row: dict[str, Any] = {}
        for u in self.space:
            if u.is_mix:
                row.update(u.from_unit([float(values[_unit_key(u, i)])
                                        for i in range(u.dims)]))
            else:
                v = values[u.key]
                row[u.key] = round(float(v)) if u.integer else float(v)
        return row

    def __call__(self, **values: Any) -> dict[str, float]:
        from simsource.experiment.backend import SerialBackend
        from simsource.experiment.engine import Work, kpi_frame, replications

        base = Scenario.model_validate_json(self.scenario_json)
        sc = with_overrides(base, set_overrides(self.space, self.row(values)))
        (chunk,) = replications([Work(sc, self.seed, range(self.replications))],
                                SerialBackend())
        frame = kpi_frame(sc.name, chunk.kpi_rows)
        return {k: float(frame[k].mean(skipna=True)) for k in self.outcomes}


def _parameters(space: Sequence[Uncertain]) -> list[Any]:
    from ema_workbench import IntegerParameter, RealParameter

    out: list[Any] = []
    for u in space:
        if u.is_mix:
            out += [RealParameter(f"{ema_name(u.key)}__u{i + 1}", 0.0, 1.0,
                                  variable_name=_unit_key(u, i)) for i in range(u.dims)]
        elif u.integer:
            out.append(IntegerParameter(ema_name(u.key), round(u.low), round(u.high),
                                        variable_name=u.key))
        else:
            out.append(RealParameter(ema_name(u.key), u.low, u.high, variable_name=u.key))
    return out


def _outcome(kpi: str) -> Any:
    from ema_workbench import ScalarOutcome

    better = catalogue.get(kpi).better
    kind = {"higher": ScalarOutcome.MAXIMIZE, "lower": ScalarOutcome.MINIMIZE}.get(
        better, ScalarOutcome.INFO)
    return ScalarOutcome(kpi, kind=kind)


def model(scenario: Scenario | str | Path, uncertainties: str | Sequence[str] = "",
          outcomes: Sequence[str] = DEFAULT_OUTCOMES, *,
          levers: str | Sequence[str] = "", replications: int = 3, seed: int = 0,
          name: str | None = None) -> Any:
    """An ``ema_workbench.Model`` of ``scenario`` (a :class:`Scenario`, a built-in name or a
    file) with the given uncertainties, outcomes and levers (see the module docstring)."""
    try:
        with warnings.catch_warnings():
            # EMA Workbench warns at import when its optional ipyparallel is absent
            warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
            from ema_workbench import Model
    except ImportError:
        raise UserError("simsource.ema needs EMA Workbench: pip install 'simsource[ema]'") \
            from None
    from simsource.experiment.engine import kpi_names
    from simsource.experiment.limits import check_replications, check_seed

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(str(scenario))
    check_replications(replications)
    check_seed(seed)
    unc = resolve_uncertain([sc], uncertainties) if uncertainties else []
    lev = resolve_uncertain([sc], levers, "levers") if levers else []
    both = {u.key for u in unc} & {u.key for u in lev}
    if both:
        raise UserError(f"levers: {sorted(both)[0]} is also an uncertainty")
    if not outcomes:
        raise UserError("outcomes: name at least one KPI")
    known = kpi_names(sc)
    unknown = [k for k in outcomes if k not in known]
    if unknown:
        raise UserError(f"outcomes: unknown KPI '{unknown[0]}' (see `simsource kpis`)")
    # EMA wants an alphanumeric model name
    m = Model(name or "simsource" + re.sub(r"[^0-9A-Za-z]", "", sc.name.title()),
              function=SimsourceFunction(sc, [*unc, *lev], outcomes, replications, seed))
    m.uncertainties = _parameters(unc)
    if lev:
        m.levers = _parameters(lev)
    m.outcomes = [_outcome(k) for k in outcomes]
    return m
