"""The model compiled: the same source, built to C with mypyc, loaded only when it is current.

The model's own Python code is about 60 % of a replication's time (the rest is SimPy's loop).
mypyc (part of mypy, already the project's type checker) compiles type-annotated modules to C
extensions with the same semantics: the same float arithmetic, the same draws, the same events
in the same order. ``make native`` (and every ``make`` target that runs the model) builds
them with :func:`main` into ``build/native/``, beside the source, never into it;
:func:`install` puts a finder in front of the import system that loads a compiled module
instead of its ``.py`` only when

* the build is there and was made by this Python (same extension suffix),
* every compiled module's source is byte for byte the source it was built from (a SHA-256 per
  module in ``build/native/manifest.json``: an edited model never runs stale compiled code; it
  runs as Python until the next build), and
* ``SIMSOURCE_PURE`` is not set to ``1`` (profiling, mutation testing, debugging).

Otherwise the model runs as plain Python, with the same numbers (``tests/test_native.py``
compares both). :func:`status` says which, and why.

The modules compiled are those where a replication spends its time and that mypyc compiles
as they are. Not compiled: ``loop`` (its classes would have to stay Python classes, which
mypyc allows, and so compiled it saves 0.3 % of the instructions: docs/performance.md),
``transition`` (its actor's annotated ``World`` attribute
would need ``world`` at import, a cycle), ``world``, ``kpis`` and ``leadtime`` (once per
replication) and the catalogue.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "simsource.model"
#: the compiled modules of ``simsource.model``
MODULES = ("budget", "change", "engagement", "funnel", "governance", "ideas", "monitor",
           "operations", "overrun", "partnership", "recorder", "rng", "servers", "sources",
           "staffing", "suppliers")
GROUP = "simsource_native"            # mypyc's shared library: GROUP + "__mypyc"
SOURCE = Path(__file__).resolve().parent
ROOT = SOURCE.parent.parent           # the project (an editable install's checkout)
BUILD = ROOT / "build" / "native"
MANIFEST = "manifest.json"
ENV_PURE = "SIMSOURCE_PURE"

_state: dict[str, Any] = {"compiled": False, "why": "not installed yet", "build": None}


def source_hash(module: str, source: Path = SOURCE) -> str:
    return hashlib.sha256((source / f"{module}.py").read_bytes()).hexdigest()


def _suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def check(build: Path = BUILD, source: Path = SOURCE) -> tuple[dict[str, Path], str]:
    """The compiled files to load (module name -> file), or ``{}`` and why not."""
    if os.environ.get(ENV_PURE, "") == "1":
        return {}, f"{ENV_PURE}=1"
    path = build / MANIFEST
    if not path.is_file():
        return {}, f"not built ({path} is missing: make native)"
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
        files = {name: build / rel for name, rel in man["files"].items()}
        hashes = dict(man["sources"])
        suffix = str(man["suffix"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return {}, f"{path}: unreadable ({exc})"
    if suffix != _suffix():
        return {}, f"built for another Python ({suffix}, this one loads {_suffix()})"
    if set(hashes) != set(MODULES):
        return {}, "built for another set of modules: make native"
    for module in MODULES:
        try:
            current = source_hash(module, source)
        except OSError as exc:
            return {}, f"{module}.py unreadable ({exc})"
        if current != hashes[module]:
            return {}, f"stale: {module}.py changed since the build (make native)"
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        return {}, f"incomplete build ({missing[0]} is missing: make native)"
    return files, ""


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules (and mypyc's shared library) in the build, nothing else."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def install(build: Path = BUILD, source: Path = SOURCE) -> bool:
    """Load the compiled modules from now on, if the build is current; once per process.
    Called by ``simsource.model`` before it imports any of them."""
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return bool(_state["compiled"])
    already = [m for m in MODULES if f"{PACKAGE}.{m}" in sys.modules]
    if already:
        _state.update(compiled=False, why=f"{PACKAGE}.{already[0]} was imported before")
        return False
    files, why = check(build, source)
    if not files:
        _state.update(compiled=False, why=why)
        return False
    sys.meta_path.insert(0, _Finder(files))
    _state.update(compiled=True, why="", build=str(build))
    return True


def status() -> dict[str, Any]:
    """``compiled`` (bool), ``why`` not (text), the ``build`` folder and the ``modules`` that
    run compiled in this process (those imported from the build)."""
    loaded = [m for m in MODULES
              if getattr(sys.modules.get(f"{PACKAGE}.{m}"), "__file__", "").endswith(_suffix())]
    return {**_state, "modules": loaded}


def describe() -> str:
    """One line: how the model runs in this process."""
    s = status()
    if s["compiled"]:
        return f"compiled (mypyc): {len(MODULES)} modules from {s['build']}"
    return f"pure Python ({s['why']})"


# ---- building ----------------------------------------------------------------------------------
def build(out: Path = BUILD, jobs: int = 2) -> Path:
    """Compile :data:`MODULES` with mypyc into ``out`` (replacing an earlier build of ours) and
    write its manifest last. Needs mypy (mypyc), setuptools and a C compiler."""
    import shutil
    import tempfile

    out = out.resolve()
    if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise RuntimeError(f"{out} exists and is not a simsource build: not replacing it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="native-", dir=out.parent))
    try:
        _compile(tmp, out, jobs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _compile(tmp: Path, out: Path, jobs: int) -> None:
    import shutil

    from mypy.version import __version__ as mypy_version
    from mypyc.build import mypycify  # build-time only
    from setuptools import setup

    hashes = {m: source_hash(m) for m in MODULES}
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)   # mypyc names modules by their path from here
        rel = [str((SOURCE / f"{m}.py").relative_to(ROOT)) for m in MODULES]
        exts = mypycify(rel, opt_level="3", target_dir=str(tmp / "c"), group_name=GROUP)
        setup(name="simsource-native", ext_modules=exts,
              script_args=["--quiet", "build_ext", "--build-lib", str(tmp / "lib"),
                           "--build-temp", str(tmp / "o"), "--parallel", str(jobs)])
    finally:
        os.chdir(cwd)
    lib = tmp / "lib"
    files = {}
    for f in sorted(lib.rglob(f"*{_suffix()}")):
        relpath = f.relative_to(lib)
        name = ".".join([*relpath.parent.parts, f.name[: -len(_suffix())]])
        files[name] = str(relpath)
    expected = {f"{PACKAGE}.{m}" for m in MODULES} | {f"{GROUP}__mypyc"}
    if set(files) != expected:
        raise RuntimeError(f"mypyc built {sorted(files)}, expected {sorted(expected)}")
    (lib / MANIFEST).write_text(json.dumps(
        {"suffix": _suffix(), "python": sys.version, "mypy": mypy_version, "files": files,
         "sources": hashes}, indent=1) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    lib.rename(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the compiled model (``make native``), or with ``--check`` say whether the build
    is current. A failed build is reported, not fatal: the model then runs as Python
    (exit 1)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--check"]:
        files, why = check()
        print("current" if files else why)
        return 0 if files else 1
    if args:
        print("usage: main([--check])", file=sys.stderr)
        return 2
    try:
        out = build()
    except Exception as exc:   # any failure leaves the Python model in use
        print(f"simsource: the compiled model was not built ({type(exc).__name__}: {exc}); "
              "the model runs as Python, with the same numbers, more slowly", file=sys.stderr)
        return 1
    print(f"simsource: compiled model built in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
