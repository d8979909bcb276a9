"""Experiments: batches of replications, comparisons and sweeps, written to results folders.

>>> from simsource.experiment import run_batch, load_results          # doctest: +SKIP
>>> df = run_batch(load_scenario("nacka-multi"), 100, seed=0, jobs=4, out="results/x")
>>> res = load_results("results/x"); res.summary

Heavy libraries (pandas, pyarrow) load on first use, so importing this package is cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Results", "load_results", "run_batch", "run_compare", "run_sweep"]

_WHERE = {
    "run_batch": "simsource.experiment.runner",
    "load_results": "simsource.experiment.results",
    "Results": "simsource.experiment.results",
    "run_compare": "simsource.experiment.compare",
    "run_sweep": "simsource.experiment.sweep",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'simsource.experiment' has no attribute {name!r}")
