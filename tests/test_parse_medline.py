"""MEDLINE/.nbib parser: synthetic inputs and Biopython's recorded PubMed text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohevidence.errors import InputError
from ohevidence.search.formats import detect_format, parse_file
from ohevidence.search.medline import parse_medline


def test_synthetic_nbib(test_data: Path) -> None:
    first, second = parse_medline(test_data / "medline_synthetic.nbib", search_id="nb1")
    assert first["record_id"] == "nb1:99000011" and first["source"] == "pubmed"
    assert first["title"] == (
        "Synthetic cohort of workplace adjustments after sickness absence: an invented example."
    )
    assert first["doi"] == "10.9999/synthetic.11"
    assert first["abstract"].startswith("BACKGROUND: Invented text") and "RESULTS: None." in first["abstract"]
    # AU 'Family Initials' -> 'Family, Initials'; CN kept as written
    assert first["authors"] == "Wynne-Jones, G; van der Example, AB; Synthetic Workplace Study Group"
    assert first["journal"] == "Journal of synthetic occupational health"
    assert (first["year"], first["volume"], first["issue"], first["pages"]) == ("2020", "7", "2", "55-61")
    assert first["publication_types"] == "Journal Article; Randomized Controlled Trial"
    # '*' and '/subheading' removed: descriptor only
    assert first["mesh_terms"] == "Return to Work; Sick Leave; Humans"
    assert first["keywords"] == "workplace adjustment; sickness absence"
    assert first["registry_ids"] == "NCT00000012; ISRCTN00000011"
    assert first["language"] == "eng"
    assert second["pmid"] == "99000012" and second["authors"] == "Solo, A"
    assert second["mesh_terms"] == "Occupational Health" and second["year"] == "2019"


def test_crlf_line_ends(test_data: Path) -> None:
    [rec] = parse_medline(test_data / "medline_crlf.nbib", search_id="nb1")
    assert rec["pmid"] == "99000013" and rec["title"] == "Synthetic record saved with Windows line ends."


def test_stray_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.nbib"
    path.write_text("PMID- 99000014\nTI  - A synthetic title\nthis line is not a field\n")
    with pytest.raises(InputError) as info:
        parse_medline(path, search_id="nb1")
    assert info.value.line == 3 and "bad.nbib" in str(info.value)


def test_record_without_pmid_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nopmid.nbib"
    path.write_text("PMID- 99000015\nTI  - First\n\nTI  - Second record has no PMID\nAU  - Solo A\n")
    with pytest.raises(InputError) as info:
        parse_medline(path, search_id="nb1")
    assert info.value.line == 4 and info.value.column == "PMID"


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n")
    with pytest.raises(InputError, match="no MEDLINE records"):
        parse_medline(path, search_id="nb1")


def test_detect_format_for_medline_extensions() -> None:
    assert {detect_format(f"x{ext}") for ext in (".nbib", ".txt", ".medline", ".NBIB")} == {"nbib"}
    with pytest.raises(InputError, match="extension"):
        detect_format("export.docx")


# --- recorded real MEDLINE text ------------------------------------------------------------
def test_real_result1(shared_fixtures: Path) -> None:
    [rec] = parse_medline(shared_fixtures / "pubmed/medline/pubmed_result1.txt", search_id="bp")
    assert rec["pmid"] == "12230038"
    assert rec["title"] == "The Bio* toolkits--a brief overview."
    assert rec["authors"] == "Mangalam, H"
    assert (rec["journal"], rec["year"], rec["volume"], rec["issue"], rec["pages"]) == (
        "Briefings in bioinformatics",
        "2002",
        "3",
        "3",
        "296-302",
    )
    assert rec["mesh_terms"] == (
        "Computational Biology; Computer Systems; Humans; Internet; Programming Languages; Software; "
        "User-Computer Interface"
    )
    assert rec["doi"] == ""


def test_real_result2(shared_fixtures: Path) -> None:
    records = parse_medline(shared_fixtures / "pubmed/medline/pubmed_result2.txt", search_id="bp")
    assert [r["pmid"] for r in records] == ["16403221", "16377612", "14871861", "14630660"]
    scop, diagram, cluster, pdb = records
    assert scop["doi"] == "10.1186/1471-2105-7-10"
    assert scop["title"] == "A high level interface to SCOP and ASTRAL implemented in python."
    assert scop["abstract"].startswith("BACKGROUND: ")
    assert diagram["doi"] == "10.1093/bioinformatics/btk021"
    assert diagram["authors"] == "Pritchard, L; White, JA; Birch, PR; Toth, IK"
    assert cluster["authors"] == "de Hoon, MJ; Imoto, S; Nolan, J; Miyano, S"
    assert cluster["doi"] == "10.1093/bioinformatics/bth078"
    assert "Information Storage and Retrieval" in pdb["mesh_terms"].split("; ")
    assert pdb["year"] == "2003"


def test_real_result3_lid_doi_and_wrapped_mesh(shared_fixtures: Path) -> None:
    [rec] = parse_medline(shared_fixtures / "pubmed/medline/pubmed_result3.txt", search_id="bp")
    assert rec["pmid"] == "23039619"
    assert rec["doi"] == "10.1118/1.4748329"
    assert rec["authors"] == "Qiao, S; Shen, G; Bai, J; Chen, Y"
    assert rec["abstract"].startswith("PURPOSE: High-intensity focused ultrasound")
    assert "High-Intensity Focused Ultrasound Ablation" in rec["mesh_terms"].split("; ")
    assert rec["pages"] == "5795-813" and rec["journal"] == "Medical physics"


def test_real_via_parse_file(shared_fixtures: Path) -> None:
    records = parse_file(
        shared_fixtures / "pubmed/medline/pubmed_result2.txt", fmt=None, source="pubmed", search_id="bp"
    )
    assert len({r["record_id"] for r in records}) == 4
