"""Every estimator and feature against metafor on invented datasets (oracles in tests/data/meta).

The datasets are made up for these tests (no published data is committed); the expected numbers
were computed from them with metafor 3.8-1 by tests/data/meta/metafor_oracle.R, with metafor's
convergence tolerances tightened so the oracle is the exact solution. Target: 1e-6 relative.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metafor_oracle import comparisons, relative_error

DATA = Path(__file__).resolve().parent / "data" / "meta"
DATASETS = ["synthetic_binary", "synthetic_homogeneous", "synthetic_k2", "synthetic_continuous"]


def _cases() -> list[tuple[str, str, str, object, object]]:
    cases = []
    for name in DATASETS:
        for feature, key, ours, reference in comparisons(DATA / f"{name}.csv", DATA / f"{name}.metafor.json"):
            cases.append((name, feature, key, ours, reference))
    return cases


CASES = _cases()


def test_every_feature_is_compared() -> None:
    features = {feature.split()[0] for _, feature, *_ in CASES}
    assert {"pool", "meta-regression", "subgroup", "leave-one-out", "cumulative", "Egger", "Begg"} <= features
    assert {"trim-and-fill", "MH-OR", "MH-RR", "MH-RD", "Peto-OR"} <= features
    methods = {feature.split()[1] for _, feature, *_ in CASES if feature.startswith("pool ")}
    assert methods == {"FE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB"}


@pytest.mark.parametrize("dataset", DATASETS)
def test_agrees_with_metafor_to_1e6(dataset: str) -> None:
    bad = [
        f"{feature} {key}: ours {ours} vs metafor {reference}"
        for name, feature, key, ours, reference in CASES
        if name == dataset and relative_error(ours, reference) > 1e-6  # type: ignore[arg-type]
    ]
    assert not bad, "\n".join(bad)


def test_boundary_dataset_truncates_tau2_at_zero() -> None:
    """Q < df: every estimator but SJ (positive by construction) is truncated to exactly 0."""
    taus = {
        feature: ours
        for name, feature, key, ours, _ in CASES
        if name == "synthetic_homogeneous" and key == "tau2" and feature.startswith("pool ")
    }
    assert len(taus) == 17
    assert all(t == 0 for feature, t in taus.items() if " SJ " not in feature + " ")
    assert 0 < taus["pool SJ z"] < 1e-4
