"""Values from shared config and manifest files never reach a shell unquoted, never name a path
outside their folder, and search files come from inside the project (issue 14, cases 1, 9, 13)."""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ohevidence.config import load_config, validate_config
from ohevidence.errors import ConfigError, InputError
from ohevidence.schema import SEARCH_ID_PATTERN
from ohevidence.search.searches import load_manifest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
MANIFEST = ROOT / "data/raw/snapshot/searches.yaml"
IGNORE = shutil.ignore_patterns(".venv", ".git", "results", ".snakemake", "logs", "__pycache__", "*.egg-info")
NOT_NAMES = [".", "..", "a/b", "../x", "-x", "", "a b"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m <args>` in cwd, with the interpreter's bin first on PATH (rules call `ohevidence`)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    copy_ = tmp_path / "review"
    shutil.copytree(ROOT, copy_, ignore=IGNORE)
    return copy_


@pytest.fixture()
def config() -> dict:
    return load_config(ROOT / "config/config.yaml", SCHEMA)


def _manifest(tmp_path: Path, **changes: object) -> Path:
    manifest = yaml.safe_load(MANIFEST.read_text())
    manifest["searches"][0].update(changes)
    path = tmp_path / "searches.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


# ---------------------------------------------------------------------------
# Case 1: shell injection from the snapshot manifest.
# ---------------------------------------------------------------------------
def test_manifest_shell_injection_is_rejected(project: Path, tmp_path: Path) -> None:
    """A manifest value written as a shell command stops the run before any rule; nothing runs."""
    marker = tmp_path / "injected"
    manifest_path = project / "data/raw/snapshot/searches.yaml"
    manifest = yaml.safe_load(manifest_path.read_text())
    manifest["searches"][0]["source"] = f"pubmed --help >/dev/null; touch {marker}; true"
    manifest_path.write_text(yaml.safe_dump(manifest))

    run = _run("snakemake", "--cores", "1", "results/search/pubmed_snapshot/records.csv", cwd=project)
    assert run.returncode != 0
    assert not marker.exists()
    assert not (project / "results").exists()  # no job ran at all
    validate = _run("ohevidence", "validate", cwd=project)
    assert validate.returncode == 2
    assert not marker.exists()
    # One message, the same in both: the manifest file, the key path, what was expected.
    lines = [line for line in validate.stderr.splitlines() if line.startswith("ohevidence: error: ")]
    assert len(lines) == 1
    message = lines[0].removeprefix("ohevidence: error: ")
    assert message.startswith("data/raw/snapshot/searches.yaml, column 'searches[0].source': ")
    assert "is not a source name" in message
    assert message in run.stdout + run.stderr


def test_manifest_schema_rejects_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    cases = {
        "source": ("pubmed; touch x", "searches[0].source"),
        "format": ("xml; touch x", "searches[0].format"),
        "n_hits": ("19; touch x", "searches[0].n_hits"),
        "search_id": ("a;b", "searches[0].search_id"),
        "extra": ("x", "searches[0]"),
    }
    for key, (value, where) in cases.items():
        with pytest.raises(InputError) as info:
            load_manifest(_manifest(tmp_path, **{key: value}), SCHEMA)
        assert info.value.column == where, key
        assert str(info.value).startswith(str(tmp_path / "searches.yaml")), key
    (tmp_path / "top.yaml").write_text(MANIFEST.read_text() + "other: 1\n")
    with pytest.raises(InputError, match="'other' was unexpected"):
        load_manifest(tmp_path / "top.yaml", SCHEMA)


def _shell_commands(text: str) -> list[tuple[str, str]]:
    """(rule, shell string) of every rule in one .smk file."""
    commands = []
    for block in re.split(r"\n(?=rule \w+:)", "\n" + text)[1:]:
        rule = block.split(":")[0].removeprefix("rule ")
        match = re.search(r"\n    shell:\n((?:        [rbuf]*[\"'].*\n?)+)", block)
        if match:
            parts = [ast.literal_eval(line.strip()) for line in match.group(1).splitlines()]
            commands.append((rule, "".join(parts)))
    return commands


def test_shell_commands_quote_every_placeholder() -> None:
    """Every {placeholder} in a rule's shell command is quoted with :q (lists quote each item)."""
    commands = [
        command
        for path in sorted((ROOT / "workflow/rules").glob("*.smk"))
        for command in _shell_commands(path.read_text())
    ]
    shell_rules = sum(
        text.count("\n    shell:\n")
        for text in (p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    )
    assert len(commands) == shell_rules >= 15  # every shell block was read
    unquoted = [
        f"{rule}: {{{field}}}"
        for rule, command in commands
        for field in re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", command)
        if not field.endswith(":q")
    ]
    assert unquoted == []


def test_placeholder_scan_finds_unquoted_values() -> None:
    """The scan itself catches the pattern it guards against."""
    text = (
        'rule x:\n    shell:\n        "tool --id {wildcards.search_id} {params.a:q}"\n        " > {log:q}"\n'
    )
    ((_, command),) = _shell_commands(text)
    assert re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", command) == ["wildcards.search_id", "params.a:q", "log:q"]


# ---------------------------------------------------------------------------
# Case 9: search ids are names, not path segments.
# ---------------------------------------------------------------------------
def test_search_id_pattern_is_one_contract() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema["$defs"]["name"]["pattern"] == f"^{SEARCH_ID_PATTERN}$"
    assert schema["$defs"]["search_id"]["$ref"] == "#/$defs/name"


@pytest.mark.parametrize("search_id", NOT_NAMES)
def test_search_id_dot_dot_is_rejected_in_config(config: dict, search_id: str) -> None:
    for section in ("imports", "live_searches"):
        bad = copy.deepcopy(config)
        bad[section][0]["search_id"] = search_id
        with pytest.raises(ConfigError, match=rf"{section}\[0\]\.search_id: .* is not a name"):
            validate_config(bad, SCHEMA)
    bad = copy.deepcopy(config)
    bad["analyses"][0]["id"] = search_id
    with pytest.raises(ConfigError, match=r"analyses\[0\]\.id: "):
        validate_config(bad, SCHEMA)


@pytest.mark.parametrize("search_id", NOT_NAMES)
def test_search_id_dot_dot_is_rejected_in_manifest(tmp_path: Path, search_id: str) -> None:
    with pytest.raises(InputError) as info:
        load_manifest(_manifest(tmp_path, search_id=search_id), SCHEMA)
    assert info.value.column == "searches[0].search_id"


@pytest.mark.parametrize("search_id", [".", "..", "a/b"])
def test_search_id_dot_dot_is_rejected_by_the_cli(tmp_path: Path, search_id: str) -> None:
    export = tmp_path / "export.csv"
    export.write_text("title,year\nA synthetic record,2020\n", encoding="utf-8")
    out = tmp_path / "work" / "out"
    result = _run(
        "ohevidence", "search", "file", str(export), f"--search-id={search_id}", "--source=other",
        "--run-at=2026-11-23", "--platform=test", f"--out={out}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"search id {search_id!r} is not a name" in result.stderr
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("out", ["searches/..", ".", "searches/x/.."])
def test_live_search_out_folder_dot_dot_is_rejected(tmp_path: Path, out: str) -> None:
    """With no --search-id the id is --out's folder name: '..' or '.' stops before any request."""
    (tmp_path / "searches/x").mkdir(parents=True)
    result = _run(
        "ohevidence", "search", "pubmed", "--query=x", f"--out={out}",
        "--eutils-url=http://127.0.0.1:9/", "--max-attempts=1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "is not a folder of its own" in result.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "searches",
        "searches/x",
    ]
    result = _run(
        "ohevidence", "search", "nihr", "--search-id=..", "--out=searches/x",
        "--crossref-url=http://127.0.0.1:9/", "--max-attempts=1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and "search id '..' is not a name" in result.stderr


@pytest.mark.parametrize("key", ["search_id", "file"])
def test_search_id_dot_dot_and_outside_file_stop_the_workflow(
    project: Path, tmp_path: Path, key: str
) -> None:
    """Through Snakemake too (the one line `ohevidence validate` prints, case 15): nothing is written."""
    outside = tmp_path / "outside.ris"
    shutil.copy(project / "data/raw/imports/handsearch_2026-11.ris", outside)
    config_path = project / "config/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["imports"][0][key] = {"search_id": "..", "file": str(outside)}[key]
    config_path.write_text(yaml.safe_dump(config))
    before = sorted(p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts)
    result = _run("snakemake", "--cores", "1", cwd=project)
    assert result.returncode != 0
    assert f"ohevidence: error: config/config.yaml: imports[0].{key}: " in result.stderr
    assert len(result.stderr.strip().splitlines()) < 15
    after = sorted(p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts)
    assert after == before


# ---------------------------------------------------------------------------
# Case 13: search files come from inside the project; the resolved path and SHA-256 are logged.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "file", ["/tmp/export.ris", "../export.ris", "data/../../export.ris", "~/export.ris"]
)
def test_import_file_outside_the_project_is_rejected(config: dict, tmp_path: Path, file: str) -> None:
    bad = copy.deepcopy(config)
    bad["imports"][0]["file"] = file
    with pytest.raises(ConfigError) as info:
        validate_config(bad, SCHEMA)
    assert str(info.value) == (
        f"config: imports[0].file: {file!r} is not a path relative to the project directory, inside it "
        "(no leading '/' or '~', no '..'), so the review reproduces from the project folder"
    )
    with pytest.raises(InputError) as manifest_error:
        load_manifest(_manifest(tmp_path, file=file), SCHEMA)
    assert manifest_error.value.column == "searches[0].file"
    assert "is not a path relative to the project directory, inside it" in str(manifest_error.value)


def test_import_file_logs_resolved_path_and_sha256(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    export = tmp_path / "data/export.csv"
    export.write_text("title,year\nA synthetic record,2020\n", encoding="utf-8")
    result = _run(
        "ohevidence", "search", "file", "data/export.csv", "--search-id=s1", "--source=other",
        "--run-at=2026-11-23", "--platform=test", "--out=out/s1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    assert f"read from {export.resolve()}, SHA-256 {digest}" in result.stderr
    row = json.loads((tmp_path / "out/s1/search.json").read_text())
    assert row["file"] == "data/export.csv" and row["sha256"] == digest  # the log row stays portable


# ---------------------------------------------------------------------------
# Issue 26: a symbolic link may not lead an input out of the project (as a direct path may not).
# ---------------------------------------------------------------------------
@pytest.fixture()
def linked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(project, outside): a project folder holding the curated tables, the working folder."""
    project, outside = tmp_path / "review", tmp_path / "elsewhere"
    shutil.copytree(ROOT / "data/curated", project / "data/curated")
    outside.mkdir()
    monkeypatch.chdir(project)
    return project, outside


@pytest.mark.parametrize("name", ["studies.csv", "job_roles.yaml"])
def test_a_curated_file_linked_out_of_the_project_is_refused(linked: tuple[Path, Path], name: str) -> None:
    from ohevidence.curated import errors, validate_curated

    project, outside = linked
    assert not errors(validate_curated("data/curated"))
    target = outside / name
    shutil.move(project / "data/curated" / name, target)  # the same, valid content, reached by a link
    (project / "data/curated" / name).symlink_to(target)
    problems = [str(p) for p in errors(validate_curated("data/curated"))]
    # (the tables that refer to the refused one then fail too: one error per mistake is issue 26 item 7)
    refused = f"data/curated/{name}:"
    assert any(p.startswith(refused) and "leads out of the project folder" in p for p in problems)


def test_a_link_that_stays_inside_the_project_is_read(linked: tuple[Path, Path]) -> None:
    from ohevidence.curated import errors, validate_curated

    project, _ = linked
    kept = project / "data/shared/studies.csv"
    kept.parent.mkdir()
    shutil.move(project / "data/curated/studies.csv", kept)
    (project / "data/curated/studies.csv").symlink_to("../shared/studies.csv")
    assert not errors(validate_curated("data/curated"))


def test_a_curated_folder_linked_out_of_the_project_is_refused_by_the_validator(
    linked: tuple[Path, Path],
) -> None:
    project, outside = linked
    shutil.move(project / "data/curated", outside / "curated")
    (project / "data/curated").symlink_to(outside / "curated", target_is_directory=True)
    with pytest.raises(ConfigError) as info:
        validate_config({"screening": {"no_decisions_yet": True}}, SCHEMA)
    message = str(info.value)
    assert message.startswith("config: screening.decisions: data/curated/screening/decisions.csv leads out")
    assert "\n" not in message


@pytest.mark.parametrize("name", ["ris_utf8_bom.ris", "pubmed_synthetic.xml", "crossref_synthetic.json"])
def test_an_import_file_linked_out_of_the_project_is_refused(linked: tuple[Path, Path], name: str) -> None:
    from ohevidence.search.searches import FileSearch, run_file_search

    project, outside = linked
    shutil.copy(ROOT / "tests/data" / name, outside / name)
    link = project / "data/raw/imports" / name
    link.parent.mkdir(parents=True)
    link.symlink_to(outside / name)
    entry = {"search_id": "linked", "source": "handsearch", "platform": "x", "run_at": "2026-11-23"}
    search = FileSearch.from_mapping({**entry, "file": f"data/raw/imports/{name}"})
    with pytest.raises(InputError, match="leads out of the project folder through a symbolic link"):
        run_file_search(search, mode="import", out_dir=project / "results/search/linked")
    assert not (project / "results/search/linked").exists()
    with pytest.raises(ConfigError, match=r"imports\[0\]\.file: data/raw/imports/.* leads out of the"):
        validate_config({"imports": [{**entry, "file": f"data/raw/imports/{name}"}]}, SCHEMA)
    link.unlink()
    shutil.copy(outside / name, link)  # the same file copied in: read
    row = run_file_search(search, mode="import", out_dir=project / "results/search/linked")
    assert int(row["n_retrieved"]) > 0


def test_outputs_may_live_behind_a_link(linked: tuple[Path, Path]) -> None:
    """results/ linked to a scratch disk is the pipeline's own business: its tables are read."""
    from ohevidence.textfile import read_text

    project, outside = linked
    (outside / "scratch").mkdir()
    (project / "results").symlink_to(outside / "scratch", target_is_directory=True)
    (project / "results/records.csv").write_text("record_id\ns:1\n")
    assert read_text("results/records.csv") == "record_id\ns:1\n"
    (project / "data/curated/notes.csv").symlink_to(outside / "scratch/records.csv")
    with pytest.raises(InputError, match="leads out of the project folder"):
        read_text("data/curated/notes.csv")
