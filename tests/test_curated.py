"""Curated evidence tables: shipped tables pass; injected faults are each reported with file, line, column."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import yaml

from ohevidence.cli import main
from ohevidence.curated import errors, load_curated, validate_curated

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "data" / "curated"
EVIDENCE = ROOT.parent / "shared" / "evidence"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _line_of(rows: list[dict[str, str]], **match: str) -> tuple[int, dict[str, str]]:
    """(file line, row) of the first row matching; the header is line 1."""
    for index, row in enumerate(rows):
        if all(row[k] == v for k, v in match.items()):
            return index + 2, row
    raise AssertionError(f"no row {match}")


@pytest.fixture()
def curated_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "curated"
    shutil.copytree(CURATED, copy)
    return copy


def test_shipped_tables_pass() -> None:
    problems = validate_curated(CURATED)
    assert errors(problems) == []
    # RETAKE's printed adjusted OR 1.12 (0.8 to 1.87) is off centre on the log scale: a warning
    warnings = [str(p) for p in problems]
    assert any("outcomes.csv" in w and ":estimate: '1.12'" in w and "warning" in w for w in warnings)


def test_cli_validate_passes_and_writes_report(tmp_path: Path) -> None:
    report = tmp_path / "validation.txt"
    assert main(["validate", "--curated", str(CURATED), "--report", str(report)]) == 0
    assert "curated tables valid" in report.read_text()


def test_workflow_validation_reads_no_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rule's `validate --curated-only` checks the tables it is given, never config/config.yaml."""
    monkeypatch.chdir(tmp_path)  # no config/config.yaml here
    report = tmp_path / "validation.txt"
    assert main(["validate", "--curated-only", "--curated", str(CURATED), "--report", str(report)]) == 0
    assert "curated tables valid" in report.read_text()
    bad = tmp_path / "rob.csv"
    bad.write_text(
        "study_id,outcome_id,variant,d1,d1b,d2,d3,d4,d5,overall,weight,overall_reason,support,source,assessed_by\n"
        "SWAP_WynneJones2018,,cluster,low,low,low,high,low,low,low,,,a test row,INVENTED for a test,test\n"
    )
    code = main(["validate", "--curated-only", "--curated", str(CURATED), "--rob", str(bad)])
    assert code == 2 and f"{bad}:2:overall: 'low'" in capsys.readouterr().err


