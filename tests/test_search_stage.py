"""File searches, the PRISMA-S search log, and merging searches with reconciled counts."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ohevidence.errors import InputError
from ohevidence.schema import RECORD_FIELDS, SEARCH_LOG_FIELDS
from ohevidence.search.searches import FileSearch, load_manifest, merge_searches, run_file_search

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"

CSV_EXPORT = (
    "title,authors,year,doi,pmid,journal\n"
    'Synthetic trial of vocational advice,"Smith, J; Jones, K",2020,10.9999/synthetic.1,,Synthetic J\n'
    'Synthetic cohort of nurse case management,"Brown, A",2019,,99000002,Synthetic J\n'
)


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(CSV_EXPORT, encoding="utf-8")
    return path


def _search(path: Path, **extra: object) -> FileSearch:
    fields = {
        "search_id": "other_2026",
        "source": "other_db",
        "file": str(path),
        "run_at": "2026-11-02T10:30:00Z",
        "platform": "Synthetic platform",
        "query": "vocational AND (nurse OR advice)",
        **extra,
    }
    return FileSearch.from_mapping(fields)


def test_file_search_writes_records_and_log_row(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    row = run_file_search(_search(export, n_hits=2), mode="import", out_dir=out)
    records = pd.read_csv(out / "records.csv", dtype=str, keep_default_na=False)
    assert list(records.columns) == RECORD_FIELDS
    assert records["record_id"].tolist() == ["other_2026:10.9999/synthetic.1", "other_2026:99000002"]
    assert set(records["source"]) == {"other_db"}
    logged = json.loads((out / "search.json").read_text())
    assert logged == row
    assert list(logged) == SEARCH_LOG_FIELDS
    assert logged["mode"] == "import" and logged["n_hits"] == "2" and logged["n_retrieved"] == "2"
    assert logged["query"] == "vocational AND (nurse OR advice)"
    assert logged["sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()


def test_short_export_against_reported_hits_is_an_error(export: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds 2 records but the search reported 5 hits"):
        run_file_search(_search(export, n_hits=5), mode="import", out_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "records.csv").exists()


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.ris: file of search 'other_2026' not found"):
        run_file_search(_search(tmp_path / "nope.ris"), mode="import", out_dir=tmp_path / "out")


def test_merge_reconciles_counts(export: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.csv"
    second.write_text(CSV_EXPORT, encoding="utf-8")  # the same articles found again
    run_file_search(_search(export), mode="import", out_dir=tmp_path / "a")
    run_file_search(_search(second, search_id="again_2026"), mode="import", out_dir=tmp_path / "b")
    records, log = merge_searches(
        [tmp_path / "a", tmp_path / "b"], records_out=tmp_path / "records.csv", log_out=tmp_path / "log.csv"
    )
    assert len(records) == 4  # a duplicate found by two searches is two records until dedupe
    assert log["n_retrieved"].astype(int).sum() == len(records)
    assert records["record_id"].is_unique
    assert pd.read_csv(tmp_path / "log.csv", dtype=str, keep_default_na=False)["search_id"].tolist() == [
        "other_2026",
        "again_2026",
    ]


def test_merge_refuses_tampered_counts(export: Path, tmp_path: Path) -> None:
    run_file_search(_search(export), mode="import", out_dir=tmp_path / "a")
    row = json.loads((tmp_path / "a/search.json").read_text())
    row["n_retrieved"] = "3"
    (tmp_path / "a/search.json").write_text(json.dumps(row))
    with pytest.raises(InputError, match=r"holds 2 records but search\.json says n_retrieved=3"):
        merge_searches([tmp_path / "a"], records_out=tmp_path / "r.csv", log_out=tmp_path / "l.csv")


def test_merge_reads_each_search_row_through_the_search_log_contract(export: Path, tmp_path: Path) -> None:
    """Issue 23: search.json is a checked read (SEARCH_LOG_COLUMNS), so a bad row names its own file."""
    run_file_search(_search(export), mode="import", out_dir=tmp_path / "a")
    log_path = tmp_path / "a/search.json"
    row = json.loads(log_path.read_text())
    for key, value, message in (
        ("mode", "offline", "column 'mode': bad value 'offline'"),
        ("platform", " ", "column 'platform': empty value"),
    ):
        log_path.write_text(json.dumps({**row, key: value}))
        with pytest.raises(InputError, match=message) as info:
            merge_searches([tmp_path / "a"], records_out=tmp_path / "r.csv", log_out=tmp_path / "l.csv")
        assert str(log_path) in str(info.value)
    log_path.write_text(json.dumps([row]))
    with pytest.raises(InputError, match="holds a JSON list"):
        merge_searches([tmp_path / "a"], records_out=tmp_path / "r.csv", log_out=tmp_path / "l.csv")
    assert not (tmp_path / "r.csv").exists()


def test_merge_refuses_the_same_search_twice(export: Path, tmp_path: Path) -> None:
    run_file_search(_search(export), mode="import", out_dir=tmp_path / "a")
    with pytest.raises(InputError, match="given twice"):
        merge_searches(
            [tmp_path / "a", tmp_path / "a"], records_out=tmp_path / "r.csv", log_out=tmp_path / "l.csv"
        )


def test_merge_refuses_a_file_and_accepts_no_search(export: Path, tmp_path: Path) -> None:
    (tmp_path / "search_log.csv").write_text("search_id\n")  # what `results/search/*` also matches
    with pytest.raises(InputError, match=r"search_log\.csv: not a search folder"):
        merge_searches([tmp_path / "search_log.csv"], records_out=tmp_path / "r.csv", log_out=tmp_path / "x")
    # a new review has no search yet: empty tables with their headers
    records, log = merge_searches([], records_out=tmp_path / "r.csv", log_out=tmp_path / "l.csv")
    assert records.empty and log.empty
    assert (tmp_path / "r.csv").read_text().startswith("record_id,")


def test_manifest_errors_name_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "searches.yaml"
    path.write_text(
        "searches:\n  - search_id: a\n    source: pubmed\n    platform: p\n    file: x.xml\n"
        "    run_at: 2026-11-23\n"
    )
    with pytest.raises(InputError) as info:
        load_manifest(path, SCHEMA)
    # YAML reads an unquoted date as a date, not a string: the first entry is already wrong.
    assert info.value.column == "searches[0].run_at"
    path.write_text(
        "searches:\n  - search_id: a\n    source: pubmed\n    file: x.xml\n    run_at: '2026-11-23'\n"
    )
    with pytest.raises(InputError) as info:
        load_manifest(path, SCHEMA)
    assert info.value.column == "searches[0]" and "'platform' is a required property" in str(info.value)
    path.write_text("searches: []\n")
    with pytest.raises(InputError, match="no searches listed"):
        load_manifest(path, SCHEMA)


def test_shipped_manifest_loads() -> None:
    searches = load_manifest(ROOT / "data/raw/snapshot/searches.yaml", SCHEMA)
    assert {s.source for s in searches} == {"pubmed", "nihr"}
    for search in searches:
        assert (ROOT / search.file).exists()
        assert search.n_hits is not None


def test_cli_file_and_merge(export: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ohevidence", *args], capture_output=True, text=True)

    result = run(
        "search",
        "file",
        str(export),
        "--search-id",
        "s1",
        "--source",
        "other_db",
        "--run-at",
        "2026-11-02",
        "--platform",
        "Synthetic",
        "--out",
        str(tmp_path / "s1"),
    )
    assert result.returncode == 0, result.stderr
    result = run(
        "search",
        "merge",
        str(tmp_path / "s1"),
        "--records-out",
        str(tmp_path / "r.csv"),
        "--log-out",
        str(tmp_path / "l.csv"),
    )
    assert result.returncode == 0, result.stderr
    assert "total: 2 records from 1 searches" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("title,yaer\nA synthetic record,2020\n", encoding="utf-8")
    result = run(
        "search",
        "file",
        str(bad),
        "--search-id",
        "s2",
        "--source",
        "other_db",
        "--run-at",
        "2026-11-02",
        "--platform",
        "Synthetic",
        "--out",
        str(tmp_path / "s2"),
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "bad.csv, line 1" in result.stderr and "yaer" in result.stderr
