"""Record data contract: normalisation, stable ids, and table checks that name line and column."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from ohevidence.csvio import neutralise, unneutralise, write_csv
from ohevidence.errors import InputError, SchemaError, require_columns
from ohevidence.records import (
    content_hash,
    find_registry_ids,
    make_record,
    normalise_doi,
    normalise_pmid,
    records_frame,
)
from ohevidence.schema import INCLUDED_COLUMNS, RECORD_COLUMNS, RECORD_FIELDS, SEARCH_LOG_FIELDS
from ohevidence.tableio import read_table, write_table

PLAIN = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("10.1097/j.pain.0000000000001075", "10.1097/j.pain.0000000000001075"),
        ("https://doi.org/10.3310/HTA22330", "10.3310/hta22330"),
        ("http://dx.doi.org/10.1136/BMJ.c1035.", "10.1136/bmj.c1035"),
        ("doi: 10.1186/s12891-020-03619-1", "10.1186/s12891-020-03619-1"),
        ("DOI 10.5271/sjweh.3320 [doi]", "10.5271/sjweh.3320"),
        ("", ""),
        ("not a doi", ""),
        (None, ""),
    ],
)
def test_normalise_doi(raw: object, doi: str) -> None:
    assert normalise_doi(raw) == doi


def test_normalise_pmid() -> None:
    assert normalise_pmid(" 28976423 ") == "28976423"
    assert normalise_pmid("PMID: 0123") == "123"
    assert normalise_pmid("") == ""


def test_registry_ids_from_text() -> None:
    text = "SWAP trial ISRCTN 52269669; see also NCT04543097 and EudraCT 2010-012345-12, ISRCTN52269669"
    assert find_registry_ids(text) == ["ISRCTN52269669", "NCT04543097", "EudraCT 2010-012345-12"]


def test_make_record_fills_every_column_and_normalises() -> None:
    row = make_record(
        source="pubmed",
        search_id="pubmed_main",
        pmid="28976423",
        doi="https://doi.org/10.1097/J.PAIN.0000000000001075",
        title="  Effectiveness   and costs ",
        year="2018 Jan",
    )
    assert list(row) == RECORD_FIELDS
    assert row["record_id"] == "pubmed_main:28976423"
    assert row["doi"] == "10.1097/j.pain.0000000000001075"
    assert row["title"] == "Effectiveness and costs"
    assert row["year"] == "2018"
    assert row["abstract"] == ""


def test_record_id_is_stable_and_falls_back_to_doi_then_hash() -> None:
    by_doi = make_record(source="nihr", search_id="nihr", doi="10.3310/hta22330", title="X")
    assert by_doi["record_id"] == "nihr:10.3310/hta22330"
    first = make_record(
        source="handsearch", search_id="hs", title="A Trial: of things", year="2020", authors="Smith, J"
    )
    again = make_record(
        source="handsearch",
        search_id="hs",
        title="a trial of things",
        year="2020",
        authors="Smith, J; Jones, K",
    )
    assert (
        first["record_id"]
        == again["record_id"]
        == "hs:" + content_hash("A Trial: of things", "2020", "Smith, J")
    )
    other = make_record(source="handsearch", search_id="hs", title="A trial of other things", year="2020")
    assert other["record_id"] != first["record_id"]


def test_make_record_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown record fields"):
        make_record(source="x", search_id="s", titel="typo")


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "records.csv"
    frame.to_csv(path, index=False)
    return path


def test_read_table_round_trip(tmp_path: Path) -> None:
    rows = [make_record(source="pubmed", search_id="s", pmid=str(n), title=f"T{n}") for n in (1, 2)]
    path = tmp_path / "r.csv"
    write_table(records_frame(rows), path, RECORD_COLUMNS)
    frame = read_table(path, RECORD_COLUMNS)
    assert frame["record_id"].tolist() == ["s:1", "s:2"]
    assert frame["doi"].tolist() == ["", ""]  # empty stays empty, never 'nan'


# Formula injection (issue 14, case 3): every table is written through ohevidence.csvio.
TRICKY_CELLS = [
    '=HYPERLINK("http://x","y")',
    "-Fatigue and return to work",
    "+cmd",
    "@SUM(A1)",
    "\tTabbed",
    "\rReturn",
    "'=already quoted",
    "''-twice",
    "'quoted",
    "'-0.5",
    "-0.52",
    "+3",
    "-1.5e-05",
    "plain",
    "",
]


@pytest.mark.parametrize("cell", TRICKY_CELLS)
def test_formula_neutralisation_is_undone_exactly(cell: str) -> None:
    written = neutralise(cell)
    assert unneutralise(written) == cell
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r")) or PLAIN.fullmatch(written)
    if PLAIN.fullmatch(cell) or not cell.lstrip("'").startswith(("=", "+", "-", "@", "\t", "\r")):
        assert written == cell  # numbers and harmless text are written as they are


def test_formula_injection_outside_screening_write_table_round_trip(tmp_path: Path) -> None:
    """write_table quotes formula cells for spreadsheets; read_table gives the exact text back."""
    titles = [c for c in TRICKY_CELLS if c]
    rows = [
        make_record(source="pubmed", search_id="s", pmid=str(n), title=title, authors="@Smith J; -Jones K")
        for n, title in enumerate(titles, start=1)
    ]
    path = tmp_path / "records.csv"
    frame = records_frame(rows)
    write_table(frame, path, RECORD_COLUMNS)
    with path.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert '\'=HYPERLINK("http://x","y")' in cells and "'@Smith J; -Jones K" in cells
    assert "-0.52" in cells and "'-0.5" in cells  # a number stays numeric; a quoted number stays text
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or PLAIN.fullmatch(cell), cell
    back = read_table(path, RECORD_COLUMNS)
    assert back.to_numpy().tolist() == frame.loc[:, back.columns].to_numpy().tolist()
    assert back.loc[0, "title"] == '=HYPERLINK("http://x","y")'
    assert set(back["authors"]) == {"@Smith J; -Jones K"}


def test_numeric_cells_are_written_as_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"label": ["-a", "b"], "yi": [-0.52, 1.5e-05], "n": [3, -4]})
    write_csv(frame, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text() == "label,yi,n\n'-a,-0.52,3\nb,1.5e-05,-4\n"


def test_missing_column_names_line_1(tmp_path: Path) -> None:
    frame = records_frame([make_record(source="pubmed", search_id="s", pmid="1")]).drop(columns=["doi"])
    with pytest.raises(SchemaError, match=r"records.csv, line 1: missing column\(s\) doi"):
        read_table(_write(tmp_path, frame), RECORD_COLUMNS)


def test_bad_value_names_line_and_column(tmp_path: Path) -> None:
    rows = [make_record(source="pubmed", search_id="s", pmid=str(n)) for n in (1, 2, 3)]
    frame = records_frame(rows)
    frame.loc[2, "year"] = "20x8"
    with pytest.raises(SchemaError) as info:
        read_table(_write(tmp_path, frame), RECORD_COLUMNS)
    assert info.value.line == 4 and info.value.column == "year"
    assert "'20x8'" in str(info.value)


def test_empty_required_and_duplicate_ids(tmp_path: Path) -> None:
    rows = [make_record(source="pubmed", search_id="s", pmid=str(n)) for n in (1, 2)]
    frame = records_frame(rows)
    frame.loc[1, "source"] = ""
    with pytest.raises(SchemaError, match=r"line 3, column 'source': empty value"):
        read_table(_write(tmp_path, frame), RECORD_COLUMNS)
    frame = records_frame(rows + rows[:1])
    with pytest.raises(SchemaError, match=r"line 4, column 'record_id': record_id 's:1' appears twice"):
        read_table(_write(tmp_path, frame), RECORD_COLUMNS)
    # a contract that extends the record's (included.csv) keeps its unique ids
    frame = frame.assign(origin="", rank="1", full_text="include", full_text_reason="")
    with pytest.raises(SchemaError, match=r"line 4, column 'record_id': record_id 's:1' appears twice"):
        read_table(_write(tmp_path, frame), INCLUDED_COLUMNS)


def test_an_empty_file_is_one_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "records.csv"
    empty.write_text("")
    with pytest.raises(SchemaError, match=r"records.csv: is empty \(expected a header row\)"):
        read_table(empty, RECORD_COLUMNS)


def test_schema_holds_contracts_only() -> None:
    """Record building, cell conventions and table I/O live in their own modules (issue 23)."""
    import ast

    import ohevidence.schema

    tree = ast.parse(Path(ohevidence.schema.__file__).read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    # map_domain: the contracts of issue 25 put the one outcome-domain mapping beside MAP_DOMAINS
    assert functions <= {"names", "_one_of", "map_domain"}
    imported = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and m.startswith("ohevidence")}


def test_contracts_are_documented_in_config_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "config/README.md").read_text()
    for column in RECORD_FIELDS + SEARCH_LOG_FIELDS:
        assert f"`{column}`" in readme, f"column {column} is not documented in config/README.md"


def test_require_columns_names_every_missing_column_at_the_header_line() -> None:
    require_columns("t.csv", ["a", "b"], ["a", "b"])  # all present: no error
    with pytest.raises(SchemaError) as caught:
        require_columns("t.csv", ["b"], ["a", "b", "c"], error=SchemaError)
    error = caught.value
    assert (error.file, error.line) == ("t.csv", 1)
    assert error.message == "missing column(s) a, c"
    assert error.expected == "a header with a,b,c"
    with pytest.raises(InputError, match=r"t\.csv, line 1: missing column\(s\) c \(expected only a, b, c\)"):
        require_columns("t.csv", ["a", "b"], ["a", "b", "c"], expected="only a, b, c")
