"""Scenario discovery: in which futures does a policy miss its target? (``discovery.csv``)

For each policy and target, the futures where the policy misses the target are the *cases of
interest*; PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999), as used for
scenario discovery (Bryant & Lempert 2010), finds boxes — ranges of a few uncertain parameters —
in which those futures concentrate. The algorithm is the maintained ``prim`` package (the
standalone release of EMA Workbench's PRIM); this module only chooses boxes from its peeling
trajectories and reports them, since that choice is interactive in ``prim`` and must be a
stated rule in a batch tool:

1. along each box's peeling (and pasting) trajectory, take the box with the largest
   ``coverage × density`` (ties: fewer restricted parameters, then more mass);
2. drop, one at a time, the restriction with the largest quasi-p value above
   :data:`QP_MAX` (Bryant & Lempert's one-sided binomial test: the restriction does not
   significantly raise the density), so only restrictions the data support are reported;
3. find the next box among the futures outside the earlier boxes (covering), at most
   ``max_boxes``, and stop early when a box restricts nothing or is no denser than the
   failures among all futures.

``coverage`` is the share of all failing futures inside the box, ``density`` the share of the
futures inside the box that fail, ``mass`` the share of all futures inside the box.
``discovery.csv`` has one row per restricted parameter of each box: ``policy, target, box,
parameter, lower, upper, coverage, density, mass`` (``box`` counts from 1 per policy and
target).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simsource.analysis.robustness import Target, met, policies_of, target_text

COLUMNS = ["policy", "target", "box", "parameter", "lower", "upper", "coverage", "density",
           "mass"]
QP_MAX = 0.05
PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.05
MASS_MIN = 0.05


def _prim(x: pd.DataFrame, y: np.ndarray) -> Any:
    import prim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # prim's own use of older pandas idioms
        return prim.Prim(x, y, threshold=None, peel_alpha=PEEL_ALPHA, paste_alpha=PASTE_ALPHA,
                         mass_min=MASS_MIN)


def _select(box: Any) -> None:
    """Step 1 of the module docstring: the trajectory's best coverage × density."""
    t = box.peeling_trajectory.reset_index(drop=True)
    score = t["coverage"].to_numpy(dtype=float) * t["density"].to_numpy(dtype=float)
    order = sorted(range(len(t)), key=lambda i: (-round(float(score[i]), 12),
                                                 int(t["res dim"].iloc[i]),
                                                 -float(t["mass"].iloc[i])))
    box.select(order[0])


def _prune(box: Any) -> None:
    """Step 2: drop restrictions the quasi-p test does not support, worst first."""
    while True:
        limits = box.limits
        if limits.empty:
            return
        qp = limits["qp values"].astype(float)
        worst = qp.idxmax()
        if not qp[worst] > QP_MAX:
            return
        box.drop_restriction(str(worst))


def find_boxes(x: pd.DataFrame, fails: np.ndarray, max_boxes: int = 3
               ) -> list[tuple[pd.DataFrame, float, float, float]]:
    """PRIM boxes of the failing rows of ``x``: per box its limits (index = restricted
    parameters, columns ``lower``, ``upper``), coverage, density and mass."""
    fails = np.asarray(fails, dtype=bool)
    n, k = int(fails.size), int(fails.sum())
    if n == 0 or k == 0 or k == n or x.shape[1] == 0:
        return []
    base = k / n
    p = _prim(x.reset_index(drop=True), fails)
    out: list[tuple[pd.DataFrame, float, float, float]] = []
    for _ in range(max_boxes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            box = p.find_box()
            if box is None:
                break
            _select(box)
            _prune(box)
            limits = box.limits
        if limits.empty or float(box.density) <= base:
            break
        lim = pd.DataFrame({"lower": limits["min"].astype(float),
                            "upper": limits["max"].astype(float)})
        out.append((lim, float(box.coverage), float(box.density), float(box.mass)))
    return out


def discover(futures: pd.DataFrame, targets: Sequence[Target],
             parameters: dict[str, list[str]], max_boxes: int = 3) -> pd.DataFrame:
    """``discovery.csv`` for every policy of ``futures`` and every target; ``parameters`` maps
    each policy to the uncertain columns that apply to it (PRIM looks only at those)."""
    rows: list[dict[str, Any]] = []
    for policy in policies_of(futures):
        mine = futures[futures["policy"] == policy].sort_values("future")
        cols = [c for c in parameters.get(policy, []) if c in mine.columns
                and float(mine[c].max()) > float(mine[c].min())]
        x = mine[cols].astype(float)
        for t in targets:
            fails = ~met(mine, t)
            for b, (lim, coverage, density, mass) in enumerate(
                    find_boxes(x, fails, max_boxes), start=1):
                for param, r in lim.iterrows():
                    rows.append({"policy": policy, "target": target_text(t), "box": b,
                                 "parameter": str(param), "lower": float(r["lower"]),
                                 "upper": float(r["upper"]), "coverage": coverage,
                                 "density": density, "mass": mass})
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["box"] = table["box"].astype("int64")
    return table
