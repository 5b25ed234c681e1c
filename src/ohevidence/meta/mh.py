"""Fixed-effect pooling of 2×2 tables: Mantel–Haenszel (OR, RR, RD) and Peto's one-step OR.

Both use the raw counts, so sparse tables need no continuity correction (the reason Cochrane
prefers them for rare events, Handbook 10.4.4). Variances: Robins–Breslow–Greenland (1986) for
the MH OR, Greenland & Robins (1985) for the MH RR, and for the MH RD Sato, Greenland & Robins
(1989), which stays valid both for many sparse strata and few large ones (metafor's choice);
``rd_variance="GR"`` gives Greenland & Robins (1985), the formula RevMan documents. The
heterogeneity Q for MH is Σ wᵢ(yᵢ − θ_MH)² over the studies' inverse-variance effects (0.5
added only to zero-cell tables, double-zero tables left out), for Peto
Σ (O−E)²/V − (Σ(O−E))²/ΣV, as metafor's ``rma.mh`` and ``rma.peto`` compute them; I² = (Q − df)/Q.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ohevidence.effects import NotEstimable, two_by_two
from ohevidence.meta.model import MetaInputError, MetaResult


def _tables(
    events_int: Sequence[float],
    n_int: Sequence[float],
    events_ctl: Sequence[float],
    n_ctl: Sequence[float],
    labels: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    a, n1, c, n2 = (np.asarray(x, dtype=float) for x in (events_int, n_int, events_ctl, n_ctl))
    names = [str(x) for x in labels] if labels is not None else [str(i + 1) for i in range(len(a))]
    if not len(a) == len(n1) == len(c) == len(n2) == len(names) or len(a) == 0:
        raise MetaInputError("2x2 inputs must be non-empty and of equal length")
    for i, name in enumerate(names):
        values = (a[i], n1[i], c[i], n2[i])
        if not all(math.isfinite(x) for x in values):
            raise MetaInputError(f"study {name!r}: 2x2 counts must be finite numbers, got {values}")
        if n1[i] <= 0 or n2[i] <= 0 or not 0 <= a[i] <= n1[i] or not 0 <= c[i] <= n2[i]:
            raise MetaInputError(f"study {name!r}: expected 0 <= events <= n and n > 0, got {values}")
    return a, n1 - a, c, n2 - c, names


def _result(
    method: str,
    estimate: float,
    variance: float,
    q: float,
    k_q: int,
    y: np.ndarray,
    v: np.ndarray,
    names: list[str],
    weights: np.ndarray,
    level: float,
) -> MetaResult:
    se = math.sqrt(variance)
    crit = float(stats.norm.ppf(1 - (1 - level) / 2))
    z = estimate / se
    df = k_q - 1
    has_q = df >= 1
    return MetaResult(
        method=method,
        ci_method="z",
        k=len(names),
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        stat=z,
        p=float(2 * stats.norm.sf(abs(z))),
        pi_low=None,
        pi_high=None,
        tau2=0.0,
        tau2_ci_low=None,
        tau2_ci_high=None,
        i2=(max(0.0, 100 * (q - df) / q) if q > 0 else 0.0) if has_q else None,
        i2_ci_low=None,
        i2_ci_high=None,
        h2=q / df if has_q else None,
        q=q if has_q else None,
        q_df=df if has_q else None,
        q_p=float(stats.chi2.sf(q, df)) if has_q else None,
        yi=y,
        vi=v,
        labels=names,
        weights=100 * weights / np.sum(weights),
        level=level,
    )


def _study_effects(
    measure: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Inverse-variance effects for the per-study rows and Q (double-zero tables left out)."""
    y, v, keep = [], [], []
    for i in range(len(a)):
        try:
            effect = two_by_two(measure, a[i], a[i] + b[i], c[i], c[i] + d[i], double_zero="exclude")
        except NotEstimable:
            y.append(np.nan)
            v.append(np.nan)
            continue
        y.append(effect.yi)
        v.append(effect.vi)
        keep.append(i)
    return np.array(y), np.array(v), keep


def mantel_haenszel(
    measure: str,
    events_int: Sequence[float],
    n_int: Sequence[float],
    events_ctl: Sequence[float],
    n_ctl: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    level: float = 0.95,
    rd_variance: str = "SGR",
) -> MetaResult:
    """Mantel–Haenszel pooled log OR, log RR or RD (fixed effect)."""
    measure = measure.upper()
    if measure not in {"OR", "RR", "RD"}:
        raise MetaInputError(f"Mantel-Haenszel pools OR, RR or RD, not {measure!r}")
    a, b, c, d, names = _tables(events_int, n_int, events_ctl, n_ctl, labels)
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        r, s = a * d / n, b * c / n
        pp, qq = (a + d) / n, (b + c) / n
        sr, ss = r.sum(), s.sum()
        if sr == 0 or ss == 0:
            raise MetaInputError("Mantel-Haenszel OR is not estimable: no discordant information")
        estimate = math.log(sr / ss)
        variance = (
            np.sum(pp * r) / (2 * sr**2)
            + np.sum(pp * s + qq * r) / (2 * sr * ss)
            + np.sum(qq * s) / (2 * ss**2)
        )
        weights = s
    elif measure == "RR":
        r, s = a * n2 / n, c * n1 / n
        sr, ss = r.sum(), s.sum()
        if sr == 0 or ss == 0:
            raise MetaInputError("Mantel-Haenszel RR is not estimable: no events in one arm of every study")
        estimate = math.log(sr / ss)
        variance = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2) / (sr * ss)
        weights = s
    else:
        weights = n1 * n2 / n
        estimate = float(np.sum(a * n2 / n - c * n1 / n) / weights.sum())
        if rd_variance == "SGR":
            variance = (
                estimate * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
                + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2
            ) / weights.sum() ** 2
        elif rd_variance == "GR":
            variance = np.sum((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * n**2)) / weights.sum() ** 2
        else:
            raise MetaInputError(f"rd_variance must be 'SGR' or 'GR', not {rd_variance!r}")
    if not variance > 0:
        raise MetaInputError(f"Mantel-Haenszel {measure}: variance is zero")
    y, v, keep = _study_effects(measure, a, b, c, d, names)
    q = float(np.sum((y[keep] - estimate) ** 2 / v[keep])) if keep else 0.0
    return _result(f"MH-{measure}", estimate, float(variance), q, len(keep), y, v, names, weights, level)


def peto(
    events_int: Sequence[float],
    n_int: Sequence[float],
    events_ctl: Sequence[float],
    n_ctl: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> MetaResult:
    """Peto's one-step log OR: Σ(O − E)/ΣV, variance 1/ΣV."""
    a, b, c, d, names = _tables(events_int, n_int, events_ctl, n_ctl, labels)
    n1, n2 = a + b, c + d
    n = n1 + n2
    events, non_events = a + c, b + d
    expected = events * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        hyper_v = np.where(n > 1, events * non_events * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    informative = hyper_v > 0
    if not informative.any():
        raise MetaInputError("Peto OR is not estimable: no study has both events and non-events")
    o_e = a - expected
    sum_v = float(hyper_v.sum())
    estimate = float(o_e.sum()) / sum_v
    y = np.where(informative, o_e / np.where(informative, hyper_v, 1), np.nan)
    v = np.where(informative, 1 / np.where(informative, hyper_v, 1), np.nan)
    q = max(0.0, float(np.sum(o_e[informative] ** 2 / hyper_v[informative])) - float(o_e.sum()) ** 2 / sum_v)
    return _result("Peto-OR", estimate, 1 / sum_v, q, int(informative.sum()), y, v, names, hyper_v, level)
