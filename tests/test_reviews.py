"""Review of reviews (issue 25): reviews included as reviews, curated review tables traced to the
evidence, corrected covered area, and the guard that keeps review estimates out of trial pooling."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from ohevidence.errors import ConfigError
from ohevidence.extract.included import included_reports, included_reviews, included_studies
from ohevidence.reviews.build import (
    ReviewPooledError,
    check_not_pooled,
    direction,
    overlap_table,
    screening_status,
)
from ohevidence.reviews.overlap import cca_band, citation_matrix, corrected_covered_area, overlap
from ohevidence.screen.rules import apply_rules, compile_rules

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "data" / "curated"
EVIDENCE = ROOT.parent / "shared" / "evidence"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- corrected covered area (Pieper et al. 2014) ------------------------------------------------
def test_cca_matches_a_hand_worked_citation_matrix() -> None:
    """Three reviews: A = {s1, s2, s3}, B = {s3, s4}, C = {s4, s5}.

    N = 5 distinct studies, r = 3 reviews, c = 3 + 2 + 2 = 7 ticks:
    CCA = (c - N) / (N * r - N) = (7 - 5) / (15 - 5) = 0.20 -> 20 per cent, very high overlap."""
    pairs = [("A", "s1"), ("A", "s2"), ("A", "s3"), ("B", "s3"), ("B", "s4"), ("C", "s4"), ("C", "s5")]
    matrix = citation_matrix(pairs, ["A", "B", "C"])
    assert matrix.shape == (5, 3)
    assert matrix.loc["s3"].tolist() == [1, 1, 0] and matrix.loc["s5"].tolist() == [0, 0, 1]
    result = overlap(matrix)
    assert (result.primary_studies, result.reviews, result.inclusions) == (5, 3, 7)
    assert result.cca == pytest.approx(20.0)
    assert result.band == "very high"


def test_cca_without_overlap_is_zero_and_undefined_for_one_review() -> None:
    assert corrected_covered_area(inclusions=12, primary_studies=12, reviews=3) == 0.0
    assert corrected_covered_area(inclusions=4, primary_studies=4, reviews=1) is None  # N*r - N = 0
    # Pieper's second worked figure: 40 studies, 4 reviews, 52 ticks -> 12 / 120 = 10 per cent
    assert corrected_covered_area(inclusions=52, primary_studies=40, reviews=4) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="at least the number of primary studies"):
        corrected_covered_area(inclusions=3, primary_studies=4, reviews=2)


@pytest.mark.parametrize(
    ("cca", "band"),
    [(0.0, "slight"), (5.99, "slight"), (6.0, "moderate"), (10.0, "moderate"), (10.5, "high"),
     (15.0, "high"), (15.01, "very high"), (60.0, "very high")],
)  # fmt: skip
def test_cca_bands_follow_pieper(cca: float, band: str) -> None:
    assert cca_band(cca) == band


def test_overlap_counts_stated_inclusions_and_lists_own_trials_inside_a_review() -> None:
    reviews = [
        {"review_id": "V", "label": "Vogel 2017"},
        {"review_id": "N", "label": "Nieuwenhuijsen 2014"},
        {"review_id": "E", "label": "Empty 2020"},
    ]
    studies = [
        {"review_id": "V", "study": "Lambeek 2010", "study_id": "Lambeek2010", "status": "included"},
        {"review_id": "V", "study": "Davey 1994", "study_id": "", "status": "included"},
        {"review_id": "N", "study": "Noordik 2013", "study_id": "Noordik2013", "status": "unconfirmed"},
    ]
    result = overlap_table(studies, reviews, own_trials={"Lambeek2010", "Noordik2013"})
    # the unconfirmed inclusion is listed apart, not counted; a review with no stated inclusion is no column
    assert list(result.matrix.columns) == ["study", "study_id", "own_trial", "Vogel 2017"]
    assert result.matrix.set_index("study").loc["Lambeek 2010", "own_trial"] == "yes"
    summary = result.summary
    assert (summary["primary_studies"], summary["reviews"], summary["inclusions"]) == (2, 1, 2)
    assert summary["cca"] is None and summary["cca_band"] == ""
    assert [s["study_id"] for s in summary["shared_with_own_trials"]] == ["Lambeek2010"]
    assert [s["study"] for s in summary["unconfirmed_inclusions"]] == ["Noordik 2013"]


# --- direction and the never-pooled guard ----------------------------------------------------------
def _f(measure: str, estimate: str, low: str, high: str, better: str) -> dict[str, str]:
    return {"measure": measure, "estimate": estimate, "ci_lower": low, "ci_upper": high, "better": better}


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (_f("HR", "1.55", "1.20", "2.01", "higher"), "benefit"),
        (_f("HR", "1.25", "0.95", "1.66", "higher"), "no clear difference"),
        (_f("MD", "-17.0", "-26.5", "-7.5", "lower"), "benefit"),
        (_f("OR", "0.56", "0.33", "0.95", "higher"), "harm"),
        (_f("MD", "-8.78", "", "", "lower"), "no estimate"),
        (_f("", "", "", "", "higher"), "no estimate"),
    ],
)
def test_direction_reads_the_interval_against_no_effect(finding: dict[str, str], expected: str) -> None:
    assert direction(finding) == expected


VOGEL_HR = {
    "review_id": "Vogel2017_Cochrane",
    "measure": "HR",
    "estimate": "1.25",
    "ci_lower": "0.95",
    "ci_upper": "1.66",
}


def _effect(study_id: str, measure: str, estimate: float, low: float, high: float) -> dict[str, str]:
    scale = math.log if measure in {"HR", "RR", "OR"} else (lambda v: v)
    se = (scale(high) - scale(low)) / (2 * 1.959963984540054)
    return {"study_id": study_id, "measure": measure, "yi": repr(scale(estimate)), "se": repr(se)}


def test_a_review_estimate_among_the_trial_effects_stops_the_run() -> None:
    trial = _effect("Lambeek2010", "HR", 1.9, 1.2, 2.8)
    check_not_pooled([VOGEL_HR], ["Vogel2017_Cochrane"], [trial], {"Lambeek2010"})  # clean: passes
    copied = _effect("Lambeek2010_pooled", "HR", 1.25, 0.95, 1.66)  # the review's numbers under a trial id
    with pytest.raises(ReviewPooledError, match=r"carries Vogel2017_Cochrane's pooled HR 1\.25"):
        check_not_pooled([VOGEL_HR], ["Vogel2017_Cochrane"], [trial, copied], set())
    with pytest.raises(ReviewPooledError, match="study_id Vogel2017_Cochrane is a review"):
        check_not_pooled([], ["Vogel2017_Cochrane"], [{**trial, "study_id": "Vogel2017_Cochrane"}], set())
    with pytest.raises(ReviewPooledError, match="meta-analysis pools the review Vogel2017_Cochrane"):
        check_not_pooled([], ["Vogel2017_Cochrane"], [], {"Vogel2017_Cochrane", "Lambeek2010"})


# --- review-level inclusion ----------------------------------------------------------------------------
REVIEWS = [
    {"review_id": "Kamper2014_Cochrane", "pmid": "25180773", "doi": "10.1002/14651858.cd000963.pub3",
     "other_reports": "10.1136/bmj.h444", "label": "Kamper 2014"},
]  # fmt: skip
SCREENED = [
    {"record_id": "p:1", "full_text": "include", "pmid": "25180773", "doi": "", "title": "Kamper"},
    {"record_id": "h:2", "full_text": "include", "pmid": "", "doi": "10.1136/bmj.h444", "title": "BMJ"},
    {"record_id": "p:3", "full_text": "include", "pmid": "20234040", "doi": "", "title": "Lambeek"},
]
STUDIES = [{"study_id": "Lambeek2010", "pmid": "20234040", "design": "RCT", "registry_ids": ""}]


def test_a_reviews_reports_are_included_at_the_review_level_never_as_a_study() -> None:
    reports = included_reports(SCREENED, STUDIES, [], [], reviews=REVIEWS)
    level = dict(zip(reports["record_id"], reports["level"], strict=True))
    assert level == {"p:1": "review", "h:2": "review", "p:3": "study"}  # the BMJ version is a report of it
    chosen = included_studies(reports, [])
    assert chosen["study"].tolist() == ["Lambeek2010"]
    reviews = included_reviews(reports)
    assert reviews.to_dict("records") == [
        {"review_id": "Kamper2014_Cochrane", "reports": "p:1; h:2", "n_reports": "2"}
    ]


def test_reviews_are_not_included_when_the_config_includes_no_review_design() -> None:
    with pytest.raises(
        ConfigError, match=r"designs\.reviews: record p:1 reports the review Kamper2014_Cochrane"
    ):
        included_reports(SCREENED, STUDIES, [], [], reviews=REVIEWS, review_designs=[])


def test_screening_status_says_why_a_review_is_not_included() -> None:
    reviews = [
        {"review_id": "A", "pmid": "1", "doi": ""},
        {"review_id": "B", "pmid": "2", "doi": ""},
        {"review_id": "C", "pmid": "3", "doi": ""},
        {"review_id": "D", "pmid": "4", "doi": ""},
    ]
    records = [{"record_id": f"r{i}", "pmid": str(i), "doi": ""} for i in (1, 2, 3)]
    full_text = {"r2": {"full_text": "exclude", "full_text_reason": "superseded_version"}}
    status = screening_status(reviews, records, ["A"], full_text, {"r3": "exclude", "r2": "include"})
    assert status == {
        "A": "included",
        "B": "excluded at full text (superseded version)",
        "C": "excluded at title/abstract",
        "D": "not screened: no search record carries its PMID or DOI",
    }


def test_the_review_rule_flags_the_review_level_instead_of_excluding() -> None:
    rules = compile_rules(
        [
            {"name": "review", "criterion": "publication_type", "effect": "include", "level": "review",
             "fields": ["title", "journal"], "terms": {"systematic review": ["Cochrane Database Syst Rev"]}},
        ]
    )  # fmt: skip
    records = pd.DataFrame([{"record_id": "r1", "title": "A trial", "journal": "Cochrane Database Syst Rev"}])
    flags = apply_rules(records, rules).iloc[0]
    assert flags["rule_flags"].startswith("[for] publication_type/review (review level):")
    assert flags["excluded_by_rule"] == "" and flags["rule_score"] > 0
    with pytest.raises(ValueError, match="level 'meta', expected study or review"):
        compile_rules([{"name": "x", "criterion": "design", "level": "meta"}])


# --- the shipped curated tables ----------------------------------------------------------------------
def test_shipped_review_tables_hold_the_brief_reviews_and_no_review_is_a_study() -> None:
    reviews = {r["review_id"]: r for r in _rows(CURATED / "reviews.csv")}
    assert len(reviews) == 21  # 18 reviews, three of them in two versions (evidence Summary table)
    studies = {r["study_id"] for r in _rows(CURATED / "studies.csv")}
    assert not set(reviews) & studies
    findings = _rows(CURATED / "review_findings.csv")
    by = {(f["review_id"], f["outcome"], f["timepoint"]): f for f in findings}
    assert by[("Vogel2017_Cochrane", "time to return to work", "6 months")]["certainty"] == "low"
    assert (
        by[("Vogel2017_Cochrane", "cumulative sickness absence (work days per year)", "6 months")][
            "certainty"
        ]
        == "moderate"
    )
    de_boer = [f for f in findings if f["review_id"] == "deBoer2015_Cochrane"]
    assert de_boer and all(f["estimate"] == f["certainty"] == "" for f in de_boer)  # NOT FOUND stays empty
    kamper_work = [
        f for f in findings if f["review_id"] == "Kamper2014_Cochrane" and f["outcome"] == "work status"
    ]
    assert len(kamper_work) == 2 and all(f["estimate"] == f["certainty"] == "" for f in kamper_work)
    # professions: coded only where the evidence names them; the brief's lists stay words (the brief's)
    assert reviews["Nieuwenhuijsen2014_Cochrane"]["job_role"] == "occupational_physician"
    assert reviews["deBoer2015_Cochrane"]["job_role"] == ""
    assert "the brief's list (not verified)" in reviews["deBoer2015_Cochrane"]["professions"]
    inclusions = {(s["review_id"], s["study"]): s["status"] for s in _rows(CURATED / "review_studies.csv")}
    assert inclusions[("Vogel2017_Cochrane", "Lambeek 2010")] == "included"
    assert inclusions[("Nieuwenhuijsen2014_Cochrane", "Noordik 2013")] == "unconfirmed"


def test_every_review_number_and_identifier_is_in_the_evidence() -> None:
    if not EVIDENCE.is_dir():
        pytest.skip("../shared/evidence not present")
    text = (EVIDENCE / "cochrane_work_reviews.md").read_text(encoding="utf-8")
    text += (EVIDENCE / "trials_verified.md").read_text(encoding="utf-8")
    compact = re.sub(r"[\s,]+", "", text).replace("−", "-").lower()
    for review in _rows(CURATED / "reviews.csv"):
        for key in ("pmid", "doi", "k", "n"):
            if review[key]:
                assert review[key].lower() in compact, (review["review_id"], key)
        assert "cochrane_work_reviews.md" in review["source"]
    for finding in _rows(CURATED / "review_findings.csv"):
        for key in ("estimate", "ci_lower", "ci_upper", "k", "n"):
            if finding[key]:
                assert finding[key] in compact, (finding["review_id"], finding["outcome"], key)
        assert "cochrane_work_reviews.md" in finding["source"] or "trials_verified.md" in finding["source"]
        if finding["evidence_label"] == "S":
            assert "[S]" in finding["notes"] + finding["source"]


# --- `ohevidence reviews` end to end on small inputs -------------------------------------------------
def _table(path: Path, columns: tuple, rows: list[dict[str, str]]) -> str:
    from ohevidence.schema import names
    from ohevidence.tableio import write_table

    frame = pd.DataFrame(
        [{c: row.get(c, "") for c in names(columns)} for row in rows], columns=names(columns)
    )
    write_table(frame.astype("string"), path, columns)
    return str(path)


def _title_abstract(path: Path, columns: tuple, records: list[dict[str, str]]) -> str:
    """title_abstract.csv: its contract columns plus the screening stage's consensus column."""
    from ohevidence.schema import names

    header = [*names(columns), "consensus"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**r, "rank": "1", "consensus": "include"} for r in records)
    return str(path)


