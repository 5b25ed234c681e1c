"""The Snakemake workflow: lint-clean, formatted, and a full offline run in a temporary copy."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".venv", ".git", "results", ".snakemake", "logs", "__pycache__", "*.egg-info")


def _env() -> dict[str, str]:
    """Rules call the `ohevidence` CLI: the interpreter's bin directory goes first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, env=_env(), capture_output=True, text=True
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "review"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    return copy


def test_lint_is_clean() -> None:
    result = snakemake("--lint", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_check_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_slurm_profile_dry_run() -> None:
    """The SLURM profile is a valid profile for this workflow (dry run: no cluster needed)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    result = snakemake("--profile", "workflow/profiles/slurm", "--dry-run", "--forceall", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "merge_records" in result.stdout


def test_every_rule_has_log_and_conda() -> None:
    rules = "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    for block in rules.split("\nrule ")[1:]:
        name = block.split(":")[0]
        if not any(f"\n    {action}:" in block for action in ("shell", "run", "script")):
            continue  # a target rule that only collects files runs nothing
        assert "\n    log:" in block, f"rule {name} has no log"
        assert "\n    conda:" in block, f"rule {name} has no conda env"


@pytest.mark.workflow
def test_full_offline_run(project: Path) -> None:
    result = snakemake("--cores", "2", cwd=project)
    assert result.returncode == 0, result.stderr[-4000:]

    records = pd.read_csv(project / "results/records/records.csv", dtype=str, keep_default_na=False)
    log = pd.read_csv(project / "results/search/search_log.csv", dtype=str, keep_default_na=False)
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    manifest = yaml.safe_load((project / config["snapshot"]["manifest"]).read_text())
    expected_ids = {s["search_id"] for s in manifest["searches"]} | {
        s["search_id"] for s in config["imports"]
    }

    assert set(log["search_id"]) == expected_ids
    assert len(expected_ids) >= 3
    assert {"snapshot", "import"} <= set(log["mode"])
    assert {"pubmed", "nihr"} <= set(log["source"])
    # PRISMA arithmetic: every record belongs to a logged search and the counts reconcile.
    per_search = records.groupby("search_id").size()
    for row in log.itertuples():
        assert int(row.n_retrieved) == per_search[row.search_id]
        if row.mode == "snapshot":
            assert row.n_hits == row.n_retrieved
        assert len(row.sha256.split("; ")) == len(row.file.split("; "))
    assert records["record_id"].is_unique
    assert (records.loc[records.source == "pubmed", "pmid"] != "").all()
    assert records.loc[records.source == "nihr", "doi"].str.startswith("10.3310/").all()
    assert (records["abstract"] == "").all()  # the snapshot holds no abstract text
    assert (project / "logs/merge_records.log").exists()

    # Record ids are stable: re-running the search stage (forced) gives the same ids in the same order.
    first_ids = records["record_id"].tolist()
    rerun = snakemake("--cores", "2", "--forceall", "results/records/records.csv", cwd=project)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert "rule merge_records" in rerun.stdout + rerun.stderr  # the records really were rebuilt
    again = pd.read_csv(project / "results/records/records.csv", dtype=str, keep_default_na=False)
    assert again["record_id"].tolist() == first_ids


@pytest.mark.workflow
def test_bad_config_stops_the_run_naming_the_key(project: Path) -> None:
    config_path = project / "config/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["pubmed"]["batch_size"] = "lots"
    config_path.write_text(yaml.safe_dump(config))
    result = snakemake("--cores", "1", "--dry-run", cwd=project)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "On instance['pubmed']['batch_size']" in output and "is not of type 'integer'" in output


@pytest.mark.workflow
def test_broken_import_fails_with_file_and_line(project: Path) -> None:
    broken = project / "data/raw/imports/broken.csv"
    broken.write_text("title,year\nA synthetic record,2020\n,2021\n", encoding="utf-8")
    config_path = project / "config/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["imports"].append(
        {
            "search_id": "broken_csv",
            "source": "other",
            "platform": "test",
            "file": "data/raw/imports/broken.csv",
            "run_at": "2026-11-23",
        }
    )
    config_path.write_text(yaml.safe_dump(config))
    result = snakemake("--cores", "1", cwd=project)
    assert result.returncode != 0
    log = (project / "logs/search_file/broken_csv.log").read_text()
    assert "broken.csv, line 3, column 'title'" in log
    assert not (project / "results/records/records.csv").exists()


def _make_run(project: Path) -> list[str]:
    """`make run` in ``project`` with this interpreter's venv (never reinstalled into it)."""
    venv = Path(sys.executable).parent.parent
    return ["make", "-o", f"{venv}/.installed", "run", f"VENV={venv}", "CORES=2"]


@pytest.mark.workflow
def test_workflow_profile_is_loaded_and_killed_run_resumes_with_make_run(project: Path) -> None:
    """Snakemake SIGKILLed mid-job leaves locks and incomplete outputs; `make run` again finishes."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    started = subprocess.Popen(
        _make_run(project), cwd=project, env=_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    incomplete = project / ".snakemake/incomplete"
    deadline = time.monotonic() + 300
    while not (incomplete.is_dir() and any(incomplete.iterdir())):  # a job is running
        assert started.poll() is None and time.monotonic() < deadline, "no job started"
        time.sleep(0.02)
    os.killpg(started.pid, signal.SIGKILL)  # make, snakemake and its jobs, as the OOM killer or a crash
    started.wait()
    assert any((project / ".snakemake/locks").glob("*.lock")) and any(incomplete.iterdir())

    resumed = subprocess.run(_make_run(project), cwd=project, env=_env(), capture_output=True, text=True)
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-4000:]
    assert "workflow specific profile profiles/default" in output
    assert "removed stale Snakemake lock" in output
    assert not any(incomplete.iterdir())
    assert (project / "results/report.html").stat().st_size > 0
    assert (project / "results/figures/prisma.svg").exists()


def test_unlock_stale_keeps_the_locks_of_a_running_snakemake(tmp_path: Path) -> None:
    """Locks are removed only when no Snakemake runs in the folder: a live run keeps its lock."""
    from ohevidence.workflow_locks import LOCK_DIR, remove_stale_locks

    project = tmp_path / "review"
    (project / LOCK_DIR).mkdir(parents=True)
    lock = project / LOCK_DIR / "0.output.lock"
    lock.write_text("results/records/records.csv\n")
    fake = tmp_path / "bin/snakemake"  # a process whose command line is a snakemake run
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    elsewhere = subprocess.Popen([str(fake), "--directory", str(project)], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while not _has_cmdline(elsewhere.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert remove_stale_locks(project) == [] and lock.exists()
    finally:
        elsewhere.kill()
        elsewhere.wait()
    assert remove_stale_locks(project) == [lock] and not lock.exists()


def _has_cmdline(pid: int) -> bool:
    import psutil

    return any("snakemake" in part for part in psutil.Process(pid).cmdline())
