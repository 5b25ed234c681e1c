"""Report tables (results/tables/), built from the curated tables and the meta-analysis outputs.

* characteristics of included studies by job role (a study delivered by two professions is listed
  under each);
* summary of findings per analysis (k, participants analysed where known, pooled effect with CI and
  PI, heterogeneity, subgroup test, the analysis' cautions (small k, mixed definitions), and GRADE
  from results/meta/grade/<id>.json (``ohevidence meta grade``): each domain's decision and proposal,
  lettered footnotes for every downgrade, the certainty and the absolute effect where computable);
* economic evidence: curated outcomes of domain ``cost`` with their effect from effects.csv;
* workforce strategies: the network case studies grouped by the roles they name;
* the brief's trials (studies whose ``job_role_detail`` quotes the brief) with status and what the
  synthesis could use from them;
* screening agreement: agreement.json flattened, one row per stage and reviewer pair.

Column contracts: :data:`ohevidence.schema` ``*_TABLE_COLUMNS``; every cell is text, empty when unknown.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

from ohevidence.cells import split_multi
from ohevidence.meta.grade import GradeProposal
from ohevidence.meta.io import cell_number
from ohevidence.meta.result import AnalysisResult
from ohevidence.meta.roles import JobRole
from ohevidence.report.common import (
    count_participants,
    format_number,
    read_json,
    role_label,
    study_label,
)
from ohevidence.report.forest import MEASURE_NAMES
from ohevidence.schema import GRADE_DOMAINS, NO_ROLE_NAMED

BRIEF_MARK = "brief:"
NOT_ASSESSED = "not assessed"


def read_grade(paths: Sequence[str | Path]) -> dict[str, GradeProposal]:
    """GRADE of each analysis (results/meta/grade/<id>.json, ``ohevidence meta grade``) by analysis_id."""
    proposals = [GradeProposal.read(path) for path in paths]
    return {proposal.analysis_id: proposal for proposal in proposals}


def _letters() -> Iterator[str]:
    yield from string.ascii_lowercase
    for first in string.ascii_lowercase:
        for second in string.ascii_lowercase:
            yield first + second


def grade_columns(proposal: GradeProposal | None) -> dict[str, str]:
    """The GRADE cells of one summary-of-findings row (GRADEpro style: a lettered footnote per downgrade).

    Each domain's decision (``<domain>``: the reviewer's override, else the proposal) with its
    footnote letter, the proposal (``<domain>_proposed``), the certainty (decision and proposal),
    the footnotes in words and the absolute effect where the config gives a control risk or mean.
    """
    if proposal is None:
        return {
            **{domain: NOT_ASSESSED for domain in GRADE_DOMAINS},
            **{f"{domain}_proposed": "" for domain in GRADE_DOMAINS},
            "certainty": NOT_ASSESSED,
            "certainty_proposed": "",
            "grade_footnotes": "",
            "absolute_effect": "",
            "grade_source": "",
        }
    cells: dict[str, str] = {}
    notes: list[str] = []
    letters = _letters()
    for judgement in proposal.domains:
        name = judgement.domain.replace("_", " ")
        text = judgement.decision
        if judgement.levels or judgement.override_reason:
            letter = next(letters)
            text += f" ({letter})"
            why = (
                f"reviewer's decision {judgement.decision} (proposed {judgement.proposal}): "
                f"{judgement.override_reason}. Proposal's rule: {judgement.rule}"
                if judgement.override_reason
                else judgement.rule
            )
            verb = "downgraded" if judgement.levels else "not downgraded"
            levels = (
                f" {judgement.levels} level{'s' if judgement.levels > 1 else ''}" if judgement.levels else ""
            )
            notes.append(f"{letter}. {name.capitalize()} {verb}{levels}: {why}.")
        cells[judgement.domain] = text
        cells[f"{judgement.domain}_proposed"] = judgement.proposal
    certainty = proposal.certainty
    if proposal.certainty_override_reason:
        letter = next(letters)
        certainty += f" ({letter})"
        notes.append(
            f"{letter}. Certainty set by the reviewer (derived {proposal.proposed_certainty}): "
            f"{proposal.certainty_override_reason}."
        )
    return {
        **{domain: cells[domain] for domain in GRADE_DOMAINS},
        **{f"{domain}_proposed": cells[f"{domain}_proposed"] for domain in GRADE_DOMAINS},
        "certainty": certainty,
        "certainty_proposed": f"{proposal.proposed_certainty} ({proposal.certainty_rule})",
        "grade_footnotes": " ".join(notes),
        "absolute_effect": f"{proposal.absolute.text} [{proposal.absolute.basis}]"
        if proposal.absolute
        else "",
        "grade_source": proposal.source,
    }


CHARACTERISTIC_FIELDS: tuple[str, ...] = (
    "design",
    "status",
    "country",
    "setting",
    "condition",
    "population",
    "intervention",
    "comparator",
    "n_randomised",
    "job_role_detail",
    "registry_ids",
    "pmid",
    "doi",
)


def characteristics(studies: Sequence[Mapping[str, str]], roles: Mapping[str, JobRole]) -> pd.DataFrame:
    """Characteristics of the ``studies`` (the included ones), one row per study and job role."""
    rows = []
    for study in studies:
        for role in split_multi(study.get("job_role", "")) or [""]:
            rows.append(
                {
                    "job_role": role_label(role, roles),
                    "study_id": study["study_id"],
                    "study": study_label(study["study_id"], {study["study_id"]: study}),
                    **{c: study.get(c, "") for c in CHARACTERISTIC_FIELDS},
                }
            )
    frame = pd.DataFrame(rows, columns=["job_role", "study_id", "study", *CHARACTERISTIC_FIELDS])
    return frame.sort_values(["job_role", "study_id"], kind="stable").reset_index(drop=True)


def _participants(
    meta: AnalysisResult, outcomes: Mapping[tuple[str, str], Mapping[str, str]]
) -> tuple[str, str]:
    """(participants, basis): :func:`ohevidence.report.common.count_participants`, the count the
    forest plot prints too."""
    counted = count_participants(meta, outcomes)
    basis = "arm n as extracted (analysed or randomised: see outcomes.csv notes)"
    if counted.analysed:
        basis = f"analysed n for {', '.join(counted.analysed)}; " + basis + " for the others"
    return counted.text, basis


def _studies_and_comparisons(meta: AnalysisResult) -> str:
    """Studies pooled, plus the comparisons when a multi-arm trial enters twice ("2 (3 comparisons)")."""
    comparisons = meta.k
    studies = len({s.study_id for s in meta.studies}) or comparisons
    return str(studies) if studies == comparisons else f"{studies} ({comparisons} comparisons)"


def evidence_words(meta: AnalysisResult) -> str:
    """How much evidence a row rests on: "1 study: not pooled", "2 studies", "5 studies: pooled"."""
    studies = len({s.study_id for s in meta.studies})
    if studies == 0:
        return "no study"
    comparisons = f" ({meta.k} comparisons)" if meta.k != studies else ""
    if studies == 1:
        return (
            f"1 study{comparisons}: not pooled"
            if meta.k == 1
            else f"1 study{comparisons}: not a pooled headline"
        )
    if studies == 2:
        return f"2 studies{comparisons}: not a pooled headline"
    return f"{studies} studies{comparisons}: pooled"


def question_words(meta: AnalysisResult) -> str:
    """The analysis' declared PICO in one line (dimensions not declared are left out)."""
    pico = meta.pico
    parts = [
        ("population", pico.population),
        ("intervention", pico.intervention_type),
        ("comparator", pico.comparator_type),
        ("outcome", pico.outcome_definition),
        ("time", pico.timepoint),
    ]
    return "; ".join(f"{name}: {value}" for name, value in parts if not value.startswith("not declared"))


