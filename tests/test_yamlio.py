"""Strict YAML: duplicate keys and alias bombs refused in config.yaml, searches.yaml and job_roles.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ohevidence.config import load_config
from ohevidence.curated import errors, load_job_roles, validate_curated
from ohevidence.errors import ConfigError, InputError
from ohevidence.search.searches import load_manifest
from ohevidence.yamlio import MAX_ALIAS_VALUES, StrictLoader, YamlError, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
CURATED = ROOT / "data/curated"


def alias_bomb(levels: int = 9, width: int = 9, indent: str = "") -> str:
    """'Billion laughs': `levels` anchors, each a list of `width` aliases of the one before."""
    lines = [f"{indent}l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"{indent}l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line of `text` starting (after indentation) with `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith(needle)]
    return hits[nth - 1]


# ---------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("a: 1\nimports: [x]\nb: 2\nimports: []\n", (2, 1), (4, 1)),
        ("p:\n  q: 1\n  r: 2\n  q: 3\n", (2, 3), (4, 3)),
        ("- {id: a, id: b}\n", (1, 4), (1, 11)),
        ("yes: 1\ntrue: 2\n", (1, 1), (2, 1)),  # the same key once constructed
    ],
)
def test_duplicate_yaml_keys_are_rejected_with_both_places(
    text: str, first: tuple[int, int], second: tuple[int, int]
) -> None:
    with pytest.raises(YamlError) as info:
        parse_yaml(text, "x.yaml")
    message = str(info.value)
    assert message.startswith(f"x.yaml, line {second[0]}: duplicate key")
    assert f"at column {second[1]}, already given at line {first[0]}, column {first[1]}" in message
    assert "\n" not in message


def test_merge_keys_and_small_aliases_still_load() -> None:
    data, _ = parse_yaml("base: &b {x: 1, y: 2}\nd: {<<: *b, x: 3}\nr: &r '2026'\ns: *r\n", "x.yaml")
    assert data == {"base": {"x": 1, "y": 2}, "d": {"x": 3, "y": 2}, "r": "2026", "s": "2026"}


@pytest.mark.parametrize(
    "text",
    [
        alias_bomb(),
        # the same explosion through merge keys
        "m0: &m0 {a: 1, b: 2}\n"
        + "".join(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}\n" for i in range(1, 40)),
    ],
)
def test_yaml_alias_bomb_is_refused_fast(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused while the document is composed, before a value is built (no wall-clock limit: a
    busy machine must not fail the suite, issue 26)."""

    def never(*args: object) -> None:
        raise AssertionError("the bomb reached construction")

    monkeypatch.setattr(StrictLoader, "construct_document", never)
    with pytest.raises(YamlError, match=f"aliases expand to more than {MAX_ALIAS_VALUES} values"):
        parse_yaml(text, "bomb.yaml")


def test_recursive_alias_and_deep_nesting_are_one_error() -> None:
    with pytest.raises(YamlError, match="line 1: alias \\*a at column 11 refers to a node that contains it"):
        parse_yaml("a: &a [1, *a]\n", "x.yaml")
    with pytest.raises(YamlError, match="nested too deeply"):
        parse_yaml("[" * 20000 + "]" * 20000, "x.yaml")


def test_invalid_yaml_is_one_line_with_line_number() -> None:
    with pytest.raises(YamlError) as info:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "x.yaml")
    assert str(info.value).startswith("x.yaml, line 3: not valid YAML")
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------
# Every file it guards: config.yaml, the snapshot manifest, job_roles.yaml
# ---------------------------------------------------------------------------
def test_duplicate_yaml_keys_are_rejected_in_config(tmp_path: Path) -> None:
    """A second `imports: []` used to drop the handsearch import (last key wins) silently."""
    text = (ROOT / "config/config.yaml").read_text(encoding="utf-8") + "\nimports: []\n"
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    first, second = line_of(text, "imports:"), line_of(text, "imports:", 2)
    with pytest.raises(ConfigError) as info:
        load_config(path, SCHEMA)
    assert str(info.value).startswith(f"{path}, line {second}: duplicate key 'imports' at column 1")
    assert f"already given at line {first}, column 1" in str(info.value)


def test_yaml_alias_bomb_in_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = (ROOT / "config/config.yaml").read_text(encoding="utf-8")
    path.write_text(text + "\nreview:\n" + alias_bomb(indent="  "), encoding="utf-8")
    with pytest.raises(ConfigError, match="a YAML alias bomb"):
        load_config(path, SCHEMA)


def test_duplicate_yaml_keys_are_rejected_in_snapshot_manifest(tmp_path: Path) -> None:
    text = (ROOT / "data/raw/snapshot/searches.yaml").read_text(encoding="utf-8")
    first = line_of(text, "source: nihr")
    text = text.replace("    source: nihr\n", "    source: nihr\n    source: pubmed\n")
    path = tmp_path / "searches.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_manifest(path, SCHEMA)
    assert str(info.value).startswith(f"{path}, line {first + 1}: duplicate key 'source' at column 5")
    assert f"already given at line {first}, column 5" in str(info.value)


@pytest.fixture()
def curated_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "curated"
    shutil.copytree(CURATED, copy)
    return copy


def test_duplicate_yaml_keys_are_rejected_in_job_roles(curated_copy: Path) -> None:
    path = curated_copy / "job_roles.yaml"
    text = path.read_text(encoding="utf-8")
    first = line_of(text, "professional_group: allied health")
    text = text.replace(
        "    professional_group: allied health\n",
        "    professional_group: allied health\n    professional_group: medical\n",
        1,
    )
    path.write_text(text, encoding="utf-8")
    failed = [p for p in errors(validate_curated(curated_copy)) if p.file == str(path)]
    assert [p.line for p in failed] == [first + 1]  # (studies.csv's roles then fail to resolve)
    assert "duplicate key 'professional_group'" in failed[0].expected
    with pytest.raises(InputError, match=f"job_roles.yaml, line {first + 1}: .*duplicate key"):
        load_job_roles(path)


def test_unknown_keys_in_job_roles_are_rejected(curated_copy: Path) -> None:
    path = curated_copy / "job_roles.yaml"
    text = path.read_text(encoding="utf-8")
    line = line_of(text, "group_note:")
    path.write_text(text.replace("    group_note:", "    groupnote:", 1), encoding="utf-8")
    failed = errors(validate_curated(curated_copy))
    assert [(p.file, p.line, p.column) for p in failed] == [(str(path), line, "groupnote")]
    assert failed[0].expected.startswith("only the keys id, label, origin, professional_group, group_note")
