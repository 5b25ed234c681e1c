"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def test_data() -> Path:
    """Synthetic inputs written for these tests (tests/data)."""
    return TEST_DATA


@pytest.fixture
def shared_fixtures() -> Path:
    """Recorded real responses in ../shared/fixtures beside the checkout (never copied in)."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
    if not path.is_dir():
        pytest.skip("../shared not present")
    return path


@pytest.fixture
def meta_reference() -> Path:
    """Published meta-analysis datasets and metafor's values (../shared/meta_reference, never copied in)."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "meta_reference"
    if not path.is_dir():
        pytest.skip("../shared/meta_reference not present")
    return path
