"""The published reference datasets (../shared/meta_reference) against their EXPECTED.md values.

Each expected number is written as printed there; the tolerance is half a unit in its last printed
decimal. Skipped when ../shared is absent (the invented-data oracles in test_meta_metafor.py cover
the same code on a fresh clone).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ohevidence import effects as fx
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


def close(value: float | None, printed: str) -> bool:
    """``value`` rounds to the printed number (half a unit in its last decimal, plus float slack)."""
    assert value is not None
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed)) <= 0.5 * 10**-decimals + 1e-12


def check(pairs: dict[str, tuple[float | None, str]], *, metafor_default: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """All values match their printed numbers.

    ``metafor_default`` names values EXPECTED.md took from metafor run at its default stopping rules
    (Fisher scoring stops when τ² changes < 1e-5; Q-profile limits use uniroot's tol ≈ 1.2e-4), which
    leave the 4th-5th significant digit unsettled. We solve to full precision and agree with metafor
    run with tight tolerances to ~1e-10 (tests/test_meta_metafor.py); these are checked to 1e-3 relative.
    """
    bad = {
        name: (value, printed)
        for name, (value, printed) in pairs.items()
        if not (
            close(value, printed)
            or (name in metafor_default and value is not None and abs(value / float(printed) - 1) < 1e-3)
        )
    }
    assert not bad, bad


@pytest.fixture
def bcg(meta_reference: Path) -> pd.DataFrame:
    data = pd.read_csv(meta_reference / "dat.bcg.csv")
    effects = [
        fx.two_by_two("RR", r.tpos, r.tpos + r.tneg, r.cpos, r.cpos + r.cneg) for r in data.itertuples()
    ]
    return data.assign(yi=[e.yi for e in effects], vi=[e.vi for e in effects])


def test_bcg_effect_sizes(bcg: pd.DataFrame) -> None:
    check({"yi1": (bcg.yi[0], "-0.8893"), "vi1": (bcg.vi[0], "0.3256")})


def test_bcg_fixed_and_random(bcg: pd.DataFrame) -> None:
    fe = pool(bcg.yi, bcg.vi, method="FE")
    dl = pool(bcg.yi, bcg.vi, method="DL")
    reml = pool(bcg.yi, bcg.vi, method="REML")
    pm = pool(bcg.yi, bcg.vi, method="PM")
    check(
        {
            "FE est": (fe.estimate, "-0.4303"),
            "FE lo": (fe.ci_low, "-0.5097"),
            "FE hi": (fe.ci_high, "-0.3509"),
            "FE z": (fe.stat, "-10.6247"),
            "Q": (fe.q, "152.2330"),
            "DL est": (dl.estimate, "-0.7141"),
            "DL se": (dl.se, "0.1787"),
            "DL lo": (dl.ci_low, "-1.0644"),
            "DL hi": (dl.ci_high, "-0.3638"),
            "DL z": (dl.stat, "-3.9952"),
            "DL tau2": (dl.tau2, "0.3088"),
            "DL I2": (dl.i2, "92.1173"),
            "DL RR": (math.exp(dl.estimate), "0.4896"),
            "DL RR lo": (math.exp(dl.ci_low), "0.3449"),
            "DL RR hi": (math.exp(dl.ci_high), "0.6950"),
            "DL tau2 lo": (dl.tau2_ci_low, "0.1197"),
            "DL tau2 hi": (dl.tau2_ci_high, "1.1115"),
            "DL I2 lo": (dl.i2_ci_low, "81.9177"),
            "DL I2 hi": (dl.i2_ci_high, "97.6781"),
            "REML est": (reml.estimate, "-0.7145"),
            "REML se": (reml.se, "0.1798"),
            "REML lo": (reml.ci_low, "-1.0669"),
            "REML hi": (reml.ci_high, "-0.3622"),
            "REML z": (reml.stat, "-3.9744"),
            "REML tau2": (reml.tau2, "0.3132"),
            "REML I2": (reml.i2, "92.22"),
            "REML H2": (reml.h2, "12.86"),
            "REML PI lo": (math.exp(reml.pi_low or 0), "0.1546"),
            "REML PI hi": (math.exp(reml.pi_high or 0), "1.5490"),
            "REML PI log lo": (reml.pi_low, "-1.87"),
            "REML PI log hi": (reml.pi_high, "0.44"),
            "REML tau2 lo": (reml.tau2_ci_low, "0.1197"),
            "REML tau2 hi": (reml.tau2_ci_high, "1.1115"),
            "REML I2 lo": (reml.i2_ci_low, "81.9177"),
            "REML I2 hi": (reml.i2_ci_high, "97.6781"),
            "REML H2 lo": (reml.h2 and (100 / (100 - (reml.i2_ci_low or 0))), "5.5303"),
            "PM est": (pm.estimate, "-0.7150"),
            "PM se": (pm.se, "0.1809"),
            "PM lo": (pm.ci_low, "-1.0695"),
            "PM hi": (pm.ci_high, "-0.3604"),
            "PM tau2": (pm.tau2, "0.3181"),
        },
        metafor_default={"DL I2 lo", "REML I2 lo", "REML H2 lo"},
    )


def test_bcg_hksj(bcg: pd.DataFrame) -> None:
    reml = pool(bcg.yi, bcg.vi, method="REML", ci_method="hksj")
    dl = pool(bcg.yi, bcg.vi, method="DL", ci_method="hksj")
    check(
        {
            "se": (reml.se, "0.1808"),
            "lo": (reml.ci_low, "-1.1084"),
            "hi": (reml.ci_high, "-0.3206"),
            "DL lo": (dl.ci_low, "-1.1078"),
            "DL hi": (dl.ci_high, "-0.3204"),
        }
    )


def test_bcg_mantel_haenszel_and_peto(bcg: pd.DataFrame) -> None:
    counts = (bcg.tpos, bcg.tpos + bcg.tneg, bcg.cpos, bcg.cpos + bcg.cneg)
    rr = mantel_haenszel("RR", *counts)
    or_ = mantel_haenszel("OR", *counts)
    pe = peto(*counts)
    check(
        {
            "RR": (rr.estimate, "-0.4537"),
            "RR lo": (rr.ci_low, "-0.5308"),
            "RR hi": (rr.ci_high, "-0.3766"),
            "RR z": (rr.stat, "-11.5338"),
            "RR Q": (rr.q, "152.5676"),
            "RR exp": (math.exp(rr.estimate), "0.6353"),
            "OR": (or_.estimate, "-0.4734"),
            "OR lo": (or_.ci_low, "-0.5538"),
            "OR hi": (or_.ci_high, "-0.3930"),
            "OR Q": (or_.q, "163.9426"),
            "OR exp lo": (math.exp(or_.ci_low), "0.5748"),
            "Peto": (math.exp(pe.estimate), "0.6222"),
            "Peto lo": (math.exp(pe.ci_low), "0.5746"),
            "Peto hi": (math.exp(pe.ci_high), "0.6738"),
        }
    )


def test_bcg_log_or_inverse_variance(bcg: pd.DataFrame) -> None:
    effects = [
        fx.two_by_two("OR", r.tpos, r.tpos + r.tneg, r.cpos, r.cpos + r.cneg) for r in bcg.itertuples()
    ]
    y, v = [e.yi for e in effects], [e.vi for e in effects]
    dl = pool(y, v, method="DL")
    ml = pool(y, v, method="ML")
    ml_hk = pool(y, v, method="ML", ci_method="hksj")
    fe = pool(y, v, method="FE")
    check(
        {
            "DL": (dl.estimate, "-0.7474"),
            "DL lo": (dl.ci_low, "-1.1242"),
            "DL hi": (dl.ci_high, "-0.3706"),
            "DL tau2": (dl.tau2, "0.3663"),
            "Q": (dl.q, "163.1649"),
            "I2": (dl.i2, "92.6455"),
            "FE OR": (math.exp(fe.estimate), ".6465"),
            "FE lo": (math.exp(fe.ci_low), ".5951"),
            "ML OR": (math.exp(ml.estimate), ".4762"),
            "ML lo": (math.exp(ml.ci_low), ".3360"),
            "ML hi": (math.exp(ml.ci_high), ".6749"),
            "ML tau2": (ml.tau2, ".3025"),
            "ML tau2 lo": (ml.tau2_ci_low, "0.1302"),
            "ML tau2 hi": (ml.tau2_ci_high, "1.1812"),
            "ML knha lo": (math.exp(ml_hk.ci_low), ".3175"),
            "ML knha hi": (math.exp(ml_hk.ci_high), ".7141"),
        },
        metafor_default={"ML tau2 lo"},
    )


def test_bcg_meta_regression(bcg: pd.DataFrame) -> None:
    one = meta_regression(bcg.yi, bcg.vi, bcg[["ablat"]], method="REML")
    two = meta_regression(bcg.yi, bcg.vi, bcg[["ablat", "year"]], method="REML")
    check(
        {
            "tau2": (one.tau2, "0.0764"),
            "tau2 lo": (one.tau2_ci_low, "0.0167"),
            "tau2 hi": (one.tau2_ci_high, "0.7849"),
            "I2": (one.i2, "68.39"),
            "b0": (one.coef[0], "0.2515"),
            "b1": (one.coef[1], "-0.0291"),
            "se1": (one.se[1], "0.0072"),
            "QE": (one.qe, "30.7331"),
            "2 tau2": (two.tau2, "0.1108"),
            "2 QE": (two.qe, "28.3251"),
            "2 QM": (two.qm, "12.2043"),
            "2 QMp": (two.qm_p, "0.0022"),
            "2 ablat": (two.coef[1], "-0.0280"),
            "2 se": (two.se[1], "0.0102"),
            "2 R2": (two.r2, "64.63"),
        },
        metafor_default={"tau2", "tau2 hi", "2 QM"},
    )
    assert two.qe_df == 10 and two.qm_df == 2
    alloc = pd.get_dummies(bcg.alloc, dtype=float).drop(columns="alternate")
    mods = pd.concat([bcg[["ablat"]], alloc], axis=1)
    z = meta_regression(bcg.yi, bcg.vi, mods, method="REML", test_terms=[2, 3])
    f = meta_regression(bcg.yi, bcg.vi, mods, method="REML", ci_method="hksj", test_terms=[2, 3])
    check({"QM": (z.qm, "1.2850"), "p": (z.qm_p, "0.5260"), "F": (f.qm, "0.6007"), "Fp": (f.qm_p, "0.5690")})


def test_bcg_subgroups(bcg: pd.DataFrame) -> None:
    common = subgroup_analysis(bcg.yi, bcg.vi, bcg.alloc, method="REML", tau2_mode="common")
    separate = subgroup_analysis(bcg.yi, bcg.vi, bcg.alloc, method="REML", tau2_mode="separate")
    revman = subgroup_analysis(bcg.yi, bcg.vi, bcg.alloc, method="DL", tau2_mode="separate")
    assert common.test and separate.test and revman.test
    sys_, rnd, alt = (separate.groups[g] for g in ("systematic", "random", "alternate"))
    check(
        {
            "QM": (common.test.q, "1.7675"),
            "QM p": (common.test.p, "0.4132"),
            "tau2": (common.test.tau2, "0.3615"),
            "Qb": (separate.test.q, "1.8614"),
            "Qb p": (separate.test.p, "0.3943"),
            "sys RR": (math.exp(sys_.estimate), "0.65"),
            "sys lo": (math.exp(sys_.ci_low), "0.32"),
            "sys hi": (math.exp(sys_.ci_high), "1.32"),
            "sys tau2": (sys_.tau2, "0.40"),
            "sys Q": (sys_.q, "16.59"),
            "sys I2": (sys_.i2, "86.4"),
            "rnd RR": (math.exp(rnd.estimate), "0.38"),
            "rnd tau2": (rnd.tau2, "0.39"),
            "rnd Q": (rnd.q, "110.21"),
            "rnd I2": (rnd.i2, "89.9"),
            "alt RR": (math.exp(alt.estimate), "0.58"),
            "alt hi": (math.exp(alt.ci_high), "1.01"),
            "alt tau2": (alt.tau2, "0.13"),
            "alt Q": (alt.q, "5.56"),
            "alt p": (alt.q_p, "0.018"),
            "alt I2": (alt.i2, "82.0"),
            "RevMan chi2": (revman.test.q, "1.5368"),
            "RevMan p": (revman.test.p, "0.4638"),
            "RevMan I2": (revman.test.i2, "0"),
            "RevMan sys lo": (math.exp(revman.groups["systematic"].ci_low), "0.35"),
            "RevMan rnd hi": (math.exp(revman.groups["random"].ci_high), "0.74"),
        }
    )
    assert common.test.df == 2 and common.test.tau2_mode == "common"


def test_bcg_leave_one_out_and_cumulative(bcg: pd.DataFrame) -> None:
    loo = leave_one_out(bcg.yi, bcg.vi, bcg.author, method="REML")
    check(
        {
            "1 est": (loo.estimate[0], "-0.7071"),
            "1 se": (loo.se[0], "0.1900"),
            "1 lo": (loo.ci_low[0], "-1.0794"),
            "1 Q": (loo.q[0], "151.5826"),
            "1 tau2": (loo.tau2[0], "0.3362"),
            "1 I2": (loo.i2[0], "93.2259"),
            "8 est": (loo.estimate[7], "-0.7948"),
            "8 hi": (loo.ci_high[7], "-0.4422"),
            "8 Q": (loo.q[7], "67.9858"),
            "8 tau2": (loo.tau2[7], "0.2732"),
            "8 I2": (loo.i2[7], "87.0314"),
        }
    )
    cum = cumulative(bcg.yi, bcg.vi, bcg.author, order=bcg.year, method="REML")
    printed = (
        "-0.889 -1.325 -0.972 -1.001 -1.101 -0.973 -0.901 -0.789 -0.866 -0.785 -0.708 -0.795 -0.715".split()
    )
    check(
        {f"step {i + 1}": (value, p) for i, (value, p) in enumerate(zip(cum.estimate, printed, strict=True))}
    )


def test_bcg_trim_and_fill_and_rank_test(bcg: pd.DataFrame) -> None:
    fe = trim_and_fill(bcg.yi, bcg.vi, method="FE")
    r0 = trim_and_fill(bcg.yi, bcg.vi, method="FE", estimator="R0")
    reml = trim_and_fill(bcg.yi, bcg.vi, method="REML")
    assert (fe.k0, fe.side, r0.k0, reml.k0, reml.side) == (4, "right", 4, 1, "right")
    assert fe.result.k == 17 and fe.result.q_df == 16 and reml.result.q_df == 13
    check(
        {
            "se k0": (fe.se_k0, "2.3853"),
            "est": (fe.result.estimate, "-0.2910"),
            "se": (fe.result.se, "0.0383"),
            "lo": (fe.result.ci_low, "-0.3660"),
            "hi": (fe.result.ci_high, "-0.2160"),
            "Q": (fe.result.q, "262.7316"),
            "R0 se": (r0.se_k0, "3.1623"),
            "R0 p": (r0.p_k0, "0.0312"),
            "REML se k0": (reml.se_k0, "2.4528"),
            "REML est": (reml.result.estimate, "-0.6571"),
            "REML se": (reml.result.se, "0.1785"),
            "REML lo": (reml.result.ci_low, "-1.0070"),
            "REML hi": (reml.result.ci_high, "-0.3072"),
            "REML tau2": (reml.result.tau2, "0.3313"),
            "REML I2": (reml.result.i2, "92.14"),
            "REML Q": (reml.result.q, "154.6750"),
        }
    )
    rank = begg_test(bcg.yi, bcg.vi)
    check({"tau": (rank.tau, "0.0256"), "p": (rank.p, "0.9524")})


def test_normand_mean_differences(meta_reference: Path) -> None:
    data = pd.read_csv(meta_reference / "dat.normand1999.csv")
    arms = [(r.m1i, r.sd1i, r.n1i, r.m2i, r.sd2i, r.n2i) for r in data.itertuples()]
    pooled = [fx.mean_difference(*a, pooled_sd=True) for a in arms]
    printed_vi = "40.5863 2.0468 15.2809 150.2222 20.1923 1.2235 95.3756 8.0321 20.6936".split()
    check({f"vi{i}": (e.vi, p) for i, (e, p) in enumerate(zip(pooled, printed_vi, strict=True))})
    assert [e.yi for e in pooled] == [-20, -2, -55, -71, -4, 1, 11, -10, 7]
    y, v = [e.yi for e in pooled], [e.vi for e in pooled]
    fe, dl, reml = (pool(y, v, method=m) for m in ("FE", "DL", "REML"))
    separate = [fx.mean_difference(*a) for a in arms]
    md = pool([e.yi for e in separate], [e.vi for e in separate], method="REML")
    smd_effects = [fx.standardised_mean_difference(*a) for a in arms]
    smd = pool([e.yi for e in smd_effects], [e.vi for e in smd_effects], method="REML")
    smd4 = pool([e.yi for e in smd_effects[:4]], [e.vi for e in smd_effects[:4]], method="REML")
    check(
        {
            "FE": (fe.estimate, "-3.4939"),
            "FE lo": (fe.ci_low, "-5.0265"),
            "FE hi": (fe.ci_high, "-1.9613"),
            "DL": (dl.estimate, "-14.0972"),
            "DL lo": (dl.ci_low, "-24.4454"),
            "DL hi": (dl.ci_high, "-3.7490"),
            "DL tau2": (dl.tau2, "218.7216"),
            "REML": (reml.estimate, "-15.1217"),
            "REML lo": (reml.ci_low, "-32.6716"),
            "REML hi": (reml.ci_high, "2.4282"),
            "REML tau2": (reml.tau2, "685.1965"),
            "MD": (md.estimate, "-15.1060"),
            "MD se": (md.se, "8.9466"),
            "MD lo": (md.ci_low, "-32.6409"),
            "MD hi": (md.ci_high, "2.4289"),
            "MD tau2": (md.tau2, "684.6462"),
            "MD Q": (md.q, "238.9158"),
            "MD I2": (md.i2, "98.97"),
            "SMD": (smd.estimate, "-0.5371"),
            "SMD se": (smd.se, "0.3087"),
            "SMD lo": (smd.ci_low, "-1.1421"),
            "SMD hi": (smd.ci_high, "0.0679"),
            "SMD tau2": (smd.tau2, "0.7908"),
            "SMD Q": (smd.q, "123.7293"),
            "SMD I2": (smd.i2, "95.49"),
            "SMD 1-4 tau2": (smd4.tau2, "1.0090"),
        }
    )


def test_hackshaw_generic_inverse_variance(meta_reference: Path) -> None:
    data = pd.read_csv(meta_reference / "dat.hackshaw1998.csv")
    effects = [fx.from_confidence_interval("OR", r["or"], r["ci.lb"], r["ci.ub"]) for _, r in data.iterrows()]
    dl = pool([e.yi for e in effects], [e.vi for e in effects], method="DL")
    check(
        {
            "est": (dl.estimate, "0.2139"),
            "se": (dl.se, "0.0471"),
            "lo": (dl.ci_low, "0.1215"),
            "hi": (dl.ci_high, "0.3062"),
            "tau2": (dl.tau2, "0.0170"),
            "Q": (dl.q, "47.4979"),
            "p": (dl.q_p, "0.0952"),
            "I2": (dl.i2, "24.21"),
            "OR": (math.exp(dl.estimate), "1.24"),
            "OR lo": (math.exp(dl.ci_low), "1.13"),
            "OR hi": (math.exp(dl.ci_high), "1.36"),
            "PI lo": (math.exp(dl.pi_low or 0), "0.94"),
            "PI hi": (math.exp(dl.pi_high or 0), "1.63"),
        }
    )
    assert dl.q_df == 36


def test_nielweise_incidence_rate_ratio(meta_reference: Path) -> None:
    data = pd.read_csv(meta_reference / "dat.nielweise2008.csv")
    effects = [fx.log_incidence_rate_ratio(r.x1i, r.t1i, r.x2i, r.t2i) for r in data.itertuples()]
    reml = pool([e.yi for e in effects], [e.vi for e in effects], method="REML")
    check(
        {
            "est": (reml.estimate, "-0.396"),
            "se": (reml.se, "0.227"),
            "lo": (reml.ci_low, "-0.841"),
            "hi": (reml.ci_high, "0.048"),
            "tau2": (reml.tau2, "0.094"),
            "Q": (reml.q, "9.698"),
            "I2": (reml.i2, "20.88"),
            "IRR": (math.exp(reml.estimate), "0.67"),
            "PI lo": (math.exp(reml.pi_low or 0), "0.32"),
            "PI hi": (math.exp(reml.pi_high or 0), "1.42"),
        }
    )


def test_hine_risk_difference_tau2_boundary(meta_reference: Path) -> None:
    data = pd.read_csv(meta_reference / "dat.hine1989.csv")
    effects = [fx.two_by_two("RD", r.ai, r.n1i, r.ci, r.n2i) for r in data.itertuples()]
    y = np.array([e.yi for e in effects]) * 100  # percentage points, as printed
    v = np.array([e.vi for e in effects]) * 100**2
    printed = "2.8026 0 1.9711 1.7961 3.5334 4.4031".split()
    check({f"yi{i}": (value, p) for i, (value, p) in enumerate(zip(y, printed, strict=True))})
    for method in ("FE", "REML", "DL"):
        result = pool(y, v, method=method)
        check(
            {
                "est": (result.estimate, "2.9444"),
                "lo": (result.ci_low, "0.3831"),
                "hi": (result.ci_high, "5.5058"),
            }
        )
        assert result.tau2 == 0
        assert (result.weights > 0).all()


def test_egger2001_publication_bias(meta_reference: Path) -> None:
    data = pd.read_csv(meta_reference / "dat.egger2001.csv")
    effects = [fx.two_by_two("OR", r.ai, r.n1i, r.ci, r.n2i) for r in data.itertuples()]
    y, v = np.array([e.yi for e in effects]), np.array([e.vi for e in effects])
    reml = pool(y[:15], v[:15], method="REML")
    lm = egger_test(y[:15], v[:15], model="lm")
    mixed = egger_test(y[:15], v[:15], model="rma", method="REML")
    all16 = egger_test(y, v, model="rma", method="REML")
    rank16 = begg_test(y, v)
    check(
        {
            "tau2": (reml.tau2, "0.1911"),
            "est": (reml.estimate, "-0.8745"),
            "se": (reml.se, "0.2080"),
            "lo": (reml.ci_low, "-1.2822"),
            "hi": (reml.ci_high, "-0.4669"),
            "Q": (reml.q, "20.9184"),
            "I2": (reml.i2, "38.19"),
            "t": (lm.stat, "-3.1783"),
            "p": (lm.p, "0.0073"),
            "b": (lm.limit_estimate, "-0.1512"),
            "b lo": (lm.limit_ci_low, "-0.5130"),
            "b hi": (lm.limit_ci_high, "0.2106"),
            "z": (mixed.stat, "-2.8062"),
            "z p": (mixed.p, "0.0050"),
            "zb": (mixed.limit_estimate, "-0.1639"),
            "zb lo": (mixed.limit_ci_low, "-0.5681"),
            "zb hi": (mixed.limit_ci_high, "0.2402"),
            "16 z": (all16.stat, "-4.6686"),
            "Begg": (rank16.tau, "0.15"),
            "Begg p": (rank16.p, "0.4503"),
        }
    )
    assert lm.df == 13


def test_handbook_cluster_trial_example() -> None:
    """Cochrane Handbook 5.1 §16.3.6: 63/295 vs 84/330, design effect 1.576 (no shared files needed)."""
    effect = fx.two_by_two("OR", 63, 295, 84, 330)
    check({"OR": (math.exp(effect.yi), "0.795"), "lnOR": (effect.yi, "-0.23"), "SE": (effect.se, "0.1901")})
    lo, hi = (math.exp(effect.yi + s * 1.959964 * effect.se) for s in (-1, 1))
    check({"lo": (lo, "0.548"), "hi": (hi, "1.154")})
    # Design effect 1.576, e.g. mean cluster size 37 with ICC 0.016.
    adjusted = fx.cluster_adjusted(effect, 37, 0.016)
    check({"SE": (adjusted.se, "0.24")})
    assert adjusted.vi == pytest.approx(effect.vi * 1.576)
    assert "design effect 1.576" in adjusted.source
