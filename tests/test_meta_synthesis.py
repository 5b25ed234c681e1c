"""Issue 15 items 1-4 and 7: how trials enter analyses, small-k guardrails, comparability, labels.

Reference values and where they come from:

* MI-NAV split control (item 1): the issue's expected MD -8.50 [-14.31, -2.68], and by hand: SE of
  each arm's published CI = 17/(2*1.959964) = 4.3368; SD = SE/sqrt(1/169 + 1/171) = 39.983; with the
  control split as evenly as integers allow (171 = 86 + 85, issue 22) SE' = 39.983*sqrt(1/169 + 1/86)
  = 5.2960 (SVAI) and 39.983*sqrt(1/169 + 1/85) = 5.3166 (MI). Taimela -11 (re-signed),
  SE = 19/3.919928 = 4.8470. tau2 = 0 (Q = 0.43 < df), so the pooled MD is the inverse-variance mean
  (-7/5.2960^2 - 7/5.3166^2 - 11/4.8470^2)/(1/5.2960^2 + 1/5.3166^2 + 1/4.8470^2) = -8.499, SE 2.967,
  CI -8.499 +- 5.815 (the halved control, 85.5 each, gave the same to 3 decimals).
* Prediction intervals (item 2) and the k = 2 Q-profile interval (item 3): metafor 3.8-1 on dat.bcg
  (the counts are written out below), R code::

      library(metafor)
      dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
      res <- rma(yi, vi, data = dat, method = "REML")
      predict(res, pi.type = "riley")      # -2.00837605069  0.57931135396  (t, k - 2 df)
      predict(res)                         # -1.86669234661  0.437627649877 (z, metafor default)
      res2 <- rma(yi, vi, data = dat, method = "REML", test = "knha")
      predict(res2, pi.type = "riley")     # -2.00905778449  0.579993087756
      res3 <- rma(yi, vi, data = dat[1:3, ], method = "DL")
      predict(res3, pi.type = "riley")     # -5.22957782922  2.56910953074
      res6 <- rma(yi, vi, data = dat[c(4, 12), ], method = "REML")
      confint(res6, control = list(tau2.max = 1e5))  # tau2 1.50500335182 [0.0783015213978, 1813.50778244]
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ohevidence import effects as fx
from ohevidence.errors import ConfigError, InputError
from ohevidence.meta.analysis import run_analysis
from ohevidence.meta.effects_table import (
    build_effects,
    combine_groups,
    split_control_n,
    split_control_scale,
    write_effects,
)
from ohevidence.meta.grade import grade_analysis, read_grade_overrides
from ohevidence.meta.model import pool, q_profile_ci
from ohevidence.meta.result import AnalysisResult
from ohevidence.meta.roles import read_job_roles
from ohevidence.meta.spec import AnalysisSpec
from ohevidence.report.common import index_by, read_csv_rows
from ohevidence.report.forest import build_forest_data, draw_forest
from ohevidence.report.tables import summary_of_findings
from ohevidence.schema import GRADE_DOMAINS

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "data" / "curated"
Z95 = 1.959963984540054

# dat.bcg (metafor; Colditz et al. 1994): tpos, tneg, cpos, cneg per trial.
BCG = [
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]


def bcg() -> tuple[list[float], list[float]]:
    effects = [fx.two_by_two("RR", a, a + b, c, c + d) for a, b, c, d in BCG]
    return [e.yi for e in effects], [e.vi for e in effects]


# ---------------------------------------------------------------------------
# Helpers: the shipped curated tables through effects, analyses and the report.
# ---------------------------------------------------------------------------
def shipped_effects(tmp_path: Path, multi_arm: str = "split_control") -> Path:
    out = tmp_path / f"effects_{multi_arm}.csv"
    write_effects(
        build_effects(
            CURATED / "outcomes.csv", CURATED / "studies.csv", CURATED / "job_roles.yaml", multi_arm=multi_arm
        ),
        out,
    )
    return out


def effect_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(r["study_id"], r["outcome_id"]): r for r in csv.DictReader(handle)}


def analyse(tmp_path: Path, effects: Path, **analysis: Any) -> dict[str, Any]:
    analysis.setdefault("id", "test")
    out = tmp_path / str(analysis["id"])
    run_analysis(
        AnalysisSpec.from_entry(analysis),
        effects,
        CURATED / "studies.csv",
        CURATED / "job_roles.yaml",
        f"{out}.json",
        f"{out}.csv",
    )
    return json.loads(Path(f"{out}.json").read_text())


def forest_text(meta: dict[str, Any]) -> str:
    data = build_forest_data(
        AnalysisResult.from_json(meta),
        index_by(read_csv_rows(CURATED / "studies.csv"), "study_id"),
        index_by(read_csv_rows(CURATED / "outcomes.csv"), "study_id", "outcome_id"),
        read_job_roles(CURATED / "job_roles.yaml"),
    )
    _, layout = draw_forest(data)
    return "\n".join(layout.texts)


# ---------------------------------------------------------------------------
# Item 1: multi-arm trials.
# ---------------------------------------------------------------------------
def test_minav_split_control_gives_handbook_numbers(tmp_path: Path) -> None:
    data = analyse(
        tmp_path,
        shipped_effects(tmp_path),
        domain="sickness_absence",
        measure="MD",
        allow_mixed=["timepoint", "population"],
    )
    ids = [(s["study_id"], s["outcome_id"]) for s in data["studies"]]
    assert ("MINAV_Aanesen2023", "sickness_absence_days_svai") in ids
    assert ("MINAV_Aanesen2023", "sickness_absence_days_mi") in ids  # the MI arm is no longer dropped
    reported = data["overall"]["reported"]
    assert reported["estimate"] == pytest.approx(-8.499, abs=5e-4)
    assert reported["ci_low"] == pytest.approx(-14.31, abs=5e-3)
    assert reported["ci_high"] == pytest.approx(-2.68, abs=5e-3)
    roles = {s["outcome_id"]: s["group"] for s in data["studies"] if s["study_id"] == "MINAV_Aanesen2023"}
    assert roles == {
        "sickness_absence_days_svai": "physiotherapist",
        "sickness_absence_days_mi": "non_clinical_staff",
    }


def test_split_control_rescales_a_published_ci_from_the_backed_out_sd(tmp_path: Path) -> None:
    rows = effect_rows(shipped_effects(tmp_path))
    svai = rows[("MINAV_Aanesen2023", "sickness_absence_days_svai")]
    se = 17 / (2 * Z95)
    sd = se / math.sqrt(1 / 169 + 1 / 171)
    mi = rows[("MINAV_Aanesen2023", "sickness_absence_days_mi")]
    # the control (171) split as evenly as integers allow: 86 for the first arm, 85 for the second
    assert (svai["n_ctl"], mi["n_ctl"]) == ("86", "85")
    assert float(svai["se"]) == pytest.approx(sd * math.sqrt(1 / 169 + 1 / 86), rel=1e-12)
    assert float(svai["se"]) == pytest.approx(5.2960, abs=1e-4)
    assert float(mi["se"]) == pytest.approx(5.3166, abs=1e-4)
    assert split_control_scale(169, 171, 86) == pytest.approx((1 / 169 + 1 / 86) / (1 / 169 + 1 / 171))
    assert [split_control_n(171, 2, i) for i in (0, 1)] == [86, 85]
    assert [split_control_n(100, 3, i) for i in (0, 1, 2)] == [34, 33, 33]
    assert split_control_n(85.5, 2, 1) == 42.75  # not a whole number: divided exactly
    assert svai["multi_arm"].startswith("split_control") and "171 -> 86" in svai["multi_arm"]
    assert "CI widened for the split shared control" in svai["converted"]


def _three_arm_tables(tmp_path: Path, measure: str) -> tuple[Path, Path, Path]:
    """A synthetic three-arm trial (T, two arms, one control) and its studies/roles files."""
    columns = (CURATED / "outcomes.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    base = {c: "" for c in columns}
    base.update(study_id="T", domain="return_to_work", timepoint_months="6", measure=measure)
    base.update(higher_is_better="true", flags="shared_control", source="test", extracted_by="test")
    arms = [
        dict(outcome_id="arm_a", job_role="physiotherapist", n_int="50", n_ctl="100"),
        dict(outcome_id="arm_b", job_role="oh_nurse", n_int="60", n_ctl="100"),
    ]
    if measure == "OR":
        arms[0].update(events_int="30", events_ctl="40")
        arms[1].update(events_int="33", events_ctl="40")
    else:
        arms[0].update(mean_int="10", sd_int="4", mean_ctl="12", sd_ctl="5")
        arms[1].update(mean_int="11", sd_int="3", mean_ctl="12", sd_ctl="5")
    outcomes = tmp_path / "outcomes.csv"
    with outcomes.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for arm in arms:
            writer.writerow({**base, **arm})
    studies = tmp_path / "studies.csv"
    studies.write_text("study_id,design,job_role\nT,RCT,physiotherapist; oh_nurse\n", encoding="utf-8")
    roles = tmp_path / "job_roles.yaml"
    shutil.copy(CURATED / "job_roles.yaml", roles)
    return outcomes, studies, roles


def test_split_control_divides_control_events_and_n(tmp_path: Path) -> None:
    effects = build_effects(*_three_arm_tables(tmp_path, "OR"))
    arm_a = effects[effects.outcome_id == "arm_a"].iloc[0]
    # by hand: control 40/100 split in two = 20/50; log OR = log((30/20)/(20/30)), var = 1/30+1/20+1/20+1/30
    assert float(arm_a.yi) == pytest.approx(math.log((30 / 20) / (20 / 30)))
    assert float(arm_a.vi) == pytest.approx(1 / 30 + 1 / 20 + 1 / 20 + 1 / 30)
    assert arm_a.job_role == "physiotherapist" and arm_a.n_ctl == "50"
    assert effects[effects.outcome_id == "arm_b"].iloc[0].job_role == "oh_nurse"


def test_split_control_keeps_means_and_sds_and_halves_n(tmp_path: Path) -> None:
    effects = build_effects(*_three_arm_tables(tmp_path, "MD"))
    arm_b = effects[effects.outcome_id == "arm_b"].iloc[0]
    assert float(arm_b.yi) == pytest.approx(11 - 12)
    assert float(arm_b.vi) == pytest.approx(3**2 / 60 + 5**2 / 50)  # n_ctl 100 / 2


def test_combine_groups_equals_the_pooled_sample() -> None:
    rng = np.random.default_rng(15)
    a, b = rng.normal(5, 2, 17), rng.normal(7, 3, 29)
    n, mean, sd = combine_groups(len(a), a.mean(), a.std(ddof=1), len(b), b.mean(), b.std(ddof=1))
    both = np.concatenate([a, b])
    assert n == 46 and mean == pytest.approx(both.mean()) and sd == pytest.approx(both.std(ddof=1))


def test_combine_mode_pools_arms_into_one_comparison(tmp_path: Path) -> None:
    effects = build_effects(*_three_arm_tables(tmp_path, "OR"), multi_arm="combine")
    assert list(effects.outcome_id) == ["arm_a+arm_b"]
    row = effects.iloc[0]
    # by hand: 63/110 vs 40/100 -> log OR = log((63*60)/(47*40)), var = 1/63+1/47+1/40+1/60
    assert float(row.yi) == pytest.approx(math.log((63 * 60) / (47 * 40)))
    assert float(row.vi) == pytest.approx(1 / 63 + 1 / 47 + 1 / 40 + 1 / 60)
    assert row.job_role == "physiotherapist; oh_nurse" and row.multi_arm.startswith("combine")
    minav = effect_rows(shipped_effects(tmp_path, "combine"))
    combined = minav[("MINAV_Aanesen2023", "sickness_absence_days_svai+sickness_absence_days_mi")]
    sd = (17 / (2 * Z95)) / math.sqrt(1 / 169 + 1 / 171)  # both arms print CIs 17 wide
    assert float(combined["yi"]) == pytest.approx(-7)
    assert float(combined["se"]) == pytest.approx(sd * math.sqrt(1 / 338 + 1 / 171))


def test_shared_control_without_arm_sizes_is_an_input_error(tmp_path: Path) -> None:
    outcomes, studies, roles = _three_arm_tables(tmp_path, "OR")
    text = outcomes.read_text(encoding="utf-8").replace(",50,100,", ",50,,", 1)
    outcomes.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"outcomes\.csv, line 2"):
        build_effects(outcomes, studies, roles)


# ---------------------------------------------------------------------------
# Item 2: prediction intervals.
# ---------------------------------------------------------------------------
def test_prediction_interval_t_k_minus_2_matches_metafor_riley() -> None:
    y, v = bcg()
    t = pool(y, v, method="REML", pi="t")
    assert (t.pi_low, t.pi_high) == pytest.approx((-2.00837605069, 0.57931135396), abs=1e-6)
    z = pool(y, v, method="REML", pi="z")
    assert (z.pi_low, z.pi_high) == pytest.approx((-1.86669234661, 0.437627649877), abs=1e-6)
    hk = pool(y, v, method="REML", ci_method="hksj", pi="t")
    assert (hk.pi_low, hk.pi_high) == pytest.approx((-2.00905778449, 0.579993087756), abs=1e-6)
    three = pool(y[:3], v[:3], method="DL", pi="t")
    assert (three.pi_low, three.pi_high) == pytest.approx((-5.22957782922, 2.56910953074), abs=1e-6)


def test_no_t_prediction_interval_below_three_studies() -> None:
    y, v = bcg()
    two = pool(y[:2], v[:2], method="REML", pi="t")
    assert two.pi_low is None and two.pi_high is None
    assert any("no prediction interval with k = 2" in m for m in two.messages)
    assert pool(y[:2], v[:2], method="REML", pi="z").pi_low is not None  # metafor's z-based one


def test_shipped_analyses_default_to_t_prediction_interval(tmp_path: Path) -> None:
    data = analyse(
        tmp_path,
        shipped_effects(tmp_path),
        domain="sickness_absence",
        measure="IRR",
        allow_mixed=["timepoint", "population"],
    )
    assert data["k"] == 2 and data["pi_method"] == "t"
    assert data["overall"]["pi_low"] is None  # was written for k = 2 before


# ---------------------------------------------------------------------------
# Item 3: small-k guardrails.
# ---------------------------------------------------------------------------
def test_random_effects_k2_says_tau2_not_estimable_with_q_profile() -> None:
    y, v = bcg()
    pair = pool([y[3], y[11]], [v[3], v[11]], method="REML")
    assert pair.tau2 == pytest.approx(1.50500335182, rel=1e-6)
    # metafor solves the Q-profile with uniroot's default tolerance (~1e-4 relative); ours to full precision
    assert (pair.tau2_ci_low, pair.tau2_ci_high) == pytest.approx((0.0783015213978, 1813.50778244), rel=5e-5)
    note = next(m for m in pair.messages if "k = 2" in m and "τ²" in m)
    assert "not estimable" in note and "Q-profile 95% CI [0.0783, 1814]" in note
    assert q_profile_ci(np.array([y[3], y[11]]), np.array([v[3], v[11]]), np.ones((2, 1))) is not None


def test_hksj_refused_below_three_studies_unless_asked() -> None:
    y, v = [math.log(1.9), math.log(1.03)], [0.0467, 0.0559]
    refused = pool(y, v, method="REML", ci_method="hksj", hksj_small_k=False)
    assert refused.ci_method == "z" and any("HKSJ refused with k = 2" in m for m in refused.messages)
    assert refused.ci_low == pytest.approx(pool(y, v, method="REML").ci_low)
    asked = pool(y, v, method="REML", ci_method="hksj", hksj_small_k=True, hksj_floor=True)
    assert asked.ci_method == "hksj" and asked.ci_high - asked.ci_low > refused.ci_high - refused.ci_low


def test_hksj_k2_subtotals_in_the_shipped_professional_group_analysis(tmp_path: Path) -> None:
    data = analyse(
        tmp_path,
        shipped_effects(tmp_path),
        domain="return_to_work",
        measure="HR",
        ci="hksj",
        group_by="professional_group",
        allow_mixed=["outcome_definition", "comparator_type"],
    )
    medical = data["groups"]["medical"]
    assert medical["k"] == 2 and medical["ci_method"] == "z"
    # before: t with 1 df gave [0.00106, 829]
    assert medical["reported"]["ci_low"] > 0.3 and medical["reported"]["ci_high"] < 3
    assert any("medical: HKSJ refused with k = 2" in n for n in data["notes"])
    assert data["hksj_floor"] is True


def test_hksj_floor_is_on_by_default_in_analyses(tmp_path: Path) -> None:
    effects = tmp_path / "effects.csv"
    lines = ["study_id,outcome_id,domain,measure,job_role,yi,vi,se,from"]
    for i, yi in enumerate([0.20, 0.21, 0.19]):  # nearly identical: q < 1, the floor matters
        lines.append(f"S{i},o,return_to_work,MD,physiotherapist,{yi},0.04,0.2,test")
    effects.write_text("\n".join(lines) + "\n", encoding="utf-8")
    floored = analyse(tmp_path, effects, id="f", domain="return_to_work", measure="MD", ci="hksj")
    plain = analyse(
        tmp_path, effects, id="p", domain="return_to_work", measure="MD", ci="hksj", hksj_floor=False
    )
    assert floored["overall"]["se"] > plain["overall"]["se"]
    assert floored["overall"]["se"] == pytest.approx(pool([0.2, 0.21, 0.19], [0.04] * 3, method="REML").se)


def test_subgroup_test_excludes_not_reported_and_combined_roles(tmp_path: Path) -> None:
    effects = shipped_effects(tmp_path)
    common = dict(
        domain="return_to_work", measure="HR", allow_mixed=["outcome_definition", "comparator_type"]
    )
    data = analyse(tmp_path, effects, id="a", **common)
    assert data["subgroup_test"]["groups"] == ["multidisciplinary_team", "occupational_physician"]
    assert data["subgroup_test"]["df"] == 1
    assert set(data["subgroup_test_excluded"]) == {"nurse; occupational_physician", "not reported"}
    everything = analyse(tmp_path, effects, id="b", subgroup_test_excludes=[], **common)
    assert everything["subgroup_test"]["df"] == 3  # the old test over all four labels


def test_subgroup_test_reports_when_every_subgroup_has_k1(tmp_path: Path) -> None:
    data = analyse(
        tmp_path,
        shipped_effects(tmp_path),
        domain="sickness_absence",
        measure="IRR",
        allow_mixed=["timepoint", "population"],
    )
    assert data["subgroup_test"]["all_k1"] is True
    assert any("every subgroup in the test has k = 1" in n for n in data["notes"])
    assert "every subgroup k = 1: not informative" in forest_text(data)


def test_single_study_analysis_reported_as_single_study(tmp_path: Path) -> None:
    data = analyse(tmp_path, shipped_effects(tmp_path), domain="return_to_work", measure="OR")
    assert data["k"] == 1 and data["single_study"] is True and not data["overall"]["pooled"]
    text = forest_text(data)
    assert "Not pooled (single study)" in text and "Total (95% CI)" not in text


# ---------------------------------------------------------------------------
# Item 4: comparability.
# ---------------------------------------------------------------------------
def test_pooling_mixed_outcome_definitions_needs_allow_mixed(tmp_path: Path) -> None:
    effects = shipped_effects(tmp_path)
    with pytest.raises(
        ConfigError, match=r"differ in outcome_definition \(rtw_full_sustained: .*allow_mixed"
    ):
        analyse(tmp_path, effects, domain="return_to_work", measure="HR", allow_mixed=["comparator_type"])
    data = analyse(
        tmp_path,
        effects,
        domain="return_to_work",
        measure="HR",
        allow_mixed=["outcome_definition", "comparator_type"],
    )
    assert set(data["mixed"]["outcome_definition"]) == {"rtw_full_sustained", "rtw_partial", "rtw_sustained"}
    assert data["mixed"]["comparator_type"]["active"] == ["Skagseth2020:time_to_sustainable_rtw"]
    text = " ".join(forest_text(data).split())
    # in words, with study names: the config key and the ids stay in the JSON (issue 22)
    assert "Pooled across different outcome definitions: full return to work sustained" in text
    assert "allow_mixed" not in text and "outcome_definition" not in text and "Lambeek2010" not in text


def test_pooling_across_time_points_and_populations_needs_allow_mixed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"differ in timepoint .* and in population"):
        analyse(tmp_path, shipped_effects(tmp_path), domain="sickness_absence", measure="MD")


# ---------------------------------------------------------------------------
# Item 7: labels.
# ---------------------------------------------------------------------------
def test_noordik_effect_note_says_cluster_adjusted(tmp_path: Path) -> None:
    noordik = effect_rows(shipped_effects(tmp_path))[("Noordik2013", "time_to_full_rtw")]
    assert "accounts for clustering" in noordik["from"] and "no design effect" not in noordik["from"]
    assert noordik["cluster_adjusted"] == "true"


def test_arends_adjusted_is_not_cluster_adjusted(tmp_path: Path) -> None:
    arends = effect_rows(shipped_effects(tmp_path))[("Arends2014", "time_to_recurrent_sa")]
    assert arends["adjusted"] == "true" and arends["cluster_adjusted"] == ""
    assert "accounts for clustering" not in arends["from"].split("does not say")[0]
    assert "does not say the estimate accounts for clustering" in arends["from"]


def test_no_review_estimate_reaches_the_trial_forest(tmp_path: Path) -> None:
    """Issue 25: Vogel 2017 is a review (reviews.csv, results/reviews/), not a study: its pooled HR, which
    includes Lambeek 2010, is neither a forest row nor pooled next to Lambeek's own estimate."""
    data = analyse(
        tmp_path,
        shipped_effects(tmp_path),
        domain="return_to_work",
        measure="HR",
        allow_mixed=["outcome_definition", "comparator_type"],
    )
    text = forest_text(data)
    assert "1.90 [1.20, 2.80]" in text  # Lambeek 2010 itself
    assert "Vogel" not in text and "1.25 [0.95, 1.66]" not in text and "review estimate" not in text


