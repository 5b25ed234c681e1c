"""Screening: agreement statistics, decision files, eligibility rules, ranking, sheets and exports."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ohevidence.cli import main
from ohevidence.errors import InputError
from ohevidence.records import make_record, records_frame
from ohevidence.schema import RECORD_FIELDS
from ohevidence.screen.agreement import cohen_kappa, gwet_ac1, pair_agreement
from ohevidence.screen.decisions import DecisionRules, alias_map, load_decisions
from ohevidence.screen.evaluation import atd, rrf, wss
from ohevidence.screen.export import neutralise, write_sheet
from ohevidence.screen.ranking import (
    LearnerChoice,
    RankingSettings,
    choice_point,
    choice_points,
    choose_learner,
    excludes_since_last_include,
    feature_views,
    featureless,
    include_weighted_svm_scores,
    interleave,
    paired_auc_z,
    place_featureless,
    relevance_scores,
    score_records,
    screening_text,
    simulate,
    stalled,
)
from ohevidence.screen.rules import apply_rules, compile_rules
from ohevidence.screen.stage import ScreeningSettings, screen, write_outputs

ROOT = Path(__file__).resolve().parents[1]
HEADER = "record_id,stage,reviewer,decision,reason,note,decided_at\n"
REASONS = ("protocol", "feasibility", "wrong_population")


# ---------------------------------------------------------------------------
# Agreement, checked against hand-computed values.
# ---------------------------------------------------------------------------
def test_agreement_on_the_overlap_with_maybe_as_include() -> None:
    # r1..r5 seen by both; r6 only by A, r7 only by B.
    first = {
        "r1": "include",
        "r2": "include",
        "r3": "exclude",
        "r4": "exclude",
        "r5": "maybe",
        "r6": "include",
    }
    second = {
        "r1": "include",
        "r2": "exclude",
        "r3": "exclude",
        "r4": "exclude",
        "r5": "include",
        "r7": "exclude",
    }
    result = pair_agreement(first, second, ("a", "b"))
    # Binary on the overlap: A = 1,1,0,0,1; B = 1,0,0,0,1 -> 4/5 agree.
    # kappa: p_e = .6 x .4 + .4 x .6 = .48 -> (.8 - .48) / .52 = .615385
    # AC1: pi = (3 + 2) / 10 = .5, p_e = 2 x .5 x .5 = .5 -> (.8 - .5) / .5 = .6
    assert result["records_screened_by_both"] == 5
    assert result["records_screened_by_one_only"] == 2
    assert result["records_only_a"] == 1 and result["records_only_b"] == 1
    assert result["percent_agreement"] == 80.0
    assert result["cohen_kappa"] == pytest.approx(0.615385, abs=1e-4)
    assert result["gwet_ac1"] == pytest.approx(0.6, abs=1e-4)
    assert result["include_a_exclude_b"] == 1 and result["exclude_a_include_b"] == 0


def test_kappa_paradox_where_ac1_stays_high() -> None:
    # 10 records: 8 excluded by both, one include each that the other excluded.
    a = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    b = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    # kappa: p_o = .8, p_e = .1 x .1 + .9 x .9 = .82 -> -.02 / .18 = -.1111
    # AC1: pi = .1, p_e = 2 x .1 x .9 = .18 -> .62 / .82 = .756098
    assert cohen_kappa(a, b) == pytest.approx(-0.111111, abs=1e-5)
    assert gwet_ac1(a, b) == pytest.approx(0.756098, abs=1e-5)


def test_agreement_when_both_exclude_everything() -> None:
    result = pair_agreement(
        {"r1": "exclude", "r2": "exclude"}, {"r1": "exclude", "r2": "exclude"}, ("a", "b")
    )
    assert result["percent_agreement"] == 100.0
    assert result["cohen_kappa"] is None  # chance agreement is 1: kappa undefined
    assert result["gwet_ac1"] == 1.0
    empty = pair_agreement({"r1": "include"}, {"r2": "exclude"}, ("a", "b"))
    assert empty["records_screened_by_both"] == 0 and empty["records_screened_by_one_only"] == 2
    assert empty["cohen_kappa"] is None and empty["gwet_ac1"] is None


# ---------------------------------------------------------------------------
# Simulation metrics (ANCHORS.md definitions).
# ---------------------------------------------------------------------------
def test_simulation_metrics_by_hand() -> None:
    labels = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]  # N = 10, R = 3 at ranks 1, 3, 10
    # WSS@95: ceil(.95 x 3) = 3rd include at rank 10 -> 100 x ((10 - 10) / 10 - .05) = -5
    assert wss(labels) == pytest.approx(-5.0)
    # RRF@10: first ceil(1) = 1 record holds 1 of 3 includes
    assert rrf(labels) == pytest.approx(100 / 3)
    # ATD: mean(1, 3, 10) / 10 x 100
    assert atd(labels) == pytest.approx(100 * (14 / 3) / 10)
    assert wss([1, 1, 0, 0]) == pytest.approx(100 * (2 / 4 - 0.05))
    assert math.isnan(wss([0, 0]))


# ---------------------------------------------------------------------------
# Fixtures: a tiny review.
# ---------------------------------------------------------------------------
def _record(source_id: str, title: str, abstract: str = "", **fields: str) -> dict[str, str]:
    return make_record(
        source="pubmed", search_id="s", source_id=source_id, title=title, abstract=abstract, **fields
    )


@pytest.fixture()
def records() -> pd.DataFrame:
    return records_frame(
        [
            _record(
                "1", "Vocational advice for sick-listed workers: a randomised controlled trial", year="2018"
            ),
            _record(
                "2",
                "Return to work case management for employees on sick leave: a randomized trial",
                year="2020",
            ),
            _record("3", "Trial protocol: vocational rehabilitation for workers after stroke", year="2020"),
            _record("4", "Statins and cardiac outcomes in older adults", year="2015"),
            _record("5", '=HYPERLINK("http://evil","click")', abstract="+1+2 and more", year="2019"),
            _record("6", "Statins after myocardial infarction in older adults", year="1985"),
            _record("7", "Vocational workplace intervention for sick-listed workers", year=""),
        ]
    )


RULES = [
    {
        "name": "randomised_trial",
        "criterion": "design",
        "effect": "include",
        "fields": ["title", "abstract", "publication_types"],
        "terms": {"randomised controlled trial": ["randomi*ed trial"]},
    },
    {"name": "work", "criterion": "intervention", "terms": {"return to work": ["vocational", "workplace"]}},
    {
        "name": "protocol",
        "criterion": "publication_type",
        "effect": "exclude",
        "reason": "protocol",
        "fields": ["title"],
        "terms": {"protocol": []},
    },
    {"name": "years", "criterion": "year", "effect": "exclude", "min_year": 1990},
]


def _settings(**changes: object) -> ScreeningSettings:
    base = ScreeningSettings(
        reviewers=("ana", "ben"), arbiters=("cat",), exclusion_reasons=REASONS, rules=tuple(RULES), seed=3
    )
    return dataclasses.replace(base, **changes)


def _decisions(tmp_path: Path, text: str, records: pd.DataFrame, settings: ScreeningSettings) -> pd.DataFrame:
    path = tmp_path / "decisions.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    rules = DecisionRules(alias_map(records), settings.everyone, settings.exclusion_reasons)
    return load_decisions(path, None, rules)


# ---------------------------------------------------------------------------
# Decision files: one error naming file and line.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("s:99,title_abstract,ana,include,,,\n", "record_id", "unknown record id 's:99'"),
        ("s:1,title_abstract,zoe,include,,,\n", "reviewer", "unknown reviewer 'zoe'"),
        ("s:1,title_abstract,ana,yes,,,\n", "decision", "unknown decision 'yes'"),
        ("s:1,abstract,ana,include,,,\n", "stage", "unknown stage 'abstract'"),
        ("s:1,full_text,ana,exclude,,,\n", "reason", "full-text exclusion has no reason"),
        ("s:1,full_text,ana,exclude,too_old,,\n", "reason", "unknown reason code 'too_old'"),
        ("s:1,title_abstract,ana,include,,,23/11/2026\n", "decided_at", "bad date"),
    ],
)
def test_bad_decision_rows_name_file_and_line(
    tmp_path: Path, records: pd.DataFrame, row: str, column: str, message: str
) -> None:
    text = "s:2,title_abstract,ana,include,,,\n" + row
    with pytest.raises(InputError) as info:
        _decisions(tmp_path, text, records, _settings())
    error = info.value
    assert error.line == 3 and error.column == column and message in str(error)
    assert str(tmp_path / "decisions.csv") in str(error)


def test_missing_column_is_line_one(tmp_path: Path, records: pd.DataFrame) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text("record_id,stage,reviewer\ns:1,title_abstract,ana\n")
    rules = DecisionRules(alias_map(records), ("ana",), REASONS)
    with pytest.raises(InputError, match=r"line 1.*missing column\(s\) decision"):
        load_decisions(path, None, rules)


def test_contradicting_rows_are_an_error_unless_dated(tmp_path: Path, records: pd.DataFrame) -> None:
    text = "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ana,exclude,,,\n"
    with pytest.raises(InputError, match=r"line 3.*'exclude' here but as 'include'.*line 2"):
        _decisions(tmp_path, text, records, _settings())
    dated = "s:1,title_abstract,ana,include,,,2026-11-01\ns:1,title_abstract,ana,exclude,,,2026-11-20\n"
    decisions = _decisions(tmp_path, dated, records, _settings())
    assert decisions["decision"].tolist() == ["exclude"]


def test_decisions_on_folded_duplicates_follow_the_kept_record(tmp_path: Path, records: pd.DataFrame) -> None:
    unique = records.copy()
    unique["origin"] = ""
    unique.loc[0, "origin"] = "s:1; other_search:abc"
    text = "other_search:abc,title_abstract,ana,include,,,\ns:1,title_abstract,ana,include,,,\n"
    decisions = _decisions(tmp_path, text, unique, _settings())
    assert decisions[["record_id", "reviewer", "decision"]].values.tolist() == [["s:1", "ana", "include"]]


def test_filled_sheets_are_read_and_empty_rows_are_not_decisions(
    tmp_path: Path, records: pd.DataFrame
) -> None:
    settings = _settings()
    result = screen(records, settings, _decisions(tmp_path, "", records, settings))
    out = tmp_path / "results"
    write_outputs(result, records, out)
    sheet = pd.read_csv(out / "to_screen_ana.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(sheet) == len(records) and set(sheet["reviewer"]) == {"ana"}
    sheet.loc[0, "decision"] = "include"
    sheet.loc[1, ["decision", "reason"]] = ["exclude", "feasibility"]
    curated = tmp_path / "curated"
    curated.mkdir()
    # Excel in a comma-decimal locale saves ';'-separated: read that too.
    sheet.to_csv(curated / "to_screen_ana.csv", index=False, sep=";", encoding="utf-8-sig")
    rules = DecisionRules(alias_map(records), settings.everyone, settings.exclusion_reasons)
    decisions = load_decisions(curated / "decisions.csv", curated, rules)
    assert sorted(decisions["decision"]) == ["exclude", "include"]
    assert set(decisions["reviewer"]) == {"ana"}


def test_a_bad_row_in_a_sheet_names_the_sheet(tmp_path: Path, records: pd.DataFrame) -> None:
    curated = tmp_path / "curated"
    curated.mkdir()
    (curated / "to_screen_ana.csv").write_text(
        "record_id,stage,reviewer,decision\ns:1,title_abstract,ana,\ns:2,title_abstract,ana,perhaps\n"
    )
    rules = DecisionRules(alias_map(records), ("ana",), REASONS)
    with pytest.raises(InputError, match=r"to_screen_ana\.csv, line 3, column 'decision'"):
        load_decisions(None, curated, rules)


# ---------------------------------------------------------------------------
# Rules: flag by default, exclude only when configured, counted apart.
# ---------------------------------------------------------------------------
def test_rules_flag_with_the_matched_text(records: pd.DataFrame) -> None:
    flags = apply_rules(records, compile_rules(RULES)).set_index("record_id")
    assert '"randomised controlled trial" (title)' in flags.loc["s:1", "rule_flags"]
    assert '"randomized trial" (title)' in flags.loc["s:2", "rule_flags"]  # '*' truncation
    assert '[against] publication_type/protocol: "protocol" (title)' in flags.loc["s:3", "rule_flags"]
    assert flags.loc["s:6", "rule_flags"] == "[against] year/years: year 1985"
    assert flags.loc["s:7", "rule_flags"].startswith("[for] intervention/work")  # no year: year rule silent
    assert (flags["excluded_by_rule"] == "").all()  # flag only by default
    assert flags.loc["s:1", "rule_score"] == 2 and flags.loc["s:3", "rule_score"] == 0


def test_exclude_action_is_counted_as_automation_and_a_human_wins(
    tmp_path: Path, records: pd.DataFrame
) -> None:
    rules = [dict(r, action="exclude") if r["name"] in ("protocol", "years") else r for r in RULES]
    settings = _settings(rules=tuple(rules))
    decisions = _decisions(
        tmp_path,
        "s:6,title_abstract,ana,include,,,\ns:6,title_abstract,ben,include,,,\n"
        "s:1,title_abstract,ana,exclude,,,\ns:1,title_abstract,ben,exclude,,,\n",
        records,
        settings,
    )
    result = screen(records, settings, decisions)
    table = result.title_abstract.set_index("record_id")
    assert (
        table.loc["s:3", "status"] == "excluded_by_automation" and table.loc["s:3", "consensus"] == "exclude"
    )
    assert table.loc["s:6", "status"] == "included"  # both reviewers included it: the year rule does not
    prisma = result.prisma
    assert prisma["records_excluded_by_automation_tools"] == 1
    assert prisma["automation_exclusions_by_rule"] == {"protocol": 1}
    assert prisma["records_screened"] == 6 and prisma["records_excluded"] == 1
    assert prisma["reports_sought_for_retrieval"] == 1
    assert prisma["records_awaiting_title_abstract"]["not_screened"] == 4
    assert "s:3" not in set(result.sheets[("title_abstract", "ana")]["record_id"])
    # ASReview export order: includes, undecided by rank, human excludes, automation excludes.
    assert table.index[0] == "s:6" and table.index[-1] == "s:3" and table.index[-2] == "s:1"


def test_consensus_conflicts_arbiter_and_full_text_reasons(tmp_path: Path, records: pd.DataFrame) -> None:
    text = (
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n"
        "s:2,title_abstract,ana,include,,,\ns:2,title_abstract,ben,exclude,,,\n"
        "s:3,title_abstract,ana,maybe,,,\ns:3,title_abstract,ben,exclude,protocol,,\n"
        "s:3,title_abstract,cat,include,,,\n"
        "s:4,title_abstract,ana,exclude,,,\n"
        "s:1,full_text,ana,exclude,feasibility,,\ns:1,full_text,ben,exclude,wrong_population,,\n"
        "s:3,full_text,ana,exclude,protocol,,\ns:3,full_text,ben,exclude,protocol,,\n"
    )
    settings = _settings()
    result = screen(records, settings, _decisions(tmp_path, text, records, settings))
    table = result.title_abstract.set_index("record_id")
    assert (table.loc["s:2", "conflict"], table.loc["s:2", "status"]) == ("include_vs_exclude", "conflict")
    assert table.loc["s:3", "status"] == "included"  # arbiter settled the maybe
    assert table.loc["s:4", "status"] == "awaiting_second_reviewer"
    conflicts = result.conflicts.set_index(["record_id", "stage"])
    assert conflicts.loc[("s:2", "title_abstract"), "votes"] == "ana=include; ben=exclude"
    assert conflicts.loc[("s:1", "full_text"), "conflict"] == "exclusion_reason"
    included = result.included.set_index("record_id")
    assert (
        included.loc["s:3", "full_text"] == "exclude"
        and included.loc["s:3", "full_text_reason"] == "protocol"
    )
    assert included.loc["s:1", "full_text"] == "conflict"
    assert result.prisma["reports_excluded"] == {"protocol": 1}
    assert result.prisma["reports_awaiting_full_text"]["conflict"] == 1
    # The sheets hold what each reviewer still has to do.
    ana = set(result.sheets[("title_abstract", "ana")]["record_id"])
    ben = set(result.sheets[("title_abstract", "ben")]["record_id"])
    assert ana == {"s:5", "s:6", "s:7"} and ben == {"s:4", "s:5", "s:6", "s:7"}
    agreement = result.agreement["title_abstract"][0]
    assert agreement["records_screened_by_both"] == 3 and agreement["records_screened_by_one_only"] == 1


# ---------------------------------------------------------------------------
# Ranking: deterministic, and it learns from the decisions.
# ---------------------------------------------------------------------------
def test_before_any_decision_seed_records_then_rules_order_the_list(records: pd.DataFrame) -> None:
    result = screen(records, _settings(seed_records=("s:7",)), pd.DataFrame(columns=["record_id", "stage"]))
    ranks = result.title_abstract.set_index("record_id")["rank"]
    assert ranks["s:7"] == 1  # the configured seed record
    assert {ranks["s:1"], ranks["s:2"]} == {2, 3}  # rule score 2
    assert result.prisma["ranking"].startswith("seed records and eligibility rules")


def _ranks(records: pd.DataFrame, decisions: pd.DataFrame, seed: int = 3) -> pd.Series:
    return screen(records, _settings(seed=seed), decisions).title_abstract.set_index("record_id")["rank"]


def test_ranking_is_deterministic_and_retrained_on_decisions(tmp_path: Path, records: pd.DataFrame) -> None:
    work_included = (
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n"
        "s:4,title_abstract,ana,exclude,,,\ns:4,title_abstract,ben,exclude,,,\n"
    )
    decisions = _decisions(tmp_path, work_included, records, _settings())
    first = _ranks(records, decisions)
    assert first.equals(_ranks(records, decisions))
    # Learned from s:1 (vocational, sick-listed, workers): s:2 and s:7 (work) above s:6 (cardiology).
    assert first["s:7"] < first["s:6"] and first["s:2"] < first["s:6"]
    # The opposite decisions turn the order around: the model uses them.
    reversed_ = _decisions(
        tmp_path,
        work_included.replace("include", "TMP").replace("exclude", "include").replace("TMP", "exclude"),
        records,
        _settings(),
    )
    second = _ranks(records, reversed_)
    assert second["s:6"] < second["s:7"]


def test_simulation_screens_priors_first_and_is_deterministic() -> None:
    texts = [f"return to work trial {i}" for i in range(10)] + [f"cardiology statins {i}" for i in range(30)]
    labels = np.array([1] * 10 + [0] * 30)
    features = feature_views(texts)
    order = simulate(features, labels, [3, 20], RankingSettings(), seed=5)
    assert order[:2].tolist() == [3, 20] and sorted(order.tolist()) == list(range(40))
    assert labels[order[:11]].sum() == 10  # every include found right after the priors
    assert np.array_equal(order, simulate(features, labels, [3, 20], RankingSettings(), seed=5))
    batched = simulate(features, labels, [3, 20], RankingSettings(growth=0.5), seed=5)
    assert sorted(batched.tolist()) == list(range(40))


def test_excludes_since_last_include_counts_the_trailing_run() -> None:
    assert excludes_since_last_include([1, 0, 0, 1, 0, 0, 0]) == 3
    assert excludes_since_last_include([0, 1]) == 0
    assert excludes_since_last_include([0, 0]) == 2
    assert excludes_since_last_include([]) == 0


STALL_TEXTS = [
    "randomised trial of vocational advice for back pain",
    "randomized trials of vocational advisers",
    "statins in cardiology",
    "statin dosing in heart failure",
    "qualitative interviews with managers",
    "lipid lowering in cardiology clinics",
]


def _percentile(scores: np.ndarray) -> np.ndarray:
    return (np.argsort(np.argsort(scores)) + 1) / len(scores)  # no ties in these examples


def test_a_long_run_of_excludes_switches_to_the_stall_ensemble() -> None:
    settings = RankingSettings(min_df=1, stall_after=2, stall_char_weight=2.0, other_every=0)
    assert settings.stall_mode == "ensemble"  # the default
    views = feature_views(STALL_TEXTS, settings)
    assert views.stalled.shape[1] == views.default.shape[1]
    assert (views.stalled != views.default).nnz > 0  # the stall view weighs characters more
    # include, then one exclude: not stalled, the default view scores
    flowing = score_records(views, [0, 2], [1, 0], settings)
    assert np.allclose(flowing, relevance_scores(views.default, [0, 2], [1, 0], settings))
    # include, then two excludes in a row: the mean percentile rank of the character-weighted
    # view's classifier and the include-weighted SVM on all words
    labelled, labels = [0, 2, 3], [1, 0, 0]
    chars = relevance_scores(views.stalled, labelled, labels, settings)
    svm = include_weighted_svm_scores(views.words, labelled, labels, settings)
    expected = (_percentile(chars) + _percentile(svm)) / 2
    stall_scores = score_records(views, labelled, labels, settings)
    assert np.allclose(stall_scores, expected)
    assert stall_scores[1] > stall_scores[2:].max()  # the other vocational-advice record leads
    # "switch": the character-weighted view alone
    switch = dataclasses.replace(settings, stall_mode="switch")
    assert np.allclose(score_records(views, labelled, labels, switch), chars)
    # stall handling can be turned off
    off = RankingSettings(min_df=1, stall_after=0, learner_choice="")
    off_views = feature_views(STALL_TEXTS, off)
    assert off_views.stalled is off_views.default and off_views.words is off_views.default
    # the learner choice still needs the every-word view for its SVM
    choosing = feature_views(STALL_TEXTS, dataclasses.replace(off, learner_choice="recent"))
    assert choosing.stalled is choosing.default and choosing.words is not choosing.default
    # The config's screening.model section reaches the ranker; on by default (40 and a quarter).
    configured = ScreeningSettings.from_config(
        {"model": {"stall_after": 80, "stall_fraction": 0.5, "stall_mode": "switch"}}
    )
    assert (configured.ranking.stall_after, configured.ranking.stall_fraction) == (80, 0.5)
    assert configured.ranking.stall_mode == "switch"
    default = ScreeningSettings.from_config({}).ranking
    assert (default.stall_after, default.stall_fraction, default.stall_mode) == (40, 0.25, "ensemble")
    with pytest.raises(ValueError, match="stall_mode"):
        feature_views(STALL_TEXTS, RankingSettings(stall_mode="vote"))


def test_stall_ensemble_with_one_class_only_has_nothing_to_learn() -> None:
    settings = RankingSettings(min_df=1, stall_after=2)
    views = feature_views(STALL_TEXTS, settings)
    # three excludes and no include: a "stall" by length, but no classifier can be trained
    assert stalled([0, 0, 0], settings)
    assert score_records(views, [2, 3, 4], [0, 0, 0], settings) is None
    assert include_weighted_svm_scores(views.words, [2, 3, 4], [0, 0, 0], settings) is None


def test_include_weighted_svm_weighs_includes_ratio_times_class_balance() -> None:
    """ASReview LAB's balanced sample weights: include 1, exclude n1 / (ratio x n0), mean 1."""
    from sklearn.svm import LinearSVC

    settings = RankingSettings(min_df=1, stall_svm_c=0.11, stall_include_ratio=9.8)
    views = feature_views(STALL_TEXTS, settings)
    labelled, labels = [0, 2, 3, 4], [1, 0, 0, 0]
    # one include, three excludes: raw weights 1 and 1 / (9.8 x 3), rescaled to a mean of 1
    raw = np.array([1.0, 1 / 29.4, 1 / 29.4, 1 / 29.4])
    weights = raw * 4 / raw.sum()
    assert weights[0] / weights[1] == pytest.approx(29.4)
    expected = LinearSVC(C=0.11, random_state=0).fit(views.words[labelled], labels, sample_weight=weights)
    scores = include_weighted_svm_scores(views.words, labelled, labels, settings)
    assert np.allclose(scores, expected.decision_function(views.words))
    # weighting includes up moves every score towards "include"
    plain = dataclasses.replace(settings, stall_include_ratio=1.0)
    assert (scores > include_weighted_svm_scores(views.words, labelled, labels, plain)).all()


