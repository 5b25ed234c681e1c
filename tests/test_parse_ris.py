"""RIS parser: encodings, tag variants, structure errors, and rispy's sample files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohevidence.errors import InputError
from ohevidence.records import content_hash
from ohevidence.search.formats import parse_file
from ohevidence.search.ris import parse_ris
from ohevidence.text import normalise_author

RISPY = "ris/rispy"


def test_utf8_bom(test_data: Path) -> None:
    [rec] = parse_ris(test_data / "ris_utf8_bom.ris", source="embase", search_id="em1")
    assert rec["record_id"] == "em1:900001" and rec["source"] == "embase"
    assert rec["title"] == "Synthetic RIS record with a byte order mark"
    assert rec["authors"] == "Wynne-Jones, G; Example, AB; Smith, JK"
    assert rec["journal"] == "Journal of Synthetic Occupational Health"  # JO preferred over J2
    assert (rec["year"], rec["volume"], rec["issue"], rec["pages"]) == ("2019", "4", "1", "10-19")
    assert rec["doi"] == "10.9999/synthetic.31"
    assert "\u2014" in rec["abstract"]
    assert rec["registry_ids"] == "NCT00000031"
    assert rec["keywords"] == "return to work; sickness absence"
    assert rec["publication_types"] == "Journal Article"
    assert rec["url"] == "https://example.org/synthetic/31"


def test_latin1_conference_abstract(test_data: Path) -> None:
    [rec] = parse_ris(test_data / "ris_latin1.ris", source="embase", search_id="em1")
    assert rec["source_id"] == "900002"  # AN
    assert rec["title"] == "Synthetic conference abstract from a Latin-1 export: café workers"
    assert rec["authors"] == "Müller, J"  # A1 read, A2 (editor) skipped
    assert rec["journal"] == "Synthetic Conference Abstracts"  # T2 preferred over J2
    assert rec["year"] == "2018" and rec["abstract"] == "Made-up abstract text."
    assert rec["publication_types"] == "Conference Abstract"
    assert rec["registry_ids"] == "ISRCTN00000032"  # from N1 notes


def test_tag_variants_and_duplicate_ids(test_data: Path) -> None:
    raw = parse_ris(test_data / "ris_variants.ris", source="cochrane_library", search_id="cl1")
    assert [r["source_id"] for r in raw] == ["900003", "900004", "900003"]
    first, report, _again = raw
    assert first["doi"] == "10.9999/synthetic.33"  # 'DOI - https://doi.org/...'
    assert first["journal"] == "Journal of Synthetic Occupational Health"  # JF over JA
    assert first["authors"] == "Example, KA" and first["year"] == "2017" and first["pages"] == "100-110"
    assert report["title"] == "Synthetic report with single-space tag separators"
    assert report["publication_types"] == "Report" and report["authors"] == "Synthetic Working Group"
    records = parse_file(
        test_data / "ris_variants.ris", fmt="ris", source="cochrane_library", search_id="cl1"
    )
    assert [r["record_id"] for r in records] == ["cl1:900003", "cl1:900004", "cl1:900003~2"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wynne-Jones, Gwenllian", "Wynne-Jones, G"),
        ("Example, A. B.", "Example, AB"),
        ("Smith GH", "Smith, GH"),
        ("Smith G.H.", "Smith, GH"),
        ("Shannon,Claude E.", "Shannon, CE"),
        ("Dupont, Jean-Paul", "Dupont, JP"),
        ("van der Windt, D. A.", "van der Windt, DA"),
        ("Synthetic Working Group", "Synthetic Working Group"),
    ],
)
def test_author_forms(raw: str, expected: str) -> None:
    assert normalise_author(raw) == expected


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("TI  - No type line\nAU  - Solo, A\nER  - \n", 1, "'TI' field outside a record"),
        ("TY  - JOUR\nTI  - Never closed\n", 1, "not closed"),
        ("TY  - JOUR\nTI  - First\nTY  - JOUR\nTI  - Second\nER  - \n", 3, "line 1 is not closed"),
        ("just some text\nwith no records\n", 1, "no RIS records"),
    ],
)
def test_malformed_ris(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.ris"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        parse_ris(path, source="embase", search_id="em1")
    assert info.value.line == line and info.value.file == str(path)


# --- rispy's sample files ------------------------------------------------------------------
def test_real_bom(shared_fixtures: Path) -> None:
    [rec] = parse_ris(shared_fixtures / RISPY / "example_bom.ris", source="embase", search_id="r")
    assert rec["doi"] == "10.1186/s40981-020-0316-0"
    assert rec["publication_types"] == "Journal Article"
    assert rec["source_id"] == content_hash("", "", "")  # no AN/ID: hash of (empty) content


def test_real_full_and_extraneous(shared_fixtures: Path) -> None:
    full = parse_ris(shared_fixtures / RISPY / "example_full.ris", source="embase", search_id="r")
    extra = parse_ris(shared_fixtures / RISPY / "example_extraneous_data.ris", source="embase", search_id="r")
    assert full == extra  # banners between records are ignored
    assert [r["title"] for r in full] == ["Title of reference", "The title of the reference"]
    one, two = full
    assert one["authors"] == "Marx, K; Lindgren, A"  # A2 'Glattauer, Daniel' not an author
    assert (one["year"], one["journal"], one["volume"], one["issue"], one["pages"]) == (
        "2014",
        "Lorem",
        "9",
        "3",
        "e0815",
    )
    assert one["keywords"] == "Pippi; Nordwind; Piraten"
    assert one["abstract"].startswith("BACKGROUND: Lorem ipsum")
    assert one["url"] == "http://example_url.com"
    assert two["authors"] == "Marxus, K; Lindgren, A" and two["year"] == "2006"
    ids = parse_file(shared_fixtures / RISPY / "example_full.ris", fmt=None, source="embase", search_id="r")
    assert [r["record_id"] for r in ids] == ["r:12345", "r:12345~2"]


def test_real_empty_tag_and_doi_url(shared_fixtures: Path) -> None:
    [rec] = parse_ris(shared_fixtures / RISPY / "example_empty_tag.ris", source="embase", search_id="r")
    assert rec["source_id"] == "2006713348"
    assert rec["doi"] == "10.1177/2325967120950040"  # from 'http://dx.doi.org/...'
    assert rec["authors"] == "Fanning, E"
    assert rec["journal"] == "Orthopaedic Journal of Sports Medicine"
    assert rec["year"] == "2020" and rec["pages"] == ""
    assert rec["keywords"].startswith("*athlete; biomechanics")


def test_real_multiline(shared_fixtures: Path) -> None:
    records = parse_ris(shared_fixtures / RISPY / "example_multiline.ris", source="embase", search_id="r")
    assert len(records) == 3
    assert {r["abstract"] for r in records} == {
        "first line, ER then second line and at the end the last line"
    }


def test_real_utf8_chars(shared_fixtures: Path) -> None:
    [rec] = parse_ris(shared_fixtures / RISPY / "example_utf_chars.ris", source="elibrary", search_id="r")
    assert rec["authors"] == "Dobrokhotova, YE; Yusupova, RO; Ozerova, RI; Fayzullin, LZ; Karnaukhov, VN"
    assert rec["abstract"].startswith("Состояние рецепторного аппарата эндометрия")
    assert rec["journal"] == "Gynecology, Obstetrics and Perinatology"
    assert (rec["year"], rec["volume"], rec["issue"], rec["pages"]) == ("2009", "8", "3", "52-57")
    assert rec["publication_types"] == "Journal Article"


def test_real_urls(shared_fixtures: Path) -> None:
    records = parse_ris(shared_fixtures / RISPY / "example_urls.ris", source="embase", search_id="r")
    assert len(records) == 4
    assert {r["url"] for r in records} == {"http://example.com"}
    assert {r["authors"] for r in records} == {"Shannon, CE"}
    assert {r["pages"] for r in records} == {"379-423"}


def test_real_web_of_science_export(shared_fixtures: Path) -> None:
    first, second = parse_ris(shared_fixtures / RISPY / "example_wos.ris", source="wos", search_id="w")
    assert first["source_id"] == "WOS:000221807500019"
    assert first["pmid"] == "15170338" and first["doi"] == "10.1021/bi049798f"
    assert first["title"] == (
        "Interactions stabilizing the structure of the core light-harvesting complex (LHl) "
        "of photosynthetic bacteria and its subunit (B820)"
    )
    assert first["authors"] == "Parkes-Loach, PS; Majeed, AP; Law, CJ; Loach, PA"
    assert (first["journal"], first["year"], first["volume"], first["issue"], first["pages"]) == (
        "BIOCHEMISTRY",
        "2004",
        "43",
        "22",
        "7003-7016",
    )
    assert first["language"] == "English"
    assert second["source_id"] == "WOS:000221807500020" and second["pmid"] == "15170339"


UTF16_RIS = (
    "TY  - JOUR\r\nAN  - 900161\r\nTI  - Synthetic UTF-16 record \u2014 caf\u00e9 workers\r\n"
    "AU  - M\u00fcller, Anna\r\nPY  - 2021\r\nER  - \r\n"
)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_ris_is_read_not_reported_empty(tmp_path: Path, codec: str) -> None:
    """Case 16c: EndNote/Zotero may save RIS as UTF-16 (with a BOM, or without one)."""
    path = tmp_path / "export.ris"
    data = UTF16_RIS.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data  # big-endian with its byte-order mark
    path.write_bytes(data)
    [rec] = parse_ris(path, source="embase", search_id="em1")
    assert rec["source_id"] == "900161"
    assert rec["title"] == "Synthetic UTF-16 record \u2014 caf\u00e9 workers"
    assert rec["authors"] == "M\u00fcller, A"
    assert rec["year"] == "2021"


def test_no_records_message_names_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "empty.ris"
    path.write_bytes("just a note\n".encode("utf-16"))
    with pytest.raises(InputError, match=r"no RIS records found \(file read as UTF-16-LE\)"):
        parse_ris(path, source="embase", search_id="em1")


def test_bytes_neither_utf8_nor_windows_1252_are_one_error_with_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.ris"
    path.write_bytes(b"TY  - JOUR\nTI  - ok\nAB  - bad \x81 byte\nER  - \n")
    with pytest.raises(InputError, match=r"bad\.ris, line 3: byte 0x81 is neither UTF-8 nor Windows-1252"):
        parse_ris(path, source="embase", search_id="em1")
