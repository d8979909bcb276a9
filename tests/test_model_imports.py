"""What importing the model costs: not scipy.stats (most of a second), which the Kaplan–Meier
of the KPIs imports at its first call, and which the local pool's fork server preloads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simsource.experiment.pool import PRELOAD


def _fresh(code: str) -> str:
    """What ``code`` prints in a fresh interpreter."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_importing_the_model_does_not_import_scipy_stats() -> None:
    assert _fresh("import sys; import simsource.model, simsource.experiment.worker; "
                  "print('scipy.stats' in sys.modules)") == "False"


@pytest.mark.slow
def test_the_lead_time_quantiles_import_it_when_called() -> None:
    # survival 0.75, 0.5, 0.25 after 1, 2, 3; censored at 10: the median is the middle of the
    # flat stretch at 0.5, the 90th percentile is never reached
    assert _fresh("import sys; from simsource.model.leadtime import km_quantiles; "
                  "print(km_quantiles([1.0, 2.0, 3.0], [10.0]), 'scipy.stats' in sys.modules)"
                  ) == "[2.5, nan] True"


def test_the_fork_server_preloads_it_for_the_workers() -> None:
    assert "scipy.stats" in PRELOAD
    assert "simsource.experiment.worker" in PRELOAD


def test_a_batch_command_reaches_its_first_task_without_the_statistics() -> None:
    """What a ``run`` imports before its workers get their first task leaves pandas, scipy,
    simsource.stats and pyarrow.compute to the summary at the end (a thread imports them while
    the workers compute: runner.FINALIZE_IMPORTS), so a ``-j 2`` command does not keep its
    workers waiting."""
    later = ("pandas", "scipy", "simsource.stats", "pyarrow.compute")
    assert _fresh("import sys; import simsource.cli.experiment_cmds, "
                  "simsource.experiment.store, simsource.experiment.runner; "
                  f"print(sorted(m for m in {later!r} if m in sys.modules))") == "[]"
