"""`ohevidence reviews`: the review-of-reviews tables, overlap and the never-pooled check."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ohevidence.appraisal import AMSTAR2
from ohevidence.atomic import write_json_atomic
from ohevidence.csvio import write_csv
from ohevidence.curated import errors, load_curated, read_rows, validate_curated
from ohevidence.errors import OhevidenceError
from ohevidence.meta.result import AnalysisResult
from ohevidence.reviews.build import (
    amstar2_ratings,
    check_not_pooled,
    findings_table,
    overlap_table,
    review_table,
    screening_status,
)
from ohevidence.schema import (
    EFFECT_COLUMNS,
    INCLUDED_COLUMNS,
    INCLUDED_REVIEW_COLUMNS,
    INCLUDED_STUDY_COLUMNS,
    RECORD_COLUMNS,
    REVIEW_FINDING_COLUMNS,
    REVIEW_TABLE_COLUMNS,
    TITLE_ABSTRACT_COLUMNS,
)
from ohevidence.tableio import read_table, write_table

log = logging.getLogger("ohevidence.reviews")


def _reviews(args: argparse.Namespace) -> int:
    problems = validate_curated(args.curated, {AMSTAR2.file: args.amstar2})
    if errors(problems):
        raise OhevidenceError(f"{args.curated}: curated tables have errors; run `ohevidence validate`")
    tables = load_curated(args.curated, [])
    if not tables.reviews:  # a review with no review-of-reviews track: header-only outputs, said once
        log.warning("%s: no reviews in reviews.csv: the review-of-reviews outputs are empty", args.curated)
    reviews = [row.cells for row in tables.reviews]
    amstar_path = Path(args.amstar2) if args.amstar2 else None
    amstar = (
        amstar2_ratings(row.cells for row in read_rows(amstar_path, AMSTAR2.columns, []))
        if amstar_path is not None and amstar_path.is_file()
        else {}
    )
    records = read_table(args.records, RECORD_COLUMNS).to_dict("records")
    included = read_table(args.included, INCLUDED_COLUMNS)
    title_abstract = read_table(args.title_abstract, TITLE_ABSTRACT_COLUMNS)
    chosen_reviews = read_table(args.included_reviews, INCLUDED_REVIEW_COLUMNS)
    status = screening_status(
        reviews,
        records,
        chosen_reviews["review_id"],
        {r["record_id"]: r for r in included.to_dict("records")},
        dict(zip(title_abstract["record_id"], title_abstract["consensus"], strict=True)),
    )
    findings = [row.cells for row in tables.review_findings]
    own = {s for s in read_table(args.included_studies, INCLUDED_STUDY_COLUMNS)["curated_study_id"] if s}
    effects = read_table(args.effects, EFFECT_COLUMNS).to_dict("records")
    pooled = {s.study_id for path in args.meta or [] for s in AnalysisResult.read(path).studies}
    check_not_pooled(findings, [r["review_id"] for r in reviews], effects, pooled)
    write_table(review_table(reviews, amstar, status), args.reviews_out, REVIEW_TABLE_COLUMNS)
    write_table(findings_table(findings, reviews, amstar, status), args.findings_out, REVIEW_FINDING_COLUMNS)
    result = overlap_table([row.cells for row in tables.review_studies], reviews, own)
    Path(args.matrix_out).parent.mkdir(parents=True, exist_ok=True)
    write_csv(result.matrix.astype(str), args.matrix_out)
    write_json_atomic(args.overlap_out, result.summary)
    summary = result.summary
    log.info(
        "%d review versions (%d included at the review level), %d findings; overlap: N=%d, r=%d, c=%d, "
        "CCA=%s (%s); own trials inside a review: %s",
        len(reviews),
        sum(1 for v in status.values() if v == "included"),
        len(findings),
        summary["primary_studies"],
        summary["reviews"],
        summary["inclusions"],
        summary["cca"],
        summary["cca_band"] or "undefined",
        ", ".join(f"{s['study']} in {s['review']}" for s in summary["shared_with_own_trials"]) or "none",
    )
    return 0


def register(stages: Any) -> None:
    """Add `reviews` to the top-level parser's subparsers."""
    cmd = stages.add_parser(
        "reviews",
        help="review of reviews: included reviews, their findings, overlap (never pooled with trials)",
    )
    cmd.add_argument(
        "--curated", default="data/curated", help="folder of the curated tables (reviews.csv ...)"
    )
    cmd.add_argument("--amstar2", help="AMSTAR 2 appraisal table (optional; absent = 'not assessed')")
    cmd.add_argument("--records", required=True, help="results/dedup/unique_records.csv")
    cmd.add_argument("--included", required=True, help="results/screening/included.csv")
    cmd.add_argument("--title-abstract", required=True, help="results/screening/title_abstract.csv")
    cmd.add_argument("--included-reviews", required=True, help="results/extraction/included_reviews.csv")
    cmd.add_argument("--included-studies", required=True, help="results/extraction/included_studies.csv")
    cmd.add_argument(
        "--effects", required=True, help="results/extraction/effects.csv (checked: no review inside)"
    )
    cmd.add_argument(
        "--meta", nargs="*", default=[], help="results/meta/<id>.json (checked: no review pooled)"
    )
    cmd.add_argument("--reviews-out", required=True)
    cmd.add_argument("--findings-out", required=True)
    cmd.add_argument("--matrix-out", required=True, help="overlap_matrix.csv (primary study x review, 1/0)")
    cmd.add_argument("--overlap-out", required=True, help="overlap.json (N, r, c, CCA, band, shared trials)")
    cmd.set_defaults(func=_reviews)
