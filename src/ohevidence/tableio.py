"""Reading and writing tables against their contracts (:mod:`ohevidence.schema`).

A table read with :func:`read_table` is checked column by column (required cells, patterns, unique
ids): a malformed file stops the stage with one error naming file, line and column. A table written
with :func:`write_table` is checked first, then written through :mod:`ohevidence.csvio` (formula cells
quoted for spreadsheets, except in machine tables).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ohevidence.csvio import unneutralise_frame, write_csv
from ohevidence.errors import SchemaError, require_columns
from ohevidence.schema import (
    EFFECT_COLUMNS,
    META_RESULT_COLUMNS,
    SENSITIVITY_COLUMNS,
    Column,
    names,
)
from ohevidence.textfile import read_text


def read_table(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """Read a CSV as strings (formula quoting undone: :func:`ohevidence.csvio.unneutralise`) and check it."""
    path = Path(path)
    text = read_text(path)  # UTF-8/UTF-16 with BOM, or Windows-1252 with a warning
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(path, "is empty", expected="a header row") from exc
    except pd.errors.ParserError as exc:
        raise SchemaError(path, f"cannot be read as CSV: {exc}") from exc
    frame = unneutralise_frame(frame)
    check_table(frame, columns, path)
    return frame


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