def test_feature_views_default_words_equal_a_min_df_tfidf_and_the_words_view_keeps_rare_ngrams() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{t} study" for t in (*STALL_TEXTS, "vocational advice in primary care", "statins advice")]
    settings = RankingSettings(min_df=2, char_weight=0.0, stall_after=40)
    views = feature_views(texts, settings)
    reference = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(texts)
    assert np.allclose(views.default.toarray(), reference.toarray())
    # the words view: singletons kept, n-grams in more than 95% of records dropped
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), max_df=0.95, sublinear_tf=True)
    every = vectoriser.fit_transform(texts)
    assert "study" not in vectoriser.vocabulary_  # in every record
    assert views.words.shape[1] == every.shape[1] > views.default.shape[1]
    assert np.allclose(views.words.toarray(), every.toarray())


def test_stall_average_mode_averages_the_percentile_ranks_of_both_views() -> None:
    texts = STALL_TEXTS
    settings = RankingSettings(min_df=1, stall_after=2, stall_mode="average", other_every=0)
    views = feature_views(texts, settings)
    labelled, labels = [0, 2, 3], [1, 0, 0]  # include, two excludes: a stall
    words = relevance_scores(views.default, labelled, labels, settings)
    chars = relevance_scores(views.stalled, labelled, labels, settings)
    # e.g. a record ranked 6th of 6 by one view and 4th by the other scores (6 + 4) / 12
    expected = (np.argsort(np.argsort(words)) + 1 + np.argsort(np.argsort(chars)) + 1) / 12
    assert np.allclose(score_records(views, labelled, labels, settings), expected)
    # not in a stall: the default view alone, as with the switch
    assert np.allclose(
        score_records(views, [0, 2], [1, 0], settings),
        relevance_scores(views.default, [0, 2], [1, 0], settings),
    )
    with pytest.raises(ValueError, match="stall_mode"):
        score_records(views, labelled, labels, RankingSettings(min_df=1, stall_after=2, stall_mode="vote"))
    with pytest.raises(ValueError, match="stall_mode"):
        feature_views(texts, RankingSettings(min_df=1, stall_after=2, stall_mode="vote"))


