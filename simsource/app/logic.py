"""Pure logic of the teaching page: controls → scenario, small CRN batches, KPI cards, export.

Nothing here imports Streamlit, so every function is testable on its own. The page
(:mod:`simsource.app.page`) only lays out widgets and calls these functions.

* :class:`Controls` holds what the teacher set; :func:`controls_for` gives the neutral controls
  of a scenario (nothing changed but the demo length); :func:`build` turns base scenario +
  controls into a validated :class:`Scenario` plus the dotted-key overrides that reproduce it.
* Settings run on the experiment engine through :mod:`simsource.app.runs` (replication ``i``
  with root seed ``S`` exactly as ``simsource run FILE -n N --seed S``: common random numbers).
* :func:`kpi_cards` compares two batches KPI by KPI with a paired 95 % confidence interval.
"""

from __future__ import annotations

import functools
import math
import re
import shlex
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simsource.analysis.stats import mean_ci, paired_difference
from simsource.app.runs import BatchResult
from simsource.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_overrides,
    scenario_toml,
)
from simsource.scenario.loader import builtin_names, scenarios_dir, validate_data, with_overrides
from simsource.scenario.schema import DOMAINS, PARTNERSHIP_DIMENSIONS, PRESETS, RESPONSIBILITIES

DEFAULT_REPLICATIONS = 20
DEFAULT_SEED = 2017
DEFAULT_DEMO_YEARS = 3.0
SOURCING = {"scenario": "as in the scenario", "single": "one supplier (like nacka-single)",
            "multi": "four suppliers (like nacka-multi)"}
SOURCING_TEMPLATES = {"single": "nacka-single", "multi": "nacka-multi"}
IDENTITY_KEYS = ("name", "title", "description")
LABEL_KEYS = ("partnership.preset",)   # labels only: the five dimensions are what the model uses
_EPS = 1e-9
_BARE = re.compile(r"[A-Za-z0-9_-]+")


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
    return Built(sc, ov, c.sourcing != "scenario")


# ---- describing settings -----------------------------------------------------------------------
def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v and k != "suppliers":
            out.update(_flatten(v, key + "."))
        elif isinstance(v, Mapping) and k == "suppliers":
            out[key] = ", ".join(v)  # the supplier set by name
            for name, sup in v.items():
                out.update(_flatten(sup, f"{key}.{name}."))
        else:
            out[key] = v
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list | tuple) and not v:
        return "none"
    return str(v)


def scenario_diff(a: Scenario, b: Scenario) -> list[tuple[str, str, str]]:
    """Parameters that differ from ``a`` to ``b``: ``(dotted key, a value, b value)``.

    A change of the supplier set is one line (``suppliers``), not one per supplier field.
    """
    fa = _flatten(_strip_identity(a.model_dump(mode="json")))
    fb = _flatten(_strip_identity(b.model_dump(mode="json")))
    swapped = fa.get("suppliers") != fb.get("suppliers")
    out = []
    for key in sorted(set(fa) | set(fb), key=lambda k: (k.split(".")[0], k)):
        if (swapped and key.startswith("suppliers.")) or key in LABEL_KEYS:
            continue
        va, vb = fa.get(key, "—"), fb.get(key, "—")
        if _differs(va, vb):
            out.append((key, _fmt(va), _fmt(vb)))
    return out


def _strip_identity(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in IDENTITY_KEYS}


def setting_key(sc: Scenario) -> str:
    """Identity of a setting for caching: the resolved parameters without name, title and the
    partnership preset label."""
    part = sc.partnership.model_copy(update={"preset": "custom"})
    return sc.model_copy(update={"name": "x", "title": "", "description": "",
                                 "partnership": part}).model_dump_json()


def label_for(sc: Scenario, changes: list[tuple[str, str, str]]) -> str:
    """A short label: the scenario name and up to three changes."""
    if not changes:
        return sc.name
    parts = [f"{k.split('.')[-1]}={vb}" for k, _, vb in changes[:3]]
    more = f" +{len(changes) - 3}" if len(changes) > 3 else ""
    return f"{sc.name}: {', '.join(parts)}{more}"


