"""Cell text conventions every table shares: one Unicode form, no invisible characters, whitespace
collapsed, multi-valued cells joined with "; ".

Every table (:mod:`ohevidence.schema` contracts) holds text cells; empty means unknown. A cell holding
several values (authors, registry ids, job roles) joins them with :data:`MULTI_SEP`.

:func:`clean_text` is where text is made one (records at import, curated cells, sheets): Unicode
NFC (an "é" typed as e + combining accent equals the precomposed one), and the zero-width
characters and bidirectional controls (:data:`INVISIBLE`) removed, so what reviewers read is
what the screening rules match and what deduplication compares. Removals are counted while an
import runs (:func:`count_invisible`; :mod:`ohevidence.ingest` warns once per file with the count).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

MULTI_SEP = "; "
_WS = re.compile(r"\s+")

#: Zero-width characters: space, non-joiner, joiner, word joiner, and the BOM (zero-width no-break space).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
#: Bidirectional controls: LRM/RLM marks, the embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and
#: the isolates (LRI, RLI, FSI, PDI). An RLO makes a title display reversed while rules match the stored text.
BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: Every character :func:`clean_text` removes beyond the whitespace it collapses.
INVISIBLE = ZERO_WIDTH + BIDI_CONTROLS
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_ZERO_WIDTH = frozenset(ZERO_WIDTH)

_TALLY: ContextVar[Counter[str] | None] = ContextVar("ohevidence_invisible_tally", default=None)


@contextmanager
def count_invisible() -> Iterator[Counter[str]]:
    """Count, while the block runs, the characters :func:`clean_text` removes.

    The counter's keys are ``"zero-width"`` and ``"bidi"`` (bidirectional controls).
    """
    tally: Counter[str] = Counter()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a zero-width character or a bidirectional control."""
    return not text.isascii() and _INVISIBLE.search(text) is not None


def visible_text(text: str) -> str:
    """``text`` without zero-width characters or bidirectional controls (not counted, not NFC)."""
    return text if text.isascii() else _INVISIBLE.sub("", text)


def normalise_unicode(text: str) -> str:
    """``text`` in NFC without zero-width characters or bidirectional controls (counted, see
    :func:`count_invisible`). ASCII text is returned as it is, at once."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    found = _INVISIBLE.findall(text)
    if not found:
        return text
    tally = _TALLY.get()
    if tally is not None:
        zero_width = sum(1 for c in found if c in _ZERO_WIDTH)
        tally["zero-width"] += zero_width
        tally["bidi"] += len(found) - zero_width
    return _INVISIBLE.sub("", text)


def raw_text(value: object) -> str:
    """The value as text, untouched; ``None``/NaN become ''."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def clean_text(value: object) -> str:
    """NFC, invisible characters removed (:func:`normalise_unicode`), whitespace collapsed;
    ``None``/NaN become ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return _WS.sub(" ", normalise_unicode(str(value))).strip()


def join_multi(values: Iterable[object]) -> str:
    """'; '-join non-empty cleaned values, keeping first occurrence order."""
    seen: list[str] = []
    for value in values:
        text = clean_text(value)
        if text and text not in seen:
            seen.append(text)
    return MULTI_SEP.join(seen)


def split_multi(value: object) -> list[str]:
    text = clean_text(value)
    return [part.strip() for part in text.split(";") if part.strip()] if text else []
