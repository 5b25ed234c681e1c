"""Meta-analysis: pooling, heterogeneity, subgroups, meta-regression, three-level models, sensitivity, bias.

See :mod:`ohevidence.meta.model` for the conventions (metafor's) the numbers follow.

One module per ``ohevidence meta`` verb: :mod:`~ohevidence.meta.effects_table` (``meta effects``),
:mod:`~ohevidence.meta.analysis` (``meta run``: an :class:`~ohevidence.meta.spec.AnalysisSpec` in, an
:class:`~ohevidence.meta.result.AnalysisResult` out), :mod:`~ohevidence.meta.sensitivity`
(``meta sensitivity``); and the syntheses the report draws: :mod:`~ohevidence.meta.swim` (SWiM),
:mod:`~ohevidence.meta.funnel` (Egger's test), :mod:`~ohevidence.meta.influence` (leave-one-out,
cumulative). Nothing here imports :mod:`ohevidence.report`.
"""

from ohevidence.meta.bias import begg_test, egger_test, trim_and_fill
from ohevidence.meta.influence import cumulative, leave_one_out
from ohevidence.meta.mh import mantel_haenszel, peto
from ohevidence.meta.model import (
    CI_METHODS,
    ESTIMATORS,
    RESULT_KEYS,
    MetaInputError,
    MetaResult,
    RegressionResult,
    meta_regression,
    pool,
    single_study,
)
from ohevidence.meta.multilevel import ThreeLevelResult, three_level
from ohevidence.meta.subgroup import SubgroupResult, subgroup_analysis

__all__ = [
    "CI_METHODS",
    "ESTIMATORS",
    "RESULT_KEYS",
    "MetaInputError",
    "MetaResult",
    "RegressionResult",
    "SubgroupResult",
    "ThreeLevelResult",
    "begg_test",
    "cumulative",
    "egger_test",
    "leave_one_out",
    "mantel_haenszel",
    "meta_regression",
    "peto",
    "pool",
    "single_study",
    "subgroup_analysis",
    "three_level",
    "trim_and_fill",
]
