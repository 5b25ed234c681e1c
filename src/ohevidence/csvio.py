"""The one CSV writer (and its inverse on read) for every table the pipeline writes.

Formula injection (OWASP "CSV injection"): a spreadsheet runs any cell that starts with
``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula, e.g. a record titled
``=HYPERLINK("http://x","y")``. Titles, abstracts, author lists and curated notes come from
outside, and reviewers open the results CSVs (records, dedup pairs, worklists, tables) in
Excel or LibreOffice, so every CSV is written through :func:`write_csv`.

The rule (:func:`neutralise`):

* a text cell that starts with one of :data:`FORMULA_TRIGGERS` gets a leading single quote
  (``'=HYPERLINK(...)``), which Excel and LibreOffice show as text;
* a cell that is a plain number (:data:`PLAIN_NUMBER`: ``-0.52``, ``+3``, ``-1.5e-05``) is left
  alone, so log ratios and confidence limits stay numeric; so are non-text cells (floats, ints);
* a text cell that starts with quotes followed by something this rule would quote
  (``'=x``, ``''-y``) gets one more quote, so the rule can be undone exactly.

The pipeline reads its own tables back (``records.csv`` -> dedupe -> screening -> extraction),
so its readers call :func:`unneutralise`, the exact inverse: a title ``-Fatigue`` or
``=x`` goes through every stage unchanged and is quoted again in each file written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ohevidence.atomic import atomic_write

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")
# NUL, the other C0 controls but tab, line feed and carriage return, DEL and the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """``text`` without NUL, other C0 control characters, DEL or C1 controls.

    Tab, line feed and carriage return are kept (:func:`ohevidence.cells.clean_text` turns them
    into spaces where a value is one line); a control that is whitespace (vertical tab, form
    feed, the information separators, NEL) becomes a space, any other is removed. Records are
    cleaned once at import (:func:`ohevidence.records.make_record`, with a count); every CSV
    cell is cleaned again on the way out (:func:`neutralise`), whatever table it came from.
    """
    return CONTROL_CHARACTERS.sub(lambda m: " " if m.group().isspace() else "", text)


def _needs_quote(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula, or unquoting would change it."""
    stripped = text.lstrip(QUOTE)
    return stripped.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(stripped)


def neutralise(value: object) -> str:
    """The cell as text that no spreadsheet will evaluate, without control characters."""
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    text = strip_controls(text)
    return QUOTE + text if _needs_quote(text) else text


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise`: ``unneutralise(neutralise(x)) == str(x)`` for every text ``x``
    without control characters (those are removed on the way out, not restored)."""
    if text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text


def unneutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`unneutralise` every string cell of a table read with ``dtype=str``."""
    if not len(frame):
        return frame
    frame = frame.copy()
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        # only a cell starting with a quote can change: look at those alone (millions of cells)
        if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
            quoted = column.str.startswith(QUOTE).fillna(False).to_numpy(bool)
        else:
            quoted = column.map(lambda cell: isinstance(cell, str) and cell.startswith(QUOTE)).to_numpy(bool)
        if quoted.any():
            values = column.to_numpy(dtype=object, copy=True)
            values[quoted] = [unneutralise(cell) for cell in values[quoted]]
            frame.isetitem(position, pd.Series(values, index=frame.index, dtype=column.dtype))
    return frame


def _safe_cell(cell: object) -> object:
    return neutralise(cell) if isinstance(cell, str) else cell


def _plain_cell(cell: object) -> object:
    return strip_controls(cell) if isinstance(cell, str) else cell


def write_csv(
    frame: pd.DataFrame,
    path: str | Path,
    columns: Sequence[str] | None = None,
    *,
    bom: bool = False,
    formula_guard: bool = True,
) -> None:
    """Write ``columns`` of ``frame`` (default: all) as UTF-8 CSV, every text cell neutralised.

    ``bom=True`` writes UTF-8 with a byte-order mark, which Excel needs to detect UTF-8 (used for
    the screening sheets reviewers fill in). Non-text cells (numbers) are written as pandas
    formats them; text cells go through :func:`neutralise`. ``formula_guard=False`` writes a
    machine table (read as data, not opened as a sheet): control characters are still removed,
    but no cell gets the leading quote. The file is written atomically
    (:func:`ohevidence.atomic.atomic_write`).
    """
    table = frame.loc[:, list(columns)] if columns is not None else frame
    cell = _safe_cell if formula_guard else _plain_cell
    safe = table.map(cell) if len(table) else table
    # whole or not at all: a kill or a full disk never leaves a cut table under its name
    with atomic_write(path, encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        safe.to_csv(handle, index=False)
