"""Reading and writing tables against their contracts (:mod:`ohevidence.schema`).

A table read with :func:`read_table` is checked column by column (required cells, patterns, unique
ids): a malformed file stops the stage with one error naming file, line and column. A table written
with :func:`write_table` is checked first, then written through :mod:`ohevidence.csvio` (formula cells
quoted for spreadsheets, except in machine tables).
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from ohevidence.csvio import unneutralise_frame, write_csv
from ohevidence.errors import SchemaError, ragged_row, require_columns
from ohevidence.schema import (
    EFFECT_COLUMNS,
    META_RESULT_COLUMNS,
    SENSITIVITY_COLUMNS,
    Column,
    names,
)
from ohevidence.textfile import read_text

# an abstract or a notes cell may exceed the csv module's default limit of 131,072 characters
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def read_table(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """Read a CSV as strings (formula quoting undone: :func:`ohevidence.csvio.unneutralise`) and check it.

    Every row must have as many fields as the header: a short or long row (a table cut while it
    was written, a stray comma) is a :class:`SchemaError` naming the file and the row's line, as is
    a quoted cell never closed.
    """
    frame = read_csv_table(path)
    check_table(frame, columns, path)
    return frame


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """A CSV as strings, formula quoting undone, every row as wide as the header; no contract check."""
    path = Path(path)
    text = read_text(path)  # UTF-8/UTF-16 with BOM, or Windows-1252 with a warning
    return unneutralise_frame(parse_csv(text, path))


# A line and its ending as io.StringIO(text, newline="") yields it: ends at '\n', '\r' or '\r\n'.
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one by one, as ``io.StringIO(text, newline="")`` gives them.

    StringIO keeps its own copy of the text at four bytes a character: 1.7 GB for a 400 MB
    records.csv, more than the table it becomes.
    """
    return (match.group() for match in _LINE.finditer(text))


def parse_csv(text: str, path: str | Path) -> pd.DataFrame:
    """The cells of a CSV text as a table of strings, every row checked for its number of fields.

    Blank lines are skipped; line numbers count the header as line 1 and follow cells that span
    several lines.
    """
    reader = csv.reader(_lines(text), strict=True)
    rows: list[list[str]] = []
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            if not row:  # a blank line
                start = reader.line_num + 1
                continue
            if header is None:
                header = row
            elif len(row) != len(header):
                cut = reader.line_num == text.count("\n") + 1 and not text.endswith(("\n", "\r"))
                raise ragged_row(path, start, len(row), len(header), cut=cut, error=SchemaError)
            else:
                rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):  # a quoted cell still open at the end of the file
            raise SchemaError(
                path,
                "the file ends inside a quoted cell (cut short while being written, or a '\"' never closed)",
                line=start,
                expected="every quoted cell closed",
            ) from exc
        raise SchemaError(
            path, f"cannot be read as CSV: {exc}", line=start, expected="cells quoted with '\"' and closed"
        ) from exc
    if header is None:
        raise SchemaError(path, "is empty", expected="a header row")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise SchemaError(
            path,
            f"column(s) {', '.join(repeated)} appear twice in the header",
            line=1,
            expected="unique names",
        )
    return pd.DataFrame(rows, columns=header, dtype=str)


def check_table(frame: pd.DataFrame, columns: Sequence[Column], path: str | Path) -> None:
    """Raise :class:`SchemaError` at the first missing column, empty required cell or bad value.

    Line numbers count the header as line 1, as a spreadsheet does.
    """
    expected = names(columns)
    require_columns(path, frame.columns, expected, expected="header " + ",".join(expected), error=SchemaError)
    for column in columns:
        values = frame[column.name].fillna("").astype(str)
        if column.required:
            empty = values.str.strip() == ""
            if empty.any():
                index = int(empty.to_numpy().nonzero()[0][0])
                raise SchemaError(
                    path, "empty value", line=index + 2, column=column.name, expected="a non-empty value"
                )
        if column.pattern:
            pattern = re.compile(column.pattern)
            for index, value in enumerate(values):
                if value and not pattern.fullmatch(value):
                    raise SchemaError(
                        path,
                        f"bad value {value!r}",
                        line=index + 2,
                        column=column.name,
                        expected=f"a value matching {column.pattern}",
                    )
    for column in columns:
        if not column.unique:
            continue
        duplicated = frame[column.name].duplicated()
        if duplicated.any():
            index = int(duplicated.to_numpy().nonzero()[0][0])
            raise SchemaError(
                path,
                f"{column.name} {frame[column.name].iloc[index]!r} appears twice",
                line=index + 2,
                column=column.name,
                expected=f"unique {column.name} values",
            )


def is_machine_table(columns: Sequence[Column]) -> bool:
    """Whether a contract is a machine table, written without the spreadsheet formula quote.

    results/extraction/effects.csv, results/meta/<analysis>.csv and results/meta/sensitivity/<analysis>.csv
    are read by the pipeline itself and by analysis software; their text is the engine's own
    (derivations, published estimates such as '-7 [-16, 1]'), which a quote would corrupt for every
    reader that does not undo it.
    """
    return any(columns is machine for machine in (EFFECT_COLUMNS, META_RESULT_COLUMNS, SENSITIVITY_COLUMNS))


def write_table(frame: pd.DataFrame, path: str | Path, columns: Sequence[Column]) -> None:
    """Check, then write UTF-8 CSV with exactly the contract's columns in order, formula cells quoted
    (except in machine tables: :func:`is_machine_table`)."""
    path = Path(path)
    check_table(frame, columns, path)
    write_csv(frame, path, names(columns), formula_guard=not is_machine_table(columns))
