"""Priority ranking for title/abstract screening: TF-IDF features and a linear classifier.

Features are word 1–2-gram TF-IDF plus, at half weight, character 3–5-gram TF-IDF within word
boundaries. The character block lets the model generalise across spelling and morphology
("randomised"/"randomized", "physiotherapist"/"physiotherapy"), which word features cannot; on the
ASReview benchmark sets it raised mean WSS@95 by about 3.5 points over words alone
(benchmarks/screening.py; docs/benchmarks/screening.md).

The model is retrained on every human decision made so far (active learning), so the records
most likely to be included rise to the top of each reviewer's list. Outside a stall (below), the
ranking is done by whichever of that classifier and a strongly regularised, include-heavy linear SVM
(ASReview LAB's default learner) ranks the most recent fifth of the decisions better when trained on
the earlier ones (:func:`choose_learner`): on the benchmark each learner wins some reviews by 5–25
points, and which kind a review is shows only in its own decisions. When the includes dry up — a
run of at least ``stall_after`` (40) excludes since the last include that is also at least
``stall_fraction`` (a quarter) as long as everything decided before it — the records are ranked
until the next include by an ensemble of two learners that err differently from the default model:
the same classifier on a character-weighted view (``stall_char_weight``), whose n-grams reach
includes worded unlike the known ones, and a strongly regularised linear SVM on all word 1–2-grams
that weights includes well above class balance (ASReview LAB's default learner), which ranks
anything resembling any include high. A model that has found what its words can find keeps
proposing near-misses of the known includes; the ensemble looks elsewhere. Measuring the run
against the decisions before it keeps this out of the ordinary gaps between includes, which grow
as screening goes on (docs/methods/screening.md, Ranking; docs/benchmarks/screening.md gives the
benchmark figures).

Outside a stall the learner chosen does not rank alone: every fourth place of the list goes to the
best record of the other learner (``other_every``), since the two find different includes. Once chosen,
a learner keeps ranking until the other ranks the most recent decisions better beyond chance
(DeLong's paired test, ``learner_choice: kept``): those decisions are the ranking learner's own
proposals, so its excludes there are its own false positives, and judged by AUC alone the learners
would take turns wherever they rank alike.

A record with no title, abstract or keywords has no features: no learner is trained on it, since a
row of zeros teaches nothing about words but would shift the class weights, the stall count and the
learner choice. Such records are listed first while their estimated include rate beats the include
rate among the latest decisions on the other records, and last otherwise (``featureless``).

Before any decision there is nothing to learn from: the eligibility rules' score and the
configured seed records order the list instead. Everything is deterministic for a given seed
(ties are broken by a seeded permutation, never by dictionary or hash order).

The same learner drives :func:`simulate`, which screens a fully labelled set in the model's
order (the ASReview simulation protocol) so the ranking can be benchmarked against ASReview LAB
(benchmarks/screening.py, where the defaults below were chosen).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from ohevidence.text import plain_text


@dataclass(frozen=True)
class RankingSettings:
    """Feature and classifier settings (defaults are the benchmarked ones)."""

    ngram_max: int = 2
    # A word or word pair found in one record only cannot carry what was learned to another
    # record; dropping them also makes each retraining several times faster.
    min_df: int = 2
    sublinear_tf: bool = True
    # Weight of the character 3–5-gram block beside the word block (0 = words only).
    char_weight: float = 0.5
    char_ngrams: tuple[int, int] = (3, 5)
    classifier: str = "logistic"  # logistic | svm
    c: float = 10.0  # inverse regularisation; includes are weighted up by the exclude/include ratio
    # Retraining schedule: at once after every include, otherwise after every
    # `1 + growth × records screened` excludes (0 = after every decision, as ASReview does).
    growth: float = 0.05
    # A stall: at least `stall_after` excludes in a row since the last include (0 = never), and at
    # least `stall_fraction` × the decisions made before that run.
    stall_after: int = 40
    stall_fraction: float = 0.25
    stall_char_weight: float = 2.0
    # What a stall does until the next include:
    #   "ensemble" ranks by the mean percentile rank of two learners that err differently from the
    #     default model and from each other: the same classifier on the character-weighted view
    #     (`stall_char_weight`) and a strongly regularised linear SVM on all word 1–2-grams that
    #     weights includes `stall_include_ratio` × more than class balance would (the learner of
    #     ASReview LAB's default model);
    #   "switch" scores with the character-weighted view alone; "average" averages the percentile
    #     ranks of the default and character-weighted views (benchmark candidates).
    stall_mode: str = "ensemble"
    stall_svm_c: float = 0.11
    stall_include_ratio: float = 9.8
    # Outside a stall, rank by the mean percentile rank of the default classifier and a second learner
    # whose errors differ (a benchmark candidate; "" = the default classifier alone): "svm" is the stall
    # ensemble's include-weighted SVM on the word view (ASReview LAB's default learner).
    companion: str = ""
    # Outside a stall, every `other_every`-th place of the list goes to the best record of the learner
    # not chosen (0 = never): the two learners find different includes, and the list should not rest
    # on one of them alone (:func:`interleave`).
    other_every: int = 4
    # Outside a stall, which learner ranks (issue 27): the default classifier or the stall ensemble's
    # include-weighted SVM, judged by how well each separates the decisions made so far (AUC;
    # :func:`choose_learner`): "recent" = whichever is better, trained on the earlier decisions and
    # tested on the most recent `choice_window` share (when those hold at least `choice_window_min`
    # includes and excludes), else by `choice_folds`-fold cross-validation; "cv" = always by
    # cross-validation; "" = no choice, the default classifier (before issue 27). The choice is judged on
    # the first m decisions, m the largest point of the grid 10, 12, 15, 18, ... (each
    # ⌈(1 + `choice_growth`) ×⌉ the last) not above the decisions made, once they hold at least
    # `choice_min` includes and as many excludes. In a stall the stall ensemble ranks, whichever
    # learner was chosen.
    # "kept" (the default since stop 34): the first choice is made as "recent" makes it; after that the
    # learner ranking keeps ranking until the other ranks the most recent window better by DeLong's
    # paired test at |z| > `choice_z` (:func:`paired_auc_z`). The recent window holds the records the
    # learner ranking proposed, so its excludes are that learner's own false positives: judged there by
    # AUC alone, the learners take turns wherever they rank alike.
    learner_choice: str = "kept"
    choice_z: float = 1.96
    choice_window: float = 0.2
    choice_window_min: int = 2
    choice_folds: int = 3
    choice_growth: float = 0.2
    choice_min: int = 5
    # Records without features (no title, abstract or keywords; up to 60 in a benchmark review, with
    # about as many includes as any others) tell a learner nothing about words. "rate" (the default
    # since stop 34): no learner is trained on them (:func:`with_features`), and they are listed first
    # while their estimated include rate beats that of the most recent `featureless_window` share of
    # the other decisions, last otherwise, both estimates shrunk towards a prior by
    # `featureless_prior` pseudo-decisions (:func:`place_featureless`; 3 since stop 35: with 1, a
    # single exclude halved their estimated rate, so where they hold includes as often as other
    # records they went to the end of the list after one or two decisions). "not_trained": not
    # trained on either; the learner scores them like any other record (all alike, at its
    # intercept). "" = trained on and scored like any other record (before issue 27).
    featureless: str = "rate"
    featureless_prior: float = 3.0
    featureless_window: float = 0.2
    # Reviews of more than `large_review` records (no benchmark set comes near) get features that
    # fit in memory at 250,000 records: word 1–2-grams hashed into 2**22 columns instead of a
    # vocabulary, float32, counted in chunks on `feature_jobs` processes, and character n-grams of
    # the lengths `large_char_ngrams` only (4-grams: a third of the 3–5-grams' non-zeros), which on
    # the benchmark sets ranked as well as 3–5 (docs/benchmarks/scale.md).
    large_review: int = 10_000
    large_char_ngrams: tuple[int, int] = (4, 4)
    feature_jobs: int = 2

    def __post_init__(self) -> None:
        for name, allowed in (
            ("stall_mode", STALL_MODES),
            ("companion", COMPANIONS),
            ("learner_choice", LEARNER_CHOICES),
            ("featureless", FEATURELESS_PLACEMENTS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"unknown {name} {getattr(self, name)!r} (expected one of {allowed})")
        if self.other_every < 0 or self.other_every == 1:
            raise ValueError(f"other_every {self.other_every} (expected 0 = never, or 2 or more)")
        if not self.featureless_prior > 0:
            raise ValueError(f"featureless_prior {self.featureless_prior} (expected a positive number)")
        if not self.choice_z > 0:
            raise ValueError(f"choice_z {self.choice_z} (expected a positive z)")


STALL_MODES = ("ensemble", "switch", "average")
COMPANIONS = ("", "svm")
LEARNER_CHOICES = ("", "cv", "recent", "kept")
FEATURELESS_PLACEMENTS = ("", "not_trained", "rate")


@dataclass(frozen=True)
class FeatureViews:
    """The records' feature matrices.

    ``default`` scores while includes keep coming; ``stalled`` is the character-weighted view and
    ``words`` the word 1–2-gram view of every n-gram in fewer than 95% of records (singletons
    kept), both used in a stall (``words`` only by the ensemble; otherwise it is ``default``).
    """

    default: sp.csr_matrix
    stalled: sp.csr_matrix
    words: sp.csr_matrix
    # :func:`choose_learner`'s choices on these views, by the decisions they were judged on
    choices: dict[tuple[object, ...], LearnerChoice] = field(default_factory=dict, compare=False, repr=False)


def screening_text(title: str, abstract: str, extra: str = "") -> str:
    """What the model reads of a record: title, abstract and any keyword fields, as plain text."""
    return plain_text(" ".join(part for part in (title, abstract, extra) if part))


def feature_views(texts: Sequence[str], settings: RankingSettings | None = None) -> FeatureViews:
    """Word 1–2-gram TF-IDF joined with weighted character n-gram TF-IDF, rows L2-normalised.

    Views: the default one (``char_weight``), the stall view (``stall_char_weight``) and, for the
    stall ensemble, words alone with every n-gram kept but those in more than 95% of records.
    The words are counted once; each view keeps its own columns and computes its own IDF.
    """
    settings = settings or RankingSettings()
    if len(texts) > settings.large_review:
        return large_feature_views(texts, settings)
    min_df = min(settings.min_df, max(1, len(texts) // 2))  # tiny reviews keep their words
    try:
        counts = CountVectorizer(ngram_range=(1, settings.ngram_max), dtype=np.float64).fit_transform(texts)
    except ValueError:  # no word at all (every title and abstract empty)
        counts = sp.csr_matrix((len(texts), 1))
    document_frequency = np.asarray((counts > 0).sum(axis=0)).ravel()
    words = _tfidf(counts, document_frequency >= min_df, settings)
    stall = settings.stall_after > 0
    needed = settings.char_weight > 0 or (stall and settings.stall_char_weight > 0)
    chars = char_features(texts, settings, min_df) if needed else None

    def view(weight: float) -> sp.csr_matrix:
        if weight <= 0 or chars is None:
            return words
        return normalize(sp.hstack([words, weight * chars]).tocsr())

    default = view(settings.char_weight)
    stalled = view(settings.stall_char_weight) if stall else default
    every_word = default
    if _needs_every_word(settings):
        every_word = _tfidf(counts, document_frequency <= 0.95 * len(texts), settings)
    return FeatureViews(default, stalled, every_word)


def _needs_every_word(settings: RankingSettings) -> bool:
    """Whether a learner reads the every-word view (the include-weighted SVM can rank)."""
    ensemble = settings.stall_after > 0 and settings.stall_mode == "ensemble"
    return ensemble or bool(settings.companion) or bool(settings.learner_choice)


def _tfidf(counts: sp.spmatrix, keep: np.ndarray, settings: RankingSettings) -> sp.csr_matrix:
    """TF-IDF (rows L2-normalised) of the kept columns of a count matrix."""
    kept = np.flatnonzero(keep)
    if kept.size == 0:
        return sp.csr_matrix((counts.shape[0], 1))
    kept_counts = counts[:, kept]  # a copy: transformed in place
    transformer = TfidfTransformer(sublinear_tf=settings.sublinear_tf).fit(kept_counts)
    return transformer.transform(kept_counts, copy=False).tocsr()


def char_features(texts: Sequence[str], settings: RankingSettings, min_df: int) -> sp.csr_matrix:
    """Character n-gram TF-IDF within word boundaries (hashed: no vocabulary held in memory)."""
    counts = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=settings.char_ngrams,
        n_features=2**18,
        alternate_sign=False,
        norm=None,
        dtype=np.float64,
    ).transform(texts)
    # As for words: an n-gram seen in fewer than min_df records carries nothing to another record.
    return _tfidf(counts, np.asarray((counts > 0).sum(axis=0)).ravel() >= min_df, settings)


WORD_HASH_FEATURES = 2**22
CHAR_HASH_FEATURES = 2**18
# Records counted at a time: arrays of a 20,000-record chunk (tens of MB) are big enough that the
# allocator hands them back when freed; 5,000-record chunks left 0.5 GB more resident at 116k records.
CHUNK_RECORDS = 20_000


def _hashed_counts(
    texts: Sequence[str], ngram_max: int, char_ngrams: tuple[int, int], chars: bool
) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
    """Hashed word 1–n-gram counts and (if ``chars``) character n-gram counts, float32."""
    words = HashingVectorizer(
        ngram_range=(1, ngram_max),
        n_features=WORD_HASH_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    ).transform(texts)
    if not chars:
        return words, None
    char_counts = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=char_ngrams,
        n_features=CHAR_HASH_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    ).transform(texts)
    return words, char_counts


def _counts_in_chunks(
    texts: Sequence[str], settings: RankingSettings
) -> list[tuple[sp.csr_matrix, sp.csr_matrix | None]]:
    """:func:`_hashed_counts` of each chunk of CHUNK_RECORDS, on ``feature_jobs`` processes when it pays."""
    jobs = max(1, min(settings.feature_jobs, os.cpu_count() or 1))
    size = max(1, min(CHUNK_RECORDS, -(-len(texts) // jobs)))  # the work shared evenly
    chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
    stall = settings.stall_after > 0
    chars = settings.char_weight > 0 or (stall and settings.stall_char_weight > 0)
    arguments = (settings.ngram_max, settings.large_char_ngrams, chars)
    jobs = min(jobs, len(chunks))
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        # Hashing is stateless: chunks counted apart and stacked equal the whole counted at once.
        # fork, not spawn: spawn re-runs the caller's main module, which a script need not guard.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_hashed_counts, chunks, *([a] * len(chunks) for a in arguments)))
    return [_hashed_counts(chunk, *arguments) for chunk in chunks]


def _idf(document_frequency: np.ndarray, n: int) -> np.ndarray:
    """TfidfTransformer's smoothed IDF, log((1 + n) / (1 + df)) + 1, in float32."""
    return (np.log(np.float32(n + 1) / (document_frequency.astype(np.float32) + 1)) + 1).astype(np.float32)


