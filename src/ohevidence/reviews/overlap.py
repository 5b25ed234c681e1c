"""Overlap of primary studies across reviews: citation matrix and corrected covered area.

Pieper et al. 2014 (J Clin Epidemiol 67:368-375), GROOVE: with N distinct primary studies (rows of
the citation matrix), r reviews (columns) and c inclusions (ticks, counting a study again in every
review that includes it),

    CCA = (c - N) / (N * r - N)

as a percentage: slight below 6, moderate 6 to 10, high 11 to 15, very high above 15.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

# Pieper 2014's bands: slight below 6 per cent, moderate 6 to 10, high above 10 up to 15, very high above 15.
CCA_BANDS: tuple[tuple[float, str], ...] = (
    (6, "slight"),
    (10, "moderate"),
    (15, "high"),
    (math.inf, "very high"),
)


@dataclass(frozen=True)
class Overlap:
    primary_studies: int  # N
    reviews: int  # r
    inclusions: int  # c
    cca: float | None  # per cent; None when undefined (N * r - N == 0: one review, or no study)

    @property
    def band(self) -> str:
        return cca_band(self.cca) if self.cca is not None else ""


def corrected_covered_area(inclusions: int, primary_studies: int, reviews: int) -> float | None:
    """CCA in per cent (Pieper 2014), or None when N * r - N is 0 (a single review or no study)."""
    if inclusions < primary_studies or primary_studies < 0 or reviews < 0:
        raise ValueError(
            f"inclusions ({inclusions}) must be at least the number of primary studies ({primary_studies})"
        )
    denominator = primary_studies * reviews - primary_studies
    if denominator <= 0:
        return None
    return 100.0 * (inclusions - primary_studies) / denominator


def cca_band(cca: float) -> str:
    """Pieper 2014's band for a CCA in per cent."""
    if cca < CCA_BANDS[0][0]:
        return CCA_BANDS[0][1]
    return next(band for limit, band in CCA_BANDS[1:] if cca <= limit)


def citation_matrix(pairs: Iterable[tuple[str, str]], reviews: Sequence[str] | None = None) -> pd.DataFrame:
    """Primary study x review, 1/0, from (review, study) pairs; studies sorted, reviews in given order."""
    pairs = list(dict.fromkeys(pairs))
    columns = list(reviews) if reviews is not None else list(dict.fromkeys(r for r, _ in pairs))
    studies = sorted({s for _, s in pairs})
    matrix = pd.DataFrame(0, index=pd.Index(studies, name="study"), columns=columns, dtype=int)
    for review, study in pairs:
        matrix.loc[study, review] = 1
    return matrix


def overlap(matrix: pd.DataFrame) -> Overlap:
    """N, r, c and CCA of a citation matrix (reviews with no recorded inclusion are not counted)."""
    used = matrix.loc[:, matrix.sum(axis=0) > 0] if len(matrix.columns) else matrix
    n = int((used.sum(axis=1) > 0).sum()) if len(used.columns) else 0
    r = len(used.columns)
    c = int(used.to_numpy().sum())
    return Overlap(n, r, c, corrected_covered_area(c, n, r))
