"""Extraction over a table of records: one auto_extracted row per record, and the worklist.

Input is any table with the record columns (results/records/records.csv, or the deduplicated
unique records once that stage exists): the rule passes the file, so switching is one line.

Two steps of very different cost. *Matching* a record to a curated study (PMID, DOI, a further
report's id, a registration or acronym the study is known by) is done for every record: set
look-ups, and the text is read for acronyms and registrations only when it holds one of the
curated studies' (a substring test). *Mining* the text (acronyms, registrations, design cues,
sample size, conditions, job roles: the job-role fuzzy match alone takes milliseconds per
record) is done only for the records that need it: those the screening included at
title/abstract (``mine``; all records when no screening decisions are given) and those matched
or linked to a curated study. The other rows keep record_id, identifiers, title, year and the
(empty) match, with the mined fields empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ohevidence.cells import join_multi, split_multi
from ohevidence.curated import Row
from ohevidence.extract.patterns import (
    acronym_key,
    find_acronyms,
    find_conditions,
    find_design_cues,
    find_job_roles,
    find_sample_size,
    registry_ids,
)
from ohevidence.records import normalise_doi, normalise_pmid
from ohevidence.schema import AUTO_EXTRACTED_COLUMNS, WORKLIST_COLUMNS, names

# Cues that mark a report of a trial (as opposed to a review, commentary or cost paper alone).
TRIAL_CUES = ("randomised", "cluster", "pilot", "feasibility", "protocol")
# Most to least specific: the study's own record, a curated further report, a registration, an acronym.
MATCH_ORDER = ("pmid", "doi", "report", "registry", "acronym")


@dataclass(frozen=True)
class ExtractionSettings:
    known_acronyms: Sequence[str] = ()
    acronym_stopwords: Sequence[str] = ()
    conditions: Mapping[str, Sequence[str]] = field(default_factory=dict)
    role_synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    role_match_threshold: float = 95.0

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], roles: Mapping[str, Mapping[str, Any]]
    ) -> ExtractionSettings:
        return cls(
            known_acronyms=tuple(section.get("known_acronyms", ())),
            acronym_stopwords=tuple(section.get("acronym_stopwords", ())),
            conditions={k: tuple(v) for k, v in (section.get("conditions") or {}).items()},
            role_synonyms={rid: tuple(entry.get("synonyms") or ()) for rid, entry in roles.items()},
            role_match_threshold=float(section.get("role_match_threshold", 95)),
        )


def report_keys(pmid: object, doi: object) -> set[str]:
    """'pmid:123', 'doi:10.x/y': the identifiers of one report, as one set."""
    keys = {f"pmid:{normalise_pmid(pmid)}", f"doi:{normalise_doi(doi)}"}
    return keys - {"pmid:", "doi:"}


def study_identifiers(studies: Iterable[Row], reports: Iterable[Row] = ()) -> dict[str, dict[str, set[str]]]:
    """study_id -> {'pmid', 'doi', 'report', 'registry', 'acronym'} value sets, for matching records.

    'report' holds the PMIDs and DOIs of the study's further reports (study_reports.csv).
    """
    index: dict[str, dict[str, set[str]]] = {}
    for row in studies:
        cells = row.cells
        index[cells["study_id"]] = {
            "pmid": {normalise_pmid(cells.get("pmid"))} - {""},
            "doi": {normalise_doi(cells.get("doi")), normalise_doi(cells.get("nihr_doi"))} - {""},
            "report": set(),
            "registry": set(split_multi(cells.get("registry_ids", ""))),
            "acronym": {acronym_key(cells.get("acronym", ""))} - {""},
        }
    for row in reports:
        study = index.get(row.cells.get("study_id", "").strip())
        if study is not None:  # validation reports an unknown study_id
            study["report"] |= report_keys(row.cells.get("pmid"), row.cells.get("doi"))
    return index


# basis -> identifier value -> the curated study_ids carrying it
ValueIndex = dict[str, dict[str, set[str]]]


def _by_value(studies: Mapping[str, Mapping[str, set[str]]]) -> ValueIndex:
    index: ValueIndex = {basis: {} for basis in MATCH_ORDER}
    for study_id, ids in studies.items():
        for basis in MATCH_ORDER:
            for value in ids[basis]:
                index[basis].setdefault(value, set()).add(study_id)
    return index


def _match_in(found: Mapping[str, set[str]], index: ValueIndex) -> tuple[list[str], str]:
    """Curated study_ids sharing the most specific identifier with the record, and the basis."""
    for basis in MATCH_ORDER:
        hits = sorted({sid for value in found.get(basis, ()) for sid in index[basis].get(value, ())})
        if hits:
            return hits, basis if len(hits) == 1 else f"{basis} (ambiguous)"
    return [], ""


# The digits of a registration as find_registry_ids writes them (ISRCTN/NCT: 8, EudraCT: 4-6-2).
_REGISTRY_DIGITS = re.compile(r"\d{4}-\d{6}-\d{2}|\d{8}")


@dataclass(frozen=True)
class CuratedMentions:
    """What a record's text must contain to be matched to a curated study by acronym or registration.

    A necessary condition, never a sufficient one: an acronym is found only as a token whose
    letters and digits (hyphens dropped, case ignored) are the acronym's, and a registration
    only with its digits; a text holding none of them cannot match, so its acronyms and
    registrations need not be looked for. Substring tests, so a record costs microseconds.
    ``by_value`` holds the curated identifiers by value, so matching a record is a few look-ups
    however many studies are curated.
    """

    acronyms: frozenset[str] = frozenset()  # lower-case acronym keys
    registry_digits: frozenset[str] = frozenset()
    by_value: ValueIndex = field(default_factory=dict)  # the curated identifiers, for matching

    @classmethod
    def of(cls, studies: Mapping[str, Mapping[str, set[str]]]) -> CuratedMentions:
        acronyms = {key.lower() for ids in studies.values() for key in ids["acronym"]}
        digits = {
            found
            for ids in studies.values()
            for registration in ids["registry"]
            for found in _REGISTRY_DIGITS.findall(registration)
        }
        return cls(frozenset(acronyms), frozenset(digits), _by_value(studies))

    def may_be_named(self, text: str) -> bool:
        if any(digits in text for digits in self.registry_digits):
            return True
        if not self.acronyms:
            return False
        folded = text.lower().replace("-", "")
        return any(key in folded for key in self.acronyms)


def _record_text(record: Mapping[str, str]) -> str:
    return " ".join(record.get(k, "") for k in ("title", "abstract", "keywords", "mesh_terms"))


def _acronyms(record: Mapping[str, str], settings: ExtractionSettings) -> list[str]:
    # per field, so an all-capitals title does not silence the abstract
    acronyms: list[str] = []
    for name in ("title", "abstract", "keywords"):
        for acronym in find_acronyms(
            record.get(name, ""), settings.known_acronyms, settings.acronym_stopwords
        ):
            if acronym_key(acronym) not in {acronym_key(a) for a in acronyms}:
                acronyms.append(acronym)
    return acronyms


def _match(
    record: Mapping[str, str],
    acronyms: Sequence[str],
    registrations: Sequence[str],
    index: ValueIndex,
) -> tuple[list[str], str]:
    found = {
        "pmid": {normalise_pmid(record.get("pmid"))} - {""},
        "doi": {normalise_doi(record.get("doi"))} - {""},
        "report": report_keys(record.get("pmid"), record.get("doi")),
        "registry": set(registrations),
        "acronym": {acronym_key(a) for a in acronyms},
    }
    return _match_in(found, index)


def extract_record(
    record: Mapping[str, str],
    settings: ExtractionSettings,
    studies: Mapping[str, Mapping[str, set[str]]],
    *,
    mine: bool = True,
    mentions: CuratedMentions | None = None,
) -> dict[str, str]:
    """The record's auto_extracted row; with ``mine=False`` only its identifiers and curated match.

    ``mentions`` (``CuratedMentions.of(studies)``, built once per table) lets an unmined record
    skip the acronym and registration search when its text names no curated study.
    """
    mentions = mentions if mentions is not None else CuratedMentions.of(studies)
    text = _record_text(record)
    row = {
        "record_id": record.get("record_id", ""),
        "pmid": normalise_pmid(record.get("pmid")),
        "doi": normalise_doi(record.get("doi")),
        "title": record.get("title", ""),
        "year": record.get("year", ""),
    }
    if not mine:
        named = mentions.may_be_named(text)
        acronyms = _acronyms(record, settings) if named else []
        registrations = [*split_multi(record.get("registry_ids", "")), *(registry_ids(text) if named else [])]
        study_ids, basis = _match(record, acronyms, registrations, mentions.by_value)
        unmined = dict.fromkeys(names(AUTO_EXTRACTED_COLUMNS), "")
        return {**unmined, **row, "study_id": join_multi(study_ids), "match_basis": basis}
    acronyms = _acronyms(record, settings)
    registrations = [*split_multi(record.get("registry_ids", "")), *registry_ids(text)]
    cues = find_design_cues(f"{text} {record.get('publication_types', '')}")
    pub_types = record.get("publication_types", "").lower()
    trial_like = bool(
        set(cues) & set(TRIAL_CUES)
        or "randomized controlled trial" in pub_types
        or "clinical trial" in pub_types
        or (registrations and "review" not in cues)
    )
    study_ids, basis = _match(record, acronyms, registrations, mentions.by_value)
    size = find_sample_size(text)
    return {
        **row,
        "acronyms": join_multi(acronyms),
        "registry_ids": join_multi(registrations),
        "design_cues": join_multi(cues),
        "sample_size": "" if size is None else str(size),
        "conditions": join_multi(find_conditions(text, settings.conditions)),
        "job_roles": join_multi(find_job_roles(text, settings.role_synonyms, settings.role_match_threshold)),
        "looks_like_trial_report": "true" if trial_like else "false",
        "study_id": join_multi(study_ids),
        "match_basis": basis,
    }


def match_records(
    records: pd.DataFrame,
    settings: ExtractionSettings,
    studies: Iterable[Row],
    *,
    reports: Iterable[Row] = (),
    study_links: pd.DataFrame | None = None,
    mine: set[str] | None = None,
) -> pd.DataFrame:
    """One auto_extracted row per record, with the curated study it matches (links followed).

    ``mine``: the record ids whose text is mined (None: every record); records matched or
    linked to a curated study are mined too. The other rows hold identifiers, title, year and
    the (empty) match only: ``mined_rows`` tells them apart, and they are not for writing as
    auto_extracted rows (looks_like_trial_report is empty).
    """
    index = study_identifiers(studies, reports)
    mentions = CuratedMentions.of(index)
    by_id = records.fillna("").to_dict("records")
    rows = [
        extract_record(
            record,
            settings,
            index,
            mine=mine is None or record.get("record_id", "") in mine,
            mentions=mentions,
        )
        for record in by_id
    ]
    extracted = pd.DataFrame(rows, columns=names(AUTO_EXTRACTED_COLUMNS), dtype="string").fillna("")
    if study_links is not None:
        extracted = inherit_linked_studies(extracted, study_links)
    # a record of a curated study is mined even when screening did not include it
    late = np.flatnonzero(~mined_rows(extracted).to_numpy() & (extracted["study_id"] != "").to_numpy())
    for position in late:
        mined = extract_record(by_id[position], settings, index, mentions=mentions)
        for column in MINED_COLUMNS:
            extracted.at[position, column] = mined[column]
    return extracted


# The columns mining fills (the rest: identifiers, title, year, the curated match).
MINED_COLUMNS = (
    "acronyms",
    "registry_ids",
    "design_cues",
    "sample_size",
    "conditions",
    "job_roles",
    "looks_like_trial_report",
)


def mined_rows(extracted: pd.DataFrame) -> pd.Series:
    """True for the rows whose text was mined (every mined row says whether it looks like a trial)."""
    return extracted["looks_like_trial_report"] != ""


def select_records(extracted: pd.DataFrame, included: set[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(auto_extracted, worklist) restricted to the ``included`` records (None: all of them)."""
    if included is not None:
        unknown = included - set(extracted["record_id"])
        if unknown:
            raise ValueError(f"included record ids not among the records: {sorted(unknown)[:5]}")
        extracted = extracted[extracted["record_id"].isin(included)].reset_index(drop=True)
    unmatched = extracted["study_id"] == ""
    if included is not None:
        todo = extracted[unmatched].copy()
        todo["reason"] = "included record with no curated study (add it to studies.csv or link it)"
    else:
        todo = extracted[(extracted["looks_like_trial_report"] == "true") & unmatched].copy()
        todo["reason"] = "trial report with no curated study (add it to studies.csv or link it)"
    worklist = todo.reindex(columns=names(WORKLIST_COLUMNS)).fillna("")
    return extracted, worklist.reset_index(drop=True)