def _tfidf_part(counts: sp.csr_matrix, kept: np.ndarray, idf: np.ndarray, sublinear: bool) -> sp.csr_matrix:
    """TF-IDF of some rows (as TfidfTransformer, with the IDF of the whole review), rows L2-normalised."""
    part = counts[:, kept].tocsr()  # a copy: transformed in place
    if sublinear:
        np.log(part.data, out=part.data)
        part.data += 1
    part.data *= idf[part.indices]
    return normalize(part, copy=False)


def _stack(parts: list[sp.csr_matrix | None]) -> sp.csr_matrix:
    """``vstack`` of CSR parts that drops each part once copied (peak: the result and one part)."""
    nnz = sum(p.nnz for p in parts if p is not None)
    n_rows = sum(p.shape[0] for p in parts if p is not None)
    n_columns = next(p.shape[1] for p in parts if p is not None)
    index = np.int32 if nnz < 2**31 else np.int64
    data = np.empty(nnz, dtype=np.float32)
    indices = np.empty(nnz, dtype=index)
    indptr = np.zeros(n_rows + 1, dtype=index)
    row = position = 0
    for i, part in enumerate(parts):
        if part is None:
            continue
        data[position : position + part.nnz] = part.data
        indices[position : position + part.nnz] = part.indices
        indptr[row + 1 : row + part.shape[0] + 1] = part.indptr[1:] + position
        row += part.shape[0]
        position += part.nnz
        parts[i] = None
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_columns))


