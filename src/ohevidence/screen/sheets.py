"""What lies in the reviewers' sheets folder: sheets to read, spreadsheets to refuse, lock files to skip.

Kept free of pandas: the workflow lists the folder for the screening rule's input and the config
check (:func:`ohevidence.config.check_decision_paths`) before any job runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SPREADSHEETS", "SheetFiles", "sheet_files"]

SPREADSHEETS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".numbers")
# Excel's owner file ~$name, LibreOffice's .~lock.name#, other hidden files, *.tmp, editor backups name~
_TEMPORARY = re.compile(r"^(~\$|\.)|\.tmp$|~$", re.IGNORECASE)


@dataclass(frozen=True)
class SheetFiles:
    """The files of a sheets folder, sorted by what is done with each."""

    sheets: list[Path]  # CSV files (any case of extension) to read
    spreadsheets: list[Path]  # saved from a spreadsheet program in its own format: refused
    temporary: list[Path]  # lock, temporary and hidden files: skipped with a note
    other: list[Path]  # anything else (.txt, .md, folders): named in one warning

    def watched(self) -> list[Path]:
        """Every file screening reads, refuses or warns about: adding or editing one reruns it."""
        return sorted(p for p in [*self.sheets, *self.spreadsheets, *self.other] if p.is_file())


def sheet_files(sheets_dir: Path, decisions_file: Path | None = None) -> SheetFiles:
    """Every entry of ``sheets_dir`` (except the decision file), sorted into :class:`SheetFiles`."""
    found = SheetFiles([], [], [], [])
    if not sheets_dir.is_dir():
        return found
    skip = decisions_file.resolve() if decisions_file is not None else None
    for path in sorted(sheets_dir.iterdir()):
        if skip is not None and path.resolve() == skip:
            continue
        suffix = path.suffix.lower()
        if _TEMPORARY.search(path.name):
            found.temporary.append(path)
        elif path.is_dir():
            found.other.append(path)
        elif suffix == ".csv":
            found.sheets.append(path)
        elif suffix in SPREADSHEETS:
            found.spreadsheets.append(path)
        else:
            found.other.append(path)
    return found
