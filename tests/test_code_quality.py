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
