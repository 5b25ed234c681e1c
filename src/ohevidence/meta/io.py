"""Reading effect tables for pooling and writing results as JSON: the I/O edge of the meta stage."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ohevidence.csvio import unneutralise
from ohevidence.errors import InputError, require_columns
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


def _number(path: Path, line: int, column: str, text: str, *, positive: bool = False) -> float:
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
            ys.append(_number(path, line, yi, (row[yi] or "").strip()))
            vs.append(_number(path, line, vi, (row[vi] or "").strip(), positive=True))
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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
