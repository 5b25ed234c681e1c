"""Screening simulation on a labelled set (the ASReview protocol), for benchmarking the ranking.

Priors: ``prior_included`` random includes and ``prior_excluded`` random excludes drawn with the
seed, screened first; then every other record in the model's order, retraining as labels
arrive. Output rows ``record_id, rank, label`` in screening order (ranks count the priors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ohevidence.cells import clean_text
from ohevidence.errors import InputError
from ohevidence.screen.ranking import RankingSettings, feature_views, screening_text, simulate


def read_labelled(
    path: Path, label_column: str, id_column: str | None
) -> tuple[list[str], list[str], np.ndarray]:
    """(record ids, texts, labels) of a labelled CSV with `title` and `abstract` columns."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot be read as a UTF-8 CSV ({exc})") from exc
    for column in ("title", "abstract", label_column, *([id_column] if id_column else [])):
        if column not in frame.columns:
            raise InputError(path, f"no column {column!r}", line=1, expected="a header naming it")
    labels = frame[label_column].str.strip()
    bad = ~labels.isin(["0", "1"])
    if bad.any():
        index = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            path, f"label {labels.iloc[index]!r}", line=index + 2, column=label_column, expected="0 or 1"
        )
    ids = frame[id_column].tolist() if id_column else [str(i + 1) for i in range(len(frame))]
    texts = [
        screening_text(clean_text(t), clean_text(a))
        for t, a in zip(frame["title"], frame["abstract"], strict=True)
    ]
    return ids, texts, labels.astype(int).to_numpy()


def draw_priors(labels: np.ndarray, n_included: int, n_excluded: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    included = np.flatnonzero(labels == 1)
    excluded = np.flatnonzero(labels == 0)
    if len(included) < n_included or len(excluded) < n_excluded:
        raise ValueError(f"cannot draw {n_included} included and {n_excluded} excluded priors from this set")
    return [
        *rng.choice(included, size=n_included, replace=False).tolist(),
        *rng.choice(excluded, size=n_excluded, replace=False).tolist(),
    ]


def simulate_file(
    data: Path,
    label_column: str,
    *,
    id_column: str | None = None,
    prior_included: int = 1,
    prior_excluded: int = 1,
    seed: int = 1,
    settings: RankingSettings | None = None,
) -> pd.DataFrame:
    settings = settings or RankingSettings()
    ids, texts, labels = read_labelled(data, label_column, id_column)
    priors = draw_priors(labels, prior_included, prior_excluded, seed)
    order = simulate(feature_views(texts, settings), labels, priors, settings, seed)
    return pd.DataFrame(
        {
            "record_id": [ids[i] for i in order],
            "rank": np.arange(1, len(order) + 1),
            "label": labels[order],
        }
    )
