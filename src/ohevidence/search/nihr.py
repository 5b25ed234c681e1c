"""NIHR Journals Library through Crossref, enriched by DOI from PubMed.

The library has no public search API. Its reports all carry DOIs under the prefix
10.3310, so the Crossref REST API's ``/prefixes/10.3310/works`` route, paged with a
cursor, lists them (filters such as ``from-pub-date`` and ``query.bibliographic`` narrow
the list). PubMed then adds PMIDs, MeSH and abstracts: HTA is a MEDLINE journal and the
other NIHR journals appear as Bookshelf books. A PMID is attached to a Crossref work only
when the PubMed record's own DOI equals the work's DOI, so a search hit that merely
mentions a DOI, or two records claiming one DOI, never put the wrong PMID on a report.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ohevidence.search.crossref import JsonTooDeepError, load_json
from ohevidence.search.httpclient import HttpClient, Response, RetryableResponse, ServiceError

__all__ = [
    "DEFAULT_CROSSREF_URL",
    "NIHR_PREFIX",
    "Crossref",
    "CrossrefPage",
    "check_crossref",
    "doi_query",
    "match_by_doi",
]

log = logging.getLogger("ohevidence.search.nihr")

DEFAULT_CROSSREF_URL = "https://api.crossref.org"
NIHR_PREFIX = "10.3310"
CROSSREF_RATE = 3.0  # list requests per second (Crossref asks for restraint on deep paging)
MAX_ROWS = 1000  # Crossref's limit per page


@dataclass(frozen=True)
class CrossrefPage:
    body: bytes
    items: list[Mapping[str, Any]]
    total: int
    next_cursor: str


def _crossref_error(response: Response) -> str:
    try:
        payload = load_json(response.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, JsonTooDeepError):
        return " ".join(response.body[:300].decode("utf-8", "replace").split()) or "(empty body)"
    if isinstance(payload, Mapping):
        details = payload.get("message")
        if isinstance(details, list):
            parts = []
            for detail in details:
                if isinstance(detail, Mapping):
                    value = f" (value {detail['value']!r})" if "value" in detail else ""
                    parts.append(f"{detail.get('type', 'error')}: {detail.get('message', '')}{value}")
                else:
                    parts.append(str(detail))
            return f"{payload.get('message-type', 'failure')}: " + "; ".join(parts)
        return str(details)
    return str(payload)[:300]


def check_crossref(response: Response) -> CrossrefPage:
    """A complete ``work-list`` page; error bodies become ServiceError, cut-off JSON is retried."""
    if response.status != 200:
        raise ServiceError(f"{response.url}: Crossref HTTP {response.status}: {_crossref_error(response)}")
    try:
        payload = load_json(response.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RetryableResponse("Crossref body is not UTF-8", kind="incomplete or non-JSON body") from None
    except JsonTooDeepError as exc:  # complete but absurd: fetching it again will not help
        raise ServiceError(f"{response.url}: Crossref body: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RetryableResponse(
            f"Crossref body is not complete JSON ({exc.msg} at char {exc.pos} of {len(response.body)})",
            kind="incomplete or non-JSON body",
        ) from None
    if not isinstance(payload, Mapping):
        raise RetryableResponse("Crossref body is not a JSON object", kind="incomplete or non-JSON body")
    if payload.get("status") != "ok":
        raise ServiceError(f"{response.url}: Crossref error: {_crossref_error(response)}")
    if payload.get("message-type") != "work-list":
        kind = payload.get("message-type")
        raise ServiceError(f"{response.url}: Crossref message-type {kind!r}, not work-list")
    message = payload.get("message")
    if not isinstance(message, Mapping):
        raise ServiceError(f"{response.url}: Crossref work-list 'message' is not a JSON object")
    items = message.get("items")
    if not isinstance(items, list) or "total-results" not in message:
        raise RetryableResponse("Crossref work-list without items or total-results")
    total = message["total-results"]
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ServiceError(f"{response.url}: Crossref 'total-results' is {total!r}, not a count")
    cursor = str(message.get("next-cursor", ""))
    return CrossrefPage(response.body, items, total, cursor)


class Crossref:
    """Cursor paging through the works of one DOI prefix."""

    def __init__(self, client: HttpClient, *, base_url: str = DEFAULT_CROSSREF_URL, mailto: str = "") -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.mailto = mailto

    def request_params(
        self, *, from_pub_date: str = "", query: str = "", rows: int = MAX_ROWS
    ) -> dict[str, str]:
        """The parameters that define the search (the cursor and mailto are added per request)."""
        params: dict[str, str] = {"rows": str(rows)}
        if from_pub_date:
            params["filter"] = f"from-pub-date:{from_pub_date}"
        if query:
            params["query.bibliographic"] = query
        return params

    def url(self, prefix: str = NIHR_PREFIX) -> str:
        return f"{self.base_url}/prefixes/{prefix}/works"

    def pages(
        self, *, prefix: str = NIHR_PREFIX, from_pub_date: str = "", query: str = "", rows: int = MAX_ROWS
    ) -> Iterator[CrossrefPage]:
        """Every page of the listing; stops when all ``total-results`` works have been seen."""
        params = self.request_params(from_pub_date=from_pub_date, query=query, rows=rows)
        if self.mailto:
            params["mailto"] = self.mailto
        cursor = "*"
        seen = 0
        while True:
            page = self.client.request(self.url(prefix), {**params, "cursor": cursor}, check=check_crossref)
            yield page
            seen += len(page.items)
            if not page.items or seen >= page.total or len(page.items) < rows or not page.next_cursor:
                return
            cursor = page.next_cursor


def doi_query(dois: Sequence[str]) -> str:
    """PubMed term finding records by DOI (article identifier field)."""
    return " OR ".join(f'"{doi}"[aid]' for doi in dois)


def match_by_doi(
    dois: Sequence[str], pubmed_records: Sequence[Mapping[str, str]]
) -> tuple[dict[str, Mapping[str, str]], dict[str, list[str]]]:
    """PubMed record for each DOI whose record's own DOI is that DOI, exactly once.

    Returns (matched: doi -> record, ambiguous: doi -> PMIDs). A DOI claimed by two or more
    PubMed records is left unmatched (and reported) rather than guessed.
    """
    wanted = {doi.lower() for doi in dois}
    claims: dict[str, list[Mapping[str, str]]] = {}
    for record in pubmed_records:
        doi = record.get("doi", "").lower()
        if doi in wanted:
            claims.setdefault(doi, []).append(record)
    matched = {doi: found[0] for doi, found in claims.items() if len(found) == 1}
    ambiguous = {doi: [r["pmid"] for r in found] for doi, found in claims.items() if len(found) > 1}
    return matched, ambiguous
