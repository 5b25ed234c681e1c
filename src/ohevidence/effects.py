"""Effect sizes and their sampling variances, each recording how it was derived.

Ratio measures (RR, OR, IRR, HR, ROM) live on the natural-log scale (``yi = ln ratio``);
differences (RD, MD, SMD) on their own scale. Every function returns an :class:`Effect`
whose ``source`` says, in words a reviewer can check, which data and formula produced it
(written to the ``from`` column of ``effects.csv``).

Conventions follow metafor's ``escalc`` so pooled numbers agree with it:

* 2×2 tables (RR, OR, RD): 0.5 is added to every cell of a study with a zero cell and only
  to such studies (``correction``/``correct``). A *double-zero* study (no events in either
  arm, or every participant an event in both) carries no information on a ratio scale
  (Cochrane Handbook 10.4.4.1); by default it raises :class:`NotEstimable` for RR and OR so
  the caller lists it as not pooled, and it is kept for RD (an RD of 0 is information). Pass
  ``double_zero="correct"`` to keep it with the correction, as ``escalc(drop00=FALSE)`` does.
* SMD is Hedges' g with the exact small-sample correction
  J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)), m = n1 + n2 − 2, and metafor's default large-sample
  variance ``"LS"``: 1/n1 + 1/n2 + g²/(2(n1+n2)). Alternatives: ``"LS2"`` (Borenstein et al.
  2009: J²·[1/n1 + 1/n2 + d²/(2(n1+n2))]), ``"UB"`` (Hedges 1983 unbiased:
  1/n1 + 1/n2 + (1 − (m−2)/(m J²))·g²) and ``"RevMan"`` (1/n1 + 1/n2 + g²/(2(n1+n2−3.94))).
* Generic inverse variance (Cochrane Handbook 6.3.1–6.3.2): SE from a CI at level L is
  (upper − lower)/(2·z_{(1+L)/2}) on the analysis scale; from a two-sided p-value it is
  |estimate| / z_{1−p/2}. With ``df`` given (small trials analysed with t), t quantiles are used.
* Cluster trials analysed as if individually randomised (Handbook 23.1.4): the variance is
  multiplied by the design effect 1 + (m − 1)·ICC, m the mean cluster size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from scipy import special, stats

RATIO_MEASURES = frozenset({"RR", "OR", "HR", "IRR", "ROM", "PETO_OR"})
DIFFERENCE_MEASURES = frozenset({"RD", "MD", "SMD"})
MEASURES = RATIO_MEASURES | DIFFERENCE_MEASURES


def ci_direction(low: float, high: float, measure: str, higher_is_better: bool | None) -> str:
    """Direction of a printed estimate for the intervention: 'no clear difference' when the CI holds
    no effect (1 for ratios, 0 for differences), else 'benefit' or 'harm' by which side is better;
    'no estimate' when the better side is not known."""
    null = 1.0 if measure in RATIO_MEASURES else 0.0
    if low <= null <= high:
        return "no clear difference"
    if higher_is_better is None:
        return "no estimate"
    return "benefit" if (low > null) == higher_is_better else "harm"


SmdVariance = Literal["LS", "LS2", "UB", "RevMan"]
CorrectionRule = Literal["only0", "all", "none"]
DoubleZero = Literal["exclude", "correct"]


class NotEstimable(ValueError):
    """The study's data cannot give this effect (e.g. a double-zero study on a ratio scale)."""


@dataclass(frozen=True)
class Effect:
    """One study's effect: ``yi`` (log scale for ratios) and its sampling variance ``vi``."""

    yi: float
    vi: float
    measure: str
    source: str  # how it was derived (the `from` column)

    @property
    def se(self) -> float:
        return math.sqrt(self.vi)

    @property
    def is_ratio(self) -> bool:
        return self.measure in RATIO_MEASURES


def _check_count(name: str, value: float, *, positive: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} number, got {value}")


