"""Files people open: spreadsheets (CSV, UTF-8 with BOM) and reference-manager exports.

Choice of format: CSV encoded UTF-8 *with* a byte-order mark. Excel only detects UTF-8 in a
CSV by its BOM (without it, accents and "–" in titles turn into mojibake); LibreOffice and
pandas read it either way. CSV rather than XLSX keeps the sheets diffable in git and lets a
reviewer save the filled sheet straight back (Excel: "CSV UTF-8"; a ';'-separated save from a
comma-decimal locale is read too).

Formula injection: every CSV goes through :func:`ohevidence.csvio.write_csv`, which prefixes
a cell a spreadsheet would run as a formula with a single quote (the rule is described there).

Control characters (NUL, ESC, DEL, C1 ...) are removed from every cell (by the same writer) and
every RIS value on the way out as well as at import (:func:`ohevidence.records.make_record`): a
screening file must not carry them whatever table it was built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import rispy

from ohevidence.atomic import atomic_write
from ohevidence.cells import clean_text, split_multi
from ohevidence.csvio import neutralise, strip_controls, write_csv

__all__ = ["neutralise", "write_asreview_csv", "write_ris", "write_sheet"]


def write_sheet(frame: pd.DataFrame, path: str | Path, columns: Sequence[str]) -> None:
    """Write ``columns`` of ``frame`` as UTF-8-with-BOM CSV, every text cell neutralised."""
    write_csv(frame, path, columns, bom=True)


class _PlainRisWriter(rispy.RisWriter):
    """RIS without rispy's '1.' counter line before each record, which EndNote does not expect."""

    def set_header(self, count: int) -> str:
        return ""


ASREVIEW_RIS_LABELS = {1: "ASReview_relevant", 0: "ASReview_irrelevant", None: "ASReview_not_seen"}


def _label(consensus: str) -> int | None:
    return {"include": 1, "exclude": 0}.get(consensus)


def _ris_clean(entry: dict[str, object]) -> dict[str, object]:
    """Each RIS value on one line, without control characters (a line break would end the field)."""
    return {
        key: [clean_text(strip_controls(str(v))) for v in value]
        if isinstance(value, list)
        else clean_text(strip_controls(str(value)))
        for key, value in entry.items()
    }


def write_ris(records: pd.DataFrame, path: str | Path) -> None:
    """RIS for EndNote/Zotero with ASReview's N1 labels (relevant / irrelevant / not seen).

    ``records`` needs the record columns plus ``consensus``.
    """
    entries = []
    for row in records.to_dict("records"):
        entry: dict[str, object] = {"type_of_reference": "JOUR", "id": row["record_id"]}
        for key, column in (
            ("title", "title"),
            ("abstract", "abstract"),
            ("year", "year"),
            ("journal_name", "journal"),
            ("volume", "volume"),
            ("number", "issue"),
            ("doi", "doi"),
            ("language", "language"),
        ):
            if row.get(column):
                entry[key] = row[column]
        if row.get("pages"):
            start, _, end = str(row["pages"]).partition("-")
            entry["start_page"] = start
            if end:
                entry["end_page"] = end
        if row.get("authors"):
            entry["authors"] = split_multi(row["authors"])
        if row.get("keywords"):
            entry["keywords"] = split_multi(row["keywords"])
        if row.get("url"):
            entry["urls"] = [row["url"]]
        notes = [ASREVIEW_RIS_LABELS[_label(row.get("consensus", ""))]]
        if row.get("pmid"):
            notes.append(f"PMID: {row['pmid']}")
        entry["notes"] = notes
        entries.append(_ris_clean(entry))
    with atomic_write(path) as handle:
        rispy.dump(entries, handle, implementation=_PlainRisWriter)


ASREVIEW_CSV_COLUMNS = (
    "record_id",
    "title",
    "abstract",
    "authors",
    "keywords",
    "journal",
    "year",
    "doi",
    "pmid",
)


def write_asreview_csv(records: pd.DataFrame, path: str | Path) -> None:
    """CSV that ASReview LAB imports with labels: `asreview_label` 1 / 0 / empty (not seen)."""
    frame = records.loc[:, list(ASREVIEW_CSV_COLUMNS)].copy()
    labels = records["consensus"].map(_label)
    frame["asreview_label"] = ["" if v is None or v != v else str(int(v)) for v in labels]
    write_sheet(frame, path, [*ASREVIEW_CSV_COLUMNS, "asreview_label"])
