"""`ohevidence meta run`: one configured analysis (config ``analyses:``) -> results/meta/<id>.json, .csv.

An analysis takes the effects of one domain and measure (results/extraction/effects.csv, built by
:mod:`ohevidence.meta.effects_table`), at most one row per study (the first in outcomes.csv order; a
second row of the same study — another arm sharing the control, the same participants measured
twice — would count its participants twice, so it is listed as excluded with the reason), pools
them, and by default compares job roles. The result is an
:class:`~ohevidence.meta.result.AnalysisResult` (contract: docs/contracts/meta_analysis_json.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence import effects as fx
from ohevidence.errors import ConfigError, InputError
from ohevidence.meta.effects_table import NONE
from ohevidence.meta.io import CsvRow, clean, csv_cell, read_csv_rows, read_rows, study_label
from ohevidence.meta.model import MetaInputError, MetaResult, pool
from ohevidence.meta.multilevel import three_level
from ohevidence.meta.result import (
    AnalysisResult,
    ExcludedRow,
    PicoBlock,
    PooledModel,
    Reported,
    StudyRow,
    SubgroupTest,
    ThreeLevelBlock,
    ThreeLevelReported,
    reporting_scale,
)
from ohevidence.meta.roles import JobRole, read_job_roles, subgroup_of
from ohevidence.meta.spec import AnalysisSpec, Pico
from ohevidence.meta.subgroup import SubgroupResult, subgroup_analysis
from ohevidence.schema import (
    COMPARABILITY,
    COMPARATOR_TYPES,
    EFFECT_COLUMNS,
    META_RESULT_COLUMNS,
    OUTCOME_DEFINITIONS,
    POPULATION_TYPES,
    names,
)
from ohevidence.tableio import write_table

log = logging.getLogger("ohevidence.meta")


def _reported(model: MetaResult, ratio: bool) -> PooledModel:
    """A model's contract keys, plus its estimate, CI and PI on the reporting scale (ratios exponentiated)."""
    data = model.to_dict()
    reported = Reported(
        **{
            key: fx.back_transform(data[key], ratio)
            for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
        }
    )
    return PooledModel(
        **data,
        reported=reported,
        pooled=model.pooled,
        ci_method=model.ci_method,
        pi_method=model.pi_method if model.pooled else None,
        messages=list(model.messages),
    )


# PICO dimension -> (effects.csv column, words for the dimension, value -> words)
PICO_DIMENSIONS: dict[str, tuple[str, str, Mapping[str, str]]] = {
    "population": ("population_type", "population", POPULATION_TYPES),
    "comparator_type": ("comparator_type", "comparator", COMPARATOR_TYPES),
    "outcome_definition": ("outcome_definition", "outcome definition", OUTCOME_DEFINITIONS),
}
LEFT_OUT = "not in this analysis because"  # the start of the reason of a row outside the declared PICO


def _words(values: Sequence[str], vocabulary: Mapping[str, str]) -> str:
    return " or ".join(vocabulary.get(v, v) for v in values)