FAULTS = [
    # (file, row match, column, bad value, words of the expected message)
    ("outcomes.csv", {"study_id": "SWAP_WynneJones2018"}, "sd_int", "-21.7", "SD > 0"),
    ("outcomes.csv", {"study_id": "RETAKE_Radford2024"}, "events_int", "300", "0 <= events <= n_int"),
    ("outcomes.csv", {"study_id": "Lambeek2010"}, "estimate", "3.5", "inside its CI"),
    (
        "outcomes.csv",
        {"study_id": "Tamminga2013"},
        "study_id",
        "Nobody2020",
        "study_id listed in studies.csv",
    ),
    (
        "outcomes.csv",
        {"study_id": "WAVE_WynneJones", "outcome_id": "days_sickness_absence"},
        "mean_int",
        "37.8.6",
        "a number",
    ),
    (
        "outcomes.csv",
        {"study_id": "WAVE_WynneJones", "outcome_id": "days_sickness_absence"},
        "ci_level",
        "80",
        "write 0.8",
    ),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "n_ctl", "0", "n > 0"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "measure", "hazard", "one of"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "domain", "happiness", "one of"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "ci_low", "-0.33", "positive value"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "flags", "maybe_wrong", "one of pooled_review_estimate"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "higher_is_better", "yes", "true or false"),
    # issue 15: comparison-level role, comparability vocabularies, cluster flag, shared control n
    ("outcomes.csv", {"study_id": "Noordik2013"}, "job_role", "wizard", "role id from job_roles.yaml"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "outcome_definition", "rtw_soonish", "one of"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "comparator_type", "placebo", "one of"),
    ("outcomes.csv", {"study_id": "Noordik2013"}, "cluster_adjusted", "yes", "true or false"),
    (
        "outcomes.csv",
        {"study_id": "MINAV_Aanesen2023", "outcome_id": "sickness_absence_days_mi"},
        "n_ctl",
        "",
        "arm sizes on a shared_control row",
    ),
    # issue 25: a printed difference between two arms names both arms' roles
    (
        "outcomes.csv",
        {"study_id": "MINAV_Aanesen2023", "outcome_id": "sickness_absence_days_mi"},
        "flags",
        "between_arms",
        "two role ids on a between_arms row",
    ),
    ("studies.csv", {"study_id": "Taimela2008"}, "population_type", "at_risk", "one of"),
    # issue 25: the review-of-reviews tables
    ("review_studies.csv", {"study": "Lambeek 2010"}, "study_id", "Lambeek2011", "a study_id of studies.csv"),
    ("review_studies.csv", {"study": "Noordik 2013"}, "status", "probably", "one of: included, unconfirmed"),
    (
        "review_studies.csv",
        {"study": "Davey 1994"},
        "review_id",
        "Vogel2018_Cochrane",
        "a review_id of reviews.csv",
    ),
    ("reviews.csv", {"review_id": "Marin2017_Cochrane"}, "job_role", "wizard", "role id from job_roles.yaml"),
    ("reviews.csv", {"review_id": "Vogel2017_Cochrane"}, "pmid", "PMC28358173", "a value matching"),
    ("reviews.csv", {"review_id": "Kamper2014_Cochrane"}, "other_reports", "bmj.h444", "a PMID or a DOI"),
    ("reviews.csv", {"review_id": "Kamper2014_Cochrane"}, "source", "", "non-empty"),
    (
        "review_findings.csv",
        {"review_id": "Vogel2017_Cochrane", "outcome": "time to return to work"},
        "certainty",
        "lowish",
        "one of: high, moderate, low, very low",
    ),
    (
        "review_findings.csv",
        {"review_id": "Vogel2017_Cochrane", "outcome": "time to return to work"},
        "estimate",
        "1.75",
        "inside its interval",
    ),
    (
        "review_findings.csv",
        {"review_id": "Vogel2017_Cochrane", "outcome": "time to return to work"},
        "ci_lower",
        "-0.95",
        "above 0",
    ),
    (
        "review_findings.csv",
        {"review_id": "Vogel2017_Cochrane", "outcome": "time to return to work"},
        "evidence_label",
        "D",
        "one of: V, S, C",
    ),
    (
        "review_findings.csv",
        {"review_id": "Vogel2017_Cochrane", "outcome": "time to return to work"},
        "outcome_domain",
        "rtw",
        "one of: return_to_work",
    ),
    (
        "review_findings.csv",
        {"review_id": "deBoer2015_Cochrane"},
        "measure",
        "RR",
        "a measure only with its estimate",
    ),
    (
        "review_findings.csv",
        {"review_id": "deBoer2024_Cochrane", "comparison": "vocational interventions vs care as usual"},
        "notes",
        "EBM Guidelines",
        "the [S] label kept",
    ),
    (
        "studies.csv",
        {"study_id": "SWAP_WynneJones2018"},
        "job_role",
        "physio_nurse",
        "role id from job_roles.yaml",
    ),
    ("studies.csv", {"study_id": "SWAP_WynneJones2018"}, "design", "RCT-ish", "one of"),
    ("studies.csv", {"study_id": "SWAP_WynneJones2018"}, "status", "finished", "one of"),
    (
        "studies.csv",
        {"study_id": "SWAP_WynneJones2018"},
        "registry_ids",
        "ISRCTN5226966",
        "ISRCTN + 8 digits",
    ),
    ("studies.csv", {"study_id": "SWAP_WynneJones2018"}, "n_randomised", "3.5e2", "whole number"),
    ("studies.csv", {"study_id": "SWAP_WynneJones2018"}, "source", "", "non-empty"),
    ("case_studies.csv", {"case_id": "nenc_seqohs"}, "year", "20xx", "matching"),
    ("study_reports.csv", {"pmid": "29982957"}, "study_id", "SWAP2018", "a study_id of studies.csv"),
    ("study_reports.csv", {"pmid": "29982957"}, "report_type", "process", "one of"),
    ("study_reports.csv", {"pmid": "29982957"}, "doi", "doi 10.1007/x", "matching"),
    # the main paper's PMID belongs to the study itself (studies.csv), not to a further report
    ("study_reports.csv", {"pmid": "29982957"}, "pmid", "28976423", "not already given to study"),
    ("study_reports.csv", {"pmid": "39383146"}, "doi", "10.1007/s10926-018-9799-1", "the report on line 2"),
    ("study_reports.csv", {"pmid": "29982957"}, "source", "", "non-empty"),
]


