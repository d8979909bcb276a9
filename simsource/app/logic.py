"""Pure logic of the teaching page: controls → scenario, and small CRN batches.

Nothing here imports Streamlit, so every function is testable on its own. The page
(:mod:`simsource.app.page`) only lays out widgets and calls these functions.

* :class:`Controls` holds what the teacher set; :func:`controls_for` gives the neutral controls
  of a scenario (nothing changed but the demo length); :func:`build` turns base scenario +
  controls into a validated :class:`Scenario` plus the dotted-key overrides that reproduce it.
* Settings run on the experiment engine through :mod:`simsource.app.runs` (replication ``i``
  with root seed ``S`` exactly as ``simsource run FILE -n N --seed S``: common random numbers,
  so a paired difference is fair).

KPI cards are in :mod:`simsource.app.cards`, the scenario file and commands to reproduce a
setting in :mod:`simsource.app.export`, and the diff between two settings is
:func:`simsource.scenario.diff.diff`.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsource import formatting
from simsource.scenario import Scenario, ScenarioError, load_scenario
from simsource.scenario.diff import Change
from simsource.scenario.loader import builtin_names, scenarios_dir, validate_data, with_overrides
from simsource.scenario.schema import DOMAINS, PARTNERSHIP_DIMENSIONS, PRESETS, RESPONSIBILITIES
from simsource.scenario.workload import check_workload

DEFAULT_REPLICATIONS = 20
DEFAULT_SEED = 2017
DEFAULT_DEMO_YEARS = 3.0
SOURCING = {"scenario": "as in the scenario", "single": "one supplier (like nacka-single)",
            "multi": "four suppliers (like nacka-multi)"}
SOURCING_TEMPLATES = {"single": "nacka-single", "multi": "nacka-multi"}
_EPS = 1e-9


# ---- starting points ---------------------------------------------------------------------------
def exercise_scenarios() -> list[str]:
    """Exercise scenario files as ``exercises/<stem>`` (loadable by :func:`load_start`)."""
    d = scenarios_dir() / "exercises"
    return sorted(f"exercises/{p.stem}" for p in d.glob("*.toml")) if d.is_dir() else []


def start_options() -> list[str]:
    """Every starting point the page offers: built-in names, then exercise scenarios."""
    return builtin_names() + exercise_scenarios()


def load_start(ref: str) -> Scenario:
    """A built-in name or ``exercises/<stem>``."""
    if ref.startswith("exercises/"):
        path = scenarios_dir() / "exercises" / f"{ref.removeprefix('exercises/')}.toml"
        sc = load_scenario(path)
        return sc.model_copy(update={"name": path.stem})
    return load_scenario(ref)


def load_uploaded(content: bytes, filename: str) -> Scenario:
    """A scenario from an uploaded TOML file; ``extends`` may name a built-in scenario.

    Raises :class:`ScenarioError` with one line per problem.
    """
    stem = Path(filename).stem or "uploaded"
    with tempfile.TemporaryDirectory(prefix="simsource-upload-") as tmp:
        path = Path(tmp) / f"{stem}.toml"
        path.write_bytes(content)
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            raise ScenarioError([line.replace(str(path), filename)
                                 for line in exc.problems]) from None
    check_workload(sc, where=filename)  # the same limit as the batch commands
    return sc


@functools.lru_cache(maxsize=4)
def sourcing_template(kind: str) -> Scenario | None:
    """The supplier set of ``nacka-single`` or ``nacka-multi`` (None when not available)."""
    name = SOURCING_TEMPLATES.get(kind)
    if name is None or name not in builtin_names():
        return None
    return load_scenario(name)


def sourcing_choices() -> list[str]:
    return ["scenario"] + [k for k in SOURCING_TEMPLATES if sourcing_template(k) is not None]


# ---- controls ----------------------------------------------------------------------------------
@dataclass
class Controls:
    """What the teacher set on the page. ``None`` means "as in the scenario"."""

    years: float
    sourcing: str = "scenario"
    proactive: float | None = None
    reactive: float | None = None
    staff: int = 10
    consultants: int = 0
    keep_plan: bool = True
    partnership: dict[str, float] = field(default_factory=dict)
    responsibility: dict[str, str] = field(default_factory=dict)
    idea_scale: float = 1.0
    ambition: float = 20.0
    transfer: bool = False
    transfer_shared: bool = True


def demo_years(sc: Scenario, wanted: float = DEFAULT_DEMO_YEARS) -> float:
    """The scenario's years shortened to ``wanted`` when that still leaves a measured year."""
    years = float(sc.scenario.years)
    if years > wanted and wanted - sc.scenario.warmup_years >= 1.0:
        return float(wanted)
    return years


def year_choices(sc: Scenario) -> list[float]:
    """Whole-year run lengths offered on the page (each leaves at least one measured year)."""
    warm = sc.scenario.warmup_years
    out = {float(y) for y in range(1, 11) if y - warm >= 1.0}
    out.add(float(sc.scenario.years))
    return sorted(out)


