"""Hostile input, generated: every key of ``nacka-multi`` mutated with wrong types, extremes, inf,
NaN, huge strings and deep nesting, through scenario files and ``--set``.

Every case must end within a time limit with exit 0 or 2 (never 1, never a traceback), and what
``validate`` accepts, ``run`` runs (on a tiny horizon). The fast suite tries a few dozen random
cases plus every key with a fixed set of nasty values; more random cases run under ``slow``.
"""

from __future__ import annotations

import contextlib
import math
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simsource.cli import main
from simsource.errors import UserError
from simsource.scenario import Scenario, load_scenario, parse_overrides
from simsource.scenario.dump import to_toml, toml_value
from simsource.scenario.loader import load_raw

SECONDS = 60  # per case: validate, and a run of one replication if it validates
RUN_MAX_EVENTS = "400000"  # a run of an accepted mutant: at most about two seconds
TINY = ["--set", "scenario.years=0.5", "--set", "scenario.warmup_years=0.25"]


def _leaves(data: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(data, dict) and data:
        for k, v in data.items():
            yield from _leaves(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1]


BASE = load_scenario("nacka-multi").model_dump(mode="json")
LEAVES = sorted(_leaves(BASE))


class TimeLimit(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail a case that hangs (SIGALRM interrupts it; the suite goes on)."""
    def stop(signum: int, frame: object) -> None:
        raise TimeLimit(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _nested(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


EXTREMES = st.sampled_from([
    0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 1e308, -1e308, 1e-308, 5e-324, 1e-9, 1e12, 1e6,
    0.5, math.inf, -math.inf, math.nan, True, False,
])
TEXTS = st.one_of(st.text(max_size=12), st.sampled_from(["x" * 1000, "ä" * 100_000,
                                                         "../../x", "/tmp/x", ".hidden"]))
SCALARS = st.one_of(EXTREMES, st.floats(), st.integers(), TEXTS)
MUTANTS = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=3),
    st.integers(2, 600).map(_nested),
)


def _toml_value(value: Any) -> str:
    return toml_value(value)


def _set_in(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[parts[-1]] = value


def check_answer(result: Result) -> None:
    """Exit 0 or 2; a refusal is one or more ``error: WHERE: what`` lines, no traceback."""
    assert result.exit_code in (0, 2), (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    if result.exit_code == 2:
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert lines
        assert lines[0].startswith(("error: ", "Usage: ")), lines[0]


def mutate_and_run(key: str, value: Any, via: str, folder: Path) -> None:
    runner = CliRunner()
    if via == "file":
        data, _ = load_raw("nacka-multi")
        _set_in(data, key, value)
        path = folder / "mutant.toml"
        try:
            path.write_text(to_toml(data), encoding="utf-8")
        except (TypeError, RecursionError, ValueError):
            event("not writable as TOML")
            return
        target, sets = [str(path)], []
    else:
        target, sets = ["nacka-multi"], ["--set", f"{key}={_toml_value(value)}"]
    checked = runner.invoke(main, ["validate", *target, *sets])
    check_answer(checked)
    event(f"validate exit {checked.exit_code}")
    if checked.exit_code != 0:
        return
    tiny = [] if key.startswith("scenario.") else TINY
    ran = runner.invoke(main, ["run", *target, *sets, *tiny, "-n", "1", "-j", "1", "-q",
                               "--max-events", RUN_MAX_EVENTS, "--out", str(folder / "out")])
    check_answer(ran)
    if ran.exit_code == 2:  # only our low test limit may refuse what validate accepted
        assert "simulation events" in ran.stderr, ran.stderr
    event(f"run exit {ran.exit_code}")


def _case(key: str, value: Any, via: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, time_limit(SECONDS):
        mutate_and_run(key, value, via, Path(tmp))


FUZZ = dict(deadline=None, database=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=30, **FUZZ)  # type: ignore[arg-type]
@given(key=st.sampled_from(LEAVES), value=MUTANTS, via=st.sampled_from(["file", "set"]))
def test_fuzz_every_key_exit_0_or_2(key: str, value: Any, via: str) -> None:
    _case(key, value, via)


@pytest.mark.slow
@settings(max_examples=300, **FUZZ)  # type: ignore[arg-type]
@given(key=st.sampled_from(LEAVES), value=MUTANTS, via=st.sampled_from(["file", "set"]))
def test_fuzz_every_key_exit_0_or_2_long(key: str, value: Any, via: str) -> None:
    _case(key, value, via)


NASTY = [math.inf, -math.inf, math.nan, -1, 1e308, True, 10**30, 5e-324, "x", [], {"a": 1}]


def _round_trips(sc: Scenario) -> None:
    """What workers receive (JSON) is the same scenario."""
    assert Scenario.model_validate_json(sc.model_dump_json()) == sc


@pytest.mark.slow
@pytest.mark.parametrize("key", LEAVES)
def test_every_key_refuses_nasty_values_or_accepts_them_soundly(key: str) -> None:
    """All keys, a fixed set of nasty values, through --set: a clear refusal or a scenario that
    survives the trip to a worker (no inf, NaN or bool-as-number gets through)."""
    for value in NASTY:
        try:
            sc = load_scenario("nacka-multi", parse_overrides([f"{key}={_toml_value(value)}"]))
        except UserError:  # a clear refusal
            continue
        _round_trips(sc)
        dumped = sc.model_dump(mode="python")
        assert all(not (isinstance(v, float) and not math.isfinite(v))
                   for v in _values(dumped)), (key, value)


def _values(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        for v in data.values():
            yield from _values(v)
    elif isinstance(data, list | tuple):
        for v in data:
            yield from _values(v)
    else:
        yield data
