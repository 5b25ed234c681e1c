"""PubMed efetch XML parser: synthetic inputs and recorded real responses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ohevidence.errors import InputError
from ohevidence.schema import RECORD_FIELDS
from ohevidence.search.formats import parse_file
from ohevidence.search.pubmed import parse_pubmed_xml, parse_pubmed_xml_bytes


def _by_pmid(records: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["pmid"]: r for r in records}


# --- synthetic input ---------------------------------------------------------------------
def test_synthetic_article_fields(test_data: Path) -> None:
    records = parse_pubmed_xml(test_data / "pubmed_synthetic.xml", search_id="pm1")
    assert len(records) == 2
    art = _by_pmid(records)["99000001"]
    assert list(art) == RECORD_FIELDS
    assert art["record_id"] == "pm1:99000001"
    assert art["source"] == "pubmed" and art["source_id"] == "99000001"
    assert art["doi"] == "10.9999/synthetic.1"
    # inline <i> flattened, trailing full stop kept
    assert art["title"] == "Synthetic trial of vocational advice for musculoskeletal pain at work."
    assert art["abstract"].startswith("BACKGROUND: Made-up background sentence")
    for label in ("METHODS: ", "RESULTS: ", "CONCLUSIONS: "):
        assert label in art["abstract"]
    assert "p < 0.05" in art["abstract"] and "<sup>" not in art["abstract"]
    # ValidYN="N" author dropped; collective name as written
    assert art["authors"] == "Wynne-Jones, G; Example, AB; Synthetic Vocational Advice Trial Group"
    assert art["journal"] == "Journal of synthetic occupational health"
    assert (art["year"], art["volume"], art["issue"], art["pages"]) == ("2022", "12", "3", "101-9")
    assert art["publication_types"] == "Journal Article; Randomized Controlled Trial"
    assert art["mesh_terms"] == "Return to Work; Musculoskeletal Pain"
    assert art["keywords"] == "vocational advice; sickness absence"
    assert art["registry_ids"] == "ISRCTN00000001; NCT00000002"
    assert art["language"] == "eng"
    assert art["url"] == "https://pubmed.ncbi.nlm.nih.gov/99000001/"


def test_synthetic_book_article(test_data: Path) -> None:
    book = _by_pmid(parse_pubmed_xml(test_data / "pubmed_synthetic.xml", search_id="pm1"))["99000002"]
    assert book["title"] == "Synthetic report on return-to-work coordination"
    assert book["doi"] == "10.9999/synthetic.2"
    # document authors win over book editors
    assert book["authors"] == "Author, AM; Second, S"
    assert book["journal"] == "Synthetic Technology Assessment"
    assert (book["year"], book["volume"]) == ("2021", "99")
    assert book["abstract"].startswith("BACKGROUND: An invented background")
    assert "TRIAL REGISTRATION: " in book["abstract"]
    assert book["registry_ids"] == "ISRCTN00000003"
    assert book["publication_types"] == "Review"


def test_bytes_entry_point_matches_file(test_data: Path) -> None:
    path = test_data / "pubmed_synthetic.xml"
    from_bytes = parse_pubmed_xml_bytes(path.read_bytes(), name="batch-1", source="pubmed", search_id="pm1")
    assert from_bytes == parse_pubmed_xml(path, search_id="pm1")


def test_missing_doctype_and_unbundled_dtd_parse_offline(test_data: Path) -> None:
    data = (test_data / "pubmed_synthetic.xml").read_bytes()
    no_doctype = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"<!DOCTYPE"))
    future_dtd = data.replace(b"pubmed_250101.dtd", b"pubmed_990101.dtd")
    for variant in (no_doctype, future_dtd):
        records = parse_pubmed_xml_bytes(variant, name="v", search_id="pm1")
        assert sorted(r["pmid"] for r in records) == ["99000001", "99000002"]


# --- malformed input ---------------------------------------------------------------------
def test_malformed_xml_raises_with_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle>\n</PubmedArticleSet>\n')
    with pytest.raises(InputError) as info:
        parse_pubmed_xml(bad, search_id="pm1")
    assert info.value.file == str(bad)
    assert info.value.line == 4
    assert "not well-formed" in str(info.value)


def test_truncated_file_raises_and_returns_nothing(tmp_path: Path, test_data: Path) -> None:
    data = (test_data / "pubmed_synthetic.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) // 2])
    result = None
    with pytest.raises(InputError) as info:
        result = parse_pubmed_xml(cut, search_id="pm1")
    assert result is None
    assert info.value.line is not None and info.value.line > 1
    assert "cut.xml" in str(info.value)


def test_not_xml_and_empty(tmp_path: Path) -> None:
    for content in (b"", b"PMID- 12345\nTI  - not xml\n"):
        path = tmp_path / "x.xml"
        path.write_bytes(content)
        with pytest.raises(InputError, match="not well-formed"):
            parse_pubmed_xml(path, search_id="pm1")


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        parse_pubmed_xml(tmp_path / "absent.xml", search_id="pm1")


_HEAD = b'<?xml version="1.0"?>\n<PubmedArticleSet>\n'
_ARTICLE = (
    b'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">%d</PMID>'
    b'<Article PubModel="Print"><Journal><Title>Synthetic journal</Title></Journal>'
    b"<ArticleTitle%s>Synthetic title %d</ArticleTitle></Article></MedlineCitation></PubmedArticle>\n"
)


def test_quadratic_xml_parse_20mb_token_is_fast(tmp_path: Path) -> None:
    """Case 11: a 20 MB token took minutes in Bio.Entrez's 2 KB feeds (expat 2.5, CVE-2023-52425).

    Parsed in a fresh process with a generous limit (it takes ~2 s; before the fix, minutes).
    """
    path = tmp_path / "token.xml"
    token = b' Language="' + b"x" * 20_000_000 + b'"'
    path.write_bytes(_HEAD + _ARTICLE % (99000011, token, 11) + b"</PubmedArticleSet>\n")
    code = (
        "import sys; from ohevidence.search.pubmed import parse_pubmed_xml; "
        "[r] = parse_pubmed_xml(sys.argv[1], search_id='pm1'); print(r['pmid'], r['title'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["99000011", "Synthetic", "title", "11"]


def test_many_record_xml_parses_every_record(tmp_path: Path) -> None:
    """Case 11: reading the whole document in one expat call keeps big ordinary batches working."""
    body = b"".join(_ARTICLE % (99100000 + n, b"", n) for n in range(3000))
    records = parse_pubmed_xml_bytes(_HEAD + body + b"</PubmedArticleSet>\n", name="big", search_id="pm1")
    assert [r["pmid"] for r in records] == [str(99100000 + n) for n in range(3000)]
    assert records[-1]["title"] == "Synthetic title 2999"


_UNBOUND = b"<PubmedArticle>  <x:y/></PubmedArticle></PubmedArticleSet>\n"  # an error only Bio.Entrez sees
_OLD_DTD = (
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2019//EN"\n'
    b'  "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd">\n'
)


@pytest.mark.parametrize(
    ("data", "line", "column", "message"),
    [
        # no DOCTYPE: one is inserted after the XML declaration (two lines, before the fix)
        (b'<?xml version="1.0"?>\n<PubmedArticleSet>\n' + _UNBOUND, 3, 18, "unbound prefix"),
        # no XML declaration either: both are inserted
        (b"<PubmedArticleSet>\n\n" + _UNBOUND, 3, 18, "unbound prefix"),
        # a DOCTYPE naming a DTD Biopython does not bundle, over two lines: replaced by one line
        (b'<?xml version="1.0"?>\n' + _OLD_DTD + b"<PubmedArticleSet>\n" + _UNBOUND, 5, 18, "unbound prefix"),
        # the same error on the declaration's own line: the column is the user's too
        (b'<?xml version="1.0"?><PubmedArticleSet>' + _UNBOUND, 1, 57, "unbound prefix"),
        # an internal DTD subset on line 2 (XXE, entity bombs): refused at the user's line 2
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<PubmedArticleSet>&x;</PubmedArticleSet>\n",
            2,
            None,
            "internal DTD subset",
        ),
    ],
)
def test_xml_error_after_dtd_rewrite_reports_the_users_line(
    tmp_path: Path, data: bytes, line: int, column: int | None, message: str
) -> None:
    """Case 16b: the DOCTYPE rewrite must not shift the line (or column) an error is reported at."""
    path = tmp_path / "user.xml"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message) as info:
        parse_pubmed_xml(path, search_id="pm1")
    assert (info.value.file, info.value.line) == (str(path), line)
    if column is not None:
        assert f"column {column})" in str(info.value)


def test_article_without_medline_citation_is_a_clear_error() -> None:
    data = _HEAD + b"<PubmedArticle></PubmedArticle></PubmedArticleSet>\n"
    with pytest.raises(InputError, match="PubmedArticle 1 has no <MedlineCitation>"):
        parse_pubmed_xml_bytes(data, name="x.xml", search_id="pm1")


# --- recorded real responses -------------------------------------------------------------
def test_real_book_article(shared_fixtures: Path) -> None:
    path = shared_fixtures / "pubmed/vcr_cassettes_hawc/decoded/TestPubMedFetch.test_book.0.xml"
    [book] = parse_pubmed_xml(path, search_id="hawc")
    assert book["pmid"] == "26468569" and book["source_id"] == "26468569"
    assert book["doi"] == "10.17226/21775"
    assert book["title"] == (
        "Application of Modern Toxicology Approaches for Predicting Acute Toxicity for Chemical Defense"
    )
    assert book["year"] == "2015"
    assert book["journal"] == "National Academies Press (US)"
    authors = book["authors"].split("; ")
    assert len(authors) == 6
    # the first collective name wraps over two lines in the XML
    assert (
        authors[0]
        == "Committee on Predictive-Toxicology Approaches for Military Assessments of Acute Exposures"
    )
    assert authors[-1] == "The National Academies of Sciences, Engineering, and Medicine"
    assert book["abstract"].startswith("The US Department of Defense (DOD)")
    assert "<i>" not in book["abstract"]
    title_in_abstract = "Approaches for Predicting Acute Toxicity for Chemical Defense reviews the current"
    assert title_in_abstract in book["abstract"]
    assert book["publication_types"] == "Review" and book["language"] == "eng"


def test_real_structured_abstract(shared_fixtures: Path) -> None:
    path = (
        shared_fixtures / "pubmed/vcr_cassettes_hawc/decoded/TestPubMedFetch.test_structured_abstract.0.xml"
    )
    [rec] = parse_pubmed_xml(path, search_id="hawc")
    assert rec["pmid"] == "21813367"
    assert rec["doi"] == "10.1289/ehp.1103729"
    assert rec["abstract"].startswith("BACKGROUND: People living or working in eastern Ohio")
    labels = ["BACKGROUND: ", "OBJECTIVES: ", "METHODS: ", "RESULTS: ", "CONCLUSIONS: "]
    positions = [rec["abstract"].index(label) for label in labels]
    assert positions == sorted(positions)
    assert rec["authors"] == "Shin, HM; Vieira, VM; Ryan, PB; Steenland, K; Bartell, SM"
    assert (rec["journal"], rec["year"], rec["volume"], rec["issue"], rec["pages"]) == (
        "Environmental health perspectives",
        "2011",
        "119",
        "12",
        "1760-5",
    )
    assert rec["publication_types"] == "Journal Article; Research Support, Non-U.S. Gov't; Validation Study"
    assert rec["mesh_terms"].startswith("Caprylates; Drinking Water; Environmental Exposure")


def test_real_collective_author_and_doi(shared_fixtures: Path) -> None:
    decoded = shared_fixtures / "pubmed/vcr_cassettes_hawc/decoded"
    [collective] = parse_pubmed_xml(decoded / "TestPubMedFetch.test_collective_author.0.xml", search_id="h")
    assert collective["pmid"] == "21860499"
    assert collective["authors"] == "National Toxicology Program"
    assert collective["title"] == "Nitrofen."
    [doi] = parse_pubmed_xml(decoded / "TestPubMedFetch.test_doi.0.xml", search_id="h")
    assert doi["pmid"] == "21813142" and doi["doi"] == "10.1016/j.medcli.2011.05.017"
    assert doi["authors"] == "Montero Ruiz, E; Gómez Ayerbe, C; Pérez Sánchez, L; Melgar Molero, V"
    assert doi["language"] == "spa"


def test_real_utf8_two_articles(shared_fixtures: Path) -> None:
    path = shared_fixtures / "pubmed/vcr_cassettes_hawc/decoded/TestPubMedFetch.test_utf8.0.xml"
    records = _by_pmid(parse_pubmed_xml(path, search_id="h"))
    assert set(records) == {"23878845", "16080930"}
    assert records["16080930"]["authors"] == "González-Reyes, S; Martínez, L; Tovar, JA"
    assert records["23878845"]["publication_types"] == (
        "Journal Article; Randomized Controlled Trial; Research Support, Non-U.S. Gov't"
    )


@pytest.mark.parametrize(
    ("name", "pmids"),
    [
        ("pubmed1.xml", {"12091962", "9997"}),
        ("pubmed2.xml", {"11748933", "11700088"}),
        ("pubmed4.xml", {"27797938"}),
        ("pubmed5.xml", {"28775130"}),
        ("pubmed7.xml", {"29963580"}),
    ],
)
def test_real_biopython_efetch_files(shared_fixtures: Path, name: str, pmids: set[str]) -> None:
    records = parse_pubmed_xml(shared_fixtures / "pubmed/entrez" / name, search_id="bp")
    assert {r["pmid"] for r in records} == pmids
    assert all(r["title"] and r["year"] for r in records)


def test_real_inline_markup_and_keywords(shared_fixtures: Path) -> None:
    [gut] = parse_pubmed_xml(shared_fixtures / "pubmed/entrez/pubmed4.xml", search_id="bp")
    assert "<i>" not in gut["abstract"] and "(TERT)" in gut["abstract"]
    assert "r2<0.25" in gut["abstract"]
    assert gut["doi"] == "10.1136/gutjnl-2016-312510"
    [occ] = parse_pubmed_xml(shared_fixtures / "pubmed/entrez/pubmed5.xml", search_id="bp")
    assert (
        occ["title"]
        == "Occupational pesticide exposure and subclinical hypothyroidism among male pesticide applicators."
    )
    assert (
        occ["keywords"]
        == "agriculture; hypothyroidism; pesticides; thyroid disease; thyroid stimulating hormone"
    )
    assert occ["authors"].split("; ")[9] == "Alavanja, MCR"
    [img] = parse_pubmed_xml(shared_fixtures / "pubmed/entrez/pubmed7.xml", search_id="bp")
    assert img["pages"] == "026002"
    assert img["authors"].endswith("; Canadian Respiratory Research Network")


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("pubmed/entrez/esearch1.xml", "root element is <eSearchResult>"),
        ("pubmed/entrez/epost2.xml", "Invalid db name specified: nothing"),
        ("pubmed/error_shapes_transcribed/efetch_http400_history_out_of_range.xml", "OUT OF RANGE"),
    ],
)
def test_real_non_article_documents_raise(shared_fixtures: Path, relative: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_pubmed_xml(shared_fixtures / relative, search_id="bp")


def test_real_truncated_efetch(shared_fixtures: Path, tmp_path: Path) -> None:
    data = (shared_fixtures / "pubmed/entrez/pubmed2.xml").read_bytes()
    with pytest.raises(InputError, match="not well-formed"):
        parse_pubmed_xml_bytes(data[: len(data) // 2], name="batch-2", search_id="bp")


def test_parse_file_dispatches_xml(test_data: Path) -> None:
    records = parse_file(test_data / "pubmed_synthetic.xml", fmt=None, source="pubmed", search_id="pm1")
    assert [r["source_id"] for r in records] == ["99000001", "99000002"]


def test_medline_date_and_elocation_pages() -> None:
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet><PubmedArticle><MedlineCitation Status="Publisher" Owner="NLM">
<PMID Version="1">99000003</PMID><Article PubModel="Electronic">
<Journal><JournalIssue CitedMedium="Internet"><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>
</JournalIssue><ISOAbbreviation>Synth Abbr J</ISOAbbreviation></Journal>
<ArticleTitle>Synthetic record dated by MedlineDate (NCT00000004).</ArticleTitle>
<ELocationID EIdType="pii" ValidYN="Y">e0000003</ELocationID>
<AuthorList><Author ValidYN="Y"><LastName>Onlylast</LastName></Author></AuthorList>
<Language>eng</Language><PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>
</PublicationTypeList></Article><MedlineJournalInfo><MedlineTA>Synth Abbr J</MedlineTA></MedlineJournalInfo>
</MedlineCitation></PubmedArticle></PubmedArticleSet>"""
    [rec] = parse_pubmed_xml_bytes(xml, name="inline", search_id="pm1")
    assert rec["year"] == "1998"
    assert rec["journal"] == "Synth Abbr J"  # ISOAbbreviation when there is no Title
    assert rec["pages"] == "e0000003"
    assert rec["authors"] == "Onlylast"
    assert rec["registry_ids"] == "NCT00000004"  # found in the title
    assert rec["doi"] == "" and rec["abstract"] == ""
