"""Code rules that ruff cannot check (`make lint` runs ruff, ruff format, mypy and snakefmt)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_csv_is_written_by_the_one_neutralising_writer() -> None:
    """Issue 14, case 3: only ohevidence.csvio writes CSV (formula cells quoted), nothing else."""
    writers = ("to_csv(", "csv.writer(", "csv.DictWriter(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("src", "benchmarks", "scripts", "workflow")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".smk"} and path.name != "csvio.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(writer in line for writer in writers)
    ]
    assert not offenders, "write CSVs with ohevidence.csvio.write_csv: " + ", ".join(offenders)


def test_the_pipeline_never_imports_the_test_servers() -> None:
    """Issue 23: ohevidence.testing (loopback HTTP servers) serves tests and benchmarks only."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src" / "ohevidence").rglob("*.py"))
        if path.name != "testing.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "ohevidence.testing" in line or "from ohevidence import testing" in line
    ]
    assert not offenders, "pipeline modules must not import the test servers: " + ", ".join(offenders)
    assert not (ROOT / "src" / "ohevidence" / "search" / "stubs.py").exists()
