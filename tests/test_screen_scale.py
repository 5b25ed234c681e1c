"""Screening at scale: column-wise rules and the features of large reviews give what they should."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from ohevidence.screen import ranking
from ohevidence.screen.ranking import RankingSettings, feature_views, score_records
from ohevidence.screen.rules import RuleResult, apply_rules, compile_rules

ROOT = Path(__file__).resolve().parents[1]

TRICKY_TITLES = [
    "Return-to-work after sick leave: a RANDOMISED controlled trial",
    "Return  to\twork; workers, workforce and the unemployed",
    "Sickness absence in the workforce (study protocol)",
    "Non-randomized, quasi-experimental and nonrandomised designs",
    "Occupational health services and occupational physicians: a systematic review and meta-analysis",
    "Framework of a network of workers",  # 'work' inside words must not fire
    "Pilot feasibility study of intervention mapping",
    "Wor\u212aers in a \u212aitchen",  # Kelvin sign: cleaning makes it K
    "\u017fick leave and \u017ftaff",  # long s: re.IGNORECASE matches it to s, lower() does not
    "Cluster-randomi\u017fed trial of RCT designs in the \u0130stanbul workforce",
    "",
    "Focus groups, interviews and perceptions of staff",
    "A congress of employees; Cochrane review",
]


def _tricky_records() -> pd.DataFrame:
    rows = []
    for i, title in enumerate(TRICKY_TITLES):
        rows.append(
            {
                "record_id": f"r{i}",
                "title": title,
                "abstract": TRICKY_TITLES[-1 - i] + " Randomized clinical trial; return to work.",
                "keywords": "workplace intervention; RTW" if i % 3 == 0 else "",
                "publication_types": "Meeting Abstract" if i % 4 == 0 else "Journal Article",
                "journal": "Cochrane Database Syst Rev" if i % 5 == 0 else "",
                "year": str(1985 + 3 * i) if i % 6 else "",
                "language": ["eng", "ger", "", "eng; fre"][i % 4],
            }
        )
    frame = pd.DataFrame(rows)
    frame.loc[2, "abstract"] = float("nan")  # a missing cell never fires a rule
    return frame


def test_column_wise_rules_equal_the_record_by_record_reference() -> None:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    rules = compile_rules(config["screening"]["rules"])
    records = _tricky_records()
    flagged = apply_rules(records, rules)
    for record, row in zip(records.to_dict("records"), flagged.itertuples(), strict=True):
        expected = RuleResult(tuple(hit for rule in rules if (hit := rule.match(record)) is not None))
        assert row.record_id == record["record_id"]
        assert row.rule_flags == expected.flags
        assert row.rule_score == expected.score
    flags = flagged.set_index("record_id")["rule_flags"]
    assert '"\u017fick leave" (title)' in flags["r8"]  # found by the regular expression, not lower()
    assert '"WorKers" (title)' in flags["r7"]
    assert "Framework" not in flags["r5"] and "network" not in flags["r5"]  # words, not parts of words


# ---------------------------------------------------------------------------
# Ranking features: unchanged below the large-review threshold, the documented policy above it.
# ---------------------------------------------------------------------------
WORDS = (
    "return to work sick leave randomised randomized controlled trial workers employees office nurses "
    "back pain depression stress workplace intervention vocational rehabilitation cohort qualitative "
    "interviews statins cardiac outcomes older adults physiotherapy exercise ergonomics shift work"
).split()


def _texts(n: int, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for i in range(n):
        title = " ".join(rng.choice(WORDS, size=8))
        abstract = " ".join(rng.choice(WORDS, size=int(rng.integers(20, 60))))
        texts.append(f"{title.capitalize()}. {abstract}" if i % 9 else "")  # some records without text
    return texts


def _reference_view(words: sp.csr_matrix, chars: sp.csr_matrix, weight: float) -> np.ndarray:
    return normalize(sp.hstack([words, weight * chars]).tocsr()).toarray()


def _tfidf_reference(counts: sp.spmatrix, keep: np.ndarray) -> sp.csr_matrix:
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts[:, np.flatnonzero(keep)]).tocsr()


def test_features_of_a_review_below_the_threshold_are_the_straightforward_tfidf() -> None:
    texts = _texts(120)
    settings = RankingSettings()
    assert len(texts) <= settings.large_review
    views = feature_views(texts, settings)
    counts = CountVectorizer(ngram_range=(1, 2)).fit_transform(texts).astype(np.float64)
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    words = _tfidf_reference(counts, df >= 2)
    char_counts = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False, norm=None
    ).transform(texts)
    chars = _tfidf_reference(char_counts, np.asarray((char_counts > 0).sum(axis=0)).ravel() >= 2)
    assert views.default.dtype == np.float64
    np.testing.assert_allclose(views.default.toarray(), _reference_view(words, chars, 0.5), atol=1e-12)
    np.testing.assert_allclose(views.stalled.toarray(), _reference_view(words, chars, 2.0), atol=1e-12)
    every_word = _tfidf_reference(counts, df <= 0.95 * len(texts))
    np.testing.assert_allclose(views.words.toarray(), every_word.toarray(), atol=1e-12)


def test_a_large_review_hashes_words_keeps_character_4_grams_only_and_stays_float32(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _texts(60)
    # a threshold below the review, and chunks small enough that two processes count them
    settings = RankingSettings(large_review=50, feature_jobs=2)
    assert settings.large_char_ngrams == (4, 4)
    monkeypatch.setattr(ranking, "CHUNK_RECORDS", 7)
    views = feature_views(texts, settings)
    word_counts = HashingVectorizer(
        ngram_range=(1, 2), n_features=2**22, alternate_sign=False, norm=None
    ).transform(texts)
    df = np.bincount(word_counts.indices, minlength=word_counts.shape[1])
    words = _tfidf_reference(word_counts, df >= 2)
    char_counts = HashingVectorizer(
        analyzer="char_wb", ngram_range=(4, 4), n_features=2**18, alternate_sign=False, norm=None
    ).transform(texts)
    chars = _tfidf_reference(char_counts, np.bincount(char_counts.indices, minlength=2**18) >= 2)
    assert views.default.dtype == views.stalled.dtype == views.words.dtype == np.float32
    np.testing.assert_allclose(views.default.toarray(), _reference_view(words, chars, 0.5), atol=1e-6)
    np.testing.assert_allclose(views.stalled.toarray(), _reference_view(words, chars, 2.0), atol=1e-6)
    every_word = _tfidf_reference(word_counts, (df > 0) & (df <= 0.95 * len(texts)))
    np.testing.assert_allclose(views.words.toarray(), every_word.toarray(), atol=1e-6)
    # the two character-weighted views share their structure: only the values differ
    assert np.shares_memory(views.default.indices, views.stalled.indices)
    # and it ranks: a model trains on them
    labels = np.array([int("randomised" in t) for t in texts])
    labelled = np.flatnonzero(np.arange(len(texts)) % 2 == 0)
    assert score_records(views, labelled, labels[labelled], settings) is not None


def test_a_large_review_without_character_weight_ranks_on_words_alone() -> None:
    texts = _texts(30)
    views = feature_views(texts, RankingSettings(large_review=10, char_weight=0, stall_char_weight=0))
    assert views.default is views.stalled
    assert views.default.shape[1] < 2**22  # the kept hashed word columns only


def test_a_large_review_keeps_a_words_only_default_view_beside_a_character_weighted_stall_view() -> None:
    texts = _texts(30)
    settings = RankingSettings(large_review=10, char_weight=0)
    views = feature_views(texts, settings)
    words_only = feature_views(texts, RankingSettings(large_review=10, char_weight=0, stall_char_weight=0))
    np.testing.assert_allclose(views.default.toarray(), words_only.default.toarray(), atol=1e-6)
    assert views.stalled.shape[1] > views.default.shape[1]  # words and character 4-grams


def test_a_large_review_without_stall_handling_weights_the_characters_once() -> None:
    texts = _texts(40)
    settings = RankingSettings(large_review=10, stall_after=0)
    views = feature_views(texts, settings)
    with_stall = feature_views(texts, RankingSettings(large_review=10))
    assert views.default is views.stalled
    np.testing.assert_allclose(views.default.toarray(), with_stall.default.toarray(), atol=1e-6)


def test_scores_in_row_blocks_equal_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    features = sp.random(57, 40, density=0.2, format="csr", random_state=rng, dtype=np.float32)
    model = LogisticRegression(solver="liblinear").fit(features, np.arange(57) % 3 == 0)
    whole = model.decision_function(features)
    monkeypatch.setattr(ranking, "SCORE_BLOCK", 10)  # six blocks, the last one short
    blocked = ranking.decision_scores(model, features)
    assert blocked.shape == (57,)
    np.testing.assert_allclose(blocked, whole, rtol=1e-12)
