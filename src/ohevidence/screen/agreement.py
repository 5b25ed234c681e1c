"""Inter-rater agreement between two screeners, as Covidence reports it.

Computed on the overlap only (records both reviewers decided at that stage), with ``maybe``
counted as ``include``: at title/abstract a "maybe" sends the record on to full text, so it is
a vote to keep it. Records only one reviewer saw are counted, not guessed.

Cohen's κ = (p_o − p_e) / (1 − p_e) with p_e from each reviewer's own include rate.
Gwet's AC1 = (p_o − p_e) / (1 − p_e) with p_e = 2π(1 − π), π the mean include rate of the two
(Gwet 2008, Br J Math Stat Psychol 61:29–48). AC1 stays interpretable when almost every
record is excluded, where κ collapses (the "kappa paradox"), which is the normal case in
screening.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sklearn.metrics import cohen_kappa_score


def as_binary(decision: str) -> int:
    """include/maybe -> 1, exclude -> 0."""
    return 0 if decision == "exclude" else 1


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def percent_agreement(first: list[int], second: list[int]) -> float:
    if not first:
        return math.nan
    return 100 * sum(a == b for a, b in zip(first, second, strict=True)) / len(first)


def cohen_kappa(first: list[int], second: list[int]) -> float:
    """Cohen's κ on binary votes; NaN when chance agreement is 1 (both reviewers used one label only)."""
    if not first:
        return math.nan
    p_first = sum(first) / len(first)
    p_second = sum(second) / len(second)
    expected = p_first * p_second + (1 - p_first) * (1 - p_second)
    if math.isclose(expected, 1.0):
        return math.nan
    return float(cohen_kappa_score(first, second, labels=[0, 1]))


def gwet_ac1(first: list[int], second: list[int]) -> float:
    """Gwet's AC1 for two raters and two categories."""
    if not first:
        return math.nan
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / len(first)
    pi = (sum(first) + sum(second)) / (2 * len(first))
    expected = 2 * pi * (1 - pi)
    if math.isclose(expected, 1.0):
        return math.nan
    return (observed - expected) / (1 - expected)


def pair_agreement(
    first: Mapping[str, str], second: Mapping[str, str], names: tuple[str, str]
) -> dict[str, Any]:
    """Agreement between two reviewers' decisions ({record_id: decision}) at one stage."""
    both = sorted(set(first) & set(second))
    a = [as_binary(first[r]) for r in both]
    b = [as_binary(second[r]) for r in both]
    return {
        "reviewers": list(names),
        "records_screened_by_both": len(both),
        "records_screened_by_one_only": len(set(first) ^ set(second)),
        f"records_only_{names[0]}": len(set(first) - set(second)),
        f"records_only_{names[1]}": len(set(second) - set(first)),
        "both_include": sum(x == 1 and y == 1 for x, y in zip(a, b, strict=True)),
        "both_exclude": sum(x == 0 and y == 0 for x, y in zip(a, b, strict=True)),
        f"include_{names[0]}_exclude_{names[1]}": sum(x == 1 and y == 0 for x, y in zip(a, b, strict=True)),
        f"exclude_{names[0]}_include_{names[1]}": sum(x == 0 and y == 1 for x, y in zip(a, b, strict=True)),
        "percent_agreement": _nan_to_none(percent_agreement(a, b)),
        "cohen_kappa": _nan_to_none(cohen_kappa(a, b)),
        "gwet_ac1": _nan_to_none(gwet_ac1(a, b)),
        "maybe_counted_as": "include",
    }
