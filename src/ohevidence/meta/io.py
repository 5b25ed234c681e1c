"""Reading effect tables for pooling and writing results as JSON: the I/O edge of the meta stage."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ohevidence.atomic import write_json_atomic
from ohevidence.csvio import unneutralise
from ohevidence.errors import InputError, ragged_row, require_columns
from ohevidence.meta.subgroup import SubgroupResult
from ohevidence.textfile import read_text


@dataclass(frozen=True)
class EffectRows:
    """Studies to pool, with the CSV line each came from (for error messages)."""

    labels: list[str]
    yi: np.ndarray
    vi: np.ndarray
    groups: list[str] | None
    lines: list[int]
    clusters: list[str] | None = None


def parse_number(
    path: str | Path, line: int | None, column: str, text: str, *, positive: bool = False
) -> float:
    """The number in one CSV cell: the meta stage's one number parser.

    Not a number, not finite (or, with ``positive``, not > 0: a sampling variance) is one
    :class:`InputError` naming file, line and column.
    """
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            path, f"{text!r} is not a number", line=line, column=column, expected="a number"
        ) from None
    if not math.isfinite(value):
        raise InputError(
            path, f"{text!r} is not finite", line=line, column=column, expected="a finite number"
        )
    if positive and value <= 0:
        raise InputError(
            path,
            f"{text!r}: a sampling variance must be positive",
            line=line,
            column=column,
            expected="vi > 0",
        )
    return value


@dataclass(frozen=True)
class CsvRow:
    """One row of a CSV table with where it came from, so a bad cell names file, line and column."""

    file: Path
    line: int
    cells: dict[str, str]

    def text(self, column: str) -> str:
        """The stripped text of ``column`` ('' when empty or absent)."""
        return (self.cells.get(column) or "").strip()

    def number(self, column: str) -> float | None:
        """The number in ``column`` (None when empty; :func:`parse_number` otherwise)."""
        text = self.text(column)
        return parse_number(self.file, self.line, column, text) if text else None


class CsvRecord(dict[str, str]):
    """A CSV row as a dict of stripped text that knows its file and line (for :func:`cell_number`)."""

    file: str | Path = "<table>"
    line: int | None = None


def cell_number(row: Mapping[str, str], column: str) -> float | None:
    """The number in ``row[column]`` (None when empty); a bad cell names file, line and column."""
    text = (row.get(column) or "").strip()
    if not text:
        return None
    line: int | None = getattr(row, "line", None)
    return parse_number(getattr(row, "file", "<table>"), line, column, text)


def _check_width(path: Path, line: int, header: Sequence[str], cells: Mapping[str | None, Any]) -> None:
    """A row of a DictReader with fields beyond the header (key None) or missing (value None) is an error."""
    extra = cells.get(None)
    missing = sum(1 for key, value in cells.items() if key is not None and value is None)
    if extra or missing:
        fields = len(header) + len(extra or ()) - missing
        raise ragged_row(path, line, fields, len(header))


def read_csv_rows(path: str | Path) -> list[CsvRecord]:
    """A CSV as a list of dicts of stripped strings (UTF-8, BOM tolerated, formula quoting undone)."""
    path = Path(path)
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            start = 2
            for cells in reader:
                _check_width(path, start, reader.fieldnames or [], cells)
                row = CsvRecord({k: unneutralise(v or "").strip() for k, v in cells.items() if k is not None})
                row.file, row.line = path, start
                rows.append(row)
                start = reader.line_num + 1
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from exc
    return rows


def read_rows(path: str | Path, required: Sequence[str] = ()) -> list[CsvRow]:
    """Every row of a CSV (UTF-8/UTF-16 with BOM, or Windows-1252), its header checked for ``required``.

    Cells are taken as written (curated tables are human input; effects.csv is a machine table).
    """
    path = Path(path)
    handle = io.StringIO(read_text(path), newline="")
    rows = []
    with handle:
        reader = csv.DictReader(handle)
        require_columns(path, reader.fieldnames or [], list(required))
        start = 2
        for cells in reader:
            _check_width(path, start, reader.fieldnames or [], cells)
            rows.append(CsvRow(path, start, cells))
            start = reader.line_num + 1
    return rows


def _label(path: Path, line: int, row: Mapping[str, Any], column: str, what: str, expected: str) -> str:
    """The row's non-empty text in ``column`` (a study, subgroup or cluster label); else one InputError."""
    text = (row[column] or "").strip()
    if not text:
        raise InputError(path, f"empty {what}", line=line, column=column, expected=expected)
    return text


