"""The result of one configured analysis (``results/meta/<id>.json``) as typed objects.

Modelled on metafor's ``rma`` object, which ``print``, ``forest`` and ``leave1out`` all read: one
:class:`AnalysisResult` holds the overall model and each subgroup's (:class:`PooledModel`: estimate,
se, CI, tau2, I2, H2, Q, PI ...), the test for subgroup differences, the pooled rows
(:class:`StudyRow`), the rows left out (:class:`ExcludedRow`), the three-level model when asked for
and the notes. ``ohevidence meta run`` writes it with :meth:`AnalysisResult.write`; every reader
(forest, funnel, tables, PRISMA, SWiM, sensitivity) reads it with :meth:`AnalysisResult.read`, which
checks the file against the contract (docs/contracts/meta_analysis_json.md) field by field.

The field order of each class is the key order of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from ohevidence import effects as fx
from ohevidence.meta.contract import JsonDocument, from_dict, to_dict


def reporting_scale(value: float, ratio: bool) -> float:
    """A finite value on the reporting scale (:func:`ohevidence.effects.back_transform`, never None)."""
    reported = fx.back_transform(value, ratio)
    if reported is None:
        raise ValueError(f"{value!r} has no value on the reporting scale")
    return reported


@dataclass(frozen=True)
class Reported:
    """A model's estimate, CI and PI on the reporting scale (ratios exponentiated)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pi_low: float | None
    pi_high: float | None


@dataclass(frozen=True)
class PooledModel:
    """One model (overall or a subgroup), on the analysis scale (log for ratios) unless ``reported``.

    The first twenty fields are :data:`ohevidence.meta.model.RESULT_KEYS` (metafor ``rma``: b, se,
    ci.lb/ci.ub, zval, pval, pi.lb/pi.ub, tau2 with its Q-profile CI, I2 with its CI, H2, QE, k - 1,
    QEp). ``method`` is the τ² estimator, or "single study" for a model of one study (``pooled``
    false: reported as the study itself, not a meta-analysis).
    """

    k: int
    method: str
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    stat: float | None
    p: float | None
    pi_low: float | None
    pi_high: float | None
    tau2: float | None
    tau2_ci_low: float | None
    tau2_ci_high: float | None
    i2: float | None
    i2_ci_low: float | None
    i2_ci_high: float | None
    h2: float | None
    q: float | None
    q_df: int | None
    q_p: float | None
    reported: Reported
    pooled: bool
    ci_method: str  # z or hksj as applied to this model (HKSJ refused below 3 studies says z)
    pi_method: str | None  # t or z; null when not pooled
    messages: list[str]  # small-k cautions, refusals, non-convergence: said under the forest plot


