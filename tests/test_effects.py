"""Effect sizes: formulas, zero cells, CI levels, p-values, cluster trials and bad input."""

from __future__ import annotations

import math

import pytest
from scipy import special

from ohevidence import effects as fx


def test_log_rr_and_or_from_counts() -> None:
    rr = fx.two_by_two("RR", 4, 123, 11, 139)  # dat.bcg trial 1 (Aronson), published yi -0.8893, vi 0.3256
    assert rr.yi == pytest.approx(math.log((4 / 123) / (11 / 139)))
    assert rr.vi == pytest.approx(1 / 4 - 1 / 123 + 1 / 11 - 1 / 139)
    assert round(rr.yi, 4) == -0.8893 and round(rr.vi, 4) == 0.3256
    or_ = fx.two_by_two("OR", 4, 123, 11, 139)
    assert or_.yi == pytest.approx(math.log(4 * 128 / (119 * 11)))
    assert "no correction" not in or_.source and "added" not in or_.source


def test_zero_cell_gets_correction_only_there() -> None:
    corrected = fx.two_by_two("OR", 0, 22, 1, 21)
    assert corrected.yi == pytest.approx(math.log(0.5 * 20.5 / (22.5 * 1.5)))
    assert corrected.vi == pytest.approx(1 / 0.5 + 1 / 22.5 + 1 / 1.5 + 1 / 20.5)
    assert "0.5 added" in corrected.source
    plain = fx.two_by_two("OR", 1, 22, 1, 21)
    assert "added" not in plain.source
    everywhere = fx.two_by_two("OR", 1, 22, 1, 21, correct="all")
    assert everywhere.vi == pytest.approx(1 / 1.5 + 1 / 21.5 + 1 / 1.5 + 1 / 20.5)
    with pytest.raises(fx.NotEstimable):
        fx.two_by_two("OR", 0, 22, 1, 21, correct="none")


def test_double_zero_study() -> None:
    with pytest.raises(fx.NotEstimable, match="double-zero"):
        fx.two_by_two("RR", 0, 30, 0, 31)
    kept = fx.two_by_two("RR", 0, 30, 0, 31, double_zero="correct")
    assert kept.yi == pytest.approx(math.log((0.5 / 31) / (0.5 / 32)))
    rd = fx.two_by_two("RD", 0, 30, 0, 31)  # RD keeps it (0 difference is information)
    assert abs(rd.yi) < 1e-3 and rd.vi > 0  # 0.5 added (as escalc does), so not exactly 0


def test_risk_difference() -> None:
    rd = fx.two_by_two("RD", 2, 39, 1, 43)
    assert rd.yi == pytest.approx(2 / 39 - 1 / 43)
    assert rd.vi == pytest.approx((2 / 39) * (37 / 39) / 39 + (1 / 43) * (42 / 43) / 43)


