"""Screening-simulation metrics, as ASReview and the benchmark's ANCHORS.md define them.

Ranks are 1-based and count the priors; N and R include them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _relevant_ranks(labels_in_order: Sequence[int] | np.ndarray) -> np.ndarray:
    labels = np.asarray(labels_in_order, dtype=int)
    return np.flatnonzero(labels == 1) + 1


def wss(labels_in_order: Sequence[int] | np.ndarray, recall: float = 0.95) -> float:
    """Work saved over sampling: 100 × ((N − rank of the ⌈recall·R⌉-th include) / N − (1 − recall))."""
    ranks = _relevant_ranks(labels_in_order)
    n = len(labels_in_order)
    if len(ranks) == 0:
        return math.nan
    needed = math.ceil(recall * len(ranks) - 1e-9)
    return 100 * ((n - ranks[needed - 1]) / n - (1 - recall))


def rrf(labels_in_order: Sequence[int] | np.ndarray, fraction: float = 0.10) -> float:
    """Relevant records found: 100 × includes among the first ⌈fraction·N⌉ / R."""
    ranks = _relevant_ranks(labels_in_order)
    n = len(labels_in_order)
    if len(ranks) == 0:
        return math.nan
    cut = math.ceil(fraction * n - 1e-9)
    return 100 * float(np.sum(ranks <= cut)) / len(ranks)


def atd(labels_in_order: Sequence[int] | np.ndarray) -> float:
    """Average time to discovery: 100 × mean over includes of rank / N."""
    ranks = _relevant_ranks(labels_in_order)
    if len(ranks) == 0:
        return math.nan
    return 100 * float(np.mean(ranks / len(labels_in_order)))
