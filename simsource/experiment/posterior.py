"""A calibration posterior: parameter sets with weights, and the set each replication uses.

``simsource calibrate`` writes ``DIR/posterior.parquet``: one row per accepted parameter set, one
column per dotted parameter key (``coordination.governance_fte_per_supplier``, …) plus
``weight`` (non-negative; normalised on reading). Commands given ``--posterior DIR`` (``run``,
``compare``, ``sweep``, ``staff``) and :func:`~simsource.experiment.runner.run_batch` use it so:

* replication ``i`` of root seed ``S`` draws row ``r = Posterior.draw(S, i)`` with probability
  ``weight[r]``, from its own stream ``SeedSequence(S, spawn_key=(i, 2**32))`` — a key outside
  the model's named streams (``crc32`` values are below ``2**32``), so the draw never shifts the
  model's random numbers, and it depends only on ``(S, i)``: any ``-j``, any backend, the same
  row. Scenarios compared with the same seed draw the same row in replication ``i`` (common
  random numbers now include the parameters);
* the row's values are applied as overrides to the replication's scenario, except keys the
  command fixes itself (a sweep's design keys, ``staff``'s staffing level) and keys the scenario
  does not have (a supplier it does not contract);
* the results folder records the posterior's checksum (a folder run with another posterior is
  refused like one run with another seed) and writes ``parameters.parquet`` (replication, seed,
  ``posterior_row`` and the values used), which ``load_results(DIR).parameters`` returns.

>>> post = Posterior.load("results/calibrate-nacka")             # doctest: +SKIP
>>> post.draw(2017, 0), post.row(post.draw(2017, 0))            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simsource.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from simsource.scenario import Scenario

POSTERIOR_FILE = "posterior.parquet"
#: the environment variable by which ``simsource app --posterior DIR`` hands the folder to the
#: teaching page (a separate Streamlit process)
POSTERIOR_ENV = "SIMSOURCE_POSTERIOR"
PARAMETERS_FILE = "parameters.parquet"
WEIGHT = "weight"
#: the spawn key of the posterior draw: above every crc32 stream name of the model
POSTERIOR_STREAM = 2**32
ParamValues = dict[str, int | float]


def has_key(data: Mapping[str, Any], key: str) -> bool:
    """Whether the dotted ``key`` names a value in a scenario's ``model_dump()``."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return not isinstance(node, Mapping)


def _applies(sc: Scenario, keys: Iterable[str], keep: Iterable[str] = ()
             ) -> Callable[[str], bool]:
    """Whether a key applies to ``sc``: it has the key (a mix coordinate ``KEY#i``: the mix), and
    the caller does not set it itself (``keep``; a mix kept whole or by any coordinate)."""
    from simsource.experiment.params import mix_key
    from simsource.scenario.mixes import mix_parameters

    data = sc.model_dump(mode="python")
    mixes = mix_parameters(sc) if any(mix_key(k) for k in keys) else {}
    fixed = set(keep) | {b for b in map(mix_key, keep) if b is not None}

    def applies(k: str) -> bool:
        base = mix_key(k)
        if base is None:
            return k not in fixed and has_key(data, k)
        return k not in fixed and base not in fixed and base in mixes

    return applies


def applicable(sc: Scenario, point: Mapping[str, Any], keep: Iterable[str] = ()
               ) -> dict[str, Any]:
    """The entries of ``point`` that apply to ``sc`` (see :func:`_applies`) as overrides: mix
    coordinates (``KEY#i``, :mod:`simsource.experiment.params`) become the mix's shares."""
    from simsource.experiment.params import to_overrides

    applies = _applies(sc, point, keep)
    return to_overrides(sc, {k: v for k, v in point.items() if applies(k)})


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise UserError(f"{path}: missing (not a calibration folder? `simsource calibrate` "
                        "writes it)") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UserError(f"{path}: unreadable Parquet ({exc})") from None


