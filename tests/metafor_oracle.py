"""Compare ohevidence.meta with values metafor computed for the same data (a JSON oracle).

The oracle JSON files in tests/data/meta/ were produced by ``tests/data/meta/metafor_oracle.R``
(metafor 3.8-1, convergence thresholds tightened to 1e-12/1e-14 so the reference is the exact
solution, not metafor's default stopping point). Each comparison is (feature, quantity, ours, metafor).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ohevidence.meta import (
    begg_test,
    cumulative,
    egger_test,
    leave_one_out,
    mantel_haenszel,
    meta_regression,
    peto,
    pool,
    subgroup_analysis,
    trim_and_fill,
)

Comparison = tuple[str, str, float | None, float | None]


def _pairs(feature: str, ours: dict, reference: dict) -> Iterator[Comparison]:
    for key, ref in reference.items():
        if key in ours:
            yield feature, key, ours[key], ref


def comparisons(csv: Path, oracle: Path) -> Iterator[Comparison]:
    data = pd.read_csv(csv)
    ref = json.loads(oracle.read_text(encoding="utf-8"))
    y, v, names = data["yi"].to_numpy(), data["vi"].to_numpy(), data["study"].astype(str).tolist()
    for label, expected in ref["pool"].items():
        method, ci = label.split()
        result = pool(y, v, names, method=method, ci_method=ci)
        ours = result.to_dict() | {"stat": result.stat, "p": result.p}
        if ci == "hksj" and method == "FE":
            continue  # metafor warns that Knapp-Hartung is not meant for FE models
        yield from _pairs(f"pool {label}", ours, expected)
    for label, expected in ref.get("regression", {}).items():
        method, ci = label.split()
        reg = meta_regression(y, v, data[["x"]], names, method=method, ci_method=ci)
        ours = {
            "coef": list(reg.coef),
            "se": list(reg.se),
            "ci_low": list(reg.ci_low),
            "ci_high": list(reg.ci_high),
            "stat": list(reg.stat),
            "p": list(reg.p),
            "tau2": reg.tau2,
            "tau2_ci_low": reg.tau2_ci_low,
            "tau2_ci_high": reg.tau2_ci_high,
            "i2": reg.i2,
            "h2": reg.h2,
            "r2": reg.r2,
            "qe": reg.qe,
            "qe_p": reg.qe_p,
            "qm": reg.qm,
            "qm_p": reg.qm_p,
        }
        yield from _pairs(f"meta-regression {label}", ours, expected)
    for method, expected in ref.get("subgroup", {}).items():
        common = subgroup_analysis(y, v, data["group"].astype(str), names, method=method, tau2_mode="common")
        separate = subgroup_analysis(
            y, v, data["group"].astype(str), names, method=method, tau2_mode="separate"
        )
        assert common.test is not None and separate.test is not None
        yield f"subgroup {method} common", "qm", common.test.q, expected["common_qm"]
        yield f"subgroup {method} common", "qm_p", common.test.p, expected["common_qm_p"]
        yield f"subgroup {method} common", "tau2", common.test.tau2, expected["common_tau2"]
        yield f"subgroup {method} separate", "q_between", separate.test.q, expected["q_between"]
        yield f"subgroup {method} separate", "q_between_p", separate.test.p, expected["q_between_p"]
        for group, sep in zip(separate.groups.values(), expected["separate"], strict=True):
            yield from _pairs(f"subgroup {method} separate group", group.to_dict(), sep)
    loo = leave_one_out(y, v, names, method="REML")
    for key, values in ref["leave1out"].items():
        if len(y) == 2 and key in {"q", "tau2", "i2"}:
            continue  # one study left: metafor prints Q = τ² = I² = 0; we report a single study, unpooled
        for ours, theirs in zip(loo[key], values, strict=True):
            yield "leave-one-out REML", key, ours, theirs
    if "cumulative" in ref:
        cum = cumulative(y, v, names, order=data["year"], method="REML")
        for key, values in ref["cumulative"].items():
            for ours, theirs in zip(cum[key], values, strict=True):
                yield "cumulative REML", key, ours, theirs
    for model in ("lm", "rma"):
        if f"egger_{model}" in ref:
            egger = egger_test(y, v, model=model, method="REML")  # type: ignore[arg-type]
            ours = {
                "stat": egger.stat,
                "p": egger.p,
                "limit": egger.limit_estimate,
                "limit_ci_low": egger.limit_ci_low,
                "limit_ci_high": egger.limit_ci_high,
            }
            yield from _pairs(f"Egger {model}", ours, ref[f"egger_{model}"])
    if "begg" in ref:
        begg = begg_test(y, v)
        yield from _pairs("Begg", {"tau": begg.tau, "p": begg.p}, ref["begg"])
    for label, expected in ref.get("trimfill", {}).items():
        method, estimator = label.split()
        tf = trim_and_fill(y, v, names, method=method, estimator=estimator)  # type: ignore[arg-type]
        ours = tf.result.to_dict() | {"k0": tf.k0, "se_k0": tf.se_k0, "p_k0": tf.p_k0}
        yield "trim-and-fill " + label, "side", float(tf.side == expected["side"]), 1.0
        yield from _pairs(f"trim-and-fill {label}", ours, {k: x for k, x in expected.items() if k != "side"})
    if "mh" in ref:
        counts = (data["ai"], data["n1i"], data["ci"], data["n2i"])
        for measure, expected in ref["mh"].items():
            if measure == "PETO":
                result = peto(*counts, names)
            else:
                result = mantel_haenszel(measure, *counts, names)
            yield from _pairs(f"{result.method}", result.to_dict(), expected)


def relative_error(ours: float | None, reference: float | None, floor: float = 1e-8) -> float:
    """|ours − ref| / max(|ref|, floor): relative, but absolute for values that are 0 (τ² at the boundary)."""
    if reference is None or (isinstance(reference, float) and math.isnan(reference)):
        return 0.0 if ours is None or (isinstance(ours, float) and math.isnan(ours)) else math.inf
    if ours is None:
        return math.inf
    values = np.atleast_1d(np.asarray(ours, dtype=float)), np.atleast_1d(np.asarray(reference, dtype=float))
    diff = np.abs(values[0] - values[1])
    return float(np.max(diff / np.maximum(np.abs(values[1]), floor)))