def _document_frequency(counts: sp.csr_matrix) -> np.ndarray:
    return np.bincount(counts.indices, minlength=counts.shape[1])


def _reweight(both: sp.csr_matrix, n_words: int, weight: float, out: np.ndarray) -> None:
    """Into ``out``: the values of the joined blocks with the character columns weighted ``weight``
    and every row L2-normalised (a block of rows at a time, so the work arrays stay small)."""
    step = 2_000
    for first in range(0, both.shape[0], step):
        last = min(first + step, both.shape[0])
        start, end = both.indptr[first], both.indptr[last]
        counts = np.diff(both.indptr[first : last + 1])
        values = both.data[start:end].astype(np.float64)
        values[both.indices[start:end] >= n_words] *= weight
        rows = np.repeat(np.arange(last - first), counts)
        norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=last - first))
        norms[norms == 0] = 1.0
        out[start:end] = values / norms[rows]


def large_feature_views(texts: Sequence[str], settings: RankingSettings) -> FeatureViews:
    """The views of :func:`feature_views` for a review of more than ``large_review`` records.

    Hashed word n-grams (no vocabulary), character n-grams of the lengths ``large_char_ngrams``,
    float32. Counted in chunks; each chunk is weighted (with the review's IDF) and joined as soon
    as the document frequencies are known, so the raw counts of the whole review are never held
    twice. The default and stall views share their column indices and row pointers (only the
    weights of the character columns differ).
    """
    parts: list[tuple[sp.csr_matrix, sp.csr_matrix | None] | None] = list(_counts_in_chunks(texts, settings))
    n = len(texts)
    sublinear = settings.sublinear_tf
    word_df = np.zeros(WORD_HASH_FEATURES, dtype=np.int64)
    for word_counts, _ in _present(parts):
        word_df += _document_frequency(word_counts)
    kept = np.flatnonzero(word_df >= settings.min_df)
    stall = settings.stall_after > 0
    weights = [settings.char_weight, settings.stall_char_weight if stall else settings.char_weight]
    every = None
    if _needs_every_word(settings):
        # hashed columns no record fills are left out, as a vocabulary would never hold them
        every = np.flatnonzero((word_df > 0) & (word_df <= 0.95 * n))
    with_chars = any(c is not None for _, c in _present(parts)) and max(weights) > 0
    char_kept = np.empty(0, dtype=np.int64)
    char_idf = np.empty(0, dtype=np.float32)
    if with_chars:
        char_df = np.zeros(CHAR_HASH_FEATURES, dtype=np.int64)
        for _, char_counts in _present(parts):
            if char_counts is not None:
                char_df += _document_frequency(char_counts)
        char_kept = np.flatnonzero(char_df >= settings.min_df)
        char_idf = _idf(char_df[char_kept], n)
        del char_df
    word_idf = _idf(word_df[kept], n)
    every_idf = _idf(word_df[every], n) if every is not None else None
    del word_df
    joined: list[sp.csr_matrix | None] = []
    words_alone: list[sp.csr_matrix | None] = []
    every_word: list[sp.csr_matrix | None] = []
    for i, pair in enumerate(parts):
        assert pair is not None
        word_counts, char_counts = pair
        parts[i] = None  # the raw counts of this chunk go as soon as they are weighted
        words = _tfidf_part(word_counts, kept, word_idf, sublinear)
        if every is not None and every_idf is not None:
            every_word.append(_tfidf_part(word_counts, every, every_idf, sublinear))
        del word_counts
        if not with_chars or char_counts is None:
            joined.append(words)
            continue
        chars = _tfidf_part(char_counts, char_kept, char_idf, sublinear)
        del char_counts
        joined.append(sp.hstack([words, chars], format="csr", dtype=np.float32))
        if min(weights) <= 0:
            words_alone.append(words)
    both = _stack(joined)
    every_matrix = _stack(every_word) if every_word else None
    if not with_chars:
        return FeatureViews(both, both, every_matrix if every_matrix is not None else both)
    words_matrix = _stack(words_alone) if words_alone else None
    weighted: dict[float, sp.csr_matrix] = {}
    distinct = list(dict.fromkeys(w for w in weights if w > 0))
    for k, weight in enumerate(distinct):  # the last one takes over the joined matrix's own values
        data = both.data if k == len(distinct) - 1 else np.empty_like(both.data)
        _reweight(both, kept.size, weight, data)
        weighted[weight] = sp.csr_matrix((data, both.indices, both.indptr), shape=both.shape)

    def view(weight: float) -> sp.csr_matrix:
        if weight > 0:
            return weighted[weight]
        assert words_matrix is not None
        return words_matrix

    default, stalled = view(weights[0]), view(weights[1])
    return FeatureViews(default, stalled, every_matrix if every_matrix is not None else default)


