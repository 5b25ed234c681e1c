"""Issue 14, cases 2 and 14: identifiers, DOIs, years and control characters at record ingest.

Every importer builds its records with ``make_record``; a value that cannot be trusted is an
error or a warning naming file and line, never silently changed (digits run together, a DOI or
year blanked, a NUL byte passed on to the screening sheets).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from ohevidence.csvio import strip_controls
from ohevidence.errors import InputError
from ohevidence.records import doi_problem, normalise_pmid, pmid_problem, records_frame
from ohevidence.screen.stage import ScreeningSettings, screen, write_outputs
from ohevidence.search.formats import parse_file

CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# ---------------------------------------------------------------------------
# Case 2: identifiers corrupted silently.
# ---------------------------------------------------------------------------
def test_identifiers_nbib_without_blank_line_gives_two_records(tmp_path: Path) -> None:
    path = tmp_path / "two.nbib"
    path.write_text("PMID- 1\nTI  - First title\nPMID- 2\nTI  - Second title\n\n", encoding="utf-8")
    records = parse_file(path, fmt=None, source="pubmed", search_id="s")
    assert [(r["pmid"], r["title"]) for r in records] == [("1", "First title"), ("2", "Second title")]
    assert [r["record_id"] for r in records] == ["s:1", "s:2"]


def test_identifiers_nbib_double_pmid_line_is_rejected_with_line(tmp_path: Path) -> None:
    path = tmp_path / "double.nbib"
    path.write_text("PMID- 1\nPMID- 2\nTI  - One record, two PMIDs\n\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse_file(path, fmt=None, source="pubmed", search_id="s")
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 2, "PMID")
    assert "second PMID line" in caught.value.message


def test_identifiers_csv_semicolon_separated_pmids_are_rejected_not_concatenated(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text("title,pmid\nFirst,11111111\nSecond,12345678; 87654321\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse_file(path, fmt=None, source="handsearch", search_id="s")
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 3, "pmid")
    assert "holds 2 numbers" in caught.value.message
    assert "1234567887654321" not in str(caught.value)


def test_identifiers_csv_pmcid_is_not_a_pmid(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text("title,pmid\nA PMC record,PMC5555555\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2, column 'pmid': 'PMC5555555' is a PMCID"):
        parse_file(path, fmt=None, source="handsearch", search_id="s")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12345678", "12345678"),
        ("PMID: 00123", "123"),
        (" 42 ", "42"),
        ("", ""),
        ("12345678; 87654321", ""),
        ("1 2", ""),
        ("PMC5555555", ""),
        ("123456789", ""),
        ("0", ""),
    ],
)
def test_identifiers_normalise_pmid_never_runs_digits_together(value: str, expected: str) -> None:
    assert normalise_pmid(value) == expected
    assert bool(pmid_problem(value)) == (bool(value.strip()) and not expected)


def test_identifiers_same_pmid_rule_cannot_merge_records_split_from_one_nbib(tmp_path: Path) -> None:
    # The old parser gave one record with PMID '12'; a CSV with PMID 12 then merged with it.
    path = tmp_path / "two.nbib"
    path.write_text("PMID- 1\nTI  - First title\nPMID- 2\nTI  - Second title\n\n", encoding="utf-8")
    pmids = {r["pmid"] for r in parse_file(path, fmt=None, source="pubmed", search_id="s")}
    assert "12" not in pmids and pmids == {"1", "2"}


def _bad_doi_files(tmp_path: Path, test_data: Path) -> dict[str, tuple[Path, str]]:
    """One file per importer with a DOI that is not a DOI; value: (file, where the warning points)."""
    ris = tmp_path / "bad.ris"
    ris.write_text("TY  - JOUR\nTI  - A\nER  - \n\nTY  - JOUR\nTI  - B\nDO  - not-a-doi\nER  - \n", "utf-8")
    nbib = tmp_path / "bad.nbib"
    nbib.write_text("PMID- 5\nTI  - A\n\nPMID- 6\nTI  - B\nLID - 10.12/x [doi]\n\n", encoding="utf-8")
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("title,doi\nA,\nB,doi:nonsense\n", encoding="utf-8")
    xml = tmp_path / "bad.xml"
    text = (test_data / "pubmed_synthetic.xml").read_text(encoding="utf-8")
    xml.write_text(text.replace("10.9999/synthetic.1<", "no-doi-here<"), encoding="utf-8")
    crossref = tmp_path / "bad.json"
    payload = json.loads((test_data / "crossref_synthetic.json").read_text(encoding="utf-8"))
    payload["message"]["items"][0]["DOI"] = "10.9999"
    crossref.write_text(json.dumps(payload), encoding="utf-8")
    return {
        "ris": (ris, "line 5"),
        "nbib": (nbib, "line 4"),
        "csv": (csv_file, "line 3"),
        "pubmed_xml": (xml, "record 's:99000001'"),
        "crossref_json": (crossref, "record 's:h"),
    }


@pytest.mark.parametrize("fmt", ["ris", "nbib", "csv", "pubmed_xml", "crossref_json"])
def test_identifiers_invalid_doi_is_a_warning_with_file_line_and_count(
    fmt: str, tmp_path: Path, test_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, where = _bad_doi_files(tmp_path, test_data)[fmt]
    with caplog.at_level(logging.WARNING):
        records = parse_file(path, fmt=fmt, source="x", search_id="s")
    warnings = _warnings(caplog)
    detail = [w for w in warnings if "column 'doi'" in w]
    assert len(detail) == 1, warnings
    assert detail[0].startswith(f"{path}, {where}") and "is not a DOI; left empty" in detail[0]
    assert f"{path}: 1 DOI value(s) not one DOI" in warnings[-1]
    assert sum(1 for r in records if not r["doi"]) >= 1


def test_identifiers_several_dois_in_one_cell_keep_the_first_and_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "two_dois.csv"
    path.write_text("title,doi\nA,10.9999/a; 10.9999/b\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        records = parse_file(path, fmt=None, source="x", search_id="s")
    assert records[0]["doi"] == "10.9999/a"
    assert any(f"{path}, line 2, column 'doi'" in w and "holds 2 DOIs" in w for w in _warnings(caplog))
    assert doi_problem("10.9999/a") == "" and doi_problem("") == ""


@pytest.mark.parametrize(
    ("fmt", "text", "line"),
    [
        ("ris", "TY  - JOUR\nTI  - A\nPY  - 2020\nER  - \nTY  - JOUR\nTI  - B\nPY  - 2150\nER  - \n", 5),
        ("nbib", "PMID- 7\nTI  - A\nDP  - 2020\n\nPMID- 8\nTI  - B\nDP  - 1750 Jan\n\n", 5),
        ("csv", "title,year\nA,2020\nB,2150\n", 3),
    ],
)
def test_identifiers_out_of_range_year_is_a_warning_with_file_line_and_count(
    fmt: str, text: str, line: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / f"years.{fmt}"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        records = parse_file(path, fmt=fmt, source="x", search_id="s")
    assert [r["year"] for r in records] == ["2020", ""]
    warnings = _warnings(caplog)
    assert any(
        w.startswith(f"{path}, line {line}, column 'year'") and "not a year in 1800-2099" in w
        for w in warnings
    ), warnings
    assert f"{path}: 1 year value(s) outside 1800-2099" in warnings[-1]


def test_identifiers_out_of_range_year_in_pubmed_xml_is_reported(
    tmp_path: Path, test_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "years.xml"
    text = (test_data / "pubmed_synthetic.xml").read_text(encoding="utf-8")
    path.write_text(text.replace("<Year>2022</Year>", "<Year>2222</Year>"), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        records = parse_file(path, fmt=None, source="pubmed", search_id="s")
    assert records[0]["year"] == ""
    assert any(w.startswith(f"{path}, record 's:99000001', column 'year'") for w in _warnings(caplog))


# ---------------------------------------------------------------------------
# Case 14: NUL and control characters.
# ---------------------------------------------------------------------------
def test_control_characters_are_stripped_at_import_and_never_reach_screening_outputs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ris = tmp_path / "dirty.ris"
    ris.write_text(
        "TY  - JOUR\nID  - r1\nTI  - Vocational\x00 advice\x1b[31m trial\nAB  - Sick\x7f leave\x85 work\n"
        "PY  - 2020\nER  - \nTY  - JOUR\nID  - r2\nTI  - Clean title\nPY  - 2021\nER  - \n",
        encoding="utf-8",
    )
    csv_file = tmp_path / "dirty.csv"
    csv_file.write_text(
        'title,abstract,year\n"Return\x0bto work\x00","Case\x1b management\x9b",2019\n', encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING):
        rows = parse_file(ris, fmt=None, source="embase", search_id="e")
        rows += parse_file(csv_file, fmt=None, source="hand", search_id="h")
    for row in rows:
        for value in row.values():
            assert not CONTROLS.search(value), row
    assert rows[0]["title"] == "Vocational advice[31m trial"
    assert rows[0]["abstract"] == "Sick leave work"
    assert rows[2]["title"] == "Return to work"
    warnings = _warnings(caplog)
    assert f"{ris}, line 1, column 'title, abstract': control characters removed" in warnings
    assert f"{ris}: control characters removed from 2 field(s) of 1 record(s)" in warnings
    assert f"{csv_file}: control characters removed from 2 field(s) of 1 record(s)" in warnings

    # Defence in depth: the screening exports clean a table that still holds control characters.
    records = records_frame(rows)
    records.loc[1, "title"] = "Injected\x00 after\x1b import\x0b\x9f"
    records.loc[1, "abstract"] = "line\nbreak\x00"
    settings = ScreeningSettings(reviewers=("ana", "ben"), arbiters=(), exclusion_reasons=("x",), rules=())
    decisions = pd.DataFrame(
        columns=["record_id", "stage", "reviewer", "decision", "reason", "note", "decided_at"]
    )
    out = tmp_path / "screening"
    write_outputs(screen(records, settings, decisions), records, out)
    written = [
        out / "to_screen_ana.csv",
        out / "to_screen_ben.csv",
        out / "asreview.csv",
        out / "screening.ris",
    ]
    for path in written:
        text = path.read_text(encoding="utf-8-sig")
        assert not CONTROLS.search(text), (path, CONTROLS.findall(text))
        assert "Injected after import" in text, path
    ris_text = (out / "screening.ris").read_text(encoding="utf-8")
    assert "line break" in ris_text  # a line break inside a value would end the RIS field


def test_strip_controls_keeps_tab_and_line_breaks_and_spaces_whitespace_controls() -> None:
    assert strip_controls("a\x00b\tc\nd\re\x0bf\x1fg\x85h\x1bi\x7fj\x9bk") == "ab\tc\nd\re f g hijk"


def test_control_characters_inside_a_medline_field_neither_split_it_nor_survive(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "vt.nbib"
    path.write_text("PMID- 9\nTI  - Vertical\x0btab\x85 and\x00 NUL\nAB  - Text\n\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        (record,) = parse_file(path, fmt=None, source="pubmed", search_id="s")
    assert (record["title"], record["abstract"]) == ("Vertical tab and NUL", "Text")
    assert f"{path}: control characters removed from 1 field(s) of 1 record(s)" in _warnings(caplog)
