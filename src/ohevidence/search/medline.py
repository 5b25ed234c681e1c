"""MEDLINE display format (PubMed ``.nbib`` export, efetch ``rettype=medline``) to records.

The file is checked line by line before :func:`Bio.Medline.parse` reads it (that parser
accepts anything), so a stray line or a record without a PMID is reported with its
line number instead of silently producing a damaged record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from Bio import Medline

from ohevidence.cells import clean_text, join_multi
from ohevidence.errors import InputError
from ohevidence.ingest import reports_problems
from ohevidence.records import find_registry_ids, make_record
from ohevidence.text import first_year, normalise_author, read_text, split_lines

__all__ = ["parse_medline"]

_TAG_LINE = re.compile(r"^[A-Z][A-Z0-9]{0,3} {0,3}-(?: |$)")
_DOI_SUFFIX = re.compile(r"^(.*?)\s*\[doi\]\s*$", re.IGNORECASE)
_PII_SUFFIX = re.compile(r"^(.*?)\s*\[(pii|other)\]\s*$", re.IGNORECASE)


def _check_lines(lines: list[str], path: Path) -> list[int]:
    """Validate the MEDLINE layout; return the first line number of each record.

    A record starts after a blank line or at a ``PMID-`` line once the current record
    has its PMID (two records not separated by a blank line). A second ``PMID-`` line
    straight after the first (no field between) is an error: one record, one PMID.
    """
    starts: list[int] = []
    in_record = has_pmid = False
    pmid_line = 0
    for number, line in enumerate(lines, start=1):
        if in_record and has_pmid and line[:4].rstrip() == "PMID" and _TAG_LINE.match(line):
            if number - 1 == pmid_line:
                raise InputError(
                    path,
                    f"second PMID line in the record whose PMID is on line {pmid_line}",
                    line=number,
                    column="PMID",
                    expected="one PMID per record (a new record starts with its own PMID after the fields)",
                )
            in_record = False  # the next record starts here
        if not line.strip():
            if in_record and not has_pmid:
                raise InputError(path, "MEDLINE record has no PMID", line=starts[-1], column="PMID")
            in_record = False
            continue
        if line.startswith("      "):
            if not in_record:
                raise InputError(path, "continuation line outside a record", line=number)
            continue
        if not _TAG_LINE.match(line):
            raise InputError(
                path,
                f"not a MEDLINE field line: {line[:40]!r}",
                line=number,
                expected="'TAG - value' (e.g. 'PMID- 12345678') or a 6-space continuation",
            )
        if not in_record:
            starts.append(number)
            in_record = True
            has_pmid = False
        if line[:4].rstrip() == "PMID":
            has_pmid = True
            pmid_line = number
    if in_record and not has_pmid:
        raise InputError(path, "MEDLINE record has no PMID", line=starts[-1], column="PMID")
    if not starts:
        raise InputError(path, "no MEDLINE records found", expected="records starting 'PMID- '")
    return starts


def _values(record: Mapping[str, str | list[str]], key: str) -> list[str]:
    """A field's values: Bio.Medline gives a repeatable field (AU, MH...) as a list, others as one string."""
    value = record.get(key, [])
    if isinstance(value, str):
        return [value]
    return [clean_text(v) for v in value]


def _suffixed(values: list[str], pattern: re.Pattern[str]) -> list[str]:
    return [m.group(1) for v in values if (m := pattern.match(v))]


def _mesh(values: list[str]) -> str:
    """Descriptor only: '*Occupational Health/methods' -> 'Occupational Health'."""
    return join_multi(v.split("/")[0].lstrip("*") for v in values)


def _registry_ids(values: list[str]) -> list[str]:
    """SI 'ClinicalTrials.gov/NCT01234567', 'ISRCTN/ISRCTN12345678' -> normalised ids."""
    found: list[str] = []
    for value in values:
        bank, _, number = value.partition("/")
        if "isrctn" in bank.lower():
            found.extend(find_registry_ids("ISRCTN" + re.sub(r"\D", "", number)))
        elif "clinicaltrials" in bank.lower():
            found.extend(find_registry_ids(number))
    return found


def _split_records(lines: list[str], starts: list[int]) -> Iterator[str]:
    """The lines for Bio.Medline, with a blank line before every record start that lacks one."""
    first = set(starts)
    for number, line in enumerate(lines, start=1):
        if number in first and number > 1 and lines[number - 2] != "\n":
            yield "\n"
        yield line + "\n" if line != "\n" else line


@reports_problems
def parse_medline(path: str | Path, *, source: str = "pubmed", search_id: str) -> list[dict[str, str]]:
    """Records from a MEDLINE/.nbib file (one per PMID)."""
    path = Path(path)
    text = read_text(path)
    lines = [line if line.strip() else "\n" for line in split_lines(text)]
    starts = _check_lines(lines, path)
    records: list[dict[str, str]] = []
    for start, entry in zip(starts, Medline.parse(_split_records(lines, starts)), strict=True):
        pmid = clean_text(entry.get("PMID"))
        title = clean_text(entry.get("TI")) or clean_text(entry.get("BTI"))
        abstract = clean_text(entry.get("AB"))
        # AU carries PubMed's own initials ('Ryan PB'); FAU ('Ryan, P Barry') is the fallback.
        names = [normalise_author(a) for a in (_values(entry, "AU") or _values(entry, "FAU"))]
        names += _values(entry, "CN")
        doi_values = _suffixed(_values(entry, "AID"), _DOI_SUFFIX) + _suffixed(
            _values(entry, "LID"), _DOI_SUFFIX
        )
        pages = clean_text(entry.get("PG")) or next(iter(_suffixed(_values(entry, "LID"), _PII_SUFFIX)), "")
        records.append(
            make_record(
                source=source,
                search_id=search_id,
                source_id=pmid,
                line=start,
                pmid=pmid,
                doi=doi_values[0] if doi_values else "",
                title=title,
                abstract=abstract,
                authors=join_multi(names),
                journal=clean_text(entry.get("JT")) or clean_text(entry.get("TA")),
                year=first_year(entry.get("DP"), entry.get("DEP")),
                volume=clean_text(entry.get("VI")),
                issue=clean_text(entry.get("IP")),
                pages=pages,
                publication_types=join_multi(_values(entry, "PT")),
                mesh_terms=_mesh(_values(entry, "MH")),
                keywords=join_multi(_values(entry, "OT")),
                registry_ids=join_multi(
                    _registry_ids(_values(entry, "SI")) + find_registry_ids(title, abstract)
                ),
                language=join_multi(_values(entry, "LA")),
                url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
            )
        )
    return records
