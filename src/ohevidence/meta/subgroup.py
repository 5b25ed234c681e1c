"""Subgroup analysis and the test for subgroup differences, both ways reviewers meet it.

* ``separate`` (RevMan and R's meta): each subgroup is pooled on its own, with its own τ²;
  the test is Cochran's Q between the subgroup estimates, Σ w_g (θ_g − θ̄)² with
  w_g = 1/SE_g² (the SE each subgroup reports, so Hartung–Knapp SEs under ``hksj``), on
  G − 1 df, with I² = (Q − df)/Q as RevMan prints it.
* ``common`` (metafor): one mixed-effects model with a subgroup factor and one τ² shared by
  all subgroups; the test is the omnibus QM on the factor's G − 1 coefficients (an F test under
  HKSJ). Each subgroup's estimate is then pooled with that common τ².

The two can disagree (on dat.bcg by allocation: QM 1.77 vs Q-between 1.86 with REML), so
reports say which one they show. A subgroup with one study is reported as that study.

``test_groups`` limits the test to some subgroups (the pipeline leaves out "not reported" and
combined-role labels): every subgroup is still pooled and shown, only the test ignores the others.
``all_k1`` on the test says that every tested subgroup has one study: Q-between is then the
heterogeneity Q among those studies and says nothing about the subgroups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ohevidence.meta.model import CiMethod, MetaInputError, MetaResult, check_inputs, meta_regression, pool

Tau2Mode = Literal["separate", "common"]


@dataclass(frozen=True)
class SubgroupTest:
    q: float
    df: int
    p: float
    tau2_mode: str
    i2: float | None = None  # RevMan's I² for subgroup differences (separate mode)
    tau2: float | None = None  # the common τ² (common mode)
    statistic: str = "chi2"  # or "F" (common mode with HKSJ)
    groups: tuple[str, ...] = ()  # the subgroups tested
    all_k1: bool = False  # every tested subgroup has a single study

    def to_dict(self) -> dict[str, Any]:
        """The ``meta pool`` JSON contract (q, df, p, tau2_mode); analyses add groups and all_k1."""
        return {"q": self.q, "df": self.df, "p": self.p, "tau2_mode": self.tau2_mode}


@dataclass
class SubgroupResult:
    overall: MetaResult
    groups: dict[str, MetaResult]
    test: SubgroupTest | None

    def table(self) -> pd.DataFrame:
        rows = []
        for name, result in self.groups.items():
            rows.append({"subgroup": name, **result.to_dict()})
        rows.append({"subgroup": "overall", **self.overall.to_dict()})
        return pd.DataFrame(rows)


def q_between(estimates: Sequence[float], ses: Sequence[float]) -> tuple[float, int, float, float]:
    """Cochran's Q among subgroup estimates: (Q, df, p, I² %)."""
    theta = np.asarray(estimates, dtype=float)
    w = 1 / np.asarray(ses, dtype=float) ** 2
    mean = np.sum(w * theta) / np.sum(w)
    q = float(np.sum(w * (theta - mean) ** 2))
    df = len(theta) - 1
    i2 = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0
    return q, df, float(stats.chi2.sf(q, df)), i2


def subgroup_analysis(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    groups: Sequence[str],
    labels: Sequence[str] | None = None,
    *,
    method: str = "REML",
    ci_method: CiMethod = "z",
    tau2_mode: Tau2Mode = "separate",
    level: float = 0.95,
    test_groups: Sequence[str] | None = None,
    **pool_options: Any,
) -> SubgroupResult:
    """Pool overall and within each subgroup (in order of first appearance) and test the difference.

    ``test_groups``: the subgroups the test compares (default all); ``pool_options`` go to
    :func:`pool` (``pi``, ``hksj_floor``, ``hksj_small_k``).
    """
    y, v, names = check_inputs(yi, vi, labels)
    group_of = [str(g) for g in groups]
    if len(group_of) != len(y):
        raise MetaInputError("one subgroup label per study is needed")
    for name, group in zip(names, group_of, strict=True):
        if not group.strip():
            raise MetaInputError(f"study {name!r}: empty subgroup label")
    order = list(dict.fromkeys(group_of))
    members = {g: [i for i, gi in enumerate(group_of) if gi == g] for g in order}
    overall = pool(y, v, names, method=method, ci_method=ci_method, level=level, **pool_options)
    if tau2_mode not in ("separate", "common"):
        raise MetaInputError(f"tau2_mode must be 'separate' or 'common', not {tau2_mode!r}")
    tested = [g for g in order if test_groups is None or g in set(test_groups)]
    all_k1 = bool(tested) and all(len(members[g]) == 1 for g in tested)
    common_tau2: float | None = None
    test: SubgroupTest | None = None
    if tau2_mode == "common" and len(tested) > 1:
        index = [i for i, gi in enumerate(group_of) if gi in tested]
        dummies = pd.DataFrame({g: [1.0 if group_of[i] == g else 0.0 for i in index] for g in tested[1:]})
        model = meta_regression(
            y[index],
            v[index],
            dummies,
            [names[i] for i in index],
            method=method,
            ci_method=ci_method,
            level=level,
        )
        common_tau2 = model.tau2
        test = SubgroupTest(
            q=model.qm,
            df=model.qm_df,
            p=model.qm_p,
            tau2_mode="common",
            tau2=model.tau2,
            statistic="F" if model.qm_df2 is not None else "chi2",
            groups=tuple(tested),
            all_k1=all_k1,
        )
    results: dict[str, MetaResult] = {}
    for g in order:
        index = members[g]
        results[g] = pool(
            y[index],
            v[index],
            [names[i] for i in index],
            method=method,
            ci_method=ci_method,
            level=level,
            tau2_fixed=common_tau2 if g in tested else None,
            **pool_options,
        )
    if tau2_mode == "separate" and len(tested) > 1:
        q, df, p_value, i2 = q_between([results[g].estimate for g in tested], [results[g].se for g in tested])
        test = SubgroupTest(
            q=q, df=df, p=p_value, tau2_mode="separate", i2=i2, groups=tuple(tested), all_k1=all_k1
        )
    return SubgroupResult(overall=overall, groups=results, test=test)