@pytest.mark.parametrize(("file", "match", "column", "value", "expected"), FAULTS)
def test_each_fault_reported_with_file_line_column(
    curated_copy: Path,
    capsys: pytest.CaptureFixture[str],
    file: str,
    match: dict[str, str],
    column: str,
    value: str,
    expected: str,
) -> None:
    path = curated_copy / file
    rows = _rows(path)
    line, row = _line_of(rows, **match)
    row[column] = value
    _write(path, rows)
    report = curated_copy.parent / "report.txt"
    assert main(["validate", "--curated", str(curated_copy), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    hits = [x for x in err.splitlines() if x.startswith(f"{path}:{line}:{column}:")]
    assert hits, err
    assert f"{value!r} —" in hits[0] and expected in hits[0], hits[0]
    assert not report.exists()  # nothing written


def test_all_faults_reported_at_once(curated_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's fault list, injected together: every one reported in one run, one line each."""
    outcomes_path, studies_path = curated_copy / "outcomes.csv", curated_copy / "studies.csv"
    outcomes, studies = _rows(outcomes_path), _rows(studies_path)
    expected: list[str] = []
    for match, column, value in [
        ({"study_id": "SWAP_WynneJones2018"}, "sd_int", "-21.7"),  # negative SD
        ({"study_id": "RETAKE_Radford2024"}, "events_ctl", "380"),  # events > n
        ({"study_id": "Lambeek2010"}, "estimate", "0.9"),  # estimate outside its CI
        ({"study_id": "Tamminga2013"}, "study_id", "Dangling2099"),  # dangling study_id
        ({"study_id": "Skagseth2020"}, "ci_high", "1,16"),  # malformed number
    ]:
        line, row = _line_of(outcomes, **match)
        row[column] = value
        expected.append(f"{outcomes_path}:{line}:{column}:")
    line, row = _line_of(studies, study_id="RETAKE_Radford2024")
    row["job_role"] = "stroke_wizard"  # unknown role
    expected.append(f"{studies_path}:{line}:job_role:")
    studies.append(dict(studies[0]))  # duplicate key
    expected.append(f"{studies_path}:{len(studies) + 1}:study_id:")
    _write(outcomes_path, outcomes)
    _write(studies_path, studies)

    assert main(["validate", "--curated", str(curated_copy)]) == 2
    err = capsys.readouterr().err
    for prefix in expected:
        assert any(x.startswith(prefix) for x in err.splitlines()), (prefix, err)
    assert "7 error(s)" in err.splitlines()[-1]


def test_missing_column_and_unknown_column(curated_copy: Path) -> None:
    path = curated_copy / "case_studies.csv"
    text = path.read_text().replace("recognition,", "award,", 1)
    path.write_text(text)
    found = {(p.line, p.column) for p in validate_curated(curated_copy)}
    assert (1, "recognition") in found and (1, "award") in found


def test_job_roles_yaml_faults_name_the_line(curated_copy: Path) -> None:
    path = curated_copy / "job_roles.yaml"
    data = yaml.safe_load(path.read_text())
    data["roles"][1]["professional_group"] = "wizardry"
    data["roles"].append(dict(data["roles"][0]))  # duplicate id
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    lines = path.read_text().splitlines()
    starts = [i + 1 for i, x in enumerate(lines) if x.startswith("- id:")]
    problems = {(p.line, p.column): p for p in validate_curated(curated_copy)}
    assert problems[(starts[1], "professional_group")].value == "wizardry"
    assert (starts[-1], "id") in problems


# --- content: what the evidence requires the tables to hold -------------------------------
BRIEF_STUDIES = {
    # acronym (brief's name in comments) -> (design, status, job_role)
    "SWAP": ("cluster RCT", "completed", "physiotherapist"),
    "InSTEP": ("pilot/feasibility RCT", "completed", "employment_support_advisor"),  # IN-STEP
    "I-SWAP": ("qualitative", "completed", "first_contact_practitioner"),
    "WAVE": ("RCT", "discontinued", "non_clinical_staff"),
    "WORKWELL": ("RCT", "completed", "occupational_therapist"),
    "WORK-IA": ("pilot/feasibility RCT", "completed", "occupational_therapist"),
    "FRESH": ("pilot/feasibility RCT", "completed", "occupational_therapist"),
    "WB2W": ("non-randomised", "completed", "oh_nurse"),  # Ways back to Work
    "RETAKE": ("RCT", "completed", "occupational_therapist"),
    "CAMEOS": ("pilot/feasibility RCT", "completed", "case_manager"),  # collaborative case management
}


def test_every_brief_trial_and_cochrane_review_is_in_studies() -> None:
    studies = {row["study_id"]: row for row in _rows(CURATED / "studies.csv")}
    by_acronym = {row["acronym"]: row for row in studies.values() if row["acronym"] != "OPAL"}
    for acronym, (design, status, role) in BRIEF_STUDIES.items():
        row = by_acronym[acronym]
        assert (row["design"], row["status"], row["job_role"]) == (design, status, role), acronym
        assert (row["source"] and row["job_role_detail"].startswith("brief:")) or acronym == "WORK-IA"
    opal = {(r["design"], r["status"]) for r in studies.values() if r["acronym"] == "OPAL"}
    assert opal == {("non-randomised", "completed"), ("RCT", "ongoing")}
    # issue 25: reviews are no studies (their estimates must never be pooled): they live in reviews.csv
    assert not [s for s in studies.values() if s["design"] == "systematic review"]
    reviews = {row["review_id"]: row for row in _rows(CURATED / "reviews.csv")}
    for review in ("deBoer2015_Cochrane", "Kamper2014_Cochrane", "Vogel2017_Cochrane"):
        assert review in reviews and review not in studies
    for trial in (
        "Lambeek2010",
        "Tamminga2013",
        "MINAV_Aanesen2023",
        "Skagseth2020",
        "Noordik2013",
        "Arends2014",
        "ViikariJuntura2012",
        "Hees2013",
        "Taimela2008",
    ):
        assert studies[trial]["design"] in {"RCT", "cluster RCT"}, trial


def test_taxonomy_has_the_brief_roles_and_delivery_roles() -> None:
    roles = yaml.safe_load((CURATED / "job_roles.yaml").read_text())["roles"]
    brief = [r for r in roles if r["origin"] == "brief"]
    assert len(brief) == 12
    ids = {r["id"] for r in roles}
    assert {
        "oh_nurse",
        "physiotherapist",
        "occupational_therapist",
        "first_contact_practitioner",
        "employment_support_advisor",
        "case_manager",
        "psychologist",
        "non_clinical_staff",
        "multidisciplinary_team",
        "occupational_physician",
    } <= ids
    assert all(r.get("justification") for r in roles if r["origin"] == "trial_delivery")


def test_outcome_traps_are_encoded() -> None:
    outcomes = _rows(CURATED / "outcomes.csv")
    get = {(r["study_id"], r["outcome_id"]): r for r in outcomes}
    assert get[("WAVE_WynneJones", "days_sickness_absence")]["ci_level"] == "0.80"
    assert "needs_fulltext_check" in get[("RETAKE_Radford2024", "rtw_2h_week")]["flags"]
    assert "reversed_direction" in get[("Taimela2008", "sickness_absence_days")]["flags"]
    assert get[("Taimela2008", "sickness_absence_days")]["estimate"] == "11"  # as printed, not re-signed
    assert get[("Noordik2013", "time_to_full_rtw")]["higher_is_better"] == "true"
    assert get[("Arends2014", "recurrent_sa_incidence")]["higher_is_better"] == "false"
    assert all("shared_control" in r["flags"] for r in outcomes if r["study_id"] == "MINAV_Aanesen2023")
    # review estimates live in review_findings.csv, never among the trial outcomes
    assert not [r for r in outcomes if r["study_id"].endswith("_Cochrane")]
    assert all(r["source"].startswith("http") for r in outcomes)


# --- traceability against ../shared/evidence (skipped when absent) ---------------------------
@pytest.fixture()
def evidence_text() -> str:
    if not EVIDENCE.is_dir():
        pytest.skip("../shared/evidence not present")
    files = [*EVIDENCE.glob("*.md"), *EVIDENCE.glob("seeds/*.txt")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_identifier_appears_in_the_evidence(evidence_text: str) -> None:
    compact = re.sub(r"\s+", "", evidence_text).lower()
    for row in _rows(CURATED / "studies.csv"):
        ids = [row["pmid"], row["doi"], row["nihr_doi"], *row["registry_ids"].split("; ")]
        for identifier in filter(None, ids):
            assert identifier.replace(" ", "").lower() in compact, (row["study_id"], identifier)


def test_every_outcome_number_appears_in_the_evidence(evidence_text: str) -> None:
    text = evidence_text.replace("·", ".").replace("−", "-")
    printed = set(re.findall(r"-?\d+(?:\.\d+)?", text))
    columns = [
        "n_int",
        "n_ctl",
        "events_int",
        "events_ctl",
        "mean_int",
        "sd_int",
        "mean_ctl",
        "sd_ctl",
        "estimate",
        "ci_low",
        "ci_high",
        "clusters",
    ]
    for row in _rows(CURATED / "outcomes.csv"):
        for column in columns:
            value = row[column]
            if value:
                assert value in printed or value.lstrip("-") in printed, (row["study_id"], column, value)


def test_load_job_roles_for_later_stages(tmp_path: Path) -> None:
    """Later stages share one taxonomy reader: it refuses a file that is no taxonomy at all."""
    from ohevidence.curated import load_job_roles
    from ohevidence.errors import InputError

    roles = load_job_roles(CURATED / "job_roles.yaml")
    assert roles["physiotherapist"]["professional_group"] == "allied health"
    bad = tmp_path / "job_roles.yaml"
    bad.write_text("roles:\n  - id: physiotherapist\n    label: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"job_roles\.yaml, line \d+"):
        load_job_roles(bad)
    bad.write_text("role: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="roles"):
        load_job_roles(bad)


def test_a_report_needs_a_pmid_or_a_doi(curated_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = curated_copy / "study_reports.csv"
    rows = _rows(path)
    line, row = _line_of(rows, pmid="29982957")
    row["pmid"] = row["doi"] = ""
    _write(path, rows)
    assert main(["validate", "--curated", str(curated_copy)]) == 2
    assert f"{path}:{line}:pmid: '' — a pmid or a doi (both empty)" in capsys.readouterr().err


def test_report_table_is_optional(curated_copy: Path) -> None:
    (curated_copy / "study_reports.csv").unlink()
    assert main(["validate", "--curated", str(curated_copy)]) == 0


def test_every_report_identifier_appears_in_the_evidence(evidence_text: str) -> None:
    compact = re.sub(r"\s+", "", evidence_text).lower()
    for row in _rows(CURATED / "study_reports.csv"):
        for identifier in filter(None, (row["pmid"], row["doi"])):
            assert identifier.lower() in compact, (row["study_id"], identifier)


def test_curated_csv_saved_as_windows_1252_is_read_with_a_warning(
    curated_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case 8: Excel's plain "CSV" writes Windows-1252; validate reads it and warns (no traceback)."""
    studies = curated_copy / "studies.csv"
    text = studies.read_text(encoding="utf-8")
    assert "\u00a7" in text  # the shipped table has a non-ASCII character ('§') to re-encode
    studies.write_bytes(text.encode("cp1252"))
    first = next(n for n, line in enumerate(text.splitlines(), start=1) if "\u00a7" in line)
    problems = validate_curated(curated_copy)
    assert errors(problems) == []
    [warning] = [p for p in problems if "Windows-1252" in str(p)]
    assert (warning.file, warning.line, warning.severity) == (str(studies), first, "warning")
    assert main(["validate", "--curated", str(curated_copy)]) == 0
    assert f"{studies}:{first}:" in capsys.readouterr().err
    # The values arrive intact: the same rows as the UTF-8 original.
    assert load_curated(curated_copy, []).studies == load_curated(CURATED, []).studies


def test_curated_csv_with_undecodable_bytes_is_one_error_with_line(curated_copy: Path) -> None:
    outcomes = curated_copy / "outcomes.csv"
    lines = outcomes.read_bytes().split(b"\n")
    lines[2] += b"\x90"  # undefined in Windows-1252, invalid in UTF-8
    outcomes.write_bytes(b"\n".join(lines))
    [problem] = [p for p in errors(validate_curated(curated_copy)) if p.file == str(outcomes)]
    assert problem.line == 3 and "neither UTF-8 nor Windows-1252" in problem.expected


# ---------------------------------------------------------------------------
# One error per mistake (issue 26 item 7): a file that cannot be read is one line, no cascade
# ---------------------------------------------------------------------------
def _resave(path: Path, delimiter: str) -> None:
    """``path`` saved again with ``delimiter`` between cells (as Excel does in a comma-decimal locale)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize(
    ("table", "delimiter", "name"), [("outcomes.csv", ";", "';'"), ("studies.csv", "\t", "tabs")]
)
def test_a_table_saved_with_another_separator_is_one_error(
    curated_copy: Path, capsys: pytest.CaptureFixture[str], table: str, delimiter: str, name: str
) -> None:
    """Was 71 lines (every column 'missing', every row a cell count) that never said 'semicolon'.

    studies.csv unreadable: outcomes, reports and appraisals do not each report their study ids.
    """
    _resave(curated_copy / table, delimiter)
    problems = errors(validate_curated(curated_copy))
    assert [str(p) for p in problems] == [
        f"{curated_copy / table}:1:-: {delimiter.join(_header(CURATED / table))[:60]!r} — "
        f"separated by {name}, expected ','"
    ]
    assert main(["validate", "--curated-only", "--curated", str(curated_copy)]) == 2
    err = capsys.readouterr().err
    shown = [line for line in err.splitlines() if "warning" not in line]
    assert len(shown) == 2 and f"separated by {name}, expected ','" in shown[0]
    assert shown[1].endswith("1 error(s) in the curated tables (listed above)")


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def test_a_broken_job_roles_yaml_is_one_error_with_its_line(curated_copy: Path) -> None:
    """Was 28 lines: the YAML error, then every job_role of studies.csv and outcomes.csv 'unknown'."""
    path = curated_copy / "job_roles.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("  - id: oh_technician")
    lines.insert(at + 1, "   label: one space too few")  # a typical indentation slip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = errors(validate_curated(curated_copy))
    assert len(problems) == 1, [str(p) for p in problems]
    assert str(problems[0]).startswith(f"{path}:{at + 2}: not valid YAML")


def test_a_job_roles_yaml_without_a_roles_list_is_one_error(curated_copy: Path) -> None:
    (curated_copy / "job_roles.yaml").write_text("role:\n  - id: nurse\n", encoding="utf-8")
    problems = errors(validate_curated(curated_copy))
    assert [p.expected for p in problems] == ["a top-level 'roles:' list"]


def test_a_header_with_none_of_the_columns_is_one_error(curated_copy: Path) -> None:
    path = curated_copy / "outcomes.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n", encoding="utf-8")
    problems = errors(validate_curated(curated_copy))
    assert len(problems) == 1 and problems[0].line == 1
    assert "none of these columns found" in problems[0].expected


def test_a_stage_reading_a_semicolon_table_says_so(curated_copy: Path) -> None:
    """Outside `validate` too (a stage run on its own): one error naming the separator."""
    from ohevidence.errors import InputError
    from ohevidence.meta.io import read_rows

    _resave(curated_copy / "outcomes.csv", ";")
    with pytest.raises(InputError) as info:
        read_rows(curated_copy / "outcomes.csv", ("study_id", "outcome_id"))
    assert str(info.value) == f"{curated_copy / 'outcomes.csv'}, line 1: separated by ';', expected ','"
