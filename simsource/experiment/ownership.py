"""Ownership by record: which files and folders of a results folder simsource wrote.

Every file and folder is *claimed* before it is created: its path (relative to the results
folder, folders with a trailing ``/``) is appended to the write-ahead record
:data:`JOURNAL` and listed under ``"written"`` in ``manifest.json`` (``compare.json`` for a
comparison) whenever those are written. So whatever is on disk and in the record is ours, even
after a ``kill -9``; everything else belongs to the user.

* :meth:`Ownership.clear` (``--overwrite``) removes only recorded paths — and refuses, naming
  one, when anything else is inside (also inside ``points/p0003/`` or a comparison's member
  folders, each with its own record);
* :meth:`Ownership.claim` checks that the path resolves inside the results folder (a symlink
  cannot lead a write elsewhere) and that it is not a user's existing file;
* folders written before records existed (simsource ≤ 0.1) are read by *format*: a path counts
  as ours only when it is one that simsource names exactly (``summary.csv``,
  ``chunks/r0000000-0000049.kpi.parquet``, ``plots/funnel.png``, …); anything else is foreign.
  Resuming such a folder starts a record with those paths; ``--overwrite`` refuses if anything
  else is inside.

Taking, locking and creating folders is :mod:`simsource.experiment.folders`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simsource.errors import UserError

JOURNAL = ".simsource-written"
MANIFEST = "manifest.json"
COMPARE_JSON = "compare.json"
RECORD_FILES = (MANIFEST, COMPARE_JSON, JOURNAL)
TMP_PREFIX = ".tmp-"

# ---- the format of folders made before records existed ------------------------------------------
_LEGACY_COMMON = ("report.html", ".report.html.tmp", ".lock")
_LEGACY_FILES: dict[str, frozenset[str]] = {
    "run": frozenset((MANIFEST, "scenario.toml", "replications.parquet", "timeseries.parquet",
                      "summary.csv", *_LEGACY_COMMON)),
    "sweep": frozenset((MANIFEST, "scenario.toml", "sweep.parquet", "sweep_summary.csv",
                        "design.csv", *_LEGACY_COMMON)),
    "compare": frozenset((COMPARE_JSON, "comparison.csv", *_LEGACY_COMMON)),
    "sensitivity": frozenset(("sensitivity.json", "sensitivity.csv", "sensitivity.png",
                              "points.csv")),
    "staff": frozenset(("staff.json", "staff.csv", "staff.png")),
}
_LEGACY_DIRS: dict[str, tuple[str, ...]] = {
    "run": ("chunks", "plots"), "sweep": ("points", "plots"), "compare": ("plots",),
    "sensitivity": (), "staff": ()}
_LEGACY_PLOTS = re.compile(r"(funnel|distributions|timeseries|costs|ambition|leadtime|sweep|"
                           r"transfer)\.(png|svg)")
_LEGACY_CHUNK = re.compile(r"r\d{7,}-\d{7,}\.(kpi\.parquet|ts\.parquet|json)")
_LEGACY_POINT = re.compile(r"p\d{4,}")
_TMP = re.compile(re.escape(TMP_PREFIX) + r"(.+)\.\d+")


def is_results_folder(path: Path) -> bool:
    """Whether ``path`` holds a record of its own (a run, sweep or comparison folder)."""
    return any((path / name).is_file() for name in RECORD_FILES)


def _tmp_target(name: str) -> str | None:
    """The file a temporary ``.tmp-<name>.<pid>`` was being written for."""
    m = _TMP.fullmatch(name)
    return m[1] if m else None


class Ownership:
    """The recorded paths of one results folder (``root``)."""

    def __init__(self, root: Path, paths: set[str], legacy: bool) -> None:
        self.root = root
        self.paths = paths
        self.legacy = legacy

    # ---- reading the record ------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> Ownership:
        paths: set[str] = set()
        recorded = False
        for name in (MANIFEST, COMPARE_JSON):
            written = _read_written(root / name)
            if written is not None:
                paths.update(written)
                recorded = True
        journal = root / JOURNAL
        if journal.is_file():
            recorded = True
            for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("+"):
                    paths.add(line[1:])
                elif line.startswith("-"):
                    paths.discard(line[1:])
        if recorded:
            return cls(root, paths, legacy=False)
        return cls(root, _legacy_paths(root), legacy=True)

    def owns(self, rel: str) -> bool:
        if rel in self.paths or rel in RECORD_FILES:
            return True
        folder, _, name = rel.rpartition("/")
        target = _tmp_target(name)
        return target is not None and (f"{folder}/{target}" if folder else target) in self.paths

    def recorded(self) -> list[str]:
        return sorted(self.paths)

    # ---- claiming ----------------------------------------------------------------------------
    def check_inside(self, rel: str) -> Path:
        """``root / rel``, after checking that it resolves inside ``root``."""
        path = self.root / rel
        root = self.root.resolve()
        target = path.resolve()
        if target != root and root not in target.parents:
            raise UserError(f"{path}: resolves to {target}, outside the results folder {root}; "
                            "simsource writes only inside the results folder")
        return path

    def claim(self, *rels: str) -> None:
        """Record paths before they are written (their parent folders too). An existing file
        that is not recorded is the user's: refused."""
        new: list[str] = []
        for rel in rels:
            parts = rel.rstrip("/").split("/")
            chain = [*(("/".join(parts[:i]) + "/") for i in range(1, len(parts))), rel]
            for p in chain:
                path = self.check_inside(p)  # also for recorded paths: a symlink may be new
                if p in self.paths or p in new:
                    continue
                if p in RECORD_FILES:  # found by name: the record itself
                    new.append(p)
                    continue
                if not p.endswith("/") and (path.exists() or path.is_symlink()):
                    raise UserError(f"{path}: exists and was not written by simsource; move it "
                                    "away or use another --out")
                if p.endswith("/") and path.is_symlink():
                    raise UserError(f"{path}: is a symbolic link; simsource writes only inside "
                                    "the results folder — use another --out")
                new.append(p)
        if new:
            self._append("".join(f"+{p}\n" for p in new))
            self.paths.update(new)

    def forget(self, *rels: str) -> None:
        gone = [r for r in rels if r in self.paths]
        if gone:
            self._append("".join(f"-{p}\n" for p in gone))
            self.paths.difference_update(gone)

    def adopt(self) -> None:
        """Start a record for a folder read by format (resume of an old folder)."""
        if self.legacy:
            self.legacy = False
            self._append("".join(f"+{p}\n" for p in sorted(self.paths)))

    def _append(self, text: str) -> None:
        self.legacy = False
        with open(self.root / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(text)

    def clean_tmp(self) -> None:
        """Remove temporary files of ours left by a killed process (call under the lock)."""
        folders = [""] + [p for p in self.paths if p.endswith("/")]
        for folder in folders:
            path = self.root / folder
            if folder and (not path.is_dir() or is_results_folder(path)):
                continue
            for entry in os.scandir(path):
                rel = folder + entry.name
                if _tmp_target(entry.name) and rel not in self.paths and self.owns(rel) \
                        and entry.is_file(follow_symlinks=False):
                    Path(entry.path).unlink(missing_ok=True)

    def advice(self) -> str:
        """What to do about a folder that holds something else: --overwrite only if it helps."""
        bad = self.first_foreign()
        if bad is None:
            return "use --overwrite or another --out"
        return (f"use another --out (--overwrite would not help: the folder also holds {bad}, "
                "which simsource did not write and never deletes)")

    # ---- what is not ours --------------------------------------------------------------------
    def foreign(self) -> Iterator[Path]:
        """Paths inside ``root`` that simsource did not write (recursing into member results
        folders, which answer for themselves)."""
        yield from self._foreign_in(self.root, "")

    def _foreign_in(self, folder: Path, prefix: str) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for entry in entries:
            rel = prefix + entry.name
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if f"{rel}/" not in self.paths:
                    yield path
                elif is_results_folder(path):
                    yield from Ownership.load(path).foreign()
                else:
                    yield from self._foreign_in(path, f"{rel}/")
            elif not self.owns(rel):
                yield path

    def first_foreign(self) -> Path | None:
        return next(iter(self.foreign()), None)

    def refuse_foreign(self, why: str) -> None:
        bad = self.first_foreign()
        if bad is not None:
            raise UserError(f"{self.root}: {why}: it holds {bad}, which simsource did not write; "
                            "simsource deletes only what it wrote — move that away or use "
                            "another --out")

    # ---- removing what is ours -------------------------------------------------------------
    def clear(self) -> None:
        """Remove every recorded path (``--overwrite``); refuses if anything else is inside."""
        self.refuse_foreign("cannot overwrite")
        self._remove_owned()

    def _remove_owned(self) -> None:
        folders = sorted((p for p in self.paths if p.endswith("/")), key=len, reverse=True)
        for folder in folders:
            path = self.root / folder
            if path.is_dir() and not path.is_symlink() and is_results_folder(path):
                Ownership.load(path)._remove_owned()
        with os.scandir(self.root) as it:
            tmps = [e.name for e in it if _tmp_target(e.name) and self.owns(e.name)]
        for rel in [*sorted(self.paths - set(folders)), *tmps]:
            path = self.root / rel
            if path.is_symlink() or path.is_file():
                path.unlink()
        for folder in folders:
            path = self.root / folder
            for entry in list(os.scandir(path)) if path.is_dir() else []:
                if self.owns(f"{folder}{entry.name}") and not entry.is_dir(follow_symlinks=False):
                    Path(entry.path).unlink()
            with contextlib.suppress(OSError):  # not empty: a member folder kept a user file
                path.rmdir()
        for name in (MANIFEST, COMPARE_JSON, JOURNAL):
            (self.root / name).unlink(missing_ok=True)
        self.paths = set()
        self.legacy = False


def _read_written(path: Path) -> list[str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    written = data.get("written") if isinstance(data, dict) else None
    if isinstance(written, list) and all(isinstance(p, str) for p in written):
        return written
    return None


def _legacy_kind(root: Path) -> str | None:
    """``run``, ``sweep`` or ``compare`` for an old results folder; None for any other folder."""
    if (root / COMPARE_JSON).is_file():
        return "compare"
    for kind in ("sensitivity", "staff"):
        if (root / f"{kind}.json").is_file() and not (root / MANIFEST).exists():
            return kind
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "run" if (root / MANIFEST).is_file() else None
    kind = manifest.get("kind", "run") if isinstance(manifest, dict) else "run"
    return "sweep" if kind == "sweep" else "run"


def _legacy_paths(root: Path) -> set[str]:
    """The paths of an old (record-less) results folder that simsource names exactly, for its
    kind; nothing at all in a folder without a manifest or comparison file."""
    paths: set[str] = set()
    kind = _legacy_kind(root) if root.is_dir() else None
    if kind is None:
        return paths
    dirs: set[str] = set(_LEGACY_DIRS[kind])
    if kind == "compare":
        try:
            meta: Any = json.loads((root / COMPARE_JSON).read_text(encoding="utf-8"))
            folders = meta.get("folders") or {n: n for n in meta.get("scenarios", [])}
            dirs |= {str(f) for f in folders.values() if "/" not in str(f)}
        except (OSError, ValueError, AttributeError, TypeError):
            pass
    patterns = {"chunks": _LEGACY_CHUNK, "plots": _LEGACY_PLOTS, "points": _LEGACY_POINT}
    files = _LEGACY_FILES[kind]
    for entry in os.scandir(root):
        name = entry.name
        if entry.is_dir(follow_symlinks=False):
            if name not in dirs:
                continue
            paths.add(f"{name}/")
            pattern = patterns.get(name)
            if pattern is None:
                continue
            for e in os.scandir(entry.path):
                target = _tmp_target(e.name) or e.name
                if pattern.fullmatch(target):
                    paths.add(f"{name}/{e.name}" + ("/" if e.is_dir() else ""))
        elif name in files or (_tmp_target(name) or "") in files:
            paths.add(name)
    return paths