def controls_for(sc: Scenario, years: float | None = None) -> Controls:
    """The neutral controls of ``sc``: building them changes nothing but the years."""
    return Controls(
        years=demo_years(sc) if years is None else years,
        staff=sc.coordination.staff,
        consultants=sc.coordination.consultants,
        keep_plan=True,
        partnership=sc.partnership.dims(),
        responsibility={d: sc.responsibility.cell(d) for d in DOMAINS},
        idea_scale=1.0,
        ambition=float(sc.ambition.innovations_per_year),
        transfer=sc.transition.enabled,
        transfer_shared=sc.transition.shared_with_operations,
    )


def preset_dims(preset: str) -> dict[str, float]:
    """The five partnership dimensions of the ``light`` or ``heavy`` preset."""
    return {d: PRESETS[preset] for d in PARTNERSHIP_DIMENSIONS}


def mean_ability(sc: Scenario, which: str) -> float:
    vals = [float(getattr(s, which)) for s in sc.suppliers.values()]
    return round(sum(vals) / len(vals), 2)


@dataclass(frozen=True)
class Built:
    """A scenario made from a base and controls, and how to reproduce it."""

    scenario: Scenario
    overrides: dict[str, Any]   # dotted keys over the base (after any sourcing switch)
    sourcing_switched: bool     # suppliers replaced: not expressible with --set


def with_sourcing(base: Scenario, sourcing: str) -> Scenario:
    """``base`` with the supplier set (and technical areas) of a template scenario."""
    if sourcing == "scenario":
        return base
    tmpl = sourcing_template(sourcing)
    if tmpl is None:
        raise ScenarioError(f"sourcing: the built-in scenario "
                            f"'{SOURCING_TEMPLATES.get(sourcing, sourcing)}' is not available")
    data = base.model_dump(mode="python")
    data["suppliers"] = tmpl.model_dump(mode="python")["suppliers"]
    data["scenario"]["areas"] = list(tmpl.scenario.areas)
    return validate_data(data, f"{base.name} (sourcing: {sourcing})")


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) > _EPS
    return bool(a != b)


def overrides_for(ref: Scenario, c: Controls) -> dict[str, Any]:
    """Dotted-key overrides that turn ``ref`` into the controls' setting (only real changes)."""
    ov: dict[str, Any] = {}

    def put(key: str, new: Any, old: Any) -> None:
        if _differs(new, old):
            ov[key] = new

    put("scenario.years", float(c.years), float(ref.scenario.years))
    for name, sup in ref.suppliers.items():
        if c.proactive is not None:
            put(f"suppliers.{name}.proactive", round(float(c.proactive), 4), sup.proactive)
        if c.reactive is not None:
            put(f"suppliers.{name}.reactive", round(float(c.reactive), 4), sup.reactive)
    put("coordination.staff", int(c.staff), ref.coordination.staff)
    put("coordination.consultants", int(c.consultants), ref.coordination.consultants)
    if not c.keep_plan and ref.coordination.plan:
        ov["coordination.plan"] = []
    for dim in PARTNERSHIP_DIMENSIONS:
        if dim in c.partnership:
            put(f"partnership.{dim}", round(float(c.partnership[dim]), 4),
                getattr(ref.partnership, dim))
    for dom in DOMAINS:
        if dom in c.responsibility:
            put(f"responsibility.{dom}", c.responsibility[dom], ref.responsibility.cell(dom))
    if _differs(c.idea_scale, 1.0):
        for src_name, src in ref.ideas.sources.items():
            put(f"ideas.sources.{src_name}.rate_per_year",
                round(src.rate_per_year * float(c.idea_scale), 4), src.rate_per_year)
    put("ambition.innovations_per_year", float(c.ambition),
        float(ref.ambition.innovations_per_year))
    put("transition.enabled", bool(c.transfer), ref.transition.enabled)
    if c.transfer:
        put("transition.shared_with_operations", bool(c.transfer_shared),
            ref.transition.shared_with_operations)
    return ov


def build(base: Scenario, c: Controls) -> Built:
    """The scenario the controls describe (validated); raises :class:`ScenarioError`."""
    if c.sourcing not in SOURCING:
        raise ScenarioError(f"sourcing: unknown choice '{c.sourcing}'")
    for dom, resp in c.responsibility.items():
        if dom not in DOMAINS or resp not in RESPONSIBILITIES:
            raise ScenarioError(f"responsibility.{dom}: unknown choice '{resp}'")
    ref = with_sourcing(base, c.sourcing)
    ov = overrides_for(ref, c)
    sc = with_overrides(ref, ov)
    check_workload(sc, where="settings")  # e.g. an uploaded file's rates x the inflow slider
    return Built(sc, ov, c.sourcing != "scenario")


# ---- describing settings -----------------------------------------------------------------------
def setting_key(sc: Scenario) -> str:
    """Identity of a setting for caching: the resolved parameters without name, title and the
    partnership preset label."""
    part = sc.partnership.model_copy(update={"preset": "custom"})
    return sc.model_copy(update={"name": "x", "title": "", "description": "",
                                 "partnership": part}).model_dump_json()


def label_for(sc: Scenario, changes: Sequence[Change]) -> str:
    """A short label: the scenario name and up to three changes (from :func:`diff`)."""
    if not changes:
        return sc.name
    parts = [f"{c.key.split('.')[-1]}={formatting.parameter(c.new)}" for c in changes[:3]]
    more = f" +{len(changes) - 3}" if len(changes) > 3 else ""
    return f"{sc.name}: {', '.join(parts)}{more}"


