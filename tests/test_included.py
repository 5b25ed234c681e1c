"""The chain from screening to synthesis (issue 22): included studies, the studies left out and why,
effects of included studies only, and settings that reach each job through --settings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ohevidence.cli import main
from ohevidence.config import settings_config
from ohevidence.errors import ConfigError
from ohevidence.extract.included import (
    DeclaredStudy,
    check_declared,
    curated_not_included,
    included_reports,
    included_studies,
)
from ohevidence.meta.effects_table import build_effects

DATA = Path(__file__).resolve().parent / "data" / "meta_pipeline"

STUDIES = [
    {"study_id": "TRIAL_A", "acronym": "AAA", "design": "RCT", "status": "completed", "registry_ids": ""},
    {"study_id": "TRIAL_B", "acronym": "", "design": "RCT", "status": "completed", "registry_ids": ""},
    {"study_id": "PILOT_C", "acronym": "", "design": "pilot/feasibility RCT", "status": "completed"},
    {"study_id": "TRIAL_D", "acronym": "", "design": "RCT", "status": "completed", "registry_ids": ""},
    {"study_id": "TRIAL_E", "acronym": "", "design": "RCT", "status": "completed", "registry_ids": ""},
]
# every unique record and the curated study extraction matched it to
MATCHED = pd.DataFrame(
    {
        "record_id": ["s:1", "s:2", "s:3", "s:4", "s:5", "s:6"],
        "study_id": ["TRIAL_A", "TRIAL_A", "PILOT_C", "TRIAL_D", "", ""],
    },
    dtype="string",
)
# records that reached full text, with their consensus
FULL_TEXT = [
    {"record_id": "s:1", "full_text": "include", "origin": "", "title": "Main paper", "year": "2020"},
    {"record_id": "s:2", "full_text": "include", "origin": "", "title": "Process evaluation", "year": "2021"},
    {"record_id": "s:3", "full_text": "exclude", "full_text_reason": "feasibility", "origin": ""},
    {"record_id": "s:5", "full_text": "include", "origin": "", "title": "Not yet curated", "year": "2022"},
]


def _chain(declared: list[DeclaredStudy]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    extracted = MATCHED[MATCHED["record_id"].isin([r["record_id"] for r in FULL_TEXT])]
    reports = included_reports(FULL_TEXT, STUDIES, [], extracted.to_dict("records"))
    chosen = included_studies(reports, declared)
    left_out = curated_not_included(STUDIES, chosen, MATCHED, {r["record_id"]: r for r in FULL_TEXT})
    return reports, chosen, left_out


def test_included_studies_group_reports_and_list_every_other_curated_study_with_why() -> None:
    reports, chosen, left_out = _chain([])
    assert list(reports["study"]) == ["TRIAL_A", "TRIAL_A", "s:5"]
    by_study = chosen.set_index("study")
    assert by_study.loc["TRIAL_A", "n_reports"] == "2" and by_study.loc["TRIAL_A", "reports"] == "s:1; s:2"
    # an included report no curated study covers is an included study awaiting extraction
    assert (
        by_study.loc["s:5", "curated_study_id"] == "" and "awaiting extraction" in by_study.loc["s:5", "note"]
    )
    why = dict(zip(left_out["study_id"], left_out["reason"], strict=True))
    assert set(why) == {"TRIAL_B", "PILOT_C", "TRIAL_D", "TRIAL_E"}
    assert why["PILOT_C"] == "its report(s) were excluded at full text (feasibility)"
    assert "did not reach full text" in why["TRIAL_D"]
    assert why["TRIAL_B"].startswith("no search record carries")


def test_a_declared_study_is_included_with_its_reason_and_a_screened_one_is_not_doubled() -> None:
    declared = [
        DeclaredStudy("TRIAL_B", "known to the team; no database indexes it"),
        DeclaredStudy("TRIAL_A", "x"),
    ]
    _, chosen, left_out = _chain(declared)
    by_study = chosen.set_index("study")
    assert by_study.loc["TRIAL_B", "included_by"] == "review team"
    assert by_study.loc["TRIAL_B", "note"] == "known to the team; no database indexes it"
    assert by_study.loc["TRIAL_A", "included_by"] == "full-text screening"
    assert list(chosen["study"]).count("TRIAL_A") == 1
    assert "TRIAL_B" not in set(left_out["study_id"])


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ([DeclaredStudy("NOPE", "r")], "'NOPE' is not a study_id in studies.csv"),
        ([DeclaredStudy("TRIAL_B", "r"), DeclaredStudy("TRIAL_B", "r")], "declared twice"),
        ([DeclaredStudy("TRIAL_B", " ")], "say why"),
    ],
)
def test_declared_studies_are_checked(declared: list[DeclaredStudy], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_declared(declared, STUDIES)


def test_effects_hold_only_the_included_studies() -> None:
    tables = (DATA / "outcomes.csv", DATA / "studies.csv", DATA / "job_roles.yaml")
    every = build_effects(*tables)
    assert {"A", "B"} < set(every["study_id"])
    only_a = build_effects(*tables, included={"A"})
    assert set(only_a["study_id"]) == {"A"}
    assert only_a.equals(every[every["study_id"] == "A"].reset_index(drop=True))
    assert build_effects(*tables, included=set()).empty


def _args(**values: object) -> object:
    import argparse

    return argparse.Namespace(schema="workflow/schemas/config.schema.yaml", **values)


def test_settings_json_is_validated_and_filled_like_a_config_file() -> None:
    config, source = settings_config(_args(settings='{"report": {"png_dpi": 150}}', config=None))
    assert source == "--settings" and config["report"]["png_dpi"] == 150
    assert config["report"]["funnel_min_k"] == 10  # a key left out takes its schema default
    with pytest.raises(ConfigError, match=r"--settings: not valid JSON"):
        settings_config(_args(settings="{report:", config=None))
    with pytest.raises(ConfigError, match=r"--settings: report.png_dpi: 'high' is not of type 'integer'"):
        settings_config(_args(settings='{"report": {"png_dpi": "high"}}', config=None))
    with pytest.raises(ConfigError, match="expected a JSON object"):
        settings_config(_args(settings="[1]", config=None))


def test_meta_run_uses_the_analysis_it_is_given_not_the_config_file(tmp_path: Path) -> None:
    """The workflow passes one analysis as --settings; nothing reads config/config.yaml behind it."""
    effects = tmp_path / "effects.csv"
    tables = ["--studies", str(DATA / "studies.csv"), "--job-roles", str(DATA / "job_roles.yaml")]
    assert (
        main(["meta", "effects", "--outcomes", str(DATA / "outcomes.csv"), *tables, "--out", str(effects)])
        == 0
    )
    for method in ("DL", "PM"):
        analysis = {"id": "absence_irr", "domain": "sickness_absence", "measure": "IRR", "method": method}
        out = tmp_path / f"{method}.json"
        settings = json.dumps({"analyses": [analysis]})
        code = main(
            ["meta", "run", "absence_irr", "--settings", settings, "--effects", str(effects), *tables,
             "--json", str(out), "--csv", str(tmp_path / f"{method}.csv")]
        )  # fmt: skip
        assert code == 0
        assert json.loads(out.read_text())["method"] == method


def test_title_abstract_consensus_says_where_a_study_stopped() -> None:
    extracted = MATCHED[MATCHED["record_id"].isin([r["record_id"] for r in FULL_TEXT])]
    chosen = included_studies(included_reports(FULL_TEXT, STUDIES, [], extracted.to_dict("records")), [])
    full_text = {r["record_id"]: r for r in FULL_TEXT}
    for consensus, reason in (("exclude", "were excluded at title/abstract"), ("", "await a title/abstract")):
        left_out = curated_not_included(STUDIES, chosen, MATCHED, full_text, {"s:4": consensus})
        assert reason in dict(zip(left_out["study_id"], left_out["reason"], strict=True))["TRIAL_D"]