def read_effects_csv(
    path: str | Path,
    *,
    study: str = "study",
    yi: str = "yi",
    vi: str = "vi",
    by: str | None = None,
    cluster: str | None = None,
) -> EffectRows:
    """Read ``study, yi, vi`` (and grouping/cluster columns) from a CSV; bad cells name file, line, column.

    ``cluster`` names the column whose rows share a cluster (several effects of one study, for the
    three-level model); it may be ``study`` itself.
    """
    path = Path(path)
    handle = io.StringIO(read_text(path), newline="")  # UTF-8/UTF-16 with BOM, or Windows-1252
    labels, ys, vs, groups, lines, clusters = [], [], [], [], [], []
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        extra = ([by] if by else []) + ([cluster] if cluster else [])
        required = list(dict.fromkeys([study, yi, vi, *extra]))
        require_columns(path, header, required)
        for raw in reader:
            line = reader.line_num
            row = {key: unneutralise(cell) if isinstance(cell, str) else cell for key, cell in raw.items()}
            if not any((value or "").strip() for value in row.values()):
                continue
            labels.append(_label(path, line, row, study, "study label", "a study name"))
            ys.append(parse_number(path, line, yi, (row[yi] or "").strip()))
            vs.append(parse_number(path, line, vi, (row[vi] or "").strip(), positive=True))
            if by:
                groups.append(_label(path, line, row, by, "subgroup", "a subgroup label"))
            if cluster:
                clusters.append(_label(path, line, row, cluster, "cluster", "a cluster (study) label"))
            lines.append(line)
    if not labels:
        raise InputError(path, "no studies", line=2, expected="at least one data row")
    return EffectRows(
        labels, np.array(ys), np.array(vs), groups if by else None, lines, clusters if cluster else None
    )


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf to null, numpy scalars to Python."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def pool_json(result: SubgroupResult, warnings: Sequence[str], *, with_groups: bool) -> dict[str, Any]:
    """The `meta pool` JSON: the overall model's keys, plus `groups` and `subgroup_test` with --by.

    `warnings` (single studies not pooled, τ² not converged, HKSJ floor used) is the one key added
    to the contract: nothing the reader must know is left to the log.
    """
    out: dict[str, Any] = result.overall.to_dict()
    if with_groups:
        out["groups"] = {name: model.to_dict() for name, model in result.groups.items()}
        out["subgroup_test"] = result.test.to_dict() if result.test is not None else None
    out["warnings"] = list(warnings)
    return clean(out)


def write_json(data: Any, path: str | Path) -> None:
    write_json_atomic(path, clean(data))


def csv_cell(value: Any) -> str:
    """CSV text of a result value: empty for unknown (None, NaN), booleans as true/false, floats in full."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def text_frame(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Result rows as a table of text in ``columns`` order (:func:`csv_cell`; a missing key is empty)."""
    return pd.DataFrame(
        [{c: csv_cell(r.get(c)) for c in columns} for r in records], columns=list(columns), dtype="string"
    ).fillna("")


def study_label(study_id: str, studies: Mapping[str, Mapping[str, str]]) -> str:
    """'SWAP (Wynne-Jones 2018)' or 'Lambeek 2010' as a report names a study; the id when unknown."""
    row = studies.get(study_id)
    if not row:
        return study_id
    author = (row.get("first_author") or "").split(" ")[0] if row.get("first_author") else ""
    if row.get("first_author"):
        # 'de Boer AGEM' -> 'de Boer': drop the trailing initials only
        words = row["first_author"].split()
        author = " ".join(words[:-1]) if len(words) > 1 and words[-1].isupper() else row["first_author"]
    cite = " ".join(part for part in (author, row.get("year", "")) if part)
    acronym = row.get("acronym", "")
    if acronym and cite:
        return f"{acronym} ({cite})"
    return acronym or cite or study_id
