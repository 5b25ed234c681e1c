"""Sensitivity analyses and meta-regression of a configured analysis (ohevidence meta sensitivity).

Reference values from R metafor 3.8-1 (Debian r-cran-metafor 3.8-1-1), on the invented tables of
tests/data/meta_pipeline (rtw_or pools D, E, F; yi/vi as effects.csv derives them):

    library(metafor)
    yi <- c(0.47000362924573563, 0.5108256237659907, 0.22314355131420976)   # D, E, F
    vi <- c(0.14483333333333334, 0.10333333333333335, 0.08944444444444445)
    dl <- rma(yi, vi, method = "DL"); leave1out(dl)                 # LOO below
    rma(yi, vi, method = "FE")                                      # 0.38482 [0.01284, 0.75680]
    rma(yi[1:2], vi[1:2], method = "DL")                            # without F (flagged)
    ai <- c(60, 40, 45); n1i <- c(120, 80, 90); ci <- c(50, 30, 40); n2i <- c(130, 80, 90)
    rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, measure = "OR") # 0.40433 [0.07819, 0.73048]
    rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i)               # 0.40141 [0.07753, 0.72529]
    y <- c(0.1, 0.3, -0.2, 0.5, 0.65); v <- c(0.04, 0.05, 0.03, 0.06, 0.05)
    role <- factor(c(rep("occupational_physician", 3), rep("physiotherapist", 2)))
    rma(y, v, mods = ~ role, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ohevidence.cli import main
from ohevidence.errors import ConfigError
from ohevidence.meta.result import (
    AnalysisResult,
    MainModel,
    PicoBlock,
    PooledModel,
    Reported,
    SensitivityResult,
    StudyRow,
)
from ohevidence.meta.roles import JobRole
from ohevidence.meta.sensitivity import (
    StudyInput,
    cluster_status,
    moderator_level,
    regression_on,
    run_checks,
    sensitivity_report,
)
from ohevidence.meta.spec import AnalysisSpec
from ohevidence.report.sensitivity import bubble_data, forest_rows

DATA = Path(__file__).resolve().parent / "data" / "meta_pipeline"
LOG = math.log

# the analyses of these tests declare no PICO
PICO = PicoBlock(*["not declared (not checked)"] * 5, mix="", mix_reason="", evidence="pooled")


def _analysis(measure: str, studies: list[StudyRow] = (), overall: tuple[float, float, float] | None = None):  # type: ignore[assignment]
    """A minimal results/meta/<id>.json: its measure, pooled rows and overall estimate [CI]."""
    model = None
    if overall is not None:
        estimate, low, high = overall
        model = PooledModel(
            k=len(studies), method="FE", estimate=estimate, se=None, ci_low=low, ci_high=high, stat=None,
            p=None, pi_low=None, pi_high=None, tau2=None, tau2_ci_low=None, tau2_ci_high=None, i2=None,
            i2_ci_low=None, i2_ci_high=None, h2=None, q=None, q_df=None, q_p=None,
            reported=Reported(estimate, low, high, None, None), pooled=True, ci_method="z", pi_method="t",
            messages=[],
        )  # fmt: skip
    return AnalysisResult(
        analysis_id="x", domain="d", measure=measure, scale="natural", method="FE", ci_method="z",
        pi_method="t", hksj_floor=True, hksj_small_k=False, group_by="none", subgroup_tau2="separate",
        k=len(studies), single_study=len(studies) == 1, headline=len(studies) > 2, pico=PICO,
        role_comparison="", overall=model, groups={}, subgroup_test=None,
        subgroup_test_excluded={}, dependent="one_per_study", three_level=None, mixed={}, not_recorded={},
        studies=list(studies), excluded=[], notes=[],
    )  # fmt: skip


def _pooled_row(study_id: str, outcome_id: str, yi: float, vi: float, source: str) -> StudyRow:
    return StudyRow(
        study_id=study_id, outcome_id=outcome_id, group="", job_role="", yi=yi, vi=vi, se=math.sqrt(vi),
        estimate=yi, ci_low=yi, ci_high=yi, weight=100.0, source=source, published="", converted="",
        multi_arm="", n_int=None, n_ctl=None, n_analysed=None, adjusted=None, cluster_adjusted=False,
        as_published=False,
    )  # fmt: skip


# metafor leave1out(rma(yi, vi, method = "DL")): estimate, ci.lb, ci.ub per omitted study
LOO = {
    "D:rtw": (0.356621400492125, -0.0725359063166507, 0.785778707300901),
    "E:rtw": (0.317391766981688, -0.1434942070022626, 0.778277740965639),
    "F:rtw": (0.493827882595703, 0.0125112718195975, 0.975144493371809),
}


def _cli(*args: str) -> int:
    return main([str(a) for a in args])


@pytest.fixture
def rtw_sensitivity(tmp_path: Path) -> tuple[dict, pd.DataFrame]:
    """rtw_or of the invented tables run end to end (effects, analysis, sensitivity); rob.csv: F high."""
    config = yaml.safe_load((DATA / "config.yaml").read_text())
    for analysis in config["analyses"]:
        if analysis["id"] == "rtw_or":
            analysis["mods"] = ["professional_group"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "rob.csv").write_text(
        "study_id,outcome_id,variant,d1,d1b,d2,d3,d4,d5,overall,weight,overall_reason,support,source,assessed_by\n"
        "F,,parallel,low,,low,high,low,low,high,,,invented,invented,tester\n"
        "D,,parallel,low,,low,low,low,low,low,,,invented,invented,tester\n"
    )
    effects = tmp_path / "effects.csv"
    curated = ["--studies", DATA / "studies.csv", "--job-roles", DATA / "job_roles.yaml"]
    assert _cli("meta", "effects", "--outcomes", DATA / "outcomes.csv", *curated, "--out", effects) == 0
    meta = tmp_path / "rtw_or.json"
    assert (
        _cli(
            "meta", "run", "rtw_or", "--config", tmp_path / "config.yaml", "--effects", effects, *curated,
            "--json", meta, "--csv", tmp_path / "rtw_or.csv",
        )
        == 0
    )  # fmt: skip
    out = tmp_path / "sens"
    code = _cli(
        "meta", "sensitivity", "rtw_or", "--config", tmp_path / "config.yaml", "--meta", meta,
        "--effects", effects, "--outcomes", DATA / "outcomes.csv", *curated, "--rob", tmp_path / "rob.csv",
        "--json", f"{out}.json", "--csv", f"{out}.csv",
    )  # fmt: skip
    assert code == 0
    return json.loads(Path(f"{out}.json").read_text()), pd.read_csv(
        f"{out}.csv", dtype=str, keep_default_na=False
    )


def _variant(report: dict, label: str) -> dict:
    matches = [v for v in report["variants"] if v["label"] == label]
    assert len(matches) == 1, [v["label"] for v in report["variants"]]
    return matches[0]


def test_leave_one_out_matches_metafor(rtw_sensitivity: tuple[dict, pd.DataFrame]) -> None:
    report, _ = rtw_sensitivity
    loo = [v for v in report["variants"] if v["check"] == "leave_one_out"]
    assert [v["omitted"] for v in loo] == [["D:rtw"], ["E:rtw"], ["F:rtw"]]
    for variant in loo:
        est, low, high = LOO[variant["omitted"][0]]
        assert variant["k"] == 2
        assert variant["yi"] == pytest.approx(est, rel=1e-9)
        assert variant["ci_low"] == pytest.approx(math.exp(low), rel=1e-9)
        assert variant["ci_high"] == pytest.approx(math.exp(high), rel=1e-9)


def test_fixed_vs_random_and_mh_peto_match_metafor(rtw_sensitivity: tuple[dict, pd.DataFrame]) -> None:
    report, _ = rtw_sensitivity
    fixed = _variant(report, "fixed effect (inverse variance)")
    assert fixed["yi"] == pytest.approx(0.3848198494627215, rel=1e-9) and fixed["method"] == "FE"
    assert fixed["ci_low"] == pytest.approx(math.exp(0.0128373829983076), rel=1e-9)
    mh = _variant(report, "Mantel-Haenszel OR (fixed effect)")
    assert mh["yi"] == pytest.approx(0.4043345257378784, rel=1e-9)
    assert (mh["ci_low"], mh["ci_high"]) == pytest.approx(
        (math.exp(0.0781885823710982), math.exp(0.7304804691046586))
    )
    assert "crude 2x2 counts" in mh["note"]
    peto = _variant(report, "Peto OR (fixed effect)")
    assert peto["yi"] == pytest.approx(0.4014122965618493, rel=1e-9)
    assert peto["ci_high"] == pytest.approx(math.exp(0.7252927657537821), rel=1e-9)


def test_exclude_flagged_rob_and_cluster_drop_the_right_rows(
    rtw_sensitivity: tuple[dict, pd.DataFrame],
) -> None:
    report, table = rtw_sensitivity
    flagged = _variant(report, "excluding flagged rows")
    assert flagged["omitted"] == ["F:rtw"] and flagged["k"] == 2  # F: needs_fulltext_check
    assert flagged["yi"] == pytest.approx(LOO["F:rtw"][0], rel=1e-9)  # metafor: rma(yi[1:2], vi[1:2], "DL")
    assert _variant(report, "excluding high risk of bias")["omitted"] == ["F:rtw"]  # rob.csv overall high
    # D: design effect applied (ICC known); E: cluster trial, no ICC, no design effect
    assert _variant(report, "excluding cluster trials not adjusted for clustering")["omitted"] == ["E:rtw"]
    everything = _variant(report, "excluding all cluster trials")
    assert everything["omitted"] == ["D:rtw", "E:rtw"] and everything["k"] == 1 and not everything["pooled"]
    # meta-regression on professional group: 3 levels in 3 studies cannot be estimated, and it says so
    assert report["meta_regression"] is None
    assert any("3 studies cannot support 3 coefficients" in n for n in report["notes"])
    assert table.check.iloc[0] == "main" and set(table.check) >= {
        "leave_one_out", "fixed_vs_random", "exclude_flagged", "exclude_high_rob", "cluster_adjustment",
        "mh_peto", "note",
    }  # fmt: skip
    rows = forest_rows(SensitivityResult.from_json(report))
    assert rows[0].kind == "main" and [r.label for r in rows if r.kind == "header"][:2] == [
        "Leave one out",
        "Fixed vs random effects",
    ]


def test_without_rob_file_the_rob_check_says_not_assessed() -> None:
    rows = [StudyInput("a", "a", "", 0.1, 0.04), StudyInput("b", "b", "", 0.3, 0.05)]
    variants, notes = run_checks(rows, "MD", ["exclude_high_rob", "mh_peto"], rob_recorded=False)
    assert variants == []
    assert any("rob.csv absent" in n for n in notes) and any("MD is not a 2x2 measure" in n for n in notes)


def test_meta_regression_on_job_role_matches_metafor() -> None:
    roles = ["occupational_physician"] * 3 + ["physiotherapist"] * 2 + [""]
    y = [0.1, 0.3, -0.2, 0.5, 0.65, 2.0]
    v = [0.04, 0.05, 0.03, 0.06, 0.05, 0.01]
    rows = [StudyInput(f"s{i}:o", f"s{i}", "o", y[i], v[i], job_role=roles[i]) for i in range(6)]
    result, notes = regression_on(rows, ["job_role"], {}, method="REML")
    assert result is not None
    assert any("s5:o" in n and "not reported" in n for n in notes)  # the row without a role is left out
    assert result.reference == {"job_role": "occupational_physician"} and result.k == 5
    coef = {c["term"]: c for c in result.coefficients}
    assert coef["intercept"]["estimate"] == pytest.approx(0.033621540034734, rel=1e-6)
    slope = coef["job_role=physiotherapist"]
    assert slope["estimate"] == pytest.approx(0.546998084867793, rel=1e-6)
    assert slope["se"] == pytest.approx(0.223576334004015, rel=1e-6)
    assert slope["p"] == pytest.approx(0.0144217539257042, rel=1e-6)
    assert result.tau2 == pytest.approx(0.0117304324584724, rel=1e-5)
    assert result.qm == pytest.approx(5.9857689644277912, rel=1e-6)
    report = SensitivityResult(
        analysis_id="x", domain="d", measure="MD", scale="natural", method="REML", ci_method="z", checks=[],
        sensitivity_exclude=[], mods=["job_role"], main=MainModel("main", None), studies=[], variants=[],
        meta_regression=result, notes=[],
    )  # fmt: skip
    levels, bubbles, fitted = bubble_data(report)
    assert levels == ["occupational_physician", "physiotherapist"] and len(bubbles) == 5
    assert fitted["physiotherapist"] == pytest.approx(0.033621540034734 + 0.546998084867793, rel=1e-6)


def test_moderator_levels_and_cluster_status() -> None:
    groups = {
        "physiotherapist": JobRole("Physiotherapist", "allied health"),
        "oh_nurse": JobRole("OH nurse", "nursing"),
    }
    assert moderator_level("physiotherapist; oh_nurse", "professional_group", groups) == "multidisciplinary"
    assert moderator_level("", "job_role", groups) == "not reported"
    assert cluster_status("RCT", "anything") is None
    assert cluster_status(
        "cluster RCT", "reported HR 0.5; the trial's own estimate, which accounts for clustering"
    )
    assert cluster_status("cluster RCT", "cluster trial: no design effect applied") is False
    # an explicit cluster_adjusted column (the other flag of issue 15) wins over the text
    assert cluster_status("cluster RCT", "accounts for clustering", "false") is False


def test_unknown_sensitivity_check_is_a_config_error() -> None:
    """The config schema refuses a check it does not know, before any analysis is built."""
    entry = {"id": "x", "domain": "d", "measure": "MD", "sensitivity": ["jackknife"]}
    with pytest.raises(ConfigError, match="'jackknife' is not one of"):
        AnalysisSpec.from_entry(entry)


def test_sensitivity_plots_are_written(tmp_path: Path, rtw_sensitivity: tuple[dict, pd.DataFrame]) -> None:
    report, _ = rtw_sensitivity
    source = tmp_path / "s.json"
    source.write_text(json.dumps(report))
    out = tmp_path / "fig"
    assert _cli("report", "sensitivity", "--sensitivity", source, "--out-dir", out, "--dpi", "50") == 0
    assert sorted(p.name for p in out.iterdir()) == ["sensitivity.pdf", "sensitivity.png", "sensitivity.svg"]
    shutil.rmtree(out)


def test_refit_that_differs_from_the_analysis_is_reported() -> None:
    rows = [StudyInput("a", "a", "", 0.1, 0.04), StudyInput("b", "b", "", 0.3, 0.05)]
    fe = 0.1 * (1 / 0.04) / (1 / 0.04 + 1 / 0.05) + 0.3 * (1 / 0.05) / (1 / 0.04 + 1 / 0.05)  # 0.18889
    half = 1.959963984540054 / math.sqrt(1 / 0.04 + 1 / 0.05)
    meta = _analysis("MD", overall=(fe, fe - half, fe + half))
    analysis = AnalysisSpec.from_entry(
        {"id": "x", "domain": "d", "measure": "MD", "method": "FE", "sensitivity": []}
    )
    assert sensitivity_report(analysis, meta, rows, {}, rob_recorded=False).notes == []
    # e.g. a CI option the refit does not apply
    meta = _analysis("MD", overall=(fe, fe - half, fe + 2 * half))
    notes = sensitivity_report(analysis, meta, rows, {}, rob_recorded=False).notes
    assert len(notes) == 1 and notes[0].startswith("main: the refitted model differs")


def _row(study: str, outcome: str, yi: float, vi: float) -> StudyInput:
    return StudyInput(label=f"{study}:{outcome}", study_id=study, outcome_id=outcome, yi=yi, vi=vi)


def test_leave_one_out_leaves_a_multi_arm_study_out_whole() -> None:
    """Both split comparisons of a multi-arm trial leave together (leaving one arm in is not 'without it')."""
    rows = [_row("M", "arm_a", -0.5, 0.04), _row("M", "arm_b", -0.4, 0.05), _row("T", "x", 0.1, 0.03)]
    rows.append(_row("U", "x", -0.2, 0.06))
    variants, _ = run_checks(rows, "MD", ["leave_one_out"], method="DL", ci_method="z")
    assert [v.label for v in variants] == ["without M", "without T", "without U"]
    assert variants[0].omitted == ["M:arm_a", "M:arm_b"]
    assert variants[0].model is not None and variants[0].model.k == 2


def test_sensitivity_refits_apply_the_analysis_hksj_guardrails() -> None:
    """With ci: hksj, a k = 2 refit uses z (HKSJ refused below 3 studies), as the main analysis does."""
    rows = [_row("A", "x", 0.2, 0.04), _row("B", "x", 0.9, 0.05), _row("C", "x", 0.3, 0.03)]
    variants, _ = run_checks(rows, "MD", ["leave_one_out"], method="DL", ci_method="hksj", options={})
    loose = variants[0].model
    guarded, _ = run_checks(
        rows,
        "MD",
        ["leave_one_out"],
        method="DL",
        ci_method="hksj",
        options={"hksj_floor": True, "hksj_small_k": False},
    )
    model = guarded[0].model
    assert loose is not None and model is not None and model.k == 2
    # z-based: estimate +- 1.96 se; HKSJ with 1 df would be ~6.5 times as wide (t_0.975,1 = 12.71)
    assert model.ci_high - model.ci_low == pytest.approx(2 * 1.959964 * model.se, rel=1e-4)
    assert (loose.ci_high - loose.ci_low) > 3 * (model.ci_high - model.ci_low)


def test_mh_counts_of_a_split_control_are_split_too() -> None:
    """A shared control split between two arms (effects.csv n_ctl 50 of 100) gives MH/Peto half its events."""
    from ohevidence.meta.sensitivity import study_inputs

    meta = _analysis("OR", [_pooled_row("M", "arm_a", 0.1, 0.1, "reported")])
    effects = [{"study_id": "M", "outcome_id": "arm_a", "n_ctl": "50", "n_int": "60"}]
    outcomes = [
        {
            "study_id": "M",
            "outcome_id": "arm_a",
            "events_int": "30",
            "n_int": "60",
            "events_ctl": "40",
            "n_ctl": "100",
        }
    ]
    (row,) = study_inputs(meta, effects, outcomes, [])
    assert row.counts == (30.0, 60.0, 20.0, 50.0)


def test_crude_vs_adjusted_keeps_not_stated_apart() -> None:
    """adjusted is three-valued: a row whose adjustment is not stated is neither crude nor adjusted."""
    from dataclasses import replace

    from ohevidence.meta.sensitivity import study_inputs

    rows = [
        replace(_row("A", "x", 0.2, 0.04), adjusted=True),
        replace(_row("B", "x", 0.5, 0.05), adjusted=True),
        replace(_row("C", "x", 0.3, 0.03), adjusted=False),
        replace(_row("D", "x", 0.1, 0.06), adjusted=False),
        _row("E", "x", 0.9, 0.05),  # not stated
    ]
    variants, notes = run_checks(rows, "MD", ["crude_vs_adjusted"], method="DL", ci_method="z")
    by_label = {v.label: v for v in variants}
    assert by_label["adjusted estimates only"].omitted == ["C:x", "D:x", "E:x"]
    assert by_label["crude (unadjusted) estimates only"].omitted == ["A:x", "B:x", "E:x"]
    crude = by_label["crude (unadjusted) estimates only"].model
    assert crude is not None and crude.k == 2  # C and D, not E
    assert any("adjustment not stated for E:x" in n and "neither crude nor adjusted" in n for n in notes)
    # read from the tables: an empty cell is not stated, false is crude, and an effect computed
    # from arm data is crude whatever the printed estimate was
    meta = _analysis(
        "OR",
        [
            _pooled_row(s, "x", 0.1, 0.1, f)
            for s, f in (("P", "reported OR"), ("Q", "reported OR"), ("R", "2x2 counts 3/10 vs 2/10"))
        ],
    )
    outcomes = [
        {"study_id": "P", "outcome_id": "x", "adjusted": ""},
        {"study_id": "Q", "outcome_id": "x", "adjusted": "false"},
        {"study_id": "R", "outcome_id": "x", "adjusted": "true"},
    ]
    read = study_inputs(meta, [], outcomes, [])
    assert [r.adjusted for r in read] == [None, False, False]
