"""``manifest.json``: what a results folder holds, and the check that a folder is ours to write.

A folder belongs to one (kind, scenario hash, seed) — and for a sweep also one design. Running
into a folder that holds something else is refused unless ``overwrite``; overwriting removes only
the files the folder's record says simsource wrote (:mod:`simsource.experiment.ownership`), and
refuses when anything else is inside.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simsource.errors import UserError
from simsource.experiment.ownership import COMPARE_JSON, MANIFEST, Ownership
from simsource.experiment.parquetio import atomic_write_text


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def command_line(cli: bool = False) -> str:
    """The command line of this process (``cli``: as typed, ``simsource run ...``)."""
    return shlex.join(["simsource", *sys.argv[1:]] if cli else [sys.executable, *sys.argv])


def environment() -> dict[str, str]:
    import numpy
    import simpy

    from simsource import __version__

    return {
        "simsource_version": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "simpy": getattr(simpy, "__version__", "unknown"),
    }


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of ``root``; a missing or broken one is a :class:`UserError` naming the file."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not found (not a simsource results folder)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{path}: broken JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: broken manifest (not a JSON object)")
    missing = [k for k in ("scenario", "seed") if k not in data]
    if missing:
        raise UserError(f"{path}: broken manifest (no {', '.join(missing)})")
    return data


def write_manifest(root: Path, data: Mapping[str, Any], own: Ownership | None = None) -> None:
    """Write ``manifest.json`` (with ``"written"``: every path the record holds)."""
    body = dict(data)
    if own is not None:
        own.claim(MANIFEST)
        body["written"] = own.recorded()
    atomic_write_text(root / MANIFEST, json.dumps(body, indent=2, default=str) + "\n")


def _describe(m: Mapping[str, Any]) -> str:
    what = {"sweep": "a sweep over", "calibrate": "a calibration of"}.get(
        str(m.get("kind")), "scenario")
    return (f"{what} {m.get('scenario')} (hash {m.get('scenario_hash')}, seed {m.get('seed')}"
            + (f", design {m.get('design_hash')}" if m.get("design_hash") else "")
            + (f", posterior {m.get('posterior')}" if m.get("posterior") else "") + ")")


def claim_folder(root: Path, identity: Mapping[str, Any], overwrite: bool,
                 own: Ownership | None = None) -> dict[str, Any] | None:
    """Check that ``root`` may be written for ``identity``; return its manifest if it resumes.

    ``identity`` holds ``kind``, ``scenario`` (name, for messages), ``scenario_hash``, ``seed``
    and optionally ``design_hash`` and ``posterior`` (the checksum of a calibration posterior
    the replications draw their parameters from). Returns None for a new (or overwritten)
    folder. Call it holding the folder's lock; ``own`` is the folder's record (read here when
    not given).
    """
    if not root.exists():
        return None
    if not root.is_dir():
        raise UserError(f"{root}: exists and is not a folder; use another --out")
    own = own if own is not None else Ownership.load(root)
    if (root / COMPARE_JSON).exists() and not (root / MANIFEST).exists():
        if not overwrite:
            raise UserError(f"{root}: holds a comparison ({COMPARE_JSON}), not "
                            f"{_describe(identity)}; {own.advice()}")
        own.clear()
        return None
    if not (root / MANIFEST).exists():
        bad = own.first_foreign()
        if bad is not None:
            raise UserError(f"{root}: not empty and not a simsource results folder (no "
                            f"{MANIFEST}; it holds {bad}); use another --out")
        return None
    try:
        old = read_manifest(root)
    except UserError as exc:
        if overwrite:
            own.clear()
            return None
        raise UserError(f"{exc}; {own.advice()}") from None
    keys = ("kind", "scenario_hash", "seed", "design_hash", "posterior")
    if any(old.get(k, "run" if k == "kind" else None) != identity.get(k) for k in keys):
        if overwrite:
            own.clear()
            return None
        raise UserError(f"{root}: {MANIFEST}: holds {_describe(old)}, not {_describe(identity)}; "
                        f"{own.advice()}")
    if overwrite:
        own.clear()
        return None
    return old
