"""Reading text files whatever their encoding: UTF-8 or UTF-16 with a BOM, UTF-8, Windows-1252.

One decoder for every file a person hands the pipeline (RIS/MEDLINE/CSV imports, the
curated tables, decision sheets, effect tables), so an encoding is recognised, or refused
with one clear error, the same way everywhere.
"""

from __future__ import annotations

import codecs
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ohevidence.errors import InputError

__all__ = ["Decoded", "check_in_project", "decode_text", "read_bytes", "read_decoded", "read_text"]

log = logging.getLogger("ohevidence.textfile")

OUTPUT_FOLDER = "results"  # what the pipeline writes, in the project folder


@dataclass(frozen=True)
class Decoded:
    """Text decoded from a file, with the encoding used and, for a fallback, what to warn."""

    text: str
    encoding: str  # 'UTF-8', 'UTF-16-LE', 'UTF-16-BE' or 'Windows-1252'
    note: str = ""  # non-empty when the bytes were not UTF-8 and were read as Windows-1252
    first_line: int | None = None  # first line that is not UTF-8 (where the note applies)


# Byte-order marks, checked in this order; the codec named drops the mark.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16-LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16-BE"),
)


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of a byte offset in single-byte or UTF-8 data."""
    return data.count(b"\n", 0, offset) + 1


def _non_utf8_lines(data: bytes) -> list[int]:
    """Line numbers (1-based) of the lines that are not valid UTF-8."""
    bad = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
    return bad


def _bom_less_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the file looks like mostly-ASCII UTF-16 that lost its BOM.

    Such text has a NUL byte in every other position (odd offsets for little-endian);
    UTF-8 and Windows-1252 text has none there.
    """
    sample = data[:4096]
    if len(sample) < 4 or len(data) % 2:
        return None
    evens, odds = sample[0::2], sample[1::2]
    if odds.count(0) * 2 >= len(odds) and not evens.count(0):
        return "utf-16-le"
    if evens.count(0) * 2 >= len(evens) and not odds.count(0):
        return "utf-16-be"
    return None


def decode_text(data: bytes, path: str | Path) -> Decoded:
    """Decode a text file's bytes: BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252.

    Excel's plain "CSV" and older reference managers write Windows-1252; such a file is
    read, with a note for a warning (first non-UTF-8 line, number of such lines). Bytes that
    are neither UTF-8 nor Windows-1252, or a UTF-16 file that does not decode, raise one
    :class:`InputError` naming file and line.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return Decoded(_decode_strict(data, codec, label, path), label)
    guessed = _bom_less_utf16(data)
    if guessed:
        return Decoded(_decode_strict(data, guessed, guessed.upper(), path), guessed.upper())
    try:
        return Decoded(data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"byte 0x{data[exc.start]:02x} is neither UTF-8 nor Windows-1252",
            line=_line_of(data, exc.start),
            expected="UTF-8 text (in Excel: save as 'CSV UTF-8')",
        ) from None
    bad = _non_utf8_lines(data)
    first = bad[0] if bad else _line_of(data, utf8_error.start)
    note = (
        f"not UTF-8; read as Windows-1252 (Excel's plain 'CSV'), {len(bad)} line(s) affected; "
        "save as UTF-8 ('CSV UTF-8') to be sure of the characters"
    )
    return Decoded(text, "Windows-1252", note, first)


def _decode_strict(data: bytes, codec: str, label: str, path: str | Path) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        head = data[: exc.start].decode(codec, "ignore")
        raise InputError(
            path,
            f"not valid {label} (bad bytes at offset {exc.start})",
            line=head.count("\n") + 1,
            expected=f"{label} text throughout",
        ) from None


def check_in_project(path: str | Path) -> None:
    """Refuse a path in the project folder that a symbolic link leads out of it.

    The config names its files relative to the project, never outside it (no '/' start, no
    '..'); a link in ``data/curated/`` or an import file linked to ``/etc/...`` or another user's
    folder would be read as silently as a direct path is refused. Every link on the way is
    resolved: a path inside the project (the working folder) must resolve inside it too. Paths
    given outside the project (a command run by hand on another folder) are the caller's choice,
    and so are the pipeline's own outputs (``results/`` may be a link to a scratch disk).
    """
    project = Path.cwd()
    lexical = Path(os.path.abspath(path))
    if not lexical.is_relative_to(project) or lexical.is_relative_to(project / OUTPUT_FOLDER):
        return
    target = lexical.resolve()
    if not target.is_relative_to(project.resolve()):
        raise InputError(
            path,
            f"leads out of the project folder through a symbolic link (to {target})",
            expected="a file inside the project folder: copy it in rather than linking to it",
        )


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes; an unreadable file, or one a link leads out of the project, is an
    :class:`InputError` naming it (:func:`check_in_project`)."""
    check_in_project(path)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror or exc}") from exc


def read_decoded(path: str | Path) -> Decoded:
    """Read and decode a text file (see :func:`decode_text`); a fallback is logged as a warning."""
    decoded = decode_text(read_bytes(path), path)
    if decoded.note:
        log.warning("%s: line %s: %s", path, decoded.first_line, decoded.note)
    return decoded


def read_text(path: str | Path) -> str:
    """The text of an export or table: see :func:`decode_text` for the encodings accepted."""
    return read_decoded(path).text
