"""One bibliographic record, built and checked once: every importer makes its rows here.

Identifiers are normalised (DOI, PMID, trial registrations), control characters removed and noted,
and the record id made stable (``<search_id>:<source_id>``, the source id defaulting to the PMID,
the DOI, then a hash of title, year and first author). The record contract is
:data:`ohevidence.schema.RECORD_COLUMNS`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from ohevidence.cells import clean_text, raw_text
from ohevidence.csvio import CONTROL_CHARACTERS as _CONTROL
from ohevidence.csvio import strip_controls
from ohevidence.ingest import note, record_error
from ohevidence.schema import RECORD_FIELDS

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
_REGISTRY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bISRCTN\s*:?\s*(\d{8})\b", re.IGNORECASE), "ISRCTN{}"),
    (re.compile(r"\bNCT\s*(\d{8})\b", re.IGNORECASE), "NCT{}"),
    (
        re.compile(r"\bEudra\s*CT\s*(?:number|no\.?)?\s*:?\s*(\d{4}-\d{6}-\d{2})\b", re.IGNORECASE),
        "EudraCT {}",
    ),
)
_PMID = re.compile(r"(?:PMID\s*:?\s*)?(\d{1,8})", re.IGNORECASE)
_PMCID = re.compile(r"PMC\s*:?\s*\d+", re.IGNORECASE)
_YEAR_IN_TEXT = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def normalise_doi(value: object) -> str:
    """Lower-case DOI without resolver prefix; '' if the value holds no DOI."""
    text = clean_text(value)
    if not text:
        return ""
    text = _DOI_PREFIX.sub("", text)
    match = _DOI_IN_TEXT.search(text)
    if not match:
        return ""
    return match.group(0).rstrip(".,;").lower()


def normalise_pmid(value: object) -> str:
    """The PMID without prefix or leading zeros ('PMID: 0123' -> '123').

    '' when the value is empty or is not exactly one PMID of 1-8 digits: several ids
    ('12345678; 87654321'), a PMCID ('PMC5555555') or a longer number are never turned
    into digits run together. :func:`pmid_problem` says what is wrong with such a value.
    """
    match = _PMID.fullmatch(clean_text(value))
    return match.group(1).lstrip("0") if match else ""


def pmid_problem(value: object) -> str:
    """Why a non-empty ``value`` is not one PMID; '' when it is one (or is empty)."""
    text = clean_text(value)
    if not text or normalise_pmid(text):
        return ""
    if _PMCID.fullmatch(text):
        return f"{text!r} is a PMCID (PubMed Central id), not a PMID"
    numbers = re.findall(r"\d+", text)
    if len(numbers) > 1:
        return f"{text!r} holds {len(numbers)} numbers; a record has one PMID"
    return f"{text!r} is not a PMID"


def doi_problem(value: object) -> str:
    """Why the DOI field ``value`` cannot be kept whole; '' when it holds one DOI (or is empty)."""
    text = clean_text(value)
    if not text:
        return ""
    found = {d.rstrip(".,;").lower() for d in _DOI_IN_TEXT.findall(_DOI_PREFIX.sub("", text))}
    if not found:
        return f"{text!r} is not a DOI; left empty"
    if len(found) > 1:
        return f"{text!r} holds {len(found)} DOIs; the first is kept"
    return ""


def find_registry_ids(*texts: object) -> list[str]:
    """Trial registrations (ISRCTN, NCT, EudraCT) mentioned in free text, in order, unique."""
    found: list[str] = []
    for text in texts:
        value = clean_text(text)
        if not value:
            continue
        for pattern, template in _REGISTRY_PATTERNS:
            for match in pattern.finditer(value):
                rid = template.format(match.group(1))
                if rid not in found:
                    found.append(rid)
    return found


def content_hash(*parts: object) -> str:
    """Short stable hash of normalised text, used as source_id when a source gives none."""
    norm = "|".join(re.sub(r"[^a-z0-9]+", " ", clean_text(p).lower()).strip() for p in parts)
    return "h" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


def make_record_id(search_id: str, source_id: str) -> str:
    return f"{search_id}:{source_id}"


def split_origin(origin: str, search_ids: str = "") -> list[str]:
    """The record ids in a unique record's ``origin`` ('; '-joined by deduplication).

    A source id may itself hold '; ' (a RIS accession field listing two numbers), so the
    join is split only where the next id starts: ``<search_id>:`` for one of the record's
    ``search_ids`` ('; '-joined; search ids never hold ';'). Without them any ``<name>:``
    after '; ' starts an id.
    """
    text = clean_text(origin)
    if not text:
        return []
    known = [re.escape(s) for s in re.split(r"\s*;\s*", clean_text(search_ids)) if s]
    start = "|".join(sorted(known, key=len, reverse=True)) if known else r"[A-Za-z0-9][A-Za-z0-9_.-]*"
    return [part for part in re.split(rf";\s*(?=(?:{start}):)", text) if part]


def make_record(
    *, source: str, search_id: str, source_id: str = "", line: int | None = None, **fields: object
) -> dict[str, str]:
    """Build one record row: every record column present, text cleaned, DOI/PMID/year normalised.

    ``source_id`` defaults to the PMID, then the DOI, then a hash of title, year and
    first author, so the record id is stable across runs of the same input. ``line`` is
    where the record starts in its file (None when the format has no lines).

    Every importer builds its records here, so this is where input is checked once: control
    characters are removed from every field, a DOI that is not one and a year outside
    1800-2099 are left empty, each noted for the file's warning report
    (:mod:`ohevidence.ingest`); a PMID that is not exactly one PMID raises
    :class:`~ohevidence.errors.InputError` naming file and line.
    """
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"unknown record fields: {sorted(unknown)}")
    raw = {name: raw_text(fields.get(name)) for name in RECORD_FIELDS}
    raw["source_id"] = raw_text(source_id)
    cleaned = [name for name, text in raw.items() if _CONTROL.search(text)]
    row = {name: clean_text(strip_controls(text)) for name, text in raw.items()}
    row["source"] = source
    row["search_id"] = search_id
    label = make_record_id(search_id, row["source_id"] or row["pmid"] or row["doi"] or row["title"][:60])
    problem = pmid_problem(row["pmid"])
    if problem:
        raise record_error(
            problem, line=line, record=label, column="pmid", expected="one PMID of 1-8 digits per record"
        )
    row["pmid"] = normalise_pmid(row["pmid"])
    problem = doi_problem(row["doi"])
    row["doi"] = normalise_doi(row["doi"])
    year = _YEAR_IN_TEXT.search(row["year"])
    year_given = row["year"]
    row["year"] = year.group(1) if year else ""
    if not source_id:
        first_author = row["authors"].split(";")[0]
        source_id = row["pmid"] or row["doi"] or content_hash(row["title"], row["year"], first_author)
        row["source_id"] = clean_text(source_id)
    row["record_id"] = make_record_id(search_id, row["source_id"])
    record = row["record_id"]
    if cleaned:
        note(
            "control",
            line=line,
            record=record,
            column=", ".join(cleaned),
            message="control characters removed",
        )
    if problem:
        note("doi", line=line, record=record, column="doi", message=problem)
    if year_given and not year:
        message = f"{year_given!r} is not a year in 1800-2099; left empty"
        note("year", line=line, record=record, column="year", message=message)
    return row


def records_frame(rows: Iterable[Mapping[str, str]]) -> pd.DataFrame:
    """Records as a DataFrame with exactly the record columns, in order."""
    frame = pd.DataFrame(list(rows), columns=RECORD_FIELDS, dtype="string")
    return frame.fillna("")
