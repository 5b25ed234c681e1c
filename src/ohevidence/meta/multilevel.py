"""Three-level random-effects meta-analysis: several effects within each study (cluster), by REML.

The model (Konstantopoulos 2011; Cheung 2014; metafor ``rma.mv(yi, vi, random = ~ 1 | cluster/effect)``)::

    y_ij = x_ij' β + u_i + w_ij + e_ij,   u_i ~ N(0, σ²_between),  w_ij ~ N(0, σ²_within),  e_ij ~ N(0, v_ij)

with v_ij known. Effects of one cluster share u_i, so they are correlated; pooling them as if they
were independent studies counts a cluster's information several times and understates the SE.
The marginal covariance is block-diagonal, V_i = diag(v_i) + σ²_within I + σ²_between 11'.

* The variance components maximise the restricted (REML) log-likelihood, β profiled out, with a
  bounded quasi-Newton optimiser (L-BFGS-B) on log σ² with the analytic score, then polished by
  Fisher scoring. A component at the lower bound is reported as 0 with a message. The reported
  log-likelihood includes ½·log|X'X| as metafor's (``REMLf=TRUE``) does, so the two agree.
* β is the GLS estimate with weights V⁻¹; its CI is z-based (``test="z"``, metafor's default) or
  t on k − p df (``test="t"``, metafor ``rma.mv(..., test="t")``).
* Q (test of heterogeneity) uses the fixed-effect weights 1/v_ij, as metafor's QE does.
* Cluster-robust (sandwich) variances over the clusters, both labelled in the output:
  ``CR1`` = metafor ``robust(fit, cluster=cluster)`` (default ``adjust=TRUE``: scaled by m/(m − p),
  t on m − p df, m clusters) and ``CR2`` = metafor ``robust(fit, cluster=cluster,
  clubSandwich=TRUE)`` (Pustejovsky & Tipton 2018 bias-reduced linearisation with the model's V as
  working covariance, t with Satterthwaite df), as clubSandwich ``coef_test(vcov="CR2")`` does.
* Identifiability: when every cluster holds one effect, σ²_between and σ²_within enter the
  likelihood only through their sum; the fit then reports only ``sigma2_total`` (equal to the
  REML τ² of the ordinary random-effects model, ``rma(yi, vi, method="REML")``) and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from ohevidence.meta.model import MetaInputError, check_inputs, estimate_tau2

TestMethod = Literal["z", "t"]
TESTS: tuple[str, ...] = ("z", "t")
ROBUST_TYPES: tuple[str, ...] = ("CR1", "CR2")

_LOWER = 1e-10  # lower bound of each σ², relative to the data's scale
_UPPER = 1e6  # upper bound of each σ², relative to the data's scale
_SCORING_STEPS = 50
_SCORE_TOL = 1e-6  # |σ² ∂ℓ/∂σ²| at the optimum


# ---------------------------------------------------------------------------
# Data and the restricted likelihood.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Design:
    y: np.ndarray
    v: np.ndarray
    x: np.ndarray
    z: np.ndarray  # n × m cluster indicator
    codes: np.ndarray  # cluster index of each row
    cluster_names: list[str]
    coef_names: list[str]
    labels: list[str]


@dataclass(frozen=True)
class _Fit:
    """The model at fixed variance components: GLS estimate, V⁻¹, P and the REML log-likelihood."""

    sigma2: tuple[float, float]  # (between, within)
    v_mat: np.ndarray
    v_inv: np.ndarray
    beta: np.ndarray
    vb: np.ndarray  # (X'V⁻¹X)⁻¹
    resid: np.ndarray
    p_mat: np.ndarray
    p_y: np.ndarray  # P y = V⁻¹ (y − Xβ)
    loglik: float


def _design(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    clusters: Sequence[Any],
    moderators: pd.DataFrame | np.ndarray | None,
    labels: Sequence[str] | None,
) -> _Design:
    y, v, names = check_inputs(yi, vi, labels)
    groups = [str(c).strip() for c in clusters]
    if len(groups) != len(y):
        raise MetaInputError("clusters must give one cluster per effect")
    for name, group in zip(names, groups, strict=True):
        if not group or group.lower() == "nan":
            raise MetaInputError(f"effect {name!r}: empty cluster, expected a cluster (study) label")
    cluster_names = list(dict.fromkeys(groups))
    if len(cluster_names) < 2:
        raise MetaInputError(
            f"{len(cluster_names)} cluster: a three-level model needs at least 2 clusters "
            "(σ²_between is confounded with the intercept otherwise)"
        )
    index = {name: i for i, name in enumerate(cluster_names)}
    codes = np.array([index[g] for g in groups])
    z = np.zeros((len(y), len(cluster_names)))
    z[np.arange(len(y)), codes] = 1.0
    x, coef_names = _model_matrix(moderators, len(y), names)
    k, p = x.shape
    if np.linalg.matrix_rank(x) < p:
        raise MetaInputError("moderators are collinear (the model matrix is not of full rank)")
    if k - p < 1:
        raise MetaInputError(f"{k} effects cannot support {p} coefficient(s)")
    return _Design(y, v, x, z, codes, cluster_names, coef_names, names)


def _model_matrix(
    moderators: pd.DataFrame | np.ndarray | None, k: int, names: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Intercept plus moderators (one row per effect), with the coefficient names."""
    if moderators is None:
        return np.ones((k, 1)), ["intercept"]
    if isinstance(moderators, pd.DataFrame):
        mods = moderators.to_numpy(dtype=float)
        mod_names = [str(c) for c in moderators.columns]
    else:
        mods = np.asarray(moderators, dtype=float).reshape(k, -1)
        mod_names = [f"x{i + 1}" for i in range(mods.shape[1])]
    if mods.shape[0] != k:
        raise MetaInputError("moderators must have one row per effect")
    for j, name in enumerate(mod_names):
        bad = ~np.isfinite(mods[:, j])
        if bad.any():
            raise MetaInputError(f"effect {names[int(np.argmax(bad))]!r}: moderator {name!r} is not a number")
    return np.column_stack([np.ones(k), mods]), ["intercept", *mod_names]


