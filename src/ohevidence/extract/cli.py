"""`ohevidence extract`: automatic extraction from records, and the reviewers' worklist."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence.config import add_settings_arguments, settings_config
from ohevidence.curated import errors, load_curated, validate_curated
from ohevidence.errors import OhevidenceError
from ohevidence.extract.extract import ExtractionSettings, match_records, select_records
from ohevidence.extract.included import (
    DeclaredStudy,
    check_declared,
    curated_not_included,
    included_reports,
    included_reviews,
    included_studies,
    review_keys,
)
from ohevidence.schema import (
    AUTO_EXTRACTED_COLUMNS,
    CURATED_NOT_INCLUDED_COLUMNS,
    INCLUDED_COLUMNS,
    INCLUDED_REPORT_COLUMNS,
    INCLUDED_REVIEW_COLUMNS,
    INCLUDED_STUDY_COLUMNS,
    RECORD_COLUMNS,
    STUDY_LINK_COLUMNS,
    TITLE_ABSTRACT_COLUMNS,
    WORKLIST_COLUMNS,
)
from ohevidence.tableio import read_table, write_table

log = logging.getLogger("ohevidence.extract")

STUDY_OUTPUTS = ("included_reports_out", "included_studies_out", "not_included_out")


def _extract(args: argparse.Namespace) -> int:
    config, _ = settings_config(args)
    chain = [getattr(args, name) for name in STUDY_OUTPUTS]
    if any(chain) and not (all(chain) and args.included):
        raise OhevidenceError(
            "--included-reports-out, --included-studies-out and --not-included-out "
            "go together, with --included"
        )
    problems = validate_curated(args.curated)
    if errors(problems):
        raise OhevidenceError(f"{args.curated}: curated tables have errors; run `ohevidence validate`")
    tables = load_curated(args.curated, [])
    settings = ExtractionSettings.from_config(config["extraction"], tables.roles)
    declared = DeclaredStudy.from_config(config["synthesis"]["include_without_screened_report"])
    studies = [row.cells for row in tables.studies]
    check_declared(declared, studies)
    records = read_table(args.records, RECORD_COLUMNS)
    links = read_table(args.study_links, STUDY_LINK_COLUMNS) if args.study_links else None
    included = None
    included_rows: list[dict[str, str]] = []
    if args.included:
        # screening's included.csv: records plus their full-text consensus, one row per record
        included_frame = read_table(args.included, INCLUDED_COLUMNS)
        unknown = sorted(set(included_frame["record_id"]) - set(records["record_id"]))
        if unknown:
            raise OhevidenceError(f"{args.included}: record {unknown[0]!r} is not in {args.records}")
        included = set(included_frame["record_id"])
        included_rows = included_frame.to_dict("records")
    # mined: the records screening passed at title/abstract (and, inside match_records, those of a
    # curated study); without screening decisions, every record
    matched = match_records(
        records, settings, tables.studies, reports=tables.reports, study_links=links, mine=included
    )
    extracted, worklist = select_records(matched, included)
    reviews = [row.cells for row in tables.reviews]
    by_review = review_keys(reviews)
    names_review = pd.Series(False, index=records.index)
    for column in ("pmid", "doi"):
        values = records[column].fillna("").astype(str)
        names_review |= (values != "") & values.str.lower().isin(by_review)
    review_records = set(records.loc[names_review, "record_id"])
    # a curated review's report is no trial awaiting extraction: it is reported at the review level
    worklist = worklist[~worklist["record_id"].isin(review_records)].reset_index(drop=True)
    write_table(extracted, args.out, AUTO_EXTRACTED_COLUMNS)
    write_table(worklist, args.worklist, WORKLIST_COLUMNS)
    log.info(
        "%d records: %d matched to a curated study, %d on the worklist -> %s, %s",
        len(extracted),
        int((extracted["study_id"] != "").sum()),
        len(worklist),
        Path(args.out),
        Path(args.worklist),
    )
    if args.included_studies_out:
        links_rows = links.to_dict("records") if links is not None else []
        designs = config.get("designs", {})
        reports = included_reports(
            included_rows,
            studies,
            links_rows,
            extracted.to_dict("records"),
            reviews=reviews,
            review_designs=designs.get("reviews", ["systematic review"]),
        )
        chosen = _note_designs(included_studies(reports, declared), studies, designs.get("studies"))
        if args.included_reviews_out:
            write_table(included_reviews(reports), args.included_reviews_out, INCLUDED_REVIEW_COLUMNS)
        full_text = {r["record_id"]: r for r in included_rows}
        left_out = curated_not_included(studies, chosen, matched, full_text, _consensus(args.title_abstract))
        write_table(reports, args.included_reports_out, INCLUDED_REPORT_COLUMNS)
        write_table(chosen, args.included_studies_out, INCLUDED_STUDY_COLUMNS)
        write_table(left_out, args.not_included_out, CURATED_NOT_INCLUDED_COLUMNS)
        curated_in = int((chosen["curated_study_id"] != "").sum())
        log.info(
            "%d reports included at full text -> %d studies (%d curated, %d awaiting extraction, "
            "%d declared by the review team); %d curated studies not included -> %s",
            int((reports["level"] == "study").sum()),
            len(chosen),
            curated_in,
            len(chosen) - curated_in,
            int((chosen["included_by"] == "review team").sum()),
            len(left_out),
            Path(args.not_included_out),
        )
        for row in left_out.to_dict("records"):
            log.info("not synthesised: %s: %s", row["study_id"], row["reason"])
    return 0


def _note_designs(
    chosen: pd.DataFrame, studies: list[dict[str, str]], designs: list[str] | None
) -> pd.DataFrame:
    """Note each included study whose studies.csv design is not among config designs.studies."""
    if designs is None:
        return chosen
    design = {s["study_id"]: s.get("design", "") for s in studies}
    chosen = chosen.copy()
    for index, study_id in chosen["curated_study_id"].items():
        if study_id and design.get(study_id, "") not in designs:
            text = f"design {design.get(study_id, '')!r} is not among config designs.studies"
            note = chosen.at[index, "note"]
            chosen.at[index, "note"] = f"{note}; {text}" if note else text
    return chosen


def _consensus(path: str | None) -> dict[str, str] | None:
    """record_id -> title/abstract consensus (empty: undecided) from screening's title_abstract.csv."""
    if not path:
        return None
    frame = read_table(path, TITLE_ABSTRACT_COLUMNS)
    return dict(zip(frame["record_id"], frame["consensus"], strict=True))


def register(stages: Any) -> None:
    """Add `extract` to the top-level parser's subparsers."""
    extract = stages.add_parser(
        "extract", help="extract trial facts from records; list trials not yet curated; the included studies"
    )
    extract.add_argument("--records", required=True, help="records table (records.csv or unique_records.csv)")
    extract.add_argument(
        "--study-links", help="dedupe's study_links.csv (reports inherit their trial's study)"
    )
    extract.add_argument("--included", help="screening's included.csv: extract and list only these records")
    extract.add_argument(
        "--title-abstract", help="screening's title_abstract.csv: says why a curated study's records stopped"
    )
    extract.add_argument("--curated", default="data/curated", help="folder of the curated evidence tables")
    add_settings_arguments(
        extract, "extraction settings (`extraction:`, `synthesis: include_without_screened_report`)"
    )
    extract.add_argument("--out", required=True, help="auto_extracted.csv to write")
    extract.add_argument("--worklist", required=True, help="worklist.csv to write")
    extract.add_argument(
        "--included-reports-out", help="included_reports.csv: each report included at full text and its study"
    )
    extract.add_argument(
        "--included-studies-out",
        help="included_studies.csv: the studies the review includes (synthesis input)",
    )
    extract.add_argument(
        "--included-reviews-out",
        help="included_reviews.csv: curated reviews included at the review level (never pooled)",
    )
    extract.add_argument(
        "--not-included-out", help="curated_not_included.csv: curated studies not included, and why"
    )
    extract.set_defaults(func=_extract)
