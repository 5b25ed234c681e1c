"""Priority ranking for title/abstract screening: TF-IDF word 1–2-grams and a linear classifier.

The model is retrained on every human decision made so far (active learning), so the records
most likely to be included rise to the top of each reviewer's list. Before any decision there
is nothing to learn from: the eligibility rules' score and the configured seed records order
the list instead. Everything is deterministic for a given seed (ties are broken by a seeded
permutation, never by dictionary or hash order).

The same learner drives :func:`simulate`, which screens a fully labelled set in the model's
order (the ASReview simulation protocol) so the ranking can be benchmarked against ASReview LAB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC


@dataclass(frozen=True)
class RankingSettings:
    """Feature and classifier settings (defaults are the benchmarked ones, see benchmarks/screening.py)."""

    ngram_max: int = 2
    min_df: int = 1
    sublinear_tf: bool = True
    classifier: str = "logistic"  # logistic | svm | nb, or an ensemble such as "nb+svm"
    c: float = 1.0
    nb_alpha: float = 3.822  # ASReview's NB default (in ensembles)
    # Retraining schedule: after every include, and after every `1 + n_labelled * growth`
    # excludes in between (0 = retrain after every single decision, as ASReview does).
    growth: float = 0.0


def screening_text(title: str, abstract: str, extra: str = "") -> str:
    """What the model reads of a record: title, abstract and any keyword fields."""
    return " ".join(part for part in (title, abstract, extra) if part)


def tfidf_features(texts: Sequence[str], settings: RankingSettings = RankingSettings()) -> sp.csr_matrix:
    """Word 1–2-gram TF-IDF matrix, one row per record (English stop words kept: 'not', 'no' matter)."""
    vectoriser = TfidfVectorizer(
        ngram_range=(1, settings.ngram_max),
        min_df=settings.min_df,
        sublinear_tf=settings.sublinear_tf,
        lowercase=True,
        dtype=np.float64,
    )
    non_empty = [text if text.strip() else "" for text in texts]
    if not any(non_empty):
        return sp.csr_matrix((len(texts), 1))
    return vectoriser.fit_transform(non_empty).tocsr()


def _classifier(settings: RankingSettings, seed: int) -> object:
    if settings.classifier == "logistic":
        return LogisticRegression(
            C=settings.c, class_weight="balanced", solver="liblinear", random_state=seed
        )
    if settings.classifier == "svm":
        return LinearSVC(C=settings.c, class_weight="balanced", random_state=seed)
    if settings.classifier == "nb":
        return MultinomialNB(alpha=settings.c)
    raise ValueError(f"unknown classifier {settings.classifier!r}")


def relevance_scores(
    features: sp.csr_matrix,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    settings: RankingSettings = RankingSettings(),
    seed: int = 0,
) -> np.ndarray | None:
    """Score every record by a classifier trained on the labelled ones (1 = include).

    Returns None while the decisions hold only one class: a classifier cannot separate
    includes from excludes before it has seen both.
    """
    labelled = np.asarray(labelled, dtype=int)
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        return None
    if "+" in settings.classifier:
        # Mean of the models' rank percentiles: naive Bayes and a discriminative linear model
        # err on different records, so together they miss fewer includes.
        parts = [
            _fit_score(
                features,
                labelled,
                y,
                RankingSettings(classifier=name, c=settings.nb_alpha if name == "nb" else settings.c),
                seed,
            )
            for name in settings.classifier.split("+")
        ]
        return np.mean(
            [np.argsort(np.argsort(p, kind="stable"), kind="stable") for p in parts], axis=0
        ) / len(parts[0])
    return _fit_score(features, labelled, y, settings, seed)


def _fit_score(
    features: sp.csr_matrix, labelled: np.ndarray, y: np.ndarray, settings: RankingSettings, seed: int
) -> np.ndarray:
    model = _classifier(settings, seed)
    model.fit(features[labelled], y)  # type: ignore[attr-defined]
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(features), dtype=float)  # type: ignore[attr-defined]
    log_proba = model.predict_log_proba(features)  # type: ignore[attr-defined]
    return np.asarray(log_proba[:, 1] - log_proba[:, 0], dtype=float)


def tie_breaker(n: int, seed: int) -> np.ndarray:
    """A seeded random permutation rank used to break ties deterministically."""
    return np.random.default_rng(seed).permutation(n)


def order_by(scores: np.ndarray, candidates: np.ndarray, seed: int) -> np.ndarray:
    """Candidates sorted by score (highest first), ties broken by a seeded permutation."""
    ties = tie_breaker(len(scores), seed)[candidates]
    return candidates[np.lexsort((ties, -scores[candidates]))]


def simulate(
    features: sp.csr_matrix,
    labels: np.ndarray,
    priors: Sequence[int],
    settings: RankingSettings = RankingSettings(),
    seed: int = 0,
) -> np.ndarray:
    """Screen every record in the model's order, retraining as labels arrive; return the full order.

    ``priors`` (indices, e.g. one include and one exclude) are screened first. After each
    retraining the top-ranked unscreened record is screened next; with ``settings.growth`` > 0
    the model is retrained immediately after an include but only every ``1 + growth × n``
    excludes, so large sets stay fast (the order within such a batch follows the last model).
    """
    n = features.shape[0]
    labels = np.asarray(labels, dtype=int)
    order: list[int] = list(priors)
    seen = np.zeros(n, dtype=bool)
    seen[list(priors)] = True
    ties = tie_breaker(n, seed)
    scores = np.zeros(n)
    stale = True  # the model has not seen the latest decisions
    excludes_since_fit = 0
    queue: list[int] = []
    while len(order) < n:
        due = 1 + int(settings.growth * len(order))
        if stale and (not queue or excludes_since_fit >= due):
            fitted = relevance_scores(features, order, labels[order], settings, seed)
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
