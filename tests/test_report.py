"""Report figures and tables: structure, not pixels (invented analyses run through the real meta engine)."""

from __future__ import annotations

import csv
import json
import shutil
from itertools import combinations
from pathlib import Path

import pytest

from ohevidence.cli import main
from ohevidence.errors import SchemaError
from ohevidence.meta.result import AnalysisResult
from ohevidence.meta.roles import JobRole
from ohevidence.report.common import format_p, save_figure
from ohevidence.report.forest import (
    ForestData,
    Pooled,
    StudyEstimate,
    Subgroup,
    draw_forest,
    load_forest_data,
)
from ohevidence.report.funnel import funnel
from ohevidence.report.prisma import PrismaCountError, PrismaCounts, draw_prisma
from ohevidence.report.rob import read_rob, summary_plot, summary_proportions, traffic_light
from ohevidence.report.tables import summary_of_findings, workforce_strategies
from report_synthetic import synthetic_analysis

ROOT = Path(__file__).resolve().parents[1]
ROB = Path(__file__).resolve().parent / "data" / "report" / "rob_synthetic.csv"


def _forest(tmp_path: Path, k: int, **kwargs: object) -> tuple[dict, ForestData]:
    paths = synthetic_analysis(tmp_path / f"k{k}", k, **kwargs)  # type: ignore[arg-type]
    meta = json.loads(paths["json"].read_text(encoding="utf-8"))
    return meta, load_forest_data(paths["json"], paths["studies"], paths["outcomes"], paths["job_roles"])


def _assert_no_overlaps(fig, ax) -> None:  # type: ignore[no-untyped-def]
    """No two texts overlap, and no text of the table reaches into the graph."""
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text().strip()]
    for (text_a, a), (text_b, b) in combinations(boxes, 2):
        overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{text_a!r} overlaps {text_b!r}"
    graph = ax.get_window_extent(renderer)
    for text, box in boxes:
        if box.x0 < graph.x0:  # a table text: must end before the graph starts
            assert box.x1 <= graph.x0 + 0.5, f"{text!r} runs into the graph"


@pytest.mark.parametrize("k", [1, 2, 12, 60])
def test_forest_rows_diamonds_axis_and_lines(tmp_path: Path, k: int) -> None:
    meta, data = _forest(tmp_path, k, long_names=True)
    fig, layout = draw_forest(data)
    groups = len(meta["groups"])
    assert layout.study_rows == k
    assert layout.no_estimate_rows == 1
    # one subtotal per role (when roles differ) and the total; a single study gets no total diamond
    assert layout.diamonds == groups + (1 if k > 1 else 0)
    diamonds = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("diamond")]
    assert len(diamonds) == layout.diamonds
    squares = [c for c in fig.axes[0].collections if c.get_gid() == "study-square"]
    assert len(squares) + layout.arrows // 2 >= k - 1  # every study drawn (one may be all arrow)
    assert layout.xscale == "log" and fig.axes[0].get_xscale() == "log"
    assert "1" in layout.ticks and layout.ticks == [t.get_text() for t in fig.axes[0].get_xticklabels()]
    text = "\n".join(layout.texts)
    assert "Risk Ratio" in text and "IV, Random, 95% CI" in text
    assert (
        "Favours control" in text and "Favours intervention" in text
    )  # higher is better: RR > 1 favours int
    if k > 1:
        assert "Total (95% CI)" in text and "Test for overall effect: Z = " in text
    else:  # issue 15: a "meta-analysis" of one study is reported as a single study
        assert "Not pooled (single study)" in text and "reported as a single study" in text
    assert "no estimate (ongoing; no estimate printed)" in text
    if k >= 2:
        assert "Test for subgroup differences: Chi² = " in text
        only_gaps = sum(1 for g in data.subgroups if not g.studies)  # roles with no estimate at all
        assert text.count("Subtotal (95% CI)") == groups + only_gaps
        assert only_gaps == (1 if k == 2 else 0)
    if k >= 12:
        assert "Heterogeneity: Tau² = " in text and "Prediction interval" in text
        assert layout.prediction_bars == 1
    else:
        assert layout.prediction_bars == 0  # a PI needs at least three studies
    _assert_no_overlaps(fig, fig.axes[0])


