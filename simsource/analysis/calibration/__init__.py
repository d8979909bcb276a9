"""Calibration against observed facts (``simsource calibrate``, docs/calibration.md).

* :mod:`~simsource.analysis.calibration.facts`: the facts file format and its checks;
* :mod:`~simsource.analysis.calibration.implausibility`: how far a candidate's predictions are
  from a fact, in standard deviations (history matching for a stochastic model);
* :mod:`~simsource.analysis.calibration.matching`: the waves (sample, rule out, refocus) and the
  posterior's weights;
* :mod:`~simsource.analysis.calibration.batches`: candidates run on the experiment engine in
  batches a rerun reuses;
* :mod:`~simsource.analysis.calibration.summary`: parameter quantiles and each fact's
  predictions;
* :mod:`~simsource.analysis.calibration.uncertainty`: how much of an interval is parameter
  uncertainty;
* :mod:`~simsource.analysis.calibration.selftest`: simulation-based calibration and a
  held-back fact;
* :mod:`~simsource.analysis.calibration.run`: the resumable results folder and the files it
  writes.

The posterior is used by ``--posterior DIR`` of ``run``, ``compare``, ``sweep`` and ``staff``
(:mod:`simsource.experiment.posterior`).
"""

from simsource.analysis.calibration.facts import Fact, Facts, load_facts
from simsource.analysis.calibration.run import Calibration, calibrate, load_calibration, setup

__all__ = ["Calibration", "Fact", "Facts", "calibrate", "load_calibration", "load_facts", "setup"]