def _choice_texts() -> tuple[list[str], np.ndarray]:
    topics = ["vocational advice for back pain", "statins in cardiology", "managers and sickness absence"]
    texts = [f"{topics[i % 3]} study {i} {'trial' if i % 2 else 'survey'}" for i in range(40)]
    # includes are mostly the vocational-advice records, with some noise either way
    labels = np.array([int((i % 3 == 0) != (i % 5 == 0 or i % 11 == 1)) for i in range(40)])
    return texts, labels


def test_choice_point_is_the_largest_grid_point_not_above_the_decisions() -> None:
    settings = RankingSettings()  # grid 10, 12, 15, 18, 22, 27, ... (each ceil(1.2 x) the last)
    assert [choice_point(n, settings) for n in (0, 9, 10, 11, 12, 14, 15, 17, 18, 21, 22, 27)] == [
        0, 0, 10, 10, 12, 12, 15, 15, 18, 18, 22, 27,
    ]  # fmt: skip
    finer = dataclasses.replace(settings, choice_growth=0.01)  # steps of at least one decision
    assert [choice_point(n, finer) for n in (10, 11, 12)] == [10, 11, 12]


def test_learner_choice_is_cross_validated_auc_on_a_prefix_of_the_decisions() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    texts, truth = _choice_texts()
    settings = RankingSettings(min_df=1, learner_choice="cv")
    views = feature_views(texts, settings)
    assert views.words is not views.default  # the SVM reads every word
    order = np.random.default_rng(3).permutation(40)
    # too few includes among the first 10 decisions: no choice, the default classifier ranks
    few = order[np.argsort(truth[order], kind="stable")][:12]  # every exclude before any include
    assert choose_learner(views, few, truth[few], settings) == LearnerChoice("default", 12)
    # 25 decisions: judged on the first 22 (grid point), whatever the last three were
    labelled, labels = order[:25], truth[order[:25]]
    choice = choose_learner(views, labelled, labels, settings, seed=1)
    assert choice.decisions == 22
    flipped = labels.copy()
    flipped[22:] = 1 - flipped[22:]
    fresh = feature_views(texts, settings)  # no cached choice
    assert choose_learner(fresh, labelled, flipped, settings, seed=1) == choice
    # the AUCs are 3-fold stratified cross-validation of the two learners on those 22
    index, y = labelled[:22], labels[:22]
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=1)
    by_default, by_svm = [], []
    for train, test in folds.split(index, y):
        logistic = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", random_state=1)
        logistic.fit(views.default[index[train]], y[train])
        by_default.append(roc_auc_score(y[test], logistic.decision_function(views.default[index[test]])))
        n1 = int(y[train].sum())
        weight = np.where(y[train] == 1, 1.0, n1 / (9.8 * (len(train) - n1)))
        weight *= len(train) / weight.sum()
        svm = LinearSVC(C=0.11, random_state=1).fit(views.words[index[train]], y[train], sample_weight=weight)
        by_svm.append(roc_auc_score(y[test], svm.decision_function(views.words[index[test]])))
    assert choice.auc_default == pytest.approx(np.mean(by_default))
    assert choice.auc_svm == pytest.approx(np.mean(by_svm))
    assert choice.learner == ("svm" if np.mean(by_svm) > np.mean(by_default) else "default")
    # "recent": trained on the first 32 of 40 decisions, tested on the last 8
    recent = dataclasses.replace(settings, learner_choice="recent")
    index, y = order, truth[order]
    assert min(y[32:].sum(), (y[32:] == 0).sum()) >= 2 and min(y[:32].sum(), (y[:32] == 0).sum()) >= 5
    judged = choose_learner(feature_views(texts, recent), index, y, recent, seed=1)
    assert (judged.decisions, judged.validation, judged.tested) == (40, "recent", 8)
    logistic = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", random_state=1)
    logistic.fit(views.default[index[:32]], y[:32])
    assert judged.auc_default == pytest.approx(
        roc_auc_score(y[32:], logistic.decision_function(views.default[index[32:]]))
    )
    n1 = int(y[:32].sum())
    weight = np.where(y[:32] == 1, 1.0, n1 / (9.8 * (32 - n1)))
    weight *= 32 / weight.sum()
    svm = LinearSVC(C=0.11, random_state=1).fit(views.words[index[:32]], y[:32], sample_weight=weight)
    assert judged.auc_svm == pytest.approx(
        roc_auc_score(y[32:], svm.decision_function(views.words[index[32:]]))
    )
    assert judged.learner == ("svm" if judged.auc_svm > judged.auc_default else "default")
    # too few includes among the recent decisions: cross-validation, as "cv" does
    few_recent = np.concatenate([index[y == 1][:6], index[y == 0]])[:22]  # includes first
    fallback = choose_learner(feature_views(texts, recent), few_recent, truth[few_recent], recent, seed=1)
    assert fallback.validation == "cross-validation" and fallback.tested == 22
    with pytest.raises(ValueError, match="learner_choice"):
        feature_views(texts, RankingSettings(learner_choice="vote"))