def summary_of_findings(
    meta_files: Sequence[str | Path],
    outcomes: Mapping[tuple[str, str], Mapping[str, str]],
    grade: Mapping[str, GradeProposal] | None = None,
) -> pd.DataFrame:
    rows = []
    for path in meta_files:
        meta = AnalysisResult.read(path)
        overall = meta.overall
        reported = overall.reported if overall is not None else None
        participants, basis = _participants(meta, outcomes) if meta.studies else ("0", "")
        test = meta.subgroup_test
        heterogeneity = ""
        if overall is not None and overall.pooled and overall.q is not None:
            heterogeneity = (
                f"Tau² = {format_number(overall.tau2)}; I² = {format_number(overall.i2, 0)}%; "
                f"Q = {format_number(overall.q)}, df = {overall.q_df}, "
                f"P = {format_number(overall.q_p, 3)}"
            )
        effect = ""
        if reported is not None:
            effect = (
                f"{MEASURE_NAMES.get(meta.measure, meta.measure)} "
                f"{format_number(reported.estimate)} "
                f"[{format_number(reported.ci_low)}, {format_number(reported.ci_high)}]"
            )
        pooled = overall is not None and overall.pooled
        rows.append(
            {
                "analysis_id": meta.analysis_id,
                "outcome": f"{meta.domain.replace('_', ' ')} ({meta.measure})",
                "question": question_words(meta),
                "k": _studies_and_comparisons(meta),
                "evidence": evidence_words(meta),
                "participants": participants,
                "participants_basis": basis,
                "effect": effect
                + (
                    ""
                    if not effect or meta.headline
                    else " (single study, not pooled)"
                    if not pooled
                    else f" ({evidence_words(meta)})"
                ),
                "estimate": format_number(reported.estimate if reported else None, 4),
                "ci_low": format_number(reported.ci_low if reported else None, 4),
                "ci_high": format_number(reported.ci_high if reported else None, 4),
                "pi": ""
                if reported is None or reported.pi_low is None or meta.k < 3
                else f"[{format_number(reported.pi_low)}, {format_number(reported.pi_high)}]"
                + (" (t, k - 2 df)" if meta.pi_method == "t" else " (z)"),
                "heterogeneity": heterogeneity,
                "subgroup_test": ""
                if not test
                else f"Q = {format_number(test.q)}, df = {test.df}, P = {format_number(test.p, 3)}",
                "model": f"{meta.method}, CI {meta.ci_method}",
                **grade_columns((grade or {}).get(meta.analysis_id)),
                "mix": meta.pico.mix,
                "cautions": " | ".join(meta.notes),
                "excluded": "; ".join(f"{e.study_id}:{e.outcome_id} ({e.reason})" for e in meta.excluded),
            }
        )
    frame = pd.DataFrame(rows, columns=list(SUMMARY_OF_FINDINGS_COLUMNS))  # header-only without analyses
    if rows and list(frame.columns) != list(rows[0]):
        raise ValueError("summary of findings: SUMMARY_OF_FINDINGS_COLUMNS and the row keys differ")
    return frame


