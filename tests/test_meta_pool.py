"""Pooling edge cases and the `ohevidence meta pool` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ohevidence.cli import main
from ohevidence.meta import RESULT_KEYS, MetaInputError, pool, subgroup_analysis
from ohevidence.meta.model import estimate_tau2

META = Path(__file__).resolve().parent / "data" / "meta"


def test_single_study_is_reported_not_pooled() -> None:
    result = pool([-0.3], [0.04], ["Only"], method="REML")
    assert not result.pooled and result.k == 1
    assert result.estimate == -0.3 and result.se == pytest.approx(0.2)
    assert result.tau2 is None and result.q is None and result.pi_low is None
    assert "not pooled" in result.messages[0]
    assert set(result.to_dict()) == set(RESULT_KEYS)


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [([0.1, float("nan")], [0.1, 0.2], "study 'B': effect yi is nan"), ([0.1, 0.2], [0.1, 0.0], "study 'B'")],
)
def test_impossible_inputs_name_the_study(yi: list[float], vi: list[float], message: str) -> None:
    with pytest.raises(MetaInputError, match=message):
        pool(yi, vi, ["A", "B"])


def test_homogeneous_data_have_no_negative_weights() -> None:
    y, v = [0.21, 0.18, 0.25, 0.2], [0.02, 0.035, 0.05, 0.015]
    for method in ("DL", "HE", "HS", "ML", "REML", "PM", "EB"):
        result = pool(y, v, method=method)
        assert result.tau2 == 0
        assert (result.weights > 0).all() and result.weights.sum() == pytest.approx(100)
        assert result.i2 == 0


def test_k2_with_hksj_uses_t_with_one_df() -> None:
    z = pool([-0.5, 0.1], [0.04, 0.09], method="DL")
    hk = pool([-0.5, 0.1], [0.04, 0.09], method="DL", ci_method="hksj")
    assert hk.ci_high - hk.ci_low > 3 * (z.ci_high - z.ci_low)  # t(1) = 12.7
    floor = pool([0.2, 0.21], [0.04, 0.09], method="DL", ci_method="hksj", hksj_floor=True)
    plain = pool([0.2, 0.21], [0.04, 0.09], method="DL", ci_method="hksj")
    assert floor.se > plain.se and any("floor" in m for m in floor.messages)


def test_non_convergence_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import ohevidence.meta.model as model

    monkeypatch.setattr(model, "_MAX_DOUBLINGS", 0)
    tau2 = estimate_tau2(np.array([-1.0, 1.0, 0.5]), np.array([0.01, 0.01, 0.02]), np.ones((3, 1)), "REML")
    assert not tau2.converged and "no root" in tau2.message
    result = pool([-1.0, 1.0, 0.5], [0.01, 0.01, 0.02], method="REML")
    assert not result.converged and result.to_dict()["estimate"] is None


def test_subgroup_with_one_study_reports_it_alone() -> None:
    result = subgroup_analysis([0.1, 0.3, -0.2], [0.02, 0.03, 0.05], ["a", "a", "b"], ["S1", "S2", "S3"])
    assert not result.groups["b"].pooled and result.groups["a"].pooled
    assert result.test is not None and result.test.df == 1


def run_pool(tmp_path: Path, csv_text: str, *options: str) -> tuple[int, dict]:
    source = tmp_path / "effects.csv"
    source.write_text(csv_text, encoding="utf-8")
    out = tmp_path / "out.json"
    code = main(["meta", "pool", "--input", str(source), *options, "--json", str(out)])
    return code, json.loads(out.read_text()) if out.exists() else {}


def test_pool_command_json_contract(tmp_path: Path) -> None:
    source = (META / "synthetic_binary.csv").read_text()
    code, data = run_pool(tmp_path, source, "--method", "REML", "--ci", "hksj", "--by", "group")
    assert code == 0
    assert set(RESULT_KEYS) <= set(data) and set(data) - set(RESULT_KEYS) == {
        "groups",
        "subgroup_test",
        "warnings",
    }
    assert list(data["groups"]) == ["nurse", "physio", "case_manager"]
    for group in data["groups"].values():
        assert set(group) == set(RESULT_KEYS)
    assert set(data["subgroup_test"]) == {"q", "df", "p", "tau2_mode"}
    assert data["subgroup_test"]["tau2_mode"] == "separate" and data["subgroup_test"]["df"] == 2
    oracle = json.loads((META / "synthetic_binary.metafor.json").read_text())["pool"]["REML hksj"]
    for key in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q"):
        assert data[key] == pytest.approx(oracle[key], rel=1e-6)
    code, common = run_pool(
        tmp_path, source, "--method", "REML", "--by", "group", "--subgroup-tau2", "common"
    )
    assert common["subgroup_test"]["tau2_mode"] == "common"
    assert common["subgroup_test"]["q"] == pytest.approx(
        json.loads((META / "synthetic_binary.metafor.json").read_text())["subgroup"]["REML"]["common_qm"],
        rel=1e-6,
    )


def test_pool_command_single_study(tmp_path: Path) -> None:
    code, data = run_pool(tmp_path, "study,yi,vi\nOnly,0.2,0.01\n", "--method", "DL")
    assert code == 0 and data["k"] == 1 and data["tau2"] is None and data["method"] == "single study"
    assert "not pooled" in data["warnings"][0]


@pytest.mark.parametrize(
    ("csv_text", "where"),
    [
        ("study,yi\nA,0.1\n", "line 1: missing column(s) vi"),
        ("study,yi,vi\nA,0.1,0.02\nB,abc,0.03\n", "line 3, column 'yi': 'abc' is not a number"),
        ("study,yi,vi\nA,0.1,0.02\nB,0.2,0\n", "line 3, column 'vi'"),
        ("study,yi,vi\nA,0.1,0.02\nB,0.2,-1\n", "vi > 0"),
        ("study,yi,vi\nA,0.1,0.02\nB,0.2,nan\n", "line 3, column 'vi'"),
    ],
)
def test_pool_command_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], csv_text: str, where: str
) -> None:
    code, _ = run_pool(tmp_path, csv_text, "--method", "REML")
    err = capsys.readouterr().err
    assert code == 2 and "effects.csv" in err and where in err
    assert not (tmp_path / "out.json").exists()
