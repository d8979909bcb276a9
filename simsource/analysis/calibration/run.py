"""``simsource calibrate``: history matching of a scenario's parameters against a facts file,
into a results folder that resumes like ``run``.

The folder (locked while written, with a record of what simsource wrote, refused when it holds
another calibration unless ``overwrite``) gets ``manifest.json`` (``kind = "calibrate"``),
``facts.toml`` (the facts as used), ``scenario.toml``, ``evaluations/`` (each batch of candidates
evaluated on one scenario, written as it completes: a rerun of the same command reuses them),
and at the end ``evaluations.parquet``, ``posterior.parquet``, ``calibration.json`` and
``plots/``. Every replication runs on the experiment engine
(:class:`~simsource.experiment.engine.Evaluator`), with common random numbers: every candidate
uses replications ``0..R-1`` of the root seed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simsource.analysis.calibration.batches import BatchStore
from simsource.analysis.calibration.facts import Facts
from simsource.analysis.calibration.matching import Group, Matching, Target, match
from simsource.analysis.calibration.summary import (
    evaluations_frame,
    fact_summary,
    parameter_summary,
)
from simsource.errors import UserError
from simsource.experiment.engine import Evaluator
from simsource.experiment.folders import holding
from simsource.experiment.limits import check_replications, check_seed
from simsource.experiment.manifest import (
    claim_folder,
    command_line,
    environment,
    now_iso,
    write_manifest,
)
from simsource.experiment.params import Param, select_params
from simsource.experiment.parquetio import atomic_write_bytes, atomic_write_text, table_bytes
from simsource.experiment.posterior import POSTERIOR_FILE, applicable, write_posterior
from simsource.scenario import Scenario, load_scenario, scenario_hash, scenario_toml, with_overrides

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend

CALIBRATION_JSON = "calibration.json"
EVALUATIONS = "evaluations.parquet"
METHOD = ("history matching (Vernon, Goldstein & Bower 2010) of a stochastic simulator: "
          "implausibility |z - E[f(x)]| / sqrt(V_obs + V_s + V_s/R) with V_obs = (tolerance/3)^2, "
          "a candidate non-implausible when max over the facts < cutoff; waves of scrambled "
          "Latin hypercubes (scipy.stats.qmc) refocused on the bounding box of the "
          "non-implausible candidates; deterministic-mixture importance weights")


@dataclass(frozen=True)
class Setup:
    """Everything a calibration needs, checked before anything runs."""

    scenario: Scenario
    facts: Facts
    params: tuple[Param, ...]
    groups: tuple[Group, ...]
    targets: tuple[Target, ...]
    replications: int
    budget: int
    waves: int
    cutoff: float
    seed: int

    def design_hash(self, model: str | None) -> str:
        blob = json.dumps({
            "facts": self.facts.digest, "params": [[p.key, p.low, p.high, p.integer]
                                                   for p in self.params],
            "groups": [[g.label, scenario_hash(g.scenario), g.reps] for g in self.groups],
            "held": [t.fact.name for t in self.targets if not t.used],
            "replications": self.replications, "budget": self.budget, "waves": self.waves,
            "cutoff": self.cutoff, "model": model}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---- setting up --------------------------------------------------------------------------
def _groups(sc: Scenario, facts: Facts, hold_out: Sequence[str], replications: int
            ) -> tuple[tuple[Group, ...], tuple[Target, ...]]:
    from simsource.scenario.loader import display

    where = display(facts.path)
    for name in hold_out:
        facts.fact(name)
    keys: dict[tuple[str | None, str], int] = {}
    scenarios: list[tuple[str, Scenario]] = []
    reps: list[int] = []
    problems: list[str] = []

    def group(ref: str | None, fact_name: str, field: str, overrides: Mapping[str, Any],
              need: int) -> int:
        key = (ref, json.dumps(dict(overrides), sort_keys=True, default=str))
        if key not in keys:
            try:
                base = sc if ref is None else load_scenario(ref)
                s = with_overrides(base, overrides)
            except UserError as exc:
                problems.extend(f"{where}: facts.{fact_name}.{field}: {p}" for p in exc.problems)
                return -1
            label = s.name + "".join(f" {k}={v}" for k, v in overrides.items())
            keys[key] = len(scenarios)
            scenarios.append((label, s))
            reps.append(need)
        i = keys[key]
        reps[i] = max(reps[i], need)
        return i

    targets = []
    ordered = [f for f in facts.facts if f.name not in hold_out] + \
        [facts.fact(n) for n in hold_out]
    for f in ordered:
        need = max(replications, f.replications or 0)
        g = group(f.scenario, f.name, "scenario", f.overrides, need)
        b = None if f.baseline is None else group(f.baseline, f.name, "baseline", f.overrides,
                                                  need)
        targets.append(Target(f, g, b, used=f.name not in hold_out))
    if problems:
        raise UserError(problems)
    if not any(t.used for t in targets):
        raise UserError("--hold-out: every fact is held back; keep at least one to calibrate on")
    groups = tuple(Group(i, label, s, reps[i]) for i, (label, s) in enumerate(scenarios))
    return groups, tuple(targets)


def _params(sc: Scenario, groups: Sequence[Group], facts: Facts, spec: str | None
            ) -> tuple[Param, ...]:
    """The calibrated parameters: ``--params`` (or the keys of ``[priors]``) over the
    parameter space of every scenario the facts name; prior = ``KEY=LOW:HIGH`` given on the
    command line, else ``[priors]``, else the schema's plausible range."""
    items = [s.strip() for s in (spec or "").split(",") if s.strip()]
    if not items:
        items = list(facts.priors)
    if not items:
        raise UserError(f"--params: name the parameters to calibrate (dotted keys or globs), "
                        f"or give a [priors] table in {facts.path}")
    chosen: dict[str, Param] = {}
    for item in items:
        found: list[Param] | None = None
        first: UserError | None = None
        for s in [sc, *(g.scenario for g in groups)]:
            try:
                found = select_params(s, [item])
                break
            except UserError as exc:
                first = first or exc
        if found is None:
            assert first is not None
            raise first
        for p in found:
            chosen.setdefault(p.key, p)
    ranged = {i.partition("=")[0].strip() for i in items if "=" in i}
    out = []
    for p in chosen.values():
        prior = facts.priors.get(p.key)
        if prior is not None and p.key not in ranged:
            p = Param(p.key, prior.lower, prior.upper, p.integer, p.value, p.unit)
        for bound in (p.low, p.high):
            try:
                with_overrides(sc, applicable(sc, {p.key: p.cast(bound)}))
            except UserError as exc:
                raise UserError([f"prior of {p.key}: {p.low:g}..{p.high:g}: {line}"
                                 for line in exc.problems]) from None
        out.append(p)
    return tuple(out)