def test_forest_files_written_in_three_formats(tmp_path: Path) -> None:
    _, data = _forest(tmp_path, 2)
    fig, _ = draw_forest(data)
    paths = save_figure(fig, tmp_path / "forest" / "x", dpi=40)
    assert [p.suffix for p in paths] == [".svg", ".png", ".pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    svg = paths[0].read_text(encoding="utf-8")
    assert 'id="diamond-total"' in svg and "Test for overall effect" in svg  # text stays text
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[2].read_bytes()[:5] == b"%PDF-"


def test_forest_difference_measure_has_linear_symmetric_axis(tmp_path: Path) -> None:
    _, data = _forest(tmp_path, 12, measure="MD")
    _, layout = draw_forest(data)
    assert layout.xscale == "linear"
    lo, hi = layout.xlim
    assert lo == -hi and "0" in layout.ticks
    assert "Mean Difference" in layout.texts


def test_forest_clipped_whiskers_end_in_arrows() -> None:
    pooled = Pooled(
        k=2,
        estimate=1.2,
        ci_low=0.9,
        ci_high=1.6,
        q=0.5,
        q_df=1,
        q_p=0.48,
        i2=0.0,
        tau2=0.0,
        stat=1.2,
        p=0.23,
    )
    data = ForestData(
        analysis_id="arrows",
        measure="OR",
        method="REML",
        ci_method="z",
        subgroups=[
            Subgroup(
                "physiotherapist",
                "Physiotherapist",
                [
                    StudyEstimate("Precise", 1.2, 0.9, 1.6, 99.0),
                    StudyEstimate("Imprecise", 1.5, 0.0005, 4000.0, 1.0),
                ],
                pooled,
            )
        ],
        overall=pooled,
        show_subgroups=False,
    )
    _, layout = draw_forest(data)
    assert layout.arrows == 2  # both ends of the imprecise study's CI run off the axis
    assert layout.xlim[1] <= 1000


def test_forest_rob_columns_beside_assessed_studies(tmp_path: Path) -> None:
    """rob_synthetic.csv is INVENTED (not a real assessment): S01, S02 (main result) and S03 match the
    analysis' rtw rows; S04's row is for another outcome and S05 has none: both read "not assessed"."""
    paths = synthetic_analysis(tmp_path / "k5", 5)
    data = load_forest_data(
        paths["json"], paths["studies"], paths["outcomes"], paths["job_roles"], rob_csv=ROB
    )
    fig, layout = draw_forest(data)
    assert layout.rob_columns == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    assert layout.rob_marks == 3 * 6 and layout.rob_not_assessed == 2
    marks = [c.get_gid() for c in fig.axes[0].collections if (c.get_gid() or "").startswith("rob-")]
    assert marks.count("rob-high") == 2  # S02: D1 and overall
    text = "\n".join(layout.texts)
    assert "Risk of Bias" in text and "not assessed" in text and "D1 randomisation process" in text
    assert "Risk of bias not assessed" not in text
    _assert_no_overlaps(fig, fig.axes[0])

    cluster = tmp_path / "rob_cluster.csv"  # INVENTED: one cluster trial with domain 1b
    header, *rows = ROB.read_text(encoding="utf-8").splitlines()
    rows[0] = (
        rows[0]
        .replace("S01,rtw,parallel,low,,", "S01,rtw,cluster,low,high,")
        .replace(",some_concerns,40,", ",high,40,")
    )
    cluster.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    data = load_forest_data(
        paths["json"], paths["studies"], paths["outcomes"], paths["job_roles"], rob_csv=cluster
    )
    fig, layout = draw_forest(data)
    assert layout.rob_columns == ["D1", "D1b", "D2", "D3", "D4", "D5", "Overall"]
    assert layout.rob_marks == 7 + 2 * 6  # S02 and S03 (parallel) have no D1b circle
    assert "D1b timing of identification" in "\n".join(layout.texts)


def test_forest_without_assessments_keeps_layout_with_a_footnote(tmp_path: Path) -> None:
    paths = synthetic_analysis(tmp_path / "k3", 3)
    plain = load_forest_data(paths["json"], paths["studies"], paths["outcomes"], paths["job_roles"])
    elsewhere = tmp_path / "rob.csv"  # INVENTED: assesses a study outside this analysis only
    header, first, *_ = ROB.read_text(encoding="utf-8").splitlines()
    elsewhere.write_text(header + "\n" + first.replace("S01,", "S99,") + "\n", encoding="utf-8")
    for data in (
        plain,
        load_forest_data(
            paths["json"], paths["studies"], paths["outcomes"], paths["job_roles"], rob_csv=elsewhere
        ),
    ):
        _, layout = draw_forest(data)
        assert layout.rob_columns == [] and layout.rob_marks == 0 and layout.rob_not_assessed == 0
        assert any(t.startswith("Risk of bias not assessed") for t in layout.texts)


def test_p_values_in_revman_style() -> None:
    assert format_p(0.1753) == "P = 0.18"
    assert format_p(0.0034) == "P = 0.003"
    assert format_p(0.00071) == "P = 0.0007"
    assert format_p(1e-9) == "P < 0.00001"


def test_funnel_drawn_from_ten_studies_with_egger(tmp_path: Path) -> None:
    paths = synthetic_analysis(tmp_path / "k12", 12)
    fig, result = funnel(AnalysisResult.read(paths["json"]))
    assert fig is not None and result.drawn and result.egger is not None
    assert result.note.startswith("Egger's test: t = ") and "df = 10" in result.note
    points = [c for c in fig.axes[0].collections if c.get_gid() == "funnel-study"]
    assert len(points) == 1 and len(points[0].get_offsets()) == 12
    assert fig.axes[0].get_ylim()[0] > fig.axes[0].get_ylim()[1]  # SE axis inverted


def test_funnel_refused_below_ten_studies_with_a_note(tmp_path: Path) -> None:
    paths = synthetic_analysis(tmp_path / "k2", 2)
    out = tmp_path / "funnel"
    code = main(
        [
            "report",
            "funnel",
            "--meta",
            str(paths["json"]),
            "--note",
            str(out / "x.txt"),
            "--out-dir",
            str(out / "x"),
        ]
    )
    assert code == 0
    assert "k = 2 studies, fewer than 10" in (out / "x.txt").read_text(encoding="utf-8")
    assert not list((out / "x").glob("funnel.png"))


def _counts(**changes: object) -> PrismaCounts:
    values: dict[str, object] = dict(
        searches=[("pubmed", "pubmed (pubmed)", 30), ("hand", "hand search (hand)", 20)],
        duplicates=5,
        excluded_automatic=3,
        excluded_other=0,
        records_screened=42,
        records_excluded=19,
        records_awaiting={"conflict": 1},
        reports_sought=22,
        reports_not_retrieved=0,
        reports_assessed=22,
        reports_excluded={"feasibility": 3, "conference_abstract": 1},
        reports_awaiting={},
        new_reports=18,
        new_studies=13,
        studies_in_meta=10,
    )
    values.update(changes)
    return PrismaCounts(**values)  # type: ignore[arg-type]


def test_prisma_counts_reconcile_and_diagram_drawn(tmp_path: Path) -> None:
    counts = _counts()
    assert counts.problems() == []
    rows = {r["data"]: r["n"] for r in counts.rows()}
    assert rows["database_results"] == "50" and rows["duplicates"] == "5" and rows["records_screened"] == "42"
    assert rows["dbr_excluded"] == "feasibility, 3; conference abstract, 1"
    assert rows["database_specific_results"] == "pubmed (pubmed), 30; hand search (hand), 20"
    fig = draw_prisma(counts)
    texts = " | ".join(t.get_text() for t in fig.texts)
    for expected in (
        "Records screened",
        "(n = 42)",
        "Duplicate records (n = 5)",
        "Studies included in review (n = 13)",
        "Reports of included studies (n = 18)",
        "feasibility (n = 3)",
        "Studies in meta-analyses (n = 10)",
    ):
        assert expected in texts
    assert len([p for p in fig.artists if p.get_gid() == "prisma-box"]) == 9
    assert all(p.stat().st_size > 0 for p in save_figure(fig, tmp_path / "prisma", dpi=40))


def test_prisma_counts_reviews_apart_from_studies() -> None:
    """Issue 25: reviews included at the review level are counted apart from the studies."""
    counts = _counts(new_studies=10, review_reports=5, reviews_included=4, reports_in_studies=13)
    assert counts.problems() == []
    assert counts.study_reports == 13 and counts.total_studies == 10
    rows = {r["data"]: r["n"] for r in counts.rows()}
    assert rows["new_reports"] == rows["total_reports"] == "13"
    assert rows["ohevidence_reviews_included"] == "4" and rows["ohevidence_review_reports_included"] == "5"
    texts = " | ".join(t.get_text() for t in draw_prisma(counts).texts)
    assert "Reviews included, reported apart (n = 4)" in texts
    assert "Reports of included reviews (n = 5)" in texts
    assert "Reports of included studies (n = 13)" in texts
    # a review report not grouped anywhere breaks the sum; pooled studies still may not exceed trials
    missing = _counts(new_studies=10, review_reports=4, reviews_included=4, reports_in_studies=13)
    assert any("+ reports of included reviews" in p for p in missing.problems())
    pooled = _counts(new_studies=10, review_reports=5, reviews_included=4, studies_in_meta=11)
    assert any("studies in meta-analyses (11) > studies included (10)" in p for p in pooled.problems())
    more_reviews = _counts(new_studies=10, review_reports=2, reviews_included=3)
    assert any("reviews included (3) > reports of reviews (2)" in p for p in more_reviews.problems())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"records_screened": 41},
            "identified - duplicates - automation - other removals = screened: 42 != 41",
        ),
        ({"records_excluded": 18}, "screened - excluded - awaiting title/abstract decision = reports sought"),
        ({"new_reports": 19}, "assessed - excluded = reports included: 18 != 19"),
        ({"new_studies": 30}, "studies included (30) > reports of studies (18)"),
    ],
)
def test_prisma_refuses_inconsistent_counts(change: dict, message: str) -> None:
    counts = _counts(**change)
    with pytest.raises(PrismaCountError, match="do not reconcile") as error:
        draw_prisma(counts)
    assert message in str(error.value)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_prisma_rule_stops_on_inconsistent_files_and_writes_nothing(tmp_path: Path) -> None:
    log = _write(tmp_path / "search_log.csv", [{"search_id": "s1", "source": "pubmed", "n_retrieved": "4"}])
    clusters = _write(
        tmp_path / "clusters.csv",
        [{"record_id": f"s1:{i}", "kept": "no" if i == 3 else "yes"} for i in range(4)],
    )
    included = _write(
        tmp_path / "included.csv",
        [
            {
                "record_id": "s1:0",
                "origin": "",
                "full_text": "include",
                "title": "A",
                "year": "2020",
                "pmid": "",
                "doi": "",
            },
            {
                "record_id": "s1:1",
                "origin": "",
                "full_text": "exclude",
                "title": "B",
                "year": "2020",
                "pmid": "",
                "doi": "",
            },
        ],
    )
    chosen = _write(
        tmp_path / "included_studies.csv",
        [
            {
                "study": "A1",
                "curated_study_id": "A1",
                "included_by": "full-text screening",
                "reports": "s1:0",
                "n_reports": "1",
                "note": "",
            }
        ],
    )
    screening = {
        "records_in": 3,
        "records_excluded_by_automation_tools": 0,
        "records_screened": 3,
        "records_excluded": 1,
        "records_awaiting_title_abstract": {},
        "reports_sought_for_retrieval": 2,
        "reports_assessed_for_eligibility": 2,
        "reports_excluded": {"feasibility": 1},
        "reports_awaiting_full_text": {},
        "reports_included": 1,
    }
    args = [
        "report",
        "prisma",
        "--search-log",
        str(log),
        "--clusters",
        str(clusters),
        "--included",
        str(included),
        "--included-studies",
        str(chosen),
        "--settings",
        "{}",
        "--counts-out",
        str(tmp_path / "out" / "prisma_counts.csv"),
        "--figure-stem",
        str(tmp_path / "out" / "prisma"),
        "--dpi",
        "40",
        "--screening-counts",
    ]
    good = tmp_path / "good.json"
    good.write_text(json.dumps(screening), encoding="utf-8")
    assert main([*args, str(good)]) == 0
    counts = {
        r["data"]: r["n"]
        for r in csv.DictReader((tmp_path / "out" / "prisma_counts.csv").open(encoding="utf-8"))
    }
    assert counts["database_results"] == "4" and counts["duplicates"] == "1" and counts["new_studies"] == "1"
    assert counts["database_specific_results"] == "PubMed, 4"  # the source in words, not the search id
    shutil.rmtree(tmp_path / "out")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**screening, "records_excluded": 0}), encoding="utf-8")  # 3 - 0 != 2 sought
    assert main([*args, str(bad)]) == 2
    assert not (tmp_path / "out").exists()  # no counts, no diagram from inconsistent counts
    # a meta-analysis pooling a study the review does not include stops the rule (issue 22)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"analysis_id": "a", "studies": [{"study_id": "B2"}]}), encoding="utf-8")
    assert main([*args, str(good), "--meta", str(meta)]) == 2
    assert not (tmp_path / "out").exists()


