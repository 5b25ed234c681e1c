"""effects.csv from curated tables and configured analyses (invented tables in tests/data/meta_pipeline)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ohevidence import effects as fx
from ohevidence.cli import main
from ohevidence.meta import pool
from ohevidence.schema import EFFECT_COLUMNS, names

DATA = Path(__file__).resolve().parent / "data" / "meta_pipeline"


@pytest.fixture
def effects(tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / "effects.csv"
    code = main(
        [
            "meta",
            "effects",
            "--outcomes",
            str(DATA / "outcomes.csv"),
            "--studies",
            str(DATA / "studies.csv"),
            "--job-roles",
            str(DATA / "job_roles.yaml"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return pd.read_csv(out, dtype=str, keep_default_na=False).set_index(["study_id", "outcome_id"])


def test_effects_columns_and_counts_reconcile(effects: pd.DataFrame) -> None:
    assert list(effects.reset_index().columns) == names(EFFECT_COLUMNS)
    assert names(EFFECT_COLUMNS)[:9] == [
        "study_id",
        "outcome_id",
        "domain",
        "measure",
        "job_role",
        "yi",
        "vi",
        "se",
        "from",
    ]
    assert len(effects) == 9 + 1  # every outcome row, plus study Z that has none
    assert effects.loc[("Z", ""), "from"] == "none: no outcome data extracted"
    assert effects.loc[("R", "pooled"), "from"].startswith("none: pooled review estimate")
    assert effects.loc[("R", "pooled"), "yi"] == ""


def test_eighty_percent_ci_row(effects: pd.DataFrame) -> None:
    row = effects.loc[("A", "absence")]
    expected = fx.from_confidence_interval("IRR", 0.8, 0.6, 1.1, level=0.8)
    assert float(row.yi) == pytest.approx(math.log(0.8))
    assert float(row.vi) == pytest.approx(expected.vi)
    assert "80% CI" in row["from"]


def test_reversed_direction_and_percentage_points(effects: pd.DataFrame) -> None:
    assert float(effects.loc[("C", "days"), "yi"]) == pytest.approx(-4)
    assert "re-signed" in effects.loc[("C", "days"), "from"]
    rd = effects.loc[("G", "rtw_pp")]
    assert float(rd.yi) == pytest.approx(0.10) and float(rd.se) == pytest.approx(
        0.16 / (2 * 1.959963984540054)
    )


def test_cluster_trials(effects: pd.DataFrame) -> None:
    with_icc = effects.loc[("D", "rtw")]
    base = fx.two_by_two("OR", 60, 120, 50, 130)
    design_effect = 1 + (250 / 10 - 1) * 0.05
    assert float(with_icc.vi) == pytest.approx(base.vi * design_effect)
    assert "design effect 2.2" in with_icc["from"]
    assert "no design effect applied" in effects.loc[("E", "rtw"), "from"]


def test_inconsistent_estimate_falls_back_to_arm_data(effects: pd.DataFrame) -> None:
    row = effects.loc[("F", "rtw")]
    assert float(row.yi) == pytest.approx(fx.two_by_two("OR", 45, 90, 40, 90).yi)
    assert row["from"].startswith("2x2 counts")


def run(tmp_path: Path, effects_csv: Path, analysis: str) -> tuple[dict, pd.DataFrame]:
    out = tmp_path / analysis
    code = main(
        [
            "meta",
            "run",
            analysis,
            "--config",
            str(DATA / "config.yaml"),
            "--effects",
            str(effects_csv),
            "--studies",
            str(DATA / "studies.csv"),
            "--job-roles",
            str(DATA / "job_roles.yaml"),
            "--json",
            f"{out}.json",
            "--csv",
            f"{out}.csv",
        ]
    )
    assert code == 0
    return json.loads(Path(f"{out}.json").read_text()), pd.read_csv(
        f"{out}.csv", dtype=str, keep_default_na=False
    )


@pytest.fixture
def effects_csv(tmp_path: Path, effects: pd.DataFrame) -> Path:
    return tmp_path / "effects.csv"


def test_analysis_by_job_role(tmp_path: Path, effects_csv: Path, effects: pd.DataFrame) -> None:
    data, table = run(tmp_path, effects_csv, "absence_irr")
    assert data["k"] == 2 and data["scale"] == "log" and data["measure"] == "IRR"
    assert set(data["groups"]) == {"physiotherapist", "oh_nurse"}
    assert data["subgroup_test"]["tau2_mode"] == "separate" and data["subgroup_test"]["df"] == 1
    excluded = {(e["study_id"], e["outcome_id"]): e["reason"] for e in data["excluded"]}
    assert "one row per study" in excluded[("B", "absence_arm2")]
    ys = [float(effects.loc[key, "yi"]) for key in [("A", "absence"), ("B", "absence")]]
    vs = [float(effects.loc[key, "vi"]) for key in [("A", "absence"), ("B", "absence")]]
    expected = pool(ys, vs, method="REML")
    assert data["overall"]["estimate"] == pytest.approx(expected.estimate)
    assert data["overall"]["reported"]["estimate"] == pytest.approx(math.exp(expected.estimate))
    overall = table[table.row == "overall"].iloc[0]
    assert float(overall.estimate) == pytest.approx(math.exp(expected.estimate))
    assert sorted(table.row.unique()) == ["excluded", "overall", "study", "subgroup", "subgroup_test"]
    study_weights = table[table.row == "study"].weight.astype(float)
    assert study_weights.sum() == pytest.approx(100)


def test_analysis_by_professional_group(tmp_path: Path, effects_csv: Path) -> None:
    data, _ = run(tmp_path, effects_csv, "rtw_or")
    assert data["method"] == "DL" and data["k"] == 3
    assert set(data["groups"]) == {"allied health", "nursing", "multidisciplinary"}  # F: physio + nurse
    assert any(e["study_id"] == "R" for e in data["excluded"])


def test_analysis_with_one_study_reports_it(tmp_path: Path, effects_csv: Path) -> None:
    data, _ = run(tmp_path, effects_csv, "rtw_rd")
    assert data["k"] == 1 and not data["overall"]["pooled"] and data["overall"]["tau2"] is None
    assert "not pooled" in data["notes"][0]
    assert data["scale"] == "natural" and data["overall"]["reported"]["estimate"] == pytest.approx(0.10)


def test_bad_outcome_cell_names_file_line_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    curated = tmp_path / "curated"
    shutil.copytree(DATA, curated)
    text = (curated / "outcomes.csv").read_text().replace("0.80,0.60,1.10", "0.80,0.6O,1.10")
    (curated / "outcomes.csv").write_text(text)
    code = main(
        [
            "meta",
            "effects",
            "--outcomes",
            str(curated / "outcomes.csv"),
            "--studies",
            str(curated / "studies.csv"),
            "--job-roles",
            str(curated / "job_roles.yaml"),
            "--out",
            str(tmp_path / "e.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "outcomes.csv, line 2, column 'ci_low': '0.6O' is not a number" in err
    assert not (tmp_path / "e.csv").exists()


def test_unknown_analysis_is_a_config_error(
    tmp_path: Path, effects_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "meta",
            "run",
            "nope",
            "--config",
            str(DATA / "config.yaml"),
            "--effects",
            str(effects_csv),
            "--json",
            str(tmp_path / "x.json"),
            "--csv",
            str(tmp_path / "x.csv"),
        ]
    )
    assert code == 2 and "no analysis with id 'nope'" in capsys.readouterr().err
