"""The findings page: GRADE wording, small-k statements, escaping, the CLI, and the built report."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jinja2
import pytest
from docutils.core import publish_parts

from ohevidence.cli import main
from ohevidence.findings import (
    DEFAULT_THRESHOLDS,
    analysis_finding,
    effect_size,
    read_analysis,
    thresholds_from_settings,
    wording,
)
from ohevidence.meta.grade import AbsoluteEffect, GradeProposal
from report_synthetic import synthetic_analysis
from snakemake_project import snakemake

ROOT = Path(__file__).resolve().parents[1]
X, Y = "support", "absence"


def _say(certainty: str, measure: str, est: float, low: float, high: float) -> str:
    size = effect_size(measure, est, low, high, DEFAULT_THRESHOLDS)
    return wording(certainty, size, intervention=X, outcome=Y)


@pytest.mark.parametrize(
    ("certainty", "numbers", "expected"),
    [
        ("high", (0.70, 0.60, 0.80), "Support reduces absence."),
        ("high", (0.85, 0.75, 0.95), "Support reduces absence slightly."),
        ("high", (1.40, 1.20, 1.60), "Support increases absence."),
        ("high", (0.98, 0.85, 1.12), "Support results in little or no difference in absence."),
        ("moderate", (0.70, 0.60, 0.80), "Support probably reduces absence."),
        ("moderate", (1.15, 1.05, 1.30), "Support probably increases absence slightly."),
        ("moderate", (1.02, 0.90, 1.15), "Support probably results in little or no difference in absence."),
        ("low", (0.85, 0.75, 0.95), "Support may reduce absence slightly."),
        ("low", (1.50, 1.20, 1.90), "Support may increase absence."),
        ("low", (0.97, 0.80, 1.20), "Support may result in little or no difference in absence."),
        ("low", (0.70, 0.45, 1.10),
         "Support may reduce absence, but the confidence interval includes no effect."),
        ("very low", (0.70, 0.50, 0.90),
         "We are uncertain whether support reduces absence because the certainty of the "
         "evidence is very low."),
        ("very low", (1.60, 1.10, 2.40),
         "We are uncertain whether support increases absence because the certainty of the "
         "evidence is very low."),
        ("very low", (1.01, 0.70, 1.40),
         "We are uncertain whether support makes any difference to absence because the "
         "certainty of the evidence is very low."),
        ("", (0.70, 0.50, 0.90),
         "The certainty of this evidence was not assessed; the estimate suggests that support reduces "
         "absence."),
    ],
)  # fmt: skip
def test_grade_wording_for_each_certainty_and_direction(
    certainty: str, numbers: tuple[float, float, float], expected: str
) -> None:
    assert _say(certainty, "RR", *numbers) == expected


def test_wording_thresholds_per_measure_and_from_settings() -> None:
    # SMD: Cohen's 0.2 / 0.5; MD has no default (no "slightly", no "little or no difference" from size)
    assert _say("low", "SMD", -0.3, -0.5, -0.1).endswith("may reduce absence slightly.")
    assert _say("low", "SMD", 0.1, -0.1, 0.3).endswith("little or no difference in absence.")
    assert _say("low", "MD", -0.5, -2.0, 1.0) == (
        "Support may reduce absence, but the confidence interval includes no effect."
    )
    days = thresholds_from_settings({"MD": {"near_null": 1.0, "small": 5.0}})
    size = effect_size("MD", -0.5, -2.0, 1.0, days)
    assert "little or no difference" in wording("low", size, intervention=X, outcome=Y)
    assert days["RR"] == DEFAULT_THRESHOLDS["RR"]
    assert _say("high", "RR", None, None, None) == (  # type: ignore[arg-type]
        "No estimate is available for the effect of support on absence."
    )


def _grade(analysis_id: str, certainty: str, absolute: AbsoluteEffect | None = None) -> GradeProposal:
    return GradeProposal(
        analysis_id=analysis_id, domain="return_to_work", measure="RR", k=4, start="high",
        start_rule="randomised", domains=[], proposed_certainty=certainty, certainty=certainty,
        certainty_rule="test", certainty_override_reason="", absolute=absolute, source="test",
    )  # fmt: skip


def test_one_and_two_study_analyses_are_not_pooled_headlines(tmp_path: Path) -> None:
    for k, opening in (
        (1, "Evidence from a single study, not pooled: "),
        (2, "Evidence from two studies only"),
    ):
        paths = synthetic_analysis(tmp_path / f"k{k}", k, no_estimate=0)
        meta = read_analysis(paths["json"])
        finding = analysis_finding(meta, _grade(meta.analysis_id, "low"), DEFAULT_THRESHOLDS)
        assert finding.k == k and not finding.headline
        assert finding.statement.startswith(opening)
        assert ("one study" if k == 1 else "two studies") in finding.statement
    paths = synthetic_analysis(tmp_path / "k5", 5, no_estimate=0)
    meta = read_analysis(paths["json"])
    absolute = AbsoluteEffect("control risk 300 per 1,000", 300, 360, 320, 400, 60, 20, 100, "per 1,000",
                              "60 more per 1,000 (20 more to 100 more)")  # fmt: skip
    finding = analysis_finding(meta, _grade(meta.analysis_id, "moderate", absolute), DEFAULT_THRESHOLDS)
    assert finding.participants is None and "participants not reported" in finding.statement
    grade = _grade(meta.analysis_id, "moderate", absolute)
    finding = analysis_finding(
        meta, grade, DEFAULT_THRESHOLDS, participants_text="1234 (n not reported by 1 of 5 studies)"
    )
    assert finding.headline and finding.k == 5 and finding.participants == 1234
    assert finding.statement.startswith("Occupational health support probably ")
    assert "five studies" not in finding.statement and "5 studies" in finding.statement
    assert "1,234 participants, n not reported by 1 of 5 studies" in finding.statement
    assert "absolute effect: 60 more per 1,000 (20 more to 100 more)" in finding.statement
    assert "synthetic_5" not in finding.statement and "synthetic_5" not in finding.label  # words, not ids


def test_pico_words_and_headline_flag_from_the_analysis_json(tmp_path: Path) -> None:
    paths = synthetic_analysis(tmp_path, 4, no_estimate=0)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    data["pico"] = {**data["pico"], "population": "sick-listed workers",
                    "intervention_type": "workplace_intervention", "comparator_type": "usual care",
                    "outcome_definition": "full return to work", "timepoint": "12 months"}  # fmt: skip
    data["headline"] = False
    paths["json"].write_text(json.dumps(data), encoding="utf-8")
    meta = read_analysis(paths["json"])
    finding = analysis_finding(meta, None, DEFAULT_THRESHOLDS)
    assert not finding.headline and finding.certainty == ""
    assert finding.intervention == "workplace intervention (compared with usual care)"
    assert "full return to work (at 12 months) in sick-listed workers" in finding.statement
    assert finding.statement.startswith("The certainty of this evidence was not assessed")


HOSTILE = '<script>alert("x")</script> {{ 7+7 }} .. raw:: html'


def _fixtures(tmp_path: Path, title: str = "Test review") -> list[str]:
    big = synthetic_analysis(tmp_path / "big", 5, no_estimate=0)
    one = synthetic_analysis(tmp_path / "one", 1, no_estimate=0)
    grade_dir = tmp_path / "grade"
    grade_dir.mkdir()
    _grade("synthetic_5", "low").write(grade_dir / "synthetic_5.json")
    roles = tmp_path / "roles.yaml"
    roles.write_text(
        "roles:\n  - id: oh_nurse\n    label: Occupational health nurse\n    origin: brief\n"
        f"  - id: odd\n    label: '{HOSTILE}'\n    origin: trial_delivery\n",
        encoding="utf-8",
    )
    settings = json.dumps({"review": {"title": title}})
    out = tmp_path / "out"
    return [
        "report", "findings", "--settings", settings, "--meta", str(big["json"]), str(one["json"]),
        "--grade", str(grade_dir / "synthetic_5.json"), "--job-roles", str(roles),
        "--out-html", str(out / "findings.html"), "--fragment-out", str(out / "findings_fragment.html"),
        "--out-json", str(out / "findings.json"),
    ]  # fmt: skip


def test_cli_without_optional_tables_says_what_is_missing(tmp_path: Path) -> None:
    assert main(_fixtures(tmp_path)) == 0
    out = tmp_path / "out"
    page = (out / "findings.html").read_text(encoding="utf-8")
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert [a["k"] for a in document["analyses"]] == [5, 1]
    assert [a["headline"] for a in document["analyses"]] == [True, False]
    assert document["analyses"][0]["certainty"] == "low" and document["analyses"][1]["certainty"] == ""
    assert [r["role"] for r in document["roles"]] == ["Occupational health nurse", HOSTILE]
    assert all("no evidence table available" in r["statement"].lower() for r in document["roles"])
    # the synthetic trials' roles include oh_nurse (one row of the five-study analysis), not the other
    nurse, odd = (r["statement"] for r in document["roles"])
    assert nurse.endswith(
        "Delivered interventions pooled in: Return to work (risk ratio), by job role (1 row)."
    )
    assert odd.endswith("Not among the roles of the pooled trials.")
    assert document["analyses"][0]["role_studies"] == {"physiotherapist": 2, "occupational_therapist": 1,
                                                       "oh_nurse": 1, "case_manager": 1}  # fmt: skip
    assert "review_findings" in document["inputs_missing"] and "role_evidence" in document["inputs_missing"]
    assert "The review findings table (review_findings.csv) was not given." in page
    assert "The evidence and gap map was not given." in page
    assert "<table>" in page and page.startswith("<!DOCTYPE html>")
    assert "1 of 2 analyses rest on one or two studies" in page
    assert "<script" not in page and "&lt;script&gt;" in page


def test_cli_with_contract_tables(tmp_path: Path) -> None:
    args = _fixtures(tmp_path)
    role_evidence = tmp_path / "role_evidence.csv"
    role_evidence.write_text(
        "role_id,role_label,role_origin,professional_group,trials,reviews,domains,certainty,statement\n"
        "oh_nurse,Occupational health nurse,brief,nursing,0,0,,,No randomised evidence found.\n",
        encoding="utf-8",
    )
    reviews = tmp_path / "review_findings.csv"
    reviews.write_text(
        "review_id,label,outcome_domain,outcome,comparison,timepoint,measure,estimate,ci_lower,ci_upper,k,n,"
        "certainty,direction,job_role,evidence_label,source\n"
        "r1,Review 2017,return_to_work,time to return to work,intervention vs usual care,,HR,1.25,0.95,1.66,"
        "3,500,low,no clear difference,,[V],x\n"
        "r2,Review 2015,sickness_absence,days of sickness absence,intervention vs usual care,,,,,,,,,"
        "no estimate,,[S],y\n",
        encoding="utf-8",
    )
    economic = tmp_path / "economic.csv"
    economic.write_text(
        "study,study_id,estimate,source\nSWAP (2020),SWAP_x,GBP 733,evidence.md\n", encoding="utf-8"
    )
    extra = [
        "--role-evidence",
        str(role_evidence),
        "--review-findings",
        str(reviews),
        "--economic",
        str(economic),
    ]
    assert main([*args, *extra]) == 0
    out = tmp_path / "out"
    page = (out / "findings.html").read_text(encoding="utf-8")
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert document["roles"][0]["statement"] == "No randomised evidence found."
    assert document["roles"][1]["statement"] == "Not in the role evidence table."
    assert "Review 2017: time to return to work" in page and "HR 1.25 [0.95, 1.66]" in page
    assert "low certainty (as published)" in page
    assert "Review 2015: days of sickness absence" in page
    assert "certainty not reported in the sources found" in page
    assert "1 review findings have no certainty" in page
    assert "review_findings" not in document["inputs_missing"]
    # the economic table as a real table, without identifiers and citations
    assert "<th>Study</th><th>Estimate</th></tr>" in page and "<td>GBP 733</td>" in page
    assert "Study id" not in page and "evidence.md" not in page
    assert "The workforce strategies table was not given." in page


def test_gap_map_within_trial_and_credibility_tables(tmp_path: Path) -> None:
    args = _fixtures(tmp_path)
    gap = tmp_path / "gap_map.csv"
    gap.write_text(
        "role_id,role_label,role_origin,domain,evidence_type,evidence_id,evidence_label,certainty,direction,"
        "analysis_id\n"
        "oh_nurse,Occupational health nurse,brief,return_to_work,,,,,,\n"
        "oh_nurse,Occupational health nurse,brief,sickness_absence,trial,T1,Trial 1,low,benefit,a1\n"
        "oh_nurse,Occupational health nurse,brief,sickness_absence,review,R1,Review 1,,no estimate,\n",
        encoding="utf-8",
    )
    within = tmp_path / "within.csv"
    within.write_text(
        "study_id,study_label,outcome,role_a,role_b,measure,estimate,ci_lower,ci_upper,n_a,n_b,direction,"
        "statement,source\n"
        "S1,MI-NAV,sick leave days,physiotherapist,non_clinical,MD,0.5,-3,4,169,169,no clear difference,"
        "Physiotherapists and caseworkers: no clear difference in sick leave days (one trial).,x\n",
        encoding="utf-8",
    )
    credibility = tmp_path / "credibility.csv"
    credibility.write_text(
        "analysis_id,claim,rating,statement\nsynthetic_5,physiotherapists do better,very low,Not credible.\n",
        encoding="utf-8",
    )
    extra = [
        "--gap-map",
        str(gap),
        "--within-trial-roles",
        str(within),
        "--role-credibility",
        str(credibility),
    ]
    assert main([*args, *extra]) == 0
    page = (tmp_path / "out" / "findings.html").read_text(encoding="utf-8")
    # one row per role, a column per domain present, counts of evidence (0 = the empty cell)
    assert "<th>Job role</th><th>Return to work</th><th>Sickness absence</th>" in page
    assert "<td>Occupational health nurse</td><td>0</td><td>2</td>" in page
    assert "Physiotherapists and caseworkers: no clear difference in sick leave days (one trial)." in page
    assert "<td>Return to work (risk ratio), by job role</td><td>physiotherapists do better</td>" in page
    assert "synthetic_5" not in page.split("Credibility of role subgroup claims")[1].split("</table>")[0]


def _report_rst(title: str) -> dict[str, dict[str, str]]:
    from ohevidence.escape import REPORT_RST_KEY, report_rst

    return {REPORT_RST_KEY: report_rst({"review": {"title": title, "question": title}})}


def test_hostile_title_stays_inert_through_jinja_and_docutils(tmp_path: Path) -> None:
    """The report's home page: Jinja renders workflow.rst, docutils includes the fragment as raw HTML."""
    assert main(_fixtures(tmp_path, title=HOSTILE)) == 0
    fragment = tmp_path / "out" / "findings_fragment.html"
    rst = (ROOT / "workflow/report/workflow.rst").read_text(encoding="utf-8")
    rst = rst.replace("results/report/findings_fragment.html", str(fragment))
    rendered = (
        jinja2.Environment()
        .from_string(rst)
        .render(snakemake=type("S", (), {"config": {"mode": "offline", **_report_rst(HOSTILE)}}))
    )
    body = publish_parts(rendered, writer="html")["html_body"]
    assert '<div class="ohe-findings" id="findings">' in body
    assert "<script" not in body and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert "{{ 7+7 }}" in body and "14" not in body.replace("{{ 7+7 }}", "")
    assert "raw:: html" in body  # the directive's text shown, not run


def _screenshot_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "report_screenshot", ROOT / "scripts" / "report_screenshot.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_built_report_opens_on_the_findings_in_headless_chromium(finished_copy: Path, tmp_path: Path) -> None:
    """`snakemake --report` on this run's own finished pipeline; Chromium renders its home page."""
    shot = _screenshot_module()
    browser = shot.find_chromium()
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    built = snakemake("--cores", "1", "--report", "results/report.html", cwd=finished_copy)
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    report = finished_copy / "results" / "report.html"
    dom = shot.rendered(shot.dump_dom(report, browser=browser))  # scripts hold the page as a string too
    assert 'id="findings"' in dom and "<h1>Findings</h1>" in dom
    names = shot.headings(dom)
    assert names.index("Findings") < names.index("Answers by question") < names.index("Evidence by job role")
    assert "Limitations" in names and "Forest plots" in names
    png = shot.screenshot(report, tmp_path / "home.png", browser=browser, size="1400,1000")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.non_blank_fraction(png) > 0.02
