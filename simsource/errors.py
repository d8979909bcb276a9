"""Errors that are the user's to fix (bad scenario, bad results folder, bad option, full disk).

The command line maps them to exit code 2 with one line per problem; everything else is a bug
(exit 1).
"""

from __future__ import annotations

import errno


class UserError(ValueError):
    """A problem in the user's input. Each problem is one line ``FILE: key: what is wrong``.

    The CLI prints each line and exits with code 2, without a traceback.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


#: errno values that describe the user's machine, not a bug: read-only or full disks, missing
#: permissions, a file where a folder should be, names the file system refuses, ...
ENVIRONMENT_ERRNOS: frozenset[int] = frozenset(
    getattr(errno, name) for name in (
        "EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENOTDIR", "EISDIR", "EEXIST",
        "ENAMETOOLONG", "ENOENT", "EFBIG", "EMFILE", "ENFILE", "ELOOP", "EXDEV", "EBUSY",
        "ETXTBSY", "ENOTEMPTY", "EIO", "ESTALE", "ENODEV", "ENXIO",
    ) if hasattr(errno, name)
)

_CAUSES = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the disk",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
}


def environment_problem(exc: BaseException) -> str | None:
    """One line for an operating-system error caused by the user's environment (a read-only
    folder, a full disk, ``--out file/sub`` …), or None when ``exc`` is not one."""
    if not isinstance(exc, OSError) or exc.errno not in ENVIRONMENT_ERRNOS:
        return None
    cause = _CAUSES.get(exc.errno) or exc.strerror or type(exc).__name__
    where = exc.filename if exc.filename is not None else None
    if where is None:
        return f"{cause} (errno {errno.errorcode.get(exc.errno, exc.errno)})"
    also = f" -> {exc.filename2}" if exc.filename2 is not None else ""
    return f"{where}{also}: {cause}"
