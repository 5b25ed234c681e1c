"""Automatic extraction: each text pattern, study matching, the worklist and the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from ohevidence.cli import main
from ohevidence.curated import Row
from ohevidence.extract import extract as extract_module
from ohevidence.extract.extract import (
    MINED_COLUMNS,
    CuratedMentions,
    ExtractionSettings,
    extract_records,
    match_records,
    mined_rows,
    study_identifiers,
)
from ohevidence.extract.patterns import (
    find_acronyms,
    find_conditions,
    find_design_cues,
    find_job_roles,
    find_sample_size,
    registry_ids,
)
from ohevidence.records import make_record, records_frame

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["extraction"]
ROLES = {r["id"]: r for r in yaml.safe_load((ROOT / "data/curated/job_roles.yaml").read_text())["roles"]}
SETTINGS = ExtractionSettings.from_config(CONFIG, ROLES)
SYNONYMS = SETTINGS.role_synonyms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Results of the RETAKE trial in stroke services", ["RETAKE"]),
        ("the WORK-IA feasibility randomised controlled trial", ["WORK-IA"]),
        ("A pilot study (BOOST-UP) of workplace advice", ["BOOST-UP"]),  # unknown, near 'study'
        ("feasibility of the IN-STEP programme", ["InSTEP"]),  # known list, ignoring hyphens
        ("An NHS RCT of vocational advice", []),  # stopwords are not trial names
        ("Protocol for a UK-wide phase III randomised controlled trial", []),  # no roman numerals
        ("RANDOMISED CONTROLLED TRIAL OF INTEGRATED CARE TO REDUCE DISABILITY", []),  # shouting title
        ("Mechanisms of the ACTIVE programme", []),  # capitalised but not near trial/study, not known
    ],
)
def test_find_acronyms(text: str, expected: list[str]) -> None:
    assert find_acronyms(text, CONFIG["known_acronyms"], CONFIG["acronym_stopwords"]) == expected


def test_registry_ids() -> None:
    text = "registered ISRCTN 12464275 and NCT04543097; EudraCT number 2019-001234-56"
    assert registry_ids(text) == ["ISRCTN12464275", "NCT04543097", "EudraCT 2019-001234-56"]


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        ("a cluster randomised trial", ["randomised", "cluster"]),
        ("pilot randomized controlled trial", ["randomised", "pilot"]),
        ("a feasibility study", ["feasibility"]),
        ("trial protocol for a phase III RCT", ["randomised", "protocol"]),
        ("a qualitative investigation using semi-structured interviews", ["qualitative"]),
        ("Cochrane systematic review and meta-analysis", ["review"]),
        ("cost consequences analysis", []),
    ],
)
def test_design_cues(text: str, cues: list[str]) -> None:
    assert find_design_cues(text) == cues


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("We randomised 583 participants (n = 324 vs n = 259).", 583),
        ("recruited 130 from 7955 invitations", 130),
        ("Fifteen RCTs including 1,835 cancer patients", 1835),
        ("338 patients were included", 338),
        ("between 2018 and 2022 workers were followed", None),  # years are not counts
        ("no numbers here", None),
    ],
)
def test_sample_size(text: str, n: int | None) -> None:
    assert find_sample_size(text) == n


def test_conditions() -> None:
    found = find_conditions("return to work after stroke or traumatic brain injury", CONFIG["conditions"])
    assert found == ["stroke", "traumatic brain injury"]
    assert find_conditions("employees with MSK pain", CONFIG["conditions"]) == ["musculoskeletal"]


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("advice delivered by three physiotherapists", ["physiotherapist"]),
        ("delivered by stroke-specialist occupational-therapists", ["occupational_therapist"]),
        ("six OH nurses trained as case managers", ["oh_nurse", "case_manager"]),
        ("First Contact Practitioners (FCPs) delivering advice", ["first_contact_practitioner"]),
        ("early specialist vocational rehabilitation", []),  # not 'specialist OT vocational rehabilitation'
        ("a vocational advice service", []),  # advice is not adviser
        ("OTHER outcomes were collected", []),  # 'OT' only as a whole word
        ("treated by an OT at home", ["occupational_therapist"]),
    ],
)
def test_job_roles(text: str, roles: list[str]) -> None:
    assert find_job_roles(text, SYNONYMS, SETTINGS.role_match_threshold) == roles


STUDIES = [
    Row(
        2,
        {
            "study_id": "SWAP_X",
            "pmid": "28976423",
            "doi": "10.1097/J.PAIN.1",
            "nihr_doi": "",
            "registry_ids": "ISRCTN52269669",
            "acronym": "SWAP",
        },
    ),
    Row(
        3,
        {
            "study_id": "OPAL_A",
            "pmid": "",
            "doi": "",
            "nihr_doi": "10.3310/hta24450",
            "registry_ids": "",
            "acronym": "OPAL",
        },
    ),
    Row(
        4,
        {
            "study_id": "OPAL_B",
            "pmid": "39284693",
            "doi": "",
            "nihr_doi": "",
            "registry_ids": "ISRCTN13694911",
            "acronym": "OPAL",
        },
    ),
]


def _records() -> pd.DataFrame:
    return records_frame(
        [
            make_record(source="pubmed", search_id="s", pmid="28976423", title="A cluster randomised trial"),
            make_record(source="ris", search_id="s", doi="10.1097/j.pain.1", title="vocational advice"),
            make_record(source="ris", search_id="s", title="Protocol", registry_ids="ISRCTN52269669"),
            make_record(source="ris", search_id="s", title="Return to work in the OPAL trial"),
            make_record(source="ris", search_id="s", title="The NEWONE pilot trial of advice, n = 40"),
            make_record(source="ris", search_id="s", title="A systematic review of RTW coordination"),
        ]
    )


def test_extract_records_matches_and_builds_worklist() -> None:
    extracted, worklist = extract_records(_records(), SETTINGS, STUDIES)
    assert list(extracted["study_id"]) == ["SWAP_X", "SWAP_X", "SWAP_X", "OPAL_A; OPAL_B", "", ""]
    assert list(extracted["match_basis"]) == ["pmid", "doi", "registry", "acronym (ambiguous)", "", ""]
    assert list(worklist["title"]) == [
        "The NEWONE pilot trial of advice, n = 40"
    ]  # the review is not a trial
    newone = extracted.iloc[4]
    assert (newone["acronyms"], newone["sample_size"], newone["design_cues"]) == ("NEWONE", "40", "pilot")


def test_cli_extract_writes_both_tables(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    _records().to_csv(records, index=False)
    out, worklist = tmp_path / "auto_extracted.csv", tmp_path / "worklist.csv"
    code = main(
        [
            "extract",
            "--records",
            str(records),
            "--out",
            str(out),
            "--worklist",
            str(worklist),
            "--config",
            str(ROOT / "config/config.yaml"),
            "--schema",
            str(ROOT / "workflow/schemas/config.schema.yaml"),
            "--curated",
            str(ROOT / "data/curated"),
        ]
    )
    assert code == 0
    extracted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(extracted) == 6
    assert extracted.loc[0, "study_id"] == "SWAP_WynneJones2018"  # matched by PMID against the shipped table
    assert pd.read_csv(worklist, dtype=str, keep_default_na=False)["record_id"].tolist() == [
        extracted.loc[4, "record_id"]
    ]


def test_linked_reports_inherit_their_trials_study() -> None:
    records = _records()
    ids = records["record_id"].tolist()
    # the NEWONE pilot and the SWAP protocol share a (made-up) study key: the pilot inherits SWAP_X;
    # the review is linked to both OPAL studies' record, which is ambiguous, so it inherits nothing
    links = pd.DataFrame(
        {
            "record_id": [ids[2], ids[4], ids[3], ids[5]],
            "study_key": ["ISRCTN52269669", "ISRCTN52269669", "OPAL", "OPAL"],
            "evidence": ["", "", "", ""],
        }
    )
    extracted, worklist = extract_records(records, SETTINGS, STUDIES, study_links=links)
    assert extracted.loc[4, "study_id"] == "SWAP_X"
    assert extracted.loc[4, "match_basis"] == "study link ISRCTN52269669"
    assert extracted.loc[5, "study_id"] == ""
    assert worklist.empty


def test_included_records_restrict_outputs_and_all_unmatched_go_on_the_worklist() -> None:
    records = _records()
    ids = records["record_id"].tolist()
    extracted, worklist = extract_records(records, SETTINGS, STUDIES, included={ids[0], ids[5]})
    assert extracted["record_id"].tolist() == [ids[0], ids[5]]
    # the review is no trial report, but it was included: a reviewer must curate or link it
    assert worklist["record_id"].tolist() == [ids[5]]
    assert worklist.loc[0, "reason"].startswith("included record with no curated study")
    with pytest.raises(ValueError, match="included record ids not among the records"):
        extract_records(records, SETTINGS, STUDIES, included={"nope:1"})


def test_further_reports_match_their_study_through_study_reports() -> None:
    reports = [
        Row(2, {"study_id": "SWAP_X", "report_type": "process_evaluation", "pmid": "29982957", "doi": ""}),
        Row(3, {"study_id": "OPAL_B", "report_type": "follow_up", "pmid": "", "doi": "10.5271/SJWEH.1"}),
    ]
    records = records_frame(
        [
            make_record(source="pubmed", search_id="s", pmid="29982957", title="How advice was delivered"),
            make_record(
                source="ris", search_id="s", doi="https://doi.org/10.5271/sjweh.1", title="12 months"
            ),
            make_record(source="ris", search_id="s", doi="10.5271/sjweh.2", title="Another paper"),
        ]
    )
    extracted, _ = extract_records(records, SETTINGS, STUDIES, reports=reports)
    assert list(extracted["study_id"]) == ["SWAP_X", "OPAL_B", ""]
    assert list(extracted["match_basis"]) == ["report", "report", ""]
    # without the table they are unmatched, as before
    extracted, _ = extract_records(records, SETTINGS, STUDIES)
    assert list(extracted["study_id"]) == ["", "", ""]


def _mining_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the job-role search (the costly part of mining) is run on."""
    texts: list[str] = []
    real = extract_module.find_job_roles

    def spy(text: str, synonyms, threshold):  # type: ignore[no-untyped-def]
        texts.append(text)
        return real(text, synonyms, threshold)

    monkeypatch.setattr(extract_module, "find_job_roles", spy)
    return texts


