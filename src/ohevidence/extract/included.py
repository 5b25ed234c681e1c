"""Which studies the review includes: the reports included at full text, grouped into studies.

This is the one place the chain from screening to synthesis is decided:

* a **report** is included when its record's full-text consensus is ``include`` (screening's
  included.csv);
* it reports a **study**: the curated study ``ohevidence extract`` matched it to (PMID, DOI, a
  further report in study_reports.csv, registration, acronym or a dedupe study link), else a curated
  study row naming its PMID or DOI, else dedupe's study key, else the record is its own study
  (included, awaiting extraction);
* a curated study enters the synthesis (effects, meta-analyses, SWiM, summary of findings,
  characteristics) only when it is **included**: it has an included report, or the review team
  declared it under ``synthesis.include_without_screened_report`` with a reason;
* every other curated study is listed in ``curated_not_included.csv`` with why, never pooled silently;
* a report of a curated **review** (reviews.csv: its PMID, DOI or a further report's id) is included
  at the review level (``level`` review, config ``designs.reviews``): it is listed in
  ``included_reviews.csv``, reported apart by ``ohevidence reviews`` and never becomes a study.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ohevidence.cells import join_multi, split_multi
from ohevidence.errors import ConfigError
from ohevidence.records import split_origin
from ohevidence.schema import (
    CURATED_NOT_INCLUDED_COLUMNS,
    INCLUDED_REPORT_COLUMNS,
    INCLUDED_REVIEW_COLUMNS,
    INCLUDED_STUDY_COLUMNS,
    names,
)
from ohevidence.tableio import read_table

BY_SCREENING = "full-text screening"
BY_REVIEW_TEAM = "review team"


@dataclass(frozen=True)
class DeclaredStudy:
    """A curated study the review includes although no screened report of it was included."""

    study_id: str
    reason: str

    @classmethod
    def from_config(cls, entries: Iterable[Mapping[str, str]]) -> list[DeclaredStudy]:
        return [cls(str(e["study_id"]), str(e["reason"])) for e in entries]


def review_keys(reviews: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """PMID or DOI (lower case) -> review_id: each review version's own ids and its further reports'."""
    keys: dict[str, str] = {}
    for review in reviews:
        for key in [
            review.get("pmid", ""),
            review.get("doi", ""),
            *split_multi(review.get("other_reports", "")),
        ]:
            if key.strip():
                keys[key.strip().lower()] = review["review_id"]
    return keys


def included_reports(
    included: Sequence[Mapping[str, str]],
    studies: Sequence[Mapping[str, str]],
    study_links: Sequence[Mapping[str, str]],
    extracted: Sequence[Mapping[str, str]],
    reviews: Sequence[Mapping[str, str]] = (),
    review_designs: Sequence[str] = ("systematic review",),
) -> pd.DataFrame:
    """Reports included at full text, each with the study (or review) it reports and how that was matched.

    A report of a curated review is included at the review level only when ``review_designs``
    (config designs.reviews) includes systematic reviews; otherwise it is a configuration error.
    """
    by_review = review_keys(reviews)
    by_record = {r["record_id"]: r.get("study_id", "") for r in extracted}
    links = {r["record_id"]: r["study_key"] for r in study_links}
    registry = {rid: s["study_id"] for s in studies for rid in split_multi(s.get("registry_ids", ""))}
    text = {s["study_id"]: " ".join(str(v) for v in s.values()) for s in studies}
    curated_ids = {s["study_id"] for s in studies}
    rows = []
    for record in included:
        if record.get("full_text") != "include":
            continue
        ids = [record["record_id"], *split_origin(record.get("origin", ""), record.get("search_ids", ""))]
        review = next(
            (
                by_review[k.lower()]
                for k in (record.get("pmid", ""), record.get("doi", ""))
                if k and k.lower() in by_review
            ),
            "",
        )
        if review:
            if "systematic review" not in review_designs:
                raise ConfigError(
                    f"designs.reviews: record {record['record_id']} reports the review {review} "
                    "(reviews.csv) and is included at full text, but the configuration includes no "
                    "review design: add 'systematic review' to designs.reviews or exclude the record"
                )
            rows.append(
                {
                    "record_id": record["record_id"],
                    "study": review,
                    "curated_study_id": "",
                    "basis": "curated review (reviews.csv names its PMID or DOI)",
                    "title": record.get("title", ""),
                    "year": record.get("year", ""),
                    "level": "review",
                }
            )
            continue
        study, basis = "", ""
        curated = {by_record[i] for i in ids if by_record.get(i) and ";" not in by_record[i]}
        if len(curated) == 1:
            study, basis = (
                curated.pop(),
                "curated study (ohevidence extract: PMID, DOI, registration or acronym)",
            )
        if not study:
            for key in (record.get("pmid", ""), record.get("doi", "")):
                hits = [
                    sid
                    for sid, t in text.items()
                    if key and re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", t)
                ]
                if len(hits) == 1:
                    study, basis = hits[0], f"curated study row names {key}"
                    break
        if not study:
            key = next((links[i] for i in ids if i in links), "")
            if key:
                study, basis = registry.get(key, key), "deduplication study link " + key
        if not study:
            study, basis = record["record_id"], "no link found: counted as its own study"
        rows.append(
            {
                "record_id": record["record_id"],
                "study": study,
                "curated_study_id": study if study in curated_ids else "",
                "basis": basis,
                "title": record.get("title", ""),
                "year": record.get("year", ""),
                "level": "study",
            }
        )
    return pd.DataFrame(rows, columns=names(INCLUDED_REPORT_COLUMNS), dtype="string").fillna("")


def included_reviews(reports: pd.DataFrame) -> pd.DataFrame:
    """One row per review version included at the review level, with its included reports."""
    rows: dict[str, dict[str, str]] = {}
    for report in reports[reports["level"] == "review"].to_dict("records"):
        row = rows.setdefault(
            report["study"], {"review_id": report["study"], "reports": "", "n_reports": "0"}
        )
        row["reports"] = join_multi([*split_multi(row["reports"]), report["record_id"]])
        row["n_reports"] = str(int(row["n_reports"]) + 1)
    return pd.DataFrame(list(rows.values()), columns=names(INCLUDED_REVIEW_COLUMNS), dtype="string")


def check_declared(declared: Sequence[DeclaredStudy], studies: Sequence[Mapping[str, str]]) -> None:
    """A declared study must be a curated study, named once, with a reason."""
    known = {s["study_id"] for s in studies}
    seen: set[str] = set()
    for index, entry in enumerate(declared):
        where = f"synthesis.include_without_screened_report[{index}]"
        if entry.study_id not in known:
            raise ConfigError(f"{where}.study_id: {entry.study_id!r} is not a study_id in studies.csv")
        if entry.study_id in seen:
            raise ConfigError(f"{where}.study_id: {entry.study_id!r} is declared twice")
        if not entry.reason.strip():
            raise ConfigError(f"{where}.reason: say why the study is included without a screened report")
        seen.add(entry.study_id)


def included_studies(reports: pd.DataFrame, declared: Sequence[DeclaredStudy]) -> pd.DataFrame:
    """One row per included study: its included reports, or the review team's declaration."""
    rows: dict[str, dict[str, str]] = {}
    for report in reports.to_dict("records"):
        if report.get("level") == "review":
            continue  # included as a review (included_reviews), never a study
        row = rows.setdefault(
            report["study"],
            {
                "study": report["study"],
                "curated_study_id": report["curated_study_id"],
                "included_by": BY_SCREENING,
                "reports": "",
                "n_reports": "0",
                "note": "" if report["curated_study_id"] else "no curated study yet: awaiting extraction",
            },
        )
        row["reports"] = join_multi([*split_multi(row["reports"]), report["record_id"]])
        row["n_reports"] = str(int(row["n_reports"]) + 1)
    for entry in declared:
        if entry.study_id in rows:
            rows[entry.study_id]["note"] = (
                "also declared by the review team; a screened report includes it, "
                "so the declaration is unused"
            )
            continue
        rows[entry.study_id] = {
            "study": entry.study_id,
            "curated_study_id": entry.study_id,
            "included_by": BY_REVIEW_TEAM,
            "reports": "",
            "n_reports": "0",
            "note": entry.reason,
        }
    return pd.DataFrame(list(rows.values()), columns=names(INCLUDED_STUDY_COLUMNS), dtype="string")


