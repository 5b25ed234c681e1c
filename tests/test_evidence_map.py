"""Issue 25 items 3, 4 and 6: the evidence-and-gap map, the cost figures, the workforce register and
what happened to the brief's trials."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from ohevidence.cli import main
from ohevidence.curated import validate_curated
from ohevidence.errors import InputError
from ohevidence.evidence_map import NO_EVIDENCE, build_evidence_map
from ohevidence.meta.roles import read_job_roles
from ohevidence.report.evidence_map import EMPTY_MARK, draw_gap_map, gap_map_html
from ohevidence.report.tables import economic_evidence, trial_status, workforce_strategies
from ohevidence.schema import (
    CASE_STUDY_STAGES,
    GAP_MAP_COLUMNS,
    MAP_DOMAINS,
    NO_ROLE_NAMED,
    ROLE_EVIDENCE_COLUMNS,
    STRATEGY_TYPES,
    map_domain,
    names,
)

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "data" / "curated"

TAXONOMY = {
    "social_prescriber": {
        "label": "Social prescriber",
        "origin": "brief",
        "professional_group": "non-clinical",
    },
    "physiotherapist": {
        "label": "Physiotherapist",
        "origin": "trial_delivery",
        "professional_group": "allied",
    },
    "occupational_therapist": {"label": "Occupational therapist", "origin": "trial_delivery"},
}


def _study(sid: str, design: str, role: str) -> dict[str, str]:
    return {"study_id": sid, "design": design, "status": "completed", "job_role": role, "acronym": sid}


def _effect(sid: str, oid: str, domain: str, yi: float | None, vi: float | None, role: str) -> dict[str, str]:
    return {
        "study_id": sid,
        "outcome_id": oid,
        "domain": domain,
        "measure": "HR" if domain == "return_to_work" else "MD",
        "job_role": role,
        "yi": "" if yi is None else str(yi),
        "vi": "" if vi is None else str(vi),
        "se": "" if vi is None else str(math.sqrt(vi)),
        "from": "reported CI" if yi is not None else "none: no numbers printed",
        "timepoint_months": "12",
    }


def _fixture() -> dict[str, object]:
    studies = [
        _study("A", "RCT", "physiotherapist"),
        _study("B", "cluster RCT", "physiotherapist"),
        _study("C", "pilot/feasibility RCT", "occupational_therapist"),
        _study("D", "RCT", "occupational_therapist"),  # not included: never in the map
        _study("E", "RCT", ""),  # names no role
    ]
    outcomes = [
        {"study_id": "A", "outcome_id": "rtw", "domain": "return_to_work", "higher_is_better": "true"},
        {"study_id": "B", "outcome_id": "absence", "domain": "sickness_absence", "higher_is_better": "false"},
        {"study_id": "B", "outcome_id": "pain", "domain": "pain", "higher_is_better": "false"},
        {"study_id": "D", "outcome_id": "rtw", "domain": "return_to_work", "higher_is_better": "true"},
        {"study_id": "E", "outcome_id": "rtw", "domain": "return_to_work", "higher_is_better": "true"},
    ]
    effects = [
        _effect("A", "rtw", "return_to_work", math.log(1.9), 0.04, "physiotherapist"),  # CI above 1: benefit
        _effect("B", "absence", "sickness_absence", -2.0, 4.0, "physiotherapist"),  # CI crosses 0
        _effect("B", "pain", "pain", None, None, "physiotherapist"),  # no numbers
        _effect("D", "rtw", "return_to_work", 0.5, 0.01, "occupational_therapist"),
        _effect("E", "rtw", "return_to_work", -0.5, 0.01, ""),  # harm (fewer return)
    ]
    analyses = [
        SimpleNamespace(analysis_id="rtw_hr", studies=[SimpleNamespace(study_id="A", outcome_id="rtw"),
                                                       SimpleNamespace(study_id="E", outcome_id="rtw")]),
    ]  # fmt: skip
    findings = [
        {"review_id": "vogel2017", "label": "Vogel 2017", "outcome_domain": "return_to_work",
         "outcome": "time to RTW", "certainty": "low", "direction": "no clear difference",
         "job_role": "occupational_therapist"},
    ]  # fmt: skip
    return {
        "taxonomy": TAXONOMY,
        "studies": studies,
        "included": {"A", "B", "C", "E"},
        "outcomes": outcomes,
        "effects": effects,
        "analyses": analyses,
        "certainty": {"rtw_hr": "very low"},
        "review_findings": findings,
    }


def test_gap_map_cells_direction_certainty_and_gaps() -> None:
    found = build_evidence_map(**_fixture())  # type: ignore[arg-type]
    table = found.gap_map
    assert list(table.columns) == names(GAP_MAP_COLUMNS)
    # every taxonomy role x domain is present, in taxonomy order, plus 'Role not reported' for E
    roles = list(dict.fromkeys(table["role_label"]))
    assert roles == ["Social prescriber", "Physiotherapist", "Occupational therapist", "Role not reported"]
    assert len(table[table["role_id"] == "social_prescriber"]) == len(MAP_DOMAINS)
    assert (table.loc[table["role_id"] == "social_prescriber", "evidence_type"] == "").all()
    cell = table.set_index(["role_id", "domain", "evidence_id"])
    a = cell.loc[("physiotherapist", "return_to_work", "A")]
    assert (a["direction"], a["certainty"], a["analysis_id"]) == ("benefit", "very low", "rtw_hr")
    b = cell.loc[("physiotherapist", "sickness_absence", "B")]
    assert (b["direction"], b["certainty"]) == ("no clear difference", "")  # in no analysis: not assessed
    assert cell.loc[("physiotherapist", "health", "B"), "direction"] == "no estimate"  # pain -> health
    assert cell.loc[("", "return_to_work", "E"), "direction"] == "harm"
    # the feasibility trial and the excluded trial are no cell's evidence; the review is
    assert "C" not in set(table["evidence_id"]) and "D" not in set(table["evidence_id"])
    review = cell.loc[("occupational_therapist", "return_to_work", "vogel2017")]
    assert (review["evidence_type"], review["certainty"]) == ("review", "low")
    assert list(found.other_studies["study_id"]) == ["C"]
    lines = found.role_evidence.set_index("role_id")
    assert list(found.role_evidence.columns) == names(ROLE_EVIDENCE_COLUMNS)
    assert lines.loc["social_prescriber", "statement"] == NO_EVIDENCE
    assert lines.loc["physiotherapist", "trials"] == "2"
    assert lines.loc["physiotherapist", "statement"] == (
        "Two trials (return to work; sickness absence; health), very low certainty (some not assessed)."
    )
    assert lines.loc["occupational_therapist", "statement"] == "One review (return to work), low certainty."


def test_gap_map_html_escapes_and_marks_empty_cells(tmp_path: Path) -> None:
    fixture = _fixture()
    fixture["studies"][0]["acronym"] = "<b>A&Co</b>"  # type: ignore[index]
    found = build_evidence_map(**fixture, label_of={"A": "<b>A&Co</b>"})  # type: ignore[arg-type]
    page = gap_map_html(found.gap_map, found.other_studies)
    assert "<b>A&Co</b>" not in page and "&lt;b&gt;A&amp;Co&lt;/b&gt;" in page
    assert page.count(f'<td class="empty">{EMPTY_MARK}</td>') == int(
        (found.gap_map["evidence_type"] == "").sum()
    )
    fig = draw_gap_map(found.gap_map, found.other_studies)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Social prescriber" in texts and texts.count(EMPTY_MARK) == page.count(f">{EMPTY_MARK}<")
    assert not any("_" in t for t in texts)  # words, never ids


def test_review_findings_bad_value_names_line_and_column() -> None:
    fixture = _fixture()
    fixture["review_findings"] = [dict(fixture["review_findings"][0], certainty="strong")]  # type: ignore[index]
    with pytest.raises(InputError) as caught:
        build_evidence_map(**fixture, review_findings_path="rf.csv")  # type: ignore[arg-type]
    assert caught.value.line == 2 and caught.value.column == "certainty" and "rf.csv" in str(caught.value)


def test_map_domain_follows_the_contract() -> None:
    domains = (
        "return_to_work",
        "sickness_absence",
        "job_retention",
        "presenteeism",
        "cost",
        "pain",
        "function",
    )
    expected = [
        "return_to_work",
        "sickness_absence",
        "work_ability",
        "work_ability",
        "costs",
        "health",
        "health",
    ]
    assert [map_domain(d) for d in domains] == expected


# --- costs.csv ------------------------------------------------------------------------------------
def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "curated"
    shutil.copytree(CURATED, copy)
    return copy


def _edit(path: Path, row_index: int, **cells: str) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[row_index].update(cells)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return row_index + 2


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [("currency", "£", "one of: GBP"), ("source", "", "non-empty"), ("study_id", "SWAP", "a study_id")],
)
def test_bad_cost_row_is_one_error_with_file_line_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, value: str, expected: str
) -> None:
    curated = _copy(tmp_path)
    path = curated / "costs.csv"
    line = _edit(path, 2, **{column: value})
    assert main(["validate", "--curated", str(curated)]) == 2
    err = capsys.readouterr().err
    hits = [x for x in err.splitlines() if x.startswith(f"{path}:")]
    assert len(hits) == 1 and hits[0].startswith(f"{path}:{line}:{column}:") and expected in hits[0], err


def test_shipped_costs_hold_the_figures_the_issue_names() -> None:
    with (CURATED / "costs.csv").open(encoding="utf-8", newline="") as handle:
        costs = list(csv.DictReader(handle))
    amounts = {(c["study_id"], c["amount"], c["currency"]) for c in costs}
    assert ("SWAP_WynneJones2018", "733", "GBP") in amounts
    assert ("WORKIA_Hammond2017_feas", "135", "GBP") in amounts
    assert {("WAVE_WynneJones", "5513.84", "GBP"), ("WAVE_WynneJones", "6146.21", "GBP")} <= amounts
    retake = next(c for c in costs if c["study_id"] == "RETAKE_Radford2024")
    assert retake["price_year"] == "2021/22" and retake["amount"] == "" and "QALY" in retake["result"]
    assert all("[S]" in c["notes"] for c in costs if "tomesphere" in c["source"])  # secondary: labelled


def test_economic_table_lists_every_cost_figure_and_cost_outcome() -> None:
    from ohevidence.meta.io import read_csv_rows

    studies = {s["study_id"]: s for s in read_csv_rows(CURATED / "studies.csv")}
    costs = read_csv_rows(CURATED / "costs.csv")
    outcomes = [o for o in read_csv_rows(CURATED / "outcomes.csv") if o["domain"] == "cost"]
    roles = read_job_roles(CURATED / "job_roles.yaml")
    table = economic_evidence(costs, outcomes, {}, studies, roles, {"SWAP_WynneJones2018", "WAVE_WynneJones"})
    assert len(table) == len(costs) + len(outcomes)
    swap = table[(table["study_id"] == "SWAP_WynneJones2018") & (table["amount"] == "733")].iloc[0]
    assert (swap["job_role"], swap["in_review"], swap["per"]) == ("Physiotherapist", "yes", "participant")
    workia = table[table["study_id"] == "WORKIA_Hammond2017_feas"].iloc[0]
    assert workia["in_review"] == "no" and workia["job_role"] == "Occupational therapist"


# --- workforce register ---------------------------------------------------------------------------
def test_all_sixteen_case_studies_coded_with_a_stage() -> None:
    cases = pd.read_csv(CURATED / "case_studies.csv", dtype=str, keep_default_na=False)
    assert len(cases) == 16
    assert (cases["role_codes"] != "").all() and (cases["coding_note"] != "").all()
    assert set(cases["stage"]) <= set(CASE_STUDY_STAGES) and set(cases["strategy_type"]) <= set(
        STRATEGY_TYPES
    )
    coded = cases.set_index("case_id")
    assert coded.loc["barnsley_occupational_psychology", "role_codes"] == "occupational_psychologist"
    assert coded.loc["dorset_grow_enhance_oh", "role_codes"] == NO_ROLE_NAMED
    # 'evaluated' only with reported figures: no case study of the seed reports an evaluation
    assert "evaluated" not in set(cases["stage"])
    roles = read_job_roles(CURATED / "job_roles.yaml")
    table = workforce_strategies(cases.to_dict("records"), roles)
    assert len(table) == 16 and table.iloc[-1]["role"] == "No role named"
    # taxonomy order: the brief's occupational psychologist before the trial-delivery OH nurse
    assert list(table["role"])[:2] == [
        "Occupational psychologist",
        "Occupational health nurse / nurse case manager",
    ]


def test_case_study_role_code_outside_the_taxonomy_is_an_error(tmp_path: Path) -> None:
    curated = _copy(tmp_path)
    line = _edit(curated / "case_studies.csv", 3, role_codes="wizard", stage="finished")
    found = {
        (p.line, p.column, p.value) for p in validate_curated(curated) if p.file.endswith("case_studies.csv")
    }
    assert found == {(line, "role_codes", "wizard"), (line, "stage", "finished")}


# --- brief trials: what happened ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("design", "status", "analyses", "has_estimate", "expected"),
    [
        ("pilot/feasibility RCT", "completed", [], False, "feasibility study (no effectiveness outcome)"),
        ("RCT", "completed", [], False, "completed, results not found"),
        ("RCT", "ongoing", [], False, "ongoing"),
        ("RCT", "discontinued", ["single study (not pooled)"], True,
         "discontinued; single study (not pooled)"),
        ("RCT", "completed", ["pooled in return to work, hazard ratio, by job role (3 studies)"], True,
         "pooled in return to work, hazard ratio, by job role (3 studies)"),
    ],
)  # fmt: skip
def test_trial_status_words(
    design: str, status: str, analyses: list[str], has_estimate: bool, expected: str
) -> None:
    assert trial_status({"design": design, "status": status}, analyses, has_estimate=has_estimate) == expected


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_evidence_map_command_writes_tables_html_and_figure(tmp_path: Path) -> None:
    """The command on the shipped taxonomy and studies, with one included trial and one review finding."""
    included = _csv(tmp_path / "included_studies.csv", [
        {"study": "SWAP_WynneJones2018", "curated_study_id": "SWAP_WynneJones2018",
         "included_by": "full-text screening", "reports": "", "n_reports": "1", "note": ""},
    ])  # fmt: skip
    swap = _effect(
        "SWAP_WynneJones2018", "days_off_work", "sickness_absence", math.log(0.51), 0.1, "physiotherapist"
    )
    effects = _csv(tmp_path / "effects.csv", [dict(swap, timepoint_months="4")])
    findings = _csv(tmp_path / "review_findings.csv", [
        {"review_id": "vogel2017", "label": "Vogel 2017", "outcome_domain": "return_to_work",
         "outcome": "time to return to work", "comparison": "coordination vs usual care", "certainty": "low",
         "direction": "no clear difference", "job_role": "case_manager", "source": "fixture"},
    ])  # fmt: skip
    out, stem = tmp_path / "evidence_map", tmp_path / "figures" / "gap_map"
    code = main(["report", "evidence-map", "--job-roles", str(CURATED / "job_roles.yaml"),
                 "--studies", str(CURATED / "studies.csv"), "--outcomes", str(CURATED / "outcomes.csv"),
                 "--included-studies", str(included), "--effects", str(effects),
                 "--review-findings", str(findings), "--out-dir", str(out), "--figure-stem", str(stem),
                 "--dpi", "60"])  # fmt: skip
    assert code == 0
    lines = pd.read_csv(out / "role_evidence.csv", dtype=str, keep_default_na=False).set_index("role_id")
    brief = lines[lines["role_origin"] == "brief"]
    assert len(brief) == 12 and (brief["statement"] == NO_EVIDENCE).all()
    assert (
        lines.loc["physiotherapist", "statement"] == "One trial (sickness absence), certainty not assessed."
    )
    assert lines.loc["case_manager", "statement"] == "One review (return to work), low certainty."
    table = pd.read_csv(out / "gap_map.csv", dtype=str, keep_default_na=False)
    swap = table[table["evidence_id"] == "SWAP_WynneJones2018"].iloc[0]
    assert (swap["direction"], swap["evidence_label"]) == (
        "benefit",
        "SWAP (Wynne-Jones 2018): days off work, 4 months",
    )
    other = pd.read_csv(out / "other_studies.csv", dtype=str, keep_default_na=False)
    assert "WORKIA_Hammond2017_feas" in set(other["study_id"]) and set(other["in_review"]) == {"no"}
    assert "no evidence" in (out / "gap_map.html").read_text(encoding="utf-8")
    assert all(stem.with_suffix(f".{ext}").stat().st_size > 0 for ext in ("svg", "png", "pdf"))
