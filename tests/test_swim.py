"""Synthesis without meta-analysis by job role (ohevidence report swim), on the invented tables of
tests/data/meta_pipeline. Expected values are hand computations, written out beside each assertion:
the sign test is the two-sided binomial test at p = 0.5 (k of n favouring: p = 2·P(X ≥ k) for k > n/2),
the proportion's CI the exact Clopper–Pearson interval (for n of n: lower = (α/2)^(1/n)).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from ohevidence.cli import main
from ohevidence.meta.swim import (
    BENEFIT,
    HARM,
    MIXED,
    NO_CLEAR,
    combine,
    outcome_direction,
    sign_test,
    size_class,
)
from ohevidence.report.common import read_csv_rows
from ohevidence.report.swim import albatross_points, effect_direction_layout, smd_contour

DATA = Path(__file__).resolve().parent / "data" / "meta_pipeline"


def test_outcome_direction_aligns_to_the_worker_and_reads_the_ci() -> None:
    # lower is better (absence): log IRR -0.5, SE 0.2 -> favours the intervention; 95% CI -0.89..-0.11
    row = outcome_direction(
        {"study_id": "S", "outcome_id": "o", "measure": "IRR", "yi": "-0.5", "vi": "0.04", "domain": "d"},
        {"higher_is_better": "false", "n_int": "40", "n_ctl": "60"},
        {},
    )
    assert (row.direction, row.category, row.n) == (BENEFIT, BENEFIT, 100)
    assert row.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(2.5 / math.sqrt(2)))))  # z = 0.5/0.2
    # higher is better (RTW): HR below 1 is harm; SE 0.3 makes the CI cross the null
    row = outcome_direction(
        {"measure": "HR", "yi": "-0.2", "vi": "0.09"}, {"higher_is_better": "true"}, {"n_randomised": "30"}
    )
    assert (row.direction, row.category, row.n) == (HARM, NO_CLEAR, 30)
    # no CI: the printed estimate still gives a direction (reversed rows re-signed)
    row = outcome_direction(
        {"measure": "MD", "from": "none: no CI"},
        {"higher_is_better": "false", "estimate": "3", "flags": "reversed_direction"},
        {},
    )
    assert row.direction == BENEFIT and row.p_value is None and row.basis.startswith("direction only")


def test_combine_uses_the_seventy_percent_rule() -> None:
    assert combine([BENEFIT, BENEFIT, HARM]) == MIXED  # 2/3 = 67% < 70%
    assert combine([BENEFIT] * 7 + [HARM] * 3) == BENEFIT  # 70%
    assert combine(["no direction", HARM]) == HARM
    assert [size_class(n) for n in (None, 49, 50, 299, 300)] == [
        "unknown",
        "small",
        "medium",
        "medium",
        "large",
    ]


def test_sign_test_matches_hand_computation() -> None:
    p, low, high = sign_test(5, 0)
    assert p == pytest.approx(2 * 0.5**5)  # 0.0625
    assert low == pytest.approx(0.025 ** (1 / 5)) and high == pytest.approx(1.0)
    p, _, _ = sign_test(4, 2)
    assert p == pytest.approx(2 * (15 + 6 + 1) / 64)  # 2·P(X >= 4), X ~ Bin(6, 0.5) = 0.6875
    assert sign_test(0, 0) == (None, None, None)


def test_smd_contour_matches_hand_computation() -> None:
    # d = 0.5, N = 64: z = 0.5·8/2 = 2 -> p = 0.0455, -log10 p = 1.342
    assert smd_contour(0.5, pd.Series([64.0]).to_numpy())[0] == pytest.approx(
        -math.log10(2 * (1 - 0.5 * (1 + math.erf(2 / math.sqrt(2)))))
    )


def test_swim_by_job_role_on_invented_tables(tmp_path: Path) -> None:
    effects = tmp_path / "effects.csv"
    curated = ["--studies", str(DATA / "studies.csv"), "--job-roles", str(DATA / "job_roles.yaml")]
    assert (
        main(["meta", "effects", "--outcomes", str(DATA / "outcomes.csv"), *curated, "--out", str(effects)])
        == 0
    )
    rob = tmp_path / "rob.csv"
    rob.write_text(
        "study_id,outcome_id,variant,d1,d1b,d2,d3,d4,d5,overall,weight,overall_reason,support,source,assessed_by\n"
        "F,,parallel,low,,low,high,low,low,high,,,invented,invented,tester\n"
    )
    out = {name: tmp_path / f"{name}.csv" for name in ("direction", "votes", "items")}
    code = main(
        ["report", "swim", "--effects", str(effects), "--outcomes", str(DATA / "outcomes.csv"), *curated,
         "--rob", str(rob), "--direction-out", str(out["direction"]), "--votes-out", str(out["votes"]),
         "--items-out", str(out["items"]), "--figure-dir", str(tmp_path / "fig"), "--dpi", "40"]
    )  # fmt: skip
    assert code == 0
    table = pd.read_csv(out["direction"], dtype=str, keep_default_na=False)
    # R (a review's pooled estimate) and Z (no outcome row) are not rows; B's two absence rows are one
    assert sorted(table.study_id) == ["A", "B", "C", "D", "E", "F", "G"]
    row = table.set_index("study_id")
    assert row.loc["B", "outcomes"] == "absence; absence_arm2"
    # B: 0.7 (0.5-0.98) is a clear benefit, 0.75 (0.52-1.08) is not: directions agree, categories do not
    assert (row.loc["B", "direction"], row.loc["B", "category"]) == ("benefit", "mixed")
    assert (
        row.loc["C", "job_role"] == "not reported" and row.loc["C", "category"] == "benefit"
    )  # re-signed MD
    assert row.loc["F", "rob_overall"] == "high" and row.loc["D", "rob_overall"] == "not assessed"
    assert row.loc["F", "job_role"] == "physiotherapist; oh_nurse"
    votes = pd.read_csv(out["votes"], keep_default_na=False).set_index(["domain", "job_role"])
    # return to work: D, E, F, G all favour the intervention: 4 of 4, p = 2·0.5^4 = 0.125
    rtw = votes.loc[("return_to_work", "all roles")]
    assert (rtw.favours_intervention, rtw.favours_control, rtw.sign_test_p) == (4, 0, pytest.approx(0.125))
    assert votes.loc[("return_to_work", "oh_nurse")].trials == 2  # E and G
    assert votes.loc[("sickness_absence", "all roles")].sign_test_p == pytest.approx(0.25)  # 3 of 3
    items = pd.read_csv(out["items"], dtype=str)
    assert list(items["item"]) == [str(i) for i in range(1, 10)]
    assert "1 included studies gave no extractable outcome" in items.iloc[8].this_synthesis  # Z
    layout_rows, domains, cells = effect_direction_layout(table.assign(n=""), {"oh_nurse": "OH nurse"})
    assert domains == ["return_to_work", "sickness_absence"]
    assert [text for kind, text in layout_rows if kind == "role"][-1] == "not reported"  # listed last
    assert "OH nurse" in [text for kind, text in layout_rows if kind == "role"]
    # the arrow is the point estimate's direction (every row here favours the intervention, B too,
    # whose CIs disagree); the CI excluding the null is a separate mark, not a different arrow
    assert len(cells) == len(table) and {c.symbol for c in cells} == {"▲"}
    clear = {(r.study_id, r.domain) for r in table.itertuples() if r.category in ("benefit", "harm")}
    assert {(c.study_id, c.domain) for c in cells if c.significant} == clear
    assert ("B", "sickness_absence") not in clear and ("C", "sickness_absence") in clear
    figures = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert figures == [f"{n}.{e}" for n in ("albatross", "effect_direction") for e in ("pdf", "png", "svg")]


def test_albatross_points_need_p_n_and_direction(tmp_path: Path) -> None:
    rows = read_csv_rows(DATA / "outcomes.csv")
    first = outcome_direction(
        {"study_id": "A", "outcome_id": "x", "measure": "MD", "yi": "1", "vi": "0.25"}, rows[0], {}
    )
    no_n = outcome_direction({"measure": "MD", "yi": "1", "vi": "0.25"}, {"higher_is_better": "true"}, {})
    points = albatross_points([first, no_n])
    assert len(points) == 1 and points[0].n == 100
    # A is lower-is-better, so MD +1 favours control: plotted left, at -log10(p), z = 2
    assert points[0].x == pytest.approx(math.log10(2 * (1 - 0.5 * (1 + math.erf(2 / math.sqrt(2))))))


def _split_control_trials(tmp_path: Path) -> tuple[Path, Path]:
    """An MI-NAV-like set: trial M has two arms (two roles) sharing one control of 171, printed as
    MD -7 [-16, 1] and -7 [-15, 2] (days of sickness absence, lower is better); four two-arm trials
    P, Q, R, S also favour the intervention. Five trials, six comparisons."""
    curated = DATA.parents[2] / "data" / "curated" / "outcomes.csv"
    header = curated.read_text(encoding="utf-8").splitlines()[0]  # with the arms' job_role column
    columns = header.split(",")

    def row(**cells: str) -> str:
        base = dict(domain="sickness_absence", timepoint_months="6", measure="MD", higher_is_better="false",
                    ci_level="0.95", source="invented", extracted_by="tester")  # fmt: skip
        base.update(cells)
        return ",".join(base.get(c, "") for c in columns)

    lines = [
        header,
        row(study_id="M", outcome_id="arm_pt", n_int="169", n_ctl="171", estimate="-7", ci_low="-16",
            ci_high="1", flags="shared_control", job_role="physiotherapist"),
        row(study_id="M", outcome_id="arm_nurse", n_int="169", n_ctl="171", estimate="-7", ci_low="-15",
            ci_high="2", flags="shared_control", job_role="oh_nurse"),
        *(row(study_id=s, outcome_id="days", n_int="40", n_ctl="40", estimate="-3", ci_low="-8", ci_high="2")
          for s in "PQRS"),
    ]  # fmt: skip
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    studies = tmp_path / "studies.csv"
    studies.write_text(
        "study_id,design,job_role\nM,RCT,physiotherapist; oh_nurse\n"
        + "".join(f"{s},RCT,physiotherapist\n" for s in "PQRS"),
        encoding="utf-8",
    )
    return outcomes, studies


def test_a_trial_with_a_split_control_is_one_vote(tmp_path: Path) -> None:
    from ohevidence.meta.effects_table import build_effects
    from ohevidence.meta.swim import direction_table, trial_directions, vote_counting

    outcomes, studies = _split_control_trials(tmp_path)
    effects = build_effects(outcomes, studies, DATA / "job_roles.yaml").to_dict("records")
    outcome_rows, study_rows = read_csv_rows(outcomes), read_csv_rows(studies)
    directions = trial_directions(effects, outcome_rows, study_rows)
    table = direction_table(directions, study_rows)
    assert len(table) == 6  # M once under each role that delivered an arm
    votes = vote_counting(table).set_index(["domain", "job_role"])
    overall = votes.loc[("sickness_absence", "all roles")]
    # 5 trials (not 6 comparisons) all favour the intervention: p = 2 * 0.5^5 = 0.0625 (not 0.03125)
    assert (overall.trials, overall.comparisons) == (5, 6)
    assert (overall.favours_intervention, overall.favours_control) == (5, 0)
    assert overall.sign_test_p == pytest.approx(0.0625)
    assert "M: 2 comparisons sharing one control, counted once" in overall.note
    assert votes.loc[("sickness_absence", "oh_nurse")].trials == 1
    assert votes.loc[("sickness_absence", "physiotherapist")].trials == 5  # P, Q, R, S and M's arm
    # albatross: each arm's n is its own 169 plus its share of the control, 171 = 86 + 85 (not 340)
    points = {p.label: p.n for p in albatross_points(directions)}
    assert (points["M:arm_pt"], points["M:arm_nurse"]) == (169 + 86, 169 + 85)
    assert set(table[table.study_id == "M"]["n"]) == {"255", "254"}


def test_arms_that_disagree_make_a_mixed_trial() -> None:
    from ohevidence.meta.swim import vote_counting

    table = pd.DataFrame(
        [
            dict(job_role="physiotherapist", study_id="M", study="M", domain="d", direction=BENEFIT,
                 category=BENEFIT),
            dict(job_role="oh_nurse", study_id="M", study="M", domain="d", direction=HARM, category=NO_CLEAR),
            dict(job_role="oh_nurse", study_id="P", study="P", domain="d", direction=BENEFIT,
                 category=NO_CLEAR),
        ]
    )  # fmt: skip
    overall = vote_counting(table).set_index("job_role").loc["all roles"]
    assert (overall.trials, overall.favours_intervention, overall.favours_control, overall.mixed) == (
        2,
        1,
        0,
        1,
    )
    assert overall.clear_benefit == 0  # M's arms do not agree on a clear benefit either
    assert overall.sign_test_p == pytest.approx(1.0)  # 1 of 1
    assert "arms disagree" in overall.note


def test_effect_direction_arrow_is_the_point_estimate() -> None:
    # a point estimate favouring the intervention whose CI crosses the null is ▲ without the mark,
    # as the vote count reads it; a clear benefit is ▲ with the mark; a harm is ▼
    table = pd.DataFrame(
        [
            dict(job_role="r", study_id="A", study="A", domain="cost", direction=BENEFIT, category=NO_CLEAR,
                 size="small", rob_overall="not assessed"),
            dict(job_role="r", study_id="B", study="B", domain="cost", direction=BENEFIT, category=BENEFIT,
                 size="small", rob_overall="not assessed"),
            dict(job_role="r", study_id="C", study="C", domain="cost", direction=HARM, category=NO_CLEAR,
                 size="small", rob_overall="not assessed"),
            dict(job_role="r", study_id="D", study="D", domain="cost", direction=MIXED, category=MIXED,
                 size="small", rob_overall="not assessed"),
        ]
    )  # fmt: skip
    _, _, cells = effect_direction_layout(table, {})
    assert [(c.study_id, c.symbol, c.significant) for c in cells] == [
        ("A", "▲", False),
        ("B", "▲", True),
        ("C", "▼", False),
        ("D", "◄►", False),
    ]
