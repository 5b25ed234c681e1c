"""Inverse-variance meta-analysis and meta-regression (fixed and random effects).

One model covers both: ``yi = X β + u + e`` with ``e ~ N(0, vi)`` known and ``u ~ N(0, τ²)``.
An intercept-only ``X`` is the ordinary meta-analysis; extra columns make it a mixed-effects
meta-regression. The conventions are metafor's (``rma.uni``) so the numbers agree with it:

* τ² estimators: ``DL`` (DerSimonian–Laird), ``HE`` (Hedges), ``HS`` (Hunter–Schmidt),
  ``SJ`` (Sidik–Jonkman, started at the unweighted variance), ``ML``, ``REML``,
  ``PM`` (Paule–Mandel) and ``EB`` (empirical Bayes; Morris' estimator, which solves the
  same equation as PM). All are truncated at 0. ML and REML solve the score equation and
  PM/EB the generalised Q equation with Brent's method; when no root can be bracketed the
  result says so (``converged=False`` and a message) instead of returning a number.
* CI by ``z`` (normal) or ``hksj`` (Hartung–Knapp–Sidik–Jonkman: variance scaled by
  Q_gen/(k−p), t with k−p df), optionally with the ad-hoc floor ``hksj_floor`` (scale ≥ 1,
  Knapp & Hartung 2003, Röver et al. 2015).
* Prediction interval μ ± c·√(SE² + τ²) with SE the CI method's SE and c chosen by ``pi``:
  ``"t"`` (Cochrane Handbook 10.10.4.3, RevMan, Higgins et al. 2009): t with k − 2 df and no
  interval for k < 3, = metafor ``predict(res, pi.type="riley")``; ``"z"`` (metafor's default
  ``predict.rma``, the engine's default for parity): the CI method's critical value (z, or t(k−1)
  for HKSJ). None for a fixed-effect model. The pipeline's analyses default to ``"t"``.
* Small k: with ``hksj_small_k=False`` HKSJ is refused for k < 3 (t with 1 df gives absurd
  intervals) and the z-based CI is used, with a message; with k = 2 a random-effects model says
  that τ² is not estimable and gives its Q-profile interval.
* PM is solved to full precision; metafor's default ``uniroot`` tolerance (≈1.2e-4) leaves its
  PM τ² off in the 5th digit (``control=list(tol=1e-12)`` reproduces ours; EB already agrees).
* Q and its test always use the fixed-effect weights 1/vi. For a fixed-effect model
  I² = (Q − df)/Q and H² = Q/df; for random effects I² = τ²/(τ² + s²) and H² = (τ² + s²)/s²
  with s² = (k−p)/tr(P) the "typical" within-study variance (Higgins & Thompson 2002), so I²
  follows the chosen τ² estimator (for DL the two definitions coincide).
* τ² CI by the Q-profile method (Viechtbauer 2007); I² and H² CIs follow from its limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ohevidence.effects import back_transform
from ohevidence.errors import OhevidenceError

ESTIMATORS: tuple[str, ...] = ("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB")
CI_METHODS: tuple[str, ...] = ("z", "hksj")
CiMethod = Literal["z", "hksj"]
PI_METHODS: tuple[str, ...] = ("t", "z")
PiMethod = Literal["t", "z"]
HKSJ_MIN_K = 3

# Keys of a model's JSON form (the `ohevidence meta pool` contract).
RESULT_KEYS: tuple[str, ...] = (
    "k",
    "method",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "stat",
    "p",
    "pi_low",
    "pi_high",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "i2_ci_low",
    "i2_ci_high",
    "h2",
    "q",
    "q_df",
    "q_p",
)

_ROOT_XTOL = 1e-14
_MAX_DOUBLINGS = 200


class MetaInputError(OhevidenceError):
    """Impossible input to a meta-analysis (vi ≤ 0, NaN, ...); the message names the study."""


def check_inputs(
    yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray, labels: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Effects and variances as float arrays; raise naming the first study with a bad value."""
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    names = [str(x) for x in labels] if labels is not None else [str(i + 1) for i in range(len(y))]
    if y.ndim != 1 or y.shape != v.shape or len(names) != len(y):
        raise MetaInputError("yi, vi and study labels must be one-dimensional and of equal length")
    if len(y) == 0:
        raise MetaInputError("no studies to pool")
    for name, yv, vv in zip(names, y, v, strict=True):
        if not math.isfinite(yv):
            raise MetaInputError(f"study {name!r}: effect yi is {yv}, expected a finite number")
        if not math.isfinite(vv):
            raise MetaInputError(f"study {name!r}: variance vi is {vv}, expected a finite number")
        if vv <= 0:
            raise MetaInputError(f"study {name!r}: variance vi = {vv:g}, expected a value > 0")
    return y, v, names


