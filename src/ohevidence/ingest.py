"""What happened to the values of one input file on their way into records: reported, never silent.

Every importer (RIS, MEDLINE/.nbib, CSV, PubMed XML, Crossref JSON) builds its rows with
:func:`ohevidence.records.make_record`. A value it has to leave empty (a DOI that is not a DOI,
a year outside 1800-2099) or to clean (control characters in text) is noted here against the
file and the record's line; when the parser returns, :func:`reports_problems` logs one warning
per value (the first :data:`MAX_DETAIL` of each kind) and one summary with the counts, on
stderr (a Snakemake rule's log). Zero-width characters and bidirectional controls removed from
text (:func:`ohevidence.cells.clean_text`) are only counted: the summary gives the count, once
per file. An identifier that cannot be trusted (a PMID that is not
exactly one PMID) is not a warning: :func:`record_error` builds the
:class:`~ohevidence.errors.InputError` naming the same file and line.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from ohevidence.cells import count_invisible
from ohevidence.errors import InputError

__all__ = [
    "KINDS",
    "MAX_DETAIL",
    "IngestReport",
    "Note",
    "note",
    "record_error",
    "reports_problems",
]

log = logging.getLogger("ohevidence.ingest")

MAX_DETAIL = 20  # warnings printed per kind of problem and file; the summary counts them all

#: The kinds of note, as the summary line names them.
KINDS: tuple[str, ...] = ("doi", "year", "control")


@dataclass(frozen=True)
class Note:
    """One value changed or left out while building a record."""

    kind: str  # one of KINDS
    file: str
    line: int | None
    record: str  # record id, named when the format gives no line
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line is not None else f", record {self.record!r}")
        return f"{where}, column {self.column!r}: {self.message}"


@dataclass
class IngestReport:
    """The notes for one input file."""

    file: str
    notes: list[Note] = field(default_factory=list)
    # characters removed by clean_text while the file was parsed: "zero-width" and "bidi"
    invisible: Counter[str] = field(default_factory=Counter)

    def counts(self) -> Counter[str]:
        return Counter(n.kind for n in self.notes)

    def summary(self) -> str:
        """'file: 2 DOI(s) not usable, 1 year(s) left empty, control characters removed from 3 field(s)
        of 2 record(s)'."""
        counts = self.counts()
        parts = []
        if counts["doi"]:
            parts.append(f"{counts['doi']} DOI value(s) not one DOI (left empty or first kept)")
        if counts["year"]:
            parts.append(f"{counts['year']} year value(s) outside 1800-2099 (left empty)")
        if counts["control"]:
            fields = sum(len(n.column.split(", ")) for n in self.notes if n.kind == "control")
            parts.append(
                f"control characters removed from {fields} field(s) of {counts['control']} record(s)"
            )
        if self.invisible.total():
            parts.append(
                f"{self.invisible['zero-width']} zero-width character(s) and {self.invisible['bidi']} "
                "text-direction control(s) removed (reviewers, rules and deduplication see the same text)"
            )
        return f"{self.file}: " + "; ".join(parts)

    def log(self, logger: logging.Logger = log) -> None:
        """One warning per note (at most MAX_DETAIL of each kind), then the summary with counts."""
        if not self.notes and not self.invisible.total():
            return
        shown: Counter[str] = Counter()
        for item in self.notes:
            shown[item.kind] += 1
            if shown[item.kind] <= MAX_DETAIL:
                logger.warning("%s", item)
        for kind, count in self.counts().items():
            if count > MAX_DETAIL:
                logger.warning("%s: ... and %d more %s warning(s)", self.file, count - MAX_DETAIL, kind)
        logger.warning("%s", self.summary())


_ACTIVE: ContextVar[IngestReport | None] = ContextVar("ohevidence_ingest_report", default=None)

P = ParamSpec("P")
R = TypeVar("R")


def reports_problems(
    parser: Callable[Concatenate[str | Path, P], R],
) -> Callable[Concatenate[str | Path, P], R]:
    """Decorate a ``parse_x(path, ...)`` function: collect the notes of the records it builds, log them.

    Nothing is logged when the parser raises: its one error is the message.
    """

    @functools.wraps(parser)
    def wrapper(path: str | Path, *args: P.args, **kwargs: P.kwargs) -> R:
        report = IngestReport(str(path))
        token = _ACTIVE.set(report)
        try:
            with count_invisible() as tally:
                result = parser(path, *args, **kwargs)
        finally:
            _ACTIVE.reset(token)
        report.invisible.update(tally)
        report.log()
        return result

    return wrapper


def current_file() -> str:
    """The file being parsed ('(input)' outside a decorated parser)."""
    report = _ACTIVE.get()
    return report.file if report is not None else "(input)"


def note(kind: str, *, line: int | None, record: str, column: str, message: str) -> None:
    """Record one change to a value; logged at once when no file is being parsed."""
    if kind not in KINDS:
        raise ValueError(f"unknown note kind {kind!r}")
    report = _ACTIVE.get()
    item = Note(kind, current_file(), line, record, column, message)
    if report is None:
        log.warning("%s", item)
    else:
        report.notes.append(item)


def record_error(
    message: str, *, line: int | None, record: str, column: str, expected: str | None = None
) -> InputError:
    """The error for a value that stops the import, naming the file, line (or record) and column."""
    if line is None:
        message = f"record {record!r}: {message}"
    return InputError(current_file(), message, line=line, column=column, expected=expected)