def test_forest_prints_published_ci_and_footnotes_conversions(tmp_path: Path) -> None:
    effects = shipped_effects(tmp_path)
    hr = analyse(
        tmp_path,
        effects,
        id="hr",
        domain="return_to_work",
        measure="HR",
        allow_mixed=["outcome_definition", "comparator_type"],
    )
    text = forest_text(hr)
    assert "1.90 [1.20, 2.80]" in text and "1.90 [1.24, 2.90]" not in text  # row and its one-study subtotal
    irr = analyse(
        tmp_path,
        effects,
        id="irr",
        domain="sickness_absence",
        measure="IRR",
        allow_mixed=["timepoint", "population"],
    )
    text = " ".join(forest_text(irr).split())
    assert "(b) 95% CI computed from the published 80% CI (0.913 [0.653, 1.276])." in text
    assert "WAVE (Wynne-Jones) ᵇ,ᶜ" in text  # the row carries its footnotes' letters


def test_swap_crude_arm_means_footnoted(tmp_path: Path) -> None:
    irr = analyse(
        tmp_path,
        shipped_effects(tmp_path),
        domain="sickness_absence",
        measure="IRR",
        allow_mixed=["timepoint", "population"],
    )
    text = " ".join(forest_text(irr).split())
    assert (
        "(a) Arm data shown are crude (descriptive); the effect is the trial's own "
        "adjusted and cluster-adjusted estimate" in text
    )
    assert "SWAP (Wynne-Jones 2018) ᵃ" in text


