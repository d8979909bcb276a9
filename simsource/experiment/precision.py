"""``run --precision``: add replications until the confidence intervals are tight enough.

The sequential procedure of Hoad, Robinson & Davies (2010): after ``n`` replications, stop if
every chosen KPI's 95 % half-width is within ``P`` × |mean| *and* stays so for the next
``f(n)`` replications (their look-ahead, ``kLimit`` = 5, scaled for n > 100); otherwise run more.
Instead of one replication at a time it jumps to the estimated need (at most doubling, at least
+10 %), which suits parallel workers. The steps depend only on the data, never on ``-j``, so the
final ``n`` is reproducible; an interrupted run resumes from its chunks like any other.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from simsource.errors import UserError
from simsource.experiment.runner import Job, execute, progress_bar
from simsource.model import catalogue

if TYPE_CHECKING:
    import pandas as pd

    from simsource.experiment.backend import Backend
    from simsource.experiment.posterior import Posterior
    from simsource.scenario import Scenario

DEFAULT_KPIS: tuple[str, ...] = catalogue.names("precision")
K_LIMIT = 5


@dataclass
class PrecisionOutcome:
    n: int
    reached: bool
    target: float
    rel_half_width: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        worst = ", ".join(f"{k} ±{v:.1%}" for k, v in self.rel_half_width.items())
        if self.reached:
            return f"precision ±{self.target:.1%} reached after {self.n} replications ({worst})"
        return (f"precision ±{self.target:.1%} NOT reached after the maximum of {self.n} "
                f"replications ({worst}); raise --max-n")


def lookahead(n: int) -> int:
    """Hoad et al.'s look-ahead: kLimit replications, or n × kLimit / 100 beyond n = 100."""
    return K_LIMIT if n <= 100 else math.floor(n * K_LIMIT / 100)


def check_kpis(kpis: Sequence[str], columns: Sequence[str]) -> None:
    problems = []
    for k in kpis:
        if k not in columns:
            near = difflib.get_close_matches(k, list(columns), n=1)
            problems.append(f"--kpis: unknown KPI '{k}'"
                            + (f" (did you mean '{near[0]}'?)" if near else ""))
    if problems:
        raise UserError(problems)


def _rel(df: pd.DataFrame, kpis: Sequence[str]) -> dict[str, float]:
    from simsource.stats import relative_half_width

    return {k: relative_half_width(df[k].to_numpy(dtype=float)) for k in kpis
            if df[k].notna().any()}


def next_n(df: pd.DataFrame, kpis: Sequence[str], target: float, n: int, max_n: int) -> int:
    """Jump to the estimated need: at least +10 % (≥ 1), at most double, capped at ``max_n``."""
    from simsource.stats import replications_needed

    need = max((replications_needed(df[k].to_numpy(dtype=float), target) for k in kpis
                if df[k].notna().any()), default=n + 1)
    return min(max_n, max(n + max(1, n // 10), min(2 * n, need)))


def run_precise(sc: Scenario, out: Path, *, target: float, max_n: int, seed: int = 0,
                kpis: Sequence[str] | None = None, min_n: int = 10, jobs: int | None = None,
                progress: bool = False, overwrite: bool = False, backend: str | Backend = "local",
                command: str | None = None, model: str | None = None,
                warn: Callable[[str], None] | None = None, posterior: Posterior | None = None
                ) -> tuple[pd.DataFrame, PrecisionOutcome]:
    """Run ``sc`` into ``out`` until every KPI in ``kpis`` reaches ``target`` relative precision
    (or ``max_n`` replications); returns the KPI frame and what was reached. With
    ``posterior``, replication ``i`` uses the parameter set drawn for ``(seed, i)``."""
    from simsource.experiment.backend import using_backend
    from simsource.experiment.store import ResultStore
    from simsource.stats import precision_reached

    if not 0 < target < 1:
        raise UserError(f"--precision: must be between 0 and 1 (e.g. 0.05), got {target}")
    if max_n < 2:
        raise UserError(f"--max-n: must be at least 2, got {max_n}")
    names = list(kpis or DEFAULT_KPIS)
    n = min(max_n, max(2, min_n))
    if posterior is not None:
        posterior.check(sc, seed, range(max_n))
    with using_backend(backend, jobs) as be, \
            ResultStore.open(out, sc, seed, requested=max_n, overwrite=overwrite,
                             backend=be.name, jobs=be.jobs, command=command, warn=warn,
                             posterior=posterior) as store, \
            progress_bar(n, 0, f"{sc.name} (to ±{target:.0%})", progress) as bar:

        def ensure(m: int) -> pd.DataFrame:
            todo = store.missing(m)
            bar.total = m
            if m - len(todo) > bar.n:
                bar.update(m - len(todo) - bar.n)
            params = posterior.params_for(sc, seed, todo) if posterior is not None else {}
            execute([Job(store, sc, seed, todo, params)], be, bar, model=model)
            return store.kpis(m)

        reached = False
        while True:
            df = ensure(n)
            check_kpis(names, list(df.columns))
            if precision_reached(df, names, target, min_n=min_n):
                m = min(max_n, n + lookahead(n))
                ahead = ensure(m)
                steady = all(precision_reached(ahead[ahead["replication"] < j], names,
                                               target, min_n=min_n)
                             for j in range(n + 1, m + 1))
                n = m
                if steady:
                    reached = True
                    break
                continue
            if n >= max_n:
                break
            n = next_n(df, names, target, n, max_n)
        frame = store.finalize(n)
    return frame, PrecisionOutcome(n, reached, target, _rel(frame, names))
