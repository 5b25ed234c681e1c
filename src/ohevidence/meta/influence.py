"""Leave-one-out and cumulative meta-analysis: how much the pooled result rests on any one study."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ohevidence.meta.model import CiMethod, check_inputs, pool

_COLUMNS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "stat",
    "p",
    "q",
    "q_p",
    "tau2",
    "i2",
    "h2",
    "pi_low",
    "pi_high",
)


def _row(result: Any) -> dict[str, Any]:
    values = result.to_dict()
    return {key: values[key] for key in _COLUMNS} | {"k": result.k, "pooled": result.pooled}


def leave_one_out(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    method: str = "REML",
    ci_method: CiMethod = "z",
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per study: the model refitted without it (column ``omitted``)."""
    y, v, names = check_inputs(yi, vi, labels)
    rows = []
    for i, name in enumerate(names):
        keep = [j for j in range(len(y)) if j != i]
        if not keep:
            continue
        result = pool(
            y[keep], v[keep], [names[j] for j in keep], method=method, ci_method=ci_method, level=level
        )
        rows.append({"omitted": name, **_row(result)})
    return pd.DataFrame(rows)


def cumulative(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    order: Sequence[float] | None = None,
    method: str = "REML",
    ci_method: CiMethod = "z",
    level: float = 0.95,
) -> pd.DataFrame:
    """Add studies one at a time (in ``order``, e.g. year; stable for ties) and pool each time."""
    y, v, names = check_inputs(yi, vi, labels)
    sequence = (
        np.argsort(np.asarray(order, dtype=float), kind="stable") if order is not None else range(len(y))
    )
    taken: list[int] = []
    rows = []
    for i in sequence:
        taken.append(int(i))
        result = pool(
            y[taken], v[taken], [names[j] for j in taken], method=method, ci_method=ci_method, level=level
        )
        rows.append({"added": names[int(i)], **_row(result)})
    return pd.DataFrame(rows)
