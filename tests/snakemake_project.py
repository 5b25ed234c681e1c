"""Copies of this project for the tests that run Snakemake, and the way they run it there.

The fixtures built on these (``project``, ``finished_project``, ``finished_copy``) are in conftest.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a clean clone does not have: a copy is the sources, config and inputs only.
SOURCES_ONLY = shutil.ignore_patterns(
    ".venv", ".git", "results", ".snakemake", "logs", "__pycache__", "*.egg-info"
)


def venv_first_env() -> dict[str, str]:
    """Rules call the `ohevidence` CLI: the interpreter's bin directory goes first on PATH."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m snakemake ARGS` in ``cwd`` (stdout and stderr captured as text)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        env=venv_first_env(),
        capture_output=True,
        text=True,
    )


def copy_sources(destination: Path) -> Path:
    """This project without results, logs or Snakemake state: a review not yet run."""
    shutil.copytree(ROOT, destination, ignore=SOURCES_ONLY)
    return destination


def copy_finished(finished: Path, destination: Path) -> Path:
    """A finished project with its results, logs and .snakemake metadata (modification times kept,
    so Snakemake sees it up to date and re-runs only what a test changes)."""
    shutil.copytree(finished, destination, symlinks=True)
    return destination


def run_once(folder: Path) -> Path:
    """``folder``/review: a copy of this project after a full offline `snakemake --cores 2`, made by
    the first caller; later callers (other pytest-xdist workers) wait for it and share it. A failed
    run fails every caller with its message, once made."""
    folder.mkdir(parents=True, exist_ok=True)
    project, outcome = folder / "review", folder / "outcome.json"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not outcome.exists():
            shutil.rmtree(project, ignore_errors=True)
            result = snakemake("--cores", "2", cwd=copy_sources(project))
            outcome.write_text(json.dumps({"returncode": result.returncode, "stderr": result.stderr[-4000:]}))
    ran = json.loads(outcome.read_text())
    assert ran["returncode"] == 0, ran["stderr"]
    return project


def fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime in ns) of every file below ``folder``: any write changes it."""
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }
