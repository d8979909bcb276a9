"""The compiled model (simsource/model/native.py): the same numbers as the Python model, and
never loaded unless it was built from exactly the source on disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simsource.model import native

ROOT = Path(__file__).resolve().parent.parent

# one replication of every built-in scenario, traced: KPIs, monthly series and event log
_RUN = """
import hashlib, json, sys
from simsource import load_scenario
from simsource.model import native, simulate_full
from simsource.scenario.loader import builtin_names
out = {"how": native.describe(), "compiled": native.status()["modules"], "runs": {}}
for name in builtin_names():
    sc = load_scenario(name, {"scenario.years": "1.5", "scenario.warmup_years": "0.5"})
    for rep in (0, 1):
        r = simulate_full(sc, seed=11, replication=rep, trace=True)
        text = json.dumps([r.kpis, r.timeseries, r.events], sort_keys=True, default=repr)
        out["runs"][f"{name}/{rep}"] = [hashlib.sha256(text.encode()).hexdigest(), r.kpis]
print(json.dumps(out))
"""


def _run(pure: bool) -> dict[str, object]:
    env = {**os.environ, native.ENV_PURE: "1" if pure else ""}
    p = subprocess.run([sys.executable, "-c", _RUN], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    result: dict[str, object] = json.loads(p.stdout)
    return result


def _built() -> bool:
    return bool(native.check()[0])


needs_build = pytest.mark.skipif(not _built(), reason="the compiled model is not built or not "
                                 f"current ({native.check()[1]}): make native")


@needs_build
def test_compiled_and_python_model_give_the_same_numbers_and_events() -> None:
    compiled, pure = _run(pure=False), _run(pure=True)
    assert str(compiled["how"]).startswith("compiled")
    assert compiled["compiled"] == list(native.MODULES)
    assert str(pure["how"]) == f"pure Python ({native.ENV_PURE}=1)"
    assert pure["compiled"] == []
    runs_c, runs_p = compiled["runs"], pure["runs"]
    assert isinstance(runs_c, dict)
    assert isinstance(runs_p, dict)
    assert len(runs_p) >= 20
    for key, (digest, kpis) in runs_p.items():
        assert runs_c[key][1] == kpis, key          # every KPI, exactly
        assert runs_c[key][0] == digest, key        # and the series and the event log


@needs_build
def test_the_model_package_loads_the_compiled_modules() -> None:
    code = ("import simsource.model, json; from simsource.model import native; "
            "print(json.dumps(native.status()))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, check=True, env={**os.environ, native.ENV_PURE: ""})
    status = json.loads(p.stdout)
    assert status["compiled"] is True
    assert status["modules"] == list(native.MODULES)


# ---- when the build is not loaded --------------------------------------------------------------
def _fake_build(tmp: Path, source: Path = native.SOURCE) -> Path:
    """A build folder as `build()` leaves it, with empty files in place of the extensions."""
    out = tmp / "native"
    suffix = native._suffix()
    files = {f"{native.PACKAGE}.{m}": f"simsource/model/{m}{suffix}" for m in native.MODULES}
    files[f"{native.GROUP}__mypyc"] = f"{native.GROUP}__mypyc{suffix}"
    for rel in files.values():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"")
    (out / native.MANIFEST).write_text(json.dumps({
        "suffix": suffix, "files": files,
        "sources": {m: native.source_hash(m, source) for m in native.MODULES}}), encoding="utf-8")
    return out


@pytest.fixture
def not_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.ENV_PURE, raising=False)


def test_a_current_build_is_accepted(tmp_path: Path, not_pure: None) -> None:
    files, why = native.check(_fake_build(tmp_path))
    assert why == ""
    assert set(files) == {f"{native.PACKAGE}.{m}" for m in native.MODULES} | {
        f"{native.GROUP}__mypyc"}


def test_an_edited_source_is_never_run_compiled(tmp_path: Path, not_pure: None) -> None:
    source = tmp_path / "model"
    shutil.copytree(native.SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    build = _fake_build(tmp_path, source)
    assert native.check(build, source)[0]
    edited = source / "staffing.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    files, why = native.check(build, source)
    assert files == {}
    assert why == "stale: staffing.py changed since the build (make native)"


def test_no_build_another_python_or_a_broken_manifest_run_as_python(
        tmp_path: Path, not_pure: None) -> None:
    assert native.check(tmp_path / "nothing")[1].startswith("not built (")
    build = _fake_build(tmp_path)
    man = json.loads((build / native.MANIFEST).read_text(encoding="utf-8"))
    (build / native.MANIFEST).write_text(json.dumps({**man, "suffix": ".cpython-39-x.so"}),
                                         encoding="utf-8")
    files, why = native.check(build)
    assert files == {}
    assert why.startswith("built for another Python (.cpython-39-x.so")
    (build / native.MANIFEST).write_text("{not json", encoding="utf-8")
    assert "unreadable" in native.check(build)[1]
    build = _fake_build(tmp_path / "again")
    (build / f"simsource/model/rng{native._suffix()}").unlink()
    assert native.check(build)[1].startswith("incomplete build (")


def test_simsource_pure_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = _fake_build(tmp_path)
    monkeypatch.setenv(native.ENV_PURE, "1")
    assert native.check(build) == ({}, f"{native.ENV_PURE}=1")
    monkeypatch.setenv(native.ENV_PURE, "0")
    assert native.check(build)[0]


def test_build_never_replaces_a_folder_it_did_not_write(tmp_path: Path) -> None:
    pytest.importorskip("mypyc")
    foreign = tmp_path / "native"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(RuntimeError, match="not a simsource build"):
        native.build(foreign)
    assert (foreign / "mine.txt").read_text(encoding="utf-8") == "keep"