def test_reviews_command_writes_the_tables_and_refuses_a_pooled_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ohevidence.appraisal import AMSTAR2
    from ohevidence.cli import main
    from ohevidence.schema import (
        EFFECT_COLUMNS,
        INCLUDED_COLUMNS,
        INCLUDED_REVIEW_COLUMNS,
        INCLUDED_STUDY_COLUMNS,
        RECORD_COLUMNS,
        TITLE_ABSTRACT_COLUMNS,
    )

    record = {"source": "pubmed", "search_id": "s", "source_id": "x"}
    records = [
        {**record, "record_id": "s:vogel", "pmid": "28358173"},
        {**record, "record_id": "s:lambeek", "pmid": "20234040"},
    ]
    amstar = {"study_id": "Vogel2017_Cochrane", **{f"q{i}": "yes" for i in range(1, 17)}, "overall": ""}
    amstar |= {"support": "invented for tests", "source": "INVENTED (test)", "assessed_by": "test"}
    args = {
        "--curated": str(CURATED),
        "--amstar2": _table(tmp_path / "amstar2.csv", AMSTAR2.columns, [amstar]),
        "--records": _table(tmp_path / "records.csv", RECORD_COLUMNS, records),
        "--included": _table(
            tmp_path / "included.csv",
            INCLUDED_COLUMNS,
            [{**r, "rank": "1", "full_text": "include"} for r in records],
        ),
        "--title-abstract": _title_abstract(tmp_path / "ta.csv", TITLE_ABSTRACT_COLUMNS, records),
        "--included-reviews": _table(
            tmp_path / "ir.csv",
            INCLUDED_REVIEW_COLUMNS,
            [{"review_id": "Vogel2017_Cochrane", "reports": "s:vogel", "n_reports": "1"}],
        ),
        "--included-studies": _table(
            tmp_path / "is.csv",
            INCLUDED_STUDY_COLUMNS,
            [
                {
                    "study": "Lambeek2010",
                    "curated_study_id": "Lambeek2010",
                    "included_by": "full-text screening",
                    "reports": "s:lambeek",
                    "n_reports": "1",
                }
            ],
        ),
        "--effects": _table(tmp_path / "effects.csv", EFFECT_COLUMNS, []),
    }
    out = {name: tmp_path / "out" / name for name in ("r.csv", "f.csv", "m.csv", "o.json")}
    argv = ["reviews", *(x for pair in args.items() for x in pair)]
    argv += ["--reviews-out", str(out["r.csv"]), "--findings-out", str(out["f.csv"])]
    argv += ["--matrix-out", str(out["m.csv"]), "--overlap-out", str(out["o.json"])]
    assert main(argv) == 0
    reviews = pd.read_csv(out["r.csv"], dtype=str, keep_default_na=False).set_index("review_id")
    assert reviews.loc["Vogel2017_Cochrane", ["amstar2", "in_review"]].tolist() == ["high", "included"]
    assert reviews.loc["Kamper2014_Cochrane", ["amstar2", "in_review"]].tolist() == [
        "not assessed",
        "not screened: no search record carries its PMID or DOI",
    ]
    findings = pd.read_csv(out["f.csv"], dtype=str, keep_default_na=False)
    for review in ("deBoer2015_Cochrane", "Kamper2014_Cochrane", "Vogel2017_Cochrane"):
        assert review in set(findings["review_id"])
    vogel = findings[(findings["review_id"] == "Vogel2017_Cochrane") & (findings["measure"] == "HR")].iloc[0]
    assert (vogel["label"], vogel["certainty"], vogel["direction"]) == (
        "Vogel 2017",
        "low",
        "no clear difference",
    )
    overlap_json = __import__("json").loads(out["o.json"].read_text())
    assert overlap_json["shared_with_own_trials"][0]["study"] == "Lambeek 2010"
    matrix = pd.read_csv(out["m.csv"], dtype=str, keep_default_na=False).set_index("study")
    assert matrix.loc["Lambeek 2010", ["own_trial", "Vogel 2017"]].tolist() == ["yes", "1"]
    # Vogel's pooled HR among the trial effects stops the command
    _table(
        tmp_path / "effects.csv",
        EFFECT_COLUMNS,
        [{**_effect("Lambeek2010", "HR", 1.25, 0.95, 1.66), "vi": "0.02", "from": "estimate_ci"}],
    )
    capsys.readouterr()
    assert main(argv) != 0
    assert "carries Vogel2017_Cochrane's pooled HR 1.25 (0.95 to 1.66)" in capsys.readouterr().err
