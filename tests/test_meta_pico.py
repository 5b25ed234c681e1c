"""Issue 25 item 2: analyses defined by PICO, headline flag, role credibility, within-trial roles.

* PICO: a row of the analysis' domain and measure outside the declared population, comparator,
  outcome definition or time window is left out and named ("not in this analysis because ...") in
  the JSON and the log; a PICO accepting several values of a dimension needs allow_mixed (one
  ConfigError naming the analysis and the key); a declared mix is carried in words.
* headline: false for one or two studies; the summary of findings says "1 study: not pooled" /
  "2 studies".
* role_credibility.csv: ICEMAN-style items computed from the analysis results (two fixtures that
  differ in comparison, hypothesis, subgroup p and consistency get different ratings).
* within_trial_roles.csv: MI-NAV's two arms (physiotherapists, caseworkers) against the shared
  control, side by side, with no contrast computed from them.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from ohevidence.errors import ConfigError
from ohevidence.meta.analysis import analyse, run_analysis
from ohevidence.meta.effects_table import build_effects, write_effects
from ohevidence.meta.io import read_rows
from ohevidence.meta.result import AnalysisResult
from ohevidence.meta.role_evidence import role_credibility, within_trial_roles
from ohevidence.meta.roles import read_job_roles
from ohevidence.meta.spec import AnalysisSpec
from ohevidence.report.common import index_by, read_csv_rows
from ohevidence.report.tables import summary_of_findings
from ohevidence.schema import (
    COMPARATOR_TYPES,
    EFFECT_COLUMNS,
    OUTCOME_DEFINITIONS,
    POPULATION_TYPES,
    ROLE_CREDIBILITY_COLUMNS,
    WITHIN_TRIAL_ROLE_COLUMNS,
    names,
)
from ohevidence.tableio import check_table

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "data" / "curated"
ROLES = read_job_roles(CURATED / "job_roles.yaml")


@pytest.fixture(scope="module")
def effects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pico") / "effects.csv"
    write_effects(
        build_effects(CURATED / "outcomes.csv", CURATED / "studies.csv", CURATED / "job_roles.yaml"), out
    )
    return out


def run(tmp_path: Path, effects: Path, **entry: Any) -> dict[str, Any]:
    entry.setdefault("id", "test")
    out = tmp_path / str(entry["id"])
    run_analysis(
        AnalysisSpec.from_entry(entry),
        effects,
        CURATED / "studies.csv",
        CURATED / "job_roles.yaml",
        f"{out}.json",
        f"{out}.csv",
    )
    data: dict[str, Any] = json.loads(Path(f"{out}.json").read_text(encoding="utf-8"))
    return data


SICK_LISTED_MD = {
    "domain": "sickness_absence",
    "measure": "MD",
    "pico": {
        "population": ["sick_listed"],
        "comparator_type": ["usual_care"],
        "outcome_definition": ["sickness_absence_days"],
        "timepoint_months": {"min": 6, "max": 6},
    },
}


# ---------------------------------------------------------------------------
# PICO checks.
# ---------------------------------------------------------------------------
def test_a_prevention_row_is_left_out_of_a_sick_listed_analysis_and_named(
    tmp_path: Path, effects: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ohevidence.meta"):
        data = run(tmp_path, effects, id="sick_md", **SICK_LISTED_MD)
    assert {s["study_id"] for s in data["studies"]} == {"MINAV_Aanesen2023"}
    (taimela,) = [e for e in data["excluded"] if e["study_id"] == "Taimela2008"]
    assert taimela["reason"].startswith(
        "not in this analysis because its population is workers not on sick leave"
    )
    assert "not workers on sick leave" in taimela["reason"]
    assert "sick_md: Taimela2008:sickness_absence_days not in this analysis because" in caplog.text
    assert data["pico"]["population"] == "workers on sick leave"
    assert data["pico"]["timepoint"] == "6 months"
    assert data["pico"]["mix"] == ""
    # without the PICO the same rows differ in population and time point: the old error
    with pytest.raises(ConfigError, match=r"analyses: sick_md: the rows to pool differ in timepoint"):
        run(tmp_path, effects, id="sick_md", domain="sickness_absence", measure="MD")


def test_time_window_and_outcome_definition_leave_rows_out(tmp_path: Path, effects: Path) -> None:
    data = run(
        tmp_path,
        effects,
        domain="return_to_work",
        measure="HR",
        pico={"outcome_definition": ["rtw_full_sustained"], "timepoint_months": {"max": 6}},
    )
    assert data["k"] == 0 and data["overall"] is None
    reasons = {e["study_id"]: e["reason"] for e in data["excluded"]}
    assert (
        reasons["Lambeek2010"]
        == "not in this analysis because its time point is 12 months, outside up to 6 months"
    )
    assert reasons["Tamminga2013"].startswith(
        "not in this analysis because its outcome definition is partial"
    )
    assert data["pico"]["comparator_type"] == "not declared (not checked)"


def test_an_unrecorded_value_of_a_declared_dimension_is_left_out(tmp_path: Path, effects: Path) -> None:
    data = run(
        tmp_path, effects, domain="return_to_work", measure="HR", pico={"comparator_type": ["usual_care"]}
    )
    reasons = {e["study_id"]: e["reason"] for e in data["excluded"]}
    assert reasons["Tamminga2013"] == (
        "not in this analysis because its comparator is not recorded (comparator_type empty; "
        "the analysis asks for usual care (usual primary, occupational health, case management or NHS care))"
    )
    assert "Skagseth2020" in reasons and "another active programme" in reasons["Skagseth2020"]


def test_an_undeclared_mix_in_the_pico_stops_with_one_error_naming_analysis_and_key() -> None:
    with pytest.raises(ConfigError) as info:
        AnalysisSpec.from_entry(
            {
                "id": "prevention_and_rtw",
                "domain": "sickness_absence",
                "measure": "MD",
                "pico": {"population": ["sick_listed", "prevention"]},
            }
        )
    message = str(info.value)
    assert message.startswith("analyses: prevention_and_rtw: pico.population accepts 2 values")
    assert "allow_mixed does not list population" in message
    # Snakemake's --config passes every value as text: a number written as text is read as the number
    spec = AnalysisSpec.from_entry(
        {"id": "w", "domain": "d", "measure": "MD", "pico": {"timepoint_months": {"min": "6", "max": 12}}}
    )
    assert (spec.pico.timepoint_min, spec.pico.timepoint_max) == (6.0, 12.0)
    with pytest.raises(ConfigError, match=r"pico.timepoint_months.min: 'six' does not match"):
        AnalysisSpec.from_entry(
            {"id": "w", "domain": "d", "measure": "MD", "pico": {"timepoint_months": {"min": "six"}}}
        )
    with pytest.raises(ConfigError, match=r"analyses: w: pico.timepoint_months: min 12 is after max 6"):
        AnalysisSpec.from_entry(
            {"id": "w", "domain": "d", "measure": "MD", "pico": {"timepoint_months": {"min": 12, "max": 6}}}
        )


def test_a_declared_mix_is_carried_in_words_with_its_reason(tmp_path: Path, effects: Path) -> None:
    data = run(
        tmp_path,
        effects,
        domain="sickness_absence",
        measure="MD",
        pico={"population": ["sick_listed", "prevention"]},
        allow_mixed=["population", "timepoint"],
        mix_reason="both ask whether an OH contact lowers absence",
    )
    mix = data["pico"]["mix"]
    assert mix.startswith("Pools on purpose studies that differ in ")
    assert "workers not on sick leave, at risk of it (prevention): Taimela 2008" in mix
    assert "6 months: MI-NAV (Aanesen 2023)" in mix and "12 months: Taimela 2008" in mix
    assert data["pico"]["mix_reason"] == "both ask whether an OH contact lowers absence"
    assert mix.endswith("Why: both ask whether an OH contact lowers absence")
    assert data["pico"]["population"] == (
        "workers on sick leave or workers not on sick leave, at risk of it (prevention)"
    )


def test_the_schema_vocabularies_are_the_curated_ones() -> None:
    schema = yaml.safe_load(
        (ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8")
    )
    pico = schema["properties"]["analyses"]["items"]["properties"]["pico"]["properties"]
    assert pico["population"]["items"]["enum"] == list(POPULATION_TYPES)
    assert pico["comparator_type"]["items"]["enum"] == list(COMPARATOR_TYPES)
    assert pico["outcome_definition"]["items"]["enum"] == list(OUTCOME_DEFINITIONS)


# ---------------------------------------------------------------------------
# headline flag and the summary of findings.
# ---------------------------------------------------------------------------
def test_one_and_two_study_analyses_are_not_headlines(tmp_path: Path, effects: Path) -> None:
    one = run(tmp_path, effects, id="one", domain="return_to_work", measure="OR")
    minav = run(tmp_path, effects, id="minav", **SICK_LISTED_MD)
    two = run(
        tmp_path,
        effects,
        id="two",
        domain="sickness_absence",
        measure="IRR",
        allow_mixed=["timepoint", "population"],
    )
    assert (one["k"], one["headline"], one["pico"]["evidence"]) == (1, False, "single-study")
    assert (minav["k"], minav["headline"], minav["pico"]["evidence"]) == (2, False, "single-study")
    assert (two["k"], two["headline"], two["pico"]["evidence"]) == (2, False, "two-study")
    assert "Two studies: reported as two-study evidence, not a pooled headline." in two["notes"]
    assert minav["role_comparison"].startswith(
        "Job roles are compared within trials: MI-NAV (Aanesen 2023) randomised"
    )
    assert two["role_comparison"].startswith("Job role is compared between trials")
    table = summary_of_findings(
        [tmp_path / f"{name}.json" for name in ("one", "minav", "two")],
        index_by(read_csv_rows(CURATED / "outcomes.csv"), "study_id", "outcome_id"),
    )
    assert list(table["evidence"]) == [
        "1 study: not pooled",
        "1 study (2 comparisons): not a pooled headline",
        "2 studies: not a pooled headline",
    ]
    assert list(table["effect"].str.extract(r"(\(.*\))$")[0]) == [
        "(single study, not pooled)",
        "(1 study (2 comparisons): not a pooled headline)",
        "(2 studies: not a pooled headline)",
    ]
    assert table["question"].iloc[1].startswith("population: workers on sick leave; comparator: usual care")


# ---------------------------------------------------------------------------
# Role credibility (ICEMAN-style) from two fixtures.
# ---------------------------------------------------------------------------
def _effects_file(path: Path, rows: list[dict[str, str]]) -> list[Any]:
    columns = names(EFFECT_COLUMNS)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return read_rows(path, tuple(columns)[:9])


def _row(
    study: str, outcome: str, role: str, yi: float, vi: float, domain: str, split: bool
) -> dict[str, str]:
    return {
        "study_id": study,
        "outcome_id": outcome,
        "domain": domain,
        "measure": "MD" if domain == "sickness_absence" else "HR",
        "job_role": role,
        "yi": repr(yi),
        "vi": repr(vi),
        "se": repr(vi**0.5),
        "from": "test fixture",
        "multi_arm": "split_control: test" if split else "",
    }


def _analysis(entry: dict[str, Any], rows: list[Any]) -> tuple[AnalysisSpec, AnalysisResult]:
    spec = AnalysisSpec.from_entry(entry)
    return spec, analyse(spec, rows, ROLES)


def _outcomes(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (r["study_id"], r["outcome_id"]): {
            "higher_is_better": "false" if r["domain"] == "sickness_absence" else "true"
        }
        for r in rows
    }


def test_between_trial_role_subgroups_without_a_hypothesis_have_low_credibility(tmp_path: Path) -> None:
    raw = [
        _row("A1", "sa", "physiotherapist", -5.0, 4.0, "sickness_absence", False),
        _row("A2", "sa", "physiotherapist", -3.0, 4.0, "sickness_absence", False),
        _row("A3", "sa", "non_clinical_staff", -4.0, 4.0, "sickness_absence", False),
        _row("A4", "sa", "non_clinical_staff", -2.0, 4.0, "sickness_absence", False),
    ]
    rows = _effects_file(tmp_path / "between.csv", raw)
    pair = _analysis({"id": "between", "domain": "sickness_absence", "measure": "MD"}, rows)
    assert pair[1].headline is True and pair[1].pico.evidence == "pooled"
    assert pair[1].role_comparison.startswith("Job role is compared between trials")
    table = role_credibility([pair], _outcomes(raw), ROLES)
    check_table(table, ROLE_CREDIBILITY_COLUMNS, "role_credibility.csv")
    (row,) = table.to_dict("records")
    assert row["comparison"] == "between" and row["a_priori"] == "not stated"
    assert float(row["subgroup_p"]) == pytest.approx(pair[1].subgroup_test.p)  # type: ignore[union-attr]
    assert float(row["subgroup_p"]) > 0.05 and "chance explains the difference easily" in row["chance"]
    assert row["consistency"] == "not assessable"
    assert row["studies_per_subgroup"] == "physiotherapist: 2; non_clinical_staff: 2"
    assert row["rating"] == "very low"
    assert "confounded" not in row["claim"] and "different intervention" in row["statement"]
    assert (
        row["statement"].endswith(").")
        and "Credibility that the effect differs by role: very low" in (row["statement"])
    )


def test_within_trial_roles_with_a_confirmed_hypothesis_rate_higher(tmp_path: Path) -> None:
    raw = [
        _row("T1", "sa_pt", "physiotherapist", -20.0, 4.0, "sickness_absence", True),
        _row("T1", "sa_mi", "non_clinical_staff", 0.0, 4.0, "sickness_absence", True),
        _row("T2", "sa_pt", "physiotherapist", -18.0, 4.0, "sickness_absence", True),
        _row("T2", "sa_mi", "non_clinical_staff", 1.0, 4.0, "sickness_absence", True),
        _row("T1", "rtw_pt", "physiotherapist", 0.4, 0.02, "return_to_work", True),
        _row("T1", "rtw_mi", "non_clinical_staff", 0.0, 0.02, "return_to_work", True),
        _row("T2", "rtw_pt", "physiotherapist", 0.3, 0.02, "return_to_work", True),
        _row("T2", "rtw_mi", "non_clinical_staff", 0.05, 0.02, "return_to_work", True),
    ]
    rows = _effects_file(tmp_path / "within.csv", raw)
    hypothesis = {"favoured_role": "physiotherapist", "rationale": "protocol, before unblinding"}
    sa = _analysis(
        {"id": "sa", "domain": "sickness_absence", "measure": "MD", "role_hypothesis": hypothesis}, rows
    )
    rtw = _analysis({"id": "rtw", "domain": "return_to_work", "measure": "HR"}, rows)
    assert sa[1].role_comparison.startswith("Job roles are compared within trials: T1 and T2 randomised")
    table = role_credibility([sa, rtw], _outcomes(raw), ROLES)
    rows_by_id = {r["analysis_id"]: r for r in table.to_dict("records")}
    first = rows_by_id["sa"]
    assert first["comparison"] == "within" and first["a_priori"] == "confirmed"
    assert float(first["subgroup_p"]) < 0.005 and first["consistency"] == "consistent"
    assert first["concerns"] == "" and first["rating"] == "high"
    # the same within-trial data without the a priori hypothesis: one concern less credible
    assert rows_by_id["rtw"]["a_priori"] == "not stated"
    assert rows_by_id["rtw"]["rating"] in ("moderate", "low")
    # a hypothesis favouring the other role is not confirmed
    other = _analysis(
        {
            "id": "sa",
            "domain": "sickness_absence",
            "measure": "MD",
            "role_hypothesis": {"favoured_role": "non_clinical_staff", "rationale": "r"},
        },
        rows,
    )
    assert role_credibility([other, rtw], _outcomes(raw), ROLES)["a_priori"].iloc[0] == "not confirmed"


# ---------------------------------------------------------------------------
# Within-trial role comparisons.
# ---------------------------------------------------------------------------
def test_minav_is_reported_as_a_direct_comparison_without_a_computed_contrast() -> None:
    outcomes = read_csv_rows(CURATED / "outcomes.csv")
    studies = index_by(read_csv_rows(CURATED / "studies.csv"), "study_id")
    table = within_trial_roles(outcomes, studies, ROLES)
    check_table(table, WITHIN_TRIAL_ROLE_COLUMNS, "within_trial_roles.csv")
    (row,) = table.to_dict("records")
    assert (row["study_id"], row["study_label"], row["role_a"], row["role_b"]) == (
        "MINAV_Aanesen2023",
        "MI-NAV (Aanesen 2023)",
        "physiotherapist",
        "non_clinical_staff",
    )
    assert (row["estimate"], row["ci_lower"], row["ci_upper"], row["direction"]) == (
        "",
        "",
        "",
        "no estimate",
    )
    assert (row["n_a"], row["n_b"]) == ("169", "169")
    assert row["outcome"] == "days of sickness absence over the follow-up (6 months)"
    assert (
        "an arm delivered by physiotherapist and an arm delivered by non-clinical staff" in row["statement"]
    )
    assert "-7 [-16, 1] (95% CI, as published)" in row["statement"]
    assert "-7 [-15, 2] (95% CI, as published)" in row["statement"]
    assert "compares the two roles directly" in row["statement"] and "not independent" in row["statement"]
    assert "sickness_absence_days_svai:" in row["source"] and "sickness_absence_days_mi:" in row["source"]


def test_within_trial_roles_from_a_fixture_pairs_every_two_roles_and_skips_same_role_arms() -> None:
    base = {"domain": "return_to_work", "measure": "HR", "timepoint_months": "12", "flags": "shared_control",
            "outcome_definition": "rtw_full", "ci_level": "0.95", "source": "s"}  # fmt: skip
    outcomes = [
        {**base, "study_id": "X", "outcome_id": "a", "job_role": "oh_nurse", "estimate": "1.2",
         "ci_low": "0.9", "ci_high": "1.6", "n_int": "50"},
        {**base, "study_id": "X", "outcome_id": "b", "job_role": "case_manager", "n_int": "48"},
        {**base, "study_id": "X", "outcome_id": "c", "job_role": "oh_nurse", "n_int": "51"},
        {**base, "study_id": "Y", "outcome_id": "a", "job_role": "oh_nurse", "flags": ""},
    ]  # fmt: skip
    table = within_trial_roles(
        outcomes, {"X": {"study_id": "X", "first_author": "Smith J", "year": "2020"}}, ROLES
    )
    assert [(r.role_a, r.role_b) for r in table.itertuples()] == [
        ("oh_nurse", "case_manager"),
        ("case_manager", "oh_nurse"),
    ]
    first = table.iloc[0]
    assert first["study_label"] == "Smith 2020" and first["outcome"] == "full return to work (12 months)"
    assert "1.2 [0.9, 1.6] (95% CI, as published)" in first["statement"]
    assert "no printed estimate" in first["statement"]
    # the trial's printed difference between the arms (flag between_arms), in its printed order
    direct = {**base, "study_id": "X", "outcome_id": "d", "job_role": "case_manager; oh_nurse",
              "flags": "between_arms", "estimate": "1.5", "ci_low": "1.1", "ci_high": "2.0",
              "higher_is_better": "true", "source": "printed"}  # fmt: skip
    ambiguous = within_trial_roles([*outcomes, direct], {}, ROLES)  # two oh_nurse arms: whose difference?
    assert list(ambiguous["estimate"]) == ["", ""]
    table = within_trial_roles([*outcomes[:2], direct], {}, ROLES)
    assert len(table) == 1
    pair = table.iloc[0]
    assert (pair["role_a"], pair["role_b"], pair["estimate"], pair["ci_lower"], pair["ci_upper"]) == (
        "case_manager",
        "oh_nurse",
        "1.5",
        "1.1",
        "2.0",
    )
    assert pair["direction"] == "benefit" and pair["n_a"] == "48" and pair["n_b"] == "50"
    assert "The trial prints the difference between the arms" in pair["statement"]
    assert pair["source"].startswith("d: printed | b: s | a: s")
    harm = within_trial_roles([*outcomes[:2], {**direct, "higher_is_better": "false"}], {}, ROLES)
    assert harm.iloc[0]["direction"] == "harm"
    unclear = within_trial_roles([*outcomes[:2], {**direct, "ci_low": "0.8"}], {}, ROLES)
    assert unclear.iloc[0]["direction"] == "no clear difference"
    empty = within_trial_roles([], {}, ROLES)
    assert list(empty.columns) == names(WITHIN_TRIAL_ROLE_COLUMNS) and empty.empty


def test_equal_role_estimates_favour_no_role(tmp_path: Path) -> None:
    raw = [
        _row("B1", "sa", "physiotherapist", -7.0, 4.0, "sickness_absence", False),
        _row("B2", "sa", "non_clinical_staff", -7.0, 4.0, "sickness_absence", False),
        _row("B3", "rtw", "physiotherapist", 0.3, 0.02, "return_to_work", False),
        _row("B4", "rtw", "non_clinical_staff", 0.0, 0.02, "return_to_work", False),
    ]
    rows = _effects_file(tmp_path / "tie.csv", raw)
    hypothesis = {"favoured_role": "physiotherapist", "rationale": "r"}
    tie = _analysis(
        {"id": "tie", "domain": "sickness_absence", "measure": "MD", "role_hypothesis": hypothesis}, rows
    )
    rtw = _analysis({"id": "rtw", "domain": "return_to_work", "measure": "HR"}, rows)
    table = {
        r["analysis_id"]: r for r in role_credibility([tie, rtw], _outcomes(raw), ROLES).to_dict("records")
    }
    assert table["tie"]["a_priori"] == "not assessable"
    assert table["tie"]["consistency"] == "not assessable"
    assert "the role subgroups' estimates are equal" in table["tie"]["concerns"]
    # the other analysis favours physiotherapists; a tie is no agreement
    assert (
        table["rtw"]["consistency"] == "inconsistent"
        and "do not favour the same role (sickness absence (mean difference))" in table["rtw"]["concerns"]
    )


def test_role_comparison_words_say_between_within_or_both() -> None:
    from ohevidence.meta.analysis import role_comparison_words

    assert role_comparison_words({"physiotherapist": ["A"]}) == ""  # one subgroup: no comparison
    between = role_comparison_words({"physiotherapist": ["A"], "oh_nurse": ["B"]})
    assert between.startswith("Job role is compared between trials") and "Only" not in between
    within = role_comparison_words({"physiotherapist": ["A"], "oh_nurse": ["A"]})
    assert within.startswith("Job roles are compared within trials: A randomised")
    both = role_comparison_words({"physiotherapist": ["A", "B"], "oh_nurse": ["A"]}, {"A": {"acronym": "X"}})
    assert both.startswith("Job role is compared between trials")
    assert both.endswith("Only X compares roles within one trial.")