def test_rob_traffic_light_and_weighted_summary() -> None:
    rob = read_rob(ROB)
    fig = traffic_light(rob)
    circles = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("rob-")]
    assert len(circles) == 4 * 6  # four assessments x (D1-D5 + overall)
    assert sum(p.get_gid() == "rob-high" for p in circles) == 4
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"D1", "D5", "Overall", "S01: rtw", "S02"} <= labels
    shares = summary_proportions(rob, weighted=True)
    assert shares[["low", "some_concerns", "high", "no_information"]].sum(axis=1).round(6).eq(100).all()
    overall = shares.iloc[-1]
    assert overall["high"] == pytest.approx(40.0) and overall["low"] == pytest.approx(
        20.0
    )  # weights 25 + 15; 20
    assert "weighted by" in summary_plot(rob, weighted=True).axes[0].get_xlabel()
    unweighted = summary_proportions(rob).iloc[-1]
    assert unweighted["high"] == pytest.approx(50.0) and unweighted["low"] == pytest.approx(
        25.0
    )  # 2 and 1 of 4
    assert "unweighted" in summary_plot(rob).axes[0].get_xlabel()


def test_rob_bad_judgement_names_line_and_column(tmp_path: Path) -> None:
    text = ROB.read_text(encoding="utf-8").replace(
        "S03,rtw,parallel,low,,low,low", "S03,rtw,parallel,low,,low,unclear"
    )
    bad = tmp_path / "rob.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as error:
        read_rob(bad)
    assert "line 4" in str(error.value) and "d3" in str(error.value)


