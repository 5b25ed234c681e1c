"""Small-study effects: Egger's regression test, Begg's rank test and trim-and-fill.

* Egger (Egger et al. 1997), ``model="lm"``: weighted least squares of yᵢ on SEᵢ with weights
  1/vᵢ and a free residual variance (the classic test; the SE slope's t on k − 2 df, the
  intercept the "limit" effect for SE → 0). ``model="rma"``: the mixed-effects version metafor's
  ``regtest`` runs by default (SE as a moderator, τ² by the model's estimator, z test).
* Begg & Mazumdar (1994): Kendall's τ between standardised deviates
  (yᵢ − θ_FE)/√(vᵢ − 1/Σw) and vᵢ, exact p when there are no ties.
* Trim-and-fill (Duval & Tweedie 2000) with the L0 or R0 estimator of the number of missing
  studies, the side chosen from the sign of the Egger-type slope (missing on the right when it
  is negative), iterating as metafor's ``trimfill`` does, then refitting on the filled data.
  Trim-and-fill is a sensitivity analysis, not a correction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import statsmodels.api as sm
from scipy import stats

from ohevidence.meta.model import MetaInputError, MetaResult, check_inputs, meta_regression, pool


@dataclass(frozen=True)
class EggerTest:
    model: str
    stat: float  # t (lm) or z (rma) for the SE slope
    df: int | None
    p: float
    slope: float
    limit_estimate: float  # intercept: the expected effect in an infinitely large study
    limit_ci_low: float
    limit_ci_high: float


def egger_test(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    model: Literal["lm", "rma"] = "lm",
    method: str = "REML",
    level: float = 0.95,
) -> EggerTest:
    y, v, _ = check_inputs(yi, vi)
    k = len(y)
    if k < 3:
        raise MetaInputError(f"Egger's test needs at least 3 studies, got {k}")
    sei = np.sqrt(v)
    if model == "lm":
        fit = sm.WLS(y, sm.add_constant(sei, prepend=True), weights=1 / v).fit()
        df = int(fit.df_resid)
        crit = float(stats.t.ppf(1 - (1 - level) / 2, df))
        intercept, intercept_se = float(fit.params[0]), float(fit.bse[0])
        return EggerTest(
            "lm",
            float(fit.tvalues[1]),
            df,
            float(fit.pvalues[1]),
            float(fit.params[1]),
            intercept,
            intercept - crit * intercept_se,
            intercept + crit * intercept_se,
        )
    if model == "rma":
        reg = meta_regression(y, v, sei.reshape(-1, 1), method=method, level=level)
        return EggerTest(
            "rma",
            float(reg.stat[1]),
            None,
            float(reg.p[1]),
            float(reg.coef[1]),
            float(reg.coef[0]),
            float(reg.ci_low[0]),
            float(reg.ci_high[0]),
        )
    raise MetaInputError(f"Egger model must be 'lm' or 'rma', not {model!r}")


@dataclass(frozen=True)
class RankTest:
    tau: float
    p: float


def begg_test(yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray) -> RankTest:
    y, v, _ = check_inputs(yi, vi)
    if len(y) < 3:
        raise MetaInputError(f"Begg's test needs at least 3 studies, got {len(y)}")
    w = 1 / v
    theta = np.sum(w * y) / np.sum(w)
    deviates = (y - theta) / np.sqrt(v - 1 / np.sum(w))
    ties = len(np.unique(deviates)) < len(y) or len(np.unique(v)) < len(y)
    result = stats.kendalltau(deviates, v, method="asymptotic" if ties else "exact")
    return RankTest(float(result.statistic), float(result.pvalue))


@dataclass
class TrimFillResult:
    estimator: str
    side: str
    k0: int
    se_k0: float
    p_k0: float | None  # R0 only: P(rightmost run ≥ k0 + 1) under no asymmetry
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    result: MetaResult  # the model refitted on the observed plus filled studies


def trim_and_fill(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    method: str = "FE",
    estimator: Literal["L0", "R0"] = "L0",
    side: Literal["left", "right"] | None = None,
    max_iter: int = 100,
) -> TrimFillResult:
    y0, v0, names = check_inputs(yi, vi, labels)
    k = len(y0)
    if k < 3:
        raise MetaInputError(f"trim-and-fill needs at least 3 studies, got {k}")
    if estimator not in ("L0", "R0"):
        raise MetaInputError(f"trim-and-fill estimator must be L0 or R0, not {estimator!r}")
    if side is None:
        slope = meta_regression(y0, v0, np.sqrt(v0).reshape(-1, 1), method=method).coef[1]
        side = "right" if slope < 0 else "left"
    sign = -1.0 if side == "right" else 1.0  # flip so missing studies are always on the left
    order = np.argsort(sign * y0, kind="stable")
    y, v = sign * y0[order], v0[order]
    k0, previous, se_k0 = 0, -1, 0.0
    beta = 0.0
    for _ in range(max_iter):
        if k0 == previous:
            break
        previous = k0
        beta = pool(y[: k - k0], v[: k - k0], method=method).estimate
        centred = y - beta
        ranks = stats.rankdata(np.abs(centred), method="ordinal")
        signed = np.sign(centred) * ranks
        if estimator == "R0":
            negative = -signed[signed < 0]
            raw: float = (k - (negative.max() if negative.size else 0)) - 1
            se_k0 = math.sqrt(2 * max(0.0, raw) + 2)
        else:
            sr = float(signed[signed > 0].sum())
            raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * raw**3
                + 27 * raw**2
                + 17 * raw
                - 18 * k * raw**2
                - 18 * k * raw
                + 6 * k**2 * raw
            ) / 24
            se_k0 = 4 * math.sqrt(max(var_sr, 0.0)) / (2 * k - 1)
        k0 = max(0, round(raw))
    else:
        raise MetaInputError(f"trim-and-fill did not converge in {max_iter} iterations")
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else None
    filled_y = sign * (2 * beta - y[k - k0 :]) if k0 else np.array([])
    filled_v = v[k - k0 :] if k0 else np.array([])
    all_labels = names + [f"filled {i + 1}" for i in range(k0)]
    refit = pool(np.concatenate([y0, filled_y]), np.concatenate([v0, filled_v]), all_labels, method=method)
    return TrimFillResult(estimator, side, k0, se_k0, p_k0, filled_y, filled_v, refit)