def _fit_at(d: _Design, between: float, within: float) -> _Fit:
    """GLS and the REML log-likelihood at (σ²_between, σ²_within)."""
    n, p = d.x.shape
    v_mat = np.diag(d.v + within) + between * (d.z @ d.z.T)
    chol = linalg.cho_factor(v_mat, lower=True)
    v_inv = linalg.cho_solve(chol, np.eye(n))
    xtvx = d.x.T @ v_inv @ d.x
    vb = np.linalg.inv(xtvx)
    beta = vb @ (d.x.T @ v_inv @ d.y)
    resid = d.y - d.x @ beta
    v_inv_x = v_inv @ d.x
    p_mat = v_inv - v_inv_x @ vb @ v_inv_x.T
    p_y = v_inv @ resid
    logdet_v = 2.0 * float(np.sum(np.log(np.diag(chol[0]))))
    logdet_xtvx = float(np.linalg.slogdet(xtvx)[1])
    logdet_xtx = float(np.linalg.slogdet(d.x.T @ d.x)[1])
    loglik = -0.5 * (
        (n - p) * math.log(2 * math.pi) + logdet_v + logdet_xtvx + float(resid @ p_y) - logdet_xtx
    )
    return _Fit((between, within), v_mat, v_inv, beta, vb, resid, p_mat, p_y, loglik)


def _score(d: _Design, fit: _Fit) -> np.ndarray:
    """∂ℓ_REML/∂(σ²_between, σ²_within) = ½ (y'P G_k P y − tr(P G_k)), G = ZZ' and I."""
    zpy = d.z.T @ fit.p_y
    tr_between = float(np.sum((d.z.T @ fit.p_mat) * d.z.T))
    return 0.5 * np.array([zpy @ zpy - tr_between, fit.p_y @ fit.p_y - np.trace(fit.p_mat)])


def _information(d: _Design, fit: _Fit) -> np.ndarray:
    """Expected information of (σ²_between, σ²_within): ½ tr(P G_k P G_l)."""
    pz = fit.p_mat @ d.z
    zpz = d.z.T @ pz
    return 0.5 * np.array(
        [
            [float(np.sum(zpz * zpz)), float(np.sum(pz * pz))],
            [float(np.sum(pz * pz)), float(np.sum(fit.p_mat * fit.p_mat))],
        ]
    )


def reml_loglik(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    clusters: Sequence[Any],
    sigma2_between: float,
    sigma2_within: float,
    moderators: pd.DataFrame | np.ndarray | None = None,
) -> float:
    """The restricted log-likelihood at given variance components (metafor's ``logLik`` at the optimum)."""
    d = _design(yi, vi, clusters, moderators, None)
    return _fit_at(d, sigma2_between, sigma2_within).loglik


# ---------------------------------------------------------------------------
# Maximising the restricted likelihood.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Optimum:
    fit: _Fit
    at_lower: tuple[bool, bool]
    converged: bool
    message: str


def _scale(d: _Design) -> float:
    return max(float(np.var(d.y)), float(np.mean(d.v)), 1e-12)


