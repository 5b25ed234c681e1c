"""The version is one number: pyproject.toml, ohevidence.__version__ and the newest CHANGELOG release."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import ohevidence

ROOT = Path(__file__).resolve().parents[1]
# Keep a Changelog release headings: '## [0.2.0] - 2026-12-07' ('## [Unreleased]' has no version).
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def test_version_is_the_newest_changelog_release() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = RELEASE.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert releases, "CHANGELOG.md has no '## [x.y.z] - YYYY-MM-DD' release heading"
    assert ohevidence.__version__ == version
    assert releases[0][0] == version, f"newest CHANGELOG release {releases[0][0]}, pyproject {version}"


def test_changelog_releases_run_newest_first() -> None:
    releases = RELEASE.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    versions = [tuple(int(part) for part in v.split(".")) for v, _ in releases]
    dates = [d for _, d in releases]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert dates == sorted(dates, reverse=True)