def sickness_absence(tmp_path: Path, measure: str, analysis_id: str) -> dict[str, Any]:
    """The shipped sickness-absence analysis of ``measure`` (mixed time points and populations declared)."""
    return analyse(
        tmp_path,
        shipped_effects(tmp_path),
        id=analysis_id,
        domain="sickness_absence",
        measure=measure,
        allow_mixed=["timepoint", "population"],
    )


def shipped_outcomes() -> dict[Any, Mapping[str, str]]:
    """The shipped outcomes.csv rows by (study_id, outcome_id)."""
    return index_by(read_csv_rows(CURATED / "outcomes.csv"), "study_id", "outcome_id")


def test_summary_of_findings_uses_analysed_n_and_grade_columns(tmp_path: Path) -> None:
    irr = sickness_absence(tmp_path, "IRR", "irr")
    outcomes = shipped_outcomes()
    row = summary_of_findings([tmp_path / "irr.json"], outcomes).iloc[0]
    assert row.participants == str(158 + 180 + 125)  # WAVE: 125 analysed, not 66 + 64 randomised
    assert "analysed n for WAVE_WynneJones" in row.participants_basis
    assert row.risk_of_bias == row.imprecision == row.certainty == "not assessed"
    assert "every subgroup in the test has k = 1" in row.cautions
    grade = tmp_path / "grade.csv"
    header = "analysis_id," + ",".join(f"{d},{d}_reason" for d in GRADE_DOMAINS)
    grade.write_text(
        header + ",certainty,reasons,source,assessed_by\n"
        "irr,not serious,assessed: low risk (test),,,,,,,,,,test,test judgement,tester\n",
        encoding="utf-8",
    )
    line, override = read_grade_overrides(grade)["irr"]
    proposal = grade_analysis(
        AnalysisResult.from_json(irr),
        studies=read_csv_rows(CURATED / "studies.csv"),
        outcomes=read_csv_rows(CURATED / "outcomes.csv"),
        rob=[],
        not_included=[],
        with_results=set(),
        settings=AnalysisSpec.from_entry({"id": "irr", "domain": "x", "measure": "IRR"}).grade,
        override=override,
        override_line=line,
    )
    judged = summary_of_findings([tmp_path / "irr.json"], outcomes, {"irr": proposal}).iloc[0]
    # the reviewer's risk of bias (not serious, with its reason) replaces the proposal (serious: unassessed)
    assert (judged.risk_of_bias, judged.risk_of_bias_proposed) == ("not serious (a)", "serious")
    assert "a. Risk of bias not downgraded: reviewer's decision not serious (proposed serious)" in (
        judged.grade_footnotes
    )
    assert judged.certainty.startswith(proposal.certainty) and proposal.certainty != "not assessed"
    assert irr["analysis_id"] == "irr"
    grade.write_text(grade.read_text().replace("not serious,assessed", "dreadful,assessed"), encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2.*risk_of_bias"):
        read_grade_overrides(grade)


def test_summary_of_findings_counts_studies_not_comparisons(tmp_path: Path) -> None:
    """MI-NAV's two split comparisons are one study: k reads '2 (3 comparisons)', not 3 studies."""
    sickness_absence(tmp_path, "MD", "md")
    outcomes = shipped_outcomes()
    row = summary_of_findings([tmp_path / "md.json"], outcomes).iloc[0]
    assert row.k == "2 (3 comparisons)"
    assert row.participants.endswith("(n not reported by 1 of 3 comparisons)")


# ---------------------------------------------------------------------------
# Issue 22: one unit of analysis, labels that are true.
# ---------------------------------------------------------------------------
def test_forest_and_summary_of_findings_give_the_same_whole_participant_count(tmp_path: Path) -> None:
    """MI-NAV's control (171) split 86 + 85: 169 + 86 + 169 + 85 = 509, in both outputs, never 340.5."""
    md = sickness_absence(tmp_path, "MD", "md")
    outcomes = shipped_outcomes()
    row = summary_of_findings([tmp_path / "md.json"], outcomes).iloc[0]
    assert row.participants == "509 (n not reported by 1 of 3 comparisons)"
    text = " ".join(forest_text(md).split())
    assert "Participants: 509 (a shared control counted once; n not reported for Taimela 2008)." in text
    arms = {s["outcome_id"]: (s["n_int"], s["n_ctl"]) for s in md["studies"] if s["multi_arm"]}
    assert arms == {"sickness_absence_days_svai": (169, 86), "sickness_absence_days_mi": (169, 85)}
    irr = sickness_absence(tmp_path, "IRR", "irr")
    sof = summary_of_findings([tmp_path / "irr.json"], outcomes).iloc[0]
    assert sof.participants == "463"
    assert "Participants: 463 (analysed n for WAVE (Wynne-Jones))." in " ".join(forest_text(irr).split())


def test_retake_crude_or_is_footnoted_and_not_labelled_adjusted(tmp_path: Path) -> None:
    """RETAKE is plotted from its counts: the JSON says crude (not adjusted, not as published) and the
    forest's lettered footnote says what was used and why the printed adjusted OR was not
    (shared/evidence/trials_verified.md section 1: 165/257 vs 117/197; "adjusted odds ratio 1.12
    [95%CI 0.8 to 1.87]")."""
    effects = shipped_effects(tmp_path)
    row = effect_rows(effects)[("RETAKE_Radford2024", "rtw_2h_week")]
    assert row["adjusted"] == "false"  # outcomes.csv says true: of the printed OR, not of the counts
    assert row["converted"].startswith("not the published estimate: crude OR from arm data")
    assert "1.12 [0.8, 1.87] (95% CI) is not used (needs_fulltext_check" in row["converted"]
    data = analyse(tmp_path, effects, id="or", domain="return_to_work", measure="OR")
    (study,) = data["studies"]
    assert study["adjusted"] is False and study["as_published"] is False
    forest = build_forest_data(
        AnalysisResult.from_json(data),
        index_by(read_csv_rows(CURATED / "studies.csv"), "study_id"),
        index_by(read_csv_rows(CURATED / "outcomes.csv"), "study_id", "outcome_id"),
        read_job_roles(CURATED / "job_roles.yaml"),
    )
    assert forest.lettered == [
        (
            "a",
            "Crude odds ratio computed from the published counts (165/257 vs 117/197). The published "
            "adjusted odds ratio 1.12 [0.8, 1.87] is not used: its CI needs checking against the full text.",
        )
    ]
    (plotted,) = forest.all_studies()
    assert plotted.marked_label == "RETAKE (Radford 2024) ᵃ" and not plotted.published
    assert (round(plotted.estimate, 2), round(plotted.ci_low, 2), round(plotted.ci_high, 2)) == (
        1.23,
        0.84,
        1.80,
    )
    text = " ".join(forest_text(data).split())
    assert "unless a lettered footnote says otherwise" in text and "(a) Crude odds ratio" in text
    # the three values of adjusted reach the JSON: MI-NAV's adjusted MD true, Taimela's unstated null
    md = analyse(tmp_path, effects, id="md", domain="sickness_absence", measure="MD",
                 allow_mixed=["timepoint", "population"])  # fmt: skip
    assert {s["study_id"]: s["adjusted"] for s in md["studies"]} == {
        "MINAV_Aanesen2023": True,
        "Taimela2008": None,
    }


def test_forest_footnotes_use_words_not_ids(tmp_path: Path) -> None:
    effects = shipped_effects(tmp_path)
    for measure, domain, mixed in (
        ("HR", "return_to_work", ["outcome_definition", "comparator_type"]),
        ("MD", "sickness_absence", ["timepoint", "population"]),
        ("IRR", "sickness_absence", ["timepoint", "population"]),
        ("OR", "return_to_work", []),
    ):
        data = analyse(tmp_path, effects, id=measure, domain=domain, measure=measure, allow_mixed=mixed)
        forest = build_forest_data(
            AnalysisResult.from_json(data),
            index_by(read_csv_rows(CURATED / "studies.csv"), "study_id"),
            index_by(read_csv_rows(CURATED / "outcomes.csv"), "study_id", "outcome_id"),
            read_job_roles(CURATED / "job_roles.yaml"),
        )
        notes = forest.footnotes + [note for _, note in forest.lettered]
        assert [letter for letter, _ in forest.lettered] == list("abcdefgh"[: len(forest.lettered)])
        for note in notes:  # no snake_case id, no config key, no 'Study:outcome' label
            assert not re.search(r"\b[a-z]+_[a-z_]+\b|[A-Za-z]+\d{4}:", note), note


def test_brief_trials_never_call_a_single_study_pooled(tmp_path: Path) -> None:
    from ohevidence.report.tables import brief_trials

    effects = shipped_effects(tmp_path)
    analyse(tmp_path, effects, id="or", domain="return_to_work", measure="OR")
    analyse(tmp_path, effects, id="irr", domain="sickness_absence", measure="IRR",
            allow_mixed=["timepoint", "population"])  # fmt: skip
    table = brief_trials(
        read_csv_rows(CURATED / "studies.csv"),
        read_csv_rows(effects),
        [tmp_path / "or.json", tmp_path / "irr.json"],
        read_job_roles(CURATED / "job_roles.yaml"),
    ).set_index("study_id")
    assert (
        table.loc["RETAKE_Radford2024", "estimate_status"] == "return to work (OR): single study, not pooled"
    )
    assert table.loc["SWAP_WynneJones2018", "estimate_status"] == (
        "sickness absence (IRR): meta-analysed with 1 other study"
    )
    assert (
        table.loc["WAVE_WynneJones", "estimate_status"] == table.loc["SWAP_WynneJones2018", "estimate_status"]
    )
    # what happened, in words (issue 25 item 6): 'pooled' only with another study
    happened = table["what_happened"]
    assert happened["RETAKE_Radford2024"] == "single study (not pooled)"
    assert happened["SWAP_WynneJones2018"].startswith("pooled in sickness absence, rate ratio")
    assert happened["SWAP_WynneJones2018"].endswith("(2 studies)")
    assert happened["WAVE_WynneJones"] == "discontinued; " + happened["SWAP_WynneJones2018"]
    assert happened["InSTEP_Linaker2021"] == "feasibility study (no effectiveness outcome)"
    assert happened["WORKWELL_Hammond_RCT"] == "completed, results not found"
    assert happened["OPAL_phaseIII"] == "ongoing"
