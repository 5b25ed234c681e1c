"""The meta stage's contracts: typed analysis in, typed result out, and no import of the report layer.

* ``results/meta/<id>.json`` and ``results/meta/sensitivity/<id>.json`` are read back through
  :class:`AnalysisResult` / :class:`SensitivityResult` to the same bytes, and a missing or ill-typed
  field is one error naming the file and the field (docs/contracts/meta_analysis_json.md).
* :class:`AnalysisSpec` takes its defaults from the config schema, not from code.
* No module of ``ohevidence.meta`` imports ``ohevidence.report`` (figures draw results; the stage
  that computes them does not depend on them).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ohevidence.cli import main
from ohevidence.config import load_schema
from ohevidence.errors import ConfigError, InputError
from ohevidence.meta.result import AnalysisResult, SensitivityResult
from ohevidence.meta.spec import AnalysisSpec, find_analysis

ROOT = Path(__file__).resolve().parents[1]
META = ROOT / "src" / "ohevidence" / "meta"
DATA = Path(__file__).resolve().parent / "data" / "meta_pipeline"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, at any depth (function-level imports too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


def test_no_meta_module_imports_the_report_layer() -> None:
    modules = sorted(META.glob("*.py"))
    assert len(modules) > 10
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in modules
        for line, module in _imports(path)
        if module == "ohevidence.report" or module.startswith("ohevidence.report.")
    ]
    assert not offenders, offenders


def test_the_meta_cli_loads_neither_the_report_layer_nor_matplotlib() -> None:
    code = (
        "import sys, ohevidence.meta.cli, ohevidence.meta.analysis, ohevidence.meta.sensitivity, "
        "ohevidence.meta.swim, ohevidence.meta.funnel; "
        "print(sorted(m for m in sys.modules if m.startswith(('ohevidence.report', 'matplotlib'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _cli(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The invented tables run through meta effects, run and sensitivity (rtw_or: three studies)."""
    folder = tmp_path_factory.mktemp("meta")
    curated = ["--studies", DATA / "studies.csv", "--job-roles", DATA / "job_roles.yaml"]
    effects = folder / "effects.csv"
    assert _cli("meta", "effects", "--outcomes", DATA / "outcomes.csv", *curated, "--out", effects) == 0
    paths = {"effects": effects}
    for analysis in ("rtw_or", "absence_irr"):
        meta = folder / f"{analysis}.json"
        assert (
            _cli(
                "meta", "run", analysis, "--config", DATA / "config.yaml", "--effects", effects, *curated,
                "--json", meta, "--csv", folder / f"{analysis}.csv",
            )
            == 0
        )  # fmt: skip
        paths[analysis] = meta
    sensitivity = folder / "sens_rtw_or.json"
    assert (
        _cli(
            "meta", "sensitivity", "rtw_or", "--config", DATA / "config.yaml", "--meta", paths["rtw_or"],
            "--effects", effects, "--outcomes", DATA / "outcomes.csv", *curated,
            "--json", sensitivity, "--csv", folder / "sens_rtw_or.csv",
        )
        == 0
    )  # fmt: skip
    paths["sensitivity"] = sensitivity
    return paths


def _dumped(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_analysis_json_reads_back_to_the_same_bytes(outputs: dict[str, Path]) -> None:
    for name in ("rtw_or", "absence_irr"):
        result = AnalysisResult.read(outputs[name])
        assert _dumped(result.to_json()) == outputs[name].read_text(encoding="utf-8")
    result = AnalysisResult.read(outputs["rtw_or"])
    assert result.overall is not None and result.overall.k == result.k == len(result.studies) == 3
    assert result.overall.reported.estimate == pytest.approx(2.718281828**result.overall.estimate)
    sensitivity = SensitivityResult.read(outputs["sensitivity"])
    assert _dumped(sensitivity.to_json()) == outputs["sensitivity"].read_text(encoding="utf-8")
    assert sensitivity.main.fit is not None and sensitivity.main.fit.k == 3
    assert {v.check for v in sensitivity.variants} >= {"leave_one_out", "fixed_vs_random"}


def test_a_missing_field_names_file_and_field(outputs: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads(outputs["rtw_or"].read_text(encoding="utf-8"))
    del data["overall"]["tau2"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as error:
        AnalysisResult.read(bad)
    assert str(error.value) == f"{bad}: field 'overall.tau2': missing field (expected a number or null)"


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("k",), "3", "k"),
        (("single_study",), 0, "single_study"),
        (("studies", 1, "weight"), "12%", "studies[1].weight"),
        (("studies", 0, "from"), None, "studies[0].from"),
        (("overall", "q_df"), 2.5, "overall.q_df"),
        (("overall", "reported", "estimate"), [], "overall.reported.estimate"),
    ],
)
def test_an_ill_typed_field_names_file_and_field(
    outputs: dict[str, Path], tmp_path: Path, path: tuple, value: object, where: str
) -> None:
    data = json.loads(outputs["rtw_or"].read_text(encoding="utf-8"))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{bad}: field '{where}': ")):
        AnalysisResult.read(bad)


