"""Three-level model (effects within clusters) against metafor ``rma.mv`` and ``robust()``.

Oracles: tests/data/meta/konstantopoulos2011.metafor.json (metafor's dat.konstantopoulos2011,
Konstantopoulos 2011, exported to konstantopoulos2011.csv) and synthetic_three_level.metafor.json
(invented, 4 clusters), both written by tests/data/meta/multilevel_oracle.R (metafor 3.8-1,
clubSandwich 0.5.8; the exact R code is in each JSON's ``code``). Target: 1e-5 relative.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ohevidence.cli import main
from ohevidence.meta import pool
from ohevidence.meta.model import MetaInputError
from ohevidence.meta.multilevel import profile_loglik, three_level

META = Path(__file__).resolve().parent / "data" / "meta"
REL = 1e-5
MODEL_KEYS = ("estimate", "se", "stat", "p", "ci_low", "ci_high")


def oracle(name: str) -> dict[str, Any]:
    return json.loads((META / f"{name}.metafor.json").read_text(encoding="utf-8"))


@pytest.fixture
def konstantopoulos() -> pd.DataFrame:
    return pd.read_csv(META / "konstantopoulos2011.csv")


@pytest.fixture
def synthetic() -> pd.DataFrame:
    return pd.read_csv(META / "synthetic_three_level.csv")


def assert_model(result: Any, ref: dict[str, Any]) -> None:
    ours = {
        "estimate": result.coef,
        "se": result.se,
        "stat": result.stat,
        "p": result.p,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
    }
    for key in MODEL_KEYS:
        # abs: a CI limit near 0 (-0.00059) is off by 2e-8 at metafor's nlminb tolerance
        assert ours[key] == pytest.approx(np.atleast_1d(ref[key]), rel=REL, abs=1e-7), key
    assert result.sigma2_between == pytest.approx(ref["sigma2_between"], rel=REL)
    assert result.sigma2_within == pytest.approx(ref["sigma2_within"], rel=REL)
    assert result.loglik == pytest.approx(ref["loglik_reml"], rel=1e-9)
    assert result.q == pytest.approx(ref["q"], rel=1e-9) and result.q_df == ref["q_df"]
    assert result.q_p == pytest.approx(ref["q_p"], rel=1e-6)
    assert result.converged and result.identifiable


def assert_robust(result: Any, ref: dict[str, Any]) -> None:
    for kind in ("CR1", "CR2"):
        robust = result.robust[kind]
        for key in ("se", "stat", "df", "p", "ci_low", "ci_high"):
            ours = getattr(robust, key)
            expected = np.broadcast_to(np.atleast_1d(ref[kind][key]), ours.shape)  # metafor: one CR1 df
            assert ours == pytest.approx(expected, rel=REL, abs=1e-7), (kind, key)


@pytest.mark.parametrize("test", ["z", "t"])
def test_three_level_konstantopoulos2011_matches_metafor_rma_mv(
    konstantopoulos: pd.DataFrame, test: str
) -> None:
    data = konstantopoulos
    result = three_level(data.yi, data.vi, data.district, test=test)  # type: ignore[arg-type]
    assert_model(result, oracle("konstantopoulos2011")[test])
    assert result.k == 56 and result.clusters == 11
    assert result.df == (55 if test == "t" else None)


def test_three_level_konstantopoulos2011_robust_cr1_cr2_match_metafor(konstantopoulos: pd.DataFrame) -> None:
    data = konstantopoulos
    result = three_level(data.yi, data.vi, data.district)
    assert_robust(result, oracle("konstantopoulos2011"))
    assert result.robust["CR1"].df_method.startswith("residual")
    assert result.robust["CR2"].df_method == "Satterthwaite"


def test_three_level_is_not_independent_pooling(konstantopoulos: pd.DataFrame) -> None:
    """Pooling the 56 school effects as independent studies gives 0.128 (SE 0.044), not 0.185 (0.085)."""
    data = konstantopoulos
    ref = oracle("konstantopoulos2011")["independent"]
    flat = pool(data.yi, data.vi, method="REML")
    assert flat.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    nested = three_level(data.yi, data.vi, data.district)
    assert nested.se[0] > 1.9 * flat.se and abs(nested.estimate - flat.estimate) > 0.05
    assert nested.sigma2_total == pytest.approx(
        oracle("konstantopoulos2011")["z"]["sigma2_between"]
        + oracle("konstantopoulos2011")["z"]["sigma2_within"],
        rel=REL,
    )


@pytest.mark.parametrize("test", ["z", "t"])
def test_three_level_synthetic_four_clusters_matches_metafor(synthetic: pd.DataFrame, test: str) -> None:
    ref = oracle("synthetic_three_level")
    result = three_level(synthetic.yi, synthetic.vi, synthetic.study, test=test)  # type: ignore[arg-type]
    assert_model(result, ref[test])
    assert_robust(result, ref)


def test_three_level_with_moderator_matches_metafor(synthetic: pd.DataFrame) -> None:
    ref = oracle("synthetic_three_level")["mods"]
    for test in ("z", "t"):
        result = three_level(
            synthetic.yi, synthetic.vi, synthetic.study, moderators=synthetic[["x"]], test=test
        )  # type: ignore[arg-type]
        assert result.coef_names == ["intercept", "x"]
        assert_model(result, ref[test])
    assert_robust(three_level(synthetic.yi, synthetic.vi, synthetic.study, moderators=synthetic[["x"]]), ref)


def test_three_level_one_effect_per_cluster_reports_only_the_sum() -> None:
    """Each cluster with one effect: only σ²_between + σ²_within is identified; it equals rma REML τ²."""
    data = pd.read_csv(META / "synthetic_continuous.csv")
    ref = oracle("synthetic_continuous")["pool"]["REML z"]
    result = three_level(data.yi, data.vi, data.study)
    assert not result.identifiable
    assert result.sigma2_between is None and result.sigma2_within is None
    assert result.sigma2_total == pytest.approx(ref["tau2"], rel=REL)
    assert result.estimate == pytest.approx(ref["estimate"], rel=REL)
    assert result.se[0] == pytest.approx(ref["se"], rel=REL)
    assert any("not separately identifiable" in m for m in result.messages)
    # the REML profile of σ²_between is flat: any split of the same total fits equally well
    flat = profile_loglik(data.yi, data.vi, data.study, "between", [0.0, ref["tau2"] / 2, ref["tau2"]])
    assert np.ptp(flat) < 1e-8


def test_three_level_profile_peaks_at_the_estimate(konstantopoulos: pd.DataFrame) -> None:
    data = konstantopoulos
    fit = three_level(data.yi, data.vi, data.district, robust=())
    assert fit.sigma2_between is not None
    values = [0.0, fit.sigma2_between / 2, fit.sigma2_between, 2 * fit.sigma2_between]
    profile = profile_loglik(data.yi, data.vi, data.district, "between", values)
    assert int(np.argmax(profile)) == 2 and profile[2] == pytest.approx(fit.loglik, abs=1e-9)


@pytest.mark.parametrize(
    ("clusters", "message"),
    [
        (["a", "a", "a"], "at least 2 clusters"),
        (["a", "", "b"], "empty cluster"),
        (["a", "b"], "one cluster per"),
    ],
)
def test_three_level_rejects_bad_clusters(clusters: list[str], message: str) -> None:
    with pytest.raises(MetaInputError, match=message):
        three_level([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], clusters)


def test_pool_command_three_level_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "k.json"
    source = str(META / "konstantopoulos2011.csv")
    code = main(
        ["meta", "pool", "--input", source, "--three-level", "--cluster", "district", "--json", str(out)]
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    ref = oracle("konstantopoulos2011")
    assert code == 0 and data["model"] == "three_level" and data["clusters"] == 11
    for key in MODEL_KEYS:
        assert data[key] == pytest.approx(ref["z"][key], rel=REL)
    assert data["robust"]["CR2"]["coefficients"][0]["se"] == pytest.approx(ref["CR2"]["se"], rel=REL)
    assert (
        main(["meta", "pool", "--input", source, "--three-level", "--cluster", "nope", "--json", str(out)])
        == 2
    )
    assert "missing column(s) nope" in capsys.readouterr().err
    code = main(["meta", "pool", "--input", source, "--three-level", "--by", "year", "--json", str(out)])
    assert code == 2 and "--three-level" in capsys.readouterr().err


def test_multilevel_oracle_script_is_recorded() -> None:
    """The fixtures say how they were made (R code and versions), so they can be regenerated."""
    ref = oracle("konstantopoulos2011")
    assert ref["metafor"] == "3.8.1" and "rma.mv(yi, vi, random = ~ 1 | district/school" in ref["code"]
    assert (META / "multilevel_oracle.R").is_file()


def _effects_with_dependent_rows(path: Path) -> Path:
    """Invented effects.csv: studies S1 and S2 report two outcomes each of one domain and measure."""
    from ohevidence.schema import EFFECT_COLUMNS, names

    rows = [
        ("S1", "o1", 0.30, 0.02),
        ("S1", "o2", 0.45, 0.03),
        ("S2", "o1", -0.05, 0.04),
        ("S2", "o2", 0.10, 0.02),
        ("S3", "o1", 0.60, 0.05),
        ("S4", "o1", 0.20, 0.03),
    ]
    frame = pd.DataFrame(
        [
            {
                "study_id": s,
                "outcome_id": o,
                "domain": "work_ability",
                "measure": "SMD",
                "job_role": "physiotherapist",
                "yi": y,
                "vi": v,
                "se": v**0.5,
                "from": "reported estimate",
            }
            for s, o, y, v in rows
        ],
        columns=names(EFFECT_COLUMNS),
    )
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("dependent", ["one_per_study", "three_level"])
def test_dependent_three_level_analysis_reports_the_multilevel_model(tmp_path: Path, dependent: str) -> None:
    """`dependent: three_level` adds the three-level fit of every row; the main model stays one per study."""
    from ohevidence.meta.analysis import run_analysis
    from ohevidence.meta.spec import AnalysisSpec

    effects = _effects_with_dependent_rows(tmp_path / "effects.csv")
    roles = Path(__file__).resolve().parent / "data" / "meta_pipeline" / "job_roles.yaml"
    analysis = {"id": "wa", "domain": "work_ability", "measure": "SMD", "dependent": dependent}
    run_analysis(
        AnalysisSpec.from_entry(analysis),
        effects,
        roles.parent / "studies.csv",  # names the studies in the JSON's words
        roles,
        tmp_path / "wa.json",
        tmp_path / "wa.csv",
    )
    data = json.loads((tmp_path / "wa.json").read_text())
    assert data["k"] == 4  # one row per study in the main model
    if dependent == "one_per_study":
        assert data["three_level"] is None
        return
    expected = three_level(
        [0.30, 0.45, -0.05, 0.10, 0.60, 0.20],
        [0.02, 0.03, 0.04, 0.02, 0.05, 0.03],
        ["S1", "S1", "S2", "S2", "S3", "S4"],
    )
    block = data["three_level"]
    assert block["k"] == 6 and block["clusters"] == 4
    assert block["estimate"] == pytest.approx(expected.estimate, rel=1e-9)
    assert block["se"] == pytest.approx(float(expected.se[0]), rel=1e-9)
    assert set(block["robust"]) == {"CR1", "CR2"}
    assert any(n.startswith("three-level model (REML, 6 effects within 4 studies)") for n in data["notes"])