# The summary of findings' columns, in order (config/README.md describes each).
SUMMARY_OF_FINDINGS_COLUMNS: tuple[str, ...] = (
    "analysis_id",
    "outcome",
    "question",
    "k",
    "evidence",
    "participants",
    "participants_basis",
    "effect",
    "estimate",
    "ci_low",
    "ci_high",
    "pi",
    "heterogeneity",
    "subgroup_test",
    "model",
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
    "risk_of_bias_proposed",
    "inconsistency_proposed",
    "indirectness_proposed",
    "imprecision_proposed",
    "publication_bias_proposed",
    "certainty",
    "certainty_proposed",
    "grade_footnotes",
    "absolute_effect",
    "grade_source",
    "mix",
    "cautions",
    "excluded",
)


ECONOMIC_COLUMNS: tuple[str, ...] = (
    "study",
    "study_id",
    "job_role",
    "in_review",
    "kind",
    "counted",
    "currency",
    "price_year",
    "perspective",
    "amount",
    "ci_range",
    "per",
    "arm",
    "result",
    "outcome_id",
    "measure",
    "timepoint_months",
    "intervention",
    "control",
    "estimate",
    "ci",
    "flags",
    "notes",
    "source",
)
COST_FIGURE, COST_OUTCOME = "cost figure (costs.csv)", "cost outcome (outcomes.csv)"


def _roles_in_words(ids: str, roles: Mapping[str, JobRole]) -> str:
    return "; ".join(role_label(r, roles) for r in split_multi(ids)) or "Not reported"


