"""The review-of-reviews tables: curated reviews with their screening status and AMSTAR 2 rating.

* ``reviews.csv``: one row per review version (data/curated/reviews.csv), with ``in_review``
  (``included`` when a report of it is included at the review level, else why not) and ``amstar2``
  (the overall confidence from the appraisal table amstar2.csv, else ``not assessed``);
* ``review_findings.csv``: one row per review x outcome x comparison, with its direction for the
  intervention (``benefit``, ``harm``, ``no clear difference`` when the CI includes no effect,
  ``no estimate``);
* the citation matrix (primary study x review) and the corrected covered area, listing the
  project's own included trials that sit inside a review;
* :func:`check_not_pooled`: a review's estimate never enters effects.csv or a meta-analysis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ohevidence.appraisal import AMSTAR2
from ohevidence.cells import split_multi
from ohevidence.effects import ci_direction
from ohevidence.errors import OhevidenceError
from ohevidence.reviews.overlap import citation_matrix, overlap
from ohevidence.schema import RATIO_MEASURES, REVIEW_FINDING_COLUMNS, REVIEW_TABLE_COLUMNS, names

NOT_ASSESSED = "not assessed"
INCLUDED = "included"


class ReviewPooledError(OhevidenceError):
    """A review's estimate sits among the trial effects or in a meta-analysis."""


def direction(finding: Mapping[str, str]) -> str:
    """benefit / harm / no clear difference / no estimate, for the intervention vs its comparator."""
    estimate, low, high = (finding.get(k, "") for k in ("estimate", "ci_lower", "ci_upper"))
    if not estimate or not low or not high:
        return "no estimate"
    better = {"higher": True, "lower": False}.get(finding.get("better", ""))
    return ci_direction(float(low), float(high), finding.get("measure", ""), better)


