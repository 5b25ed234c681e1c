"""Deduplication and study linking: hand-made cases for every rule family and veto, the
decisions round trip, and the shipped snapshot's real cross-source duplicates and trials."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from ohevidence.cli import main
from ohevidence.dedupe import deduplicate, write_outputs
from ohevidence.dedupe.decisions import read_decisions
from ohevidence.dedupe.links import trial_acronyms
from ohevidence.dedupe.matching import RULES, VETO_TESTS, VETOES, journal_similarity
from ohevidence.dedupe.normalise import item_kind, normalise_pages, normalise_title, part_number
from ohevidence.errors import InputError
from ohevidence.records import make_record, records_frame
from ohevidence.schema import DEDUP_CLUSTER_FIELDS, MAYBE_PAIR_FIELDS, STUDY_LINK_FIELDS, UNIQUE_RECORD_FIELDS

ROOT = Path(__file__).resolve().parents[1]

ARTICLE = {
    "title": "Vocational advice for workers with musculoskeletal pain: a cluster randomised trial",
    "authors": "Smith, J; Jones, K; Brown, A",
    "journal": "Occupational and Environmental Medicine",
    "year": "2018",
    "volume": "75",
    "pages": "128-138",
}


def rec(source: str = "handsearch", search_id: str = "hs", source_id: str = "", **fields: str) -> dict:
    return make_record(source=source, search_id=search_id, source_id=source_id, **fields)


def run(*rows: dict, decisions: pd.DataFrame | None = None):
    return deduplicate(records_frame(rows), decisions)


def together(result, a: str, b: str) -> bool:
    cluster = result.clusters.set_index("record_id")["cluster_id"]
    return bool(cluster[a] == cluster[b])


def maybe_ids(result) -> set[frozenset[str]]:
    return {
        frozenset(p) for p in zip(result.maybe_pairs.record_id_a, result.maybe_pairs.record_id_b, strict=True)
    }


# --- normalisation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("128-38", ("128-138", "128")),
        ("128-138", ("128-138", "128")),
        ("376 -- 383", ("376-383", "376")),
        ("pp. 1128-9", ("1128-1129", "1128")),
        ("e0311101", ("e311101", "e311101")),
        ("S12-4", ("s12-s14", "s12")),
        ("01-Sep", ("1-9", "1")),
        ("UNKNOWN", ("", "")),
    ],
)
def test_page_ranges_are_expanded(printed: str, expected: tuple[str, str]) -> None:
    assert normalise_pages(printed) == expected


def test_titles_lose_tags_markup_and_punctuation() -> None:
    assert normalise_title("Return to work after stroke. [Review] [42 refs]") == "return to work after stroke"
    assert (
        normalise_title("[Return to work after stroke]. [Article in German]") == "return to work after stroke"
    )
    assert normalise_title("Effect of <i>early</i> advice &amp; care: the SWAP trial") == (
        "effect of early advice care the swap trial"
    )
    assert normalise_title("RÉTOUR AU TRAVAIL") == "retour au travail"


def test_journal_abbreviations_are_recognised() -> None:
    assert journal_similarity("health technol assess", "health technology assessment") == 100
    assert (
        journal_similarity("scand j work environ health", "scandinavian journal work environment health")
        == 100
    )
    assert journal_similarity("j public health", "journal public health") == 100
    assert journal_similarity("pain", "bmj") < 50


def test_kinds_and_parts() -> None:
    assert item_kind("Erratum: Vocational advice ...", "") == "erratum"
    assert item_kind("Vocational advice (vol 75, pg 128, 2018)", "") == "erratum"
    assert item_kind("Reply to Smith", "") == "reply"
    assert item_kind("Vocational advice", "Journal Article; Published Erratum") == "erratum"
    assert item_kind("Vocational advice", "Journal Article") == ""
    assert part_number("Return to work. Part II: results") == "2"
    assert part_number("Return to work, part 1") == "1"


def test_rule_and_veto_tables_are_complete() -> None:
    assert {r.name for r in RULES[:3]} == {
        "same_doi",
        "same_doi_main_title",
        "same_pmid",
    }  # identifiers first
    assert {v.name for v in VETOES} == set(VETO_TESTS)
    assert all(r.why for r in RULES) and all(v.why for v in VETOES)


# --- identifiers --------------------------------------------------------------------------------
def test_identical_doi_merges_however_sparse() -> None:
    full = rec(source_id="a", doi="10.1000/x.1", **ARTICLE)
    sparse = rec(source="embase", search_id="em", source_id="b", doi="https://doi.org/10.1000/X.1")
    result = run(full, sparse)
    assert together(result, full["record_id"], sparse["record_id"])
    assert set(result.clusters["matched_by"]) == {"same_doi"}


def test_identical_pmid_merges() -> None:
    a = rec(source="pubmed", search_id="pm1", pmid="123456", title="A trial")
    b = rec(source="pubmed", search_id="pm2", pmid="123456")
    assert together(run(a, b), a["record_id"], b["record_id"])


def test_typical_export_differences_still_merge() -> None:
    a = rec(source_id="a", **ARTICLE)
    b = rec(
        source="embase",
        search_id="em",
        source_id="b",
        **{
            **ARTICLE,
            "title": ARTICLE["title"].upper() + ".",
            "journal": "Occup Environ Med",
            "pages": "128-38",
        },
    )
    b["authors"] = "Jones, K; Smith, J; Brown, A"
    result = run(a, b)
    assert together(result, a["record_id"], b["record_id"])


# --- vetoes -------------------------------------------------------------------------------------
def test_distinct_dois_never_merge_automatically() -> None:
    a = rec(source_id="a", doi="10.1000/x.1", **ARTICLE)
    b = rec(source="embase", search_id="em", source_id="b", doi="10.1000/x.2", **ARTICLE)
    result = run(a, b)
    assert not together(result, a["record_id"], b["record_id"])
    row = result.maybe_pairs.iloc[0]
    assert row["why_uncertain"] == "distinct_doi" and row["decision"] == ""


def test_a_bridge_record_cannot_join_two_dois() -> None:
    a = rec(source_id="a", doi="10.1000/x.1", **ARTICLE)
    b = rec(source="embase", search_id="em", source_id="b", doi="10.1000/x.2", **ARTICLE)
    bridge = rec(source="cinahl", search_id="ci", source_id="c", **ARTICLE)
    result = run(a, b, bridge)
    assert not together(result, a["record_id"], b["record_id"])
    assert together(result, a["record_id"], bridge["record_id"]) != together(
        result, b["record_id"], bridge["record_id"]
    )
    assert any("cluster would hold two doi" in w for w in result.maybe_pairs["why_uncertain"])


def test_part_one_and_part_two_are_two_papers() -> None:
    a = rec(source_id="a", **{**ARTICLE, "title": ARTICLE["title"] + ". Part I", "pages": ""})
    b = rec(
        source="embase", search_id="em", source_id="b", **{**ARTICLE, "title": ARTICLE["title"] + ". Part II"}
    )
    result = run(a, b)
    assert not together(result, a["record_id"], b["record_id"])
    assert result.pairs["veto"].tolist() == ["part_number"] and result.maybe_pairs.empty


def test_adjacent_page_ranges_are_consecutive_papers() -> None:
    a = rec(source_id="a", **{**ARTICLE, "title": "Editorial: return to work", "pages": "101-102"})
    b = rec(source_id="b", **{**ARTICLE, "title": "Editorial: return to work.", "pages": "103-110"})
    result = run(a, b)
    assert not together(result, a["record_id"], b["record_id"])
    assert "adjacent_pages" in set(result.pairs["veto"])


def test_year_gap_of_more_than_one_needs_other_evidence() -> None:
    bare = {k: v for k, v in ARTICLE.items() if k not in ("volume", "pages")}
    early = rec(source_id="a", **{**bare, "year": "2017"})  # early view a year before print: same item
    later = rec(source_id="b", **{**bare, "year": "2018"})
    reprint = rec(source_id="c", **{**bare, "year": "2021"})
    result = run(early, later, reprint)
    assert together(result, early["record_id"], later["record_id"])
    assert not together(result, later["record_id"], reprint["record_id"])
    # The veto itself: a gap over one year stops a matched pair unless volume and pages agree.
    vetoed = result.pairs.assign(year_gap=5.0, outcome="duplicate")
    assert VETO_TESTS["year_gap"](None, vetoed).all()


def test_conference_abstract_is_not_the_journal_article() -> None:
    abstract = rec(
        source_id="a",
        publication_types="Congress",
        **{
            **ARTICLE,
            "journal": "Proceedings of the European Congress of Rheumatology",
            "volume": "",
            "pages": "",
        },
    )
    article = rec(source="embase", search_id="em", source_id="b", **ARTICLE)
    result = run(abstract, article)
    assert not together(result, abstract["record_id"], article["record_id"])
    assert "conference_vs_journal" in set(result.pairs["veto"])


def test_erratum_comment_and_reply_are_not_the_article() -> None:
    article = rec(source_id="a", **ARTICLE)
    erratum = rec(source_id="b", **{**ARTICLE, "title": "Erratum: " + ARTICLE["title"], "pages": "139"})
    reply = rec(source_id="c", **{**ARTICLE, "title": "Reply: " + ARTICLE["title"], "pages": ""})
    result = run(article, erratum, reply)
    assert result.clusters["cluster_id"].nunique() == 3
    assert set(result.pairs["veto"]) >= {"erratum_comment_reply"}


def test_one_search_of_a_unique_id_source_is_never_merged_with_itself() -> None:
    # PubMed does hold near-identical citations; within one PubMed search they are two PMIDs.
    first = rec(source="pubmed", search_id="pm", pmid="111", **ARTICLE)
    second = rec(source="pubmed", search_id="pm", pmid="222", **ARTICLE)
    other_db = rec(source="embase", search_id="em", source_id="e", **ARTICLE)
    result = run(first, second, other_db)
    assert not together(result, first["record_id"], second["record_id"])
    assert together(result, first["record_id"], other_db["record_id"]) or together(
        result, second["record_id"], other_db["record_id"]
    )


# --- merged records -----------------------------------------------------------------------------
def test_merged_record_keeps_the_richest_values_and_every_identifier() -> None:
    pubmed = rec(source="pubmed", search_id="pm", pmid="28976423", doi="10.1097/j.pain.1", **ARTICLE)
    ris = rec(
        source="handsearch",
        search_id="hs",
        source_id="r",
        doi="10.1097/J.PAIN.1",
        abstract="BACKGROUND: advice. RESULTS: fewer days off work.",
        registry_ids="ISRCTN52269669",
        **{**ARTICLE, "title": ARTICLE["title"].upper(), "pages": "128-38", "journal": "Occup Environ Med"},
    )
    crossref = rec(source="nihr", search_id="nihr", pmid="", doi="10.1097/j.pain.1", title=ARTICLE["title"])
    result = run(ris, pubmed, crossref)
    assert len(result.unique_records) == 1
    merged = result.unique_records.iloc[0]
    assert list(result.unique_records.columns) == UNIQUE_RECORD_FIELDS
    assert merged["title"] == ARTICLE["title"]  # not the upper-case export
    assert merged["pages"] == "128-138"
    assert merged["journal"] == "Occupational and Environmental Medicine"
    assert merged["abstract"].startswith("BACKGROUND")
    assert merged["registry_ids"] == "ISRCTN52269669"
    assert merged["pmid"] == "28976423" and merged["all_pmids"] == "28976423"
    assert merged["all_dois"] == "10.1097/j.pain.1"
    assert set(merged["origin"].split("; ")) == {ris["record_id"], pubmed["record_id"], crossref["record_id"]}
    assert merged["sources"].split("; ")[0] == result.clusters.query("kept == 'yes'").iloc[0][
        "record_id"
    ].split(":")[0].replace("hs", "handsearch")
    assert (result.clusters["kept"] == "yes").sum() == 1
    assert list(result.clusters.columns) == DEDUP_CLUSTER_FIELDS


# --- decisions round trip -----------------------------------------------------------------------
def test_decisions_round_trip_through_maybe_pairs(tmp_path: Path) -> None:
    a = rec(source_id="a", doi="10.1000/x.1", **ARTICLE)
    b = rec(source="embase", search_id="em", source_id="b", doi="10.1000/x.2", **ARTICLE)
    records = records_frame([a, b])
    paths = write_outputs(deduplicate(records), tmp_path / "dedup")
    maybe = pd.read_csv(paths["maybe_pairs"], dtype=str, keep_default_na=False)
    assert list(maybe.columns) == MAYBE_PAIR_FIELDS and len(maybe) == 1
    maybe["decision"] = "duplicate"  # a reviewer fills the column and saves the sheet as decisions
    decisions_file = tmp_path / "dedup_decisions.csv"
    maybe.to_csv(decisions_file, index=False)
    before = decisions_file.read_bytes()

    decisions = read_decisions(decisions_file, records["record_id"])
    result = deduplicate(records, decisions)
    assert together(result, a["record_id"], b["record_id"])
    assert set(result.clusters["matched_by"]) == {"decision"}
    assert result.maybe_pairs["decision"].tolist() == ["duplicate"]  # shown, so a copy keeps it
    assert set(result.unique_records.iloc[0]["all_dois"].split("; ")) == {"10.1000/x.1", "10.1000/x.2"}
    assert decisions_file.read_bytes() == before  # never written

    # 'distinct' splits even an automatic merge.
    c = rec(source="cinahl", search_id="ci", source_id="c", doi="10.1000/x.1")
    decisions_file.write_text(
        f"record_id_a,record_id_b,decision\n{a['record_id']},{c['record_id']},distinct\n"
    )
    both = records_frame([a, b, c])
    split = deduplicate(both, read_decisions(decisions_file, both["record_id"]))
    assert not together(split, a["record_id"], c["record_id"])


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("hs:a,hs:zzz,duplicate", "record_id_b", "unknown record id 'hs:zzz'"),
        ("hs:a,hs:b,same", "decision", "unknown decision 'same'"),
        ("hs:a,hs:a,distinct", "record_id_b", "paired with itself"),
    ],
)
def test_bad_decisions_name_file_line_and_column(tmp_path: Path, row: str, column: str, message: str) -> None:
    records = records_frame([rec(source_id="a", **ARTICLE), rec(source_id="b", **ARTICLE)])
    path = tmp_path / "dedup_decisions.csv"
    path.write_text(f"record_id_a,record_id_b,decision\nhs:a,hs:b,\n{row}\n")
    with pytest.raises(InputError, match=message) as caught:
        read_decisions(path, records["record_id"])
    assert caught.value.line == 3 and caught.value.column == column and caught.value.file == str(path)


# --- study links --------------------------------------------------------------------------------
def test_reports_of_one_trial_are_linked_not_merged() -> None:
    protocol = rec(
        source_id="p", title="Vocational advice: protocol", registry_ids="ISRCTN52269669", year="2014"
    )
    main_paper = rec(
        source_id="m", title="The SWAP trial of vocational advice for musculoskeletal pain", year="2018"
    )
    main_paper["registry_ids"] = "ISRCTN52269669"
    companion = rec(
        source_id="c", title="Who delivered advice in the SWAP trial for musculoskeletal pain", year="2019"
    )
    other_field = rec(source_id="o", title="The SWAP trial of nicotine patches in smokers", year="2019")
    result = run(protocol, main_paper, companion, other_field)
    assert result.clusters["cluster_id"].nunique() == 4  # four reports, no duplicates
    links = result.study_links.set_index("record_id")
    assert list(result.study_links.columns) == STUDY_LINK_FIELDS
    for report in (protocol, main_paper, companion):
        assert links.loc[report["record_id"], "study_key"] == "ISRCTN52269669"
    assert (
        "acronym SWAP + condition (advice, musculoskeletal, pain)"
        in links.loc[companion["record_id"], "evidence"]
    )
    assert other_field["record_id"] not in links.index


def test_trial_acronyms() -> None:
    assert trial_acronyms("Early stroke vocational rehabilitation: a synopsis from the RETAKE RCT") == [
        "RETAKE"
    ]
    assert trial_acronyms("Support after arthroplasty (OPAL): trial protocol") == ["OPAL"]
    assert trial_acronyms("Pain in patients with chronic disease (COPD) and asthma") == []
    assert trial_acronyms("A randomised controlled trial (RCT) of advice") == []


# --- the shipped snapshot ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory):
    from ohevidence.search.searches import FileSearch, load_manifest, merge_searches, run_file_search

    out = tmp_path_factory.mktemp("snapshot")
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    searches = [(s, "snapshot") for s in load_manifest(ROOT / config["snapshot"]["manifest"])]
    searches += [(FileSearch.from_mapping(entry), "import") for entry in config["imports"]]
    dirs = []
    for search, mode in searches:
        search = FileSearch.from_mapping({**search.__dict__, "file": str(ROOT / search.file)})
        run_file_search(search, mode=mode, out_dir=out / search.search_id)
        dirs.append(out / search.search_id)
    records, _ = merge_searches(dirs, records_out=out / "records.csv", log_out=out / "search_log.csv")
    return records, deduplicate(records)


def test_snapshot_cross_source_duplicates_are_found(snapshot) -> None:
    records, result = snapshot
    by_doi = {}
    for row in records.itertuples():
        by_doi.setdefault(row.doi, []).append(row.record_id)
    expected = {
        "SWAP": "10.1097/j.pain.0000000000001075",
        "Lambeek": "10.1136/bmj.c1035",
        "FRESH": "10.3310/hta22330",
        "CAMEOS": "10.3310/phr06020",
        "WB2W": "10.3310/hta25120",  # PMID 33641712 carries the NIHR DOI: they share an identifier
    }
    for study, doi in expected.items():
        ids = by_doi[doi]
        assert len(ids) == 2, study
        assert together(result, *ids), study
    assert together(result, "pubmed_snapshot:33641712", "nihr_snapshot:10.3310/hta25120")
    # Exactly those five: the three de Boer Cochrane versions, protocols and companions stay apart.
    assert len(result.unique_records) == len(records) - 5
    assert result.maybe_pairs.empty
    assert result.clusters.set_index("record_id").loc["pubmed_snapshot:26405010", "matched_by"] == ""


def test_snapshot_trial_reports_are_linked(snapshot) -> None:
    records, result = snapshot
    key = result.study_links.set_index("record_id")["study_key"]
    title = dict(zip(records["record_id"], records["title"], strict=True))

    def by_title(fragment: str) -> str:
        return next(rid for rid, t in title.items() if fragment in t)

    swap = {"pubmed_snapshot:25012813", "pubmed_snapshot:28976423", by_title("(SWAP trial")}
    retake = {
        "pubmed_snapshot:39614629",
        by_title("synopsis from the RETAKE"),
        by_title("Development and description of Early Stroke"),
    }
    retake.add(next(r for r in records.query("doi == '10.1186/s13063-020-04883-1'")["record_id"]))
    opal = {"pubmed_snapshot:39284693", "nihr_snapshot:10.3310/hta24450"}
    instep = {"nihr_snapshot:10.3310/hta25050", by_title("(the InSTEP study)")}
    workwell = {by_title("(the WORKWELL trial)"), by_title("OP0113-HPR The WORKWELL trial")}
    cameos = set(records.query("doi == '10.3310/phr06020'")["record_id"])
    groups = {
        "ISRCTN52269669": swap,
        "ISRCTN12464275": retake,
        "ISRCTN13694911": opal,
        "acronym:INSTEP": instep,
        "ISRCTN61762297": workwell,
        "ISRCTN33560198": cameos,
    }
    for study_key, members in groups.items():
        assert {key[m] for m in members} == {study_key}, study_key
    assert len(set(key[m] for m in swap | retake | opal | instep)) == 4  # four trials stay apart
    assert "handsearch_2026_11:he9d0912d6034" not in key.index or key[
        "handsearch_2026_11:he9d0912d6034"
    ] not in ("ISRCTN52269669")  # I-SWAP (implementation study) is not the SWAP trial


def test_cli_writes_the_four_tables(snapshot, tmp_path: Path, capsys) -> None:
    records, _ = snapshot
    records_file = tmp_path / "records.csv"
    records.to_csv(records_file, index=False)
    assert main(["dedupe", "--records", str(records_file), "--out", str(tmp_path / "dedup")]) == 0
    for name in ("clusters", "unique_records", "maybe_pairs", "study_links"):
        assert (tmp_path / "dedup" / f"{name}.csv").exists()
    bad = tmp_path / "decisions.csv"
    bad.write_text("record_id_a,record_id_b,decision\npubmed_snapshot:28976423,nope,duplicate\n")
    code = main(
        ["dedupe", "--records", str(records_file), "--out", str(tmp_path / "d2"), "--decisions", str(bad)]
    )
    assert code == 2
    assert "decisions.csv, line 2, column 'record_id_b': unknown record id 'nope'" in capsys.readouterr().err


def test_cli_writes_each_table_where_its_option_names_it(snapshot, tmp_path: Path, capsys) -> None:
    """Issue 23: the rule names every output; --out DIR only fills in the ones not named."""
    records, _ = snapshot
    records_file = tmp_path / "records.csv"
    records.to_csv(records_file, index=False)
    named = {"clusters": tmp_path / "a/c.csv", "study_links": tmp_path / "b/links.csv"}
    args = ["dedupe", "--records", str(records_file), "--clusters-out", str(named["clusters"])]
    args += ["--study-links-out", str(named["study_links"])]
    assert main(args) == 2
    assert "no file named for --unique-records-out, --maybe-pairs-out" in capsys.readouterr().err
    assert not named["clusters"].exists()
    assert main([*args, "--out", str(tmp_path / "rest")]) == 0
    assert named["clusters"].exists() and named["study_links"].exists()
    assert sorted(p.name for p in (tmp_path / "rest").iterdir()) == ["maybe_pairs.csv", "unique_records.csv"]


# --- robustness to how databases write the same citation (benchmark misses, generalised) ------------
def test_journal_names_lose_subtitles_meetings_brackets_and_foreign_function_words() -> None:
    from ohevidence.dedupe.normalise import normalise_journal

    assert normalise_journal("Journal of clinical virology : the official publication of the PASCV") == (
        "journal clinical virology"
    )
    assert normalise_journal("Pediatric Nephrology.Conference: 44th Annual Scientific Meeting") == (
        "pediatric nephrology"
    )
    assert normalise_journal("Zhurnal nevrologii i psikhiatrii / Ministerstvo zdravookhraneniia") == (
        "zhurnal nevrologii i psikhiatrii"
    )
    assert normalise_journal("Zhongguo zhen jiu [Chinese acupuncture & moxibustion]") == "zhongguo zhen jiu"
    assert normalise_journal("Cirugia y cirujanos") == "cirugia cirujanos"
    assert normalise_journal("Annales fran?aises d'anesth?sie") == "annales franaises anesthsie"
    assert normalise_journal("Ai zheng = Aizheng = Chinese journal of cancer") == (
        "ai zheng|aizheng|chinese journal cancer"
    )
    assert normalise_journal("Stroke. Conference") == "stroke"
    assert normalise_journal("Atherosclerosis Supplements") == "atherosclerosis"
    assert normalise_journal("Journal of Conference Studies") == "journal conference studies"


def test_journal_similarity_of_parallel_titles_and_run_together_words() -> None:
    assert journal_similarity("ai zheng|aizheng|chinese journal cancer", "chinese journal cancer") == 100
    assert journal_similarity("zhongguo zhenjiu", "zhongguo zhen jiu") == 100
    assert journal_similarity("cir cir", "cirugia cirujanos") == 100
    assert journal_similarity("praxis|revue suisse medecine praxis", "stroke") < 50


def test_pages_in_several_places_and_lost_supplement_starts() -> None:
    assert normalise_pages("233-238+230-235+246-251") == normalise_pages('"230-5, 246-51, 233-8"')
    assert normalise_pages("233-238+230-235+246-251") == ("230-235,233-238,246-251", "230")
    assert normalise_pages("Suppl-29") == ("", "")  # 'S417-29' with its start page lost


def test_volumes_that_are_not_volumes() -> None:
    from ohevidence.dedupe.normalise import normalise_volume, prep

    assert normalise_volume("(Jul)") == ""
    assert normalise_volume("Ph.D.") == "phd"  # a thesis never shares a volume with an article
    prepared = prep(
        records_frame([rec(title="A", year="2016", volume="2016"), rec(title="B", year="2016", volume="94")])
    )
    assert prepared["volume_n"].tolist() == ["", "94"]


def test_erratum_citations_and_wos_replies() -> None:
    embase = (
        "Eculizumab for atypical hemolytic-uremic syndrome "
        "(New England Journal of Medicine (2009) 360 (542-544))"
    )
    wos = "Eculizumab for Atypical Hemolytic-Uremic Syndrome (vol 360, pg 542, 2009)"
    assert item_kind(embase, "") == item_kind(wos, "") == "erratum"
    assert (
        normalise_title(embase) == normalise_title(wos) == "eculizumab for atypical hemolytic uremic syndrome"
    )
    assert item_kind("Atypical hemolytic uremic syndrome after streptococcus - Reply", "") == "reply"
    assert item_kind("A trial of reply-to-all email policies", "") == ""


def test_adjacent_means_one_range_runs_on_after_the_other() -> None:
    from ohevidence.dedupe.matching import follows

    assert follows(945, 948, 948, 961)  # shares the boundary page
    assert follows(51, 51, 52, 52)  # the next page
    assert not follows(487, 488, 488, 488)  # a single page inside the range: the same item
    assert not follows(100, 110, 120, 130)


def test_unless_conditions_parse_alternatives() -> None:
    from ohevidence.dedupe.matching import parse_unless

    assert parse_unless("volume=same & pages=same or journal>=90 & year_gap<=0") == (
        {"volume": "same", "pages": "same"},
        {"journal": ">=90", "year_gap": "<=0"},
    )
    with pytest.raises(ValueError, match="bad 'unless'"):
        parse_unless("volume same")


@pytest.mark.parametrize(
    ("a_pages", "b_pages"),
    [
        ("2297-2108", "2097-2108"),
        ("488", "487-488"),
        ("676-682", "678-684"),
        ("S417-S429", "Suppl-29"),
        ("c37-c42", "37-42"),
    ],
)
def test_misprinted_pages_of_one_article_still_merge(a_pages: str, b_pages: str) -> None:
    result = run(
        rec(source_id="a", pages=a_pages, **{k: v for k, v in ARTICLE.items() if k != "pages"}),
        rec(source_id="b", pages=b_pages, **{k: v for k, v in ARTICLE.items() if k != "pages"}),
    )
    assert together(result, result.clusters.record_id[0], result.clusters.record_id[1])


def test_prefixed_page_range_is_not_an_article_number() -> None:
    # An ACP Journal Club item ('JC6-9' in Annals) and a record on page 8: different printed pages.
    fields = {**ARTICLE, "authors": "Mathur, P. N.", "volume": "155", "year": "2011"}
    result = run(
        rec(source_id="a", **{**fields, "journal": "Annals of Internal Medicine", "pages": "JC6-9"}),
        rec(source_id="b", **{**fields, "journal": "ACP Journal Club", "pages": "8"}),
    )
    assert not together(result, result.clusters.record_id[0], result.clusters.record_id[1])


def test_same_citation_with_a_translated_journal_or_a_group_author_merges() -> None:
    translated = run(
        rec(
            source_id="a",
            **{
                **ARTICLE,
                "journal": "Revista Brasileira de Fisioterapia",
                "title": "Effect of continuous positive airway pressure on fluid absorption",
            },
        ),
        rec(
            source_id="b",
            **{
                **ARTICLE,
                "journal": "Braz. j. phys. ther. (Impr.)",
                "title": "Effect of continuous positive airway pressure on fluid absorption among patients",
            },
        ),
    )
    ids = translated.clusters.record_id
    assert together(translated, ids[0], ids[1])
    assert set(translated.clusters.matched_by) == {"same_citation_title"}
    group = run(
        rec(source_id="a", **ARTICLE),
        rec(source_id="b", **{**ARTICLE, "authors": "Vocational Advice Trial Group"}),
    )
    assert set(group.clusters.matched_by) == {"title_venue_range"}
    # The same page range in another volume is another citation.
    other = run(
        rec(source_id="a", **ARTICLE),
        rec(source_id="b", **{**ARTICLE, "authors": "Trial Group", "volume": "76"}),
    )
    assert not together(other, other.clusters.record_id[0], other.clusters.record_id[1])


def test_early_view_record_without_volume_merges_with_the_printed_one() -> None:
    result = run(
        rec(source_id="a", **{**ARTICLE, "volume": "", "pages": "1-6"}),
        rec(source_id="b", **ARTICLE),
    )
    assert set(result.clusters.matched_by) == {"early_view"}


def test_supplement_abstract_indexed_as_conference_and_as_journal_merges() -> None:
    fields = {**ARTICLE, "volume": "", "pages": ""}
    result = run(
        rec(
            source_id="a",
            **{**fields, "journal": "Occupational and Environmental Medicine.Conference: EPICOH 2018"},
        ),
        rec(source_id="b", **{**fields, "journal": "Occup Environ Med"}),
    )
    assert together(result, result.clusters.record_id[0], result.clusters.record_id[1])
    # ... but not with an article in another year or on other pages.
    later = run(
        rec(
            source_id="a",
            **{**fields, "journal": "Occupational and Environmental Medicine.Conference: EPICOH 2018"},
        ),
        rec(source_id="b", **{**ARTICLE, "journal": "Occup Environ Med", "year": "2019"}),
    )
    assert not together(later, later.clusters.record_id[0], later.clusters.record_id[1])


def test_title_with_words_put_in_front_is_still_blocked() -> None:
    from ohevidence.dedupe.blocking import block, key_names
    from ohevidence.dedupe.normalise import prep

    prepared = prep(
        records_frame(
            [
                rec(
                    title="Upwork's CEO on how an introverted engineer learned to lead", authors="Kasriel, S."
                ),
                rec(
                    title="How did it ... Upwork's CEO on how an introverted engineer learned to lead",
                    authors="Kasriel, Stephane",
                ),
            ]
        )
    )
    candidates = block(prepared)
    assert len(candidates) == 1
    assert "author_title_end" in key_names(int(candidates["keys"].iloc[0]))


def test_same_title_and_authors_in_one_volume_at_another_page_merges() -> None:
    # A supplement or reprint page for the same item: same title, authors, journal, year, volume.
    a = rec(source_id="a", **{**ARTICLE, "pages": "e8-e9"})
    b = rec(source_id="b", **{**ARTICLE, "pages": "e3"})
    result = run(a, b)
    assert together(result, a["record_id"], b["record_id"])
    assert set(result.clusters.matched_by) == {"same_title_authors_volume"}
    # Another author list: not merged automatically, a person decides.
    c = rec(source_id="c", **{**ARTICLE, "pages": "e3", "authors": "Taylor, R; Patel, S; Brown, A"})
    result = run(a, c)
    assert not together(result, a["record_id"], c["record_id"])


def test_consecutive_supplement_ranges_with_a_section_prefix_are_two_papers() -> None:
    # FOCUS 1 (iii19-iii32) and FOCUS 2 (iii33-iii44): same authors, volume and nearly the same title.
    title = "FOCUS {}: a randomised trial of vocational advice for workers with musculoskeletal pain"
    a = rec(source_id="a", **{**ARTICLE, "title": title.format(1), "pages": "iii19-iii32"})
    b = rec(source_id="b", **{**ARTICLE, "title": title.format(2), "pages": "iii33-iii44"})
    result = run(a, b)
    assert not together(result, a["record_id"], b["record_id"])
    assert "adjacent_pages" in set(result.pairs["veto"])


def test_consecutive_pages_do_not_split_what_one_doi_has_joined() -> None:
    # One abstract indexed on p51 and on p52 (both with its DOI), and two DOI-less copies of each:
    # the DOI proves the two pages are one item's, so the adjacent-pages veto no longer applies.
    base = {**ARTICLE, "pages": "51"}
    with_doi = [
        rec(source_id=f"d{i}", **{**base, "pages": pages, "doi": "10.1000/abstract.51"})
        for i, pages in enumerate(("51", "52"))
    ]
    plain = [rec(source_id=f"p{i}", **{**base, "pages": pages}) for i, pages in enumerate(("51", "52"))]
    result = run(*with_doi, *plain)
    assert result.clusters["cluster_id"].nunique() == 1
    # Without the DOI bridge the veto holds: p51 and p52 are consecutive papers.
    result = run(*plain)
    assert not together(result, plain[0]["record_id"], plain[1]["record_id"])
