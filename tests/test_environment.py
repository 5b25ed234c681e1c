"""environment.yml (conda) lists the same packages as pyproject.toml (pip), and pyproject.toml
declares every third-party package the code imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    pip_names |= {_name(r) for r in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda_names == pip_names


def test_rule_env_has_the_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # snakemake, pygments (for --report) and psutil (ohevidence unlock-stale, before snakemake starts)
    # belong to the driver, not to the jobs.
    runtime = {_name(r) for r in project["dependencies"]} - {"snakemake", "pygments", "psutil"}
    env = yaml.safe_load((ROOT / "workflow/envs/ohevidence.yaml").read_text())
    conda_names = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda_names == runtime


# Import name -> distribution name where the two differ (the rest: lower case, '_' -> '-').
DISTRIBUTION_OF = {"Bio": "biopython", "sklearn": "scikit-learn", "yaml": "pyyaml"}
# Declared for a tool rather than imported: snakemake --report needs pygments.
NOT_IMPORTED = {"pygments"}
_SMK_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.MULTILINE)


def _third_party(modules: set[str]) -> set[str]:
    return {m for m in modules if m not in sys.stdlib_module_names and m != "ohevidence"}


def _imported_modules() -> dict[str, set[str]]:
    """Top-level modules imported by the package (ast) and the workflow (import lines), with the files."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow").rglob("*.smk"))]:
        for name in _SMK_IMPORT.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return {m: files for m, files in found.items() if m in _third_party(set(found))}


def _distribution(module: str) -> str:
    return DISTRIBUTION_OF.get(module, module).lower().replace("_", "-")


def test_every_imported_package_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    imported = _imported_modules()
    assert {"numpy", "pandas", "Bio", "snakemake"} <= set(imported)  # the scan sees the imports
    missing = {
        f"{module} (pip: {_distribution(module)}; {', '.join(sorted(files)[:3])})"
        for module, files in imported.items()
        if _distribution(module) not in declared
    }
    assert not missing, f"imported but not in [project.dependencies]: {sorted(missing)}"
    unused = declared - {_distribution(m) for m in imported} - NOT_IMPORTED
    assert not unused, f"declared but never imported (add to NOT_IMPORTED with the reason): {sorted(unused)}"


def test_import_names_map_to_the_installed_distributions() -> None:
    """DISTRIBUTION_OF agrees with the installed packages' own metadata (top_level / RECORD)."""
    installed = packages_distributions()
    for module in _imported_modules():
        if module in installed:
            assert _distribution(module) in {d.lower().replace("_", "-") for d in installed[module]}, module
