"""Crossref REST API works JSON to records (used for NIHR Journals Library, prefix 10.3310).

Accepts a single-work response (``message-type: work``), a list response
(``message-type: work-list``, ``message.items``) or a bare JSON list of work objects.
Abstracts arrive as JATS XML; they are flattened to plain text with section titles
kept as labels ('Background: ...').
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ohevidence.errors import InputError
from ohevidence.ingest import reports_problems
from ohevidence.schema import clean_text, find_registry_ids, join_multi, make_record, normalise_doi
from ohevidence.text import author_name, strip_tags

__all__ = ["jats_to_text", "parse_crossref_json", "parse_crossref_obj"]

_TITLE = re.compile(r"<(?:jats:)?title\b[^>]*>(.*?)</(?:jats:)?title\s*>", re.DOTALL | re.IGNORECASE)
_LABEL_OPEN, _LABEL_CLOSE = "\x02", "\x03"
_LABEL = re.compile(f"{_LABEL_OPEN}(.*?){_LABEL_CLOSE}", re.DOTALL)


def jats_to_text(value: object) -> str:
    """Plain text from a JATS/HTML abstract; ``<title>`` sections become 'Title: ...'."""
    if not value:
        return ""
    marked = _TITLE.sub(lambda m: f" {_LABEL_OPEN}{m.group(1)}{_LABEL_CLOSE} ", str(value))
    text = strip_tags(marked)

    def label(match: re.Match[str]) -> str:
        title = clean_text(match.group(1)).rstrip(":. ")
        if not title or title.lower() == "abstract":
            return " "
        return f" {title}: "

    return clean_text(_LABEL.sub(label, text))


def _first(value: object) -> str:
    if isinstance(value, list):
        return strip_tags(value[0]) if value else ""
    return strip_tags(value) if value else ""


def _year(work: Mapping[str, Any]) -> str:
    for key in ("published-print", "published-online", "issued", "published"):
        parts = (work.get(key) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            return str(parts[0][0])
    return ""


def _authors(work: Mapping[str, Any]) -> str:
    names = []
    for person in work.get("author") or []:
        if person.get("family") or person.get("given"):
            names.append(author_name(person.get("family"), person.get("given")))
        elif person.get("name"):
            names.append(clean_text(person["name"]))
    return join_multi(names)


def _trial_numbers(work: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for entry in work.get("clinical-trial-number") or []:
        number = clean_text(entry.get("clinical-trial-number") if isinstance(entry, Mapping) else entry)
        found.extend(find_registry_ids(number) or ([number] if number else []))
    return found


def _work_record(work: Mapping[str, Any], *, source: str, search_id: str) -> dict[str, str]:
    doi = normalise_doi(work.get("DOI"))
    title = _first(work.get("title"))
    abstract = jats_to_text(work.get("abstract"))
    return make_record(
        source=source,
        search_id=search_id,
        source_id=doi,
        doi=work.get("DOI"),  # as given, so make_record reports a value that is not a DOI
        title=title,
        abstract=abstract,
        authors=_authors(work),
        journal=_first(work.get("container-title")),
        year=_year(work),
        volume=clean_text(work.get("volume")),
        issue=clean_text(work.get("issue")),
        pages=clean_text(work.get("page")),
        publication_types=clean_text(work.get("type")),
        keywords=join_multi(work.get("subject") or []),
        registry_ids=join_multi(_trial_numbers(work) + find_registry_ids(title, abstract)),
        language=clean_text(work.get("language")),
        url=clean_text(work.get("URL")) or (f"https://doi.org/{doi}" if doi else ""),
    )


def _works(payload: object, name: str) -> Sequence[Any]:
    """The work objects in a Crossref response body; raise on error bodies."""
    if isinstance(payload, list):
        return payload
    if not isinstance(payload, Mapping):
        raise InputError(
            name, "JSON is neither an object nor a list", line=1, expected="a Crossref works response"
        )
    if "status" in payload:
        if payload.get("status") != "ok":
            details = payload.get("message")
            if isinstance(details, list):
                text = "; ".join(
                    clean_text(d.get("message") if isinstance(d, Mapping) else d) for d in details
                )
            else:
                text = clean_text(details)
            raise InputError(
                name,
                f"Crossref error response (status {payload.get('status')!r}, "
                f"{payload.get('message-type', 'no message-type')}): {text}",
                expected="status 'ok'",
            )
        kind = payload.get("message-type")
        message = payload.get("message") or {}
        if kind == "work":
            return [message]
        if kind == "work-list":
            return message.get("items") or []
        raise InputError(
            name,
            f"Crossref response has message-type {kind!r}",
            expected="message-type 'work' or 'work-list'",
        )
    if "DOI" in payload:  # a bare work object
        return [payload]
    raise InputError(name, "not a Crossref works response", expected="a Crossref works response")


def parse_crossref_obj(
    payload: object, *, name: str, source: str = "nihr", search_id: str
) -> list[dict[str, str]]:
    """Records from an already-decoded Crossref response; ``name`` is used in error messages."""
    records = []
    for index, work in enumerate(_works(payload, name), start=1):
        if not isinstance(work, Mapping) or not work.get("DOI"):
            raise InputError(
                name, f"item {index} is not a Crossref work (no DOI)", expected="Crossref work objects"
            )
        records.append(_work_record(work, source=source, search_id=search_id))
    return records


@reports_problems
def parse_crossref_json(path: str | Path, *, source: str = "nihr", search_id: str) -> list[dict[str, str]]:
    """Records from a Crossref works JSON file (one per work; source_id is the DOI)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 (byte {exc.start})", expected="UTF-8 JSON") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            path,
            f"invalid JSON: {exc.msg}",
            line=exc.lineno,
            column=str(exc.colno),
            expected="a JSON document",
        ) from exc
    return parse_crossref_obj(payload, name=str(path), source=source, search_id=search_id)
