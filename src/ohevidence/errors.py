"""Exceptions raised by ohevidence.

Every problem with a user's input is reported as one :class:`InputError` that names
the file, the line (1-based, when known), the column or field, and what was
expected. The CLI prints it on one line and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path


class OhevidenceError(Exception):
    """Base class of every error ohevidence raises on purpose."""


class InputError(OhevidenceError):
    """Bad input: names the file, line, column/field and what was expected."""

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = str(file)
        self.line = line
        self.column = column
        self.expected = expected
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column!r}"
        text = f"{where}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class SchemaError(InputError):
    """A table does not match its data contract (see :mod:`ohevidence.schema`)."""


# Separators a spreadsheet may save a "CSV" with instead of commas (Excel in comma-decimal locales
# writes ';'), named as a person reads them.
OTHER_SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'"}


def wrong_separator(header: Sequence[str], expected: Sequence[str]) -> str | None:
    """The separator a header row was saved with when it is not ',' ("';'", "tabs"), else None.

    ``header`` is the header as read with commas: a ';'-separated file gives one cell (or a few,
    where a name holds a comma) whose text splits on ';' into names of ``expected``.
    """
    wanted = set(expected)
    if wanted & set(header):
        return None
    text = ",".join(header)
    for separator, name in OTHER_SEPARATORS.items():
        if wanted & {part.strip().strip('"') for part in text.split(separator)[:200]}:
            return name
    return None


def separator_message(separator: str) -> str:
    """One line for a table saved with the wrong separator."""
    return f"separated by {separator}, expected ','"


def require_columns(
    path: str | Path,
    header: Iterable[str],
    required: Sequence[str],
    *,
    expected: str | None = None,
    error: type[InputError] = InputError,
) -> None:
    """Raise ``error`` at line 1 of ``path`` naming every column of ``required`` missing from ``header``."""
    present = set(header)
    missing = [c for c in required if c not in present]
    separator = wrong_separator(list(header), required) if missing else None
    if separator:
        raise error(path, separator_message(separator), line=1)
    if missing:
        raise error(
            path,
            f"missing column(s) {', '.join(missing)}",
            line=1,
            expected=expected or "a header with " + ",".join(required),
        )


def ragged_row(
    path: str | Path,
    line: int,
    fields: int,
    header: int,
    *,
    cut: bool = False,
    error: type[InputError] = InputError,
) -> InputError:
    """The error for a CSV row with more or fewer fields than its header.

    ``cut``: the row is the file's last and the file does not end with a line break, the mark of
    a file whose writing stopped (a killed process, a full disk).
    """
    message = f"row has {fields} field(s) but the header has {header}"
    if cut:
        message += "; the file ends in the middle of this row (cut short while being written?)"
    return error(path, message, line=line, expected=f"{header} comma-separated fields on every row")


class ConfigError(OhevidenceError):
    """The review configuration is invalid; the message names the key path."""