def test_delong_z_of_two_aucs_on_the_same_records_by_hand() -> None:
    y = np.array([1, 1, 0, 0])
    first = np.array([0.9, 0.2, 0.5, 0.1])  # AUC 0.75: the include at 0.2 is below the exclude at 0.5
    second = np.array([0.8, 0.7, 0.3, 0.6])  # AUC 1
    # structural components of `first`: includes place 1 and 0.5, excludes 0.5 and 1 (sample variance
    # 0.125 each); `second` places everything at 1 (variance 0, covariance 0), so
    # var(difference) = 0.125 / 2 + 0.125 / 2 and z = 0.25 / sqrt(0.125)
    assert paired_auc_z(y, first, second) == pytest.approx(0.25 / np.sqrt(0.125))
    assert paired_auc_z(y, second, first) == pytest.approx(-0.25 / np.sqrt(0.125))
    assert paired_auc_z(y, first, first) == 0.0
    # ties count a half, and the correlation between the two scorings is taken into account: a
    # scoring that differs from another only by a monotone map has the same AUC, z 0
    assert paired_auc_z(y, first, first**3 + 1) == 0.0
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 200)
    noisy = labels + rng.normal(0, 1.0, 200)
    sharper = labels + rng.normal(0, 0.3, 200)
    assert paired_auc_z(labels, noisy, sharper) > 3  # clearly better on 200 records


def test_the_kept_choice_changes_learner_only_when_the_other_wins_beyond_chance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ohevidence.screen.ranking as ranking

    settings = RankingSettings()
    assert settings.learner_choice == "kept" and settings.choice_z == 1.96  # the defaults
    assert choice_points(27, settings) == [10, 12, 15, 18, 22, 27] and choice_points(9, settings) == []
    # what the AUCs alone would say at each grid point, and DeLong's z (SVM minus default)
    judged = {
        10: LearnerChoice("default", 10),  # too few includes: no choice yet
        12: LearnerChoice("svm", 12, "cross-validation", 12, 0.6, 0.7),  # the first choice
        15: LearnerChoice("default", 15, "recent", 3, 0.7, 0.6, z=-1.0),  # within chance: kept
        18: LearnerChoice("default", 18, "recent", 4, 0.8, 0.5, z=-2.5),  # beyond: default
        22: LearnerChoice("svm", 22, "recent", 4, 0.5, 0.6, z=1.5),  # within chance: kept
        27: LearnerChoice("svm", 27, "cross-validation", 27, 0.5, 0.6),  # no recent window: kept
    }
    monkeypatch.setattr(ranking, "_judged_choice", lambda views, index, y, m, *a: judged[m])
    expected = {10: ("default", False), 12: ("svm", False), 15: ("svm", True), 18: ("default", False)}
    expected |= {22: ("default", True), 27: ("default", True)}
    for decided, (learner, kept) in expected.items():
        choice = choose_learner(None, list(range(decided)), [0] * decided, settings)  # type: ignore[arg-type]
        assert (choice.decisions, choice.learner, choice.kept) == (decided, learner, kept)
        assert choice.auc_svm == judged[decided].auc_svm  # the evidence shown is the latest window's
    # "recent" follows the AUCs at the latest point alone
    recent = dataclasses.replace(settings, learner_choice="recent")
    assert choose_learner(None, list(range(22)), [0] * 22, recent).learner == "svm"  # type: ignore[arg-type]


def test_interleave_gives_every_nth_place_to_the_other_learner() -> None:
    main = np.array([9.0, 8, 7, 6, 5, 4, 3, 2, 1, 0])  # main's order: 0, 1, 2, ..., 9
    other = np.array([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9])  # the other's order: 9, 8, 7, ...
    ties = np.arange(10)
    order = np.argsort(-interleave(main, other, 4, [], ties), kind="stable")
    assert order.tolist() == [0, 1, 2, 9, 3, 4, 5, 8, 6, 7]
    # decided records take no place and score below every other; a record the other learner would
    # place again is skipped (record 2 is both learners' best once 0, 1 are decided here)
    other = np.array([0.0, 0, 10, 3, 4, 5, 6, 7, 8, 9])
    scores = interleave(main, other, 2, [0, 1], ties)
    order = np.argsort(-scores, kind="stable")[:8]
    assert order.tolist() == [2, 9, 3, 8, 4, 7, 5, 6]
    assert scores[[0, 1]].max() < scores[order].min()
    with pytest.raises(ValueError, match="other_every"):
        RankingSettings(other_every=1)


def test_outside_a_stall_every_fourth_place_goes_to_the_learner_not_chosen() -> None:
    texts, truth = _choice_texts()
    settings = RankingSettings(min_df=1, learner_choice="")  # the default classifier is "chosen"
    assert settings.other_every == 4  # the default
    views = feature_views(texts, settings)
    decided = [0, 1, 2, 3, 4, 5]
    labels = truth[decided]
    default = relevance_scores(views.default, decided, labels, settings)
    svm = include_weighted_svm_scores(views.words, decided, labels, settings)
    scores = score_records(views, decided, labels, settings)
    from ohevidence.screen.ranking import tie_breaker

    assert np.array_equal(scores, interleave(default, svm, 4, decided, tie_breaker(40, 0)))
    alone = score_records(views, decided, labels, dataclasses.replace(settings, other_every=0))
    assert np.allclose(alone, default)
    order = [i for i in np.argsort(-scores, kind="stable") if i not in decided]
    by_default = [i for i in np.lexsort((tie_breaker(40, 0), -default)) if i not in decided]
    assert order[:3] == by_default[:3] and order[3] != by_default[3]  # 4th: the SVM's best
    assert ScreeningSettings.from_config({"model": {"other_every": 0}}).ranking.other_every == 0


def test_the_chosen_learner_ranks_outside_a_stall_and_the_stall_ensemble_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ohevidence.screen.ranking as ranking

    texts, _ = _choice_texts()
    settings = RankingSettings(min_df=1, stall_after=2, learner_choice="cv", other_every=0)
    views = feature_views(texts, settings)
    flowing = ([0, 1, 3], [1, 0, 1])  # include, exclude, include: no stall
    stall = ([0, 1, 2, 4, 5, 7], [1, 0, 0, 0, 0, 0])  # an include, then five excludes: a stall
    assert not stalled(flowing[1], settings) and stalled(stall[1], settings)
    plain = dataclasses.replace(settings, learner_choice="")
    for chosen in ("default", "svm"):
        monkeypatch.setattr(ranking, "choose_learner", lambda *a, c=chosen, **k: LearnerChoice(c, 10))
        for decided, labels in (flowing, stall):
            scores = score_records(views, decided, labels, settings)
            if chosen == "svm" and decided is flowing[0]:
                expected = include_weighted_svm_scores(views.words, decided, labels, settings)
            else:  # the default model, or in a stall the stall ensemble
                expected = score_records(views, decided, labels, plain)
            assert np.allclose(scores, expected)
    assert RankingSettings().learner_choice == "kept"  # the default
    assert ScreeningSettings.from_config({"model": {"learner_choice": ""}}).ranking.learner_choice == ""


def test_screen_run_says_which_learner_ranked_and_on_what_evidence() -> None:
    from ohevidence.screen.stage import rank_records

    texts, truth = _choice_texts()
    frame = pd.DataFrame({"record_id": [f"r:{i}" for i in range(40)]})
    settings = ScreeningSettings(ranking=RankingSettings(min_df=1, learner_choice="cv"))
    order = np.random.default_rng(3).permutation(40)
    few = {f"r:{i}": int(truth[i]) for i in order[:6]}
    _, _, how = rank_records(frame, texts, np.zeros(40), few, settings)
    assert "too few includes or excludes to compare learners" in how
    assert how.endswith("; every 4th place goes to the best record of the include-weighted SVM")
    decided = {f"r:{i}": int(truth[i]) for i in order[:25]}
    _, _, how = rank_records(frame, texts, np.zeros(40), decided, settings)
    views = feature_views(texts, settings.ranking)
    choice = choose_learner(views, order[:25], truth[order[:25]], settings.ranking, settings.seed)
    assert "chosen by 3-fold cross-validated AUC on the first 22 decisions" in how
    assert f"logistic {choice.auc_default:.3f}, include-weighted SVM {choice.auc_svm:.3f}" in how
    recent = dataclasses.replace(
        settings, ranking=dataclasses.replace(settings.ranking, learner_choice="recent")
    )
    everything = {f"r:{i}": int(truth[i]) for i in order}  # 40 decisions: judged on all 40
    _, _, how = rank_records(frame, texts, np.zeros(40), everything, recent)
    assert "chosen by AUC on the most recent 8 of the first 40 decisions (both learners trained" in how
    # in a stall the stall ensemble ranks, whichever learner was chosen, and the line says so
    stall_order = [*order[truth[order] == 1][:6], *order[truth[order] == 0][:60]]
    in_stall = {f"r:{i}": int(truth[i]) for i in stall_order}
    early_stall = dataclasses.replace(recent, ranking=dataclasses.replace(recent.ranking, stall_after=10))
    _, _, how = rank_records(frame, texts, np.zeros(40), in_stall, early_stall)
    assert (
        "in a stall (" in how
        and "ensemble of the character-weighted view and the include-weighted SVM" in how
    )
    switch = dataclasses.replace(
        early_stall, ranking=dataclasses.replace(early_stall.ranking, stall_mode="switch")
    )
    _, _, how = rank_records(frame, texts, np.zeros(40), in_stall, switch)
    assert "ranked by the classifier on the character-weighted view until the next include" in how
    alone = ScreeningSettings(ranking=RankingSettings(min_df=1, learner_choice=""))
    _, _, plain = rank_records(frame, texts, np.zeros(40), decided, alone)
    assert plain == "logistic model on 25 decided records"  # no choice to report
    # the default: the choice kept unless beaten beyond chance, and the other learner's share
    kept = ScreeningSettings(ranking=RankingSettings(min_df=1))
    _, _, how = rank_records(frame, texts, np.zeros(40), everything, kept)
    choice = choose_learner(feature_views(texts, kept.ranking), order, truth[order], kept.ranking, kept.seed)
    assert choice.validation == "recent" and choice.z is not None
    assert f"(DeLong's z {choice.z:+.2f}" in how
    assert ("kept, as the other learner's lead is within chance, |z| <= 1.96" in how) == choice.kept
    other = "the include-weighted SVM" if choice.learner == "default" else "the logistic model"
    assert how.endswith(f"; every 4th place goes to the best record of {other}")


