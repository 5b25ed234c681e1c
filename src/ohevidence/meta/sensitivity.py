"""`ohevidence meta sensitivity`: sensitivity analyses and meta-regression of one configured analysis.

Config ``sensitivity:`` and ``mods:``; the result is a :class:`~ohevidence.meta.result.SensitivityResult`
(results/meta/sensitivity/<id>.json, contract in docs/contracts/meta_analysis_json.md).

The studies are the ones the main analysis pooled (``results/meta/<id>.json`` ``studies``), so a
sensitivity analysis never re-decides which rows enter; it only varies one thing at a time
(Cochrane Handbook 10.14):

* ``leave_one_out``: the analysis refitted without each study in turn.
* ``fixed_vs_random``: fixed effect (inverse variance) beside the random-effects model (the
  analysis's τ² estimator, REML when the analysis is FE) and DerSimonian–Laird (RevMan's).
* ``exclude_flagged``: without rows carrying a flag of ``sensitivity_exclude`` (outcomes.csv flags,
  e.g. ``needs_fulltext_check``, ``exploratory``) or a study status listed there (``discontinued``).
* ``exclude_high_rob``: without studies judged at high overall risk of bias (rob.csv); not run when
  no judgements are recorded (said in the notes).
* ``crude_vs_adjusted``: covariate-adjusted estimates only, crude (unadjusted) only, and each
  adjusted estimate replaced by the crude one from its arm data where the row has arm data for the
  measure. Adjustment is three-valued: adjusted, crude (outcomes.csv ``adjusted`` false, or an
  effect computed from arm data) or not stated (an empty cell). A row whose adjustment is not
  stated is neither: it is left out of both subsets, and the notes name it.
* ``cluster_adjustment``: without cluster trials whose effect does not account for clustering,
  and without any cluster trial. Read from an effects/outcomes column ``cluster_adjusted`` when one
  exists, else from the effect's ``from`` text (design effect applied / the trial's own
  cluster-aware estimate / no design effect).
* ``mh_peto``: Mantel–Haenszel (OR, RR, RD) and Peto (OR) fixed-effect pooling of the 2×2 counts,
  when every pooled row has them.
* ``mods:`` (``job_role`` / ``professional_group``): a mixed-effects meta-regression with the
  moderator dummy-coded (reference: the most frequent level); studies whose role is not reported
  are left out of it (said in the notes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ohevidence import effects as fx
from ohevidence.appraisal import load_rob2
from ohevidence.cells import split_multi
from ohevidence.errors import ConfigError
from ohevidence.meta.contract import to_dict
from ohevidence.meta.io import cell_number, text_frame
from ohevidence.meta.mh import mantel_haenszel, peto
from ohevidence.meta.model import (
    MetaInputError,
    MetaResult,
    meta_regression,
    pool,
    summary_fields,
)
from ohevidence.meta.result import (
    AnalysisResult,
    MainModel,
    MetaRegression,
    ModelSummary,
    RegressionStudy,
    SensitivityResult,
    SensitivityStudy,
    reporting_scale,
)
from ohevidence.meta.result import Variant as VariantRow
from ohevidence.meta.roles import NOT_REPORTED, JobRole, subgroup_of
from ohevidence.meta.spec import AnalysisSpec
from ohevidence.schema import SENSITIVITY_COLUMNS, names

CHECKS: tuple[str, ...] = (
    "leave_one_out",
    "fixed_vs_random",
    "exclude_flagged",
    "exclude_high_rob",
    "crude_vs_adjusted",
    "cluster_adjustment",
    "mh_peto",
)
MODERATORS: tuple[str, ...] = ("job_role", "professional_group")
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class StudyInput:
    """One pooled row of the main analysis with what the sensitivity analyses need to know of it."""

    label: str
    study_id: str
    outcome_id: str
    yi: float
    vi: float
    job_role: str = ""
    flags: frozenset[str] = frozenset()
    status: str = ""
    design: str = ""
    adjusted: bool | None = None  # True adjusted, False crude, None not stated
    cluster_adjusted: bool | None = None  # None: not a cluster trial
    rob_overall: str = ""
    counts: tuple[float, float, float, float] | None = None  # events_int, n_int, events_ctl, n_ctl
    crude: tuple[float, float] | None = None  # (yi, vi) from arm data when the effect is not from them
    source: str = ""


@dataclass
class Variant:
    """One refitted model: which check, what was varied, and the model (None when nothing is left)."""

    check: str
    label: str
    model: MetaResult | None
    omitted: list[str] = field(default_factory=list)
    note: str = ""


def _truth(text: str) -> bool | None:
    text = text.strip().lower()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0"}:
        return False
    return None


def cluster_status(design: str, source: str, *columns: str) -> bool | None:
    """Whether a cluster trial's effect accounts for clustering; None for an individually randomised one.

    An explicit ``cluster_adjusted`` cell (effects.csv, then outcomes.csv) wins; otherwise the
    ``from`` text decides (a design effect applied or the trial's own cluster-aware estimate: True).
    """
    if design != "cluster RCT":
        return None
    for cell in columns:
        value = _truth(cell)
        if value is not None:
            return value
    text = source.lower()
    if "no design effect" in text or "not cluster-adjusted" in text:
        return False
    return "design effect" in text or "accounts for clustering" in text or "cluster-adjusted" in text


def _crude_effect(measure: str, row: Mapping[str, str]) -> tuple[float, float] | None:
    """(yi, vi) from the outcome row's arm data (:func:`ohevidence.effects.from_arm_data`), re-signed
    like the main effect; None when the arms do not give the measure."""
    try:
        effect = fx.from_arm_data(
            measure,
            cell_number(row, "n_int"),
            cell_number(row, "n_ctl"),
            events_int=cell_number(row, "events_int"),
            events_ctl=cell_number(row, "events_ctl"),
            mean_int=cell_number(row, "mean_int"),
            sd_int=cell_number(row, "sd_int"),
            mean_ctl=cell_number(row, "mean_ctl"),
            sd_ctl=cell_number(row, "sd_ctl"),
        )
    except (fx.NotEstimable, ValueError):
        return None
    if effect is None:
        return None
    yi = -effect.yi if "reversed_direction" in split_multi(row.get("flags", "")) else effect.yi
    return float(yi), float(effect.vi)


def study_inputs(
    meta: AnalysisResult,
    effects: Sequence[Mapping[str, str]],
    outcomes: Sequence[Mapping[str, str]],
    studies: Sequence[Mapping[str, str]],
    rob: Sequence[Mapping[str, str]] = (),
) -> list[StudyInput]:
    """The main analysis's pooled rows joined with effects.csv, outcomes.csv, studies.csv and rob.csv."""
    measure = meta.measure
    effect_of: dict[tuple[str, str], Mapping[str, str]] = {}
    for row in effects:
        effect_of.setdefault((row.get("study_id", ""), row.get("outcome_id", "")), row)
    outcome_of: dict[tuple[str, str], Mapping[str, str]] = {}
    for row in outcomes:
        outcome_of.setdefault((row.get("study_id", ""), row.get("outcome_id", "")), row)
    study_of = {row.get("study_id", ""): row for row in studies}
    rob_of = {(r.get("study_id", ""), r.get("outcome_id", "")): r.get("overall", "") for r in rob}
    rows = []
    for item in meta.studies:
        key = (item.study_id, item.outcome_id)
        effect = effect_of.get(key, {})
        outcome = outcome_of.get(key, {})
        study = study_of.get(key[0], {})
        source = item.source or effect.get("from", "")
        flags = frozenset(split_multi(outcome.get("flags", "")) + split_multi(effect.get("flags", "")))
        adjusted_cell = effect.get("adjusted", "") or outcome.get("adjusted", "")
        arms = fx.is_from_arm_data(source)
        n1, n2 = cell_number(outcome, "n_int"), cell_number(outcome, "n_ctl")
        e1, e2 = cell_number(outcome, "events_int"), cell_number(outcome, "events_ctl")
        split_n = cell_number(effect, "n_ctl")
        if None not in (e2, n2, split_n) and split_n != n2:  # a shared control split among the arms
            e2, n2 = e2 * split_n / n2, split_n  # type: ignore[operator]
        counts = (e1, n1, e2, n2) if None not in (e1, n1, e2, n2) else None
        rows.append(
            StudyInput(
                label=f"{key[0]}:{key[1]}",
                study_id=key[0],
                outcome_id=key[1],
                yi=item.yi,
                vi=item.vi,
                job_role=effect.get("job_role", "") or study.get("job_role", ""),
                flags=flags,
                status=study.get("status", ""),
                design=study.get("design", ""),
                adjusted=False if arms else _truth(adjusted_cell),  # arm data give a crude effect
                cluster_adjusted=cluster_status(
                    study.get("design", ""),
                    source,
                    effect.get("cluster_adjusted", ""),
                    outcome.get("cluster_adjusted", ""),
                ),
                rob_overall=rob_of.get(key) or rob_of.get((key[0], ""), ""),
                counts=counts,  # type: ignore[arg-type]
                crude=None if arms else _crude_effect(measure, outcome),
                source=source,
            )
        )
    return rows


def _fit(
    rows: Sequence[StudyInput],
    method: str,
    ci_method: str,
    yi: Sequence[float] | None = None,
    options: Mapping[str, Any] | None = None,
) -> MetaResult | None:
    """Pool ``rows`` with the analysis's CI rules (``options``: ``AnalysisSpec.pool_options``)."""
    if not rows:
        return None
    values = [r.yi for r in rows] if yi is None else list(yi)
    return pool(
        values,
        [r.vi for r in rows],
        [r.label for r in rows],
        method=method,
        ci_method=ci_method,  # type: ignore[arg-type]
        **(options or {}),
    )


@dataclass
class _Context:
    rows: Sequence[StudyInput]
    measure: str
    method: str
    ci_method: str
    exclude: Sequence[str]
    rob_recorded: bool
    notes: list[str]
    options: Mapping[str, Any] = field(default_factory=dict)

    def fit(
        self, rows: Sequence[StudyInput], method: str | None = None, ci: str | None = None
    ) -> MetaResult | None:
        return _fit(rows, method or self.method, ci or self.ci_method, options=self.options)

    def subset(self, check: str, label: str, drop: Sequence[bool], why: str) -> list[Variant]:
        """The model without the rows marked in ``drop``; none (and a note) when no row is marked."""
        kept = [r for r, d in zip(self.rows, drop, strict=True) if not d]
        omitted = [r.label for r, d in zip(self.rows, drop, strict=True) if d]
        if not omitted:
            self.notes.append(f"{check}: '{label}' not run, no pooled row {why}")
            return []
        note = f"omits {len(omitted)} row(s) {why}" + ("; no study left" if not kept else "")
        return [Variant(check, label, self.fit(kept), omitted, note)]


def _leave_one_out(c: _Context) -> list[Variant]:
    """The analysis without each study in turn: every row of a multi-arm study leaves together."""
    studies = list(dict.fromkeys(r.study_id for r in c.rows))
    if len(studies) < 2:
        c.notes.append("leave_one_out: not run, the pooled rows come from one study")
        return []
    out = []
    for study in studies:
        omitted = [r.label for r in c.rows if r.study_id == study]
        kept = [r for r in c.rows if r.study_id != study]
        out.append(Variant("leave_one_out", f"without {study}", c.fit(kept), omitted))
    return out


def _fixed_vs_random(c: _Context) -> list[Variant]:
    random_method = "REML" if c.method == "FE" else c.method
    out = [
        Variant("fixed_vs_random", "fixed effect (inverse variance)", c.fit(c.rows, "FE", "z")),
        Variant(
            "fixed_vs_random",
            f"random effects ({random_method}, CI {c.ci_method})",
            c.fit(c.rows, random_method),
        ),
    ]
    if random_method != "DL":
        out.append(Variant("fixed_vs_random", "random effects (DL, CI z; RevMan)", c.fit(c.rows, "DL", "z")))
    return out


def _exclude_flagged(c: _Context) -> list[Variant]:
    wanted = set(c.exclude)
    drop = [bool(wanted & (r.flags | {r.status})) for r in c.rows]
    return c.subset("exclude_flagged", "excluding flagged rows", drop, "flagged " + ", ".join(sorted(wanted)))


def _exclude_high_rob(c: _Context) -> list[Variant]:
    if not c.rob_recorded:
        c.notes.append("exclude_high_rob: not run, no risk-of-bias judgements recorded (rob.csv absent)")
        return []
    drop = [r.rob_overall == "high" for r in c.rows]
    return c.subset("exclude_high_rob", "excluding high risk of bias", drop, "at high overall risk of bias")


def _crude_vs_adjusted(c: _Context) -> list[Variant]:
    check = "crude_vs_adjusted"
    unstated = [r.label for r in c.rows if r.adjusted is None]
    if unstated:
        c.notes.append(
            f"{check}: adjustment not stated for {', '.join(unstated)}: neither crude nor adjusted, so "
            "left out of both the adjusted-only and the crude-only analysis"
        )
    out = c.subset(
        check,
        "adjusted estimates only",
        [r.adjusted is not True for r in c.rows],
        "with a crude estimate or adjustment not stated",
    )
    out += c.subset(
        check,
        "crude (unadjusted) estimates only",
        [r.adjusted is not False for r in c.rows],
        "with a covariate-adjusted estimate or adjustment not stated",
    )
    swapped = [r for r in c.rows if r.adjusted is True and r.crude is not None]
    if not swapped:
        c.notes.append(f"{check}: no adjusted row has arm data for a crude estimate of this measure")
        return out
    pairs = [r.crude if r in swapped and r.crude else (r.yi, r.vi) for r in c.rows]
    model = pool(
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        [r.label for r in c.rows],
        method=c.method,
        ci_method=c.ci_method,  # type: ignore[arg-type]
        **c.options,
    )
    note = "adjusted estimate replaced by the crude one from arm data: " + ", ".join(r.label for r in swapped)
    return [*out, Variant(check, "crude estimates from arm data", model, [], note)]


def _cluster_adjustment(c: _Context) -> list[Variant]:
    check = "cluster_adjustment"
    if all(r.cluster_adjusted is None for r in c.rows):
        c.notes.append(f"{check}: not run, no cluster trial in this analysis")
        return []
    out = c.subset(
        check,
        "excluding cluster trials not adjusted for clustering",
        [r.cluster_adjusted is False for r in c.rows],
        "from a cluster trial without adjustment for clustering",
    )
    return out + c.subset(
        check,
        "excluding all cluster trials",
        [r.cluster_adjusted is not None for r in c.rows],
        "from a cluster trial",
    )


def run_checks(
    rows: Sequence[StudyInput],
    measure: str,
    checks: Sequence[str],
    *,
    method: str = "REML",
    ci_method: str = "z",
    exclude: Sequence[str] = (),
    rob_recorded: bool = False,
    options: Mapping[str, Any] | None = None,
) -> tuple[list[Variant], list[str]]:
    """Every configured check (in ``CHECKS`` order) as variants, and notes for checks that could not run.

    ``exclude`` is the analysis's ``sensitivity_exclude`` (its default is the config schema's).
    ``options`` are the analysis's PI and HKSJ guardrails (``AnalysisSpec.pool_options``), applied to
    every refit.
    """
    if len(rows) < 2:
        return [], [f"k = {len(rows)}: no sensitivity analysis (nothing was pooled)"]
    context = _Context(
        rows, measure.upper(), method, ci_method, exclude, rob_recorded, [], dict(options or {})
    )
    runners = {
        "leave_one_out": _leave_one_out,
        "fixed_vs_random": _fixed_vs_random,
        "exclude_flagged": _exclude_flagged,
        "exclude_high_rob": _exclude_high_rob,
        "crude_vs_adjusted": _crude_vs_adjusted,
        "cluster_adjustment": _cluster_adjustment,
        "mh_peto": lambda c: _mh_peto(c.rows, c.measure, c.notes),
    }
    variants: list[Variant] = []
    for check in CHECKS:
        if check in checks:
            variants.extend(runners[check](context))
    return variants, context.notes


def _mh_peto(rows: Sequence[StudyInput], measure: str, notes: list[str]) -> list[Variant]:
    if measure not in {"OR", "RR", "RD"}:
        notes.append(f"mh_peto: not run, {measure} is not a 2x2 measure")
        return []
    missing = [r.label for r in rows if r.counts is None]
    if missing:
        notes.append("mh_peto: not run, no 2x2 counts for " + ", ".join(missing))
        return []
    counts = np.array([r.counts for r in rows], dtype=float)
    e1, n1, e2, n2 = (list(column) for column in counts.T)  # events and n of each arm
    arms = (e1, n1, e2, n2)
    labels = [r.label for r in rows]
    note = "crude 2x2 counts (not covariate- or cluster-adjusted)"
    out = [
        Variant(
            "mh_peto",
            f"Mantel-Haenszel {measure} (fixed effect)",
            mantel_haenszel(measure, *arms, labels),
            [],
            note,
        )
    ]
    if measure == "OR":
        out.append(Variant("mh_peto", "Peto OR (fixed effect)", peto(*arms, labels), [], note))
    return out


# ---------------------------------------------------------------------------
# Meta-regression on job role or professional group.
# ---------------------------------------------------------------------------
def moderator_level(job_role: str, moderator: str, roles: Mapping[str, JobRole]) -> str:
    """A row's level of ``job_role`` or ``professional_group``: its subgroup (:func:`subgroup_of`)."""
    return subgroup_of(job_role, moderator, roles)[0]


def regression_on(
    rows: Sequence[StudyInput],
    mods: Sequence[str],
    roles: Mapping[str, JobRole],
    *,
    method: str = "REML",
    ci_method: str = "z",
) -> tuple[MetaRegression | None, list[str]]:
    """Meta-regression on the categorical moderators ``mods``; (result dict or None, notes)."""
    notes: list[str] = []
    unknown = [m for m in mods if m not in MODERATORS]
    if unknown:
        raise ConfigError(f"analyses: mods: {unknown[0]!r} is not one of {', '.join(MODERATORS)}")
    levels = {m: [moderator_level(r.job_role, m, roles) for r in rows] for m in mods}
    keep = [i for i in range(len(rows)) if all(levels[m][i] != NOT_REPORTED for m in mods)]
    dropped = [rows[i].label for i in range(len(rows)) if i not in keep]
    if dropped:
        notes.append("meta-regression leaves out rows whose job role is not reported: " + ", ".join(dropped))
    columns: dict[str, list[float]] = {}
    references: dict[str, str] = {}
    for m in mods:
        values = [levels[m][i] for i in keep]
        counts = pd.Series(values).value_counts()
        if len(counts) < 2:
            notes.append(f"meta-regression on {m}: not run, the moderator does not vary ({len(keep)} rows)")
            return None, notes
        ordered = sorted(counts.index, key=lambda level: (-int(counts[level]), level))
        references[m] = ordered[0]
        for level in ordered[1:]:
            columns[f"{m}={level}"] = [1.0 if v == level else 0.0 for v in values]
    sub = [rows[i] for i in keep]
    p = len(columns) + 1
    if len(sub) - p < 1:
        notes.append(
            f"meta-regression on {', '.join(mods)}: not estimable, {len(sub)} studies cannot support "
            f"{p} coefficients (an intercept and {p - 1} dummy variable(s))"
        )
        return None, notes
    try:
        fit = meta_regression(
            [r.yi for r in sub],
            [r.vi for r in sub],
            pd.DataFrame(columns),
            [r.label for r in sub],
            method=method,
            ci_method=ci_method,  # type: ignore[arg-type]
        )
    except MetaInputError as exc:
        notes.append(f"meta-regression on {', '.join(mods)}: not estimable, {exc}")
        return None, notes
    studies = [
        RegressionStudy(r.label, {m: levels[m][i] for m in mods}, r.yi, r.vi, 1 / (r.vi + fit.tau2))
        for i, r in zip(keep, sub, strict=True)
    ]
    regression = MetaRegression(
        **fit.to_dict(), mods=list(mods), reference=references, studies=studies, messages=list(fit.messages)
    )
    return regression, notes


# ---------------------------------------------------------------------------
# The whole thing, as JSON and as a table.
# ---------------------------------------------------------------------------
def model_summary(model: MetaResult | None, ratio: bool) -> ModelSummary | None:
    """k, estimate and CI (analysis and reporting scale), p, τ², I², Q of a model; None when no model."""
    if model is None:
        return None
    return ModelSummary(method=model.method, pooled=model.pooled, **summary_fields(model, ratio))


def _drift(meta: AnalysisResult, main: MetaResult | None) -> list[str]:
    """A note when the refitted main model is not the analysis's own (an option not passed through)."""
    overall = meta.overall
    if main is None or not main.pooled or overall is None or overall.estimate is None:
        return []
    ours = (main.estimate, main.ci_low, main.ci_high)
    theirs = (overall.estimate, overall.ci_low, overall.ci_high)
    if all(
        t is not None and math.isclose(o, t, rel_tol=1e-9, abs_tol=1e-12)
        for o, t in zip(ours, theirs, strict=True)
    ):
        return []
    return [
        "main: the refitted model differs from results/meta/"
        f"{meta.analysis_id}.json ({ours[0]:.6g} [{ours[1]:.6g}, {ours[2]:.6g}] vs "
        f"{theirs[0]} [{theirs[1]}, {theirs[2]}], analysis scale): an analysis option is not applied here"
    ]


def sensitivity_report(
    analysis: AnalysisSpec,
    meta: AnalysisResult,
    rows: Sequence[StudyInput],
    roles: Mapping[str, JobRole],
    *,
    rob_recorded: bool,
) -> SensitivityResult:
    """The result of ``results/meta/sensitivity/<id>.json``: every configured check, the meta-regression."""
    measure = meta.measure
    ratio = measure in fx.RATIO_MEASURES
    method = analysis.method.upper()
    ci_method = analysis.ci
    checks = list(analysis.sensitivity)
    exclude = list(analysis.sensitivity_exclude)
    options = analysis.pool_options()
    main = _fit(rows, method, ci_method, options=options)
    variants, notes = run_checks(
        rows,
        measure,
        checks,
        method=method,
        ci_method=ci_method,
        exclude=exclude,
        rob_recorded=rob_recorded,
        options=options,
    )
    notes.extend(_drift(meta, main))
    regression = None
    mods = list(analysis.mods)
    if mods and len(rows) >= 2:
        regression, more = regression_on(rows, mods, roles, method=method, ci_method=ci_method)
        notes.extend(more)
    return SensitivityResult(
        analysis_id=meta.analysis_id,
        domain=meta.domain,
        measure=measure,
        scale="log" if ratio else "natural",
        method=method,
        ci_method=ci_method,
        checks=checks,
        sensitivity_exclude=exclude,
        mods=mods,
        main=MainModel(f"main analysis ({method}, CI {ci_method})", model_summary(main, ratio)),
        studies=[
            SensitivityStudy(
                label=r.label,
                yi=r.yi,
                vi=r.vi,
                estimate=reporting_scale(r.yi, ratio),
                ci_low=reporting_scale(r.yi - _Z95 * math.sqrt(r.vi), ratio),
                ci_high=reporting_scale(r.yi + _Z95 * math.sqrt(r.vi), ratio),
                flags=sorted(r.flags),
                status=r.status,
                adjusted=r.adjusted,
                cluster_adjusted=r.cluster_adjusted,
                rob_overall=r.rob_overall or "not assessed",
            )
            for r in rows
        ],
        variants=[
            VariantRow(v.check, v.label, v.omitted, v.note, model_summary(v.model, ratio)) for v in variants
        ],
        meta_regression=regression,
        notes=notes,
    )


def sensitivity_table(report: SensitivityResult) -> pd.DataFrame:
    """Rows: main model, each variant, each meta-regression coefficient, notes (SENSITIVITY_COLUMNS)."""
    main = to_dict(report.main)
    records: list[dict[str, Any]] = [{"check": "main", **main}]
    for variant in report.variants:
        data = to_dict(variant)
        records.append({**data, "omitted": "; ".join(variant.omitted)})
    regression = report.meta_regression
    if regression:
        note = (
            f"QM = {regression.qm:.4g} (df {regression.qm_df}), p = {regression.qm_p:.4g}; "
            f"tau2 = {regression.tau2:.4g}; reference: "
            + ", ".join(f"{m} = {level}" for m, level in regression.reference.items())
        )
        for coef in regression.coefficients:
            records.append(
                {
                    "check": "meta_regression",
                    "label": coef["term"],
                    "k": regression.k,
                    "yi": coef["estimate"],
                    "se": coef["se"],
                    "ci_low": coef["ci_low"],
                    "ci_high": coef["ci_high"],
                    "p": coef["p"],
                    "tau2": regression.tau2,
                    "note": note,
                }
            )
    for text in report.notes:
        records.append({"check": "note", "label": text.split(":", 1)[0], "note": text})

    return text_frame(records, names(SENSITIVITY_COLUMNS))


def read_rob_rows(path: str | Path | None) -> tuple[list[dict[str, str]], bool]:
    """rob.csv rows (checked against its contract; an empty overall derived by the RoB 2 algorithm)
    and whether the file exists."""
    if not path or not Path(path).is_file():
        return [], False
    frame = load_rob2(path)
    return frame.to_dict("records"), True
