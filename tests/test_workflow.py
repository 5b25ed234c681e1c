"""The Snakemake workflow: a full offline run (shared by the session, see conftest.py) and its failures.

`make lint` checks that the workflow is lint-clean and formatted (`snakemake --lint`, `snakefmt --check`).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ohevidence.csvio import unneutralise_frame
from ohevidence.schema import RECORD_COLUMNS, UNIQUE_RECORD_COLUMNS
from ohevidence.tableio import read_table
from snakemake_project import ROOT, snakemake, venv_first_env


def test_slurm_profile_dry_run(tmp_path: Path) -> None:
    """The SLURM profile, its account and partition filled in, is valid for this workflow (dry run)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    profile = tmp_path / "slurm"
    shutil.copytree(ROOT / "workflow/profiles/slurm", profile)
    text = (profile / "config.yaml").read_text(encoding="utf-8")
    (profile / "config.yaml").write_text(text.replace('"CHANGE_ME"', '"ohe_lab"'), encoding="utf-8")
    result = snakemake("--profile", str(profile), "--dry-run", "--forceall", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "merge_records" in result.stdout
    # no job asks Snakemake's 50 GB default disk (a job without inputs) or more than the profile's
    assert "disk_mb=50000" not in result.stdout
    (block,) = [b for b in result.stdout.split("\nrule ")[1:] if b.startswith("risk_of_bias:")]
    assert "disk_mb=1000," in block  # no inputs when rob.csv is absent: Snakemake would ask 50 GB


def test_slurm_profile_refuses_placeholder_account() -> None:
    """The shipped profile's CHANGE_ME account stops the run before any job is submitted."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    result = snakemake("--profile", "workflow/profiles/slurm", "--dry-run", "--forceall", cwd=ROOT)
    assert result.returncode != 0
    assert "slurm_account is 'CHANGE_ME', a placeholder" in result.stderr + result.stdout
    assert "merge_records" not in result.stdout


def test_every_rule_has_log_and_conda() -> None:
    rules = "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    for block in rules.split("\nrule ")[1:]:
        name = block.split(":")[0]
        if not any(f"\n    {action}:" in block for action in ("shell", "run", "script")):
            continue  # a target rule that only collects files runs nothing
        assert "\n    log:" in block, f"rule {name} has no log"
        assert "\n    conda:" in block, f"rule {name} has no conda env"


def _is_machine_file(relative: Path) -> bool:
    """The machine tables README names: effects.csv and the results/meta CSVs (no formula quote)."""
    return relative.as_posix() == "results/extraction/effects.csv" or relative.parts[:2] == (
        "results",
        "meta",
    )


def _json_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_json_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def _check_machine_outputs(project: Path) -> None:
    """Issue 22: no JSON string and no machine-table cell starts with the spreadsheet quote; SWiM
    counts each trial once."""
    for path in sorted((project / "results").rglob("*.json")):
        quoted = [s for s in _json_strings(json.loads(path.read_text(encoding="utf-8"))) if s.startswith("'")]
        assert not quoted, f"{path.relative_to(project)}: {quoted[:3]}"
    machine = [p for p in (project / "results").rglob("*.csv") if _is_machine_file(p.relative_to(project))]
    assert project / "results/extraction/effects.csv" in machine
    for path in machine:
        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                assert not any(c.startswith("'") for c in row), f"{path.relative_to(project)}:{line}"
    effects = pd.read_csv(project / "results/extraction/effects.csv", dtype=str, keep_default_na=False)
    assert effects["published"].str.match(r"^-\d").any()  # '-7 [-16, 1] (95% CI)' as written
    directions = pd.read_csv(project / "results/tables/swim_effect_direction.csv", dtype=str)
    votes = pd.read_csv(project / "results/tables/swim_vote_counting.csv", keep_default_na=False)
    for row in votes[votes["job_role"] == "all roles"].itertuples():
        in_domain = directions[directions["domain"] == row.domain]
        assert row.trials == in_domain["study_id"].nunique() <= row.comparisons == len(in_domain)


def test_full_offline_run(finished_project: Path) -> None:
    """`snakemake --cores 2` on the shipped review, offline (the session's shared run, see conftest.py)."""
    project = finished_project
    _check_machine_outputs(project)

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
    # Stopping guidance from the shipped decisions: counts that add up and a verdict (issue 16).
    stopping = json.loads((project / "results/screening/stopping.json").read_text())
    assert stopping["records_screened"] + stopping["records_remaining"] == stopping["records_to_screen"] > 0
    assert stopping["verdict"] and "stopping (95% recall" in (project / "logs/screen_records.log").read_text()

    _assert_synthesis_follows_screening(project)


def test_record_ids_are_stable_when_the_search_stage_reruns(
    finished_project: Path, finished_copy: Path
) -> None:
    """Re-running the search stage (forced) gives the same ids in the same order."""
    records = pd.read_csv(finished_project / "results/records/records.csv", dtype=str, keep_default_na=False)
    first_ids = records["record_id"].tolist()
    project = finished_copy
    rerun = snakemake("--cores", "2", "--forceall", "results/records/records.csv", cwd=project)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert "rule merge_records" in rerun.stdout + rerun.stderr  # the records really were rebuilt
    again = pd.read_csv(project / "results/records/records.csv", dtype=str, keep_default_na=False)
    assert again["record_id"].tolist() == first_ids


def _csv(path: Path) -> pd.DataFrame:
    return unneutralise_frame(pd.read_csv(path, dtype=str, keep_default_na=False))


def _assert_synthesis_follows_screening(project: Path) -> None:
    """Every synthesised study has a report included at full text; nothing else is characterised."""
    chosen = _csv(project / "results/extraction/included_studies.csv")
    included = set(chosen["curated_study_id"]) - {""}
    reports = _csv(project / "results/extraction/included_reports.csv")
    ft = _csv(project / "results/screening/included.csv")
    assert set(reports["record_id"]) == set(ft.loc[ft["full_text"] == "include", "record_id"])
    studies_reported = set(reports.loc[reports["level"] == "study", "study"])
    assert set(chosen.loc[chosen["included_by"] == "full-text screening", "study"]) == studies_reported
    # issue 25: reviews are included as reviews (reported apart), never as studies nor pooled
    reviews_in = set(_csv(project / "results/extraction/included_reviews.csv")["review_id"])
    assert reviews_in == set(reports.loc[reports["level"] == "review", "study"])
    assert {"deBoer2015_Cochrane", "Kamper2014_Cochrane", "Vogel2017_Cochrane"} <= reviews_in
    assert not reviews_in & included
    pooled = {
        str(s["study_id"])
        for path in (project / "results/meta").glob("*.json")
        for s in json.loads(path.read_text())["studies"]
    }
    assert pooled and pooled <= included
    assert set(_csv(project / "results/extraction/effects.csv")["study_id"]) <= included
    assert set(_csv(project / "results/tables/characteristics_by_role.csv")["study_id"]) == included
    assert set(_csv(project / "results/tables/swim_effect_direction.csv")["study_id"]) <= included
    left_out = _csv(project / "results/extraction/curated_not_included.csv")
    studies = _csv(project / "data/curated/studies.csv")
    assert set(left_out["study_id"]) == set(studies["study_id"]) - included  # every study accounted for
    assert (left_out["reason"] != "").all()
    counts = dict(_csv(project / "results/prisma/prisma_counts.csv")[["data", "n"]].values)
    assert int(counts["total_studies"]) == len(chosen)
    assert int(counts["ohevidence_studies_in_meta_analyses"]) == len(pooled) <= int(counts["total_studies"])
    assert int(counts["ohevidence_reviews_included"]) == len(reviews_in)
    assert not pooled & reviews_in
    findings = _csv(project / "results/reviews/review_findings.csv")
    vogel = findings[findings["review_id"] == "Vogel2017_Cochrane"].set_index("outcome")
    assert vogel.loc["time to return to work", ["estimate", "certainty"]].tolist() == ["1.25", "low"]
    for review in ("deBoer2015_Cochrane", "Kamper2014_Cochrane"):  # published certainty or NOT FOUND (empty)
        rows = findings[findings["review_id"] == review]
        assert len(rows) and set(rows["certainty"]) <= {"", "high", "moderate", "low", "very low"}
        assert (rows["in_review"] == "included").all()
    overlap = json.loads((project / "results/reviews/overlap.json").read_text())
    assert [s["study_id"] for s in overlap["shared_with_own_trials"]] == ["Lambeek2010"]


def _jobs(dry_run: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Rule -> job count from a dry run's job stats table."""
    assert dry_run.returncode == 0, dry_run.stderr[-3000:]
    table = dry_run.stdout.split("Job stats:", 1)[1] if "Job stats:" in dry_run.stdout else ""
    jobs: dict[str, int] = {}
    for line in table.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit() or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


def test_settings_reach_their_jobs_only(finished_copy: Path) -> None:
    """A setting reaches its job (and only re-runs what depends on it) through params, however given."""
    project = finished_copy
    assert _jobs(snakemake("--dry-run", cwd=project)) == {}  # the copy of the finished run is up to date
    report = project / "report_setting.yaml"
    report.write_text("report:\n  png_dpi: 150\n")
    rerun = _jobs(snakemake("--dry-run", "--configfile", str(report), cwd=project))
    assert rerun.get("forest_plot") and not {"meta_effects", "meta_analysis", "meta_sensitivity"} & set(rerun)
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    analysis = dict(config["analyses"][0], method="DL")
    changed = project / "analysis_setting.yaml"
    changed.write_text(yaml.safe_dump({"analyses": [analysis, *config["analyses"][1:]]}))
    rerun = _jobs(snakemake("--dry-run", "--configfile", str(changed), cwd=project))
    assert rerun["meta_analysis"] == rerun["meta_sensitivity"] == rerun["forest_plot"] == 1
    assert "meta_effects" not in rerun and "screen_records" not in rerun
    target = f"results/meta/{analysis['id']}.json"
    for how in (
        ["--configfile", str(changed)],
        ["--config", "analyses=" + json.dumps([analysis, *config["analyses"][1:]])],
    ):
        (project / target).unlink()
        result = snakemake("--cores", "2", target, *how, cwd=project)
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads((project / target).read_text())["method"] == "DL"


def test_nothing_is_synthesised_before_screening_includes_it(finished_copy: Path) -> None:
    """With the decision file emptied, no study is synthesised and every count says 0 (issue 22).

    The whole DAG runs to the end: what the decisions feed (screening onwards) is rebuilt."""
    project = finished_copy
    decisions = project / "data/curated/screening/decisions.csv"
    decisions.write_text(decisions.read_text(encoding="utf-8-sig").splitlines()[0] + "\n", encoding="utf-8")
    result = snakemake("--cores", "2", cwd=project)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "rule screen_records" in result.stdout + result.stderr  # the changed decisions were read
    assert _csv(project / "results/extraction/included_studies.csv").empty
    assert _csv(project / "results/extraction/effects.csv").empty
    for path in (project / "results/meta").glob("*.json"):
        assert json.loads(path.read_text())["studies"] == []
    assert _csv(project / "results/tables/characteristics_by_role.csv").empty
    assert _csv(project / "results/tables/swim_vote_counting.csv").empty
    counts = dict(_csv(project / "results/prisma/prisma_counts.csv")[["data", "n"]].values)
    assert counts["total_studies"] == counts["new_studies"] == "0"
    assert counts["ohevidence_studies_in_meta_analyses"] == "0"
    studies = _csv(project / "data/curated/studies.csv")
    left_out = _csv(project / "results/extraction/curated_not_included.csv")
    assert set(left_out["study_id"]) == set(studies["study_id"])


def test_bad_config_stops_the_run_naming_the_key(project: Path) -> None:
    """One line, the one `ohevidence validate` prints (it used to be a 634-line schema dump)."""
    config_path = project / "config/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["pubmed"]["batch_size"] = "lots"
    config_path.write_text(yaml.safe_dump(config))
    result = snakemake("--cores", "1", "--dry-run", cwd=project)
    assert result.returncode != 0
    validate = subprocess.run(
        [sys.executable, "-m", "ohevidence", "validate"],
        cwd=project,
        env=venv_first_env(),
        capture_output=True,
        text=True,
    )
    line = "ohevidence: error: config/config.yaml: pubmed.batch_size: 'lots' is not of type 'integer'"
    assert validate.stderr.strip() == line
    assert line in result.stderr.splitlines()
    assert len(result.stderr.splitlines()) < 15, result.stderr


def test_decision_path_typo_stops_snakemake_before_any_job(project: Path) -> None:
    """Issue 14 case 12 through Snakemake: the typo stops the run before search or dedupe run."""
    config_path = project / "config/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["screening"]["decisions"] = "data/curated/screening/decisons.csv"
    config_path.write_text(yaml.safe_dump(config))
    result = snakemake("--cores", "1", cwd=project)
    assert result.returncode != 0
    line = (
        "ohevidence: error: config/config.yaml: screening.decisions: data/curated/screening/decisons.csv"
        " not found (expected an existing file; set screening.no_decisions_yet: true if nothing has"
        " been screened yet)"
    )
    assert line in result.stderr.splitlines(), result.stderr
    assert not (project / "results").exists() or not any((project / "results").rglob("*.csv"))


def test_yaml_alias_bomb_in_config_fails_fast(project: Path) -> None:
    """A 'billion laughs' config.yaml stops Snakemake with one error (it used to grow to gigabytes).

    No wall-clock limit (a busy machine must not fail the suite, issue 26): the bound is the
    loader's count of aliased values (tests/test_yamlio.py), checked before anything is built.
    """
    bomb = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    bomb += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    config_path = project / "config/config.yaml"
    text = config_path.read_text()
    config_path.write_text(text + "\nreview:\n" + "\n".join(bomb) + "\n")
    line = len(text.splitlines()) + 3 + 4  # l4 (its first *l3 crosses the limit)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run"],
        cwd=project,
        env=venv_first_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    errors = [x for x in result.stderr.splitlines() if "error" in x.lower()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"ohevidence: error: config/config.yaml, line {line}: aliases expand to more")


def test_duplicate_yaml_keys_stop_the_workflow(project: Path) -> None:
    """A second `imports: []` no longer drops the handsearch import silently (last key won)."""
    config_path = project / "config/config.yaml"
    text = config_path.read_text()
    config_path.write_text(text + "\nimports: []\n")
    first = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith("imports:"))
    result = snakemake("--cores", "1", "--dry-run", cwd=project)
    assert result.returncode != 0
    assert (
        f"ohevidence: error: config/config.yaml, line {len(text.splitlines()) + 2}: duplicate key 'imports' "
        f"at column 1, already given at line {first}, column 1"
    ) in result.stderr


def test_command_line_config_overrides_the_config_file(project: Path, tmp_path: Path) -> None:
    """`--config` and `--configfile` still win over config/config.yaml, and are validated too."""
    assert "search_live" not in snakemake("--dry-run", "--quiet", "rules", cwd=project).stdout
    live = snakemake("--dry-run", "--quiet", "rules", "--config", "mode=live", cwd=project)
    assert live.returncode == 0 and "search_live" in live.stdout, live.stderr
    overrides = tmp_path / "live.yaml"
    overrides.write_text("mode: live\n")
    live = snakemake("--dry-run", "--quiet", "rules", "--configfile", str(overrides), cwd=project)
    assert live.returncode == 0 and "search_live" in live.stdout, live.stderr
    bad = snakemake("--dry-run", "--config", "mode=online", cwd=project)
    assert bad.returncode != 0
    assert "config/config.yaml + command line: mode: 'online' is not one of" in bad.stderr


def test_broken_import_fails_with_file_and_line(project: Path) -> None:
    """The failing search stops the run before the records are merged (the smallest target: the records)."""
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
    result = snakemake("--cores", "1", "results/records/records.csv", cwd=project)
    assert result.returncode != 0
    log = (project / "logs/search_file/broken_csv.log").read_text()
    assert "broken.csv, line 3, column 'title'" in log
    assert not (project / "results/records/records.csv").exists()


FORMULA = '=HYPERLINK("http://x","y")'
PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


def _set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Change one cell of a curated CSV (row 0 = first data row)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[row, column] = value
    table.to_csv(path, index=False)


def test_formula_injection_outside_screening_is_neutralised_in_every_csv(finished_copy: Path) -> None:
    """Formula titles in an import and formula cells in curated tables reach no CSV un-quoted.

    Also a title starting with '-' goes through search -> dedupe -> screening unchanged. The whole DAG
    runs to the end on a copy of the finished run: everything the changed files feed is rebuilt.
    """
    project = finished_copy
    # Two synthetic records appended to the hand-search import (new ids: the shipped decisions still match).
    ris = project / "data/raw/imports/handsearch_2026-11.ris"
    injected = (
        f"\nTY  - JOUR\nAU  - @SUM(1+1)\nAU  - Example, A\nTI  - {FORMULA}\nT2  - +Synthetic Journal\n"
        "PY  - 2020\nKW  - -keyword\nER  - \n"
        "\nTY  - JOUR\nAU  - Example, B\nTI  - -Synthetic record about return to work\nPY  - 2021\nER  - \n"
    )
    ris.write_text(ris.read_text(encoding="utf-8") + injected, encoding="utf-8")
    curated = project / "data/curated"
    for name, column in (
        ("studies.csv", "notes"),
        ("studies.csv", "population"),
        ("studies.csv", "intervention"),
        ("outcomes.csv", "notes"),
        ("case_studies.csv", "strategy"),
        ("case_studies.csv", "organisation"),
    ):
        _set_cell(curated / name, 0, column, FORMULA)

    result = snakemake("--cores", "2", cwd=project)
    assert result.returncode == 0, result.stderr[-4000:]
    log = result.stdout + result.stderr
    assert "rule validate_curated" in log and "rule merge_records" in log  # what the changes feed is rebuilt

    found_formula = set()
    for path in sorted((project / "results").rglob("*.csv")):
        machine = _is_machine_file(path.relative_to(project))
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                for cell in row:
                    where = f"{path.relative_to(project)}:{line}: {cell[:60]!r}"
                    if machine:  # read as data: no quote, and no outside text to quote (issue 22)
                        assert FORMULA not in cell and not cell.startswith("'"), where
                        continue
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or PLAIN_NUMBER.fullmatch(
                        cell
                    ), where
                    if cell == "'" + FORMULA:
                        found_formula.add(path.relative_to(project).as_posix())
    # The injected cells did reach the files people open (quoted), so the scan above means something.
    assert {
        "results/records/records.csv",
        "results/search/handsearch_2026_11/records.csv",
        "results/dedup/unique_records.csv",
        "results/screening/title_abstract.csv",
    } <= found_formula, found_formula
    assert any(name.startswith("results/tables/") for name in found_formula), found_formula

    # The pipeline reads its own tables back without the quote: titles arrive exact at every stage.
    records = read_table(project / "results/records/records.csv", RECORD_COLUMNS)
    handsearch = records[records["search_id"] == "handsearch_2026_11"].set_index("record_id")["title"]
    assert FORMULA in set(handsearch)
    dash = handsearch[handsearch == "-Synthetic record about return to work"]
    assert len(dash) == 1
    unique = read_table(project / "results/dedup/unique_records.csv", UNIQUE_RECORD_COLUMNS)
    kept = unique.set_index("record_id")["title"]
    assert kept[dash.index[0]] == dash.iloc[0]
    assert FORMULA in set(kept)
    screened = unneutralise_frame(
        pd.read_csv(
            project / "results/screening/title_abstract.csv",
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
        )
    ).set_index("record_id")["title"]
    assert screened[dash.index[0]] == dash.iloc[0]
    assert FORMULA in set(screened)


def _make_run(project: Path) -> list[str]:
    """`make run` in ``project`` with this interpreter's venv (never reinstalled into it)."""
    venv = Path(sys.executable).parent.parent
    return ["make", "-o", f"{venv}/.installed", "run", f"VENV={venv}", "CORES=2"]


def test_workflow_profile_is_loaded_and_killed_run_resumes_with_make_run(finished_copy: Path) -> None:
    """Snakemake SIGKILLed mid-job leaves locks and incomplete outputs; `make run` again finishes.

    On a copy of the finished run with the PRISMA diagram deleted: `make run` has that job to run."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    project = finished_copy
    for path in (project / "results/figures").glob("prisma.*"):
        path.unlink()
    assert not (project / "results/report.html").exists()
    started = subprocess.Popen(
        _make_run(project), cwd=project, env=venv_first_env(), start_new_session=True,
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

    resumed = subprocess.run(
        _make_run(project), cwd=project, env=venv_first_env(), capture_output=True, text=True
    )
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
        deadline = time.monotonic() + 120  # a wait, not a speed limit: ends once the process shows
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
