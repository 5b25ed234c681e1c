"""One entry point for every retrieved or imported file: pick the parser, keep ids unique."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ohevidence.errors import InputError
from ohevidence.records import make_record_id
from ohevidence.search.crossref import parse_crossref_json
from ohevidence.search.csv_import import parse_csv
from ohevidence.search.medline import parse_medline
from ohevidence.search.pubmed import parse_pubmed_xml
from ohevidence.search.ris import parse_ris

__all__ = ["EXTENSIONS", "PARSERS", "detect_format", "parse_file"]

Parser = Callable[..., list[dict[str, str]]]

PARSERS: dict[str, Parser] = {
    "pubmed_xml": parse_pubmed_xml,
    "nbib": parse_medline,
    "crossref_json": parse_crossref_json,
    "ris": parse_ris,
    "csv": parse_csv,
}

EXTENSIONS: dict[str, str] = {
    ".xml": "pubmed_xml",
    ".nbib": "nbib",
    ".txt": "nbib",
    ".medline": "nbib",
    ".json": "crossref_json",
    ".ris": "ris",
    ".csv": "csv",
}


def detect_format(path: str | Path) -> str:
    """Format name from the file extension (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    try:
        return EXTENSIONS[suffix]
    except KeyError:
        raise InputError(
            path,
            f"cannot tell the format from extension {suffix or '(none)'!r}",
            expected="one of " + ", ".join(sorted(EXTENSIONS)) + " or an explicit format",
        ) from None


def parse_file(path: str | Path, *, fmt: str | None, source: str, search_id: str) -> list[dict[str, str]]:
    """Parse one file into records whose ids are unique within it.

    ``fmt=None`` detects the format from the extension. When an export lists the same
    source id twice, later occurrences get '~2', '~3' ... in file order, so record ids
    stay unique and stable between runs on the same file.
    """
    name = fmt or detect_format(path)
    if name not in PARSERS:
        raise InputError(path, f"unknown format {name!r}", expected="one of " + ", ".join(PARSERS))
    records = PARSERS[name](path, source=source, search_id=search_id)
    seen: Counter[str] = Counter()
    taken = {r["source_id"] for r in records}
    for record in records:
        base = record["source_id"]
        seen[base] += 1
        if seen[base] == 1:
            continue
        n = seen[base]
        while f"{base}~{n}" in taken:
            n += 1
        record["source_id"] = f"{base}~{n}"
        taken.add(record["source_id"])
        record["record_id"] = make_record_id(search_id, record["source_id"])
    return records
