"""Shared fixtures: a click runner, a writer of scenario files in a temporary working folder, and
the results folders of results_fixtures.py (``compare_dir``, ``single_dir``, ``sweep_dir``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from replicate import under_mutmut
from results_fixtures import compare_dir, single_dir, sweep_dir  # noqa: F401 (fixtures)

WriteScenario = Callable[[str, str], Path]

# Commands run in tests (in this process and in subprocesses, which inherit it) start their own
# fork server, as on a machine without the daemon: a test must not leave a server running for
# the next ones, nor share one with them. tests/test_daemon.py switches it on where it tests it.
os.environ["SIMSOURCE_DAEMON"] = "0"


@pytest.fixture(autouse=True)
def _no_model_cache_under_mutmut() -> None:
    """Under mutmut every test computes the model's cached values afresh, so the test that
    reaches a cached function is known to mutmut and a mutant of it is not hidden by a value
    cached before it was switched on (replicate.py does the same for replications)."""
    if under_mutmut():
        from simsource.model.overrun import _swan_lognormal_mean

        _swan_lognormal_mean.cache_clear()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteScenario:
    """``write_scenario("sub/bad.toml", text)`` writes a file under ``tmp_path``, which is also
    made the working folder, so messages name the file as ``sub/bad.toml``."""
    monkeypatch.chdir(tmp_path)

    def write(relpath: str, text: str) -> Path:
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write
