"""``benchmarks.instructions``: the arithmetic and the parsing of callgrind's output, with
valgrind replaced by a fake (the real thing takes minutes; docs/performance.md shows it run)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import instructions


def _fake_valgrind(per_unit: int, events_per_unit: int, fixed: int = 10_000_000
                   ) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        k = int(cmd[cmd.index("-c") + 2])
        total = fixed + k * events_per_unit * per_unit
        return subprocess.CompletedProcess(cmd, 0, f"EVENTS {k * events_per_unit}\n",
                                           f"==1== Collected : {total}\n")
    return run


def test_instructions_per_event_beyond_imports_and_warm_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", _fake_valgrind(22_000, 6))
    assert instructions.per_event("code", 5, []) == (22_000.0, 30.0)


def test_main_prints_both_sides_and_their_ratio(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/valgrind")
    monkeypatch.setattr(subprocess, "run", _fake_valgrind(20_000, 6))
    assert instructions.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "20,000 instructions per event" in out
    assert "ratio (bare SimPy / model): 1.000" in out


def test_no_count_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", lambda cmd, **_: subprocess.
                        CompletedProcess(cmd, 0, "", "valgrind: oops"))
    with pytest.raises(RuntimeError, match="callgrind gave no count"):
        instructions.count("code", 1, [])


def test_without_valgrind_exit_2(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    assert instructions.main([]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err
