"""Test servers: loopback stand-ins for E-utilities and Crossref. Not pipeline code.

Nothing under ``ohevidence``'s stages or CLI imports this module (a test checks it): it exists
for the test suite (tests/test_live_search.py) and the fetch benchmark (benchmarks/fetch.py),
which both need the same servers, and it talks to 127.0.0.1 only, never the internet.

The stubs hold a synthetic corpus (PMIDs, Entrez dates, DOIs, titles "Synthetic record
N"), answer the requests the live clients send, enforce the services' limits (PubMed's
9,999 esearch cap, NCBI's requests per second, Crossref's rows and cursors) and count
violations. Faults can be queued to hit a given request: HTTP 429/500, a connection
dropped mid-body, a truncated body, an HTML page, an NCBI ``<ERROR>`` document, or any
recorded body.

    with EutilsStub(corpus) as stub:
        stub.fail("efetch", "429", on=3)      # the 3rd efetch request gets a 429
        client = EUtils(..., base_url=stub.url)
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from ohevidence.search.eutils import parse_edat

__all__ = ["CrossrefStub", "EutilsStub", "Fault", "StubArticle", "synthetic_corpus", "synthetic_works"]

NCBI_429_BODY = b'{"error":"API rate limit exceeded","count":"4","limit":"3"}'  # NCBI's shape (see fixtures)
ESEARCH_DOCTYPE = (
    '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">'
)


@dataclass(frozen=True)
class StubArticle:
    pmid: int
    edat: date
    doi: str = ""
    book: bool = False
    other_ids: tuple[str, ...] = ()  # further identifiers a search by [aid] also finds it by


@dataclass
class Fault:
    """What to do instead of answering normally."""

    kind: str  # 429 | 500 | drop | truncate | html | error | raw
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    retry_after: str | None = None


def synthetic_corpus(
    n: int, *, start: date = date(2000, 1, 1), days: int = 365 * 25, first_pmid: int = 10_000_001
) -> list[StubArticle]:
    """``n`` articles with PMIDs rising with their Entrez dates, spread evenly over ``days``."""
    return [
        StubArticle(first_pmid + i * 3, start + timedelta(days=(i * days) // max(n, 1))) for i in range(n)
    ]


def synthetic_works(n: int, *, prefix: str = "10.3310") -> list[dict[str, Any]]:
    """``n`` Crossref works (DOIs ``10.3310/synth0001``...), published 2005 onwards."""
    return [
        {
            "DOI": f"{prefix}/synth{i:04d}",
            "title": [f"Synthetic NIHR report {i}"],
            "type": "journal-article",
            "container-title": ["Health Technology Assessment"],
            "published": {"date-parts": [[2005 + i % 20, 1 + i % 12, 1]]},
            "author": [{"family": "Example", "given": "A"}],
        }
        for i in range(1, n + 1)
    ]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Stub:
    """Shared machinery: a threaded loopback server, request log, queued faults, rate check."""

    limit_per_second: float = 3.0

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.violations = 0
        self._window: deque[float] = deque()
        self._faults: dict[str, dict[int, Fault]] = defaultdict(dict)
        self._counts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.enforce_rate = True
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                stub._handle(self, "GET")

            def do_POST(self) -> None:
                stub._handle(self, "POST")

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"  # the address bound in __init__

    def __enter__(self) -> _Stub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, endpoint: str, kind: str, *, on: int | Iterable[int] = 1, **options: Any) -> None:
        """Make the ``on``-th request(s) to ``endpoint`` (1-based, counted per endpoint) fail."""
        for number in [on] if isinstance(on, int) else on:
            self._faults[endpoint][number] = Fault(kind, **options)

    def count(self, endpoint: str | None = None) -> int:
        return sum(1 for r in self.requests if endpoint is None or r["endpoint"] == endpoint)

    # -- request handling ---------------------------------------------------
    def _limit_for(self, params: Mapping[str, str]) -> float:
        return self.limit_per_second

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        now = time.time()
        parsed = urllib.parse.urlsplit(handler.path)
        query = parsed.query
        if method == "POST":
            length = int(handler.headers.get("Content-Length", 0))
            query = handler.rfile.read(length).decode("ascii")
        params = {k: v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)}
        endpoint = self._endpoint(parsed.path)
        with self._lock:
            self._counts[endpoint] += 1
            number = self._counts[endpoint]
            limit = self._limit_for(params)
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            over = len(self._window) >= limit
            self._window.append(now)
            if over:
                self.violations += 1
            shown = {k: ("<key>" if k == "api_key" else v) for k, v in params.items()}
            self.requests.append(
                {"t": now, "endpoint": endpoint, "method": method, "params": shown, "violation": over}
            )
            fault = self._faults[endpoint].pop(number, None)
        if over and self.enforce_rate:
            fault = Fault("429")
        if fault is not None:
            self._fault(handler, fault, endpoint, params)
            return
        status, content_type, body = self._answer(endpoint, params)
        self._send(handler, status, content_type, body)

    def _endpoint(self, path: str) -> str:
        raise NotImplementedError

    def _answer(self, endpoint: str, params: Mapping[str, str]) -> tuple[int, str, bytes]:
        raise NotImplementedError

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        content_type: str,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()

    def _fault(
        self, handler: BaseHTTPRequestHandler, fault: Fault, endpoint: str, params: Mapping[str, str]
    ) -> None:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        if fault.kind == "429":
            self._send(handler, 429, "application/json", NCBI_429_BODY, headers=headers)
        elif fault.kind == "500":
            self._send(handler, 500, "text/html", b"<html><body>Internal Server Error</body></html>")
        elif fault.kind == "html":
            self._send(handler, 200, "text/html", b"<html><body>Service unavailable</body></html>")
        elif fault.kind in ("drop", "truncate"):
            status, content_type, body = self._answer(endpoint, params)
            cut = body[: len(body) // 2]
            if fault.kind == "drop":  # promise the whole body, send half, hang up
                self._send(handler, status, content_type, cut, length=len(body))
                handler.close_connection = True
            else:  # a complete HTTP response whose body is cut off (a broken proxy)
                self._send(handler, status, content_type, cut)
        elif fault.kind == "error":
            body = fault.body or (
                b'<?xml version="1.0" encoding="UTF-8" ?>\n<eFetchResult>\n\t<ERROR>Cannot retrieve history '
                b"data: OUT OF RANGE.</ERROR>\n</eFetchResult>\n"
            )
            self._send(handler, fault.status, "text/xml; charset=UTF-8", body)
        elif fault.kind == "raw":
            self._send(handler, fault.status, fault.content_type, fault.body, headers=headers)
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")


class EutilsStub(_Stub):
    """E-utilities esearch/efetch over a synthetic PubMed; ``url`` is the eutils base URL.

    The configured ``query`` matches the whole corpus; ``(query) AND a:b[uid]`` a PMID range;
    ``"doi"[aid] OR ...`` the articles with those DOIs. Date limits use the Entrez date.
    """

    def __init__(self, articles: Sequence[StubArticle], *, query: str = "return to work") -> None:
        super().__init__()
        self.articles = sorted(articles, key=lambda a: a.pmid)
        self.by_pmid = {a.pmid: a for a in self.articles}
        self.query = query

    @property
    def url(self) -> str:
        return self.base + "/entrez/eutils/"

    def _limit_for(self, params: Mapping[str, str]) -> float:
        return 10.0 if params.get("api_key") else 3.0

    def _endpoint(self, path: str) -> str:
        return path.rsplit("/", 1)[-1].removesuffix(".fcgi")

    def _answer(self, endpoint: str, params: Mapping[str, str]) -> tuple[int, str, bytes]:
        if endpoint == "esearch":
            return self._esearch(params)
        if endpoint == "efetch":
            return self._efetch(params)
        return 404, "text/plain", b"Resource not found."

    def _matches(self, term: str) -> list[StubArticle] | None:
        dois = re.findall(r'"([^"]+)"\[aid\]', term)
        if dois:
            wanted = {d.lower() for d in dois}
            return [a for a in self.articles if {a.doi.lower(), *(i.lower() for i in a.other_ids)} & wanted]
        uid = re.fullmatch(r"\((.*)\) AND (\d+):(\d+)\[uid\]", term, re.DOTALL)
        base = uid.group(1) if uid else term
        if base != self.query:
            return None
        if uid:
            lo, hi = int(uid.group(2)), int(uid.group(3))
            return [a for a in self.articles if lo <= a.pmid <= hi]
        return list(self.articles)

    def _esearch(self, params: Mapping[str, str]) -> tuple[int, str, bytes]:
        term = params.get("term", "")
        found = self._matches(term)
        if found is None:
            body = (
                f'<?xml version="1.0" encoding="UTF-8" ?>\n{ESEARCH_DOCTYPE}\n<eSearchResult><Count>0</Count>'
                f"<RetMax>0</RetMax><RetStart>0</RetStart><IdList/><TranslationSet/>"
                f"<QueryTranslation>{escape(term)}</QueryTranslation><ErrorList><PhraseNotFound>"
                f"{escape(term)}</PhraseNotFound></ErrorList></eSearchResult>"
            )
            return 200, "text/xml; charset=UTF-8", body.encode()
        if params.get("datetype") == "edat":
            lo = _stub_date(params["mindate"], end=False)
            hi = _stub_date(params["maxdate"], end=True)
            found = [a for a in found if lo <= a.edat <= hi]
        retmax = int(params.get("retmax", 20))
        retstart = int(params.get("retstart", 0))
        if retstart > 9998 or retmax > 10000:
            body = (
                f'<?xml version="1.0" encoding="UTF-8" ?>\n{ESEARCH_DOCTYPE}\n<eSearchResult><ERROR>Search '
                "Backend failed: Exception: 'retstart' cannot be larger than 9998. For PubMed, ESearch can "
                "only retrieve the first 9,999 records matching the query.</ERROR></eSearchResult>"
            )
            return 200, "text/xml; charset=UTF-8", body.encode()
        # PubMed lists the most recent first; esearch never returns past the 9,999th.
        ordered = sorted(found, key=lambda a: (a.edat, a.pmid), reverse=True)
        shown = ordered[retstart : min(retstart + retmax, 9999)]
        ids = "".join(f"<Id>{a.pmid}</Id>" for a in shown)
        body = (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n{ESEARCH_DOCTYPE}\n<eSearchResult><Count>{len(found)}'
            f"</Count><RetMax>{len(shown)}</RetMax><RetStart>{retstart}</RetStart><IdList>{ids}</IdList>"
            f"<TranslationSet/><QueryTranslation>{escape(term)}</QueryTranslation></eSearchResult>"
        )
        return 200, "text/xml; charset=UTF-8", body.encode()

    def _efetch(self, params: Mapping[str, str]) -> tuple[int, str, bytes]:
        ids = [int(i) for i in params.get("id", "").split(",") if i.strip()]
        parts = ['<?xml version="1.0" encoding="UTF-8" ?>\n<PubmedArticleSet>']
        for pmid in ids:
            article = self.by_pmid.get(pmid)
            if article is None:
                continue
            parts.append(_article_xml(article))
        parts.append("</PubmedArticleSet>\n")
        return 200, "text/xml; charset=UTF-8", "\n".join(parts).encode()

    def pmids_requested(self) -> list[int]:
        """Every PMID asked for in efetch requests, repeats included."""
        out: list[int] = []
        for request in self.requests:
            if request["endpoint"] == "efetch":
                out.extend(int(i) for i in request["params"].get("id", "").split(",") if i)
        return out


def _stub_date(value: str, *, end: bool) -> date:
    return parse_edat(value, end=end)


def _article_xml(article: StubArticle) -> str:
    doi = escape(article.doi)
    ids = f'<ArticleId IdType="pubmed">{article.pmid}</ArticleId>'
    if doi:
        ids += f'<ArticleId IdType="doi">{doi}</ArticleId>'
    title = f"Synthetic record {article.pmid}"
    if article.book:
        return (
            f'<PubmedBookArticle><BookDocument><PMID Version="1">{article.pmid}</PMID>'
            f"<ArticleIdList>{ids}</ArticleIdList><Book><Publisher><PublisherName>NIHR Journals Library"
            f"</PublisherName></Publisher><BookTitle>{title}</BookTitle><PubDate><Year>{article.edat.year}"
            f"</Year></PubDate></Book><Language>eng</Language></BookDocument><PubmedBookData><History>"
            f'<PubMedPubDate PubStatus="entrez"><Year>{article.edat.year}</Year><Month>{article.edat.month}'
            f"</Month><Day>{article.edat.day}</Day></PubMedPubDate></History><PublicationStatus>ppublish"
            f"</PublicationStatus><ArticleIdList>{ids}</ArticleIdList></PubmedBookData></PubmedBookArticle>"
        )
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{article.pmid}</PMID>'
        f'<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Print"><PubDate><Year>'
        f"{article.edat.year}</Year></PubDate></JournalIssue><Title>Synthetic Journal</Title></Journal>"
        f"<ArticleTitle>{title}</ArticleTitle><Language>eng</Language><PublicationTypeList>"
        f'<PublicationType UI="D016449">Randomized Controlled Trial</PublicationType></PublicationTypeList>'
        f"</Article><MedlineJournalInfo><MedlineTA>Synth J</MedlineTA></MedlineJournalInfo>"
        f'<MeshHeadingList><MeshHeading><DescriptorName UI="D000072138" MajorTopicYN="N">Return to Work'
        f"</DescriptorName></MeshHeading></MeshHeadingList></MedlineCitation><PubmedData><PublicationStatus>"
        f"ppublish</PublicationStatus><ArticleIdList>{ids}</ArticleIdList></PubmedData></PubmedArticle>"
    )


class CrossrefStub(_Stub):
    """Crossref ``/prefixes/{prefix}/works`` with cursor paging, filters and real error shapes."""

    def __init__(self, works: Sequence[Mapping[str, Any]], *, limit_per_second: float = 3.0) -> None:
        super().__init__()
        self.works = list(works)
        self.limit_per_second = limit_per_second

    @property
    def url(self) -> str:
        return self.base

    def _endpoint(self, path: str) -> str:
        return "works" if re.fullmatch(r"/prefixes/[^/]+/works", path) else path

    def _answer(self, endpoint: str, params: Mapping[str, str]) -> tuple[int, str, bytes]:
        if endpoint != "works":
            return 404, "text/plain", b"Resource not found."
        rows_text = params.get("rows", "20")
        if not rows_text.isdigit() or not 0 < int(rows_text) <= 1000:
            return _crossref_failure(
                400,
                "validation-failure",
                "integer-not-valid",
                rows_text,
                f"Integer specified as {rows_text} but must be a positive integer less than or equal "
                "to 1000. ",
            )
        rows = int(rows_text)
        works = self.works
        for clause in filter(None, params.get("filter", "").split(",")):
            name, _, value = clause.partition(":")
            if name == "from-pub-date":
                floor = tuple(int(p) for p in value.split("-"))
                works = [w for w in works if tuple(w["published"]["date-parts"][0]) >= floor]
        words = params.get("query.bibliographic", "").lower().split()
        if words:
            works = [w for w in works if all(word in w["title"][0].lower() for word in words)]
        cursor = params.get("cursor")
        offset = 0
        if cursor and cursor != "*":
            try:
                offset = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("off:"))
            except ValueError:
                return _crossref_failure(
                    404, "resource-failure", "cursor-invalid", cursor, "Cursor specified but it is invalid"
                )
        page = works[offset : offset + rows]
        message: dict[str, Any] = {
            "facets": {},
            "total-results": len(works),
            "items": page,
            "items-per-page": rows,
            "query": {"start-index": 0, "search-terms": None},
        }
        if cursor:
            message["next-cursor"] = base64.urlsafe_b64encode(f"off:{offset + len(page)}".encode()).decode()
        body = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0", "message": message}
        return 200, "application/json", json.dumps(body).encode()


def _crossref_failure(status: int, kind: str, error: str, value: str, text: str) -> tuple[int, str, bytes]:
    detail = {"type": error, "value": value, "message": text}
    body = {"status": "failed", "message-type": kind, "message": [detail]}
    return status, "application/json;charset=utf-8", json.dumps(body).encode()
