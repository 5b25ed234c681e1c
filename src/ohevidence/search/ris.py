"""RIS exports (Embase/Ovid, Cochrane Library, EndNote, Zotero ...) to records, via rispy.

Also reads Web of Science "tagged" exports (``FN``/``PT`` ... ``ER``), which are often
saved with a ``.ris`` extension. Before rispy sees the text, tag lines are normalised
(``DOI - `` -> ``DO  - ``, one-space separators) and the record structure is checked, so a
record without ``TY`` or ``ER`` is reported with its line number rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import rispy

from ohevidence.cells import clean_text, join_multi
from ohevidence.errors import InputError
from ohevidence.ingest import reports_problems
from ohevidence.records import content_hash, find_registry_ids, make_record
from ohevidence.text import first_year, normalise_author, split_lines
from ohevidence.textfile import read_decoded

__all__ = ["TYPE_LABELS", "parse_ris"]

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9]|DOI)[ \t]{1,2}-(?:[ \t]+(.*))?$")
_WOS_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
_TAG_ALIASES = {"DOI": "DO"}

#: RIS reference types as readable publication types (PubMed vocabulary where there is one).
TYPE_LABELS = {
    "JOUR": "Journal Article",
    "EJOUR": "Journal Article",
    "JFULL": "Journal Article",
    "MGZN": "Magazine Article",
    "CONF": "Conference Abstract",
    "ABST": "Conference Abstract",
    "CPAPER": "Conference Paper",
    "BOOK": "Book",
    "EBOOK": "Book",
    "EDBOOK": "Book",
    "CHAP": "Book Chapter",
    "ECHAP": "Book Chapter",
    "RPRT": "Report",
    "GOVDOC": "Government Document",
    "THES": "Thesis",
    "ELEC": "Web Page",
    "DBASE": "Database Record",
    "UNPB": "Unpublished Work",
    "INPR": "In Press",
    "GEN": "Generic",
}
_WOS_TYPES = {"J": "Journal Article", "B": "Book", "S": "Book Series", "P": "Patent", "C": "Conference Paper"}


class _SameName(dict[str, str]):
    """rispy mapping that keeps every tag under its own name (no tag is 'unknown')."""

    def __missing__(self, key: str) -> str:
        return key


def _values(record: Mapping[str, Any], *tags: str) -> list[str]:
    out: list[str] = []
    for tag in tags:
        value = record.get(tag)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        out.extend(v for v in (clean_text(i) for i in items) if v)
    return out


def _first(record: Mapping[str, Any], *tags: str) -> str:
    for tag in tags:
        values = _values(record, tag)
        if values:
            return " ".join(values) if tag in ("AB", "N2") else values[0]
    return ""


def _is_wos(lines: list[str]) -> bool:
    for line in lines:
        if line.strip():
            return line[:3] in ("FN ", "VR ", "PT ")
    return False


def _check_structure(
    lines: list[str], path: Path, *, start: str, tag_of: Any, encoding: str = "UTF-8"
) -> tuple[list[str], list[int]]:
    """Every record opens with ``start`` and closes with ``ER``; no fields outside records.

    Returns the lines inside records (export banners between records are dropped) and the
    line number where each record starts. ``encoding`` (how the file was decoded) is named
    when no record is found.
    """
    opened: int | None = None
    starts: list[int] = []
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        tag = tag_of(line)
        if opened is not None or tag == start:
            kept.append(line)
        if tag is None:
            continue
        if opened is None:
            if tag == start:
                opened = number
                starts.append(number)
            elif tag not in ("FN", "VR", "EF"):
                raise InputError(
                    path,
                    f"'{tag}' field outside a record",
                    line=number,
                    expected=f"each record to start with a '{start}' line",
                )
        elif tag == start:
            raise InputError(
                path,
                f"record starting at line {opened} is not closed",
                line=number,
                expected="an 'ER' line before the next record",
            )
        elif tag == "ER":
            opened = None
    if opened is not None:
        raise InputError(
            path, "last record is not closed (file truncated?)", line=opened, expected="an 'ER' line"
        )
    if not starts:
        raise InputError(
            path,
            f"no RIS records found (file read as {encoding})",
            line=1,
            expected=f"records starting with a '{start}' line in UTF-8, UTF-16 (with BOM) or Windows-1252",
        )
    return kept, starts


def _normalise_ris_lines(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        match = _RIS_TAG.match(line)
        if match:
            tag = _TAG_ALIASES.get(match.group(1), match.group(1))
            line = f"{tag}  - {match.group(2) or ''}".rstrip()
        out.append(line)
    return out


def _ris_tag(line: str) -> str | None:
    match = _RIS_TAG.match(line)
    return _TAG_ALIASES.get(match.group(1), match.group(1)) if match else None


def _wos_tag(line: str) -> str | None:
    match = _WOS_TAG.match(line)
    return match.group(1) if match else None


def _pages(start: str, end: str) -> str:
    if start and end and "-" not in start:
        return f"{start}-{end}"
    return start or end


def _ris_record(rec: Mapping[str, Any], *, source: str, search_id: str, line: int) -> dict[str, str]:
    title = _first(rec, "TI", "T1", "BT", "CT")
    abstract = _first(rec, "AB", "N2")
    notes = _values(rec, "N1", "M1")
    authors = join_multi(normalise_author(a) for a in _values(rec, "AU", "A1"))
    year = first_year(_first(rec, "PY"), _first(rec, "Y1"), _first(rec, "DA"))
    accession = _first(rec, "AN", "ID")
    database = " ".join(_values(rec, "DB", "DP")).lower()
    pmid = (
        accession if accession.isdigit() and any(k in database for k in ("pubmed", "medline", "nlm")) else ""
    )
    urls = _values(rec, "UR")
    doi = _first(rec, "DO") or next((u for u in urls if "doi.org/" in u), "")
    kind = _first(rec, "TY")
    return make_record(
        source=source,
        search_id=search_id,
        source_id=accession or content_hash(title, year, authors.split(";")[0]),
        line=line,
        pmid=pmid,
        doi=doi,
        title=title,
        abstract=abstract,
        authors=authors,
        journal=_first(rec, "JF", "JO", "T2", "JA", "J2", "J1"),
        year=year,
        volume=_first(rec, "VL", "VO"),
        issue=_first(rec, "IS", "CP"),
        pages=_pages(_first(rec, "SP"), _first(rec, "EP")),
        publication_types=TYPE_LABELS.get(
            kind.upper(), rispy.TYPE_OF_REFERENCE_MAPPING.get(kind.upper(), kind)
        ),
        keywords=join_multi(_values(rec, "KW")),
        registry_ids=join_multi(find_registry_ids(title, abstract, *notes)),
        language=_first(rec, "LA"),
        url=urls[0] if urls else "",
    )


def _wos_record(rec: Mapping[str, Any], *, source: str, search_id: str, line: int) -> dict[str, str]:
    title = _first(rec, "document_title")
    abstract = _first(rec, "abstract")
    authors = join_multi(normalise_author(a) for a in _values(rec, "authors", "group_authors"))
    year = first_year(_first(rec, "publication_year"), _first(rec, "early_access_year"))
    keywords = [k for v in _values(rec, "author_keywords", "keywords_plus") for k in v.split(";")]
    kinds = [_WOS_TYPES.get(_first(rec, "publication_type"), ""), *_first(rec, "document_type").split(";")]
    accession = _first(rec, "accession_number")
    return make_record(
        source=source,
        search_id=search_id,
        source_id=accession or content_hash(title, year, authors.split(";")[0]),
        line=line,
        pmid=_first(rec, "pubmed_id"),
        doi=_first(rec, "doi"),
        title=title,
        abstract=abstract,
        authors=authors,
        journal=_first(rec, "publication_name", "iso_source_abbreviation"),
        year=year,
        volume=_first(rec, "volume"),
        issue=_first(rec, "issue"),
        pages=_pages(_first(rec, "beginning_page"), _first(rec, "ending_page"))
        or _first(rec, "article_number"),
        publication_types=join_multi(kinds),
        keywords=join_multi(keywords),
        registry_ids=join_multi(find_registry_ids(title, abstract)),
        language=_first(rec, "language"),
        url="",
    )


@reports_problems
def parse_ris(path: str | Path, *, source: str, search_id: str) -> list[dict[str, str]]:
    """Records from a RIS (or Web of Science tagged) export; source_id is AN/ID/UT or a hash."""
    path = Path(path)
    decoded = read_decoded(path)
    encoding = decoded.encoding
    lines = split_lines(decoded.text)
    # The parsers read the lines themselves (not the lines joined into one text again, split by
    # rispy once more): a 100 MB export is held once as text, not four times.
    del decoded
    if _is_wos(lines):
        lines, starts = _check_structure(lines, path, start="PT", tag_of=_wos_tag, encoding=encoding)
        entries = rispy.WokParser(skip_unknown_tags=True).parse_lines(iter(lines))
        del lines
        return [
            _wos_record(e, source=source, search_id=search_id, line=n)
            for e, n in zip(entries, starts, strict=True)
        ]
    lines = _normalise_ris_lines(lines)
    lines, starts = _check_structure(lines, path, start="TY", tag_of=_ris_tag, encoding=encoding)
    entries = rispy.RisParser(mapping=_SameName(), enforce_list_tags=False).parse_lines(iter(lines))
    del lines
    return [
        _ris_record(e, source=source, search_id=search_id, line=n)
        for e, n in zip(entries, starts, strict=True)
    ]
