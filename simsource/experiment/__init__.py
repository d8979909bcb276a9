"""Experiments: batches of replications, comparisons and sweeps, written to results folders.

>>> from simsource.experiment import run_batch, load_results          # doctest: +SKIP
>>> df = run_batch(load_scenario("nacka-multi"), 100, seed=0, jobs=4, out="results/x")
>>> res = load_results("results/x"); res.summary

Every replication simsource runs goes through one engine, :mod:`simsource.experiment.engine`
(:func:`stream` of :class:`Work` items; :class:`Evaluator` for design points), on a backend:
this process (``-j 1``), the process's warm worker pool (:mod:`simsource.experiment.pool`, the
only place that starts worker processes) or Dask. Designs (factorial, Latin hypercube, SALib)
are made in :mod:`simsource.experiment.design` over the parameter space of
:mod:`simsource.experiment.params`.

Heavy libraries (pandas, pyarrow) load on first use, so importing this package is cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Evaluator", "Results", "Work", "load_results", "replications", "run_batch",
           "run_compare", "run_sweep", "stream"]

_WHERE = {
    "Work": "simsource.experiment.engine",
    "stream": "simsource.experiment.engine",
    "replications": "simsource.experiment.engine",
    "Evaluator": "simsource.experiment.engine",
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