def _present(
    parts: list[tuple[sp.csr_matrix, sp.csr_matrix | None] | None],
) -> list[tuple[sp.csr_matrix, sp.csr_matrix | None]]:
    return [p for p in parts if p is not None]


def _classifier(settings: RankingSettings, seed: int) -> LogisticRegression | LinearSVC:
    # Includes are rare: class_weight "balanced" weights them by the exclude/include ratio.
    if settings.classifier == "logistic":
        return LogisticRegression(
            C=settings.c, class_weight="balanced", solver="liblinear", random_state=seed
        )
    if settings.classifier == "svm":
        return LinearSVC(C=settings.c, class_weight="balanced", random_state=seed)
    raise ValueError(f"unknown classifier {settings.classifier!r}")


def relevance_scores(
    features: sp.csr_matrix,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings | None = None,
    seed: int = 0,
) -> np.ndarray | None:
    """Score every record by a classifier trained on the labelled ones (1 = include).

    Returns None while the decisions hold only one class: a classifier cannot separate
    includes from excludes before it has seen both.
    """
    settings = settings or RankingSettings()
    labelled = np.asarray(labelled, dtype=int)
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        return None
    model = _classifier(settings, seed)
    model.fit(features[labelled], y)
    return decision_scores(model, features)


def excludes_since_last_include(labels_in_order: Sequence[int] | np.ndarray) -> int:
    """How many decisions in a row, at the end of the sequence, are excludes."""
    labels = np.asarray(labels_in_order, dtype=int)
    includes = np.flatnonzero(labels == 1)
    return int(len(labels) - 1 - includes[-1]) if len(includes) else len(labels)