def _months(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def window_words(pico: Pico) -> str:
    """The declared time window in words ("6 months", "6 to 12 months", "up to 12 months")."""
    low, high = pico.timepoint_min, pico.timepoint_max
    if low is None and high is None:
        return ""
    if low == high:
        return f"{_months(low)} months"
    if low is None:
        return f"up to {_months(high)} months"
    if high is None:
        return f"{_months(low)} months or later"
    return f"{_months(low)} to {_months(high)} months"


def pico_mismatch(row: CsvRow, pico: Pico) -> str:
    """Why ``row`` is outside the declared PICO ("" when it matches every declared dimension)."""
    for key, (column, name, vocabulary) in PICO_DIMENSIONS.items():
        accepted = pico.accepted(key)
        if not accepted:
            continue
        value = row.text(column)
        declared = _words(accepted, vocabulary)
        if not value:
            return f"{LEFT_OUT} its {name} is not recorded ({column} empty; the analysis asks for {declared})"
        if value not in accepted:
            return f"{LEFT_OUT} its {name} is {vocabulary.get(value, value)}, not {declared}"
    if pico.has_window:
        months = row.number("timepoint_months")
        window = window_words(pico)
        if months is None:
            return f"{LEFT_OUT} its time point is not recorded (the analysis asks for {window})"
        low, high = pico.timepoint_min, pico.timepoint_max
        if (low is not None and months < low) or (high is not None and months > high):
            return f"{LEFT_OUT} its time point is {months:g} months, outside {window}"
    return ""


def _select(effects: Sequence[CsvRow], analysis: AnalysisSpec) -> tuple[list[CsvRow], list[ExcludedRow]]:
    """The rows an analysis pools, and the others of its domain and measure with the reason.

    A row outside the declared PICO (config ``pico:``) is left out with the reason
    ("not in this analysis because ..."). One row per study, except the comparisons of a multi-arm
    trial whose shared control was split (``multi_arm`` split_control): those are independent
    comparisons and each enters.
    """
    excluded_ids = set(analysis.exclude_studies)
    measure = analysis.measure
    chosen: list[CsvRow] = []
    excluded: list[ExcludedRow] = []
    seen: dict[str, list[CsvRow]] = {}
    for row in effects:
        if row.text("domain") != analysis.domain or row.text("measure").upper() != measure:
            continue
        study_id = row.text("study_id")
        reason = ""
        split = row.text("multi_arm").startswith("split_control")
        if row.text("from").startswith(NONE):
            reason = row.text("from")
        elif study_id in excluded_ids:
            reason = "excluded by the analysis (config exclude_studies)"
        elif mismatch := pico_mismatch(row, analysis.pico):
            reason = mismatch
        elif study_id in seen and not (
            split and all(r.text("multi_arm").startswith("split_control") for r in seen[study_id])
        ):
            reason = "study already in this analysis (one row per study: no double counting)"
        if reason:
            excluded.append(ExcludedRow(study_id, row.text("outcome_id"), reason))
            continue
        seen.setdefault(study_id, []).append(row)
        chosen.append(row)
    return chosen, excluded


def evidence_kind(studies: int) -> str:
    """``none``, ``single-study``, ``two-study`` or ``pooled`` (three or more studies: a pooled headline)."""
    return {0: "none", 1: "single-study", 2: "two-study"}.get(studies, "pooled")


def pico_block(
    analysis: AnalysisSpec,
    mixed: Mapping[str, Mapping[str, Sequence[str]]],
    studies: int,
    named: Mapping[str, Mapping[str, str]] | None = None,
) -> PicoBlock:
    """The declared PICO in words, and the declared mix with its reason (empty when nothing is mixed)."""
    pico = analysis.pico
    not_declared = "not declared (not checked)"
    words = {
        key: _words(pico.accepted(key), vocabulary) or not_declared
        for key, (_, _, vocabulary) in PICO_DIMENSIONS.items()
    }
    mix = ""
    if mixed:
        names_ = {
            "timepoint": "time point",
            **{key: name for key, (_, name, _) in PICO_DIMENSIONS.items()},
        }
        vocab = {key: vocabulary for key, (_, _, vocabulary) in PICO_DIMENSIONS.items()}
        parts = []
        for dimension, values in mixed.items():
            listing = "; ".join(
                f"{_value_words(dimension, value, vocab)}: "
                + ", ".join(
                    dict.fromkeys(study_label(label.split(":", 1)[0], named or {}) for label in labels)
                )
                for value, labels in values.items()
            )
            parts.append(f"{names_.get(dimension, dimension)} ({listing})")
        reason = analysis.mix_reason.strip() or "no reason given in the config (mix_reason)"
        mix = "Pools on purpose studies that differ in " + " and in ".join(parts) + f". Why: {reason}"
    reason_words = analysis.mix_reason.strip() if mixed else ""
    return PicoBlock(
        population=words["population"],
        intervention_type=pico.intervention_type or not_declared,
        comparator_type=words["comparator_type"],
        outcome_definition=words["outcome_definition"],
        timepoint=window_words(pico) or not_declared,
        mix=mix,
        mix_reason=reason_words,
        evidence=evidence_kind(studies),
    )


def _value_words(dimension: str, value: str, vocab: Mapping[str, Mapping[str, str]]) -> str:
    if dimension == "timepoint":
        return f"{value} months"
    return vocab.get(dimension, {}).get(value, value)


ROLE_CONFOUNDING = (
    "Job role is compared between trials: each role delivered a different intervention, for a different "
    "condition, in a different setting, so a difference between role subgroups may come from any of "
    "these and is not evidence that the role itself made the difference."
)


def role_comparison_words(
    groups: Mapping[str, Sequence[str]], named: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The plain statement every role subgroup output carries (empty with fewer than two subgroups).

    ``groups``: subgroup -> the study ids in it. A study with arms in two subgroups (a multi-arm
    trial whose arms were delivered by different roles) gives a within-trial comparison, said too.
    """
    if len(groups) < 2:
        return ""
    by_study: dict[str, set[str]] = {}
    for group, studies in groups.items():
        for study in studies:
            by_study.setdefault(study, set()).add(group)
    within = sorted(study_label(study, named or {}) for study, found in by_study.items() if len(found) > 1)
    if within and all(len(found) > 1 for found in by_study.values()):
        return (
            "Job roles are compared within trials: "
            + " and ".join(within)
            + " randomised participants to arms delivered by different roles, so the roles are compared "
            "directly, but each role also delivered a different intervention."
        )
    text = ROLE_CONFOUNDING
    if within:
        text += (
            " Only "
            + " and ".join(within)
            + (" compares" if len(within) == 1 else " compare")
            + " roles within one trial."
        )
    return text


def _dependent_rows(effects: Sequence[CsvRow], analysis: AnalysisSpec) -> list[CsvRow]:
    """Every usable row of the analysis's domain and measure, several per study allowed (three-level)."""
    excluded_ids = set(analysis.exclude_studies)
    return [
        row
        for row in effects
        if row.text("domain") == analysis.domain
        and row.text("measure").upper() == analysis.measure
        and not row.text("from").startswith(NONE)
        and row.text("study_id") not in excluded_ids
    ]


def three_level_block(
    effects: Sequence[CsvRow], analysis: AnalysisSpec
) -> tuple[ThreeLevelBlock | None, str]:
    """``dependent: three_level``: the three-level model over all rows (effects within studies).

    Returns (the model's JSON block with the back-transformed estimate, a one-line note). The main
    analysis stays one row per study; this model lets every row of a study in and models their
    dependence (Cochrane Handbook 10.4.4.4 / 23.3.6; metafor ``rma.mv(random = ~ 1 | study/effect)``).
    """
    rows = _dependent_rows(effects, analysis)
    studies = list(dict.fromkeys(r.text("study_id") for r in rows))
    if len(rows) < 3 or len(studies) < 2:
        return None, (
            f"three-level model not fitted: {len(rows)} effect(s) from {len(studies)} study(ies) "
            "(needs at least 3 effects from 2 studies)"
        )
    yi = [r.number("yi") for r in rows]
    vi = [r.number("vi") for r in rows]
    labels = [f"{r.text('study_id')}:{r.text('outcome_id')}" for r in rows]
    try:
        model = three_level(
            yi,  # type: ignore[arg-type]
            vi,  # type: ignore[arg-type]
            [r.text("study_id") for r in rows],
            labels,
            robust=("CR1", "CR2") if len(studies) > 2 else (),
        )
    except MetaInputError as exc:
        return None, f"three-level model not fitted: {exc}"
    ratio = analysis.measure in fx.RATIO_MEASURES
    reported = ThreeLevelReported(
        estimate=reporting_scale(model.estimate, ratio),
        ci_low=reporting_scale(float(model.ci_low[0]), ratio),
        ci_high=reporting_scale(float(model.ci_high[0]), ratio),
    )
    block = ThreeLevelBlock(**clean(model.to_dict()), effects=labels, reported=reported)
    components = (
        f"σ²between {model.sigma2_between:.4g}, σ²within {model.sigma2_within:.4g}"
        if model.identifiable
        else f"σ² total {model.sigma2_total:.4g} (one effect per study: components not identifiable)"
    )
    note = (
        f"three-level model (REML, {model.k} effects within {model.clusters} studies): "
        f"{reported.estimate:.3g} [{reported.ci_low:.3g}, {reported.ci_high:.3g}]; {components}"
    )
    return block, note


def check_comparability(
    analysis: AnalysisSpec, chosen: Sequence[CsvRow], labels: Sequence[str]
) -> tuple[dict[str, dict[str, list[str]]], dict[str, list[str]], list[str]]:
    """Mixed outcome definitions, time points, comparators or populations among the pooled rows.

    Returns (mixed: dimension -> value -> labels, unknown: dimension -> labels, notes). Rows that
    differ in a dimension the analysis does not list in ``allow_mixed`` raise :class:`ConfigError`;
    an empty value is "not recorded", listed but not counted as a difference.
    """
    allowed = set(analysis.allow_mixed)
    unknown_keys = allowed - set(COMPARABILITY)
    if unknown_keys:
        raise ConfigError(
            f"analyses: {analysis.id}: allow_mixed: unknown {sorted(unknown_keys)}; "
            f"expected some of {', '.join(COMPARABILITY)}"
        )
    mixed: dict[str, dict[str, list[str]]] = {}
    unknown: dict[str, list[str]] = {}
    notes: list[str] = []
    undeclared: list[str] = []
    for dimension, column in COMPARABILITY.items():
        values: dict[str, list[str]] = {}
        for row, label in zip(chosen, labels, strict=True):
            value = row.text(column)
            if value:
                values.setdefault(value, []).append(label)
            else:
                unknown.setdefault(dimension, []).append(label)
        if len(values) < 2:
            continue
        listing = "; ".join(f"{value}: {', '.join(members)}" for value, members in values.items())
        if dimension not in allowed:
            undeclared.append(f"{dimension} ({listing})")
        mixed[dimension] = values
        notes.append(f"mixed {dimension} (allowed by allow_mixed): {listing}")
    if undeclared:
        dimensions = ", ".join(item.split(" ", 1)[0] for item in undeclared)
        raise ConfigError(
            f"analyses: {analysis.id}: the rows to pool differ in "
            + " and in ".join(undeclared)
            + f"; pool them only on purpose, with allow_mixed: [{dimensions}] in the analysis"
        )
    if unknown:
        listing = "; ".join(f"{dimension} for {', '.join(members)}" for dimension, members in unknown.items())
        notes.append(f"comparability unchecked where not recorded: {listing}")
    return mixed, unknown, notes


def _model_notes(result: SubgroupResult) -> list[str]:
    notes: list[str] = []
    for name, model in [("overall", result.overall), *result.groups.items()]:
        for message in model.messages:
            if model.pooled:
                notes.append(f"{name}: {message}")
    return notes


def _subgroup_notes(result: SubgroupResult | None, skipped: Mapping[str, str]) -> list[str]:
    notes = [
        f"test for subgroup differences leaves out subgroup {name!r} ({why})" for name, why in skipped.items()
    ]
    if result is not None and result.groups and result.test is None:
        notes.append("test for subgroup differences not run: fewer than two subgroups left to compare")
    if result is not None and result.test is not None and result.test.all_k1:
        notes.append(
            "every subgroup in the test has k = 1: Q-between is the heterogeneity Q among those studies "
            "and says nothing about differences between roles"
        )
    return notes


def run_analysis(
    analysis: AnalysisSpec,
    effects_path: str | Path,
    studies_path: str | Path,
    job_roles_path: str | Path,
    json_out: str | Path,
    csv_out: str | Path,
) -> str:
    """Run one configured analysis; write its JSON and CSV; return a one-line summary."""
    # the first nine columns are the contract every effects.csv has; later ones (multi_arm,
    # published, comparability ...) are read as empty when an older or hand-made file lacks them
    effects = read_rows(effects_path, tuple(names(EFFECT_COLUMNS))[:9])
    named = {row["study_id"]: row for row in read_csv_rows(studies_path)}
    result = analyse(analysis, effects, read_job_roles(job_roles_path), named)
    for item in result.excluded:
        if item.reason.startswith(LEFT_OUT):
            log.info("%s: %s:%s %s", analysis.id, item.study_id, item.outcome_id, item.reason)
    result.write(json_out)
    write_table(result_table(result), csv_out, META_RESULT_COLUMNS)
    if result.overall is None:
        return "k = 0: nothing pooled"
    o = result.overall
    return (
        f"k = {o.k}, {result.measure} {o.reported.estimate:.3g} "
        f"[{o.reported.ci_low:.3g}, {o.reported.ci_high:.3g}]"
        + ("" if o.pooled else " (single study, not pooled)")
        + ("" if result.headline else f" ({result.pico.evidence} evidence, not a pooled headline)")
    )


def analyse(
    analysis: AnalysisSpec,
    effects: Sequence[CsvRow],
    roles: Mapping[str, JobRole],
    named: Mapping[str, Mapping[str, str]] | None = None,
) -> AnalysisResult:
    """The analysis of the effects.csv rows ``effects``: select, check, pool, compare subgroups.

    ``named`` (studies.csv rows by study_id) names the studies in the words of ``pico.mix`` and
    ``role_comparison``; without it they are named by id.
    """
    measure = analysis.measure
    ratio = measure in fx.RATIO_MEASURES
    chosen, excluded = _select(effects, analysis)
    labels = [f"{r.text('study_id')}:{r.text('outcome_id')}" for r in chosen]
    kinds = [subgroup_of(r.text("job_role"), analysis.group_by, roles) for r in chosen]
    groups = [label for label, _ in kinds]
    skipped = {
        label: "role not reported" if kind == "not_reported" else "combined roles"
        for label, kind in kinds
        if kind in analysis.subgroup_test_excludes
    }
    mixed, unknown, notes = check_comparability(analysis, chosen, labels)
    study_count = len({r.text("study_id") for r in chosen})
    result: SubgroupResult | None = None
    if chosen:
        result = _pool(analysis, chosen, labels, groups, skipped)
        if len(chosen) == 1:
            notes.insert(0, "a single study: reported as a single study, not pooled (not a meta-analysis)")
        elif study_count == 1:
            notes.insert(
                0, f"One study ({len(chosen)} comparisons): single-study evidence, not a pooled headline."
            )
        elif study_count == 2:
            notes.insert(0, "Two studies: reported as two-study evidence, not a pooled headline.")
        notes += _model_notes(result)
        if analysis.group_by != "none":
            notes += _subgroup_notes(result, skipped)
    else:
        notes.append("no study has a usable effect for this domain and measure: nothing to pool")
    multilevel: ThreeLevelBlock | None = None
    if analysis.dependent == "three_level":
        multilevel, note = three_level_block(effects, analysis)
        notes.append(note)
    studies: list[StudyRow] = []
    if result is not None:
        weights = dict(zip(result.overall.labels, result.overall.weights, strict=True))
        studies = [
            _study_row(r, group, float(weights[label]), ratio)
            for r, label, group in zip(chosen, labels, groups, strict=True)
        ]
    test = result.test if result is not None else None
    role_words = ""
    if result is not None and analysis.group_by != "none" and result.groups:
        members: dict[str, list[str]] = {}
        for r, group in zip(chosen, groups, strict=True):
            members.setdefault(group, []).append(r.text("study_id"))
        role_words = role_comparison_words(members, named)
        if role_words:
            notes.append(role_words)
    return AnalysisResult(
        analysis_id=analysis.id,
        domain=analysis.domain,
        measure=measure,
        scale="log" if ratio else "natural",
        method=analysis.method,
        ci_method=analysis.ci,
        pi_method=analysis.pi,
        hksj_floor=analysis.hksj_floor,
        hksj_small_k=analysis.hksj_small_k,
        group_by=analysis.group_by,
        subgroup_tau2=analysis.subgroup_tau2,
        k=len(chosen),
        single_study=len(chosen) == 1,
        headline=study_count > 2,
        pico=pico_block(analysis, mixed, study_count, named),
        role_comparison=role_words,
        overall=_reported(result.overall, ratio) if result else None,
        groups={g: _reported(m, ratio) for g, m in result.groups.items()} if result else {},
        subgroup_test=SubgroupTest(
            q=test.q,
            df=test.df,
            p=test.p,
            tau2_mode=test.tau2_mode,
            groups=list(test.groups),
            all_k1=test.all_k1,
        )
        if test is not None
        else None,
        subgroup_test_excluded=dict(skipped),
        dependent=analysis.dependent,
        three_level=multilevel,
        mixed=mixed,
        not_recorded=unknown,
        studies=studies,
        excluded=excluded,
        notes=notes,
    )


def _pool(
    analysis: AnalysisSpec,
    chosen: Sequence[CsvRow],
    labels: Sequence[str],
    groups: Sequence[str],
    skipped: Mapping[str, str],
) -> SubgroupResult:
    """The overall model, and the subgroups with their test when the rows fall in more than one."""
    yi = [_number(r, "yi") for r in chosen]
    vi = [_number(r, "vi") for r in chosen]
    ci_method: Any = analysis.ci  # the schema's enum: z | hksj
    if analysis.group_by != "none" and len(set(groups)) > 1:
        tau2_mode: Any = analysis.subgroup_tau2  # the schema's enum: separate | common
        return subgroup_analysis(
            yi,
            vi,
            list(groups),
            list(labels),
            method=analysis.method,
            ci_method=ci_method,
            tau2_mode=tau2_mode,
            test_groups=[g for g in dict.fromkeys(groups) if g not in skipped],
            **analysis.pool_options(),
        )
    overall = pool(yi, vi, labels, method=analysis.method, ci_method=ci_method, **analysis.pool_options())
    return SubgroupResult(overall, {}, None)


def _number(row: CsvRow, column: str) -> float:
    """A number every pooled effects.csv row has (yi, vi)."""
    value = row.number(column)
    if value is None:
        raise InputError(row.file, "empty", line=row.line, column=column, expected="a number")
    return value


def _study_row(r: CsvRow, group: str, weight: float, ratio: bool) -> StudyRow:
    y, v = _number(r, "yi"), _number(r, "vi")
    se = math.sqrt(v)
    return StudyRow(
        study_id=r.text("study_id"),
        outcome_id=r.text("outcome_id"),
        group=group,
        job_role=r.text("job_role"),
        yi=y,
        vi=v,
        se=se,
        estimate=reporting_scale(y, ratio),
        ci_low=reporting_scale(y - 1.959963984540054 * se, ratio),
        ci_high=reporting_scale(y + 1.959963984540054 * se, ratio),
        weight=weight,
        source=r.text("from"),
        published=r.text("published"),
        converted=r.text("converted"),
        multi_arm=r.text("multi_arm"),
        n_int=r.number("n_int"),
        n_ctl=r.number("n_ctl"),
        n_analysed=r.number("n_analysed"),
        # three-valued: true adjusted, false crude, null not stated (effects.csv adjusted)
        adjusted={"true": True, "false": False}.get(r.text("adjusted")),
        cluster_adjusted=r.text("cluster_adjusted") == "true",
        # the plotted estimate and CI are the published ones, unchanged
        as_published=bool(r.text("published")) and not r.text("converted"),
    )


def result_table(result: AnalysisResult) -> pd.DataFrame:
    """results/meta/<id>.csv (META_RESULT_COLUMNS): studies, subgroups and overall, test, excluded."""
    rows: list[dict[str, Any]] = []
    for study in result.studies:
        rows.append(
            {
                "row": "study",
                "label": f"{study.study_id}:{study.outcome_id}",
                "study_id": study.study_id,
                "outcome_id": study.outcome_id,
                "group": study.group,
                "yi": study.yi,
                "vi": study.vi,
                "se": study.se,
                "estimate": study.estimate,
                "ci_low": study.ci_low,
                "ci_high": study.ci_high,
                "weight": study.weight,
                "from": study.source,
            }
        )
    if result.overall is not None:
        for name, model in [*result.groups.items(), ("overall", result.overall)]:
            rows.append(_model_row("subgroup" if name != "overall" else "overall", name, model))
    test = result.subgroup_test
    if test is not None:
        rows.append(
            {
                "row": "subgroup_test",
                "label": f"test for subgroup differences ({test.tau2_mode} tau2)",
                "q": test.q,
                "q_df": test.df,
                "q_p": test.p,
                "from": "every tested subgroup has k = 1" if test.all_k1 else "",
            }
        )
    for item in result.excluded:
        rows.append({"row": "excluded", "label": f"{item.study_id}:{item.outcome_id}", "from": item.reason})
    table = pd.DataFrame(
        [{key: csv_cell(value) for key, value in clean(r).items()} for r in rows],
        columns=names(META_RESULT_COLUMNS),
        dtype="string",
    )
    return table.fillna("")


def _model_row(kind: str, name: str, model: PooledModel) -> dict[str, Any]:
    return {
        "row": kind,
        "label": name,
        "group": name if kind == "subgroup" else "",
        # summary_fields of the model: k, estimate on both scales, CI, p, tau2, I2, Q
        "k": model.k,
        "yi": model.estimate,
        "se": model.se,
        "estimate": model.reported.estimate,
        "ci_low": model.reported.ci_low,
        "ci_high": model.reported.ci_high,
        "p": model.p,
        "tau2": model.tau2,
        "i2": model.i2,
        "q": model.q,
        "q_p": model.q_p,
        "pi_low": model.reported.pi_low,
        "pi_high": model.reported.pi_high,
        "q_df": model.q_df,
        "weight": 100.0 if kind == "overall" else None,
        "from": "; ".join(model.messages)
        or (f"{model.method}, CI {model.ci_method}" if model.pooled else ""),
    }
