"""Taking a results folder: create it, lock it, read its record — and undo on a refusal.

* :func:`lock_folder` takes an exclusive ``flock`` on the folder itself (no lock file is left
  behind), released when the process ends, however it ends;
* :func:`take_folder` / :func:`holding` create the folder if needed (remembering which folders
  they made, so a refused command leaves none behind), lock it and read its
  :class:`~simsource.experiment.ownership.Ownership` record;
* :func:`claim_files` and :func:`claim_output` record the files of ``sensitivity``, ``staff``,
  ``plot`` and ``report`` before they are written, refusing a user's file of the same name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from simsource.errors import UserError
from simsource.experiment.ownership import Ownership, is_results_folder


def take_folder(root: Path, what: str = "simsource run"
                ) -> tuple[Ownership, int | None, list[Path]]:
    """Create ``root`` if needed, lock it and read its record: ``(record, lock, folders
    created)``. If the lock is refused, folders this call created are removed again."""
    created = make_folder(root)
    try:
        fd = lock_folder(root, what)
    except BaseException:
        remove_if_empty(created)
        raise
    return Ownership.load(root), fd, created


@contextlib.contextmanager
def holding(root: Path, what: str) -> Iterator[Ownership]:
    """:func:`take_folder` for the duration of a block; on an error (a refusal), folders it
    created are removed again when still empty."""
    own, fd, created = take_folder(root, what)
    try:
        yield own
    except BaseException:
        remove_if_empty(created)
        raise
    finally:
        unlock_folder(fd)


def lock_folder(root: Path, what: str = "simsource run") -> int | None:
    """An exclusive lock on the folder ``root`` for this process (released by the OS if it
    dies); a :class:`UserError` if another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise UserError(f"{root}: in use by another {what}; wait for it to finish or use "
                        "another --out") from None
    return fd


def unlock_folder(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def make_folder(root: Path) -> list[Path]:
    """Create ``root`` and its missing parents; the folders created, outermost first (so a
    refused run can remove exactly those again)."""
    missing: list[Path] = []
    p = root
    while not p.exists() and not p.is_symlink() and p != p.parent:
        missing.append(p)
        p = p.parent
    if p.exists() and not p.is_dir():
        raise UserError(f"{root}: {p} is a file, not a folder; use another --out")
    root.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def remove_if_empty(created: list[Path]) -> None:
    """Undo :func:`make_folder` for folders still empty (innermost first)."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


def claim_files(folder: Path, *names: str, dry: bool = False) -> None:
    """Make ``folder`` and record ``names`` in it before they are written (``sensitivity`` and
    ``staff`` outputs): a user's file of the same name is refused, never replaced. ``dry``:
    only check, creating nothing (before long work, so a refusal comes first)."""
    if dry:
        own = Ownership.load(folder)
        for name in names:
            path = own.check_inside(name)
            if (path.exists() or path.is_symlink()) and not own.owns(name):
                raise UserError(f"{path}: exists and was not written by simsource; move it "
                                "away or use another --out")
        return
    make_folder(folder)
    Ownership.load(folder).claim(*names)


def claim_output(path: Path) -> None:
    """Before simsource writes a file of a results folder's own (a plot, the report): record it
    in that folder's record, refusing a user's existing file of the same name. Paths outside
    results folders (``-o`` elsewhere) are the user's choice and are not checked."""
    path = Path(path)
    for root in list(path.parents)[:2]:
        if is_results_folder(root):
            # lexical: a symlink on the way is caught by claim(), not followed out of the folder
            Ownership.load(root).claim(path.relative_to(root).as_posix())
            return