@dataclass(frozen=True)
class Posterior:
    """Parameter sets (``values``: rows × ``keys``) with normalised ``weights``."""

    folder: Path
    keys: tuple[str, ...]
    values: np.ndarray
    integer: tuple[bool, ...]
    weights: np.ndarray
    digest: str

    # ---- reading ------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: Path | str) -> Posterior:
        """Read and check ``folder/posterior.parquet``; every problem is a one-line
        :class:`UserError` naming the file and the column."""
        from simsource.experiment.params import mix_key
        from simsource.scenario.loader import check_override_key

        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f"--posterior {folder}: no such folder (a folder written by "
                            "`simsource calibrate`)")
        path = folder / POSTERIOR_FILE
        df = _read_table(path)
        if WEIGHT not in df.columns:
            raise UserError(f"{path}: no column '{WEIGHT}'")
        keys = [str(c) for c in df.columns if c != WEIGHT]
        if not keys:
            raise UserError(f"{path}: no parameter columns (one column per dotted key)")
        if df.empty:
            raise UserError(f"{path}: no parameter sets (0 rows)")
        problems = []
        for key in keys:
            why = check_override_key(mix_key(key) or key)  # a mix coordinate: its mix
            if why:
                problems.append(f"{path}: column '{key}': {why}")
        for col in [*keys, WEIGHT]:
            kind = df[col].dtype.kind
            if kind not in "iuf":
                problems.append(f"{path}: column '{col}' holds {df[col].dtype}, not numbers")
            elif not np.isfinite(df[col].to_numpy(dtype=float)).all():
                problems.append(f"{path}: column '{col}' holds a missing or infinite value")
        if problems:
            raise UserError(problems)
        w = df[WEIGHT].to_numpy(dtype=float)
        if (w < 0).any() or w.sum() <= 0:
            raise UserError(f"{path}: column '{WEIGHT}': weights must be non-negative with a "
                            "positive sum")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        return cls(folder, tuple(keys), df[keys].to_numpy(dtype=float),
                   tuple(df[k].dtype.kind in "iu" for k in keys), w / w.sum(), digest)

    # ---- drawing ------------------------------------------------------------------------
    @property
    def sets(self) -> int:
        return int(self.values.shape[0])

    @property
    def effective_sets(self) -> float:
        """Kish's effective sample size of the weights, ``1 / Σ w²``."""
        return float(1.0 / np.sum(self.weights ** 2))

    def row(self, r: int) -> ParamValues:
        """Parameter set ``r`` as overrides (integer columns as ``int``)."""
        return {k: (round(float(v)) if is_int else float(v))
                for k, v, is_int in zip(self.keys, self.values[r], self.integer, strict=True)}

    def draw(self, seed: int, replication: int) -> int:
        """The row replication ``replication`` of root seed ``seed`` uses (weighted)."""
        ss = np.random.SeedSequence(seed, spawn_key=(replication, POSTERIOR_STREAM))
        return int(np.random.default_rng(ss).choice(self.sets, p=self.weights))

    def params_for(self, sc: Scenario, seed: int, reps: Iterable[int],
                   keep: Iterable[str] = ()) -> dict[int, dict[str, Any]]:
        """Replication → the overrides it runs with on ``sc`` (see :func:`applicable`)."""
        keep = tuple(keep)
        return {rep: applicable(sc, self.row(self.draw(seed, rep)), keep) for rep in reps}

    def missing_keys(self, sc: Scenario) -> list[str]:
        """Keys of the posterior that ``sc`` does not have (they are not applied to it)."""
        applies = _applies(sc, self.keys)
        return [k for k in self.keys if not applies(k)]

    def check(self, sc: Scenario, seed: int, reps: Iterable[int], keep: Iterable[str] = ()
              ) -> None:
        """The parameter sets replications ``reps`` draw, applied to ``sc``, give valid
        scenarios (checked before a run: one line per bad row, at most five)."""
        from simsource.scenario import with_overrides

        problems: list[str] = []
        for r in sorted({self.draw(seed, i) for i in reps}):
            try:
                with_overrides(sc, applicable(sc, self.row(r), keep))
            except UserError as exc:
                problems += [f"{self.folder / POSTERIOR_FILE}: row {r}: {p}"
                             for p in exc.problems]
            if len(problems) >= 5:
                break
        if problems:
            raise UserError(problems[:5])

    def assignments(self, seed: int, reps: Sequence[int], sc: Scenario | None = None,
                    keep: Iterable[str] = ()) -> pd.DataFrame:
        """``replication, seed, posterior_row`` and the value of each key applied (NaN where
        the key is not applied to ``sc``)."""
        import pandas as pd

        fixed = set(keep)
        applies = (_applies(sc, self.keys, fixed) if sc is not None
                   else lambda k: k not in fixed)
        rows = []
        for rep in reps:
            r = self.draw(seed, rep)
            values = self.row(r)
            rows.append({"replication": int(rep), "seed": int(seed), "posterior_row": r,
                         **{k: (float(v) if applies(k) else math.nan)
                            for k, v in values.items()}})
        return pd.DataFrame(rows, columns=["replication", "seed", "posterior_row",
                                           *self.keys])

    # ---- describing ---------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """What a results folder's manifest keeps about the posterior."""
        return {"folder": str(self.folder), "sha256": self.digest, "sets": self.sets,
                "effective_sets": round(self.effective_sets, 1), "keys": list(self.keys)}

    def note(self) -> str:
        """The sentence summaries print: the intervals include parameter uncertainty."""
        return posterior_note(self.record()) or ""


def posterior_note(record: Mapping[str, Any] | None) -> str | None:
    """:meth:`Posterior.note` from a manifest's ``posterior_source`` entry (None without)."""
    if not record:
        return None
    keys = record.get("keys") or []
    return (f"intervals include parameter uncertainty: each replication drew its {len(keys)} "
            f"calibrated parameters from the posterior in {record.get('folder')} "
            f"({record.get('sets')} sets, {float(record.get('effective_sets') or 0):.0f} "
            "effective)")


def write_posterior(folder: Path, keys: Sequence[str], values: np.ndarray,
                    weights: np.ndarray, integer: Sequence[bool] = ()) -> Path:
    """Write ``folder/posterior.parquet`` atomically (the caller has claimed the file)."""
    import pyarrow as pa

    from simsource.experiment.parquetio import atomic_write_bytes, table_bytes

    ints = list(integer) or [False] * len(keys)
    cols: dict[str, pa.Array] = {}
    for j, key in enumerate(keys):
        col = values[:, j] if values.size else np.zeros(0)
        cols[key] = pa.array(np.round(col).astype(np.int64) if ints[j] else col.astype(float))
    cols[WEIGHT] = pa.array(np.asarray(weights, dtype=float))
    path = folder / POSTERIOR_FILE
    atomic_write_bytes(path, table_bytes(pa.table(cols)))
    return path
