"""The statistical stopping rule (ohevidence.screen.stopping) against hand computations.

Notation: the last n screened records hold k includes; U records are unscreened; under H0 at least
m includes are among them, so the urn (the n records plus the U) holds m + k includes and
p = P(X <= k), X ~ Hypergeometric(U + n, m + k, n). With k = 0 and m = 1, p = U / (U + n): the one
missing include was not among the n drawn.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from ohevidence.screen.stopping import (
    StoppingSettings,
    excludes_until_safe,
    first_safe_stop,
    missing_under_h0,
    p_below_target,
    p_value,
    recall_lower_bound,
    safe_to_stop,
    stopping_report,
)


def test_missing_includes_under_h0_use_exact_fractions() -> None:
    # recall 19/R < 0.95 <=> R > 20 <=> R >= 21: two more includes (not one, as 19/0.95 rounded down
    # to 19.99... would give)
    assert missing_under_h0(19, 0.95) == 2
    assert missing_under_h0(2, 0.95) == 1  # R >= 3
    assert missing_under_h0(20, 0.95) == 2  # 20/0.95 = 21.05 -> R >= 22
    assert missing_under_h0(3, 0.5) == 4  # R >= 7


def test_stopping_p_value_by_hand() -> None:
    # 100 records, 10 screened: include, include, exclude, include, six excludes. r = 3, m = 1, U = 90.
    labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    by_hand = {
        6: 90 / 96,  # after the last include: k = 0, P(X = 0) = U / (U + n)
        8: 1 - math.comb(8, 2) / math.comb(98, 2),  # k = 1 of m + k = 2: 1 - P(X = 2)
        9: 1 - math.comb(9, 3) / math.comb(99, 3),
        10: 1 - math.comb(10, 4) / math.comb(100, 4),
    }
    assert hypergeom.cdf(0, 96, 1, 6) == pytest.approx(by_hand[6])  # scipy agrees with the hand value
    assert hypergeom.cdf(1, 98, 2, 8) == pytest.approx(by_hand[8])
    assert p_below_target(labels, 100, 0.95) == pytest.approx(min(by_hand.values())) == pytest.approx(0.9375)


def test_rule_fires_when_the_hand_computed_p_drops_below_five_percent() -> None:
    # 50 records, two includes then excludes; m = 1, so p = U / (U + n), n = excludes after the last include.
    screened_45 = [1, 1] + [0] * 45  # U = 3: p = 3/48 = 0.0625
    screened_46 = [1, 1] + [0] * 46  # U = 2: p = 2/48 = 0.0417
    assert p_below_target(screened_45, 50, 0.95) == pytest.approx(3 / 48)
    assert p_below_target(screened_46, 50, 0.95) == pytest.approx(2 / 48)
    assert not safe_to_stop(screened_45, 50) and safe_to_stop(screened_46, 50)
    # (48 - n) / 48 < 0.05 first at n = 46 excludes
    assert excludes_until_safe([1, 1], 50) == 46
    assert excludes_until_safe(screened_45, 50) == 1 and excludes_until_safe(screened_46, 50) == 0
    assert first_safe_stop([1, 1] + [0] * 48, StoppingSettings()) == 48


def test_recall_lower_bound_by_hand() -> None:
    # 50 records, 22 screened (two includes, 20 excludes), U = 28. For k = 0, n = 20:
    # P(X = 0) = C(28, m) / C(48, m): m=5 -> 0.0574, m=6 -> 0.0307 < 0.05. So at most 5 includes
    # may remain (95% confidence) and recall is at least 2 / 7.
    p5, p6 = (math.comb(28, m) / math.comb(48, m) for m in (5, 6))
    assert p5 > 0.05 > p6
    assert p_value([1, 1] + [0] * 20, 50, 6) == pytest.approx(p6)
    assert recall_lower_bound([1, 1] + [0] * 20, 50) == (pytest.approx(2 / 7), 5)
    # every record screened: nothing can remain
    assert recall_lower_bound([1, 0, 1], 3) == (1.0, 0)


def test_only_windows_after_an_include_are_needed() -> None:
    """The fast p (windows starting after an include) equals the minimum over every window."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        screened = int(rng.integers(1, 40))
        pool = screened + int(rng.integers(1, 30))
        labels = (rng.random(screened) < rng.random() * 0.5).astype(int)
        missing = int(rng.integers(1, pool - screened + 1))
        n = np.arange(1, screened + 1)
        k = np.cumsum(labels[::-1])
        every_window = hypergeom.cdf(k, pool - screened + n, missing + k, n).min()
        assert p_value(labels, pool, missing) == pytest.approx(every_window, abs=1e-12)


def test_no_stop_before_the_first_include() -> None:
    assert not safe_to_stop([0] * 98, 100)
    assert first_safe_stop([0] * 49 + [1], StoppingSettings()) is None
    assert excludes_until_safe([0] * 10, 100) is None
    report = stopping_report([0] * 10, 100)
    assert report["recall_lower_bound"] is None and not report["safe_to_stop"]
    assert report["verdict"].startswith("not yet: no include")


def test_stopping_report_counts_and_verdict() -> None:
    report = stopping_report([1, 1] + [0] * 20, 50)
    assert (report["records_screened"], report["records_remaining"], report["includes_found"]) == (22, 28, 2)
    assert report["p_value_recall_below_target"] == pytest.approx(28 / 48, abs=1e-6)
    assert report["further_excludes_needed"] == 26  # (48 - 20 - e) / 48 < 0.05 first at e = 26
    assert not report["safe_to_stop"] and "next 26 records" in report["verdict"]
    done = stopping_report([1, 1] + [0] * 46, 50)
    assert done["safe_to_stop"] and done["further_excludes_needed"] == 0
    assert done["verdict"].startswith("safe to stop")


def test_a_lower_target_stops_sooner() -> None:
    labels = [1] * 10 + [0] * 30
    strict, loose = StoppingSettings(0.95), StoppingSettings(0.8)
    assert excludes_until_safe(labels, 400, loose) < excludes_until_safe(labels, 400, strict)


@pytest.mark.parametrize(("target", "confidence"), [(0, 0.95), (1, 0.95), (0.95, 1.0), (0.9, 0)])
def test_stopping_settings_out_of_range_are_rejected(target: float, confidence: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        StoppingSettings(target, confidence)