# ---------------------------------------------------------------------------
# Weighted least squares with known weights.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Wls:
    beta: np.ndarray
    vb: np.ndarray  # (X'WX)^-1
    resid: np.ndarray
    q: float  # y'Py = Σ w r²
    tr_p: float  # tr(P), P = W − W X (X'WX)^-1 X'W
    w: np.ndarray


def _wls(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> _Wls:
    xtw = x.T * w
    vb = np.linalg.inv(xtw @ x)
    beta = vb @ (xtw @ y)
    resid = y - x @ beta
    q = float(np.sum(w * resid**2))
    tr_p = float(np.sum(w) - np.trace(vb @ ((x.T * w**2) @ x)))
    return _Wls(beta, vb, resid, q, tr_p, w)


@dataclass(frozen=True)
class Tau2:
    value: float
    converged: bool = True
    message: str = ""


def _solve_decreasing(func: Any, start: float) -> tuple[float | None, str]:
    """Root of a function positive at 0 and decreasing to negative: bracket by doubling, then Brent."""
    upper = max(start, 1e-4)
    for _ in range(_MAX_DOUBLINGS):
        if func(upper) < 0:
            break
        upper *= 2
    else:
        return None, f"no root found below τ² = {upper:g}"
    try:
        root = optimize.brentq(func, 0.0, upper, xtol=_ROOT_XTOL, rtol=4 * np.finfo(float).eps, maxiter=500)
    except (RuntimeError, ValueError) as exc:  # pragma: no cover - Brent on a valid bracket converges
        return None, str(exc)
    return float(root), ""


def estimate_tau2(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> Tau2:
    """Between-study variance by ``method`` (see module notes); 0 for ``FE``."""
    k, p = x.shape
    if method == "FE":
        return Tau2(0.0)
    if k - p < 1:
        return Tau2(0.0, message=f"τ² not estimable with k = {k} and {p} coefficient(s)")
    fe = _wls(y, x, 1 / v)
    if method == "DL":
        value = (fe.q - (k - p)) / fe.tr_p
    elif method == "HS":
        value = (fe.q - k) / float(np.sum(fe.w))
    elif method == "HE":
        ols = _wls(y, x, np.ones(k))
        hat = np.einsum("ij,jk,ik->i", x, ols.vb, x)
        value = (float(np.sum(ols.resid**2)) - float(np.sum(v * (1 - hat)))) / (k - p)
    elif method == "SJ":
        tau2_0 = float(np.var(y))  # unweighted, divisor k (Sidik & Jonkman 2005)
        if tau2_0 <= 0:
            return Tau2(0.0)
        value = tau2_0 * _wls(y, x, 1 / (v + tau2_0)).q / (k - p)
    elif method in {"ML", "REML", "PM", "EB"}:
        if method == "ML":

            def equation(t2: float) -> float:
                fit = _wls(y, x, 1 / (v + t2))
                return float(np.sum((fit.w * fit.resid) ** 2) - np.sum(fit.w))
        elif method == "REML":

            def equation(t2: float) -> float:
                fit = _wls(y, x, 1 / (v + t2))
                return float(np.sum((fit.w * fit.resid) ** 2) - fit.tr_p)
        else:

            def equation(t2: float) -> float:
                return _wls(y, x, 1 / (v + t2)).q - (k - p)

        if equation(0.0) <= 0:
            return Tau2(0.0)
        start = max((fe.q - (k - p)) / fe.tr_p, float(np.var(y)), 1e-4)
        root, message = _solve_decreasing(equation, start)
        if root is None:
            return Tau2(float("nan"), converged=False, message=f"{method}: {message}")
        value = root
    else:
        raise ValueError(f"unknown τ² estimator {method!r}; choose from {', '.join(ESTIMATORS)}")
    return Tau2(max(0.0, float(value)))


def q_profile_ci(
    y: np.ndarray, v: np.ndarray, x: np.ndarray, level: float = 0.95
) -> tuple[float, float] | None:
    """Q-profile CI for τ²: the τ² at which the generalised Q hits the χ²(k−p) quantiles."""
    k, p = x.shape
    df = k - p
    if df < 1:
        return None

    def q_gen(t2: float) -> float:
        return _wls(y, x, 1 / (v + t2)).q

    alpha = 1 - level
    crit_low = float(stats.chi2.ppf(1 - alpha / 2, df))  # for the lower limit
    crit_high = float(stats.chi2.ppf(alpha / 2, df))
    limits = []
    q0 = q_gen(0.0)
    start = max(float(np.var(y)), 1e-4)
    for crit in (crit_low, crit_high):
        if q0 <= crit:
            limits.append(0.0)
            continue
        root, _ = _solve_decreasing(lambda t2, c=crit: q_gen(t2) - c, start)
        limits.append(float("nan") if root is None else root)
    return limits[0], limits[1]


# ---------------------------------------------------------------------------
# The fitted model.
# ---------------------------------------------------------------------------
@dataclass
class MetaResult:
    """A pooled estimate (intercept-only model) with heterogeneity and per-study weights."""

    method: str
    ci_method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    p: float
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
    yi: np.ndarray
    vi: np.ndarray
    labels: list[str]
    weights: np.ndarray  # percent
    level: float = 0.95
    pooled: bool = True
    converged: bool = True
    messages: list[str] = field(default_factory=list)
    pi_method: str = "z"

    def to_dict(self) -> dict[str, Any]:
        """The model's JSON form: exactly :data:`RESULT_KEYS`, NaN/None as null."""
        out: dict[str, Any] = {}
        for key in RESULT_KEYS:
            value = getattr(self, key)
            if isinstance(value, float | np.floating):
                value = None if not math.isfinite(value) else float(value)
            elif isinstance(value, np.integer):
                value = int(value)
            out[key] = value
        return out

    def studies(self) -> pd.DataFrame:
        """Per-study rows: effect, variance, its own CI and its weight (%) in this model."""
        crit = float(stats.norm.ppf(1 - (1 - self.level) / 2))
        se = np.sqrt(self.vi)
        return pd.DataFrame(
            {
                "study": self.labels,
                "yi": self.yi,
                "vi": self.vi,
                "se": se,
                "ci_low": self.yi - crit * se,
                "ci_high": self.yi + crit * se,
                "weight": self.weights,
            }
        )

    def table(self) -> pd.DataFrame:
        """Tidy form: one row per study, then one 'pooled' row with the model's numbers."""
        rows = self.studies().assign(row="study")
        pooled = {key: value for key, value in self.to_dict().items() if key != "k"}
        pooled.update(
            study="pooled" if self.pooled else "single study (not pooled)",
            row="pooled",
            yi=self.estimate,
            vi=self.se**2,
            weight=100.0,
            k=self.k,
        )
        pooled.pop("method")
        table = pd.concat([rows, pd.DataFrame([pooled])], ignore_index=True)
        table.insert(0, "method", self.method)
        return table


def _critical(ci_method: str, df: int, level: float) -> float:
    q = 1 - (1 - level) / 2
    return float(stats.t.ppf(q, df)) if ci_method == "hksj" else float(stats.norm.ppf(q))


def single_study(
    yi: float, vi: float, label: str, *, method: str = "single study", level: float = 0.95
) -> MetaResult:
    """One study is reported as itself (its own estimate and normal CI), never pooled."""
    y, v, names = check_inputs([yi], [vi], [label])
    se = math.sqrt(v[0])
    crit = float(stats.norm.ppf(1 - (1 - level) / 2))
    z = float(y[0]) / se
    none = None
    return MetaResult(
        method=method,
        ci_method="z",
        k=1,
        estimate=float(y[0]),
        se=se,
        ci_low=float(y[0]) - crit * se,
        ci_high=float(y[0]) + crit * se,
        stat=z,
        p=float(2 * stats.norm.sf(abs(z))),
        pi_low=none,
        pi_high=none,
        tau2=none,
        tau2_ci_low=none,
        tau2_ci_high=none,
        i2=none,
        i2_ci_low=none,
        i2_ci_high=none,
        h2=none,
        q=none,
        q_df=none,
        q_p=none,
        yi=y,
        vi=v,
        labels=names,
        weights=np.array([100.0]),
        level=level,
        pooled=False,
        messages=[f"single study ({names[0]}): reported as such, not pooled"],
    )


def pool(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    method: str = "REML",
    ci_method: CiMethod = "z",
    hksj_floor: bool = False,
    level: float = 0.95,
    tau2_fixed: float | None = None,
    pi: PiMethod = "z",
    hksj_small_k: bool = True,
) -> MetaResult:
    """Inverse-variance meta-analysis with τ² by ``method`` (``FE`` for a fixed effect).

    ``tau2_fixed`` pools with a given τ² instead of estimating one (a subgroup under a common τ²).
    ``pi`` chooses the prediction interval (module notes); ``hksj_small_k=False`` refuses HKSJ for
    k < 3 (z-based CI instead, with a message).
    """
    method = method.upper()
    if method not in ESTIMATORS:
        raise MetaInputError(f"unknown method {method!r}; choose from {', '.join(ESTIMATORS)}")
    if ci_method not in CI_METHODS:
        raise MetaInputError(f"unknown CI method {ci_method!r}; choose from {', '.join(CI_METHODS)}")
    if pi not in PI_METHODS:
        raise MetaInputError(f"unknown prediction interval {pi!r}; choose from {', '.join(PI_METHODS)}")
    y, v, names = check_inputs(yi, vi, labels)
    k = len(y)
    if k == 1:
        return single_study(float(y[0]), float(v[0]), names[0], level=level)
    refused: list[str] = []
    if ci_method == "hksj" and k < HKSJ_MIN_K and not hksj_small_k:
        ci_method = "z"
        refused.append(
            f"HKSJ refused with k = {k} (t with {k - 1} df): z-based CI instead "
            "(set hksj_small_k to use HKSJ)"
        )
    x = np.ones((k, 1))
    tau2 = estimate_tau2(y, v, x, method) if tau2_fixed is None else Tau2(tau2_fixed)
    fe = _wls(y, x, 1 / v)
    q, q_df = fe.q, k - 1
    messages = refused + ([tau2.message] if tau2.message else [])
    if not tau2.converged:
        nan = float("nan")
        return MetaResult(
            method,
            ci_method,
            k,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            None,
            None,
            nan,
            None,
            None,
            None,
            None,
            None,
            None,
            q,
            q_df,
            float(stats.chi2.sf(q, q_df)),
            y,
            v,
            names,
            np.full(k, nan),
            level,
            converged=False,
            messages=messages,
        )
    fit = _wls(y, x, 1 / (v + tau2.value))
    estimate = float(fit.beta[0])
    variance = float(fit.vb[0, 0])
    if ci_method == "hksj":
        scale = fit.q / (k - 1)
        if hksj_floor and scale < 1:
            scale = 1.0
            messages.append("HKSJ ad-hoc floor applied: variance not scaled below the z-based one")
        variance *= scale
    se = math.sqrt(variance)
    crit = _critical(ci_method, k - 1, level)
    stat = estimate / se
    p_value = float(2 * (stats.t.sf(abs(stat), k - 1) if ci_method == "hksj" else stats.norm.sf(abs(stat))))
    pi_crit: float | None = crit
    if pi == "t":
        pi_crit = float(stats.t.ppf(1 - (1 - level) / 2, k - 2)) if k >= 3 else None
        if pi_crit is None and method != "FE":
            messages.append(f"no prediction interval with k = {k} (t on k - 2 df needs k >= 3)")
    half_pi = None if pi_crit is None else pi_crit * math.sqrt(variance + tau2.value)
    typical_v = q_df / fe.tr_p  # Higgins & Thompson's typical within-study variance
    if method == "FE":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
        tau2_ci: tuple[float, float] | None = None
    else:
        i2 = 100 * tau2.value / (tau2.value + typical_v)
        h2 = (tau2.value + typical_v) / typical_v
        tau2_ci = q_profile_ci(y, v, x, level)
        if k == 2 and tau2_fixed is None:
            interval = (
                ""
                if tau2_ci is None
                else f"; Q-profile {100 * level:g}% CI [{tau2_ci[0]:.4g}, {tau2_ci[1]:.4g}]"
            )
            messages.append(
                f"random effects with k = 2: τ² is not estimable (estimate {tau2.value:.4g}{interval}); "
                "the pooled CI rests on that estimate"
            )

    def to_i2(t2: float) -> float:
        return 100 * t2 / (t2 + typical_v)

    return MetaResult(
        method=method,
        ci_method=ci_method,
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        stat=stat,
        p=p_value,
        # metafor gives no prediction interval for a fixed-effect model: there is no τ² to predict over.
        pi_low=None if method == "FE" or half_pi is None else estimate - half_pi,
        pi_high=None if method == "FE" or half_pi is None else estimate + half_pi,
        tau2=tau2.value,
        tau2_ci_low=tau2_ci[0] if tau2_ci else None,
        tau2_ci_high=tau2_ci[1] if tau2_ci else None,
        i2=i2,
        i2_ci_low=to_i2(tau2_ci[0]) if tau2_ci else None,
        i2_ci_high=to_i2(tau2_ci[1]) if tau2_ci else None,
        h2=h2,
        q=q,
        q_df=q_df,
        q_p=float(stats.chi2.sf(q, q_df)),
        yi=y,
        vi=v,
        labels=names,
        weights=100 * fit.w / np.sum(fit.w),
        level=level,
        messages=messages,
        pi_method=pi,
    )


def summary_fields(model: MetaResult, ratio: bool) -> dict[str, Any]:
    """What every results table shows of a pooled model: k, estimate on both scales, CI, p, τ², I², Q."""
    data = model.to_dict()
    return {
        "k": model.k,
        "yi": data["estimate"],
        "se": data["se"],
        "estimate": back_transform(data["estimate"], ratio),
        "ci_low": back_transform(data["ci_low"], ratio),
        "ci_high": back_transform(data["ci_high"], ratio),
        "p": data["p"],
        "tau2": data["tau2"],
        "i2": data["i2"],
        "q": data["q"],
        "q_p": data["q_p"],
    }


# ---------------------------------------------------------------------------
# Meta-regression.
# ---------------------------------------------------------------------------
@dataclass
class RegressionResult:
    """Mixed-effects meta-regression: coefficients, residual τ², QE (residual) and QM (moderators)."""

    method: str
    ci_method: str
    k: int
    coef_names: list[str]
    coef: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    tau2: float
    tau2_ci_low: float | None
    tau2_ci_high: float | None
    i2: float
    h2: float
    r2: float | None  # % of τ² accounted for by the moderators
    qe: float
    qe_df: int
    qe_p: float
    qm: float  # chi² (z) or F (hksj)
    qm_df: int
    qm_df2: int | None  # denominator df of F under hksj
    qm_p: float
    converged: bool = True
    messages: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "term": self.coef_names,
                "estimate": self.coef,
                "se": self.se,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "stat": self.stat,
                "p": self.p,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, float | np.floating):
                return None if not math.isfinite(value) else float(value)
            return value

        return {
            "k": self.k,
            "method": self.method,
            "ci_method": self.ci_method,
            "coefficients": [
                {key: clean(value) for key, value in row.items()} for row in self.table().to_dict("records")
            ],
            **{
                key: clean(getattr(self, key))
                for key in (
                    "tau2",
                    "tau2_ci_low",
                    "tau2_ci_high",
                    "i2",
                    "h2",
                    "r2",
                    "qe",
                    "qe_df",
                    "qe_p",
                    "qm",
                    "qm_df",
                    "qm_df2",
                    "qm_p",
                )
            },
        }


def meta_regression(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    moderators: pd.DataFrame | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    method: str = "REML",
    ci_method: CiMethod = "z",
    intercept: bool = True,
    test_terms: Sequence[int] | None = None,
    level: float = 0.95,
) -> RegressionResult:
    """Fit ``yi ~ moderators`` with weights 1/(vi + τ²) (τ² by ``method``).

    ``test_terms`` are the coefficient indices QM tests (default: every one but the intercept).
    """
    method = method.upper()
    if method not in ESTIMATORS:
        raise MetaInputError(f"unknown method {method!r}")
    y, v, names = check_inputs(yi, vi, labels)
    if isinstance(moderators, pd.DataFrame):
        mods = moderators.to_numpy(dtype=float)
        mod_names = [str(c) for c in moderators.columns]
    else:
        mods = np.asarray(moderators, dtype=float)
        mods = mods.reshape(len(y), -1)
        mod_names = [f"x{i + 1}" for i in range(mods.shape[1])]
    if mods.shape[0] != len(y):
        raise MetaInputError("moderators must have one row per study")
    for j, name in enumerate(mod_names):
        bad = ~np.isfinite(mods[:, j])
        if bad.any():
            raise MetaInputError(f"study {names[int(np.argmax(bad))]!r}: moderator {name!r} is not a number")
    x = np.column_stack([np.ones(len(y)), mods]) if intercept else mods
    coef_names = (["intercept"] if intercept else []) + mod_names
    k, p = x.shape
    if np.linalg.matrix_rank(x) < p:
        raise MetaInputError("moderators are collinear (the model matrix is not of full rank)")
    if k - p < 1:
        raise MetaInputError(f"{k} studies cannot support {p} coefficients")
    tau2 = estimate_tau2(y, v, x, method)
    messages = [tau2.message] if tau2.message else []
    fe = _wls(y, x, 1 / v)
    fit = _wls(y, x, 1 / (v + tau2.value))
    vb = fit.vb.copy()
    df2: int | None = None
    if ci_method == "hksj":
        vb *= fit.q / (k - p)
        df2 = k - p
    se = np.sqrt(np.diag(vb))
    stat = fit.beta / se
    if df2 is not None:
        crit = float(stats.t.ppf(1 - (1 - level) / 2, df2))
        p_values = 2 * stats.t.sf(np.abs(stat), df2)
    else:
        crit = float(stats.norm.ppf(1 - (1 - level) / 2))
        p_values = 2 * stats.norm.sf(np.abs(stat))
    terms = list(test_terms) if test_terms is not None else list(range(1 if intercept else 0, p))
    b = fit.beta[terms]
    qm = float(b @ np.linalg.solve(vb[np.ix_(terms, terms)], b))
    if df2 is not None:
        qm /= len(terms)
        qm_p = float(stats.f.sf(qm, len(terms), df2))
    else:
        qm_p = float(stats.chi2.sf(qm, len(terms)))
    typical_v = (k - p) / fe.tr_p
    r2 = None
    if intercept and method != "FE":
        null = estimate_tau2(y, v, np.ones((k, 1)), method)
        if null.converged and null.value > 0:
            r2 = max(0.0, 100 * (null.value - tau2.value) / null.value)
    tau2_ci = q_profile_ci(y, v, x, level) if method != "FE" else None
    return RegressionResult(
        method=method,
        ci_method=ci_method,
        k=k,
        coef_names=coef_names,
        coef=fit.beta,
        se=se,
        ci_low=fit.beta - crit * se,
        ci_high=fit.beta + crit * se,
        stat=stat,
        p=p_values,
        tau2=tau2.value,
        tau2_ci_low=tau2_ci[0] if tau2_ci else None,
        tau2_ci_high=tau2_ci[1] if tau2_ci else None,
        i2=100 * tau2.value / (tau2.value + typical_v),
        h2=(tau2.value + typical_v) / typical_v,
        r2=r2,
        qe=fe.q,
        qe_df=k - p,
        qe_p=float(stats.chi2.sf(fe.q, k - p)),
        qm=qm,
        qm_df=len(terms),
        qm_df2=df2,
        qm_p=qm_p,
        converged=tau2.converged,
        messages=messages,
    )
