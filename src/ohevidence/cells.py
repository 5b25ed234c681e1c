"""Cell text conventions every table shares: whitespace collapsed, multi-valued cells joined with "; ".

Every table (:mod:`ohevidence.schema` contracts) holds text cells; empty means unknown. A cell holding
several values (authors, registry ids, job roles) joins them with :data:`MULTI_SEP`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MULTI_SEP = "; "
_WS = re.compile(r"\s+")


def raw_text(value: object) -> str:
    """The value as text, untouched; ``None``/NaN become ''."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def clean_text(value: object) -> str:
    """Collapse whitespace; ``None``/NaN become ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return _WS.sub(" ", str(value)).strip()


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
