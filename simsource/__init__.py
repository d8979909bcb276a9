"""simsource — discrete-event simulation of multi-sourced public-sector IT and innovation.

>>> from simsource import load_scenario, simulate
>>> kpis = simulate(load_scenario("nacka-multi"), seed=1, replication=0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simsource.scenario import Scenario


def load_scenario(name_or_path: Any, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a built-in scenario name or a TOML file, with optional dotted-key overrides."""
    from simsource.scenario import load_scenario as _load

    return _load(name_or_path, overrides)


def simulate(sc: Scenario, seed: int = 0, replication: int = 0,
             trace: bool = False) -> dict[str, float]:
    """Run one replication and return its KPIs (see :func:`simsource.model.simulate`)."""
    from simsource.model import simulate as _simulate

    return _simulate(sc, seed=seed, replication=replication, trace=trace)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one place: the package metadata (pyproject.toml's version)
        from importlib.metadata import version

        return version("simsource")
    if name in ("run_batch", "load_results"):
        from simsource import experiment

        return getattr(experiment, name)
    raise AttributeError(f"module 'simsource' has no attribute {name!r}")


__all__ = ["__version__", "load_results", "load_scenario", "run_batch", "simulate"]