def test_rob_absent_says_none_recorded(tmp_path: Path) -> None:
    note = tmp_path / "rob.txt"
    assert (
        main(
            [
                "report",
                "rob",
                "--rob",
                str(tmp_path / "missing.csv"),
                "--out-dir",
                str(tmp_path / "rob"),
                "--note",
                str(note),
            ]
        )
        == 0
    )
    assert "No risk-of-bias judgements were recorded" in note.read_text(encoding="utf-8")
    assert not list((tmp_path / "rob").iterdir())


def test_summary_of_findings_and_workforce_tables(tmp_path: Path) -> None:
    paths = synthetic_analysis(tmp_path / "k12", 12)
    outcomes = {
        (r["study_id"], r["outcome_id"]): r for r in csv.DictReader(paths["outcomes"].open(encoding="utf-8"))
    }
    table = summary_of_findings([paths["json"]], outcomes)
    row = table.iloc[0]
    assert row["k"] == "12" and row["effect"].startswith("Risk Ratio ") and row["certainty"] == "not assessed"
    meta = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert float(row["estimate"]) == pytest.approx(meta["overall"]["reported"]["estimate"], abs=1e-4)
    assert int(row["participants"]) == sum(
        int(o["n_int"]) + int(o["n_ctl"]) for o in outcomes.values() if o["n_int"]
    )
    roles = {"oh_nurse": JobRole("OH nurse", "nursing"), "physiotherapist": JobRole("Physiotherapist", "")}
    strategies = workforce_strategies(
        [
            {"case_id": "b", "role_codes": "no role named", "strategy": "y"},
            {"case_id": "a", "role_codes": "physiotherapist; oh_nurse", "strategy": "x"},
        ],
        roles,
    )
    assert list(strategies["role"]) == ["OH nurse", "Physiotherapist", "No role named"]
    assert list(strategies["case_id"]) == ["a", "a", "b"]


def test_footnote_letters_never_wrap_onto_a_line_of_their_own() -> None:
    from ohevidence.report.forest import LABEL_WRAP, SUPERSCRIPTS, _wrap

    label = "MI-NAV (Aanesen 2023) — Physiotherapist arm"
    assert len(label) <= LABEL_WRAP < len(label) + 2  # the letters alone would take the next line
    lines = _wrap(f"{label} {SUPERSCRIPTS['a']}")
    assert lines[-1].endswith("arm ᵃ") and all(line.strip() != "ᵃ" for line in lines)


def test_report_categories_are_numbered_once_and_in_order() -> None:
    """Every report() category of the rules is '<n>. <name>', each number used by one name, 1..N."""
    import re

    found = {
        match.group(1)
        for path in (ROOT / "workflow" / "rules").glob("*.smk")
        for match in re.finditer(r'\bcategory="([^"]+)"', path.read_text(encoding="utf-8"))
    }
    numbered = sorted((int(c.split(".", 1)[0]), c.split(". ", 1)[1]) for c in found)
    assert all(re.fullmatch(r"\d+\. \S.*", c) for c in found), found
    assert [n for n, _ in numbered] == list(range(1, len(numbered) + 1)), numbered
    assert numbered[0] == (1, "Findings")
