"""Small-study effects of one analysis for its funnel plot: Egger's test on the pooled rows.

The statistics are the meta stage's (:func:`ohevidence.meta.bias.egger_test`, the classic
weighted regression); :mod:`ohevidence.report.funnel` only draws them. With fewer than ``min_k``
studies (10, Cochrane Handbook 13.3.5.4) the test has too little power to tell chance from
asymmetry and is not run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ohevidence.meta.bias import egger_test
from ohevidence.meta.result import AnalysisResult

MIN_K = 10


@dataclass(frozen=True)
class EggerSummary:
    """Egger's regression test as results/figures/funnel/<id>/funnel.json gives it (key ``egger``)."""

    model: str
    t: float
    df: int | None
    p: float
    slope: float
    limit_estimate: float  # intercept: the expected effect in an infinitely large study


def small_study_test(meta: AnalysisResult, *, min_k: int = MIN_K) -> EggerSummary | None:
    """Egger's test (WLS of yi on SE, weights 1/vi) on the analysis' pooled rows; None below ``min_k``."""
    if len(meta.studies) < min_k:
        return None
    yi = np.array([s.yi for s in meta.studies])
    se = np.array([s.se for s in meta.studies])
    test = egger_test(yi, se**2, model="lm")
    return EggerSummary(
        model="Egger regression (WLS of yi on SE, weights 1/vi)",
        t=test.stat,
        df=test.df,
        p=test.p,
        slope=test.slope,
        limit_estimate=test.limit_estimate,
    )
