"""Single output files (``simsource trace --out FILE.parquet``, ``simsource animate -o
FILE.html``): checked before any work, replaced only when simsource wrote them.

A results folder knows what simsource wrote by its record (:mod:`simsource.experiment.ownership`);
a single file carries the mark itself — the Parquet file's key-value metadata, the HTML file's
``<meta name="generator" content="simsource …">`` — and :func:`claim_file` reads that mark before
it lets a command replace the file. A file without it is the user's and is never overwritten. A
file inside a results folder is also recorded in that folder's record (``claim_output``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from simsource.errors import UserError
from simsource.experiment.folders import claim_output


def check_file(path: Path, suffixes: Sequence[str], option: str, what: str) -> None:
    """``path`` names a file of one of ``suffixes`` whose folder is (or can be) a folder."""
    text = str(path)
    if not text.strip():
        raise UserError(f"{option}: empty file name; name the {what} file, e.g. "
                        f"out{suffixes[0]}")
    if "\x00" in text:
        raise UserError(f"{option}: a file name cannot hold a NUL character")
    if path.suffix.lower() not in suffixes:
        raise UserError(f"{path}: {option} writes {what}; use a {' or '.join(suffixes)} file name")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; {option} names the {what} file to write")
    for p in path.parents:
        if p.exists() and not p.is_dir():
            raise UserError(f"{p}: is a file, not a folder ({option} {path})")


def claim_file(path: Path, suffixes: Sequence[str], option: str, what: str,
               ours: Callable[[Path], bool]) -> None:
    """Check ``path`` before the work starts: a file name of the right kind, and — if it exists
    — a file simsource wrote (``ours(path)``); then record it in its results folder, if any,
    and create its folder."""
    path = Path(path)
    check_file(path, suffixes, option, what)
    if (path.exists() or path.is_symlink()) and not (path.is_file() and ours(path)):
        raise UserError(f"{path}: exists and was not written by simsource; move it or choose "
                        "another name (simsource never overwrites a file it did not write)")
    claim_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def html_is_ours(path: Path, marker: str) -> bool:
    """True when the first kilobytes of ``path`` hold ``marker`` (our generator tag)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    return marker.encode("utf-8") in head