def test_screen_run_says_when_a_learner_was_kept_against_the_aucs(monkeypatch: pytest.MonkeyPatch) -> None:
    import ohevidence.screen.stage as stage

    texts, truth = _choice_texts()
    frame = pd.DataFrame({"record_id": [f"r:{i}" for i in range(40)]})
    decided = {f"r:{i}": int(truth[i]) for i in range(30)}
    settings = ScreeningSettings(ranking=RankingSettings(min_df=1))
    cases = {
        LearnerChoice("svm", 27, "recent", 5, 0.8, 0.7, z=-1.2): (
            "ranked by the include-weighted SVM, chosen by AUC on the most recent 5 of the first 27"
            " decisions (both learners trained on the earlier ones): logistic 0.800, include-weighted SVM"
            " 0.700 (DeLong's z -1.20; kept, as the other learner's lead is within chance, |z| <= 1.96);"
            " every 4th place goes to the best record of the logistic model"
        ),
        LearnerChoice("svm", 27, "cross-validation", 27, 0.8, 0.7): (
            "logistic 0.800, include-weighted SVM 0.700 (kept: too few recent includes or excludes to"
            " test the other learner's lead); every 4th place"
        ),
        LearnerChoice("svm", 27, "recent", 5, 0.7, 0.8, z=2.5): (
            "logistic 0.700, include-weighted SVM 0.800 (DeLong's z +2.50); every 4th place goes to the"
            " best record of the logistic model"
        ),
    }
    for choice, expected in cases.items():
        monkeypatch.setattr(stage, "choose_learner", lambda *a, c=choice, **k: c)
        _, _, how = stage.rank_records(frame, texts, np.zeros(40), decided, settings)
        assert expected in how


@pytest.mark.parametrize("prior", [1.0, 3.0])  # stop 34's prior, and the default since stop 35
def test_records_without_features_go_first_while_their_estimated_include_rate_beats_the_ranked_one(
    prior: float,
) -> None:
    settings = RankingSettings(featureless_prior=prior)  # a window of a fifth (at least 10)
    # 20 decisions on records with features, 6 includes, one of them among the most recent 10;
    # 100 records have features, 5 have none (none screened yet)
    ranked = [1] * 5 + [0] * 5 + [1] + [0] * 9
    first = place_featureless(ranked, [False] * 20, 100, 5, settings)
    # q = (1 + a 0.3) / (10 + a); base rate (6 + 80 q) / 100; p = base (nothing screened yet)
    q = (1 + prior * 0.3) / (10 + prior)
    assert first.window == 10 and first.ranked_rate == pytest.approx(q)
    assert first.rate == pytest.approx((6 + 80 * q) / 100)
    # p > q, but one excluded would take p below q (a half of it with a = 1, a quarter with a = 3):
    # only one goes first until the next ranking
    assert first.first == 1
    overall = 6 / 21
    q = (1 + prior * overall) / (10 + prior)
    after = place_featureless([*ranked, 0], [False] * 20 + [True], 100, 4, settings)
    assert after.ranked_rate == pytest.approx(q)
    assert after.rate == pytest.approx((6 + 80 * q) / 100 * prior / (1 + prior)) and after.first == 0
    assert (after.screened, after.included) == (1, 0)
    # had it been an include, more of them would go first: p = (1 + a base) / (1 + a) stays above q
    # for a few excludes in a row
    included = place_featureless([*ranked, 1], [False] * 20 + [True], 100, 4, settings)
    assert included.first >= 2
    # never more than are left
    assert place_featureless([*ranked, 1, 1], [False] * 20 + [True] * 2, 100, 1, settings).first == 1
    # a long ranked run: the window is the most recent fifth
    assert place_featureless([1, 0] * 50, [False] * 100, 200, 5, settings).window == 20


def test_a_stronger_prior_lowers_the_estimate_of_records_without_features_more_slowly() -> None:
    # 40 decisions on records with features, 12 includes, 2 among the most recent 10; 3 records
    # without features screened, all excluded
    ranked = [1] * 10 + [0] * 20 + [1, 1] + [0] * 8
    without = [False] * 40 + [True] * 3
    one, three = (
        place_featureless([*ranked, 0, 0, 0], without, 200, 10, RankingSettings(featureless_prior=a))
        for a in (1.0, 3.0)
    )
    # three excludes: p = a base / (3 + a), a quarter of the base with a = 1, half of it with a = 3
    assert one.rate < three.rate
    assert one.rate == pytest.approx(_base_rate(ranked, 43, 1.0) / 4)
    assert three.rate == pytest.approx(_base_rate(ranked, 43, 3.0) / 2)
    with pytest.raises(ValueError, match="featureless_prior"):
        RankingSettings(featureless_prior=0)
    assert RankingSettings().featureless_prior == 3.0  # the default
    assert ScreeningSettings.from_config({"model": {"featureless_prior": 2}}).ranking.featureless_prior == 2


def _base_rate(ranked: list[int], decisions: int, prior: float) -> float:
    """The base rate of 200 records with features after ``ranked`` (window 10) by hand."""
    overall = sum(ranked) / decisions
    q = (sum(ranked[-10:]) + prior * overall) / (10 + prior)
    return (sum(ranked) + q * (200 - len(ranked))) / 200


def test_no_learner_trains_on_records_without_features_and_none_ranks_them() -> None:
    texts, truth = _choice_texts()
    texts = [*texts, "", "", ""]  # three records with neither title nor abstract
    settings = RankingSettings(min_df=1, learner_choice="", featureless="rate", other_every=0)
    views = feature_views(texts, settings)
    assert featureless(views).tolist() == [False] * 40 + [True] * 3
    decided = [0, 1, 40, 2, 3]  # record 40 has no text
    labels = [int(truth[0]), int(truth[1]), 1, int(truth[2]), int(truth[3])]
    scores = score_records(views, decided, labels, settings)
    text_only = [0, 1, 2, 3]
    expected = relevance_scores(views.default, text_only, truth[text_only], settings)
    assert np.allclose(scores[:40], expected[:40])  # the learner saw the decisions on text only
    # the default: not trained on, and scored by that same model (all alike, at its intercept)
    untrained = dataclasses.replace(settings, featureless="not_trained")
    assert np.allclose(score_records(views, decided, labels, untrained), expected)
    assert RankingSettings().featureless == "rate"  # the default
    # one of them included (p = 0.65 against q = 0.54, with the default prior of 3 decisions): the
    # next goes first and the other last; had it been excluded (p = 0.35 against q = 0.46), both
    # would go last until the next ranking
    assert max(scores[41], scores[42]) > scores[:40].max()
    assert min(scores[41], scores[42]) < scores[:40].min()
    excluded = [0, 1, 40, 41, 2, 3]  # two of them excluded: they drop below every ranked record
    scores = score_records(views, excluded, [*labels[:2], 0, 0, *labels[3:]], settings)
    assert scores[42] < scores[:40].min()
    # "" scores them like any other record, trained on every decision (the behaviour before)
    before = dataclasses.replace(settings, featureless="")
    assert np.allclose(
        score_records(views, decided, labels, before),
        relevance_scores(views.default, decided, labels, settings),
    )
    assert ScreeningSettings.from_config({"model": {"featureless": "rate"}}).ranking.featureless == "rate"
    with pytest.raises(ValueError, match="featureless"):
        feature_views(texts, RankingSettings(featureless="first"))


def test_screen_run_says_where_the_records_without_text_went() -> None:
    from ohevidence.screen.stage import rank_records

    texts, truth = _choice_texts()
    texts = [*texts, "", ""]
    frame = pd.DataFrame({"record_id": [f"r:{i}" for i in range(42)]})
    settings = ScreeningSettings(ranking=RankingSettings(min_df=1, learner_choice="", featureless="rate"))
    decided = {f"r:{i}": int(truth[i]) for i in range(12)} | {"r:40": 0}
    untrained = ScreeningSettings(ranking=RankingSettings(featureless="not_trained"))
    _, _, how = rank_records(frame, texts, np.zeros(42), decided, untrained)
    assert how.endswith(
        "; 2 records without title, abstract or keywords (1 screened, 0 included): no learner is trained"
        " on them, and the model scores them all alike"
    )
    rank, _, how = rank_records(frame, texts, np.zeros(42), decided, settings)
    assert (
        "2 records without title, abstract or keywords (1 screened, 0 included; the rest listed last)" in how
    )
    assert "among the 10 most recent decisions on the other records" in how
    assert rank[41] == 42  # the unscreened one is last
    # decisions on records without text alone cannot train a learner: the rules rank, and say why
    only = {"r:0": int(truth[0]), "r:40": 1 - int(truth[0])}
    _, _, how = rank_records(frame, texts, np.zeros(42), only, settings)
    assert how.startswith("seed records and eligibility rules (the decisions on records with a title")


def test_svm_companion_averages_the_default_and_the_include_weighted_svm_outside_a_stall() -> None:
    settings = RankingSettings(min_df=1, stall_after=2, companion="svm", other_every=0)
    views = feature_views(STALL_TEXTS, settings)
    assert views.words is not views.default  # the companion reads every word
    labelled, labels = [0, 2], [1, 0]  # include, one exclude: not a stall
    default = relevance_scores(views.default, labelled, labels, settings)
    svm = include_weighted_svm_scores(views.words, labelled, labels, settings)
    expected = (_percentile(default) + _percentile(svm)) / 2
    scores = score_records(views, labelled, labels, settings)
    assert np.allclose(scores, expected)
    assert scores[1] > scores[2:].max()  # the other vocational-advice record leads
    # in a stall the stall ensemble ranks, as without the companion
    stall = [0, 2, 3], [1, 0, 0]
    plain = dataclasses.replace(settings, companion="")
    assert np.allclose(score_records(views, *stall, settings), score_records(views, *stall, plain))
    assert RankingSettings().companion == ""  # off by default
    with pytest.raises(ValueError, match="companion"):
        feature_views(STALL_TEXTS, RankingSettings(companion="nb"))


