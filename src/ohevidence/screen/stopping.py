"""When is it safe to stop screening? The statistical stopping criterion of Callaghan & Müller-Hansen.

Callaghan MW, Müller-Hansen F. Statistical stopping criteria for automated screening in systematic
reviews. Syst Rev 2020;9:273 (doi:10.1186/s13643-020-01521-4), "ranked quasi-sampling".

The null hypothesis is that recall is still below the target ``τ``: with ``r`` includes found, at
least ``K = ⌊r/τ⌋ + 1 − r`` includes would still be among the unscreened records. The last ``n``
records screened are treated as if they had been drawn at random from themselves plus every
unscreened record. Under H0 that urn holds ``K + k`` includes (``k`` of them among the ``n``), and the
chance of seeing ``k`` or fewer in ``n`` draws is the hypergeometric CDF

    p(n) = P(X ≤ k),  X ~ Hypergeometric(population U + n, successes K + k, draws n),

with ``U`` the records not yet screened. The criterion takes the smallest ``p(n)`` over every ``n``
and rejects H0 (it is safe to stop) when it falls below ``1 − confidence``.

The assumption, stated plainly: the records were screened in the tool's priority order (or at
random). A ranking that works puts includes *earlier* than random would, so the screened tail is
poorer in includes than a random sample of the same size only if the unscreened records are poorer
still -- which is what makes treating it as a random sample conservative. If reviewers screened in
some other order (alphabetical, by journal), the test does not apply.

Only windows that start just after an include (or at the first record) need computing: extending
a window over one more exclude adds an exclude to both the urn and the draws, which can only lower
``p`` (a coupling argument), so for each ``k`` the longest window gives the smallest ``p``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.stats import hypergeom


@dataclass(frozen=True)
class StoppingSettings:
    """Recall target and confidence of the stopping rule (config ``screening.stopping``)."""

    recall_target: float = 0.95
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0 < self.recall_target < 1:
            raise ValueError(f"recall_target must be between 0 and 1, got {self.recall_target}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {self.confidence}")

    @property
    def alpha(self) -> float:
        return 1 - self.confidence


def missing_under_h0(found: int, recall_target: float) -> int:
    """The fewest includes that must still be unscreened for recall to be below the target.

    Recall ``found / R < τ`` means ``R > found / τ``, so ``R ≥ ⌊found / τ⌋ + 1``. Computed with
    exact fractions so that e.g. 19 / 0.95 is 20, not 19.999….
    """
    return math.floor(Fraction(found) / Fraction(str(recall_target))) + 1 - found


def p_value(labels_in_order: Sequence[int] | np.ndarray, pool: int, missing: int) -> float:
    """p-value of H0 "at least ``missing`` includes are still among the unscreened records".

    ``labels_in_order`` are the decisions so far (1 = include) in the order made; ``pool`` is the
    number of records to screen in all (screened + unscreened).
    """
    labels = np.asarray(labels_in_order, dtype=int)
    screened = len(labels)
    unscreened = pool - screened
    if unscreened < 0:
        raise ValueError(f"{screened} records screened out of a pool of {pool}")
    if missing <= 0:
        return 1.0
    if missing > unscreened:
        return 0.0  # H0 cannot hold: fewer records are left than it needs includes
    if screened == 0:
        return 1.0
    includes = np.flatnonzero(labels == 1)
    found = len(includes)
    # windows: everything after the j-th include (j = 0..found-1), and the whole sequence
    sizes = np.append(screened - includes - 1, screened)
    in_window = np.append(found - np.arange(1, found + 1), found)
    keep = sizes > 0
    sizes, in_window = sizes[keep], in_window[keep]
    p = hypergeom.cdf(in_window, unscreened + sizes, missing + in_window, sizes)
    return float(np.min(p))


def p_below_target(labels_in_order: Sequence[int] | np.ndarray, pool: int, recall_target: float) -> float:
    """p-value of H0 "recall is still below ``recall_target``" (see the module docstring)."""
    found = int(np.sum(np.asarray(labels_in_order, dtype=int) == 1))
    return p_value(labels_in_order, pool, missing_under_h0(found, recall_target))


def safe_to_stop(
    labels_in_order: Sequence[int] | np.ndarray, pool: int, settings: StoppingSettings | None = None
) -> bool:
    """Whether H0 (recall below target) is rejected; never before the first include is found."""
    settings = settings or StoppingSettings()
    labels = np.asarray(labels_in_order, dtype=int)
    if len(labels) >= pool:
        return True
    if not np.any(labels == 1):
        return False
    return p_below_target(labels, pool, settings.recall_target) < settings.alpha


def recall_lower_bound(
    labels_in_order: Sequence[int] | np.ndarray, pool: int, confidence: float = 0.95
) -> tuple[float | None, int]:
    """(lower confidence bound of recall, most includes that may remain) at the given confidence.

    The bound is ``found / (found + m − 1)`` for the smallest ``m`` whose H0 "at least ``m``
    includes remain" is rejected (p is falling in ``m``, so a bisection finds it). None before any
    include is found.
    """
    labels = np.asarray(labels_in_order, dtype=int)
    found = int(np.sum(labels == 1))
    unscreened = pool - len(labels)
    if found == 0:
        return None, unscreened
    low, high = 1, unscreened + 1  # p(unscreened + 1) = 0: the answer lies in [1, unscreened + 1]
    while low < high:
        middle = (low + high) // 2
        if p_value(labels, pool, middle) < 1 - confidence:
            high = middle
        else:
            low = middle + 1
    remaining = low - 1
    return found / (found + remaining), remaining


def excludes_until_safe(
    labels_in_order: Sequence[int] | np.ndarray, pool: int, settings: StoppingSettings | None = None
) -> int | None:
    """How many more excludes in a row would make it safe to stop (0 = safe now; None = no include yet).

    Each further exclude can only lower the p-value, so a bisection over the count finds the first
    one; screening every record always suffices.
    """
    settings = settings or StoppingSettings()
    labels = np.asarray(labels_in_order, dtype=int)
    if not np.any(labels == 1):
        return None
    low, high = 0, pool - len(labels)
    while low < high:
        middle = (low + high) // 2
        if safe_to_stop(np.append(labels, np.zeros(middle, dtype=int)), pool, settings):
            high = middle
        else:
            low = middle + 1
    return low


def first_safe_stop(
    labels_in_full_order: Sequence[int] | np.ndarray, settings: StoppingSettings
) -> int | None:
    """For a simulation (every record screened): how many records had been screened when the rule
    first said it was safe to stop; None if it never did before the last record."""
    labels = np.asarray(labels_in_full_order, dtype=int)
    pool = len(labels)
    for screened in range(1, pool):
        # an include raises the bar; only a run of excludes can make it safe
        if labels[screened - 1] == 0 and safe_to_stop(labels[:screened], pool, settings):
            return screened
    return None


def stopping_report(
    labels_in_order: Sequence[int] | np.ndarray,
    pool: int,
    settings: StoppingSettings | None = None,
    unreadable_unscreened: int = 0,
    unreadable_screened: Sequence[int] | np.ndarray = (),
) -> dict[str, Any]:
    """What reviewers need to decide whether to stop: counts, recall bound, p-value and the verdict.

    ``labels_in_order`` (1 = include) are the settled title/abstract decisions on the records the
    ranking can read, in the order made, and ``pool`` is how many such records there are to screen.
    Records with no title, abstract or keywords are not ranked by what they say (no learner can read
    them), so the criterion's assumption (the unscreened records are poorer in includes than the
    screened tail) does not hold for them: they stay out of the estimate. They still count as
    records: ``unreadable_screened`` are the settled labels of those already screened and
    ``unreadable_unscreened`` how many are left; those must be screened by hand whatever the verdict.

    The counts (``records_to_screen``, ``records_screened``, ``includes_found``, ...) cover every
    record reviewers screen, so they equal the consensus counts of title_abstract.csv; the
    ``*_with_text`` counts are what the estimate was computed on.
    """
    settings = settings or StoppingSettings()
    labels = np.asarray(labels_in_order, dtype=int)
    unreadable = np.asarray(unreadable_screened, dtype=int)
    found = int(np.sum(labels == 1))
    remaining = pool - len(labels)
    bound, may_remain = recall_lower_bound(labels, pool, settings.confidence)
    safe = bool(found and safe_to_stop(labels, pool, settings))
    more = excludes_until_safe(labels, pool, settings)
    p = p_below_target(labels, pool, settings.recall_target) if found else 1.0
    target, confidence = f"{settings.recall_target:.0%}", f"{settings.confidence:.0%}"
    if remaining == 0 and not unreadable_unscreened:
        verdict = "every record has been screened"
    elif remaining == 0:
        verdict = "every record with a title, abstract or keywords has been screened"
    elif not found:
        verdict = "not yet: no include found, so recall cannot be estimated"
    elif safe:
        verdict = f"safe to stop: recall is at least {target} with {confidence} confidence"
    else:
        verdict = (
            f"not yet: keep screening in rank order; if the next {more} records are all excludes "
            f"it becomes safe to stop at {target} recall"
        )
    if unreadable_unscreened:
        verdict += (
            f"; {unreadable_unscreened} unscreened record(s) with no title, abstract or keywords are not "
            "covered (the ranking cannot read them): screen them by hand"
        )
    return {
        "method": "Callaghan & Müller-Hansen 2020 statistical stopping criterion (ranked quasi-sampling)",
        "assumption": "records were screened in the ranking's order (or at random), in the order the "
        "decisions were read",
        "recall_target": settings.recall_target,
        "confidence": settings.confidence,
        "records_to_screen": pool + len(unreadable) + unreadable_unscreened,
        "records_screened": len(labels) + len(unreadable),
        "records_remaining": remaining + unreadable_unscreened,
        "includes_found": found + int(np.sum(unreadable == 1)),
        "records_with_text_to_screen": pool,
        "records_with_text_screened": len(labels),
        "includes_found_with_text": found,
        "p_value_recall_below_target": round(p, 6),
        "recall_lower_bound": None if bound is None else round(bound, 4),
        "includes_that_may_remain": may_remain,
        "safe_to_stop": safe,
        "further_excludes_needed": more,
        "records_without_text_unscreened": unreadable_unscreened,
        "verdict": verdict,
    }
