"""`ohevidence extract`: automatic extraction from records, and the reviewers' worklist."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ohevidence.config import DEFAULT_SCHEMA, load_config
from ohevidence.curated import errors, load_curated, validate_curated
from ohevidence.errors import OhevidenceError
from ohevidence.extract.extract import ExtractionSettings, extract_records
from ohevidence.schema import (
    AUTO_EXTRACTED_COLUMNS,
    RECORD_COLUMNS,
    STUDY_LINK_COLUMNS,
    WORKLIST_COLUMNS,
    read_table,
    write_table,
)

log = logging.getLogger("ohevidence.extract")


def _extract(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.schema)
    problems = validate_curated(args.curated)
    if errors(problems):
        raise OhevidenceError(f"{args.curated}: curated tables have errors; run `ohevidence validate`")
    tables = load_curated(args.curated, [])
    settings = ExtractionSettings.from_config(config.get("extraction", {}), tables.roles)
    records = read_table(args.records, RECORD_COLUMNS)
    links = read_table(args.study_links, STUDY_LINK_COLUMNS) if args.study_links else None
    included = None
    if args.included:
        included_ids = read_table(args.included, RECORD_COLUMNS)["record_id"]
        unknown = sorted(set(included_ids) - set(records["record_id"]))
        if unknown:
            raise OhevidenceError(f"{args.included}: record {unknown[0]!r} is not in {args.records}")
        included = set(included_ids)
    extracted, worklist = extract_records(
        records, settings, tables.studies, reports=tables.reports, study_links=links, included=included
    )
    write_table(extracted, args.out, AUTO_EXTRACTED_COLUMNS)
    write_table(worklist, args.worklist, WORKLIST_COLUMNS)
    matched = int((extracted["study_id"] != "").sum())
    log.info(
        "%d records: %d matched to a curated study, %d on the worklist -> %s, %s",
        len(extracted),
        matched,
        len(worklist),
        Path(args.out),
        Path(args.worklist),
    )
    return 0


def register(stages: Any) -> None:
    """Add `extract` to the top-level parser's subparsers."""
    extract = stages.add_parser(
        "extract", help="extract trial facts from records; list trials not yet curated"
    )
    extract.add_argument("--records", required=True, help="records table (records.csv or unique_records.csv)")
    extract.add_argument(
        "--study-links", help="dedupe's study_links.csv (reports inherit their trial's study)"
    )
    extract.add_argument("--included", help="screening's included.csv: extract and list only these records")
    extract.add_argument("--curated", default="data/curated", help="folder of the curated evidence tables")
    extract.add_argument("--config", default="config/config.yaml")
    extract.add_argument("--schema", default=str(DEFAULT_SCHEMA))
    extract.add_argument("--out", required=True, help="auto_extracted.csv to write")
    extract.add_argument("--worklist", required=True, help="worklist.csv to write")
    extract.set_defaults(func=_extract)