def amstar2_ratings(rows: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """review_id -> overall confidence (in words) from amstar2.csv rows (overall, else Shea 2017's rule)."""
    ratings = {}
    for row in rows:
        overall = row.get("overall", "") or AMSTAR2.derived_overall(row)
        ratings[row["study_id"]] = overall.replace("_", " ")
    return ratings


def screening_status(
    reviews: Sequence[Mapping[str, str]],
    records: Sequence[Mapping[str, str]],
    included_reviews: Iterable[str],
    full_text: Mapping[str, Mapping[str, str]],
    title_abstract: Mapping[str, str],
) -> dict[str, str]:
    """review_id -> 'included', or why not, from the screened records carrying its PMID or DOI.

    ``full_text``: screening's included.csv rows by record id; ``title_abstract``: record id ->
    title/abstract consensus.
    """
    included = set(included_reviews)
    # PMID or DOI (lower case) -> positions of the records carrying it: one pass over the records
    by_key: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        for key in {record.get("pmid", "").lower(), record.get("doi", "").lower()} - {""}:
            by_key.setdefault(key, []).append(position)
    status = {}
    for review in reviews:
        review_id = review["review_id"]
        if review_id in included:
            status[review_id] = INCLUDED
            continue
        keys = {
            k.lower()
            for k in [
                review.get("pmid", ""),
                review.get("doi", ""),
                *split_multi(review.get("other_reports", "")),
            ]
            if k
        }
        positions = sorted({p for key in keys for p in by_key.get(key, ())})
        ids = [records[p]["record_id"] for p in positions]
        if not ids:
            status[review_id] = "not screened: no search record carries its PMID or DOI"
            continue
        at_full_text = [full_text[i] for i in ids if i in full_text]
        excluded = sorted(
            {
                (r.get("full_text_reason") or "no reason given").replace("_", " ")
                for r in at_full_text
                if r.get("full_text") == "exclude"
            }
        )
        if excluded:
            status[review_id] = "excluded at full text (" + ", ".join(excluded) + ")"
        elif at_full_text:
            status[review_id] = "awaiting a full-text decision"
        elif any(title_abstract.get(i, "") == "exclude" for i in ids):
            status[review_id] = "excluded at title/abstract"
        else:
            status[review_id] = "awaiting a title/abstract decision"
    return status


def review_table(
    reviews: Sequence[Mapping[str, str]], amstar2: Mapping[str, str], in_review: Mapping[str, str]
) -> pd.DataFrame:
    rows = [
        {
            **{name: review.get(name, "") for name in names(REVIEW_TABLE_COLUMNS)},
            "amstar2": amstar2.get(review["review_id"], NOT_ASSESSED),
            "in_review": in_review[review["review_id"]],
        }
        for review in reviews
    ]
    return pd.DataFrame(rows, columns=names(REVIEW_TABLE_COLUMNS), dtype="string")


def findings_table(
    findings: Sequence[Mapping[str, str]],
    reviews: Sequence[Mapping[str, str]],
    amstar2: Mapping[str, str],
    in_review: Mapping[str, str],
) -> pd.DataFrame:
    label = {r["review_id"]: r["label"] for r in reviews}
    rows = []
    for finding in findings:
        review_id = finding["review_id"]
        row = {name: finding.get(name, "") for name in names(REVIEW_FINDING_COLUMNS)}
        row.update(
            label=label[review_id],
            direction=direction(finding),
            amstar2=amstar2.get(review_id, NOT_ASSESSED),
            in_review=in_review[review_id],
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=names(REVIEW_FINDING_COLUMNS), dtype="string")


@dataclass(frozen=True)
class OverlapResult:
    matrix: pd.DataFrame  # study, study_id, own_trial, then one 1/0 column per review label
    summary: dict[str, Any]


def overlap_table(
    review_studies: Sequence[Mapping[str, str]],
    reviews: Sequence[Mapping[str, str]],
    own_trials: Iterable[str],
) -> OverlapResult:
    """Citation matrix of the stated inclusions ('unconfirmed' rows are listed apart, not counted)."""
    label = {r["review_id"]: r["label"] for r in reviews}
    own = set(own_trials)
    stated = [s for s in review_studies if s["status"] == "included"]
    order = [r["review_id"] for r in reviews if any(s["review_id"] == r["review_id"] for s in stated)]
    matrix = citation_matrix(((s["review_id"], s["study"]) for s in stated), order)
    result = overlap(matrix)
    study_id = {s["study"]: s.get("study_id", "") for s in stated}
    frame = matrix.rename(columns=label).reset_index()
    frame.insert(1, "study_id", [study_id.get(s, "") for s in frame["study"]])
    frame.insert(2, "own_trial", ["yes" if study_id.get(s, "") in own else "no" for s in frame["study"]])
    shared = [
        {
            "review_id": s["review_id"],
            "review": label[s["review_id"]],
            "study": s["study"],
            "study_id": s["study_id"],
        }
        for s in stated
        if s.get("study_id") and s["study_id"] in own
    ]
    unconfirmed = [
        {
            "review_id": s["review_id"],
            "review": label[s["review_id"]],
            "study": s["study"],
            "note": s.get("notes", ""),
        }
        for s in review_studies
        if s["status"] != "included"
    ]
    summary: dict[str, Any] = {
        "primary_studies": result.primary_studies,
        "reviews": result.reviews,
        "inclusions": result.inclusions,
        "cca": None if result.cca is None else round(result.cca, 2),
        "cca_band": result.band,
        "shared_with_own_trials": shared,
        "unconfirmed_inclusions": unconfirmed,
        "method": "corrected covered area, Pieper et al. 2014: CCA = (c - N) / (N * r - N); "
        "bands: slight < 6, moderate 6-10, high 11-15, very high > 15 per cent",
        "scope": "only the inclusions the evidence states (review_studies.csv status included); reviews "
        "with no stated inclusion are not counted, so N, r and CCA describe the known part of each review",
    }
    return OverlapResult(frame, summary)


Z95 = 1.959963984540054


def _analysis_scale(finding: Mapping[str, str]) -> tuple[float, float]:
    """(estimate, standard error) on the analysis scale (log for ratios), as effects.csv holds them."""
    values = [float(finding[k]) for k in ("estimate", "ci_lower", "ci_upper")]
    if finding["measure"] in RATIO_MEASURES:
        values = [math.log(v) for v in values]
    return values[0], (values[2] - values[1]) / (2 * Z95)


def check_not_pooled(
    findings: Sequence[Mapping[str, str]],
    review_ids: Iterable[str],
    effects: Sequence[Mapping[str, str]],
    pooled_study_ids: Iterable[str],
) -> None:
    """Fail when a review (its id) or finding (its printed numbers) is among the trial effects or pooled."""
    ids = set(review_ids)
    problems = []
    for line, effect in enumerate(effects, start=2):
        if effect.get("study_id", "") in ids:
            problems.append(f"effects.csv line {line}: study_id {effect['study_id']} is a review")
    printed = [
        (f, _analysis_scale(f))
        for f in findings
        if f.get("estimate") and f.get("ci_lower") and f.get("ci_upper")
    ]
    for line, effect in enumerate(effects, start=2):
        try:
            yi, se = float(effect["yi"]), float(effect["se"])
        except (KeyError, ValueError):
            continue
        for finding, (y, s) in printed:
            if effect.get("measure", "") == finding["measure"] and abs(yi - y) < 1e-4 and abs(se - s) < 1e-3:
                problems.append(
                    f"effects.csv line {line}: {effect.get('study_id', '')} carries {finding['review_id']}'s "
                    f"pooled {finding['measure']} {finding['estimate']} "
                    f"({finding['ci_lower']} to {finding['ci_upper']})"
                )
    problems += [f"meta-analysis pools the review {s}" for s in sorted(set(pooled_study_ids) & ids)]
    if problems:
        raise ReviewPooledError(
            "a review's estimate would be pooled with trials (reviews are reported apart, never pooled): "
            + "; ".join(problems)
        )