# ---------------------------------------------------------------------------
# Binary outcomes: 2×2 tables.
# ---------------------------------------------------------------------------
def two_by_two(
    measure: str,
    events_int: float,
    n_int: float,
    events_ctl: float,
    n_ctl: float,
    *,
    correction: float = 0.5,
    correct: CorrectionRule = "only0",
    double_zero: DoubleZero | None = None,
) -> Effect:
    """Log RR, log OR or RD from events and group sizes (intervention vs control).

    ``correct="only0"`` adds ``correction`` to all four cells of a table with a zero cell
    (metafor ``to="only0"``); ``"all"`` to every table; ``"none"`` never (a zero cell then
    raises :class:`NotEstimable` where the variance would be undefined). ``double_zero``
    defaults to ``"exclude"`` for RR/OR and ``"correct"`` for RD (see module notes).
    """
    measure = measure.upper()
    if measure not in {"RR", "OR", "RD"}:
        raise ValueError(f"two_by_two: measure must be RR, OR or RD, not {measure!r}")
    for name, value in (("n_int", n_int), ("n_ctl", n_ctl)):
        _check_count(name, value, positive=True)
    for name, value, n in (("events_int", events_int, n_int), ("events_ctl", events_ctl, n_ctl)):
        _check_count(name, value)
        if value > n:
            raise ValueError(f"{name} ({value}) exceeds its group size ({n})")
    a, b = events_int, n_int - events_int
    c, d = events_ctl, n_ctl - events_ctl
    if double_zero is None:
        double_zero = "correct" if measure == "RD" else "exclude"
    is_double_zero = (a == 0 and c == 0) or (b == 0 and d == 0)
    if is_double_zero and double_zero == "exclude":
        raise NotEstimable(
            f"double-zero study ({int(a)}/{int(n_int)} vs {int(c)}/{int(n_ctl)}): no information on the "
            f"{measure} scale (Cochrane Handbook 10.4.4.1)"
        )
    has_zero = min(a, b, c, d) == 0
    added = 0.0
    if correct == "all" or (correct == "only0" and has_zero):
        added = correction
    a, b, c, d = a + added, b + added, c + added, d + added
    n1, n2 = a + b, c + d
    note = f"; {added:g} added to each cell" if added else ""
    counts = f"{events_int:g}/{n_int:g} vs {events_ctl:g}/{n_ctl:g}"
    try:
        if measure == "RR":
            yi = math.log((a / n1) / (c / n2))
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            yi = math.log((a * d) / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        else:
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    except (ZeroDivisionError, ValueError) as exc:
        raise NotEstimable(f"{measure} from {counts}: zero cell and no correction") from exc
    if not vi > 0:
        raise NotEstimable(f"{measure} from {counts}: sampling variance is zero")
    return Effect(yi, vi, measure, f"2x2 counts {counts}{note}")


# ---------------------------------------------------------------------------
# Continuous outcomes.
# ---------------------------------------------------------------------------
def _check_arms(n1: float, sd1: float, n2: float, sd2: float) -> None:
    _check_count("n_int", n1, positive=True)
    _check_count("n_ctl", n2, positive=True)
    _check_count("sd_int", sd1, positive=True)
    _check_count("sd_ctl", sd2, positive=True)


def mean_difference(
    mean_int: float,
    sd_int: float,
    n_int: float,
    mean_ctl: float,
    sd_ctl: float,
    n_ctl: float,
    *,
    pooled_sd: bool = False,
) -> Effect:
    """MD with variance sd1²/n1 + sd2²/n2 (metafor's default), or with the pooled SD."""
    _check_arms(n_int, sd_int, n_ctl, sd_ctl)
    yi = mean_int - mean_ctl
    if pooled_sd:
        sp2 = ((n_int - 1) * sd_int**2 + (n_ctl - 1) * sd_ctl**2) / (n_int + n_ctl - 2)
        vi = sp2 * (1 / n_int + 1 / n_ctl)
        how = "pooled SD"
    else:
        vi = sd_int**2 / n_int + sd_ctl**2 / n_ctl
        how = "separate SDs"
    return Effect(
        yi,
        vi,
        "MD",
        f"arm means {mean_int:g} (SD {sd_int:g}, n {n_int:g}) vs {mean_ctl:g} "
        f"(SD {sd_ctl:g}, n {n_ctl:g}); {how}",
    )


def hedges_correction(df: float) -> float:
    """Exact small-sample bias correction J(m) = Γ(m/2) / (√(m/2)·Γ((m−1)/2)) (Hedges 1981)."""
    if df <= 1:
        raise ValueError(f"Hedges' correction needs more than 1 degree of freedom, got {df}")
    return math.exp(special.gammaln(df / 2) - 0.5 * math.log(df / 2) - special.gammaln((df - 1) / 2))


def standardised_mean_difference(
    mean_int: float,
    sd_int: float,
    n_int: float,
    mean_ctl: float,
    sd_ctl: float,
    n_ctl: float,
    *,
    variance: SmdVariance = "LS",
) -> Effect:
    """Hedges' g (exact J) with the chosen sampling variance (default metafor's ``LS``)."""
    _check_arms(n_int, sd_int, n_ctl, sd_ctl)
    m = n_int + n_ctl - 2
    sp = math.sqrt(((n_int - 1) * sd_int**2 + (n_ctl - 1) * sd_ctl**2) / m)
    d = (mean_int - mean_ctl) / sp
    j = hedges_correction(m)
    g = j * d
    base = 1 / n_int + 1 / n_ctl
    n = n_int + n_ctl
    if variance == "LS":
        vi = base + g**2 / (2 * n)
    elif variance == "LS2":
        vi = j**2 * (base + d**2 / (2 * n))
    elif variance == "UB":
        vi = base + (1 - (m - 2) / (m * j**2)) * g**2
    elif variance == "RevMan":
        vi = base + g**2 / (2 * (n - 3.94))
    else:
        raise ValueError(f"unknown SMD variance {variance!r} (LS, LS2, UB, RevMan)")
    return Effect(
        g,
        vi,
        "SMD",
        f"Hedges' g (exact J) from arm means {mean_int:g} (SD {sd_int:g}, n {n_int:g}) vs "
        f"{mean_ctl:g} (SD {sd_ctl:g}, n {n_ctl:g}); variance {variance}",
    )


def log_ratio_of_means(
    mean_int: float, sd_int: float, n_int: float, mean_ctl: float, sd_ctl: float, n_ctl: float
) -> Effect:
    """ln(m1/m2) with delta-method variance sd1²/(n1 m1²) + sd2²/(n2 m2²) (Hedges et al. 1999)."""
    _check_arms(n_int, sd_int, n_ctl, sd_ctl)
    if mean_int <= 0 or mean_ctl <= 0:
        raise NotEstimable("ratio of means needs positive means in both arms")
    yi = math.log(mean_int / mean_ctl)
    vi = sd_int**2 / (n_int * mean_int**2) + sd_ctl**2 / (n_ctl * mean_ctl**2)
    return Effect(yi, vi, "ROM", f"ratio of arm means {mean_int:g}/{mean_ctl:g}")


# ---------------------------------------------------------------------------
# Rates.
# ---------------------------------------------------------------------------
def log_incidence_rate_ratio(
    events_int: float,
    time_int: float,
    events_ctl: float,
    time_ctl: float,
    *,
    correction: float = 0.5,
    correct: CorrectionRule = "only0",
) -> Effect:
    """ln IRR = ln[(x1/t1)/(x2/t2)], variance 1/x1 + 1/x2; 0.5 added to both counts if one is 0."""
    _check_count("events_int", events_int)
    _check_count("events_ctl", events_ctl)
    _check_count("time_int", time_int, positive=True)
    _check_count("time_ctl", time_ctl, positive=True)
    if events_int == 0 and events_ctl == 0:
        raise NotEstimable("no events in either arm: no information on the rate-ratio scale")
    added = 0.0
    if correct == "all" or (correct == "only0" and min(events_int, events_ctl) == 0):
        added = correction
    x1, x2 = events_int + added, events_ctl + added
    if x1 == 0 or x2 == 0:
        raise NotEstimable("zero events in one arm and no correction")
    yi = math.log((x1 / time_int) / (x2 / time_ctl))
    note = f"; {added:g} added to each count" if added else ""
    return Effect(
        yi,
        1 / x1 + 1 / x2,
        "IRR",
        f"events/person-time {events_int:g}/{time_int:g} vs {events_ctl:g}/{time_ctl:g}{note}",
    )


# ---------------------------------------------------------------------------
# Generic inverse variance: a reported estimate with a CI or a p-value (Handbook 6.3).
# ---------------------------------------------------------------------------
# How an Effect's ``source`` begins when it was computed from arm data (the functions above).
ARM_DATA_SOURCES: tuple[str, ...] = ("2x2 counts", "arm means", "Hedges' g", "ratio of arm means", "events/")


def is_from_arm_data(source: str) -> bool:
    """Whether an effects.csv ``from`` says the effect was computed from arm data, not reported.

    Arms combined into one (``multi_arm: combine``) keep the arm-data source after a '; '.
    """
    return any(part.strip().startswith(ARM_DATA_SOURCES) for part in source.split("; "))


def from_arm_data(
    measure: str,
    n_int: float | None,
    n_ctl: float | None,
    *,
    events_int: float | None = None,
    events_ctl: float | None = None,
    mean_int: float | None = None,
    sd_int: float | None = None,
    mean_ctl: float | None = None,
    sd_ctl: float | None = None,
) -> Effect | None:
    """The effect from arm data: 2×2 counts for RR, OR, RD; means, SDs and n for MD, SMD, ROM.

    None when the arms do not give this measure (a value missing, or another measure);
    :class:`NotEstimable` or ``ValueError`` as the functions above raise them.
    """
    counts = _all_given(events_int, n_int, events_ctl, n_ctl)
    if measure in {"RR", "OR", "RD"} and counts is not None:
        return two_by_two(measure, *counts)
    arms = _all_given(mean_int, sd_int, n_int, mean_ctl, sd_ctl, n_ctl)
    if measure in _FROM_ARM_MEANS and arms is not None:
        return _FROM_ARM_MEANS[measure](*arms)
    return None


_FROM_ARM_MEANS: dict[str, Callable[[float, float, float, float, float, float], Effect]] = {
    "MD": mean_difference,
    "SMD": standardised_mean_difference,
    "ROM": log_ratio_of_means,
}


def _all_given(*values: float | None) -> tuple[float, ...] | None:
    """The values when every one is given (none is None), else None."""
    given = tuple(value for value in values if value is not None)
    return given if len(given) == len(values) else None


def _critical(level: float, df: float | None) -> float:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1 (e.g. 0.95), got {level}")
    q = (1 + level) / 2
    return float(stats.t.ppf(q, df)) if df is not None else float(stats.norm.ppf(q))


def from_confidence_interval(
    measure: str,
    estimate: float,
    ci_low: float,
    ci_high: float,
    *,
    level: float = 0.95,
    df: float | None = None,
) -> Effect:
    """Effect and SE from a reported estimate and its CI at any level (e.g. 0.80).

    Ratios are taken to the log scale first; the SE is the CI width there over 2·z (or 2·t).
    """
    measure = measure.upper()
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    values = (estimate, ci_low, ci_high)
    if not all(math.isfinite(v) for v in values):
        raise ValueError("estimate and CI limits must be finite numbers")
    if not ci_low <= estimate <= ci_high or ci_low == ci_high:
        raise ValueError(f"estimate {estimate:g} must lie within a non-empty CI [{ci_low:g}, {ci_high:g}]")
    if measure in RATIO_MEASURES:
        if ci_low <= 0:
            raise ValueError(f"{measure} and its CI must be positive, got lower limit {ci_low:g}")
        yi, lo, hi = math.log(estimate), math.log(ci_low), math.log(ci_high)
    else:
        yi, lo, hi = estimate, ci_low, ci_high
    se = (hi - lo) / (2 * _critical(level, df))
    dist = f"t({df:g})" if df is not None else "normal"
    return Effect(
        yi,
        se**2,
        measure,
        f"reported {measure} {estimate:g} ({level * 100:g}% CI {ci_low:g} to {ci_high:g}); "
        f"SE from CI width ({dist})",
    )


def from_p_value(measure: str, estimate: float, p_value: float, *, df: float | None = None) -> Effect:
    """Effect and SE from a reported estimate and its exact two-sided p-value (Handbook 6.3.2)."""
    measure = measure.upper()
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    if not 0 < p_value < 1:
        raise ValueError(f"p-value must be strictly between 0 and 1, got {p_value}")
    if measure in RATIO_MEASURES:
        if estimate <= 0:
            raise ValueError(f"{measure} must be positive, got {estimate:g}")
        yi = math.log(estimate)
    else:
        yi = estimate
    if yi == 0:
        raise NotEstimable("an estimate of no effect gives no SE from a p-value")
    crit = float(stats.t.isf(p_value / 2, df)) if df is not None else float(stats.norm.isf(p_value / 2))
    se = abs(yi) / crit
    return Effect(yi, se**2, measure, f"reported {measure} {estimate:g}, p = {p_value:g}; SE = |estimate|/z")


# ---------------------------------------------------------------------------
# Cluster-randomised trials (Handbook 23.1).
# ---------------------------------------------------------------------------
def design_effect(mean_cluster_size: float, icc: float) -> float:
    """1 + (m − 1)·ICC."""
    if not mean_cluster_size >= 1:
        raise ValueError(f"mean cluster size must be at least 1, got {mean_cluster_size}")
    if not 0 <= icc <= 1:
        raise ValueError(f"ICC must be between 0 and 1, got {icc}")
    return 1 + (mean_cluster_size - 1) * icc


def cluster_adjusted(effect: Effect, mean_cluster_size: float, icc: float) -> Effect:
    """Inflate the variance of an effect computed as if individually randomised."""
    de = design_effect(mean_cluster_size, icc)
    return replace(
        effect,
        vi=effect.vi * de,
        source=f"{effect.source}; cluster-adjusted: design effect {de:.4g} "
        f"(mean cluster size {mean_cluster_size:g}, ICC {icc:g})",
    )


def back_transform(value: float | None, ratio: bool) -> float | None:
    """A value on the reporting scale: ratios (``ratio``, a measure in :data:`RATIO_MEASURES`) come back
    from the log scale, differences stay as they are; None when missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return math.exp(value) if ratio else value
