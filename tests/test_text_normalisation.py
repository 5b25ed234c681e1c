"""Issue 26 item 5: text normalised once at import (NFC; zero-width characters and bidirectional
controls removed, counted, warned once per file), so reviewers, rules and deduplication see the
same text, and a merged record keeps the cleanest title."""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from ohevidence.cells import INVISIBLE, clean_text, count_invisible, has_invisible
from ohevidence.dedupe import deduplicate
from ohevidence.dedupe.merging import merge
from ohevidence.records import make_record, records_frame
from ohevidence.screen.rules import apply_rules, compile_rules
from ohevidence.search.formats import parse_file

ZWSP, ZWNJ, ZWJ, WJ, BOM = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"
RLO, PDF, LRM, RLI, PDI = "\u202e", "\u202c", "\u200e", "\u2067", "\u2069"
TITLE = "Return to work after a graded activity programme: a randomised trial"
RULES = [{"name": "work", "criterion": "intervention", "fields": ["title"], "terms": {"return to work": []}}]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def _ris(path: Path, *titles: str) -> Path:
    body = "".join(
        f"TY  - JOUR\nID  - r{i}\nTI  - {title}\nDO  - 10.1000/x{i}\nPY  - 2020\nER  - \n"
        for i, title in enumerate(titles, start=1)
    )
    path.write_text(body, encoding="utf-8")
    return path


def test_clean_text_removes_every_zero_width_and_bidi_control_and_composes() -> None:
    assert clean_text(f"Re{ZWSP}turn{ZWNJ} to{ZWJ} work{WJ}{BOM}") == "Return to work"
    assert clean_text(f"{RLO}krow ot nruter{PDF} {LRM}{RLI}x{PDI}") == "krow ot nruter x"
    assert clean_text("Cafe\u0301 workers") == "Caf\u00e9 workers"  # e + combining acute -> é
    assert unicodedata.is_normalized("NFC", clean_text("Cafe\u0301"))
    assert not has_invisible(clean_text("".join(INVISIBLE) + "a"))
    assert clean_text("plain ascii  text ") == "plain ascii text"


def test_invisible_characters_are_removed_at_import_and_warned_once_with_the_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _ris(
        tmp_path / "zw.ris",
        f"Re{ZWSP}turn to{ZWSP} work{ZWJ} after illness",
        f"{RLO}krow ot nruter{PDF}: a trial",
        f"Sick{BOM}ness absence",
        "Clean title",
    )
    with caplog.at_level(logging.WARNING):
        records = parse_file(path, fmt=None, source="embase", search_id="e")
    assert [r["title"] for r in records] == [
        "Return to work after illness",
        "krow ot nruter: a trial",
        "Sickness absence",
        "Clean title",
    ]
    assert not any(has_invisible(value) for record in records for value in record.values())
    about = [w for w in _warnings(caplog) if "zero-width" in w]
    assert about == [
        f"{path}: 4 zero-width character(s) and 2 text-direction control(s) removed "
        "(reviewers, rules and deduplication see the same text)"
    ]


def test_removals_outside_an_import_are_counted_by_the_caller() -> None:
    with count_invisible() as tally:
        clean_text(f"a{ZWSP}b{RLO}c")
        clean_text("no change")
    assert tally == {"zero-width": 1, "bidi": 1}


def test_a_title_with_zero_width_characters_keeps_its_rule_flag_and_merges_to_the_clean_title(
    tmp_path: Path,
) -> None:
    """The adversarial case: the invisible-character copy won the merge and lost the rule flag."""
    dirty = _ris(tmp_path / "embase.ris", TITLE.replace("Return to work", f"Re{ZWSP}turn{ZWSP} to{ZWJ} work"))
    records = parse_file(dirty, fmt=None, source="embase", search_id="e")
    clean = make_record(source="pubmed", search_id="pm", pmid="1", doi="10.1000/x1", year="2020", title=TITLE)
    result = deduplicate(records_frame([*records, clean]))
    assert len(result.unique_records) == 1
    merged = result.unique_records.iloc[0]
    assert merged["title"] == TITLE
    flags = apply_rules(result.unique_records, compile_rules(RULES))
    assert flags.iloc[0]["rule_flags"] == '[for] intervention/work: "Return to work" (title)'


def test_rules_see_through_a_right_to_left_override_in_a_title(tmp_path: Path) -> None:
    path = _ris(tmp_path / "rlo.ris", f"{RLO}Return to work{PDF} after back pain")
    records = records_frame(parse_file(path, fmt=None, source="embase", search_id="e"))
    assert records.loc[0, "title"] == "Return to work after back pain"
    flags = apply_rules(records, compile_rules(RULES)).loc[0, "rule_flags"]
    assert flags.startswith("[for] intervention/work")


def test_merge_never_prefers_a_title_longer_only_for_invisible_characters() -> None:
    """Defence in depth: a records table made elsewhere may still hold them."""
    rows = [
        make_record(source="pubmed", search_id="pm", pmid="1", title=TITLE),
        make_record(source="embase", search_id="e", source_id="r1", title=TITLE),
    ]
    frame = records_frame(rows)
    frame.loc[1, "title"] = TITLE.replace(" ", f" {ZWSP}")
    merged = merge(frame, np.array([0, 0]), np.array([1]))  # the invisible-character record is kept
    assert merged.loc[0, "title"] == TITLE
    frame.loc[1, "title"] = TITLE.upper().replace(" ", f"{ZWJ} ")
    assert merge(frame, np.array([0, 0]), np.array([1])).loc[0, "title"] == TITLE
