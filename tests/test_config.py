"""Config validation: defaults filled, wrong keys and types stop with the key path."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ohevidence.config import check_cluster_resources, load_config, validate_config
from ohevidence.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


@pytest.fixture()
def config() -> dict:
    return load_config(ROOT / "config/config.yaml", SCHEMA)


def test_shipped_config_is_valid_and_gets_defaults(config: dict) -> None:
    assert config["mode"] == "snapshot"
    assert config["pubmed"]["batch_size"] == 500
    assert config["pubmed"]["eutils_url"].endswith("/entrez/eutils/")
    assert config["imports"][0]["format"] == "ris"


def test_empty_config_gets_every_default() -> None:
    config = validate_config({}, SCHEMA)
    assert config["mode"] == "snapshot"
    assert config["snapshot"]["manifest"] == "data/raw/snapshot/searches.yaml"
    assert config["pubmed"] == {
        "email": "",
        "api_key": "",
        "tool": "ohevidence",
        "eutils_url": "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/",
        "batch_size": 500,
    }
    assert config["imports"] == [] and config["live_searches"] == []


def test_defaults_are_not_shared_between_configs() -> None:
    first = validate_config({}, SCHEMA)
    first["imports"].append({"x": 1})
    assert validate_config({}, SCHEMA)["imports"] == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["pubmed"].__setitem__("batchsize", 10), "pubmed: Additional properties"),
        (lambda c: c["pubmed"].__setitem__("batch_size", "many"), "pubmed.batch_size: 'many' is not of type"),
        (lambda c: c["imports"][0].__setitem__("format", "rsi"), "imports[0].format: 'rsi' is not one of"),
        (lambda c: c["imports"][0].pop("run_at"), "imports[0]: 'run_at' is a required property"),
        (lambda c: c["imports"][0].__setitem__("run_at", "23/11/2026"), "imports[0].run_at"),
        (lambda c: c.__setitem__("mode", "online"), "mode: 'online' is not one of"),
        (lambda c: c.__setitem__("modes", "live"), "'modes' was unexpected"),
        (lambda c: c["live_searches"][0].__setitem__("mindate", "2020-01-01"), "live_searches[0].mindate"),
    ],
)
def test_bad_config_names_the_key_path(config: dict, mutate, message: str) -> None:
    bad = copy.deepcopy(config)
    mutate(bad)
    with pytest.raises(ConfigError) as info:
        validate_config(bad, SCHEMA)
    assert message in str(info.value)


def test_duplicate_search_ids_are_rejected(config: dict) -> None:
    bad = copy.deepcopy(config)
    bad["imports"].append(copy.deepcopy(bad["imports"][0]))
    with pytest.raises(
        ConfigError, match=r"imports\[1\]\.search_id: search_id 'handsearch_2026_11' is already used"
    ):
        validate_config(bad, SCHEMA)


def test_every_schema_key_has_description_and_default() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())

    def walk(node: dict, path: str, required: set[str]) -> None:
        for name, sub in node.get("properties", {}).items():
            where = f"{path}.{name}" if path else name
            if "$ref" in sub:
                continue
            assert sub.get("description"), f"{where} has no description"
            if name not in required:
                assert "default" in sub, f"{where} has no default"
            if sub.get("type") == "object":
                walk(sub, where, set(sub.get("required", [])))
            if sub.get("type") == "array" and "properties" in sub.get("items", {}):
                walk(sub["items"], where + "[]", set(sub["items"].get("required", [])))

    walk(schema, "", set(schema.get("required", [])))
    file_search = schema["$defs"]["file_search"]
    walk(file_search, "$defs.file_search", set(file_search["required"]))


def test_cli_validate(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ohevidence", "validate"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    bad = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    bad["imports"][0]["file"] = "data/raw/imports/missing.ris"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = subprocess.run(
        [sys.executable, "-m", "ohevidence", "validate", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "handsearch_2026_11" in result.stderr and "missing.ris not found" in result.stderr


@pytest.mark.parametrize(
    "title",
    [
        "x\n\n.. raw:: html\n\n   <script>alert(1)</script>",  # a directive after a blank line
        "x\n\n.. include:: /proc/self/environ",  # would paste the environment (API keys) into the report
        "one line\n",
        "tab\there",
    ],
)
def test_review_title_is_one_line(title: str) -> None:
    """A title is one line (issue 26); its markup characters are escaped by the report
    (tests/test_escape.py), so inline markup is accepted and shown as written."""
    with pytest.raises(ConfigError, match=r"review\.title: .* is not one line of text"):
        validate_config({"review": {"title": title}}, SCHEMA)
    for title in ("RTW & costs: 'NHS' roles (2026) - a review", "a `link <javascript:alert(1)>`_ |s| *e* \\"):
        assert validate_config({"review": {"title": title}}, SCHEMA)["review"]["title"] == title


# ---------------------------------------------------------------------------
# Issue 26: the validator knows what the run needs, one line naming the key.
# ---------------------------------------------------------------------------
def test_two_analyses_sharing_an_id_are_refused(config: dict) -> None:
    bad = copy.deepcopy(config)
    assert bad["analyses"], "the shipped config has analyses"
    bad["analyses"].append({**copy.deepcopy(bad["analyses"][1]), "id": bad["analyses"][0]["id"]})
    index = len(bad["analyses"]) - 1
    first = bad["analyses"][0]["id"]
    with pytest.raises(ConfigError) as info:
        validate_config(bad, SCHEMA)
    message = str(info.value)
    assert f"analyses[{index}].id: analysis id '{first}' is already used at analyses[0].id" in message
    assert "\n" not in message


def _validate_cli(tmp_path: Path, config: dict) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "ohevidence", "validate", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_an_import_reusing_a_snapshot_search_id_is_refused_by_validate(tmp_path: Path) -> None:
    snapshot = yaml.safe_load((ROOT / "data/raw/snapshot/searches.yaml").read_text())["searches"]
    bad = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    bad["imports"][0]["search_id"] = snapshot[0]["search_id"]
    result = _validate_cli(tmp_path, bad)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert (
        f"imports[0].search_id: search_id '{snapshot[0]['search_id']}' is already used by the snapshot"
        in (errors[0])
    )


def test_the_workflow_refuses_an_import_reusing_a_snapshot_search_id() -> None:
    """common.smk runs the same check on the manifest it loads (a traceback before)."""
    from ohevidence.config import check_snapshot_search_ids

    config = validate_config({"imports": [], "mode": "snapshot"}, SCHEMA)
    config["imports"] = [{"search_id": "pubmed_snapshot"}]
    with pytest.raises(
        ConfigError, match=r"config: imports\[0\]\.search_id: .* used by the snapshot \(m\.yaml\)"
    ):
        check_snapshot_search_ids(config, ["nihr_snapshot", "pubmed_snapshot"], "m.yaml")
    check_snapshot_search_ids(config, ["nihr_snapshot"], "m.yaml")
    common = (ROOT / "workflow/rules/common.smk").read_text()
    assert "check_snapshot_search_ids(" in common


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("screening.sheets_dir", "results/screening"),
        ("screening.decisions", "results/screening/decisions.csv"),
        ("dedupe.decisions", "./results/dedup/../dedup_decisions.csv"),
        ("extraction.curated_dir", "results"),
        ("report.rob", "results/rob.csv"),
    ],
)
def test_human_owned_inputs_inside_results_are_refused(key: str, value: str) -> None:
    section, name = key.split(".")
    with pytest.raises(ConfigError) as info:
        validate_config({section: {name: value}}, SCHEMA)
    message = str(info.value)
    assert message.startswith(f"config: {key}: {value} is inside results/") and "\n" not in message


def test_an_import_file_inside_results_is_refused(config: dict) -> None:
    bad = copy.deepcopy(config)
    bad["imports"][0]["file"] = "results/search/export.ris"
    with pytest.raises(
        ConfigError, match=r"imports\[0\]\.file: results/search/export\.ris is inside results/"
    ):
        validate_config(bad, SCHEMA)


@pytest.mark.parametrize(
    "ratelimit_dir", ["data/curated/.ratelimit", "data/curated", "data/curated_extra/../curated/x"]
)
def test_ratelimit_dir_inside_the_curated_folder_is_refused(ratelimit_dir: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config({"live": {"ratelimit_dir": ratelimit_dir}}, SCHEMA)
    message = str(info.value)
    assert message.startswith(f"config: live.ratelimit_dir: {ratelimit_dir} is inside data/curated")
    assert "\n" not in message


def test_ratelimit_dir_inside_a_moved_curated_folder_or_sheets_folder_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"live\.ratelimit_dir: .* is inside extraction\.curated_dir"):
        validate_config(
            {"extraction": {"curated_dir": "curated"}, "live": {"ratelimit_dir": "curated/rl"}}, SCHEMA
        )
    with pytest.raises(ConfigError, match=r"live\.ratelimit_dir: .* is inside screening\.sheets_dir"):
        validate_config(
            {"screening": {"sheets_dir": "sheets"}, "live": {"ratelimit_dir": "sheets/rl"}}, SCHEMA
        )
    assert validate_config({"live": {"ratelimit_dir": "/tmp/ohevidence-rate"}}, SCHEMA)


@pytest.mark.parametrize("account", ["CHANGE_ME", "change_me", "", "$SBATCH_ACCOUNT", None])
def test_cluster_placeholder_account_refused(account: str | None) -> None:
    with pytest.raises(ConfigError, match=r"default-resources: slurm_account is .*a placeholder"):
        check_cluster_resources({"slurm_account": account, "slurm_partition": "short"}, "default-resources")


def test_cluster_resources_real_or_absent_accepted() -> None:
    check_cluster_resources({"slurm_account": "ohe_lab", "slurm_partition": "short"}, "default-resources")
    check_cluster_resources({"mem_mb": 2000}, "default-resources")  # a local run names no account
    with pytest.raises(ConfigError, match="slurm_partition is 'CHANGE_ME'"):
        check_cluster_resources({"slurm_account": "ohe_lab", "slurm_partition": "CHANGE_ME"}, "x")