def economic_evidence(
    costs: Sequence[Mapping[str, str]],
    outcomes: Sequence[Mapping[str, str]],
    effects: Mapping[tuple[str, str], Mapping[str, str]],
    studies: Mapping[str, Mapping[str, str]],
    roles: Mapping[str, JobRole],
    included: set[str],
) -> pd.DataFrame:
    """Every cost figure (costs.csv, any study of studies.csv) and every cost-domain outcome of the
    included studies (with the effect from arm data where the table prints none), by study and role.

    ``studies``: every curated study by id; ``included``: the study_ids the synthesis includes.
    """
    rows = []
    for cost in costs:
        sid = cost["study_id"]
        role = cost.get("job_role") or studies.get(sid, {}).get("job_role", "")
        rows.append(
            {
                "study": study_label(sid, studies),
                "study_id": sid,
                "job_role": _roles_in_words(role, roles),
                "in_review": "yes" if sid in included else "no",
                "kind": COST_FIGURE,
                **{c: cost.get(c, "") for c in ECONOMIC_COLUMNS[5:14]},
                "notes": cost.get("notes", ""),
                "source": cost.get("source", ""),
            }
        )
    for row in outcomes:
        if row.get("domain") != "cost":
            continue
        sid = row["study_id"]
        effect = effects.get((sid, row["outcome_id"])) or {}
        estimate = row.get("estimate", "")
        ci = f"[{row['ci_low']}, {row['ci_high']}]" if row.get("ci_low") and row.get("ci_high") else ""
        y, se = cell_number(effect, "yi"), cell_number(effect, "se")
        if not estimate and y is not None and se is not None and row.get("measure") in ("MD", "SMD", "RD"):
            # the engine's effect from arm data (difference measures are on their natural scale)
            estimate, ci = (
                format_number(y),
                f"[{format_number(y - 1.96 * se)}, {format_number(y + 1.96 * se)}] (from arm data)",
            )
        role = row.get("job_role") or studies.get(sid, {}).get("job_role", "")
        rows.append(
            {
                "study": study_label(sid, studies),
                "study_id": sid,
                "job_role": _roles_in_words(role, roles),
                "in_review": "yes" if sid in included else "no",
                "kind": COST_OUTCOME,
                "counted": row["outcome_id"].replace("_", " "),
                "outcome_id": row["outcome_id"],
                "measure": row.get("measure", ""),
                "timepoint_months": row.get("timepoint_months", ""),
                "intervention": _arm(row, "int"),
                "control": _arm(row, "ctl"),
                "estimate": estimate,
                "ci": ci,
                "flags": row.get("flags", ""),
                "notes": row.get("notes", ""),
                "source": row.get("source", ""),
            }
        )
    frame = pd.DataFrame(rows, columns=list(ECONOMIC_COLUMNS)).fillna("")
    return frame.sort_values(["study", "job_role", "kind"], kind="stable").reset_index(drop=True)


def _arm(row: Mapping[str, str], arm: str) -> str:
    parts = []
    if row.get(f"mean_{arm}"):
        parts.append(
            f"mean {row[f'mean_{arm}']}" + (f" (SD {row[f'sd_{arm}']})" if row.get(f"sd_{arm}") else "")
        )
    if row.get(f"events_{arm}"):
        parts.append(f"events {row[f'events_{arm}']}")
    if row.get(f"n_{arm}"):
        parts.append(f"n {row[f'n_{arm}']}")
    return ", ".join(parts)


CASE_STUDY_FIELDS = (
    "case_id",
    "organisation",
    "region",
    "year",
    "strategy",
    "strategy_type",
    "stage",
    "cost",
    "roles",
    "outcome_reported",
    "recognition",
    "coding_note",
    "source",
)
NO_ROLE_LABEL = "No role named"


def workforce_strategies(cases: Sequence[Mapping[str, str]], roles: Mapping[str, JobRole]) -> pd.DataFrame:
    """The workforce-strategy register: one row per case study and role code (taxonomy words), with its
    strategy type, stage and cost; roles in taxonomy order, the case studies that name none last."""
    order = {role: i for i, role in enumerate(roles)}
    rows = []
    for case in cases:
        codes = [c for c in split_multi(case.get("role_codes", "")) if c != NO_ROLE_NAMED]
        for code in codes or [""]:
            rows.append(
                {
                    "role": role_label(code, roles) if code else NO_ROLE_LABEL,
                    "role_id": code,
                    **{c: case.get(c, "") for c in CASE_STUDY_FIELDS},
                    "_order": order.get(code, len(order)),
                }
            )
    columns = ["role", "role_id", *CASE_STUDY_FIELDS]
    if not rows:  # no case studies: the header only
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)  # the seed's order within a role
    return frame.sort_values("_order", kind="stable")[columns].reset_index(drop=True)


# What happened to a trial of the brief, in words (brief_trials.csv what_happened).
NOT_EFFECTIVENESS_DESIGNS: dict[str, str] = {
    "pilot/feasibility RCT": "feasibility study (no effectiveness outcome)",
    "non-randomised": "non-randomised study (no effectiveness outcome)",
    "qualitative": "qualitative study (no effectiveness outcome)",
    "protocol only": "protocol only (no results)",
    "systematic review": "systematic review (not a trial)",
}
SINGLE_STUDY = "single study (not pooled)"
RESULTS_NOT_FOUND = "completed, results not found"
GROUP_WORDS = {"job_role": "by job role", "professional_group": "by professional group"}