@pytest.mark.parametrize(
    ("events", "n", "problem"), [(5, 4, "exceeds"), (-1, 10, "non-negative"), (1, 0, "positive")]
)
def test_impossible_counts(events: float, n: float, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        fx.two_by_two("RR", events, n, 1, 10)


def test_hedges_g_exact_correction_and_variances() -> None:
    m = 8 + 13 - 2
    j = special.gamma(m / 2) / (math.sqrt(m / 2) * special.gamma((m - 1) / 2))
    assert fx.hedges_correction(m) == pytest.approx(j, rel=1e-12)
    assert fx.hedges_correction(m) == pytest.approx(1 - 3 / (4 * m - 1), abs=1e-3)  # the usual approximation
    sp = math.sqrt((7 * 8**2 + 12 * 11**2) / m)
    d = (14 - 18) / sp
    g = j * d
    ls = fx.standardised_mean_difference(14, 8, 8, 18, 11, 13)
    assert ls.yi == pytest.approx(g)
    assert ls.vi == pytest.approx(1 / 8 + 1 / 13 + g**2 / (2 * 21))
    ls2 = fx.standardised_mean_difference(14, 8, 8, 18, 11, 13, variance="LS2")
    assert ls2.vi == pytest.approx(j**2 * (1 / 8 + 1 / 13 + d**2 / 42))
    revman = fx.standardised_mean_difference(14, 8, 8, 18, 11, 13, variance="RevMan")
    assert revman.vi == pytest.approx(1 / 8 + 1 / 13 + g**2 / (2 * (21 - 3.94)))
    with pytest.raises(ValueError, match="sd_int"):
        fx.standardised_mean_difference(14, -8, 8, 18, 11, 13)


def test_mean_difference_and_ratio_of_means() -> None:
    md = fx.mean_difference(9.3, 21.7, 158, 14.4, 27.7, 180)
    assert md.yi == pytest.approx(-5.1)
    assert md.vi == pytest.approx(21.7**2 / 158 + 27.7**2 / 180)
    rom = fx.log_ratio_of_means(9.3, 21.7, 158, 14.4, 27.7, 180)
    assert rom.yi == pytest.approx(math.log(9.3 / 14.4))
    assert rom.vi == pytest.approx(21.7**2 / (158 * 9.3**2) + 27.7**2 / (180 * 14.4**2))


def test_incidence_rate_ratio() -> None:
    irr = fx.log_incidence_rate_ratio(7, 1344, 11, 1988)
    assert irr.yi == pytest.approx(math.log((7 / 1344) / (11 / 1988)))
    assert irr.vi == pytest.approx(1 / 7 + 1 / 11)
    zero = fx.log_incidence_rate_ratio(0, 100, 3, 120)
    assert zero.vi == pytest.approx(1 / 0.5 + 1 / 3.5) and "0.5 added" in zero.source


def test_eighty_percent_ci_input() -> None:
    """WAVE-style: IRR 0.913 with an 80% CI 0.653 to 1.276 (z = 1.2816, not 1.96)."""
    effect = fx.from_confidence_interval("IRR", 0.913, 0.653, 1.276, level=0.80)
    z80 = 1.2815515655446004
    assert effect.se == pytest.approx((math.log(1.276) - math.log(0.653)) / (2 * z80))
    assert effect.yi == pytest.approx(math.log(0.913))
    assert "80% CI" in effect.source
    as95 = fx.from_confidence_interval("IRR", 0.913, 0.653, 1.276)
    assert as95.se < effect.se  # reading an 80% CI as 95% would overstate precision by 1.53x
    small = fx.from_confidence_interval("MD", -7, -16, 1, df=20)
    assert small.se == pytest.approx(17 / (2 * 2.0859634472658364))


def test_p_value_input() -> None:
    effect = fx.from_p_value("MD", -3.5, 0.03)
    assert effect.se == pytest.approx(3.5 / 2.1700903775845606)
    ratio = fx.from_p_value("HR", 0.8, 0.2)
    assert ratio.se == pytest.approx(abs(math.log(0.8)) / 1.2815515655446004)
    with pytest.raises(ValueError):
        fx.from_p_value("MD", -3.5, 1.2)
    with pytest.raises(fx.NotEstimable):
        fx.from_p_value("RR", 1.0, 0.5)


def test_bad_ci_inputs() -> None:
    with pytest.raises(ValueError, match="within"):
        fx.from_confidence_interval("OR", 1.12, 1.2, 1.87)
    with pytest.raises(ValueError, match="between 0 and 1"):
        fx.from_confidence_interval("OR", 1.12, 0.8, 1.87, level=95)
    with pytest.raises(ValueError, match="positive"):
        fx.from_confidence_interval("RR", 0.5, 0, 1.2)


def test_cluster_design_effect() -> None:
    assert fx.design_effect(37, 0.016) == pytest.approx(1.576)
    assert fx.design_effect(1, 0.5) == 1
    base = fx.two_by_two("OR", 63, 295, 84, 330)
    adjusted = fx.cluster_adjusted(base, 37, 0.016)
    assert adjusted.yi == base.yi and adjusted.vi == pytest.approx(base.vi * 1.576)
    assert round(adjusted.se, 2) == 0.24  # Cochrane Handbook 5.1 §16.3.6
    with pytest.raises(ValueError, match="ICC"):
        fx.design_effect(10, 1.5)


def test_is_from_arm_data_knows_every_arm_data_source() -> None:
    """One classifier of effects.csv `from` (forest footnotes and sensitivity analyses share it)."""
    smd = fx.standardised_mean_difference(10.0, 2.0, 30, 12.0, 2.5, 30)
    assert fx.is_from_arm_data(smd.source)  # Hedges' g from arm means
    assert fx.is_from_arm_data(fx.two_by_two("OR", 5, 20, 8, 20).source)
    assert fx.is_from_arm_data(
        "arms a+b combined into one intervention arm (Handbook 23.3.4); "
        + fx.two_by_two("RR", 5, 20, 8, 20).source
    )
    reported = fx.from_confidence_interval("HR", 1.9, 1.2, 2.8, level=0.95)
    assert not fx.is_from_arm_data(reported.source)


@pytest.mark.parametrize(
    ("low", "high", "measure", "higher", "expected"),
    [
        (1.20, 2.01, "HR", True, "benefit"),  # van Vilsteren 2015: faster first return to work
        (0.95, 1.66, "HR", True, "no clear difference"),  # the CI holds 1
        (-0.66, -0.14, "SMD", False, "benefit"),  # fewer sick days
        (-0.66, -0.14, "SMD", True, "harm"),
        (0.33, 0.95, "OR", None, "no estimate"),  # which side is better is not known
        (-1.0, 0.0, "MD", False, "no clear difference"),  # a limit on 0 holds no effect
    ],
)
def test_ci_direction_reads_the_interval_against_no_effect(
    low: float, high: float, measure: str, higher: bool | None, expected: str
) -> None:
    assert fx.ci_direction(low, high, measure, higher) == expected
