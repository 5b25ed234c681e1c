"""File searches (snapshot and imports), the PRISMA-S search log, and merging all searches.

Every search, however it ran, ends as a directory ``results/search/<search_id>/`` with
``records.csv`` (record schema) and ``search.json`` (its search-log row). ``merge_searches``
joins them into ``results/records/records.csv`` and ``results/search/search_log.csv`` and
checks that the counts reconcile.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence.atomic import write_json_atomic
from ohevidence.cells import MULTI_SEP
from ohevidence.config import DEFAULT_SCHEMA, best_error, describe, key_path, schema_validator
from ohevidence.errors import InputError, SchemaError
from ohevidence.records import records_frame
from ohevidence.schema import RECORD_COLUMNS, SEARCH_LOG_COLUMNS, SEARCH_LOG_FIELDS
from ohevidence.search.formats import detect_format, parse_file
from ohevidence.tableio import check_table, read_table, write_table
from ohevidence.textfile import check_in_project
from ohevidence.yamlio import load_yaml

MODES = ("live", "snapshot", "import")
# Schema of the snapshot manifest, beside the config schema (workflow/schemas/).
MANIFEST_SCHEMA_NAME = "searches.schema.yaml"


@dataclass(frozen=True)
class FileSearch:
    """A search whose results arrive as a file: a snapshot search or an import."""

    search_id: str
    source: str
    file: str
    run_at: str
    platform: str
    format: str = "auto"
    query: str = ""
    filters: str = ""
    n_hits: int | None = None

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any]) -> FileSearch:
        fields = {k: entry[k] for k in cls.__dataclass_fields__ if k in entry and entry[k] is not None}
        return cls(**fields)

    def resolved_format(self) -> str:
        return detect_format(self.file) if self.format == "auto" else self.format


def load_manifest(path: str | Path, schema_path: str | Path = DEFAULT_SCHEMA) -> list[FileSearch]:
    """Read and validate a snapshot manifest (``searches:`` list with the keys of a config import).

    ``schema_path`` is the config schema; the manifest's schema (:data:`MANIFEST_SCHEMA_NAME`) lies
    beside it and refers to its ``file_search``. The workflow (common.smk) loads the manifest with
    this function too, so a bad value stops Snakemake and ``ohevidence validate`` with one message.
    """
    path = Path(path)
    try:
        manifest = load_yaml(path) or {}  # YamlError (an InputError): invalid, duplicate key, alias bomb
    except FileNotFoundError as exc:
        raise InputError(path, "snapshot manifest not found") from exc
    entries = manifest.get("searches") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(path, "no searches listed", expected="a top-level 'searches:' list")
    validator = schema_validator(Path(schema_path).with_name(MANIFEST_SCHEMA_NAME))
    error = best_error(validator, manifest)
    if error is not None:
        raise InputError(path, describe(error), column=key_path(error))
    searches = [FileSearch.from_mapping(entry) for entry in entries]
    ids = [s.search_id for s in searches]
    for search_id in ids:
        if ids.count(search_id) > 1:
            raise InputError(path, f"search_id {search_id!r} listed twice", expected="unique search ids")
    return searches


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def log_row(
    *,
    search_id: str,
    source: str,
    platform: str,
    query: str,
    filters: str,
    run_at: str,
    mode: str,
    n_hits: int | None,
    n_retrieved: int,
    files: Sequence[str | Path],
) -> dict[str, str]:
    """One PRISMA-S search-log row; files are hashed so a changed export is visible."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    return {
        "search_id": search_id,
        "source": source,
        "platform": platform,
        "query": query,
        "filters": filters,
        "run_at": run_at,
        "mode": mode,
        "n_hits": "" if n_hits is None else str(n_hits),
        "n_retrieved": str(n_retrieved),
        "file": MULTI_SEP.join(str(f) for f in files),
        "sha256": MULTI_SEP.join(sha256_of(f) for f in files),
    }


def write_search_result(records: pd.DataFrame, row: Mapping[str, str], out_dir: str | Path) -> None:
    """Write ``records.csv`` and ``search.json`` for one search."""
    out_dir = Path(out_dir)
    check_table(pd.DataFrame([row], columns=SEARCH_LOG_FIELDS), SEARCH_LOG_COLUMNS, out_dir / "search.json")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_table(records, out_dir / "records.csv", RECORD_COLUMNS)
    write_json_atomic(out_dir / "search.json", dict(row))


