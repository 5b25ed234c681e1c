"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from snakemake_project import copy_finished, copy_sources, fingerprint, run_once

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


# ---------------------------------------------------------------------------
# Snakemake projects. One full offline run per test session (per `make test`, however many
# pytest-xdist workers) is shared read-only by the tests that check a finished run; a test that
# changes anything works on its own copy of it (`finished_copy`).
# ---------------------------------------------------------------------------
READS_THE_RUN, COPIES_THE_RUN = "finished_project", "finished_copy"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the shared run are `workflow` tests (left out by `make test-fast`).

    Order, for two workers (`make test`): the shared run starts at once on one worker while the
    other takes the other long runs and the fast tests; the copies of the finished run come last.
    """

    def rank(item: pytest.Item) -> int:
        fixtures = set(getattr(item, "fixturenames", ()))
        if COPIES_THE_RUN in fixtures:
            return 3
        if READS_THE_RUN in fixtures:
            return 0
        return 1 if item.get_closest_marker("workflow") else 2

    for item in items:
        if rank(item) in (0, 3):
            item.add_marker(pytest.mark.workflow)
    items.sort(key=rank)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this project's sources and inputs, not yet run, in tmp_path/review."""
    return copy_sources(tmp_path / "review")


@pytest.fixture(scope="session")
def finished_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This project after one full offline `snakemake --cores 2`: read it, never write to it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this test run's own folder, shared by its workers
    project = run_once(base / "finished_project")
    before = fingerprint(project)
    yield project
    after = fingerprint(project)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"a test wrote into the shared finished run (use finished_copy): {changed[:10]}"


@pytest.fixture
def finished_copy(finished_project: Path, tmp_path: Path) -> Path:
    """A copy of the finished run in tmp_path/review, for a test that changes an input or output."""
    return copy_finished(finished_project, tmp_path / "review")