def curated_not_included(
    studies: Sequence[Mapping[str, str]],
    included: pd.DataFrame,
    extracted_all: pd.DataFrame,
    full_text: Mapping[str, Mapping[str, str]],
    title_abstract: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Curated studies the review does not include, and why (nothing is dropped silently).

    ``extracted_all``: every unique record with the curated study it matched (before restricting
    to included records); ``full_text``: included.csv rows by record id (records that reached
    full-text screening, with their consensus and reason); ``title_abstract``: record id ->
    title/abstract consensus (title_abstract.csv; empty = no decision yet), when known.
    """
    included_ids = set(included["curated_study_id"])
    records_of: dict[str, list[str]] = {}
    for record_id, study_ids in zip(extracted_all["record_id"], extracted_all["study_id"], strict=True):
        for study_id in split_multi(study_ids):
            records_of.setdefault(study_id, []).append(record_id)
    rows = []
    for study in studies:
        study_id = study["study_id"]
        if study_id in included_ids:
            continue
        records = records_of.get(study_id, [])
        rows.append(
            {
                "study_id": study_id,
                "acronym": study.get("acronym", ""),
                "design": study.get("design", ""),
                "status": study.get("status", ""),
                "records": join_multi(records),
                "reason": _not_included_reason(records, full_text, title_abstract),
            }
        )
    return pd.DataFrame(rows, columns=names(CURATED_NOT_INCLUDED_COLUMNS), dtype="string")


def _not_included_reason(
    records: Sequence[str],
    full_text: Mapping[str, Mapping[str, str]],
    title_abstract: Mapping[str, str] | None,
) -> str:
    if not records:
        return (
            "no search record carries this study's PMID, DOI, registration or acronym: add a report of it "
            "to a search or import, or declare it under synthesis.include_without_screened_report"
        )
    at_full_text = [full_text[r] for r in records if r in full_text]
    excluded = [r for r in at_full_text if r.get("full_text") == "exclude"]
    if excluded:
        reasons = sorted(
            {(r.get("full_text_reason") or "no reason given").replace("_", " ") for r in excluded}
        )
        return f"its report(s) were excluded at full text ({', '.join(reasons)})"
    if at_full_text:
        return "its report(s) await a full-text decision"
    if title_abstract is not None:
        if any(title_abstract.get(r, "") == "" for r in records):
            return "its record(s) await a title/abstract decision"
        return "its record(s) were excluded at title/abstract"
    return "its record(s) did not reach full text (excluded or awaiting a decision at title/abstract)"


def read_included_study_ids(path: str | Path) -> set[str]:
    """The curated study_ids of an included_studies.csv (checked against its contract)."""
    return {s for s in read_table(path, INCLUDED_STUDY_COLUMNS)["curated_study_id"] if s}