def test_an_unknown_field_is_refused(outputs: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads(outputs["rtw_or"].read_text(encoding="utf-8"))
    data["studies"][0]["weigth"] = 1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"studies\[0\]\.weigth'.*unknown field"):
        AnalysisResult.read(bad)


def test_a_file_that_is_not_json_is_one_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as JSON"):
        AnalysisResult.read(bad)


def test_analysis_spec_takes_its_defaults_from_the_schema() -> None:
    spec = AnalysisSpec.from_entry({"id": "a", "domain": "return_to_work", "measure": "OR"})
    keys = load_schema()["properties"]["analyses"]["items"]["properties"]
    for name, entry in keys.items():
        if name in ("id", "domain", "measure"):
            continue
        value = getattr(spec, name)
        if name == "grade":  # a nested block: each of its keys takes the schema's default
            for key, sub in entry["properties"].items():
                assert getattr(value, key) == sub["default"], f"grade.{key}"
            continue
        if name == "pico":  # nested too; the time window is two fields of the spec
            for key, sub in entry["properties"].items():
                if key == "timepoint_months":
                    window = sub["properties"]
                    assert value.timepoint_min == window["min"]["default"], "pico.timepoint_months.min"
                    assert value.timepoint_max == window["max"]["default"], "pico.timepoint_months.max"
                    continue
                got = getattr(value, key)
                assert (list(got) if isinstance(got, tuple) else got) == sub["default"], f"pico.{key}"
            continue
        assert (list(value) if isinstance(value, tuple) else value) == entry["default"], name
    assert spec.pool_options() == {"pi": "t", "hksj_floor": True, "hksj_small_k": False}


def test_analysis_spec_is_built_from_the_validated_config_only() -> None:
    config = yaml.safe_load((DATA / "config.yaml").read_text(encoding="utf-8"))
    with pytest.raises(ConfigError, match="validate the config first"):
        find_analysis(config, "rtw_or", "config.yaml")  # not validated: no defaults filled
    with pytest.raises(ConfigError, match="is not one of"):
        AnalysisSpec.from_entry({"id": "a", "domain": "d", "measure": "OR", "ci": "wald"})


def _documented_fields() -> dict[str, list[str]]:
    """Class name -> the fields its table lists, from docs/contracts/meta_analysis_json.md."""
    text = (ROOT / "docs" / "contracts" / "meta_analysis_json.md").read_text(encoding="utf-8")
    tables: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.fullmatch(r"### `(\w+)`", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
        elif current and (cell := re.match(r"\| `(\w+)` \|", line)):
            tables[current].append(cell.group(1))
    return tables


def test_the_written_contract_lists_every_field_in_order() -> None:
    import dataclasses

    from ohevidence.meta import funnel, grade, result
    from ohevidence.meta.contract import json_key
    from ohevidence.report import funnel as funnel_plot

    documented = _documented_fields()
    classes = [
        getattr(result, name)
        for name in documented
        if hasattr(result, name) and name not in ("MainModel", "Variant")
    ]
    classes += [funnel.EggerSummary, funnel_plot.FunnelResult]
    classes += [grade.GradeProposal, grade.DomainJudgement, grade.AbsoluteEffect]
    assert len(classes) >= 15
    for cls in classes:
        fields = [json_key(f) for f in dataclasses.fields(cls)]
        assert documented[cls.__name__] == fields, cls.__name__
    # the two flattened ones: their own fields, then ModelSummary's in the same object
    assert documented["MainModel"] == ["label"]
    assert documented["Variant"] == ["check", "label", "omitted", "note"]
