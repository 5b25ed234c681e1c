"""Config validation: defaults filled, wrong keys and types stop with the key path."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ohevidence.config import load_config, validate_config
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