def test_only_screened_in_and_curated_records_are_mined(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _records()
    ids = records["record_id"].tolist()
    mined_texts = _mining_spy(monkeypatch)
    # screening passed only the NEWONE pilot (4); 0-3 are records of curated studies (PMID, DOI,
    # registration, acronym); the review (5) is neither
    extracted = match_records(records, SETTINGS, STUDIES, mine={ids[4]})
    assert mined_rows(extracted).tolist() == [True, True, True, True, True, False]
    assert len(mined_texts) == 5
    assert not any("systematic review" in text for text in mined_texts)
    newone = extracted.iloc[4]
    assert (newone["acronyms"], newone["sample_size"], newone["design_cues"]) == ("NEWONE", "40", "pilot")
    assert extracted.loc[0, "design_cues"] == "randomised; cluster"
    review = extracted.iloc[5]
    assert all(review[column] == "" for column in MINED_COLUMNS)
    assert (review["record_id"], review["title"]) == (ids[5], "A systematic review of RTW coordination")
    # the curated matches are those of mining every record
    everything = match_records(records, SETTINGS, STUDIES)
    assert extracted["study_id"].tolist() == everything["study_id"].tolist()
    assert extracted["match_basis"].tolist() == everything["match_basis"].tolist()
    assert extracted.iloc[:5].equals(everything.iloc[:5])


def test_a_record_linked_to_a_curated_study_is_mined(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _records()
    ids = records["record_id"].tolist()
    links = pd.DataFrame(
        {"record_id": [ids[2], ids[4]], "study_key": ["ISRCTN52269669"] * 2, "evidence": ["", ""]}
    )
    mined_texts = _mining_spy(monkeypatch)
    extracted = match_records(records, SETTINGS, STUDIES, study_links=links, mine=set())
    # nothing screened in: only the records of curated studies, the linked pilot among them
    assert mined_rows(extracted).tolist() == [True, True, True, True, True, False]
    assert len(mined_texts) == 5
    assert extracted.loc[4, "study_id"] == "SWAP_X"
    assert extracted.loc[4, "sample_size"] == "40"


def test_unmined_records_still_match_by_registration_and_acronym_in_their_text() -> None:
    records = records_frame(
        [
            make_record(
                source="ris", search_id="s", title="Advice", abstract="Registered as ISRCTN 52269669."
            ),
            make_record(source="ris", search_id="s", title="Two-year results of the S-WAP trial"),
            make_record(source="ris", search_id="s", title="A change of roles", abstract="NCT01234567"),
        ]
    )
    extracted = match_records(records, SETTINGS, STUDIES, mine=set())
    assert extracted["study_id"].tolist() == ["SWAP_X", "SWAP_X", ""]
    assert extracted["match_basis"].tolist() == ["registry", "acronym", ""]
    # both were mined once matched; the third was not
    assert mined_rows(extracted).tolist() == [True, True, False]


def test_curated_mentions_is_a_necessary_condition_for_an_acronym_or_registration() -> None:
    mentions = CuratedMentions.of(study_identifiers(STUDIES))
    assert mentions.may_be_named("the SWAP trial")
    assert mentions.may_be_named("the S-Wap study")  # hyphens and case do not hide it
    assert mentions.may_be_named("ISRCTN:13694911")
    assert not mentions.may_be_named("a randomised trial of vocational advice, NCT01234567")
    assert not CuratedMentions.of({}).may_be_named("the SWAP trial ISRCTN52269669")
