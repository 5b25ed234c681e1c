"""Evidence-and-gap map: job role x outcome domain, each cell the trials and reviews behind it.

Rows are the roles of the taxonomy (job_roles.yaml) in its order: the brief's 12 OH roles, then the
professions that delivered the trials. Columns are :data:`ohevidence.schema.MAP_DOMAINS`.

* A cell's trials are the included studies (results/extraction/included_studies.csv) of a randomised
  design (RCT, cluster RCT) whose outcome rows (effects.csv) were delivered by the role: the arm's
  role (outcomes.csv job_role, as effects.csv carries it) else the study's. One map row per trial
  outcome, so a trial with two return-to-work outcomes shows both; counts count trials.
* Certainty: the GRADE certainty (results/meta/grade/<id>.json) of the analysis that includes the
  outcome row; a row in no analysis has none (empty = not assessed).
* Direction, intervention vs comparator, from the effect in effects.csv aligned with outcomes.csv
  ``higher_is_better`` (:func:`ohevidence.meta.swim.outcome_direction`): benefit or harm when the 95% CI
  excludes no effect, no clear difference when it includes it (or when only a point estimate was
  printed), no estimate when there are no numbers.
* Reviews come from the optional review_findings.csv (review-of-reviews track): one map row per
  finding, under each role its ``job_role`` names, with the review's own certainty and direction.
* Feasibility and pilot trials, non-randomised and qualitative studies, and randomised trials without
  outcome data (ongoing, results not found) are never effectiveness evidence: they are listed apart
  (:func:`other_studies`), whether the review includes them or not (``in_review``).
* Evidence that names no role sits in a last row, "Role not reported", so nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence.cells import split_multi
from ohevidence.errors import InputError
from ohevidence.meta.result import AnalysisResult
from ohevidence.meta.swim import BENEFIT, HARM, NO_CLEAR, outcome_direction
from ohevidence.schema import (
    EVIDENCE_TYPES,
    GAP_MAP_COLUMNS,
    GRADE_CERTAINTY,
    MAP_DIRECTIONS,
    MAP_DOMAIN_LABELS,
    MAP_DOMAINS,
    MAP_OTHER_STUDY_COLUMNS,
    OUTCOME_DEFINITIONS,
    ROLE_EVIDENCE_COLUMNS,
    map_domain,
    names,
)

RANDOMISED_DESIGNS: tuple[str, ...] = ("RCT", "cluster RCT")
NO_EVIDENCE = "No randomised evidence found."
ROLE_NOT_REPORTED = "Role not reported"
# Why an included study is shown beside the map and not in it, by design.
NOT_EFFECTIVENESS: dict[str, str] = {
    "pilot/feasibility RCT": "feasibility or pilot trial (no effectiveness outcome)",
    "non-randomised": "non-randomised study (not randomised evidence)",
    "qualitative": "qualitative study (no effect estimate)",
    "protocol only": "protocol only (no results)",
}
NO_OUTCOME_DATA = "randomised trial, results not found"
ONGOING = "ongoing randomised trial (no results yet)"
DISCONTINUED = "discontinued randomised trial without outcome data"
# review_findings.csv (review-of-reviews track, issue 25 contracts): the columns the map reads.
REVIEW_FINDING_FIELDS: tuple[str, ...] = (
    "review_id",
    "label",
    "outcome_domain",
    "outcome",
    "certainty",
    "direction",
    "job_role",
)
_NUMBER_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


@dataclass(frozen=True)
class MapRole:
    """A row of the map: a taxonomy role (id, words, origin, professional group)."""

    id: str
    label: str
    origin: str
    professional_group: str


def map_roles(taxonomy: Mapping[str, Mapping[str, Any]]) -> list[MapRole]:
    """The taxonomy's roles in file order (the brief's roles first, as job_roles.yaml lists them)."""
    return [
        MapRole(
            id=role_id,
            label=str(entry.get("label") or role_id),
            origin=str(entry.get("origin") or ""),
            professional_group=str(entry.get("professional_group") or ""),
        )
        for role_id, entry in taxonomy.items()
    ]


def _outcome_words(effect: Mapping[str, str]) -> str:
    """The outcome in words: its definition (outcomes.csv ``outcome_definition``), else its id, and the
    time point: 'full return to work, 12 months'."""
    definition = OUTCOME_DEFINITIONS.get(effect.get("outcome_definition") or "", "")
    words = definition.split(" (")[0] if definition else ""
    if not words:
        words = " + ".join(part.replace("_", " ") for part in (effect.get("outcome_id") or "").split("+"))
    months = (effect.get("timepoint_months") or "").strip()
    return f"{words}, {months} months" if months else words


def map_direction(effect: Mapping[str, str], outcome: Mapping[str, str], study: Mapping[str, str]) -> str:
    """benefit / harm (95% CI excludes no effect), no clear difference, or no estimate (no numbers)."""
    found = outcome_direction(effect, outcome, study)
    if found.basis == "estimate with 95% CI":
        return {BENEFIT: "benefit", HARM: "harm", NO_CLEAR: "no clear difference"}.get(
            found.category, "no clear difference"
        )
    if found.direction in (BENEFIT, HARM):  # a point estimate without a usable CI
        return "no clear difference"
    return "no estimate"


def analyses_of(analyses: Iterable[AnalysisResult]) -> dict[tuple[str, str], list[str]]:
    """(study_id, outcome_id) -> the analyses that include the row (a combined 'a+b' row counts for a
    and b too)."""
    found: dict[tuple[str, str], list[str]] = {}
    for meta in analyses:
        for row in meta.studies:
            for outcome in {row.outcome_id, *row.outcome_id.split("+")}:
                ids = found.setdefault((row.study_id, outcome), [])
                if meta.analysis_id not in ids:
                    ids.append(meta.analysis_id)
    return found


def best_certainty(values: Iterable[str]) -> str:
    """The highest GRADE certainty of ``values`` (empty when none is assessed)."""
    given = set(values)
    found = [v for v in GRADE_CERTAINTY if v in given]
    return found[0] if found else ""


def trial_rows(
    studies: Sequence[Mapping[str, str]],
    included: set[str],
    outcomes: Sequence[Mapping[str, str]],
    effects: Sequence[Mapping[str, str]],
    analyses: Sequence[AnalysisResult],
    certainty: Mapping[str, str],
    label_of: Mapping[str, str],
) -> list[dict[str, str]]:
    """One row per included randomised trial outcome and role (gap-map columns minus the role's words)."""
    study_of = {s["study_id"]: s for s in studies}
    outcome_of = {(o.get("study_id", ""), o.get("outcome_id", "")): o for o in outcomes}
    in_analyses = analyses_of(analyses)
    rows = []
    for effect in effects:
        sid, oid = effect.get("study_id", ""), effect.get("outcome_id", "")
        study = study_of.get(sid)
        if not oid or study is None or sid not in included or study.get("design") not in RANDOMISED_DESIGNS:
            continue
        first = oid.split("+")[0]
        outcome = outcome_of.get((sid, oid)) or outcome_of.get((sid, first)) or {}
        if "pooled_review_estimate" in split_multi(outcome.get("flags", "")):
            continue
        ids = in_analyses.get((sid, oid), [])
        for role in split_multi(effect.get("job_role", "")) or [""]:
            rows.append(
                {
                    "role_id": role,
                    "domain": map_domain(effect.get("domain") or outcome.get("domain", "")),
                    "evidence_type": "trial",
                    "evidence_id": sid,
                    "evidence_label": f"{label_of.get(sid, sid)}: {_outcome_words(effect)}",
                    "certainty": best_certainty(certainty.get(a, "") for a in ids),
                    "direction": map_direction(effect, outcome, study),
                    "analysis_id": "; ".join(ids),
                }
            )
    return rows


def other_studies(
    studies: Sequence[Mapping[str, str]],
    included: set[str],
    outcomes: Sequence[Mapping[str, str]],
    roles: Sequence[MapRole],
    label_of: Mapping[str, str],
) -> pd.DataFrame:
    """Studies that are not effectiveness evidence, one row per study and role: every curated feasibility,
    pilot, non-randomised or qualitative study (included or not), and every randomised trial without an
    outcome row (ongoing, or results not found). Systematic reviews belong to the reviews track."""
    label_of_role = {r.id: r.label for r in roles}
    with_outcomes = {o.get("study_id", "") for o in outcomes if o.get("outcome_id")}
    rows = []
    for study in studies:
        sid, design, status = study["study_id"], study.get("design", ""), study.get("status", "")
        if design == "systematic review" or (design in RANDOMISED_DESIGNS and sid in with_outcomes):
            continue
        if design in RANDOMISED_DESIGNS:
            why = {"ongoing": ONGOING, "discontinued": DISCONTINUED}.get(status, NO_OUTCOME_DATA)
        else:
            why = NOT_EFFECTIVENESS.get(design, f"{design} (not randomised evidence)")
        for role in split_multi(study.get("job_role", "")) or [""]:
            rows.append(
                {
                    "role_id": role,
                    "role_label": label_of_role.get(role, role.replace("_", " "))
                    if role
                    else ROLE_NOT_REPORTED,
                    "study_id": sid,
                    "study_label": label_of.get(sid, sid),
                    "design": design,
                    "in_review": "yes" if sid in included else "no",
                    "why_not_in_map": why,
                }
            )
    return pd.DataFrame(rows, columns=names(MAP_OTHER_STUDY_COLUMNS))


def review_rows(findings: Sequence[Mapping[str, str]], path: str | Path) -> list[dict[str, str]]:
    """One row per review finding and role named (review_findings.csv, checked cell by cell)."""
    if findings:
        missing = [c for c in REVIEW_FINDING_FIELDS if c not in findings[0]]
        if missing:
            expected = "the header of review_findings.csv: " + ", ".join(REVIEW_FINDING_FIELDS)
            raise InputError(path, "missing column(s) " + ", ".join(missing), line=1, expected=expected)
    checks = {
        "outcome_domain": MAP_DOMAINS,
        "certainty": ("", *GRADE_CERTAINTY),
        "direction": MAP_DIRECTIONS,
    }
    rows = []
    for line, finding in enumerate(findings, start=2):
        for column, allowed in checks.items():
            value = finding.get(column, "")
            if value not in allowed:
                raise InputError(
                    path,
                    f"{value!r} is not valid",
                    line=getattr(finding, "line", line),
                    column=column,
                    expected=" | ".join(v or "(empty)" for v in allowed),
                )
        outcome = finding.get("outcome", "")
        for role in split_multi(finding.get("job_role", "")) or [""]:
            rows.append(
                {
                    "role_id": role,
                    "domain": finding["outcome_domain"],
                    "evidence_type": "review",
                    "evidence_id": finding["review_id"],
                    "evidence_label": f"{finding['label']}: {outcome}" if outcome else finding["label"],
                    "certainty": finding["certainty"],
                    "direction": finding["direction"],
                    "analysis_id": "",
                }
            )
    return rows


def gap_map(roles: Sequence[MapRole], evidence: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """The long map: every role x domain, its evidence rows or one empty row (an empty cell).

    Evidence of a role the taxonomy lacks cannot occur (``ohevidence validate`` checks every id);
    evidence naming no role goes to a last "Role not reported" row.
    """
    known = {r.id for r in roles}
    unknown = sorted({e["role_id"] for e in evidence if e["role_id"] and e["role_id"] not in known})
    if unknown:
        raise InputError("job_roles.yaml", "role(s) used by the evidence are not in the taxonomy: "
                         + ", ".join(unknown), expected="every job_role id in job_roles.yaml")  # fmt: skip
    rows: list[dict[str, str]] = []
    order = [(r.id, r.label, r.origin) for r in roles]
    if any(not e["role_id"] for e in evidence):
        order.append(("", ROLE_NOT_REPORTED, ""))
    for role_id, label, origin in order:
        for domain in MAP_DOMAINS:
            cell = sorted(
                (e for e in evidence if e["role_id"] == role_id and e["domain"] == domain),
                key=lambda e: (EVIDENCE_TYPES.index(e["evidence_type"]), e["evidence_label"]),
            )
            head = {"role_id": role_id, "role_label": label, "role_origin": origin, "domain": domain}
            if not cell:
                rows.append({**head, **{c: "" for c in names(GAP_MAP_COLUMNS) if c not in head}})
            for item in cell:
                rows.append({**head, **{c: item[c] for c in names(GAP_MAP_COLUMNS) if c not in head}})
    return pd.DataFrame(rows, columns=names(GAP_MAP_COLUMNS))


def certainty_range(values: Iterable[str]) -> str:
    """'low to very low' (best to worst), 'moderate', or empty when none is assessed."""
    given = set(values)
    found = [v for v in GRADE_CERTAINTY if v in given]
    if not found:
        return ""
    return found[0] if len(found) == 1 else f"{found[0]} to {found[-1]}"


def _count(n: int, noun: str) -> str:
    word = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    return f"{word} {noun}{'' if n == 1 else 's'}"


def _part(items: pd.DataFrame, noun: str) -> str:
    """'Two trials (return to work; sickness absence), very low certainty'."""
    n = items["evidence_id"].nunique()
    domains = "; ".join(MAP_DOMAIN_LABELS[d].lower() for d in MAP_DOMAINS if d in set(items["domain"]))
    certainty = certainty_range(items["certainty"])
    assessed = f"{certainty} certainty" if certainty else "certainty not assessed"
    if certainty and (items["certainty"] == "").any():
        assessed += " (some not assessed)"
    return f"{_count(n, noun)} ({domains}), {assessed}"


def role_evidence(roles: Sequence[MapRole], table: pd.DataFrame) -> pd.DataFrame:
    """One line per taxonomy role: counts, domains, certainty range and one plain sentence."""
    rows = []
    for role in roles:
        mine = table[(table["role_id"] == role.id) & (table["evidence_type"] != "")]
        trials = mine[mine["evidence_type"] == "trial"]
        reviews = mine[mine["evidence_type"] == "review"]
        parts = [_part(t, noun) for t, noun in ((trials, "trial"), (reviews, "review")) if len(t)]
        statement = NO_EVIDENCE
        if parts:
            statement = "; ".join([parts[0], *(p[:1].lower() + p[1:] for p in parts[1:])]) + "."
        rows.append(
            {
                "role_id": role.id,
                "role_label": role.label,
                "role_origin": role.origin,
                "professional_group": role.professional_group,
                "trials": str(trials["evidence_id"].nunique()),
                "reviews": str(reviews["evidence_id"].nunique()),
                "domains": "; ".join(MAP_DOMAIN_LABELS[d] for d in MAP_DOMAINS if d in set(mine["domain"])),
                "certainty": certainty_range(mine["certainty"]),
                "statement": statement,
            }
        )
    return pd.DataFrame(rows, columns=names(ROLE_EVIDENCE_COLUMNS))


@dataclass(frozen=True)
class EvidenceMap:
    """The three tables of results/evidence_map/."""

    gap_map: pd.DataFrame
    role_evidence: pd.DataFrame
    other_studies: pd.DataFrame


def build_evidence_map(
    taxonomy: Mapping[str, Mapping[str, Any]],
    studies: Sequence[Mapping[str, str]],
    included: set[str],
    outcomes: Sequence[Mapping[str, str]],
    effects: Sequence[Mapping[str, str]],
    analyses: Sequence[AnalysisResult],
    certainty: Mapping[str, str],
    review_findings: Sequence[Mapping[str, str]] = (),
    review_findings_path: str | Path = "review_findings.csv",
    label_of: Mapping[str, str] | None = None,
) -> EvidenceMap:
    """The map from the stage outputs; ``certainty``: analysis_id -> GRADE certainty; ``label_of``:
    study_id -> the study as the report names it (the id when missing)."""
    label_of = label_of or {}
    roles = map_roles(taxonomy)
    evidence = trial_rows(studies, included, outcomes, effects, analyses, certainty, label_of)
    evidence += review_rows(review_findings, review_findings_path)
    table = gap_map(roles, evidence)
    return EvidenceMap(
        gap_map=table,
        role_evidence=role_evidence(roles, table),
        other_studies=other_studies(studies, included, outcomes, roles, label_of),
    )
