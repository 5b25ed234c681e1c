"""Hand-made CSV import: header contract and row checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohevidence.errors import InputError
from ohevidence.search.csv_import import parse_csv
from ohevidence.search.formats import PARSERS, parse_file


def test_synthetic_csv(test_data: Path) -> None:
    first, second, third = parse_csv(test_data / "csv_synthetic.csv", source="handsearch", search_id="hs1")
    assert first["source"] == "handsearch"
    assert first["doi"] == first["source_id"] == "10.9999/synthetic.41"
    assert first["abstract"] == "An invented abstract, with a comma."
    assert first["authors"] == "Example, KA; Dupont, JP"
    # known registries normalised, unknown ones kept as written
    assert first["registry_ids"] == "ISRCTN00000041; ACTRN99990000000041"
    assert second["title"] == "Synthetic conference poster with a line break in its title"
    assert second["pmid"] == second["source_id"] == "99000042"
    assert second["authors"] == "Solo, A"
    assert third["record_id"] == "hs1:hs-003"


def test_utf8_bom_and_title_only(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftitle\nSynthetic café study\n".encode())
    [rec] = parse_csv(path, source="handsearch", search_id="hs1")
    assert rec["title"] == "Synthetic café study"
    assert rec["source_id"].startswith("h") and len(rec["source_id"]) == 13  # content hash


def test_unknown_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text("title,abstact,year\nSynthetic,x,2020\n")
    with pytest.raises(InputError) as info:
        parse_csv(path, source="handsearch", search_id="hs1")
    assert info.value.line == 1
    assert "'abstact'" in info.value.message


def test_missing_title_column(tmp_path: Path) -> None:
    path = tmp_path / "notitle.csv"
    path.write_text("doi,year\n10.9999/synthetic.1,2020\n")
    with pytest.raises(InputError, match="missing column"):
        parse_csv(path, source="handsearch", search_id="hs1")


def test_empty_title_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text('title,year\n"Synthetic first",2020\n"Synthetic\nsecond",2021\n,2022\n')
    with pytest.raises(InputError) as info:
        parse_csv(path, source="handsearch", search_id="hs1")
    assert info.value.line == 5 and info.value.column == "title"


def test_ragged_row(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("title,year\nSynthetic,2020,extra\n")
    with pytest.raises(InputError, match="3 cells") as info:
        parse_csv(path, source="handsearch", search_id="hs1")
    assert info.value.line == 2


def test_duplicate_source_ids_get_suffixes(tmp_path: Path) -> None:
    path = tmp_path / "dups.csv"
    path.write_text("title,source_id\nSynthetic A,x1\nSynthetic B,x1\nSynthetic C,x1\nSynthetic D,x1~2\n")
    records = parse_file(path, fmt="csv", source="handsearch", search_id="hs1")
    assert [r["source_id"] for r in records] == ["x1", "x1~3", "x1~4", "x1~2"]
    assert len({r["record_id"] for r in records}) == 4
    assert records[1]["record_id"] == "hs1:x1~3"


def test_parsers_registry() -> None:
    assert set(PARSERS) == {"pubmed_xml", "nbib", "crossref_json", "ris", "csv"}
    with pytest.raises(InputError, match="unknown format"):
        parse_file("x.csv", fmt="endnote_xml", source="handsearch", search_id="hs1")


def test_windows_1252_csv_is_read_with_a_warning_naming_the_line(tmp_path: Path, caplog) -> None:
    """Excel's plain "CSV" is Windows-1252: read it, and warn with file, first line and count."""
    path = tmp_path / "excel.csv"
    path.write_bytes("title,year\nPlain title,2020\nCaf\u00e9 workers \u2013 a trial,2021\n".encode("cp1252"))
    caplog.set_level("WARNING")
    plain, second = parse_csv(path, source="handsearch", search_id="hs1")
    assert plain["title"] == "Plain title"
    assert second["title"] == "Caf\u00e9 workers \u2013 a trial"
    assert f"{path}: line 3: not UTF-8; read as Windows-1252" in caplog.text
    assert "1 line(s) affected" in caplog.text