def setup(sc: Scenario, facts: Facts, params: str | None, *, budget: int, replications: int,
          waves: int = 3, cutoff: float = 3.0, seed: int = 0,
          hold_out: Sequence[str] = ()) -> Setup:
    """Check the options and wire facts, scenarios and parameters (nothing runs)."""
    check_replications(replications)
    check_seed(seed)
    if waves < 1:
        raise UserError(f"--waves: must be at least 1, got {waves}")
    if not cutoff > 0:
        raise UserError(f"--cutoff: must be positive, got {cutoff}")
    groups, targets = _groups(sc, facts, hold_out, replications)
    chosen = _params(sc, groups, facts, params)
    cost = sum(g.reps for g in groups)
    if budget < cost * waves * 2:
        raise UserError(f"--budget: {budget} simulations do not pay two candidates a wave: "
                        f"each candidate costs {cost} ({' + '.join(str(g.reps) for g in groups)}"
                        f" replications of {len(groups)} scenarios); give at least "
                        f"{cost * waves * 10} for a useful calibration")
    return Setup(sc, facts, chosen, groups, targets, replications, budget, waves, cutoff, seed)


# ---- the command -------------------------------------------------------------------------
@dataclass
class Calibration:
    """What :func:`calibrate` wrote and found."""

    folder: Path
    matching: Matching
    summary: dict[str, Any]
    posterior: pd.DataFrame
    evaluations: pd.DataFrame


