"""`ohevidence init DIR`: a new review that validates and that the workflow runs to the end."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ohevidence.cli import main
from ohevidence.schema import CASE_STUDY_COLUMNS, OUTCOME_COLUMNS, STUDY_COLUMNS, STUDY_REPORT_COLUMNS, names

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Three synthetic records (not evidence): enough to screen, none of them a duplicate of another.
TINY_RIS = """\
TY  - JOUR
TI  - Vocational advice for sick-listed workers: a randomised controlled trial
AU  - Example, A
PY  - 2019
JO  - Journal of Examples
ER  - 

TY  - JOUR
TI  - Statins and cardiac outcomes in older adults
AU  - Sample, B
PY  - 2015
JO  - Journal of Samples
ER  - 

TY  - JOUR
TI  - Case management for return to work after sick leave: a cluster randomised trial
AU  - Test, C
PY  - 2021
JO  - Journal of Tests
ER  - 
"""


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def test_init_writes_a_review_that_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    review = tmp_path / "my_review"
    assert main(["init", str(review), "--title", "Work support after cancer"]) == 0
    config = yaml.safe_load((review / "config/config.yaml").read_text())
    assert config["review"]["title"] == "Work support after cancer"
    assert (config["mode"], config["imports"], config["live_searches"], config["analyses"]) == (
        "live",
        [],
        [],
        [],
    )
    assert config["screening"]["no_decisions_yet"] is True
    assert not (review / "data/curated/screening").exists()  # appears with the first decisions
    curated = review / "data/curated"
    for name, columns in [
        ("studies.csv", STUDY_COLUMNS),
        ("outcomes.csv", OUTCOME_COLUMNS),
        ("case_studies.csv", CASE_STUDY_COLUMNS),
        ("study_reports.csv", STUDY_REPORT_COLUMNS),
    ]:
        assert _header(curated / name) == names(columns)
        assert len((curated / name).read_text().splitlines()) == 1
    assert (curated / "job_roles.yaml").read_bytes() == (ROOT / "data/curated/job_roles.yaml").read_bytes()
    monkeypatch.chdir(review)  # `ohevidence validate` in the review's folder, with its defaults
    assert main(["validate"]) == 0


def test_init_never_writes_into_a_folder_with_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def _snakemake(review: Path) -> subprocess.CompletedProcess[str]:
    """As the review's README says, with the venv's bin directory off PATH (common.smk adds it)."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    return subprocess.run(
        [str(BIN / "snakemake"), "--snakefile", "Snakefile", "--directory", str(review), "--cores", "2"],
        cwd=ROOT,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.workflow
def test_a_new_review_runs_with_no_records_then_with_an_import(tmp_path: Path) -> None:
    review = tmp_path / "my_review"
    assert main(["init", str(review)]) == 0
    empty = _snakemake(review)  # nothing searched, screened, extracted or analysed yet
    assert empty.returncode == 0, empty.stderr[-4000:]
    assert _header(review / "results/screening/to_screen_reviewer_a.csv")[0].endswith("record_id")
    assert json.loads((review / "results/screening/stopping.json").read_text())["records_to_screen"] == 0

    (review / "data/raw/imports/embase.ris").write_text(TINY_RIS, encoding="utf-8")
    config_file = review / "config/config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["imports"] = [
        {
            "search_id": "embase_2026_11",
            "source": "embase",
            "platform": "Ovid",
            "format": "ris",
            "file": "data/raw/imports/embase.ris",
            "query": "return to work",
            "run_at": "2026-11-02T10:30:00Z",
        }
    ]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    result = _snakemake(review)
    assert result.returncode == 0, result.stderr[-4000:]
    with (review / "results/screening/to_screen_reviewer_b.csv").open(encoding="utf-8-sig") as handle:
        sheet = list(csv.DictReader(handle))
    assert len(sheet) == 3 and all(row["record_id"].startswith("embase_2026_11:") for row in sheet)
    stopping = json.loads((review / "results/screening/stopping.json").read_text())
    assert (stopping["records_to_screen"], stopping["records_screened"]) == (3, 0)
    assert (review / "results/figures/prisma.svg").is_file()
    assert not (ROOT / "data/raw/imports/embase.ris").exists()  # everything stayed in the review
