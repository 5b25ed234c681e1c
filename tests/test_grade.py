"""GRADE from the numbers (ohevidence.meta.grade): each domain's rule on worked examples.

The examples follow the GRADE handbook (Schünemann et al. 2013, section 5) and Cochrane Handbook
chapter 14: I² high with estimates on both sides of no effect -> inconsistency serious (very serious
with non-overlapping CIs); a CI crossing no effect -> imprecision serious (very serious when it
includes both appreciable benefit and harm); randomised evidence with two serious concerns -> low;
non-randomised evidence starts low.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ohevidence.errors import ConfigError, InputError
from ohevidence.meta.grade import (
    GradeProposal,
    absolute_effect,
    certainty_of,
    grade_analysis,
    imprecision,
    inconsistency,
    indirectness,
    publication_bias,
    read_grade_overrides,
    risk_of_bias,
)
from ohevidence.meta.result import AnalysisResult, PicoBlock, PooledModel, Reported, StudyRow
from ohevidence.meta.spec import AnalysisSpec, GradeSettings
from ohevidence.report.tables import grade_columns
from ohevidence.schema import GRADE_DOMAINS

RATIOS = ("RR", "OR", "HR", "IRR", "ROM")

# the analyses of these tests declare no PICO
PICO = PicoBlock(*["not declared (not checked)"] * 5, mix="", mix_reason="", evidence="pooled")


def settings(**grade: Any) -> GradeSettings:
    """The schema-filled grade block (so these tests also pin the defaults)."""
    return AnalysisSpec.from_entry(
        {"id": "a", "domain": "return_to_work", "measure": "RR", "grade": grade}
    ).grade


def study(
    sid: str, est: float, low: float, high: float, weight: float, n: float | None = 200, **kw: Any
) -> StudyRow:
    ratio = kw.pop("ratio", True)
    yi = math.log(est) if ratio else est
    se = ((math.log(high) - math.log(low)) if ratio else (high - low)) / (2 * 1.96)
    fields: dict[str, Any] = {
        "study_id": sid,
        "outcome_id": kw.pop("outcome_id", "o"),
        "group": "g",
        "job_role": "nurse",
        "yi": yi,
        "vi": se**2,
        "se": se,
        "estimate": est,
        "ci_low": low,
        "ci_high": high,
        "weight": weight,
        "source": "test",
        "published": "",
        "converted": "",
        "multi_arm": "",
        "n_int": None if n is None else n / 2,
        "n_ctl": None if n is None else n / 2,
        "n_analysed": None,
        "adjusted": None,
        "cluster_adjusted": False,
        "as_published": True,
    }
    fields.update(kw)
    return StudyRow(**fields)


def analysis(
    rows: list[StudyRow],
    estimate: tuple[float, float, float],
    *,
    measure: str = "RR",
    i2: float | None = 0.0,
    tau2: float | None = 0.0,
    pi: tuple[float, float] | None = None,
    mixed: dict[str, dict[str, list[str]]] | None = None,
) -> AnalysisResult:
    k = len(rows)
    reported = Reported(estimate[0], estimate[1], estimate[2], pi[0] if pi else None, pi[1] if pi else None)
    overall = PooledModel(
        k=k, method="REML" if k > 1 else "single study", estimate=None, se=None, ci_low=None, ci_high=None,
        stat=None, p=None, pi_low=None, pi_high=None, tau2=tau2, tau2_ci_low=None, tau2_ci_high=None, i2=i2,
        i2_ci_low=None, i2_ci_high=None, h2=None, q=None, q_df=None, q_p=None, reported=reported,
        pooled=k > 1, ci_method="z", pi_method="t" if k > 1 else None, messages=[],
    )  # fmt: skip
    return AnalysisResult(
        analysis_id="a", domain="return_to_work", measure=measure,
        scale="log" if measure in RATIOS else "natural", method="REML", ci_method="z", pi_method="t",
        hksj_floor=False, hksj_small_k=False, group_by="none",
        subgroup_tau2="separate", k=k, single_study=k == 1, headline=k > 2, pico=PICO, role_comparison="",
        overall=overall, groups={}, subgroup_test=None,
        subgroup_test_excluded={}, dependent="one_per_study", three_level=None, mixed=mixed or {},
        not_recorded={}, studies=rows, excluded=[], notes=[],
    )  # fmt: skip


RCT = [
    {
        "study_id": s,
        "design": "RCT",
        "status": "completed",
        "registry_ids": "",
        "population_type": "sick_listed",
    }
    for s in ("A", "B", "C", "D")
]


def rob(**overall: str) -> list[dict[str, str]]:
    return [{"study_id": sid, "outcome_id": "", "overall": judged} for sid, judged in overall.items()]


# ---------------------------------------------------------------------------
# Risk of bias: the share of the weight at high risk / some concerns.
# ---------------------------------------------------------------------------
TWO = [study("A", 0.8, 0.6, 1.0, 60.0), study("B", 0.7, 0.5, 0.95, 40.0)]


@pytest.mark.parametrize(
    ("judged", "expected"),
    [
        ({"A": "high", "B": "low"}, "very serious"),  # 60% of the weight at high risk
        ({"A": "low", "B": "high"}, "not serious"),  # 40% at high risk: most information from low risk
        ({"A": "some_concerns", "B": "low"}, "serious"),  # 60% some concerns
        ({"A": "low", "B": "some_concerns"}, "not serious"),  # most information from low risk
        ({"A": "low", "B": "low"}, "not serious"),
    ],
)
def test_risk_of_bias_from_the_share_of_the_weight(judged: dict[str, str], expected: str) -> None:
    proposal, rule = risk_of_bias(analysis(TWO, (0.76, 0.62, 0.93)), rob(**judged))
    assert proposal == expected
    assert "50%" in rule


def test_risk_of_bias_without_assessments_is_never_not_serious() -> None:
    proposal, rule = risk_of_bias(analysis(TWO, (0.76, 0.62, 0.93)), [])
    assert proposal == "serious"
    assert rule.startswith("no risk-of-bias assessment recorded for 2 of 2 studies (weight 100%)")
    assert "downgraded until assessed" in rule
    # one study assessed (low), the unassessed 60% still counts against it
    assert risk_of_bias(analysis(TWO, (0.76, 0.62, 0.93)), rob(B="low"))[0] == "serious"
    # an outcome-specific row wins over the study's main result
    rows = [*rob(A="high", B="low"), {"study_id": "A", "outcome_id": "o", "overall": "low"}]
    assert risk_of_bias(analysis(TWO, (0.76, 0.62, 0.93)), rows)[0] == "not serious"


# ---------------------------------------------------------------------------
# Inconsistency.
# ---------------------------------------------------------------------------
def test_inconsistency_high_i2_with_effects_on_both_sides() -> None:
    # overlapping CIs on both sides of 1, I² 80% -> serious
    overlapping = [study("A", 1.3, 0.9, 1.9, 50.0), study("B", 0.8, 0.6, 1.05, 50.0)]
    assert inconsistency(analysis(overlapping, (1.0, 0.7, 1.4), i2=80.0, tau2=0.1))[0] == "serious"
    # the same I² with CIs that do not overlap (1.24-2.90 vs 0.33-0.90, Lambeek vs Noordik) -> very serious
    disjoint = [study("A", 1.9, 1.24, 2.9, 50.0), study("B", 0.55, 0.33, 0.9, 50.0)]
    proposal, rule = inconsistency(analysis(disjoint, (1.0, 0.5, 2.0), i2=80.0, tau2=0.4))
    assert proposal == "very serious"
    assert "I² = 80%" in rule and "both sides" in rule and "do not overlap" in rule
    # I² 60% on both sides -> serious; on one side -> not serious (a difference in size, not direction)
    assert inconsistency(analysis(overlapping, (1.0, 0.7, 1.4), i2=60.0, tau2=0.05))[0] == "serious"
    one_side = [study("A", 0.5, 0.3, 0.8, 50.0), study("B", 0.8, 0.6, 0.95, 50.0)]
    assert inconsistency(analysis(one_side, (0.7, 0.5, 0.9), i2=60.0, tau2=0.05))[0] == "not serious"
    # I² >= 75% on one side is still serious
    assert inconsistency(analysis(one_side, (0.7, 0.5, 0.9), i2=76.0, tau2=0.2))[0] == "serious"


def test_inconsistency_prediction_interval_and_single_study() -> None:
    rows = [study(s, 0.7, 0.5, 0.95, 33.3) for s in "ABC"]
    # CI excludes 1, PI crosses it, τ² > 0 -> serious
    crossing = analysis(rows, (0.7, 0.55, 0.9), i2=30.0, tau2=0.05, pi=(0.3, 1.6))
    assert inconsistency(crossing)[0] == "serious"
    # τ² = 0: a PI that crosses 1 only because of the t quantile on k - 2 df is not inconsistency
    assert inconsistency(replace(crossing, overall=replace(crossing.overall, tau2=0.0)))[0] == "not serious"
    single = analysis([study("A", 0.7, 0.5, 0.95, 100.0)], (0.7, 0.5, 0.95), i2=None, tau2=None)
    proposal, rule = inconsistency(single)
    assert proposal == "not serious" and rule.startswith("not applicable: a single study")


# ---------------------------------------------------------------------------
# Indirectness.
# ---------------------------------------------------------------------------
def test_indirectness_from_the_mixes_the_analysis_allows() -> None:
    rows = [study("A", 0.8, 0.6, 1.0, 50.0), study("B", 0.7, 0.5, 0.95, 50.0)]
    studies = {r["study_id"]: r for r in RCT}
    assert indirectness(analysis(rows, (0.75, 0.6, 0.9)), studies, settings())[0] == "not serious"
    population = {"population": {"sick_listed": ["A:o"], "prevention": ["B:o"]}}
    proposal, rule = indirectness(analysis(rows, (0.75, 0.6, 0.9), mixed=population), studies, settings())
    assert (
        proposal == "serious"
        and "population (workers on sick leave; workers not on sick leave, at risk of it (prevention))"
        in rule
    )
    three = {
        **population,
        "comparator_type": {"usual_care": ["A:o"], "active": ["B:o"]},
        "timepoint": {"4": ["A:o"], "6": ["B:o"]},
    }
    assert (
        indirectness(analysis(rows, (0.75, 0.6, 0.9), mixed=three), studies, settings())[0] == "very serious"
    )
    # a declared population the studies do not match (config grade.population)
    declared = settings(population="prevention")
    proposal, rule = indirectness(analysis(rows, (0.75, 0.6, 0.9)), studies, declared)
    assert proposal == "serious" and "100% of the weight" in rule and "'prevention'" in rule


# ---------------------------------------------------------------------------
# Imprecision (GRADE guidelines 6).
# ---------------------------------------------------------------------------
def test_imprecision_ci_against_no_effect_and_appreciable_benefit_or_harm() -> None:
    big = [study(s, 0.7, 0.6, 0.85, 25.0, n=400) for s in "ABCD"]
    # CI 0.60-0.85 excludes 1, 1,600 participants -> not serious (RR: events not in outcomes, OIS unchecked)
    assert imprecision(analysis(big, (0.7, 0.6, 0.85)), {}, settings())[0] == "not serious"
    # CI 0.85-1.05 crosses 1 but not 0.8 / 1.25 -> serious
    proposal, rule = imprecision(analysis(big, (0.95, 0.85, 1.05)), {}, settings())
    assert proposal == "serious" and "crosses no effect" in rule
    # CI 0.6-1.6: appreciable benefit and appreciable harm -> very serious
    assert imprecision(analysis(big, (0.95, 0.6, 1.6)), {}, settings())[0] == "very serious"
    # a configured MID of 1.1: the CI 0.85-1.05 now includes both 0.909 and ... no: it crosses 0.909 only
    proposal, rule = imprecision(analysis(big, (0.95, 0.85, 1.05)), {}, settings(mid=1.1))
    assert proposal == "serious" and "crosses the MID" in rule


def test_imprecision_optimal_information_size_and_single_study() -> None:
    md = [study(s, -8.0, -14.0, -2.0, 50.0, n=150, ratio=False) for s in "AB"]
    # MD excludes 0, but 300 participants < 400 (default OIS for continuous outcomes)
    proposal, rule = imprecision(analysis(md, (-8.0, -12.0, -4.0), measure="MD"), {}, settings())
    assert proposal == "serious" and "300 participants against the default OIS of 400" in rule
    assert (
        imprecision(
            analysis(md, (-8.0, -12.0, -4.0), measure="MD"), {}, settings(optimal_information_size=250)
        )[0]
        == "not serious"
    )
    # MID 5 days: the CI -12 to -4 crosses -5 -> serious
    assert (
        imprecision(
            analysis(md, (-8.0, -12.0, -4.0), measure="MD"), {}, settings(mid=5, optimal_information_size=250)
        )[0]
        == "serious"
    )
    # binary: events from outcomes.csv against 300
    outcomes = {("A", "o"): {"events_int": "200", "events_ctl": "150"}}
    one = analysis([study("A", 0.7, 0.6, 0.8, 100.0, n=1000)], (0.7, 0.6, 0.8), measure="OR")
    proposal, rule = imprecision(one, outcomes, settings())
    assert proposal == "serious" and "350 events" in rule and "a single study" in rule


# ---------------------------------------------------------------------------
# Publication bias.
# ---------------------------------------------------------------------------
def test_publication_bias_from_registered_trials_without_results() -> None:
    meta = analysis([study("A", 0.8, 0.6, 1.0, 100.0)], (0.8, 0.6, 1.0))
    trials = [
        {"study_id": "A", "design": "RCT", "status": "completed", "registry_ids": "ISRCTN1"},
        {
            "study_id": "Z",
            "design": "RCT",
            "status": "completed",
            "registry_ids": "NCT9",
            "n_randomised": "249",
        },
        {"study_id": "Y", "design": "RCT", "status": "ongoing", "registry_ids": "ISRCTN2"},
        {"study_id": "X", "design": "RCT", "status": "discontinued", "registry_ids": "NCT3"},
    ]
    full_text = [
        {"study_id": "Z", "reason": "its report(s) were excluded at full text (conference abstract)"}
    ]
    proposal, rule = publication_bias(meta, trials, full_text, with_results={"A", "X"})
    assert proposal == "strongly suspected" and "Z (NCT9, completed, n = 249)" in rule
    assert "ongoing (results not yet due, not counted): Y" in rule and "k = 1 < 10" in rule
    # screened out at title/abstract: not the same question; discontinued X has results in the review
    screened = [{"study_id": "Z", "reason": "its record(s) were excluded at title/abstract"}]
    proposal, rule = publication_bias(meta, trials, screened, with_results={"A", "X"})
    assert proposal == "undetected" and "found none" in rule
    # a discontinued registered trial with no results anywhere in the review
    assert publication_bias(meta, trials, [], with_results={"A"})[0] == "strongly suspected"


def test_publication_bias_with_ten_studies_uses_egger() -> None:
    # small studies with large effects, large ones with none: Egger's intercept far from 0
    rows = [
        study(f"S{i}", math.exp(-0.1 - 2.0 * se), math.exp(-0.1 - 2.0 * se - 1.96 * se),
              math.exp(-0.1 - 2.0 * se + 1.96 * se), 10.0)
        for i, se in enumerate([0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    ]  # fmt: skip
    rows = [replace(r, yi=r.yi + (0.02 if i % 2 else -0.02)) for i, r in enumerate(rows)]
    proposal, rule = publication_bias(analysis(rows, (0.7, 0.6, 0.8)), [], [], set())
    assert rule.startswith("Egger's test on 10 studies")
    assert proposal == "strongly suspected"
    flat = [replace(r, yi=(0.05 if i % 2 else -0.05)) for i, r in enumerate(rows)]
    assert publication_bias(analysis(flat, (1.0, 0.9, 1.1)), [], [], set())[0] == "undetected"


# ---------------------------------------------------------------------------
# Certainty, overrides, absolute effects.
# ---------------------------------------------------------------------------
def test_certainty_moves_down_from_its_start() -> None:
    assert certainty_of("high", 2) == "low"  # randomised, two serious concerns
    assert certainty_of("high", 0) == "high"
    assert certainty_of("high", 1 + 2) == "very low"  # one serious, one very serious
    assert certainty_of("low", 0) == "low"  # non-randomised starts low
    assert certainty_of("low", 4) == "very low"  # floored


def _grade(meta: AnalysisResult, studies: list[dict[str, str]], **kw: Any) -> GradeProposal:
    return grade_analysis(
        meta,
        studies=studies,
        outcomes=[],
        rob=kw.pop("rob", rob(A="low", B="low")),
        not_included=[],
        with_results=set(),
        settings=kw.pop("settings", settings(optimal_information_size=100)),
        **kw,
    )


def test_randomised_evidence_with_two_serious_concerns_is_low() -> None:
    rows = [study("A", 1.3, 0.9, 1.9, 50.0), study("B", 0.8, 0.6, 1.05, 50.0)]
    # inconsistency serious (I² 80%, both sides) and imprecision serious (CI crosses 1, within 0.8-1.25)
    meta = analysis(rows, (1.0, 0.85, 1.2), i2=80.0, tau2=0.1)
    proposal = _grade(meta, RCT)
    decisions = {d.domain: d.decision for d in proposal.domains}
    assert decisions == {
        "risk_of_bias": "not serious",
        "inconsistency": "serious",
        "indirectness": "not serious",
        "imprecision": "serious",
        "publication_bias": "undetected",
    }
    assert (proposal.start, proposal.certainty, proposal.proposed_certainty) == ("high", "low", "low")
    assert "inconsistency serious (-1), imprecision serious (-1) -> low" in proposal.certainty_rule
    # the same numbers from non-randomised studies start low and end very low
    nrsi = [dict(r, design="non-randomised") for r in RCT]
    proposal = _grade(meta, nrsi)
    assert (proposal.start, proposal.certainty) == ("low", "very low")
    assert "non-randomised evidence (A, B): starts low" in proposal.start_rule


def test_override_with_and_without_a_reason(tmp_path: Path) -> None:
    meta = analysis([study("A", 0.7, 0.6, 0.85, 50.0), study("B", 0.7, 0.6, 0.85, 50.0)], (0.7, 0.62, 0.8))
    header = (
        "analysis_id,"
        + ",".join(f"{d},{d}_reason" for d in GRADE_DOMAINS)
        + ",certainty,reasons,source,assessed_by"
    )
    grade = tmp_path / "grade.csv"
    grade.write_text(
        header + "\na,,,,,serious,the trials enrolled only nurses,,,,,,,Cochrane,AB\n", encoding="utf-8"
    )
    line, row = read_grade_overrides(grade)["a"]
    proposal = _grade(meta, RCT, override=row, override_line=line)
    assert proposal.proposed_certainty == "high"
    indirect = proposal.judgement("indirectness")
    assert (indirect.proposal, indirect.decision, indirect.levels) == ("not serious", "serious", 1)
    assert indirect.override_reason == "the trials enrolled only nurses"
    assert proposal.certainty == "moderate" and proposal.source.startswith("reviewer: AB")
    cells = grade_columns(proposal)
    assert cells["indirectness"] == "serious (a)" and cells["indirectness_proposed"] == "not serious"
    assert cells["grade_footnotes"].startswith(
        "a. Indirectness downgraded 1 level: reviewer's decision serious"
    )
    # the same override without a reason: one error naming file, line and column
    grade.write_text(header + "\na,,,,,serious,,,,,,,,Cochrane,AB\n", encoding="utf-8")
    line, row = read_grade_overrides(grade)["a"]
    with pytest.raises(InputError, match=r"grade\.csv.*line 2.*indirectness.*without a reason"):
        _grade(meta, RCT, override=row, override_line=line, override_file=str(grade))
    # agreeing with the proposal needs no reason; a certainty that disagrees with the domains does
    agree = dict(row, indirectness="not serious")
    assert _grade(meta, RCT, override=agree).certainty == "high"
    with pytest.raises(InputError, match="certainty 'low' differs from 'high'"):
        _grade(meta, RCT, override=dict(agree, certainty="low"))
    assert _grade(meta, RCT, override=dict(agree, certainty="low", reasons="x")).certainty == "low"


def test_absolute_effect_per_1000_from_an_or_and_a_control_risk() -> None:
    meta = analysis([study("A", 1.5, 1.1, 2.0, 100.0)], (1.5, 1.1, 2.0), measure="OR")
    effect = absolute_effect(meta, settings(control_risk=0.2))
    assert effect is not None
    # by hand: risk = OR x CR / (1 - CR + OR x CR) = 0.3 / 1.1 = 0.2727 -> 273 per 1,000 (+73)
    assert effect.intervention == pytest.approx(272.727, abs=1e-3)
    assert effect.intervention_low == pytest.approx(1000 * 0.22 / 1.02, abs=1e-6)  # 215.7
    assert effect.intervention_high == pytest.approx(1000 * 0.4 / 1.2, abs=1e-6)  # 333.3
    assert effect.difference == pytest.approx(72.727, abs=1e-3)
    assert effect.text.startswith("+73 per 1,000 (+16 to +133)")
    # RR: CR x RR; HR: 1 - (1 - CR)^HR
    rr = absolute_effect(replace(meta, measure="RR"), settings(control_risk=0.2))
    assert rr is not None and rr.intervention == pytest.approx(300.0)
    hr = absolute_effect(replace(meta, measure="HR"), settings(control_risk=0.2))
    assert hr is not None and hr.intervention == pytest.approx(1000 * (1 - 0.8**1.5))
    # MD in days from a control mean; nothing without a control risk or mean
    md = analysis([study("A", -8.0, -14.0, -2.0, 100.0, ratio=False)], (-8.0, -14.0, -2.0), measure="MD")
    days = absolute_effect(md, settings(control_mean=30.0, unit="days"))
    assert days is not None and (days.intervention, days.intervention_low) == (22.0, 16.0)
    assert "days" in days.text and absolute_effect(md, settings()) is None


def test_grade_settings_defaults_come_from_the_schema() -> None:
    assert settings() == GradeSettings(None, None, None, None, None, "")
    with pytest.raises(ConfigError):
        settings(control_risk=1.5)
    with pytest.raises(ConfigError):
        settings(population="everyone")


def test_grade_json_round_trips(tmp_path: Path) -> None:
    meta = analysis(TWO, (0.76, 0.62, 0.93), measure="OR")
    proposal = _grade(meta, RCT, settings=settings(control_risk=0.3))
    proposal.write(tmp_path / "a.json")
    assert GradeProposal.read(tmp_path / "a.json") == proposal
    assert [d.domain for d in proposal.domains] == list(GRADE_DOMAINS)
    assert all(d.rule for d in proposal.domains)