def stalled(labels_in_order: Sequence[int] | np.ndarray, settings: RankingSettings) -> bool:
    """Whether the decisions so far (in the order made) end in a stall (see :class:`RankingSettings`)."""
    if settings.stall_after <= 0:
        return False
    run = excludes_since_last_include(labels_in_order)
    before = len(labels_in_order) - run
    return run >= settings.stall_after and run >= settings.stall_fraction * before


def include_weighted_svm_scores(
    features: sp.csr_matrix,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings,
    seed: int = 0,
) -> np.ndarray | None:
    """Scores of a linear SVM (C ``stall_svm_c``), includes weighted ``stall_include_ratio`` × balance.

    Each include weighs 1 and each exclude n_include / (ratio × n_exclude), rescaled to a mean
    weight of 1 (ASReview LAB's "balanced" sample weights): a broad model that ranks anything
    resembling any include high. None while the decisions hold only one class.
    """
    labelled = np.asarray(labelled, dtype=int)
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        return None
    return decision_scores(_include_weighted_svm(features[labelled], y, settings, seed), features)


def _include_weighted_svm(
    rows: sp.csr_matrix, y: np.ndarray, settings: RankingSettings, seed: int
) -> LinearSVC:
    n_include = int(y.sum())
    weight = np.where(y == 1, 1.0, n_include / (settings.stall_include_ratio * (len(y) - n_include)))
    weight *= len(y) / weight.sum()
    model = LinearSVC(C=settings.stall_svm_c, random_state=seed)
    model.fit(rows, y, sample_weight=weight)
    return model


@dataclass(frozen=True)
class LearnerChoice:
    """Which learner ranks (``default`` or ``svm``), judged on the first ``decisions`` decisions.

    ``validation`` says how: ``recent`` (trained on the earlier decisions, tested on the most recent
    ``tested`` ones) or ``cross-validation`` (``choice_folds`` folds over all of them); ``auc_default``
    and ``auc_svm`` are the learners' AUCs there. ``validation`` is empty and the AUCs None when no
    choice was made (too few includes or excludes: the default classifier ranks).
    """

    learner: str
    decisions: int
    validation: str = ""
    tested: int = 0
    auc_default: float | None = None
    auc_svm: float | None = None
    # DeLong's z of the SVM's AUC minus the default's on the tested decisions (recent validation only)
    z: float | None = None

    @property
    def kept(self) -> bool:
        """Whether the learner was kept although the AUCs favour the other (``learner_choice`` "kept")."""
        if self.auc_default is None or self.auc_svm is None:
            return False
        return self.learner != ("svm" if self.auc_svm > self.auc_default else "default")


def choice_points(decided: int, settings: RankingSettings) -> list[int]:
    """The points of the grid 10, 12, 15, 18, ... (each ⌈(1 + ``choice_growth``) ×⌉ the last, at
    least one more) not above ``decided``."""
    points: list[int] = []
    point = 10
    while point <= decided:
        points.append(point)
        point = max(point + 1, math.ceil(point * (1 + settings.choice_growth)))
    return points


def choice_point(decided: int, settings: RankingSettings) -> int:
    """The largest point of the grid (:func:`choice_points`) not above ``decided`` (0 below 10)."""
    return (choice_points(decided, settings) or [0])[-1]


def _fewer_class(y: np.ndarray) -> int:
    """How many decisions the rarer of include and exclude has."""
    includes = int(y.sum())
    return min(includes, len(y) - includes)


def choose_learner(
    views: FeatureViews,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings,
    seed: int = 0,
) -> LearnerChoice:
    """The learner that separates the first m decisions better (m = :func:`choice_point`).

    The learners are the default classifier on the default view and the include-weighted SVM on
    the every-word view; the SVM is chosen when its AUC is higher. ``learner_choice`` "recent"
    trains both on all but the most recent ``choice_window`` × m of those decisions and tests them
    on the recent ones: the records screened lately resemble those still to come more than the early
    ones do. When the recent decisions hold fewer than ``choice_window_min`` includes or excludes, or
    the earlier ones fewer than ``choice_min``, and always for "cv", the AUC is the mean over
    ``choice_folds``-fold stratified cross-validation (folds shuffled with the seed) of the m.
    Judging on a prefix of the decisions, in the order made, makes the choice the same whether they
    arrive one at a time (a simulation) or all at once (`screen run`); choices are cached on ``views``.

    "kept" replays the choices at every grid point up to m: the first is made as "recent" makes it;
    at each later point judged on the recent window, the learner chosen before keeps ranking unless
    DeLong's z (:func:`paired_auc_z`) favours the other beyond ``choice_z``. Those recent records are
    the ranking learner's own proposals, so judged by AUC alone it is handicapped there.
    """
    labelled = np.asarray(labelled, dtype=int)
    y_all = np.asarray(labels, dtype=int)
    if settings.learner_choice != "kept":
        return _judged_choice(views, labelled, y_all, choice_point(len(y_all), settings), settings, seed)
    choice = LearnerChoice("default", 0)
    for m in choice_points(len(y_all), settings):
        judged = _judged_choice(views, labelled, y_all, m, settings, seed)
        if choice.auc_default is None or judged.auc_default is None:
            choice = judged  # the first choice, as "recent" makes it
            continue
        learner = choice.learner
        if judged.z is not None and abs(judged.z) > settings.choice_z:
            learner = "svm" if judged.z > 0 else "default"
        choice = dataclasses.replace(judged, learner=learner)
    return choice


