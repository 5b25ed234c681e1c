"""CI runs `make lint` and `make test`; `make lint` runs every check that used to run inside pytest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent


def _make_dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run with this interpreter's venv (installed, so not reinstalled)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    outer_make = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}  # when the tests run under `make test`
    result = subprocess.run(
        ["make", "-n", "-o", f"{VENV}/.installed-test", target, f"VENV={VENV}"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in outer_make},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_make_lint_runs_every_check() -> None:
    bin_ = VENV / "bin"
    assert _make_dry_run("lint") == [
        f"{bin_}/snakemake --lint",
        f"{bin_}/snakefmt --check Snakefile workflow",
        f"{bin_}/ruff check src tests benchmarks",
        f"{bin_}/ruff format --check src tests benchmarks",
        f"{bin_}/mypy src benchmarks",
    ]


def test_make_test_fast_leaves_out_the_workflow_tests_and_make_test_runs_all() -> None:
    (fast,) = _make_dry_run("test-fast")
    assert fast.split()[1:] == ["-m", "pytest", "-n", "2", "-m", '"not', 'workflow"']
    (full,) = _make_dry_run("test")
    assert full.split()[1:] == ["-m", "pytest", "-n", "2"]


@pytest.mark.parametrize(
    ("lint_status", "test_status", "expected"), [(0, 0, 0), (2, 0, 2), (0, 2, 2), (2, 3, 3)]
)
def test_ci_runs_lint_then_the_tests_and_fails_if_either_fails(
    tmp_path: Path, lint_status: int, test_status: int, expected: int
) -> None:
    """.ci/run with a recording `make` first on PATH: both targets run, in order, even if lint fails."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin/make"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        f'case "$1" in lint) exit {lint_status};; test) exit {test_status};; esac\nexit 99\n'
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(ROOT / ".ci/run")], env=env, capture_output=True, text=True)
    assert calls.read_text().splitlines() == ["lint", "test"]
    assert result.returncode == expected, result.stderr