def test_a_stall_must_be_long_beside_the_decisions_before_it() -> None:
    settings = RankingSettings(stall_after=3, stall_fraction=0.25)
    assert not stalled([1, 0, 0], settings)  # shorter than stall_after
    assert stalled([1, 0, 0, 0], settings)
    # 3 excludes after 12 decisions: 3 >= 0.25 x 12, a stall; after 13 it is not (3 < 3.25)
    assert stalled([1] * 12 + [0] * 3, settings)
    assert not stalled([1] * 13 + [0] * 3, settings)
    assert stalled([1] * 13 + [0] * 4, settings)
    # the run itself does not count among the decisions before it
    assert stalled([0] * 9 + [1, 0, 0, 0], settings)
    assert not stalled([1] * 12 + [0] * 3, RankingSettings(stall_after=0))


def test_simulate_command_output(tmp_path: Path) -> None:
    data = tmp_path / "labelled.csv"
    rows = [(f"t{i}", f"return to work trial {i}", "vocational advice", 1) for i in range(5)]
    rows += [(f"c{i}", f"statins trial {i}", "cardiology", 0) for i in range(15)]
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "title", "abstract", "relevant"])
        writer.writerows(rows)
    out = tmp_path / "order.csv"
    args = ["screen", "simulate", "--data", str(data), "--label-column", "relevant", "--id-column", "key"]
    args += ["--prior-included", "1", "--prior-excluded", "1", "--seed", "2", "--out", str(out)]
    assert main([*args, "--other-every", "1"]) == 2  # an impossible setting: one error, no traceback
    assert main([*args, "--featureless-prior", "0"]) == 2
    assert not out.exists()
    assert main(args) == 0
    order = pd.read_csv(out, dtype={"record_id": str})
    assert order.columns.tolist() == ["record_id", "rank", "label"]
    assert order["rank"].tolist() == list(range(1, 21))
    assert order["label"].tolist()[:2] == [1, 0]  # priors first
    assert sorted(order["record_id"]) == sorted(r[0] for r in rows)
    assert order["label"].tolist()[2:6] == [1, 1, 1, 1]
    # Without --id-column, ids are row numbers.
    assert main(args[:6] + args[8:]) == 0
    assert sorted(pd.read_csv(out)["record_id"]) == list(range(1, 21))
    # The stall switch is reachable from the command line and screens every record once.
    assert main([*args, "--stall-after", "2", "--stall-fraction", "0"]) == 0
    switched = pd.read_csv(out, dtype={"record_id": str})
    assert sorted(switched["record_id"]) == sorted(r[0] for r in rows)
    assert switched["label"].tolist()[:6] == [1, 0, 1, 1, 1, 1]