def analysis_in_words(meta: AnalysisResult) -> str:
    """'return to work, hazard ratio, by job role': the analysis as a reader names it."""
    measure = MEASURE_NAMES.get(meta.measure, meta.measure).lower()
    group = GROUP_WORDS.get(meta.group_by, f"by {meta.group_by.replace('_', ' ')}" if meta.group_by else "")
    return ", ".join(part for part in (meta.domain.replace("_", " "), measure, group) if part)


def trial_status(study: Mapping[str, str], analyses: Sequence[str], *, has_estimate: bool) -> str:
    """What happened to a study: its design when it cannot give an effect, its status when it is not
    completed, then what the synthesis did with it ('pooled in ...' only when another study was pooled
    with it; one study alone is 'single study (not pooled)')."""
    design, status = study.get("design", ""), study.get("status", "")
    if design in NOT_EFFECTIVENESS_DESIGNS:
        parts = [NOT_EFFECTIVENESS_DESIGNS[design]]
    else:
        parts = [status] if status in ("ongoing", "discontinued") else []
        if not analyses and not has_estimate and status == "completed":
            parts.append(RESULTS_NOT_FOUND)
    parts += list(dict.fromkeys(analyses))
    if design not in NOT_EFFECTIVENESS_DESIGNS and not analyses and has_estimate:
        parts.append("estimate in no analysis")
    return "; ".join(parts)


def brief_trials(
    studies: Sequence[Mapping[str, str]],
    effects: Sequence[Mapping[str, str]],
    meta_files: Sequence[str | Path],
    roles: Mapping[str, JobRole],
    *,
    not_included: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The brief's trials, each with whether the review includes it and what estimate it gives.

    ``not_included``: study_id -> why the review does not include it (curated_not_included.csv).
    """
    not_included = not_included or {}
    in_analyses: dict[str, list[str]] = {}
    uses: dict[str, list[str]] = {}  # what each analysis did with the study, in words
    happened: dict[str, list[str]] = {}  # the status words of each analysis for the study
    for path in meta_files:
        meta = AnalysisResult.read(path)
        ids = list(dict.fromkeys(s.study_id for s in meta.studies))
        outcome = f"{meta.domain.replace('_', ' ')} ({meta.measure})"
        for sid in ids:
            in_analyses.setdefault(sid, []).append(meta.analysis_id)
            happened.setdefault(sid, []).append(
                f"pooled in {analysis_in_words(meta)} ({len(ids)} studies)" if len(ids) > 1 else SINGLE_STUDY
            )
            others = len(ids) - 1
            uses.setdefault(sid, []).append(
                f"{outcome}: meta-analysed with {others} other {'study' if others == 1 else 'studies'}"
                if others
                else f"{outcome}: single study, not pooled"
            )
    estimated = {e.get("study_id", "") for e in effects if cell_number(e, "yi") is not None}
    why_none: dict[str, str] = {}
    for effect in effects:
        if effect.get("from", "").startswith("none"):
            why_none.setdefault(effect["study_id"], effect["from"].split(":", 1)[-1].strip())
    rows = []
    for study in studies:
        if not study.get("job_role_detail", "").lower().startswith(BRIEF_MARK):
            continue
        sid = study["study_id"]
        analyses = in_analyses.get(sid, [])
        rows.append(
            {
                "study": study_label(sid, {sid: study}),
                "study_id": sid,
                "acronym": study.get("acronym", ""),
                "design": study.get("design", ""),
                "status": study.get("status", ""),
                "what_happened": trial_status(study, happened.get(sid, []), has_estimate=sid in estimated),
                "job_role": "; ".join(role_label(r, roles) for r in split_multi(study.get("job_role", "")))
                or "Not reported",
                "n_randomised": study.get("n_randomised", ""),
                "registry_ids": study.get("registry_ids", ""),
                "in_review": "no" if sid in not_included else "yes",
                "in_meta_analyses": "; ".join(analyses),
                "estimate_status": "; ".join(dict.fromkeys(uses[sid]))
                if analyses
                else f"not included in the review: {not_included[sid]}"
                if sid in not_included
                else f"no estimate: {why_none.get(sid, 'not in any analysis')}",
            }
        )
    return pd.DataFrame(rows)


def agreement_table(agreement_json: str | Path) -> pd.DataFrame:
    data = read_json(agreement_json)
    rows = []
    for stage, pairs in data.items():
        for pair in pairs or []:
            rows.append(
                {
                    "stage": stage,
                    **{
                        k: "; ".join(v) if isinstance(v, list) else "" if v is None else str(v)
                        for k, v in pair.items()
                    },
                }
            )
    return pd.DataFrame(rows)