def run_file_search(search: FileSearch, *, mode: str, out_dir: str | Path) -> dict[str, str]:
    """Parse a snapshot or import file into ``out_dir``; return its search-log row."""
    if mode not in ("snapshot", "import"):
        raise ValueError("file searches run in snapshot or import mode")
    path = Path(search.file)
    if not path.exists():
        raise InputError(path, f"file of search {search.search_id!r} not found")
    check_in_project(path)  # XML and JSON exports are read as bytes by their parsers
    rows = parse_file(path, fmt=search.resolved_format(), source=search.source, search_id=search.search_id)
    records = records_frame(rows)
    if search.n_hits is not None and search.n_hits != len(records):
        # An export that holds fewer records than the database reported is a broken
        # download or a truncated export: PRISMA counts must not start from it.
        raise InputError(
            path,
            f"holds {len(records)} records but the search reported {search.n_hits} hits",
            expected="n_hits equal to the number of records in the file (or n_hits left empty)",
        )
    row = log_row(
        search_id=search.search_id,
        source=search.source,
        platform=search.platform,
        query=search.query,
        filters=search.filters,
        run_at=search.run_at,
        mode=mode,
        n_hits=search.n_hits,
        n_retrieved=len(records),
        files=[path],
    )
    write_search_result(records, row, out_dir)
    return row


def read_log_row(path: str | Path) -> dict[str, str]:
    """A search's ``search.json``, checked against the search-log contract (:data:`SEARCH_LOG_COLUMNS`)."""
    path = Path(path)
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(path, "search log row missing") from exc
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(row, dict):
        raise SchemaError(path, f"holds a JSON {type(row).__name__}", expected="a search-log row (an object)")
    missing = [f for f in SEARCH_LOG_FIELDS if f not in row]
    if missing:
        raise InputError(path, f"missing key(s) {', '.join(missing)}", expected="a search-log row")
    checked = {k: str(row[k]) for k in SEARCH_LOG_FIELDS}
    for column in SEARCH_LOG_COLUMNS:
        value = checked[column.name]
        if column.required and not value.strip():
            raise SchemaError(path, "empty value", column=column.name, expected="a non-empty value")
        if value and column.pattern and not re.fullmatch(column.pattern, value):
            raise SchemaError(
                path,
                f"bad value {value!r}",
                column=column.name,
                expected=f"a value matching {column.pattern}",
            )
    return checked


def read_search_dir(search_dir: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Records and log row of one search directory, checked against each other."""
    search_dir = Path(search_dir)
    if not search_dir.is_dir():  # e.g. results/search/search_log.csv caught by a glob
        raise InputError(search_dir, "not a search folder (results/search/<search_id>/)")
    log_path = search_dir / "search.json"
    row = read_log_row(log_path)
    records = read_table(search_dir / "records.csv", RECORD_COLUMNS)
    if str(len(records)) != str(row["n_retrieved"]):
        raise InputError(
            search_dir / "records.csv",
            f"holds {len(records)} records but search.json says n_retrieved={row['n_retrieved']}",
        )
    foreign = records["search_id"] != row["search_id"]
    if foreign.any():
        index = int(foreign.to_numpy().nonzero()[0][0])
        raise InputError(
            search_dir / "records.csv",
            f"record of search {records['search_id'].iloc[index]!r} in the folder of {row['search_id']!r}",
            line=index + 2,
            column="search_id",
        )
    return records, row


def merge_searches(
    search_dirs: Sequence[str | Path], *, records_out: str | Path, log_out: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join every search's records and log rows; counts must reconcile.

    No searches (a new review before its first import) give an empty table and an empty log.
    """
    frames: list[pd.DataFrame] = []
    rows: list[dict[str, str]] = []
    for search_dir in search_dirs:
        records, row = read_search_dir(search_dir)
        if any(r["search_id"] == row["search_id"] for r in rows):
            raise InputError(Path(search_dir) / "search.json", f"search_id {row['search_id']!r} given twice")
        frames.append(records)
        rows.append(row)
    records = pd.concat(frames, ignore_index=True) if frames else records_frame([])
    log = pd.DataFrame(rows, columns=SEARCH_LOG_FIELDS)
    total = sum(int(r["n_retrieved"]) for r in rows)
    if total != len(records):  # pragma: no cover - guaranteed by read_search_dir
        raise AssertionError("search log and records disagree")
    write_table(records, records_out, RECORD_COLUMNS)
    write_table(log, log_out, SEARCH_LOG_COLUMNS)
    return records, log