# ---- export ------------------------------------------------------------------------------------
def export_name(base_name: str, suffix: str = "whatif") -> str:
    """A file-system-safe scenario name: ``<base>-<suffix>``."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in base_name).strip("-")
    return f"{stem or 'scenario'}-{suffix}"


def export_toml(sc: Scenario, name: str, *, seed: int, n: int, note: str = "") -> str:
    """The resolved scenario as TOML, named ``name``, with the command that reproduces it."""
    named = sc.model_copy(update={"name": name})
    head = [f"# made on the simsource teaching page{': ' + note if note else ''}",
            f"# reproduce: {run_command(f'{name}.toml', n=n, seed=seed)}"]
    return "\n".join(head) + "\n" + scenario_toml(named)


def _set_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | tuple) and not v:
        return "[]"
    return str(v)


def run_command(target: str, *, n: int, seed: int, overrides: Mapping[str, Any] | None = None
                ) -> str:
    """``simsource run TARGET -n N --seed S [--set k=v ...]`` (shell-quoted)."""
    parts = ["simsource", "run", target, "-n", str(n), "--seed", str(seed)]
    for key, value in (overrides or {}).items():
        parts += ["--set", f"{key}={_set_value(value)}"]
    return shlex.join(parts)


def compare_command(targets: Iterable[str], *, n: int, seed: int) -> str:
    return shlex.join(["simsource", "compare", *targets, "-n", str(n), "--seed", str(seed)])


def set_command_possible(base_ref: str | None, built: Built) -> bool:
    """Whether ``simsource run <built-in> --set ...`` reproduces the setting exactly.

    Checked by loading it the way the CLI does: some overrides (e.g. one idea source's rate on
    a file that leaves the sources at their defaults) resolve differently from the page.
    """
    if base_ref is None or base_ref not in builtin_names() or built.sourcing_switched:
        return False
    if not all(_BARE.fullmatch(name) for name in built.scenario.suppliers):
        return False
    try:
        again = load_scenario(base_ref, parse_overrides(
            [f"{k}={_set_value(v)}" for k, v in built.overrides.items()]))
    except ScenarioError:
        return False
    return setting_key(again) == setting_key(built.scenario)


# ---- KPI cards ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Card:
    kpi: str
    label: str
    fmt: str            # "num1", "num0", "pct", "msek"
    better: int         # +1 higher is better, -1 lower is better, 0 neither
    help: str


CARDS: tuple[Card, ...] = (
    Card("innovations_per_year", "Innovations / year", "num1", +1,
         "Ideas implemented per year after the warm-up (the end of the funnel, Fig. 5)."),
    Card("innovations_business_per_year", "Business innovations / year", "num1", +1,
         "Implemented innovations in business development (VU, Fig. 4 column 2)."),
    Card("lead_time_days_median", "Lead time (days)", "num0", -1,
         "Median working days from idea to implemented innovation."),
    Card("coordinator_utilisation", "Coordinator utilisation", "pct", 0,
         "Share of the coordinators' time that is busy; near 100 % means ideas queue."),
    Card("operations_share_of_unit_effort", "Operations share of work", "pct", -1,
         "Share of coordinator work that goes to incidents and supplier governance (sourcing "
         "logic) rather than innovation."),
    Card("between_chairs_per_year", "Incidents between chairs", "num1", -1,
         "Cross-supplier incidents per year that waited too long for someone to coordinate them."),
    Card("cost_total_msek_per_year", "Total cost, MSEK / year", "msek", -1,
         "Operations fees + coordinators + consultants + innovation projects + partnership + "
         "transfer."),
    Card("benefit_msek_per_year", "Benefit, MSEK / year", "msek", +1,
         "Yearly value of the innovations implemented so far."),
)
TRANSFER_CARD = Card("transition_deadline_met", "Transfer deadline met", "pct", +1,
                     "Share of replications in which every system moved before the deadline.")


def fmt_value(value: float, fmt: str) -> str:
    if math.isnan(value):
        return "–"
    if fmt == "pct":
        return f"{value * 100:.0f} %"
    if fmt == "num0":
        return f"{value:.0f}"
    return f"{value:.1f}"


def fmt_delta(value: float, fmt: str) -> str:
    if math.isnan(value):
        return "–"
    if fmt == "pct":
        return f"{value * 100:+.1f} pp"
    if fmt == "num0":
        return f"{value:+.0f}"
    return f"{value:+.1f}"


@dataclass(frozen=True)
class CardValue:
    card: Card
    current: float
    baseline: float
    diff: float
    low: float
    high: float
    n: int

    @property
    def clear(self) -> bool:
        """The 95 % CI of the paired difference excludes zero."""
        return not math.isnan(self.low) and (self.low > 0 or self.high < 0)

    @property
    def verdict(self) -> str:
        if math.isnan(self.diff) or (self.diff == 0 and self.low == self.high):
            return "no change"
        if not self.clear:
            return "no clear change"
        if self.card.better == 0:
            return "higher" if self.diff > 0 else "lower"
        return "better" if self.diff * self.card.better > 0 else "worse"

    @property
    def value_text(self) -> str:
        return fmt_value(self.current, self.card.fmt)

    @property
    def delta_text(self) -> str | None:
        """The difference as shown on the card; None when there is no difference at all."""
        if math.isnan(self.diff) or self.verdict == "no change":
            return None
        return fmt_delta(self.diff, self.card.fmt)

    @property
    def ci_text(self) -> str:
        if math.isnan(self.low):
            return f"baseline {fmt_value(self.baseline, self.card.fmt)}"
        return (f"baseline {fmt_value(self.baseline, self.card.fmt)}; difference 95 % CI "
                f"[{fmt_delta(self.low, self.card.fmt)}, {fmt_delta(self.high, self.card.fmt)}]"
                f" — {self.verdict}")


def cards_for(transfer: bool) -> tuple[Card, ...]:
    return (*CARDS, TRANSFER_CARD) if transfer else CARDS


def kpi_cards(baseline: BatchResult, current: BatchResult,
              cards: Iterable[Card] = CARDS) -> list[CardValue]:
    """Each card: current mean, baseline mean and the paired difference (current − baseline)
    with its 95 % CI over the replications both batches share (same seed: CRN)."""
    if baseline.seed != current.seed:
        raise ValueError("baseline and current must use the same seed (common random numbers)")
    common = baseline.kpis.index.intersection(current.kpis.index)
    out = []
    for card in cards:
        if card.kpi not in baseline.kpis or card.kpi not in current.kpis:
            nan = math.nan
            out.append(CardValue(card, current.mean(card.kpi), baseline.mean(card.kpi),
                                 nan, nan, nan, 0))
            continue
        a = baseline.kpis.loc[common, card.kpi].to_numpy(dtype=np.float64)
        b = current.kpis.loc[common, card.kpi].to_numpy(dtype=np.float64)
        d = paired_difference(a, b)
        out.append(CardValue(card, mean_ci(b).mean, mean_ci(a).mean, d.mean, d.low, d.high,
                             d.n))
    return out
