"""Records from a hand-made CSV (hand searches, reference lists, sources with no export).

The header uses record column names. ``title`` is required; the optional columns are
listed in :data:`OPTIONAL_COLUMNS`. Any other column is an error, so a misspelt header
('abstact') stops the run instead of silently losing data. Line numbers count the
header as line 1.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ohevidence.cells import clean_text, join_multi, split_multi
from ohevidence.errors import InputError, require_columns
from ohevidence.ingest import reports_problems
from ohevidence.records import find_registry_ids, make_record
from ohevidence.text import normalise_author
from ohevidence.textfile import read_text

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "parse_csv"]

REQUIRED_COLUMNS: tuple[str, ...] = ("title",)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "source_id",
    "pmid",
    "doi",
    "abstract",
    "authors",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "publication_types",
    "mesh_terms",
    "keywords",
    "registry_ids",
    "language",
    "url",
)


def _check_header(header: list[str], path: Path) -> list[str]:
    columns = [clean_text(c) for c in header]
    allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise InputError(
            path,
            f"unknown column(s) {', '.join(repr(c) for c in unknown)}",
            line=1,
            expected=f"only {allowed}",
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise InputError(path, f"column(s) {', '.join(duplicated)} appear twice", line=1)
    require_columns(path, columns, REQUIRED_COLUMNS, expected=f"a header with {allowed}")
    return columns


def _registry_ids(fields: dict[str, str], title: str) -> str:
    """Normalise listed registrations (unknown registries kept as written) and add any in the text."""
    found: list[str] = []
    for part in split_multi(fields.get("registry_ids")):
        found.extend(find_registry_ids(part) or [part])
    found.extend(find_registry_ids(title, fields.get("abstract")))
    return join_multi(found)


@reports_problems
def parse_csv(path: str | Path, *, source: str, search_id: str) -> list[dict[str, str]]:
    """Records from a CSV with record-named columns; source_id falls back to PMID, DOI, then a hash."""
    path = Path(path)
    handle = io.StringIO(read_text(path), newline="")  # UTF-8/UTF-16 with BOM, or Windows-1252
    records: list[dict[str, str]] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(path, "file is empty", line=1, expected="a header row with at least 'title'")
            columns = _check_header(header, path)
            previous_end = reader.line_num
            for row in reader:
                line = previous_end + 1  # first physical line of this row (cells may span lines)
                previous_end = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    raise InputError(
                        path,
                        f"row has {len(row)} cells, header has {len(columns)}",
                        line=line,
                        expected="one cell per header column",
                    )
                fields = dict(zip(columns, row, strict=True))
                title = clean_text(fields.get("title"))
                if not title:
                    raise InputError(
                        path, "empty title", line=line, column="title", expected="a non-empty title"
                    )
                source_id = clean_text(fields.pop("source_id", ""))
                fields["registry_ids"] = _registry_ids(fields, title)
                if "authors" in fields:
                    fields["authors"] = join_multi(
                        normalise_author(a) for a in split_multi(fields["authors"])
                    )
                records.append(
                    make_record(source=source, search_id=search_id, source_id=source_id, line=line, **fields)
                )
        except csv.Error as exc:
            raise InputError(path, f"not valid CSV: {exc}", line=reader.line_num) from exc
    return records
