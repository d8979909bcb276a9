"""Facts files: what an organisation observed, as targets a calibration must reproduce together.

A facts file is TOML with one table per fact (docs/calibration.md)::

    title = "What Nacka observed"

    [facts.ops_share]
    scenario = "nacka-multi"        # evaluated on this scenario + the candidate values
    kpi = "operations_share_of_unit_effort"
    value = 0.33
    tolerance = 0.05                # or lower = …, upper = … (one of them: a one-sided fact)
    source = "digitalisation chief, public interview"

    [facts.innovation_rose]         # a fact about two scenarios
    scenario = "nacka-multi"
    baseline = "nacka-single"
    statistic = "difference"        # kpi(scenario) − kpi(baseline); or "ratio"
    kpi = "innovations_per_year"
    lower = 0.0
    source = "whitepaper: innovation rose after the change"

    [priors]                        # optional: uniform priors other than the schema's ranges
    "coordination.governance_fte_per_supplier" = { lower = 0.3, upper = 1.2 }

Optional per fact: ``replications`` (at least this many per candidate, for facts about rare
events), ``histories`` (how many independent periods or cases the observation averages, 1 by
default: a mean over five years of logs, or over 30 model runs in a self-test, varies less than
one history), ``set`` (overrides of the fact's scenarios, e.g. ``{ "scenario.years" = 1.0 }``) and
``note``. ``scenario`` defaults to the scenario given to ``simsource calibrate``; a name is a
built-in scenario or a file relative to the facts file.

:func:`load_facts` checks everything it can without running anything; every problem is one line
``FILE: facts.NAME.key: what is wrong`` in a :class:`UserError` (exit 2).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsource.errors import UserError
from simsource.experiment.limits import MAX_REPLICATIONS
from simsource.model import catalogue
from simsource.scenario.loader import check_override_key, display, parse_toml

STATISTICS = ("mean", "difference", "ratio")
FACT_KEYS = frozenset({"scenario", "baseline", "statistic", "kpi", "value", "tolerance", "lower",
                       "upper", "source", "replications", "histories", "set", "note"})
TOP_KEYS = frozenset({"title", "description", "facts", "priors"})
MAX_FACTS_BYTES = 1_000_000


@dataclass(frozen=True)
class Fact:
    """One observed pattern: ``kpi`` (or its difference / ratio to ``baseline``) on
    ``scenario`` lies in ``[lower, upper]`` — from ``value ± tolerance``, or one-sided when one
    bound is infinite."""

    name: str
    kpi: str
    lower: float
    upper: float
    source: str
    scenario: str | None = None
    baseline: str | None = None
    statistic: str = "mean"
    value: float | None = None
    tolerance: float | None = None
    replications: int | None = None
    histories: int = 1
    overrides: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def one_sided(self) -> bool:
        return math.isinf(self.lower) or math.isinf(self.upper)

    @property
    def centre(self) -> float:
        """The observed value (the middle of a two-sided interval)."""
        if self.value is not None:
            return self.value
        return (self.lower + self.upper) / 2

    @property
    def observed(self) -> str:
        """The observation as text: ``0.33 ± 0.05``, ``[135, 150]``, ``≥ 0``."""
        if self.value is not None:
            return f"{self.value:g} ± {self.tolerance or 0:g}"
        if math.isinf(self.upper):
            return f"≥ {self.lower:g}"
        if math.isinf(self.lower):
            return f"≤ {self.upper:g}"
        return f"[{self.lower:g}, {self.upper:g}]"

    @property
    def binary(self) -> bool:
        """A 0/1 KPI (its variance follows from its mean)."""
        return self.statistic == "mean" and catalogue.get(self.kpi).unit == "0/1"

    def describe(self) -> str:
        what = self.kpi if self.baseline is None else \
            f"{self.kpi} ({self.statistic} vs {self.baseline})"
        return f"{self.name}: {what} on {self.scenario} {self.observed}"


@dataclass(frozen=True)
class Prior:
    """A uniform prior over ``[lower, upper]`` for one dotted key."""

    key: str
    lower: float
    upper: float


@dataclass(frozen=True)
class Facts:
    """A facts file: its facts (in file order), priors and a digest of its content."""

    path: Path
    title: str
    facts: tuple[Fact, ...]
    priors: Mapping[str, Prior]
    digest: str
    text: str

    def fact(self, name: str) -> Fact:
        for f in self.facts:
            if f.name == name:
                return f
        raise UserError(f"{display(self.path)}: no fact '{name}' (have: "
                        f"{', '.join(f.name for f in self.facts)})")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value)


def _scenario_ref(name: str, base: Path) -> str:
    """A scenario name as given, or the path of a file relative to the facts file."""
    candidate = base / name
    if candidate.is_file():
        return str(candidate)
    if candidate.with_name(candidate.name + ".toml").is_file():
        return str(candidate.with_name(candidate.name + ".toml"))
    return name


def _fact(name: str, raw: Any, where: str, base: Path, problems: list[str]) -> Fact | None:
    at = f"{where}: facts.{name}"
    if not isinstance(raw, Mapping):
        problems.append(f"{at}: must be a table (kpi, value and tolerance or lower/upper, "
                        "source)")
        return None
    start = len(problems)
    for key in sorted(set(raw) - FACT_KEYS):
        problems.append(f"{at}.{key}: unknown key (known: {', '.join(sorted(FACT_KEYS))})")
    kpi = raw.get("kpi")
    if not isinstance(kpi, str) or not kpi:
        problems.append(f"{at}.kpi: missing (the KPI the fact is about; see `simsource kpis`)")
    elif kpi not in catalogue.CATALOGUE:
        import difflib

        near = difflib.get_close_matches(kpi, list(catalogue.CATALOGUE), n=1)
        problems.append(f"{at}.kpi: unknown KPI '{kpi}'"
                        + (f" (did you mean '{near[0]}'?)" if near else ""))
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(f"{at}.source: missing (say where the observation comes from)")
    for key in ("scenario", "baseline", "note"):
        if key in raw and not isinstance(raw[key], str):
            problems.append(f"{at}.{key}: must be text")
    for key in ("value", "tolerance", "lower", "upper"):
        if key in raw and not _number(raw[key]):
            problems.append(f"{at}.{key}: must be a finite number, got {raw[key]!r}")
    statistic = raw.get("statistic", "difference" if "baseline" in raw else "mean")
    if statistic not in STATISTICS:
        problems.append(f"{at}.statistic: must be one of {', '.join(STATISTICS)}, got "
                        f"{statistic!r}")
    elif (statistic == "mean") != ("baseline" not in raw):
        problems.append(f"{at}.statistic: '{statistic}' "
                        + ("needs a baseline scenario" if statistic != "mean" else
                           "compares nothing: with a baseline use difference or ratio"))
    if "baseline" in raw and raw.get("baseline") == raw.get("scenario"):
        problems.append(f"{at}.baseline: the same scenario as the fact's own")
    reps = raw.get("replications")
    if reps is not None and (not isinstance(reps, int) or isinstance(reps, bool)
                             or not 1 <= reps <= MAX_REPLICATIONS):
        problems.append(f"{at}.replications: must be a whole number from 1 to "
                        f"{MAX_REPLICATIONS:,}, got {reps!r}")
    histories = raw.get("histories", 1)
    if not isinstance(histories, int) or isinstance(histories, bool) or histories < 1:
        problems.append(f"{at}.histories: must be a whole number of at least 1, got "
                        f"{histories!r}")
    sets = raw.get("set", {})
    if not isinstance(sets, Mapping):
        problems.append(f"{at}.set: must be a table of dotted keys, e.g. "
                        "{ \"scenario.years\" = 1.0 }")
        sets = {}
    for key in sets:
        why = check_override_key(str(key))
        if why:
            problems.append(f"{at}.set.{key}: {why}")
    has_value, has_bound = "value" in raw, "lower" in raw or "upper" in raw
    if has_value and has_bound:
        problems.append(f"{at}: give value and tolerance, or lower and/or upper, not both")
    elif not has_value and not has_bound:
        problems.append(f"{at}: no observation: give value and tolerance, or lower and/or upper")
    elif has_value and "tolerance" not in raw:
        problems.append(f"{at}.tolerance: missing (how far from the value a prediction may be)")
    elif "tolerance" in raw and not has_value:
        problems.append(f"{at}.tolerance: only with value")
    if len(problems) > start or not isinstance(kpi, str) or not isinstance(source, str):
        return None
    tol = raw.get("tolerance")
    if tol is not None and tol < 0:
        problems.append(f"{at}.tolerance: must not be negative, got {tol}")
        return None
    lower = float(raw["value"] - tol) if has_value else float(raw.get("lower", -math.inf))
    upper = float(raw["value"] + tol) if has_value else float(raw.get("upper", math.inf))
    if not has_value and "lower" in raw and "upper" in raw and not lower < upper:
        problems.append(f"{at}: lower ({lower:g}) must be below upper ({upper:g})")
        return None
    return Fact(name=name, kpi=kpi, lower=lower, upper=upper, source=source.strip(),
                scenario=_scenario_ref(raw["scenario"], base) if "scenario" in raw else None,
                baseline=_scenario_ref(raw["baseline"], base) if "baseline" in raw else None,
                statistic=statistic, value=float(raw["value"]) if has_value else None,
                tolerance=float(tol) if tol is not None else None, replications=reps,
                histories=histories, overrides=dict(sets), note=str(raw.get("note", "")))


def _priors(raw: Any, where: str, problems: list[str]) -> dict[str, Prior]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: priors: must be a table of \"key\" = {{ lower = …, upper = … }}")
        return {}
    out: dict[str, Prior] = {}
    for key, spec in raw.items():
        at = f"{where}: priors.{key}"
        why = check_override_key(key)
        if why:
            problems.append(f"{at}: {why}")
            continue
        if not isinstance(spec, Mapping) or set(spec) != {"lower", "upper"} \
                or not all(_number(spec[k]) for k in ("lower", "upper")):
            problems.append(f"{at}: must be {{ lower = NUMBER, upper = NUMBER }} (a uniform "
                            "prior)")
            continue
        if not spec["lower"] < spec["upper"]:
            problems.append(f"{at}: lower ({spec['lower']}) must be below upper "
                            f"({spec['upper']})")
            continue
        out[key] = Prior(key, float(spec["lower"]), float(spec["upper"]))
    return out


def load_facts(path: Path | str) -> Facts:
    """Read and check a facts file (see the module text); a :class:`UserError` lists every
    problem, one line each."""
    path = Path(path)
    where = display(path)
    try:
        if path.stat().st_size > MAX_FACTS_BYTES:
            raise UserError(f"{where}: larger than {MAX_FACTS_BYTES // 1000} kB; a facts file "
                            "is a few kB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{where}: no such facts file") from None
    except IsADirectoryError:
        raise UserError(f"{where}: a folder, not a facts file") from None
    except OSError as exc:
        raise UserError(f"{where}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    data = parse_toml(text, where)
    problems: list[str] = []
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(f"{where}: {key}: unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    title = data.get("title", "")
    if not isinstance(title, str):
        problems.append(f"{where}: title: must be text")
        title = ""
    raw_facts = data.get("facts")
    if not isinstance(raw_facts, Mapping) or not raw_facts:
        problems.append(f"{where}: facts: no facts (add tables [facts.NAME] with kpi, value "
                        "and tolerance or lower/upper, and source)")
        raw_facts = {}
    facts = [f for name, raw in raw_facts.items()
             if (f := _fact(name, raw, where, path.parent, problems)) is not None]
    priors = _priors(data.get("priors"), where, problems)
    if problems:
        raise UserError(problems)
    canon = json.dumps(data, sort_keys=True, default=str)
    return Facts(path, title, tuple(facts), priors,
                 hashlib.sha256(canon.encode()).hexdigest()[:16], text)