def calibrate(s: Setup, out: Path, *, jobs: int | None = None, backend: str | Backend = "local",
              progress: bool = False, overwrite: bool = False, command: str | None = None,
              model: str | None = None, warn: Callable[[str], None] | None = None
              ) -> Calibration:
    """Run the history matching of ``s`` into ``out`` (resuming what is there)."""
    warn = warn or (lambda msg: None)
    out = Path(out)
    identity = {"kind": "calibrate", "scenario": s.scenario.name,
                "scenario_hash": scenario_hash(s.scenario), "seed": s.seed,
                "design_hash": s.design_hash(model)}
    t0 = time.perf_counter()
    with holding(out, "simsource calibrate") as own:
        old = claim_folder(out, identity, overwrite, own)
        own.adopt()
        own.clean_tmp()
        manifest: dict[str, Any] = {
            **environment(), **identity, "facts": str(s.facts.path),
            "budget": s.budget, "replications": s.replications, "waves": s.waves,
            "cutoff": s.cutoff, "params": [p.key for p in s.params],
            "hold_out": [t.fact.name for t in s.targets if not t.used],
            "started": (old or {}).get("started") or now_iso(), "finished": None,
            "command": command or command_line()}
        own.claim("facts.toml", "scenario.toml")
        write_manifest(out, manifest, own)
        atomic_write_text(out / "facts.toml", s.facts.text)
        atomic_write_text(out / "scenario.toml", scenario_toml(s.scenario))
        with Evaluator(jobs, progress=progress, desc="calibrate", backend=backend, model=model,
                       total=s.budget) as ev:
            store = BatchStore(out, own, ev, s.seed, warn)
            m = match(s.params, s.groups, s.targets, budget=s.budget, waves=s.waves,
                      cutoff=s.cutoff, seed=s.seed, evaluate=store)
        if store.invalid:
            warn(f"calibrate: {store.invalid} candidate evaluations had parameter values the "
                 "scenario refuses together; counted as implausible")
        return _finish(s, out, own, m, manifest, time.perf_counter() - t0, warn)


def _finish(s: Setup, out: Path, own: Any, m: Matching, manifest: dict[str, Any],
            seconds: float, warn: Callable[[str], None]) -> Calibration:
    import pyarrow as pa

    from simsource.analysis.plots.calibration import plot_facts, plot_marginals

    weights = m.weights()
    ok = weights > 0
    values = np.array([[m.values(c)[p.key] for p in s.params] for c in range(m.size)],
                      dtype=float).reshape(m.size, len(s.params))
    own.claim(POSTERIOR_FILE, EVALUATIONS, CALIBRATION_JSON, "plots/", "plots/marginals.png",
              "plots/facts.png")
    write_posterior(out, [p.key for p in s.params], values[ok], weights[ok],
                    [p.integer for p in s.params])
    evals = evaluations_frame(m, weights)
    atomic_write_bytes(out / EVALUATIONS, table_bytes(pa.Table.from_pandas(
        evals, preserve_index=False)))
    used = sum(w.simulations for w in m.waves)
    summary: dict[str, Any] = {
        "scenario": s.scenario.name, "facts_file": str(s.facts.path),
        "facts_title": s.facts.title, "method": METHOD, "cutoff": s.cutoff,
        "seed": s.seed, "replications": s.replications, "command": manifest["command"],
        "budget": {"requested": s.budget, "used": used},
        "candidates": m.size, "accepted": int(ok.sum()),
        "effective_sets": float(1.0 / np.sum(weights[ok] ** 2)) if ok.any() else 0.0,
        "scenarios": [{"label": g.label, "replications": g.reps} for g in s.groups],
        "waves": [w.record(s.params) for w in m.waves],
        "params": parameter_summary(m, weights),
        "facts": fact_summary(m, weights),
        "seconds": round(seconds, 1),
    }
    summary = _plain(summary)
    atomic_write_text(out / CALIBRATION_JSON, json.dumps(summary, indent=2) + "\n")
    (out / "plots").mkdir(exist_ok=True)
    for name, fig in (("marginals", plot_marginals(summary, evals)),
                      ("facts", plot_facts(summary))):
        fig.savefig(out / "plots" / f"{name}.png", dpi=fig.dpi)
    if not ok.any():
        warn("calibrate: no candidate reproduces the facts together (every one is implausible "
             f"at I < {s.cutoff:g}); see calibration.json for which facts rule them out. "
             "posterior.parquet is empty")
    manifest.update(finished=now_iso(), simulations=used, accepted=int(ok.sum()))
    write_manifest(out, manifest, own)
    post = evals.loc[ok, [p.key for p in s.params] + ["weight"]].reset_index(drop=True)
    return Calibration(out, m, summary, post, evals)


def _plain(x: Any) -> Any:
    """``x`` as strict JSON data: numpy scalars and arrays as Python ones, NaN and ±inf as
    null."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple | np.ndarray):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def load_calibration(folder: Path | str) -> dict[str, Any]:
    """``calibration.json`` of a calibration folder (a :class:`UserError` if missing)."""
    path = Path(folder) / CALIBRATION_JSON
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: missing; run the calibration (again) to finish it") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable ({exc})") from None
    return data