def _start(d: _Design) -> np.ndarray:
    """Half of the ordinary model's DerSimonian-Laird τ² to each component (floored), on log scale."""
    tau2 = estimate_tau2(d.y, d.v, d.x, "DL").value
    each = max(tau2 / 2, 0.01 * float(np.mean(d.v)))
    return np.log(np.array([each, each]))


def _maximise(d: _Design, fixed: dict[int, float] | None = None) -> _Optimum:
    """Bounded L-BFGS-B on log σ² (components in ``fixed`` held), then Fisher scoring on free ones."""
    fixed = fixed or {}
    scale = _scale(d)
    low, high = math.log(_LOWER * scale), math.log(_UPPER * scale)
    free = [i for i in (0, 1) if i not in fixed]

    def components(eta: np.ndarray) -> np.ndarray:
        sigma2 = np.zeros(2)
        for i, value in fixed.items():
            sigma2[i] = value
        sigma2[free] = np.exp(eta)
        return sigma2

    def objective(eta: np.ndarray) -> tuple[float, np.ndarray]:
        sigma2 = components(eta)
        fit = _fit_at(d, *sigma2)
        grad = _score(d, fit)[free] * sigma2[free]
        return -fit.loglik, -grad

    start = _start(d)[free]
    result = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(low, high)] * len(free),
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
    )
    sigma2 = components(result.x)
    at_lower = [i in free and result.x[free.index(i)] <= low + 1e-6 for i in (0, 1)]
    at_upper = any(value >= high - 1e-6 for value in result.x)
    for i in (0, 1):
        if at_lower[i]:
            sigma2[i] = 0.0
    interior = [i for i in free if not at_lower[i]]
    fit = _polish(d, sigma2, interior)
    # L-BFGS-B's own flag is unreliable at these tolerances (it stops on a line search at the optimum):
    # judge convergence by the score on the log scale at the polished point instead.
    score = _score(d, fit) * np.array(fit.sigma2)
    converged = not at_upper and bool(np.all(np.abs(score[interior]) < _SCORE_TOL))
    message = "" if converged else f"REML did not converge (score {score[interior]}; {result.message})"
    if at_upper:
        message = "REML did not converge: a variance component ran to the optimiser's upper bound"
    return _Optimum(fit, (at_lower[0], at_lower[1]), converged, message)


def _polish(d: _Design, sigma2: np.ndarray, free: list[int]) -> _Fit:
    """Fisher scoring on the interior components; steps halved so the likelihood never falls."""
    fit = _fit_at(d, *sigma2)
    if not free:
        return fit
    for _ in range(_SCORING_STEPS):
        score = _score(d, fit)[free]
        info = _information(d, fit)[np.ix_(free, free)]
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:  # pragma: no cover - information is positive definite inside
            return fit
        moved = False
        for _ in range(30):
            trial = sigma2.copy()
            trial[free] = sigma2[free] + step
            if np.all(trial[free] > 0):
                candidate = _fit_at(d, *trial)
                if candidate.loglik >= fit.loglik - 1e-12 * abs(fit.loglik):
                    moved = not np.allclose(trial, sigma2, rtol=1e-14, atol=0)
                    sigma2, fit = trial, candidate
                    break
            step = step / 2
        if not moved or np.max(np.abs(step) / np.maximum(sigma2[free], 1e-300)) < 1e-12:
            break
    return fit


# ---------------------------------------------------------------------------
# Results.
# ---------------------------------------------------------------------------
@dataclass
class RobustResult:
    """Cluster-robust inference for the coefficients (CR1: metafor robust(); CR2: clubSandwich)."""

    type: str
    clusters: int
    se: np.ndarray
    stat: np.ndarray
    df: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    df_method: str

    def to_dict(self, coef_names: Sequence[str]) -> dict[str, Any]:
        return {
            "type": self.type,
            "clusters": self.clusters,
            "df_method": self.df_method,
            "coefficients": [
                {
                    "term": name,
                    "se": float(self.se[i]),
                    "stat": float(self.stat[i]),
                    "df": float(self.df[i]),
                    "p": float(self.p[i]),
                    "ci_low": float(self.ci_low[i]),
                    "ci_high": float(self.ci_high[i]),
                }
                for i, name in enumerate(coef_names)
            ],
        }