def test_simulate_rejects_a_bad_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "labelled.csv"
    data.write_text("title,abstract,y\na,b,1\nc,d,yes\n")
    code = main(
        ["screen", "simulate", "--data", str(data), "--label-column", "y", "--out", str(tmp_path / "o.csv")]
    )
    assert code == 2
    assert "labelled.csv, line 3, column 'y'" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Exports: formula injection, BOM, RIS and ASReview labels.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["=1+1", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-0.7321", "12", "+3", "Title", "", "'quoted"])
def test_plain_cells_are_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell


def test_every_csv_export_is_safe_and_opens_as_utf8_with_bom(tmp_path: Path, records: pd.DataFrame) -> None:
    settings = _settings()
    decisions = _decisions(
        tmp_path,
        "s:5,title_abstract,ana,include,,=cmd|' /C calc'!A0,\ns:5,title_abstract,ben,exclude,,,\n"
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n",
        records,
        settings,
    )
    out = tmp_path / "out"
    write_outputs(screen(records, settings, decisions), records, out)
    csvs = sorted(out.glob("*.csv"))
    expected = ["title_abstract", "conflicts", "included", "asreview", "to_screen_ana", "full_text_ben"]
    assert {p.name for p in csvs} >= {f"{name}.csv" for name in expected}
    for path in csvs:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert (
                        not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or neutralise(cell) == cell
                    ), (path, cell)
    conflicts = pd.read_csv(out / "conflicts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert conflicts.loc[0, "title"].startswith("'=HYPERLINK")
    assert "'=cmd" not in conflicts.loc[0, "notes"] or conflicts.loc[0, "notes"].startswith("ana")


def test_ris_and_asreview_labels(tmp_path: Path, records: pd.DataFrame) -> None:
    import rispy

    settings = _settings()
    decisions = _decisions(
        tmp_path,
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n"
        "s:4,title_abstract,ana,exclude,,,\ns:4,title_abstract,ben,exclude,,,\n",
        records,
        settings,
    )
    out = tmp_path / "out"
    write_outputs(screen(records, settings, decisions), records, out)
    entries = {e["id"]: e for e in rispy.load(out / "screening.ris")}
    assert "ASReview_relevant" in entries["s:1"]["notes"]
    assert "ASReview_irrelevant" in entries["s:4"]["notes"]
    assert "ASReview_not_seen" in entries["s:2"]["notes"]
    assert not (out / "screening.ris").read_text().startswith("1.")
    labels = pd.read_csv(out / "asreview.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    labels = labels.set_index("record_id")["asreview_label"]
    assert (labels["s:1"], labels["s:4"], labels["s:2"]) == ("1", "0", "")
    assert (
        json.loads((out / "agreement.json").read_text())["title_abstract"][0]["records_screened_by_both"] == 2
    )
    write_sheet(pd.DataFrame({"a": ["ü – ok"]}), out / "x.csv", ["a"])
    assert (out / "x.csv").read_text(encoding="utf-8-sig") == "a\nü – ok\n"


# ---------------------------------------------------------------------------
# The shipped demonstration screening matches the snapshot's records.
# ---------------------------------------------------------------------------
def _snapshot_records(tmp_path: Path) -> tuple[dict, pd.DataFrame]:
    """(the project's config, every record of its snapshot and imports, not deduplicated)."""
    from ohevidence.config import load_config
    from ohevidence.search.searches import FileSearch, load_manifest, merge_searches, run_file_search

    config = load_config(ROOT / "config/config.yaml", ROOT / "workflow/schemas/config.schema.yaml")
    searches = load_manifest(
        ROOT / config["snapshot"]["manifest"], ROOT / "workflow/schemas/config.schema.yaml"
    )
    searches = [(s, "snapshot") for s in searches] + [
        (FileSearch.from_mapping(i), "import") for i in config["imports"]
    ]
    dirs = []
    for search, mode in searches:
        search = dataclasses.replace(search, file=str(ROOT / search.file))
        run_file_search(search, mode=mode, out_dir=tmp_path / search.search_id)
        dirs.append(tmp_path / search.search_id)
    records, _ = merge_searches(dirs, records_out=tmp_path / "records.csv", log_out=tmp_path / "log.csv")
    return config, records


def test_shipped_decisions_cover_the_snapshot(tmp_path: Path) -> None:
    config, records = _snapshot_records(tmp_path)
    settings = ScreeningSettings.from_config(config["screening"])
    rules = DecisionRules(alias_map(records), settings.everyone, settings.exclusion_reasons)
    decisions = load_decisions(ROOT / config["screening"]["decisions"], None, rules)
    assert set(decisions["record_id"]) == set(records["record_id"])  # every record screened by the project
    assert decisions["note"].str.contains("evidence: shared/evidence/").all()
    result = screen(records.loc[:, RECORD_FIELDS], settings, decisions)
    included = result.included.set_index("record_id")["full_text"]
    assert included["pubmed_snapshot:39614629"] == "include"  # RETAKE main results
    assert "pubmed_snapshot:25012813" not in included.index  # SWAP protocol
    assert result.prisma["records_excluded_by_automation_tools"] == 0
    assert result.prisma["reports_excluded"].get("feasibility", 0) > 0
    assert result.agreement["title_abstract"][0]["percent_agreement"] < 100  # real disagreements


def test_practice_decisions_are_shipped_rows_and_leave_records_to_screen(tmp_path: Path) -> None:
    config, records = _snapshot_records(tmp_path)
    practice = yaml.safe_load((ROOT / "config/practice.yaml").read_text())["screening"]
    shipped = (ROOT / config["screening"]["decisions"]).read_text(encoding="utf-8").splitlines()
    rows = (ROOT / practice["decisions"]).read_text(encoding="utf-8").splitlines()
    assert rows[0] == shipped[0] and set(rows[1:]) < set(shipped[1:])  # a subset, rows unchanged
    settings = ScreeningSettings.from_config(config["screening"])
    rules = DecisionRules(alias_map(records), settings.everyone, settings.exclusion_reasons)
    decisions = load_decisions(ROOT / practice["decisions"], ROOT / practice["sheets_dir"], rules)
    result = screen(records.loc[:, RECORD_FIELDS], settings, decisions)
    to_screen = {r: len(result.sheets[("title_abstract", r)]) for r in settings.reviewers}
    # reviewer_a decided two records reviewer_b has still to screen
    assert to_screen["reviewer_b"] == to_screen["reviewer_a"] + 2 and to_screen["reviewer_a"] >= 20
    stop = result.stopping
    assert stop["includes_found"] > 0 and stop["records_screened"] < stop["records_to_screen"]
    assert not stop["safe_to_stop"]


def test_screening_tables_are_documented() -> None:
    from ohevidence import schema

    text = (ROOT / "config/README.md").read_text()
    section = text[text.index("## Screening") :]
    for columns in (
        schema.SCREENING_DECISION_COLUMNS,
        schema.SCREENING_SHEET_COLUMNS,
        schema.TITLE_ABSTRACT_COLUMNS,
        schema.TITLE_ABSTRACT_TAIL,
        schema.SCREENING_CONFLICT_COLUMNS,
        schema.INCLUDED_EXTRA_COLUMNS,
    ):
        for column in columns:
            assert f"| `{column.name}` |" in section, column.name


def test_character_ngrams_bridge_spelling_variants() -> None:
    """Words alone see 'randomised' and 'randomized' as unrelated; the character block does not."""
    texts = [
        "randomised trial of vocational advice",
        "randomized trial of vocational advice",
        "qualitative interviews with nurses",
        "qualitative interviews with managers",
    ]
    words_only = feature_views(texts, RankingSettings(char_weight=0.0, min_df=1)).default
    both = feature_views(texts, RankingSettings(min_df=1)).default
    assert both.shape[1] > words_only.shape[1]
    assert np.allclose(np.asarray((both.multiply(both)).sum(axis=1)).ravel(), 1.0)  # rows L2-normalised
    # the two trial records share more once character n-grams are in
    sim_words = (words_only[0] @ words_only[1].T).toarray()[0, 0]
    sim_both = (both[0] @ both[1].T).toarray()[0, 0]
    assert sim_both > sim_words


def test_the_model_reads_text_without_markup() -> None:
    # Database exports carry HTML entities and tags; the model should see the words only.
    text = screening_text(
        "Wilson&rsquo;s disease", "Cu<sup>2+</sup> in H<inf>2</inf>O; <i>ATP7B</i> &amp; a < b"
    )
    assert text == "Wilson's disease Cu2+ in H2O; ATP7B & a < b"
    assert screening_text("Wilson’s disease", "") == "Wilson's disease"


def test_schema_defaults_of_the_model_match_the_ranking_defaults() -> None:
    # The schema fills in screening.model for the pipeline, RankingSettings for `screen simulate`
    # and the benchmark: the two must not drift apart.
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    model = schema["properties"]["screening"]["properties"]["model"]["properties"]
    defaults = dataclasses.asdict(RankingSettings())
    assert model  # the section exists
    for key, spec in model.items():
        assert spec["default"] == defaults[key], key


# ---------------------------------------------------------------------------
# Decision paths: a typo is an error, not a review with no decisions.
# ---------------------------------------------------------------------------
def _config_with_screening(tmp_path: Path, **screening: object) -> str:
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config["screening"].update(screening)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _validate(config: str) -> int:
    return main(["validate", "--config", config, "--curated", str(ROOT / "data/curated")])


def _screen_run(config: str, tmp_path: Path) -> int:
    records = tmp_path / "unique_records.csv"
    records_frame(
        [make_record(record_id="s:1", search_id="s", source="other", title="A synthetic trial")]
    ).to_csv(records, index=False)
    return main(
        ["screen", "run", "--records", str(records), "--out", str(tmp_path / "out"), "--config", config]
    )


def test_screen_run_writes_each_output_where_the_rule_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 23: one file per option (sheets: one per reviewer, in config order); --out fills the rest."""
    monkeypatch.chdir(ROOT)
    nothing_yet = {"decisions": str(tmp_path / "none.csv"), "sheets_dir": str(tmp_path / "no_sheets")}
    config = _config_with_screening(tmp_path, no_decisions_yet=True, reviewers=["ann", "bob"], **nothing_yet)
    records = tmp_path / "unique_records.csv"
    records_frame(
        [make_record(record_id="s:1", search_id="s", source="other", title="A synthetic trial")]
    ).to_csv(records, index=False)
    base = ["screen", "run", "--records", str(records), "--config", config]
    named = ["--prisma-out", str(tmp_path / "n/prisma.json"), "--to-screen-out", str(tmp_path / "n/ann.csv")]
    assert main([*base, *named, "--out", str(tmp_path / "rest")]) == 2
    assert "--to-screen-out names 1 files for 2 reviewers" in capsys.readouterr().err
    named[-1:] = [str(tmp_path / "n/ta_ann.csv"), str(tmp_path / "n/ta_bob.csv")]
    assert main([*base, *named]) == 2
    assert "no file named for --title-abstract-out" in capsys.readouterr().err
    assert main([*base, *named, "--out", str(tmp_path / "rest")]) == 0
    assert sorted(p.name for p in (tmp_path / "n").iterdir()) == ["prisma.json", "ta_ann.csv", "ta_bob.csv"]
    assert json.loads((tmp_path / "n/prisma.json").read_text())["records_in"] == 1
    assert "bob" in (tmp_path / "n/ta_bob.csv").read_text(encoding="utf-8-sig")
    assert sorted(p.name for p in (tmp_path / "rest").iterdir()) == [
        "agreement.json",
        "asreview.csv",
        "conflicts.csv",
        "full_text_ann.csv",
        "full_text_bob.csv",
        "included.csv",
        "screening.ris",
        "stopping.json",
        "title_abstract.csv",
    ]


def test_decision_path_typo_is_an_error_unless_no_decisions_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)  # the config's relative paths
    typo = {"decisions": "data/curated/screening/decisons.csv", "sheets_dir": "data/curated/screeening"}
    config = _config_with_screening(tmp_path, **typo)
    for run in (lambda: _validate(config), lambda: _screen_run(config, tmp_path)):
        assert run() == 2
        error = capsys.readouterr().err
        assert "screening.decisions: data/curated/screening/decisons.csv not found" in error
        assert "no_decisions_yet" in error
    assert not (tmp_path / "out").exists()  # nothing screened, no PRISMA counts

    config = _config_with_screening(tmp_path, sheets_dir=typo["sheets_dir"])  # the decision file is right
    assert _validate(config) == 2
    assert "screening.sheets_dir: data/curated/screeening not found" in capsys.readouterr().err

    # Said explicitly: the paths may be missing, and the sheets are written.
    config = _config_with_screening(tmp_path, no_decisions_yet=True, **typo)
    assert _validate(config) == 0
    assert _screen_run(config, tmp_path) == 0
    assert (tmp_path / "out/prisma_counts.json").exists()

    # ... but not once decisions exist: they would be read while the config says there are none.
    config = _config_with_screening(tmp_path, no_decisions_yet=True)
    assert _validate(config) == 2
    assert (
        "no_decisions_yet is true but data/curated/screening/decisions.csv exists" in capsys.readouterr().err
    )


# Stopping guidance in the pipeline's outputs (the rule's arithmetic: tests/test_screen_stopping.py).
# ---------------------------------------------------------------------------
def test_stopping_guidance_is_written_from_the_screening_state(tmp_path: Path, records: pd.DataFrame) -> None:
    rules = [dict(r, action="exclude") if r["name"] == "protocol" else r for r in RULES]
    settings = _settings(rules=tuple(rules))
    text = (
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n"
        "s:4,title_abstract,ana,exclude,,,\ns:4,title_abstract,ben,exclude,,,\n"
        "s:6,title_abstract,ana,maybe,,,\n"  # one maybe vote: counted as an include, as the model does
        "s:5,title_abstract,ana,exclude,,,\n"
    )
    result = screen(records, settings, _decisions(tmp_path, text, records, settings))
    stop = result.stopping
    # 7 records, s:3 removed by the protocol rule: 6 to screen. Screened means settled: s:1 (include)
    # and s:4 (exclude); s:6 (a lone maybe, a conflict) and s:5 (one vote of two) are not yet.
    assert (stop["records_to_screen"], stop["records_screened"], stop["records_remaining"]) == (6, 2, 4)
    assert stop["includes_found"] == 1 and not stop["safe_to_stop"]
    # settled decisions in file order [1, 0]: m = 1, U = 4; the smallest p is the window after the
    # include (n = 1, k = 0): P(X = 0) = 4/5 (the whole sequence gives 1 - (2/6)(1/5) = 14/15)
    assert stop["p_value_recall_below_target"] == pytest.approx(4 / 5, abs=1e-6)
    written = json.loads((write_outputs(result, records, tmp_path / "out")["stopping"]).read_text())
    assert written == stop and written["verdict"].startswith("not yet")


def test_records_without_text_are_flagged_and_kept_out_of_the_stopping_estimate(
    tmp_path: Path, records: pd.DataFrame
) -> None:
    records = records.copy()
    blank = records["record_id"].isin(["s:2", "s:7"])
    records.loc[blank, ["title", "abstract", "keywords"]] = ""
    settings = _settings(rules=())
    text = (
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n"
        "s:4,title_abstract,ana,exclude,,,\ns:4,title_abstract,ben,exclude,,,\n"
        "s:7,title_abstract,ana,exclude,,,\ns:7,title_abstract,ben,exclude,,,\n"
    )
    result = screen(records, settings, _decisions(tmp_path, text, records, settings))
    flags = result.title_abstract.set_index("record_id")["rule_flags"]
    assert flags["s:2"].startswith("[note] no title, abstract or keywords") and flags["s:7"] == flags["s:2"]
    assert not flags.drop(["s:2", "s:7"]).str.contains("no title").any()
    stop = result.stopping
    # 7 records, 3 screened (s:1 include, s:4 and s:7 exclude); the estimate reads the 5 with text, 2
    # of them screened; s:7 was screened by hand and s:2, unscreened, is left to the reviewers
    # whatever the rule says
    assert (stop["records_to_screen"], stop["records_screened"], stop["includes_found"]) == (7, 3, 1)
    assert (stop["records_with_text_to_screen"], stop["records_with_text_screened"]) == (5, 2)
    assert stop["records_without_text_unscreened"] == 1 and stop["records_remaining"] == 4
    assert stop["verdict"].endswith(
        "1 unscreened record(s) with no title, abstract or keywords are not "
        "covered (the ranking cannot read them): screen them by hand"
    )


def _stopping_counts_from_title_abstract(path: Path) -> dict[str, int]:
    """What stopping.json must say, counted from title_abstract.csv as a reviewer would."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["status"] != "excluded_by_automation"]
    settled = [r for r in rows if r["consensus"] in ("include", "exclude")]
    return {
        "records_to_screen": len(rows),
        "records_screened": len(settled),
        "records_remaining": len(rows) - len(settled),
        "includes_found": sum(r["consensus"] == "include" for r in settled),
        "records_without_text_unscreened": sum(
            r["rule_flags"].startswith("[note] no title") and r["consensus"] == "" for r in rows
        ),
    }


def test_stopping_counts_match_title_abstract_and_never_fall_as_decisions_are_added(
    tmp_path: Path, records: pd.DataFrame
) -> None:
    records = records.copy()
    records.loc[records["record_id"].isin(["s:2", "s:6"]), ["title", "abstract", "keywords"]] = ""
    settings = _settings(rules=())
    # one record decided per step, in this order: s:2 and s:6 have no text; s:3 gets a lone vote
    # first, then its second; s:5 ends in a conflict, settled later by the arbiter
    steps = [
        "s:1,title_abstract,ana,include,,,\ns:1,title_abstract,ben,include,,,\n",
        "s:2,title_abstract,ana,exclude,,,\ns:2,title_abstract,ben,exclude,,,\n",
        "s:3,title_abstract,ana,exclude,,,\n",
        "s:4,title_abstract,ana,exclude,,,\ns:4,title_abstract,ben,exclude,,,\n",
        "s:5,title_abstract,ana,include,,,\ns:5,title_abstract,ben,exclude,,,\n",
        "s:6,title_abstract,ana,include,,,\ns:6,title_abstract,ben,include,,,\n",
        "s:3,title_abstract,ben,exclude,,,\n",
        "s:7,title_abstract,ana,exclude,,,\ns:7,title_abstract,ben,exclude,,,\n",
        "s:5,title_abstract,cat,include,,,\n",
    ]
    expected_screened = [1, 2, 2, 3, 3, 4, 5, 6, 7]
    previous: dict[str, int] = {}
    for step, screened in enumerate(expected_screened, start=1):
        text = "".join(steps[:step])
        result = screen(records, settings, _decisions(tmp_path, text, records, settings))
        out = tmp_path / f"out{step}"
        written = json.loads(write_outputs(result, records, out)["stopping"].read_text())
        counted = _stopping_counts_from_title_abstract(out / "title_abstract.csv")
        assert {key: written[key] for key in counted} == counted, f"after step {step}"
        assert written["records_screened"] == screened
        for key in ("records_screened", "includes_found"):
            assert written[key] >= previous.get(key, 0), f"{key} fell at step {step}"
        previous = written
    # all decided: 3 includes (s:1, s:6 without text, s:5 by the arbiter); the estimate reads s:1, s:3,
    # s:4, s:5 and s:7
    assert (written["includes_found"], written["records_remaining"]) == (3, 0)
    assert (written["records_with_text_screened"], written["includes_found_with_text"]) == (5, 2)
    assert written["verdict"] == "every record has been screened"


def test_stopping_settings_come_from_the_config(tmp_path: Path) -> None:
    section = {"stopping": {"recall_target": 0.9, "confidence": 0.99}}
    stopping = ScreeningSettings.from_config(section).stopping
    assert (stopping.recall_target, stopping.confidence) == (0.9, 0.99)
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    spec = schema["properties"]["screening"]["properties"]["stopping"]["properties"]
    defaults = dataclasses.asdict(ScreeningSettings().stopping)
    assert {key: value["default"] for key, value in spec.items()} == defaults


# ---------------------------------------------------------------------------
# Issue 26: every file in the sheets folder is read, refused, skipped with a note or warned about.
# ---------------------------------------------------------------------------
def _sheet_rows(*rows: str) -> str:
    return "record_id,stage,reviewer,decision,reason\n" + "".join(row + "\n" for row in rows)


def test_sheets_with_an_upper_or_mixed_case_extension_are_read(tmp_path: Path, records: pd.DataFrame) -> None:
    (tmp_path / "to_screen_ana.CSV").write_text(_sheet_rows("s:1,title_abstract,ana,include,"))
    (tmp_path / "to_screen_ben.Csv").write_text(_sheet_rows("s:2,title_abstract,ben,exclude,feasibility"))
    rules = DecisionRules(alias_map(records), ("ana", "ben"), REASONS)
    decisions = load_decisions(None, tmp_path, rules)
    assert sorted(decisions[["record_id", "reviewer", "decision"]].values.tolist()) == [
        ["s:1", "ana", "include"],
        ["s:2", "ben", "exclude"],
    ]


def test_lock_and_temporary_files_are_skipped_with_a_note(
    tmp_path: Path, records: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "to_screen_ana.csv").write_text(_sheet_rows("s:1,title_abstract,ana,include,"))
    # Excel's owner file while the sheet is open: 165 bytes that are no CSV at all
    (tmp_path / "~$to_screen_ana.csv").write_bytes(b"\x05ana" + b"\x00" * 50 + b"\xff\xfe")
    (tmp_path / ".~lock.to_screen_ana.csv#").write_text("ana,host,user,07.12.2026 10:00,\n")
    (tmp_path / "to_screen_ana.csv.tmp").write_text("record_id\ns:99\n")
    (tmp_path / ".to_screen_ana.csv").write_text("record_id\ns:99\n")
    rules = DecisionRules(alias_map(records), ("ana",), REASONS)
    with caplog.at_level("INFO", logger="ohevidence.screen"):
        decisions = load_decisions(None, tmp_path, rules)
    assert decisions["record_id"].tolist() == ["s:1"]
    notes = [r for r in caplog.records if "skipped lock or temporary" in r.getMessage()]
    assert len(notes) == 1
    for name in ("~$to_screen_ana.csv", ".~lock.to_screen_ana.csv#", "to_screen_ana.csv.tmp"):
        assert name in notes[0].getMessage()


@pytest.mark.parametrize("name", ["to_screen_ana.xlsx", "conflicts.XLS", "full_text_ana.ods"])
def test_a_spreadsheet_in_the_sheets_folder_is_refused_asking_for_csv(
    tmp_path: Path, records: pd.DataFrame, name: str
) -> None:
    (tmp_path / "to_screen_ben.csv").write_text(_sheet_rows("s:1,title_abstract,ben,include,"))
    (tmp_path / name).write_bytes(b"PK\x03\x04 not really a workbook")
    rules = DecisionRules(alias_map(records), ("ana", "ben"), REASONS)
    with pytest.raises(InputError) as info:
        load_decisions(None, tmp_path, rules)
    assert name in str(info.value) and "saved as CSV" in str(info.value)


def test_other_files_in_the_sheets_folder_are_named_in_one_warning(
    tmp_path: Path, records: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "to_screen_ana.csv").write_text(_sheet_rows("s:1,title_abstract,ana,include,"))
    (tmp_path / "to_screen_ben.txt").write_text(_sheet_rows("s:2,title_abstract,ben,include,"))
    (tmp_path / "notes.md").write_text("reviewer notes\n")
    rules = DecisionRules(alias_map(records), ("ana", "ben"), REASONS)
    with caplog.at_level("INFO", logger="ohevidence.screen"):
        decisions = load_decisions(None, tmp_path, rules)
    assert decisions["record_id"].tolist() == ["s:1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "to_screen_ben.txt" in warnings[0] and "notes.md" in warnings[0] and "save" in warnings[0]


def test_a_decision_on_an_id_holding_semicolons_follows_its_record_through_a_merge(tmp_path: Path) -> None:
    """A RIS accession field '000123; 000456' makes the id 'wos:WOS:000123; 000456'; a later search
    finds the same article, deduplication keeps that search's richer record, and the decision made
    before (on the Web of Science id) still applies to the merged record."""
    from ohevidence.dedupe import deduplicate
    from ohevidence.search.formats import parse_file

    ris = tmp_path / "wos.ris"
    ris.write_text(
        "TY  - JOUR\nAN  - WOS:000123; 000456\nTI  - Vocational advice for sick-listed workers\n"
        "AU  - Wynne-Jones, G\nPY  - 2018\nDO  - 10.9999/synthetic.77\nER  - \n",
        encoding="utf-8",
    )
    wos = parse_file(ris, fmt=None, source="wos", search_id="wos")
    record_id = wos[0]["record_id"]
    assert record_id == "wos:WOS:000123; 000456"
    pubmed = make_record(
        source="pubmed",
        search_id="pm",
        title="Vocational advice for sick-listed workers",
        authors="Wynne-Jones G",
        year="2018",
        doi="10.9999/synthetic.77",
        pmid="30000001",
        abstract="An invented abstract.",
    )
    decisions_file = tmp_path / "decisions.csv"
    decisions_file.write_text(HEADER + f'"{record_id}",title_abstract,ana,include,,,\n', encoding="utf-8")
    settings = _settings()
    for found in ([*wos], [*wos, pubmed]):  # before the new search, then after it merged the record
        unique = deduplicate(records_frame(found), link=False).unique_records
        assert len(unique) == 1
        rules = DecisionRules(alias_map(unique), settings.everyone, settings.exclusion_reasons)
        decisions = load_decisions(decisions_file, None, rules)
        assert decisions[["record_id", "decision"]].values.tolist() == [[unique["record_id"][0], "include"]]
    assert unique["record_id"][0] == "pm:30000001"


def test_the_workflow_watches_every_sheet_file_but_lock_files(tmp_path: Path) -> None:
    """screen_records' input: a spreadsheet or text file dropped after a run reruns screening (which
    then refuses or warns about it); a lock file coming and going does not."""
    from ohevidence.screen.sheets import sheet_files

    for name in ("decisions.csv", "a.CSV", "b.xlsx", "c.txt", "~$a.CSV", ".~lock.b.xlsx#", "d.tmp"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "archive").mkdir()
    files = sheet_files(tmp_path, tmp_path / "decisions.csv")
    assert [p.name for p in files.watched()] == ["a.CSV", "b.xlsx", "c.txt"]
    assert [p.name for p in files.temporary] == [".~lock.b.xlsx#", "d.tmp", "~$a.CSV"]
    assert [p.name for p in files.other] == ["archive", "c.txt"]
    screen_rule = (ROOT / "workflow/rules/screen.smk").read_text()
    assert ".watched()" in screen_rule


def test_a_spreadsheet_in_the_sheets_folder_stops_the_workflow_before_any_job(tmp_path: Path) -> None:
    """check_decision_paths runs in `ohevidence validate` and when the workflow starts."""
    from ohevidence.config import check_decision_paths
    from ohevidence.errors import ConfigError

    (tmp_path / "decisions.csv").write_text(HEADER)
    (tmp_path / "to_screen_ana.CSV").write_text(_sheet_rows())
    (tmp_path / "~$to_screen_ana.xlsx").write_bytes(b"\x05ana")  # Excel's lock file: not a sheet
    check_decision_paths(tmp_path / "decisions.csv", tmp_path, no_decisions_yet=False)
    (tmp_path / "to_screen_ana.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(
        ConfigError, match=r"config: screening\.sheets_dir: .*to_screen_ana\.xlsx is a spreadsheet"
    ):
        check_decision_paths(tmp_path / "decisions.csv", tmp_path, no_decisions_yet=False)
    with pytest.raises(ConfigError, match=r"no_decisions_yet is true but .*decisions\.csv exists"):
        check_decision_paths(tmp_path / "decisions.csv", tmp_path, no_decisions_yet=True)
    (tmp_path / "decisions.csv").unlink()
    with pytest.raises(ConfigError, match=r"no_decisions_yet is true but .*to_screen_ana\.CSV exists"):
        check_decision_paths(tmp_path / "decisions.csv", tmp_path, no_decisions_yet=True)