@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences (Q-between with separate τ², or metafor's QM with a common τ²)."""

    q: float
    df: int
    p: float
    tau2_mode: str  # separate | common
    groups: list[str]  # the subgroups compared (those not left out, see subgroup_test_excluded)
    all_k1: bool  # every compared subgroup holds one study: Q-between is then heterogeneity among studies


@dataclass(frozen=True)
class ThreeLevelReported:
    estimate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ThreeLevelBlock:
    """``dependent: three_level``: the three-level REML model over every row (metafor ``rma.mv``).

    The keys of :meth:`ohevidence.meta.multilevel.ThreeLevelResult.to_dict`, plus the effects it
    took (``study:outcome``) and its estimate and CI on the reporting scale.
    """

    model: str
    method: str
    test: str
    df: int | None
    level: float
    k: int
    clusters: int
    effects_per_cluster: dict[str, float]
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    p: float
    coefficients: list[dict[str, Any]]
    sigma2_between: float | None
    sigma2_within: float | None
    sigma2_total: float
    identifiable: bool
    loglik_reml: float
    q: float
    q_df: int
    q_p: float
    converged: bool
    robust: dict[str, Any]
    messages: list[str]
    effects: list[str]
    reported: ThreeLevelReported


@dataclass(frozen=True)
class StudyRow:
    """One pooled row (a study, or one comparison of a multi-arm trial), from effects.csv."""

    study_id: str
    outcome_id: str  # 'a+b' when arms were combined
    group: str  # its subgroup, named by the analysis' group_by rule (ohevidence.roles)
    job_role: str
    yi: float  # effect on the analysis scale
    vi: float
    se: float
    estimate: float  # reporting scale, with its 95% CI
    ci_low: float
    ci_high: float
    weight: float  # % in the overall model
    source: str = field(metadata={"key": "from"})  # how the effect was derived (effects.csv from)
    published: str  # the printed estimate and CI, when the effect came from them
    converted: str  # what was changed from the printed numbers, and why ('' = used as printed)
    multi_arm: str
    n_int: float | None
    n_ctl: float | None
    n_analysed: float | None
    adjusted: bool | None  # true adjusted, false crude, null not stated
    cluster_adjusted: bool
    as_published: bool  # the plotted estimate and CI are the published ones, unchanged


@dataclass(frozen=True)
class ExcludedRow:
    """A row of the analysis' domain and measure that it does not pool, with the reason."""

    study_id: str
    outcome_id: str
    reason: str


@dataclass(frozen=True)
class PicoBlock:
    """The question an analysis answers (config ``pico:``), in words for the report."""

    population: str
    intervention_type: str
    comparator_type: str
    outcome_definition: str
    timepoint: str  # the declared time window ("6 months", "6 to 12 months")
    mix: str  # the declared mix (allow_mixed) and why, in words; "" when the rows do not differ
    mix_reason: str  # config mix_reason when the rows differ ("" otherwise): why they answer one question
    evidence: str  # none | single-study | two-study | pooled (three or more studies)


@dataclass(frozen=True)
class AnalysisResult(JsonDocument):
    """``results/meta/<id>.json``: one analysis, as ``ohevidence meta run`` wrote it."""

    LABEL: ClassVar[str] = "<analysis JSON>"

    analysis_id: str
    domain: str
    measure: str
    scale: str  # log (ratios) or natural
    method: str
    ci_method: str
    pi_method: str
    hksj_floor: bool
    hksj_small_k: bool
    group_by: str
    subgroup_tau2: str
    k: int
    single_study: bool
    headline: bool  # more than two studies: a pooled headline (false: single- or two-study evidence)
    pico: PicoBlock
    role_comparison: str  # role subgroups: the plain statement of what they compare ("" without)
    overall: PooledModel | None  # null when nothing was pooled (k = 0)
    groups: dict[str, PooledModel]
    subgroup_test: SubgroupTest | None
    subgroup_test_excluded: dict[str, str]  # subgroup -> why the test leaves it out
    dependent: str
    three_level: ThreeLevelBlock | None
    mixed: dict[str, dict[str, list[str]]]  # dimension -> value -> labels (allow_mixed)
    not_recorded: dict[str, list[str]]  # dimension -> labels without a value
    studies: list[StudyRow]
    excluded: list[ExcludedRow]
    notes: list[str]

    @property
    def ratio(self) -> bool:
        return self.scale == "log"


# ---------------------------------------------------------------------------
# results/meta/sensitivity/<id>.json (ohevidence meta sensitivity).
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSummary:
    """What a sensitivity table shows of one refitted model (``meta.model.summary_fields``)."""

    method: str
    pooled: bool
    k: int
    yi: float | None  # estimate on the analysis scale
    se: float | None
    estimate: float | None  # reporting scale, with its CI
    ci_low: float | None
    ci_high: float | None
    p: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    q_p: float | None


def _summary_dict(fit: ModelSummary | None) -> dict[str, Any]:
    """A model's summary keys, or ``{"k": 0}`` when no row was left to fit."""
    return to_dict(fit) if fit is not None else {"k": 0}


def _summary_from(data: Mapping[str, Any], file: str | Path, where: str) -> ModelSummary | None:
    """The flattened summary of a model in ``data`` (None for ``{"k": 0}``); other keys are the caller's."""
    if data.get("k") == 0 and "method" not in data:
        return None
    keys = {f.name for f in fields(ModelSummary)}
    return from_dict(ModelSummary, {k: v for k, v in data.items() if k in keys}, file, where)


@dataclass(frozen=True)
class MainModel:
    """The main analysis refitted on the pooled rows (the reference line of the sensitivity plot)."""

    label: str
    fit: ModelSummary | None  # flattened into this object in the file; {"k": 0} when None

    def contract_dict(self) -> dict[str, Any]:
        return {"label": self.label, **_summary_dict(self.fit)}

    @classmethod
    def contract_read(cls, data: Mapping[str, Any], file: str | Path, where: str) -> MainModel:
        head = from_dict(_Labelled, {k: data[k] for k in ("label",) if k in data}, file, where)
        return cls(head.label, _summary_from(data, file, where))


@dataclass(frozen=True)
class _Labelled:
    label: str


@dataclass(frozen=True)
class _VariantHead:
    check: str
    label: str
    omitted: list[str]
    note: str


@dataclass(frozen=True)
class Variant:
    """One sensitivity model: the check, what it varied, the rows it omitted, and the refit."""

    check: str
    label: str
    omitted: list[str]
    note: str
    fit: ModelSummary | None  # flattened into this object in the file; {"k": 0} when nothing was left

    def contract_dict(self) -> dict[str, Any]:
        head = {"check": self.check, "label": self.label, "omitted": self.omitted, "note": self.note}
        return {**head, **_summary_dict(self.fit)}

    @classmethod
    def contract_read(cls, data: Mapping[str, Any], file: str | Path, where: str) -> Variant:
        keys = ("check", "label", "omitted", "note")
        head = from_dict(_VariantHead, {k: data[k] for k in keys if k in data}, file, where)
        return cls(head.check, head.label, head.omitted, head.note, _summary_from(data, file, where))


@dataclass(frozen=True)
class SensitivityStudy:
    """One pooled row as the sensitivity checks saw it."""

    label: str
    yi: float
    vi: float
    estimate: float
    ci_low: float
    ci_high: float
    flags: list[str]
    status: str
    adjusted: bool | None  # true adjusted, false crude, null not stated
    cluster_adjusted: bool | None  # null: not a cluster trial
    rob_overall: str


@dataclass(frozen=True)
class RegressionStudy:
    label: str
    levels: dict[str, str]
    yi: float
    vi: float
    weight: float


@dataclass(frozen=True)
class MetaRegression:
    """Mixed-effects meta-regression on job role or professional group (metafor ``rma(mods = ~ ...)``)."""

    k: int
    method: str
    ci_method: str
    coefficients: list[dict[str, Any]]  # term, estimate, se, ci_low, ci_high, stat, p
    tau2: float | None
    tau2_ci_low: float | None
    tau2_ci_high: float | None
    i2: float | None
    h2: float | None
    r2: float | None
    qe: float | None
    qe_df: int | None
    qe_p: float | None
    qm: float | None
    qm_df: int | None
    qm_df2: int | None
    qm_p: float | None
    mods: list[str]
    reference: dict[str, str]  # moderator -> its reference level
    studies: list[RegressionStudy]
    messages: list[str]


@dataclass(frozen=True)
class SensitivityResult(JsonDocument):
    """``results/meta/sensitivity/<id>.json``: every configured check of one analysis."""

    LABEL: ClassVar[str] = "<sensitivity JSON>"

    analysis_id: str
    domain: str
    measure: str
    scale: str
    method: str
    ci_method: str
    checks: list[str]
    sensitivity_exclude: list[str]
    mods: list[str]
    main: MainModel
    studies: list[SensitivityStudy]
    variants: list[Variant]
    meta_regression: MetaRegression | None
    notes: list[str]

    @property
    def ratio(self) -> bool:
        return self.scale == "log"