def _judged_choice(
    views: FeatureViews,
    labelled: np.ndarray,
    y_all: np.ndarray,
    m: int,
    settings: RankingSettings,
    seed: int,
) -> LearnerChoice:
    """The learner with the higher AUC on the first ``m`` decisions (see :func:`choose_learner`)."""
    index, y = labelled[:m], y_all[:m]
    if m == 0 or _fewer_class(y) < settings.choice_min:
        return LearnerChoice("default", m)
    digest = hashlib.blake2b(index.tobytes() + y.astype(np.int8).tobytes(), digest_size=16).hexdigest()
    key = (m, digest, settings, seed)
    if key in views.choices:
        return views.choices[key]
    tested = max(1, round(settings.choice_window * m))
    earlier, recent = y[: m - tested], y[m - tested :]
    if (
        settings.learner_choice in ("recent", "kept")
        and _fewer_class(earlier) >= settings.choice_min
        and _fewer_class(recent) >= settings.choice_window_min
    ):
        splits = [(np.arange(m - tested), np.arange(m - tested, m))]
        validation = "recent"
    else:
        folds = StratifiedKFold(
            n_splits=min(settings.choice_folds, _fewer_class(y)), shuffle=True, random_state=seed
        )
        splits = list(folds.split(index, y))
        validation, tested = "cross-validation", m
    auc: dict[str, list[float]] = {"default": [], "svm": []}
    z = None
    for train, test in splits:
        model = _classifier(settings, seed).fit(views.default[index[train]], y[train])
        default_scores = model.decision_function(views.default[index[test]])
        auc["default"].append(roc_auc_score(y[test], default_scores))
        svm = _include_weighted_svm(views.words[index[train]], y[train], settings, seed)
        svm_scores = svm.decision_function(views.words[index[test]])
        auc["svm"].append(roc_auc_score(y[test], svm_scores))
        if validation == "recent":
            z = paired_auc_z(y[test], default_scores, svm_scores)
    default_auc, svm_auc = float(np.mean(auc["default"])), float(np.mean(auc["svm"]))
    learner = "svm" if svm_auc > default_auc else "default"
    choice = LearnerChoice(learner, m, validation, tested, default_auc, svm_auc, z)
    views.choices[key] = choice
    return choice


def paired_auc_z(y: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """DeLong's z for AUC(second) − AUC(first), both scoring the same records (DeLong et al. 1988).

    The variance of the difference comes from each include's and each exclude's placement among the
    other class under both scorings (the structural components), so the two AUCs' correlation is
    accounted for. ±inf when the variance is zero but the AUCs differ; 0 when they are equal.
    """
    y = np.asarray(y, dtype=int)
    includes, excludes = y == 1, y == 0
    parts = []
    for scores in (np.asarray(first, dtype=float), np.asarray(second, dtype=float)):
        above = scores[includes][:, None] - scores[excludes][None, :]
        placement = (above > 0) + 0.5 * (above == 0)
        parts.append((placement.mean(axis=1), placement.mean(axis=0), placement.mean()))
    variance = 0.0
    for axis, count in ((0, int(includes.sum())), (1, int(excludes.sum()))):
        if count > 1:
            covariance = np.cov(np.vstack([parts[0][axis], parts[1][axis]]))
            variance += (covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]) / count
    difference = float(parts[1][2] - parts[0][2])
    if variance > 0:
        return difference / math.sqrt(variance)
    return 0.0 if difference == 0 else math.copysign(math.inf, difference)


SCORE_BLOCK = 20_000


def decision_scores(model: LogisticRegression | LinearSVC, features: sp.csr_matrix) -> np.ndarray:
    """The model's decision values for every row, ``SCORE_BLOCK`` rows at a time.

    Each row's score depends on that row alone, so blocks give the same values as one call; they
    keep scikit-learn's float64 copy of float32 features (large reviews) to one block, not the
    whole matrix.
    """
    n = features.shape[0]
    return np.concatenate(
        [
            np.asarray(model.decision_function(features[start : start + SCORE_BLOCK]), dtype=float)
            for start in range(0, n, SCORE_BLOCK)
        ]
        or [np.zeros(0)]
    )


def percentile_ranks(scores: Sequence[np.ndarray]) -> np.ndarray:
    """The mean over score vectors of each record's rank / n (ties share their mean rank)."""
    return sum(rankdata(s) for s in scores) / (len(scores) * len(scores[0]))


def featureless(views: FeatureViews) -> np.ndarray:
    """Which records have no feature at all in the default view: True per record.

    These are the records with no title, abstract or keywords, and any whose every word and
    character n-gram was too rare to keep.
    """
    return np.diff(views.default.indptr) == 0


