"""Errors that are the user's to fix (bad scenario, bad results folder, bad option)."""

from __future__ import annotations


class UserError(ValueError):
    """A problem in the user's input. Each problem is one line ``FILE: key: what is wrong``.

    The CLI prints each line and exits with code 2, without a traceback.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
