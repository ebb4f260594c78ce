"""Errors that reach the user as one clear message (the CLI prints them without a traceback)."""

from __future__ import annotations

from pathlib import Path


class EmigreError(Exception):
    """Base class of every error emigre reports to a user."""


class InputError(EmigreError):
    """Bad input: names the file, the line (1-based, as an editor shows it), the column and what was expected."""

    def __init__(
        self,
        file: str | Path | None,
        message: str,
        *,
        line: int | None = None,
        column: str | int | None = None,
        expected: str | None = None,
        got: object = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.expected = expected
        self.got = got
        self.detail = message
        where = self.file or "<input>"
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!s}"
        text = f"{where}: {message}"
        if expected is not None:
            text += f" (expected {expected}"
            text += f", got {got!r})" if got is not None else ")"
        elif got is not None:
            text += f" (got {got!r})"
        super().__init__(text)


class ScenarioError(EmigreError):
    """A scenario that is internally inconsistent (unknown names, broken references)."""