@dataclass
class ThreeLevelResult:
    """A three-level (effects within clusters) REML fit. ``estimate``/``se``/... are the intercept's."""

    k: int
    clusters: int
    cluster_sizes: dict[str, int]
    coef_names: list[str]
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    test: str
    df: int | None
    sigma2_between: float | None
    sigma2_within: float | None
    sigma2_total: float
    identifiable: bool
    loglik: float
    q: float
    q_df: int
    q_p: float
    labels: list[str]
    level: float = 0.95
    converged: bool = True
    robust: dict[str, RobustResult] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def estimate(self) -> float:
        return float(self.coef[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``ohevidence meta pool --three-level``): the intercept first, then every term."""
        sizes = list(self.cluster_sizes.values())
        return {
            "model": "three_level",
            "method": "REML",
            "test": self.test,
            "df": self.df,
            "level": self.level,
            "k": self.k,
            "clusters": self.clusters,
            "effects_per_cluster": {"min": min(sizes), "max": max(sizes), "mean": self.k / self.clusters},
            "estimate": self.estimate,
            "se": float(self.se[0]),
            "ci_low": float(self.ci_low[0]),
            "ci_high": float(self.ci_high[0]),
            "stat": float(self.stat[0]),
            "p": float(self.p[0]),
            "coefficients": [
                {
                    "term": name,
                    "estimate": float(self.coef[i]),
                    "se": float(self.se[i]),
                    "stat": float(self.stat[i]),
                    "p": float(self.p[i]),
                    "ci_low": float(self.ci_low[i]),
                    "ci_high": float(self.ci_high[i]),
                }
                for i, name in enumerate(self.coef_names)
            ],
            "sigma2_between": self.sigma2_between,
            "sigma2_within": self.sigma2_within,
            "sigma2_total": self.sigma2_total,
            "identifiable": self.identifiable,
            "loglik_reml": self.loglik,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "converged": self.converged,
            "robust": {name: r.to_dict(self.coef_names) for name, r in self.robust.items()},
            "messages": list(self.messages),
        }


def _inference(
    coef: np.ndarray, se: np.ndarray, df: np.ndarray | None, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Statistic, p and CI limits: normal when ``df`` is None, else t on ``df`` (per coefficient)."""
    stat = coef / se
    q = 1 - (1 - level) / 2
    if df is None:
        crit = np.full(len(coef), float(stats.norm.ppf(q)))
        p_values = 2 * stats.norm.sf(np.abs(stat))
    else:
        crit = stats.t.ppf(q, df)
        p_values = 2 * stats.t.sf(np.abs(stat), df)
    return stat, p_values, coef - crit * se, coef + crit * se


def _inv_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root by eigendecomposition (clubSandwich's matrix_power(G, -1/2))."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors / np.sqrt(values)) @ vectors.T


def robust_variance(d: _Design, fit: _Fit, kind: str, level: float) -> RobustResult:
    """Sandwich variance of β over the clusters; see the module notes for CR1 and CR2."""
    if kind not in ROBUST_TYPES:
        raise MetaInputError(f"unknown robust variance {kind!r}; choose from {', '.join(ROBUST_TYPES)}")
    m = len(d.cluster_names)
    p = d.x.shape[1]
    if m <= p:
        raise MetaInputError(f"{m} clusters cannot support cluster-robust inference for {p} coefficient(s)")
    bread = fit.vb
    est: list[np.ndarray] = []  # E_j = X_j' W_j A_j
    chols: list[np.ndarray] = []
    meat = np.zeros((p, p))
    for j in range(m):
        idx = np.flatnonzero(d.codes == j)
        x_j, w_j, v_j = d.x[idx], fit.v_inv[np.ix_(idx, idx)], fit.v_mat[np.ix_(idx, idx)]
        e_j = x_j.T @ w_j
        lower = np.linalg.cholesky(v_j)  # L L' = V_j (R's t(chol(V_j)))
        if kind == "CR2":
            ih = np.eye(len(idx)) - x_j @ bread @ x_j.T @ w_j
            g = lower.T @ ih @ v_j @ lower
            e_j = e_j @ (lower @ _inv_sqrt(g) @ lower.T)
        u = e_j @ fit.resid[idx]
        meat += np.outer(u, u)
        est.append(e_j)
        chols.append(lower)
    vcov = bread @ meat @ bread
    if kind == "CR1":
        vcov *= m / (m - p)
        df = np.full(p, float(m - p))
        df_method = "residual (m - p)"
    else:
        df = _satterthwaite(d, bread, est, chols)
        df_method = "Satterthwaite"
    se = np.sqrt(np.diag(vcov))
    stat, p_values, low, high = _inference(fit.beta, se, df, level)
    return RobustResult(kind, m, se, stat, df, p_values, low, high, df_method)


def _satterthwaite(
    d: _Design, bread: np.ndarray, est: list[np.ndarray], chols: list[np.ndarray]
) -> np.ndarray:
    """clubSandwich's Satterthwaite df per coefficient (working model = the fitted V)."""
    p = d.x.shape[1]
    m_chol = np.linalg.cholesky(bread)
    g_list, h_list = [], []
    for j, (e_j, lower) in enumerate(zip(est, chols, strict=True)):
        me = bread @ e_j
        g_list.append(me @ lower)
        h_list.append(me @ d.x[d.codes == j] @ m_chol)
    df = np.empty(p)
    for i in range(p):
        h = np.column_stack([h_j[i] for h_j in h_list])  # p × m
        p_arr = -h.T @ h
        p_arr[np.diag_indices_from(p_arr)] += [float(np.sum(g[i] ** 2)) for g in g_list]
        df[i] = np.trace(p_arr) ** 2 / float(np.sum(p_arr**2))
    return df


def three_level(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    clusters: Sequence[Any],
    labels: Sequence[str] | None = None,
    *,
    moderators: pd.DataFrame | np.ndarray | None = None,
    test: TestMethod = "z",
    level: float = 0.95,
    robust: Sequence[str] = ROBUST_TYPES,
) -> ThreeLevelResult:
    """Fit the three-level model by REML; ``clusters`` gives each effect's cluster (study).

    ``test="t"`` uses t on k − p df (metafor ``test="t"``); ``robust`` lists the cluster-robust
    variances to add (``CR1``, ``CR2``); they need more clusters than coefficients.
    """
    if test not in TESTS:
        raise MetaInputError(f"unknown test {test!r}; choose from {', '.join(TESTS)}")
    d = _design(yi, vi, clusters, moderators, labels)
    k, p = d.x.shape
    sizes = {name: int(np.sum(d.codes == j)) for j, name in enumerate(d.cluster_names)}
    identifiable = max(sizes.values()) > 1
    messages: list[str] = []
    if identifiable:
        opt = _maximise(d)
    else:
        opt = _maximise(d, fixed={0: 0.0})  # only the sum is identified: fit it as one component
        messages.append(
            "every cluster has one effect: σ²_between and σ²_within are not separately identifiable; "
            "only their sum (sigma2_total, = the ordinary REML τ²) is reported"
        )
    if opt.message:
        messages.append(opt.message)
    for i, name in enumerate(("σ²_between", "σ²_within")):
        if identifiable and opt.at_lower[i]:
            messages.append(f"{name} estimated at the boundary (0)")
    fit = opt.fit
    between, within = fit.sigma2
    se = np.sqrt(np.diag(fit.vb))
    df = k - p if test == "t" else None
    stat, p_values, low, high = _inference(fit.beta, se, None if df is None else np.full(p, df), level)
    fe_w = 1 / d.v
    fe_vb = np.linalg.inv((d.x.T * fe_w) @ d.x)
    fe_resid = d.y - d.x @ (fe_vb @ ((d.x.T * fe_w) @ d.y))
    q = float(np.sum(fe_w * fe_resid**2))
    robust_results = {kind: robust_variance(d, fit, kind, level) for kind in robust}
    return ThreeLevelResult(
        k=k,
        clusters=len(d.cluster_names),
        cluster_sizes=sizes,
        coef_names=d.coef_names,
        coef=fit.beta,
        se=se,
        stat=stat,
        p=p_values,
        ci_low=low,
        ci_high=high,
        test=test,
        df=df,
        sigma2_between=between if identifiable else None,
        sigma2_within=within if identifiable else None,
        sigma2_total=between + within,
        identifiable=identifiable,
        loglik=fit.loglik,
        q=q,
        q_df=k - p,
        q_p=float(stats.chi2.sf(q, k - p)),
        labels=d.labels,
        level=level,
        converged=opt.converged,
        robust=robust_results,
        messages=messages,
    )


def profile_loglik(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    clusters: Sequence[Any],
    component: Literal["between", "within"],
    values: Sequence[float],
    *,
    moderators: pd.DataFrame | np.ndarray | None = None,
) -> np.ndarray:
    """Profile REML log-likelihood of one component: at each value, maximised over the other.

    As metafor ``profile(fit, sigma2=1)`` (between) or ``sigma2=2`` (within); a flat profile shows a
    component the data cannot pin down (e.g. one effect per cluster).
    """
    if component not in ("between", "within"):
        raise MetaInputError(f"unknown component {component!r}; choose between or within")
    d = _design(yi, vi, clusters, moderators, None)
    index = 0 if component == "between" else 1
    out = []
    for value in values:
        if not math.isfinite(value) or value < 0:
            raise MetaInputError(f"profile value {value!r}: expected a variance ≥ 0")
        out.append(_maximise(d, fixed={index: float(value)}).fit.loglik)
    return np.array(out)