def with_features(
    views: FeatureViews,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """The decisions the learners train on, in the order made: those on records with features.

    A record without features is a row of zeros: it teaches a learner nothing about words, yet it
    would shift the class balance, the stall count and the learner choice. With ``featureless`` ""
    every decision is kept (the behaviour before issue 27).
    """
    index = np.asarray(labelled, dtype=int)
    y = np.asarray(labels, dtype=int)
    if not settings.featureless:
        return index, y
    keep = ~featureless(views)[index]
    return index[keep], y[keep]


@dataclass(frozen=True)
class FeaturelessPlacement:
    """How many of the unscreened records without features go first (``first``); the rest go last.

    ``rate`` is their estimated include rate, ``ranked_rate`` that of the next ranked records (the
    most recent ``window`` decisions on records with features); ``screened`` and ``included`` count
    the decisions on records without features so far.
    """

    first: int
    rate: float
    ranked_rate: float
    window: int
    screened: int
    included: int


def _featureless_rates(
    y: np.ndarray, without: np.ndarray, with_features_total: int, settings: RankingSettings
) -> tuple[float, float, int]:
    """(their estimated include rate p, the ranked rate q, the window q was read on)."""
    a = settings.featureless_prior
    overall = float(y.mean()) if len(y) else 0.0
    ranked = y[~without]
    window = min(len(ranked), max(10, round(settings.featureless_window * len(ranked))))
    tail = int(ranked[len(ranked) - window :].sum())
    ranked_rate = (tail + a * overall) / (window + a) if window + a > 0 else overall
    unscreened = max(with_features_total - len(ranked), 0)
    base = overall
    if with_features_total:
        base = (int(ranked.sum()) + ranked_rate * unscreened) / with_features_total
    screened = int(without.sum())
    rate = (int(y[without].sum()) + a * base) / (screened + a) if screened + a > 0 else base
    return rate, ranked_rate, window


def place_featureless(
    labels_in_order: Sequence[int] | np.ndarray,
    featureless_decided: Sequence[bool] | np.ndarray,
    with_features_total: int,
    unscreened: int,
    settings: RankingSettings,
) -> FeaturelessPlacement:
    """How many of the ``unscreened`` records without features to screen next, and the estimates.

    No learner can rank them, but they are not a random draw to be screened last: in the benchmark
    reviews they were included about as often as records overall. So each is worth screening as soon
    as its chance of inclusion beats that of the next ranked record, both estimated from the
    decisions (in the order made), each shrunk towards a prior by ``featureless_prior`` (a)
    pseudo-decisions:

    * the ranked rate q: the includes among the most recent ``featureless_window`` share (at least
      10) of the decisions on records with features, shrunk towards the include rate π of all
      decisions: q = (includes + a π) / (window + a);
    * the base rate π_f of records with features: the includes found among them plus q for each one
      not yet screened, over all of them (a ranking finds includes early, so π overstates it);
    * the rate of records without features: their includes, shrunk towards π_f:
      p = (includes + a π_f) / (screened + a).

    While p > q one goes first. The list is not re-ranked after every decision, and each one
    screened and excluded lowers p, so only as many go first as could be screened in a row, all
    excluded, with p still above q; the others go last until the next ranking.
    """
    y = np.asarray(labels_in_order, dtype=int)
    without = np.asarray(featureless_decided, dtype=bool)
    rate, ranked_rate, window = _featureless_rates(y, without, with_features_total, settings)
    first = 0
    while first < unscreened:
        after = _featureless_rates(  # had the first `first` of them been screened and excluded
            np.append(y, np.zeros(first, dtype=int)),
            np.append(without, np.ones(first, dtype=bool)),
            with_features_total,
            settings,
        )
        if after[0] <= after[1]:
            break
        first += 1
    return FeaturelessPlacement(first, rate, ranked_rate, window, int(without.sum()), int(y[without].sum()))


def featureless_placement(
    views: FeatureViews,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings,
) -> FeaturelessPlacement | None:
    """:func:`place_featureless` for these decisions; None unless ``featureless`` is "rate" and some
    record has no features."""
    without = featureless(views)
    if settings.featureless != "rate" or not without.any():
        return None
    index = np.asarray(labelled, dtype=int)
    unscreened = int(without.sum()) - int(without[index].sum())
    return place_featureless(labels, without[index], int((~without).sum()), unscreened, settings)


def score_records(
    views: FeatureViews,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings | None = None,
    seed: int = 0,
) -> np.ndarray | None:
    """:func:`relevance_scores` on the view the screening state calls for.

    ``labelled`` and ``labels`` are in the order the decisions were made. The learners train on the
    decisions on records with features (:func:`with_features`). Outside a stall (:func:`stalled`)
    the chosen learner scores; in one, what ``stall_mode`` says (see :class:`RankingSettings`).
    With ``featureless`` "rate", records without features then score above or below every other
    record (:func:`place_featureless`). None while those decisions hold only one class.
    """
    settings = settings or RankingSettings()
    index, y = with_features(views, labelled, labels, settings)
    if len(set(y.tolist())) < 2:
        return None
    # One BLAS thread: these small fits gain nothing from more, and OpenBLAS's idle threads spin,
    # which cost ~70% more CPU per simulation and slowed simulations run side by side threefold.
    with threadpool_limits(limits=1, user_api="blas"):
        scores = _score(views, index, y, settings, seed)
    placement = featureless_placement(views, labelled, labels, settings)
    if scores is None or placement is None:
        return scores
    scores = np.asarray(scores, dtype=float).copy()
    without = featureless(views)
    left = np.setdiff1d(np.flatnonzero(without), np.asarray(labelled, dtype=int))
    first = left[np.argsort(tie_breaker(len(scores), seed)[left], kind="stable")][: placement.first]
    scores[without] = scores[~without].min() - 1.0
    scores[first] = scores[~without].max() + 1.0
    return scores


# What ranks in a stall, by ``stall_mode``, in a reader's words.
STALL_RANKERS = {
    "ensemble": "the ensemble of the character-weighted view and the include-weighted SVM",
    "switch": "the classifier on the character-weighted view",
    "average": "the mean rank of the classifier on the default and the character-weighted views",
}


def ranking_learner(
    views: FeatureViews,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings,
    seed: int = 0,
) -> str:
    """What ranks after these decisions: ``stall`` (what ``stall_mode`` says), ``svm`` or ``default``.

    The decisions are those the learners train on (:func:`with_features`).
    """
    if stalled(labels, settings):
        return "stall"
    if settings.learner_choice and choose_learner(views, labelled, labels, settings, seed).learner == "svm":
        return "svm"
    return "default"


def _score(
    views: FeatureViews,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings,
    seed: int,
) -> np.ndarray | None:
    learner = ranking_learner(views, labelled, labels, settings, seed)
    if learner in ("svm", "default") and settings.other_every:
        default = relevance_scores(views.default, labelled, labels, settings, seed)
        svm = include_weighted_svm_scores(views.words, labelled, labels, settings, seed)
        if default is not None and svm is not None:
            first, second = (svm, default) if learner == "svm" else (default, svm)
            return interleave(first, second, settings.other_every, labelled, tie_breaker(len(first), seed))
    if learner == "svm":
        return include_weighted_svm_scores(views.words, labelled, labels, settings, seed)
    if learner == "default":
        scores = relevance_scores(views.default, labelled, labels, settings, seed)
        if not settings.companion or scores is None:
            return scores
        other = include_weighted_svm_scores(views.words, labelled, labels, settings, seed)
        return scores if other is None else percentile_ranks([scores, other])
    if settings.stall_mode == "switch":
        return relevance_scores(views.stalled, labelled, labels, settings, seed)
    members = [relevance_scores(views.stalled, labelled, labels, settings, seed)]
    if settings.stall_mode == "ensemble":
        members.append(include_weighted_svm_scores(views.words, labelled, labels, settings, seed))
    else:  # average
        members.append(relevance_scores(views.default, labelled, labels, settings, seed))
    return percentile_ranks([m for m in members if m is not None])


def interleave(
    main: np.ndarray, other: np.ndarray, every: int, decided: Sequence[int] | np.ndarray, ties: np.ndarray
) -> np.ndarray:
    """Scores whose order is ``main``'s, with every ``every``-th place given to ``other``'s best record.

    Only undecided records are placed (``decided`` score below all of them); each learner's order
    breaks ties by ``ties``, and a record placed once is skipped by the other learner.
    """
    n = len(main)
    open_ = np.ones(n, dtype=bool)
    open_[np.asarray(decided, dtype=int)] = False
    orders = [order[open_[order]] for order in (np.lexsort((ties, -main)), np.lexsort((ties, -other)))]
    placed = np.zeros(n, dtype=bool)
    merged = np.empty(len(orders[0]), dtype=int)
    cursor = [0, 0]
    for place in range(len(merged)):
        which = 1 if place % every == every - 1 else 0
        order = orders[which]
        while placed[order[cursor[which]]]:
            cursor[which] += 1
        merged[place] = order[cursor[which]]
        placed[merged[place]] = True
    scores = np.full(n, -float(n) - 1.0)
    scores[merged] = -np.arange(len(merged), dtype=float)
    return scores


def tie_breaker(n: int, seed: int) -> np.ndarray:
    """A seeded random permutation rank used to break ties deterministically."""
    return np.random.default_rng(seed).permutation(n)


def simulate(
    views: FeatureViews,
    labels: np.ndarray,
    priors: Sequence[int],
    settings: RankingSettings | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Screen every record in the model's order, retraining as labels arrive; return the full order.

    ``priors`` (indices, e.g. one include and one exclude) are screened first. After each
    retraining the top-ranked unscreened record is screened next. The model is retrained at once
    after an include; after an exclude only every ``1 + growth × n`` excludes (n = records screened
    so far), screening the previous model's next records in between, so that large sets stay fast.
    """
    settings = settings or RankingSettings()
    n = views.default.shape[0]
    labels = np.asarray(labels, dtype=int)
    order: list[int] = list(priors)
    seen = np.zeros(n, dtype=bool)
    seen[list(priors)] = True
    ties = tie_breaker(n, seed)
    stale = True  # the model has not seen the latest decisions
    excludes_since_fit = 0
    queue: list[int] = []
    while len(order) < n:
        due = 1 + int(settings.growth * len(order))
        if stale and (not queue or excludes_since_fit >= due):
            fitted = score_records(views, order, labels[order], settings, seed)
            scores = fitted if fitted is not None else np.zeros(n)
            candidates = np.flatnonzero(~seen)
            queue = candidates[np.lexsort((ties[candidates], -scores[candidates]))].tolist()
            queue.reverse()  # pop() from the end = highest score first
            stale = False
            excludes_since_fit = 0
        index = queue.pop()
        if seen[index]:
            continue
        seen[index] = True
        order.append(index)
        stale = True
        if labels[index] == 1:
            queue = []  # an include changes the picture: retrain before the next record
        else:
            excludes_since_fit += 1
    return np.asarray(order, dtype=int)
