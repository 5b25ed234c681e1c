"""Reviewers' screening decisions: the human-owned decision file and filled-in sheets.

Two ways in, both under ``data/curated/screening/`` (never written by the pipeline):

* ``decisions.csv``, long format, one row per record, stage and reviewer:
  ``record_id, stage, reviewer, decision, reason, note, decided_at``;
* any other CSV file there (``.csv`` in any case): a ``to_screen_<reviewer>.csv`` /
  ``full_text_<reviewer>.csv`` / ``conflicts.csv`` sheet from ``results/screening/`` that a
  reviewer filled in and dropped back. Rows whose ``decision`` is still empty are records not
  screened yet.

Every file in the sheets folder is accounted for (:func:`sheet_files`): CSV files are read; a
spreadsheet (``.xlsx``, ``.ods`` ...) stops the run asking for it to be saved as CSV (it surely
holds decisions, and a warning scrolled past would lose them); lock and temporary files (Excel's
``~$name``, LibreOffice's ``.~lock.name#``, ``*.tmp``, hidden files) are skipped with a note; any
other file is named in one warning.

Every row is checked; the first bad one stops the run with one error naming file and line.
Record ids may be any id that deduplication folded into a unique record (its ``origin``): the
decision then applies to the unique record, whatever characters the id holds (an accession
number with '; ' in it included: :func:`ohevidence.records.split_origin`).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ohevidence.cells import clean_text
from ohevidence.csvio import unneutralise_frame
from ohevidence.errors import InputError, require_columns
from ohevidence.records import split_origin
from ohevidence.schema import SCREENING_DECISION_COLUMNS, names
from ohevidence.screen.sheets import SheetFiles, sheet_files
from ohevidence.textfile import read_text

log = logging.getLogger("ohevidence.screen")

STAGES = ("title_abstract", "full_text")
DECISIONS = ("include", "exclude", "maybe")
SHEET_REQUIRED = ("record_id", "stage", "reviewer", "decision")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
DECISION_FIELDS = names(SCREENING_DECISION_COLUMNS)


def check_sheet_files(files: SheetFiles) -> None:
    """Refuse spreadsheets, note skipped lock files and warn once about files that are not read."""
    if files.spreadsheets:
        first = files.spreadsheets[0]
        others = (
            f" (and {', '.join(p.name for p in files.spreadsheets[1:])})" if files.spreadsheets[1:] else ""
        )
        raise InputError(
            first,
            f"is a spreadsheet{others}; reviewer sheets are read only as CSV",
            expected="the sheet saved as CSV (UTF-8) in the same folder, and the spreadsheet moved out",
        )
    if files.temporary:
        log.info(
            "skipped lock or temporary file(s) in the sheets folder: %s",
            ", ".join(p.name for p in files.temporary),
        )
    if files.other:
        log.warning(
            "not read from the sheets folder %s (not CSV): %s; save reviewer sheets as .csv there",
            files.other[0].parent,
            ", ".join(p.name + ("/" if p.is_dir() else "") for p in files.other),
        )


@dataclass(frozen=True)
class DecisionRules:
    """What a decision row may contain, from the review's configuration."""

    known_records: Mapping[str, str]  # any record id (including folded duplicates) -> screened record id
    reviewers: Sequence[str]
    reason_codes: Sequence[str]


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a sheet as text; a ';'-separated save (Excel in comma-decimal locales) is read too."""
    text = read_text(path)  # UTF-8/UTF-16 with BOM, or Windows-1252 (Excel's plain CSV) with a warning
    header = text.partition("\n")[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=separator)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot be read as a CSV ({exc})") from exc
    return unneutralise_frame(frame)


def _check_row(row: Mapping[str, str], rules: DecisionRules, path: Path, line: int) -> dict[str, str]:
    def fail(column: str, message: str, expected: str) -> InputError:
        return InputError(path, message, line=line, column=column, expected=expected)

    record_id = clean_text(row.get("record_id", ""))
    stage = clean_text(row.get("stage", "")).lower()
    reviewer = clean_text(row.get("reviewer", ""))
    decision = clean_text(row.get("decision", "")).lower()
    reason = clean_text(row.get("reason", ""))
    decided_at = clean_text(row.get("decided_at", ""))
    if record_id not in rules.known_records:
        raise fail("record_id", f"unknown record id {record_id!r}", "a record_id from the screened records")
    if stage not in STAGES:
        raise fail("stage", f"unknown stage {stage!r}", " or ".join(STAGES))
    if reviewer not in rules.reviewers:
        raise fail(
            "reviewer",
            f"unknown reviewer {reviewer!r}",
            "one of the reviewers in config screening.reviewers/arbiters: " + ", ".join(rules.reviewers),
        )
    if decision not in DECISIONS:
        raise fail("decision", f"unknown decision {decision!r}", " | ".join(DECISIONS))
    if reason and reason not in rules.reason_codes:
        raise fail(
            "reason",
            f"unknown reason code {reason!r}",
            "one of config screening.exclusion_reasons: " + ", ".join(rules.reason_codes),
        )
    if stage == "full_text" and decision == "exclude" and not reason:
        raise fail(
            "reason",
            "a full-text exclusion has no reason (PRISMA 2020 reports them by reason)",
            "one of " + ", ".join(rules.reason_codes),
        )
    if decided_at and not _ISO_TIME.fullmatch(decided_at):
        raise fail("decided_at", f"bad date {decided_at!r}", "ISO 8601, e.g. 2026-11-23 or 2026-11-23T10:30Z")
    return {
        "record_id": rules.known_records[record_id],
        "stage": stage,
        "reviewer": reviewer,
        "decision": decision,
        "reason": reason,
        "note": clean_text(row.get("note", "")),
        "decided_at": decided_at,
        "source_file": str(path),
        "source_line": str(line),
    }


def read_decision_file(path: Path, rules: DecisionRules, *, sheet: bool = False) -> list[dict[str, str]]:
    """Check and read one decision file (the long file, or a filled sheet when ``sheet``)."""
    frame = _read_csv(path)
    required = SHEET_REQUIRED if sheet else DECISION_FIELDS
    require_columns(path, frame.columns, required)
    rows = []
    for index, row in enumerate(frame.to_dict("records")):
        if sheet and not clean_text(row.get("decision", "")):
            continue  # not screened yet
        rows.append(_check_row(row, rules, path, line=index + 2))
    return rows


def collapse(rows: Iterable[dict[str, str]]) -> pd.DataFrame:
    """One decision per record, stage and reviewer.

    The same decision given twice (e.g. in the long file and a sheet, or on two records that
    deduplication folded together) counts once. Different decisions are an error unless both
    are dated: then the later one stands (a reviewer changed their mind), and the change is logged.
    """
    kept: dict[tuple[str, str, str], dict[str, str]] = {}
    for row in rows:
        key = (row["record_id"], row["stage"], row["reviewer"])
        earlier = kept.get(key)
        if earlier is None:
            kept[key] = row
            continue
        if earlier["decision"] == row["decision"]:
            continue
        if earlier["decided_at"] and row["decided_at"] and earlier["decided_at"] != row["decided_at"]:
            later = max(earlier, row, key=lambda r: r["decided_at"])
            log.info(
                "%s changed %s at %s: %s (%s line %s) replaces %s",
                key[2],
                key[0],
                key[1],
                later["decision"],
                later["source_file"],
                later["source_line"],
                (earlier if later is row else row)["decision"],
            )
            kept[key] = later
            continue
        raise InputError(
            row["source_file"],
            f"{key[2]} decided {key[0]} ({key[1]}) as {row['decision']!r} here but as "
            f"{earlier['decision']!r} in {earlier['source_file']} line {earlier['source_line']}",
            line=int(row["source_line"]),
            column="decision",
            expected="one decision per record, stage and reviewer (or dated rows: the later one stands)",
        )
    columns = [*DECISION_FIELDS, "source_file", "source_line"]
    return pd.DataFrame(list(kept.values()), columns=columns).fillna("")


def load_decisions(
    decisions_file: Path | None, sheets_dir: Path | None, rules: DecisionRules
) -> pd.DataFrame:
    """All decisions from the long file and any filled sheets, checked and collapsed."""
    rows: list[dict[str, str]] = []
    if decisions_file is not None and decisions_file.exists():
        rows += read_decision_file(decisions_file, rules)
    elif decisions_file is not None:
        log.info("no decision file at %s: nothing screened yet", decisions_file)
    if sheets_dir is not None and sheets_dir.is_dir():
        files = sheet_files(sheets_dir, decisions_file)
        check_sheet_files(files)
        for path in files.sheets:
            sheet_rows = read_decision_file(path, rules, sheet=True)
            log.info("sheet %s: %d decisions", path, len(sheet_rows))
            rows += sheet_rows
    return collapse(rows)


def alias_map(records: pd.DataFrame) -> dict[str, str]:
    """Every id a decision may use -> the screened record's id (deduplication's `origin` ids included)."""
    aliases: dict[str, str] = {}
    blank = [""] * len(records)
    origins = records["origin"] if "origin" in records.columns else blank
    search_ids = records["search_ids"] if "search_ids" in records.columns else blank
    for record_id, origin, searches in zip(records["record_id"], origins, search_ids, strict=True):
        for alias in split_origin(origin or "", searches or ""):
            aliases.setdefault(alias, record_id)
        aliases[record_id] = record_id
    return aliases
