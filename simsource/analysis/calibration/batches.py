"""The candidates of a calibration, run on the experiment engine in batches that a rerun reuses.

Each batch of up to :data:`BATCH` candidates evaluated on one scenario is written, as soon as it
completes, to ``evaluations/cFIRST-LAST-gG.parquet`` (the candidates, their values, and every
KPI of every replication). Asked for the same batch again — the same candidates with the same
values, which a rerun of the same command produces — the store reads it instead of running it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simsource.analysis.calibration.matching import Group
from simsource.errors import UserError
from simsource.experiment.engine import Evaluator
from simsource.experiment.parquetio import atomic_write_bytes, table_bytes
from simsource.experiment.posterior import applicable
from simsource.scenario import with_overrides

if TYPE_CHECKING:
    import pandas as pd

BATCH = 32


class BatchStore:
    """Each batch of candidates evaluated on one scenario, as ``evaluations/cFIRST-LAST-gG``
    (candidates, their values, replication and every KPI); reused when the same batch is asked
    for again."""

    def __init__(self, root: Path, own: Any, ev: Evaluator, seed: int,
                 warn: Callable[[str], None]) -> None:
        self.root, self.own, self.ev, self.seed, self.warn = root, own, ev, seed, warn
        self.invalid = 0

    def _path(self, ids: Sequence[int], g: Group) -> str:
        return f"evaluations/c{ids[0]:05d}-{ids[-1]:05d}-g{g.index}.parquet"

    def _reuse(self, rel: str, ids: Sequence[int], values: Sequence[Mapping[str, Any]]
               ) -> pd.DataFrame | None:
        import pandas as pd

        path = self.root / rel
        if not (self.own.owns(rel) and path.is_file()):
            return None
        try:
            df = pd.read_parquet(path)
        except Exception:  # a damaged batch is computed again
            return None
        keys = list(values[0]) if values else []
        stored = df.drop_duplicates("candidate").set_index("candidate")
        if sorted(stored.index) != sorted(ids) or any(k not in stored for k in keys):
            return None
        got = stored.loc[list(ids), keys].to_numpy(dtype=float)
        want = np.array([[float(v[k]) for k in keys] for v in values])
        if not np.allclose(got, want):
            return None
        return df

    def __call__(self, g: Group, ids: Sequence[int], values: Sequence[Mapping[str, Any]]
                 ) -> dict[int, pd.DataFrame]:
        import pandas as pd
        import pyarrow as pa

        out: dict[int, pd.DataFrame] = {}
        for start in range(0, len(ids), BATCH):
            bids, bvals = ids[start:start + BATCH], values[start:start + BATCH]
            rel = self._path(bids, g)
            df = self._reuse(rel, bids, bvals)
            if df is None:
                scs, ok = [], []
                for cid, vals in zip(bids, bvals, strict=True):
                    try:
                        scs.append(with_overrides(g.scenario, applicable(g.scenario, vals)))
                        ok.append((cid, vals))
                    except UserError:
                        self.invalid += 1  # an invalid combination: never plausible
                frames = self.ev(scs, g.reps, self.seed) if scs else []
                parts = []
                for (cid, vals), frame in zip(ok, frames, strict=True):
                    frame = frame.drop(columns=["scenario"])
                    for k, v in reversed(list(vals.items())):
                        frame.insert(0, k, float(v))
                    frame.insert(0, "candidate", cid)
                    parts.append(frame)
                df = pd.concat(parts, ignore_index=True) if parts else \
                    pd.DataFrame({"candidate": pd.Series(dtype="int64")})
                self.own.claim("evaluations/", rel)
                (self.root / "evaluations").mkdir(exist_ok=True)
                atomic_write_bytes(self.root / rel, table_bytes(
                    pa.Table.from_pandas(df, preserve_index=False)))
            else:
                self.ev.bar.update(len(bids) * g.reps)
            for _, part in df.groupby("candidate"):
                out[int(part["candidate"].iloc[0])] = \
                    part.sort_values("replication").reset_index(drop=True)
        return out