def extract_records(
    records: pd.DataFrame,
    settings: ExtractionSettings,
    studies: Iterable[Row],
    *,
    reports: Iterable[Row] = (),
    study_links: pd.DataFrame | None = None,
    included: set[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(auto_extracted, worklist): one row per record, and the records no curated study covers.

    ``reports`` (study_reports.csv rows) match further reports of a study by their PMID or
    DOI. ``study_links`` (dedupe's study_links.csv) lets a report with no identifier of its own
    inherit the curated study of another report of the same trial. ``included`` (record ids
    the screening stage included) restricts both outputs to those records, after links are
    followed over all records; every included record without a curated study is then on the
    worklist (the reviewers' to-do list), not only those that look like trial reports.
    """
    extracted = match_records(records, settings, studies, reports=reports, study_links=study_links)
    return select_records(extracted, included)


def inherit_linked_studies(extracted: pd.DataFrame, study_links: pd.DataFrame) -> pd.DataFrame:
    """Give an unmatched record the curated study of the records it is linked to.

    Reports of one trial (protocol, main paper, HTA monograph) are linked by dedupe through a
    shared registration or acronym; a report that names no identifier of its own still belongs
    to its trial's curated study. Only an unambiguous link (one study) is inherited.
    """
    extracted = extracted.copy()
    key_of = dict(zip(study_links["record_id"], study_links["study_key"], strict=True))
    studies_by_key: dict[str, set[str]] = {}
    for record_id, study_id in zip(extracted["record_id"], extracted["study_id"], strict=True):
        key = key_of.get(record_id)
        if key and study_id:
            studies_by_key.setdefault(key, set()).update(split_multi(study_id))
    unmatched = np.flatnonzero((extracted["study_id"] == "").to_numpy())
    record_ids = extracted["record_id"].to_numpy()
    for position in unmatched:
        key = key_of.get(record_ids[position])
        found = studies_by_key.get(key, set()) if key else set()
        if len(found) == 1:
            extracted.at[position, "study_id"] = next(iter(found))
            extracted.at[position, "match_basis"] = f"study link {key}"
    return extracted
