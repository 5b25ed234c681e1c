"""PubMed through NCBI E-utilities: complete, polite and resumable retrieval of a search.

The search (esearch) fixes the set of PMIDs; the records are then fetched (efetch) in
batches of PMIDs sent by POST. PubMed's esearch cannot page past 9,999 hits, so a larger
search is split by Entrez date (``datetype=edat``), bisecting the date range until every
slice holds at most 9,999 hits, and a single day still over the cap is split by PMID range
(``AND a:b[uid]``). The slices' PMIDs are de-duplicated and their union checked against
the count of the whole search: a shortfall is an error, because a review that silently
lost hits cannot say what it screened.

Every finished batch is written to ``raw/`` with a manifest (PMID list, slices, SHA-256 of
each batch), so an interrupted run resumes without re-fetching finished batches. History
server WebEnvs expire and are never written down; batches are addressed by their PMIDs,
which is also what lets a resumed run fetch exactly the hits the search found.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.parsers import expat

from Bio.Entrez import Parser as EntrezParser
from tqdm import tqdm

from ohevidence.atomic import write_bytes_atomic
from ohevidence.errors import OhevidenceError
from ohevidence.redaction import redact, redact_bytes
from ohevidence.search.httpclient import HttpClient, Response, RetryableResponse, ServiceError
from ohevidence.search.pubmed import EntrezXMLError, entrez_read

__all__ = [
    "DEFAULT_EUTILS_URL",
    "ESEARCH_CAP",
    "EUtils",
    "Identity",
    "IncompleteSearchError",
    "PubmedFetch",
    "Slice",
    "fetch_pmids",
    "plan_slices",
]

log = logging.getLogger("ohevidence.search.pubmed")

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
ESEARCH_CAP = 9999  # PubMed esearch returns at most the first 9,999 PMIDs of a search
EARLIEST_EDAT = date(1700, 1, 1)  # before PubMed's oldest records (1781)
MAX_PMID = 99_999_999
POST_OVER = 1800  # characters of query string above which a request goes by POST

_ARTICLE_PMID = re.compile(
    rb"<(PubmedArticle|PubmedBookArticle)>\s*<(?:MedlineCitation|BookDocument)\b[^>]*>\s*<PMID\b[^>]*>\s*(\d+)\s*</PMID>"
)
_ARTICLE_OPEN = re.compile(rb"<(?:PubmedArticle|PubmedBookArticle)>")
_ERROR = re.compile(rb"<ERROR>(.*?)</ERROR>", re.DOTALL)


class IncompleteSearchError(OhevidenceError):
    """Fewer records were retrieved than the source reported: the search is not complete."""


@dataclass(frozen=True)
class Identity:
    """Who is asking: NCBI wants a tool name and a contact e-mail; the key raises the rate."""

    email: str = ""
    tool: str = "ohevidence"
    api_key: str = ""

    @classmethod
    def resolve(cls, *, email: str | None = None, tool: str | None = None, api_key: str | None = None):
        """Options first, then the environment (OHEVIDENCE_EMAIL, NCBI_API_KEY)."""
        return cls(
            email=(email or os.environ.get("OHEVIDENCE_EMAIL", "")).strip(),
            tool=(tool or "ohevidence").strip(),
            api_key=(api_key or os.environ.get("NCBI_API_KEY", "")).strip(),
        )

    def params(self) -> dict[str, str]:
        params = {"tool": self.tool}
        if self.email:
            params["email"] = self.email
        if self.api_key:
            params["api_key"] = self.api_key
        return params


# ---------------------------------------------------------------------------
# Dates and slices
# ---------------------------------------------------------------------------
def parse_edat(value: str, *, end: bool) -> date:
    """YYYY, YYYY/MM or YYYY/MM/DD as the first (or, with ``end``, last) day it covers."""
    parts = [int(p) for p in value.split("/")]
    year = parts[0]
    month = parts[1] if len(parts) > 1 else (12 if end else 1)
    if len(parts) > 2:
        day = parts[2]
    else:
        day = calendar.monthrange(year, month)[1] if end else 1
    return date(year, month, day)


def format_edat(day: date) -> str:
    return day.strftime("%Y/%m/%d")


@dataclass(frozen=True)
class Slice:
    """Part of a search: an Entrez-date range and, for over-full days, a PMID range."""

    mindate: str = ""
    maxdate: str = ""
    uid_from: int = 0
    uid_to: int = 0

    def term(self, query: str) -> str:
        if self.uid_from:
            return f"({query}) AND {self.uid_from}:{self.uid_to}[uid]"
        return query

    def params(self) -> dict[str, str]:
        if not (self.mindate or self.maxdate):
            return {}
        return {"datetype": "edat", "mindate": self.mindate, "maxdate": self.maxdate}

    def describe(self) -> str:
        text = f"edat {self.mindate}-{self.maxdate}" if self.mindate else "all dates"
        return text + (f", PMID {self.uid_from}-{self.uid_to}" if self.uid_from else "")


@dataclass(frozen=True)
class SearchResult:
    count: int
    pmids: tuple[str, ...]
    translation: str = ""
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# Response checks
# ---------------------------------------------------------------------------
def _well_formed(body: bytes) -> str:
    """Root tag of a complete XML document; a cut-off or non-XML body is worth retrying."""
    roots: list[str] = []
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda tag, _attrs: roots.append(tag) if not roots else None
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise RetryableResponse(
            f"body is not complete XML ({expat.errors.messages[exc.code]} at line {exc.lineno}; "
            f"{len(body)} bytes)",
            kind="incomplete or non-XML body",
        ) from None
    if not roots:
        raise RetryableResponse("body holds no XML element", kind="incomplete or non-XML body")
    return roots[0]


def _error_message(response: Response) -> str:
    """The service's own words from an error body (XML <ERROR>, JSON 'error'/'ERROR', text)."""
    body = response.body
    found = [m.decode("utf-8", "replace").strip() for m in _ERROR.findall(body)]
    if found:
        return "; ".join(found)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return " ".join(body[:300].decode("utf-8", "replace").split()) or "(empty body)"
    if isinstance(payload, dict):
        nested = payload.get("esearchresult")
        inner = nested if isinstance(nested, dict) else payload
        for key in ("ERROR", "error", "message"):
            if inner.get(key):
                return str(inner[key])
    return json.dumps(payload)[:300]


def _ncbi_check(response: Response, expected_root: str) -> bytes:
    if response.status != 200:
        raise ServiceError(f"{response.url}: HTTP {response.status}: {_error_message(response)}")
    root = _well_formed(response.body)
    if _ERROR.search(response.body):
        raise ServiceError(f"{response.url}: NCBI error: {_error_message(response)}")
    if root != expected_root:  # an HTML error page from a proxy or an overloaded front end
        raise RetryableResponse(
            f"answer is a <{root}> document, not <{expected_root}>", kind="incomplete or non-XML body"
        )
    return response.body


def check_esearch(response: Response) -> SearchResult:
    body = _ncbi_check(response, "eSearchResult")
    try:
        parsed = entrez_read(body)  # one expat call: linear time whatever the token sizes
    except (EntrezXMLError, EntrezParser.NotXMLError, EntrezParser.ValidationError) as exc:
        raise RetryableResponse(f"esearch XML not readable: {exc}") from None
    count = int(parsed["Count"])
    pmids = tuple(str(i) for i in parsed.get("IdList", []))
    retmax = int(parsed.get("RetMax", len(pmids)))
    if len(pmids) != min(count, retmax):
        raise RetryableResponse(f"esearch listed {len(pmids)} PMIDs for Count {count}, RetMax {retmax}")
    warnings: list[str] = []
    for group in ("ErrorList", "WarningList"):
        for kind, values in (parsed.get(group) or {}).items():
            warnings.extend(f"{kind}: {v}" for v in values)
    return SearchResult(count, pmids, str(parsed.get("QueryTranslation", "")), tuple(warnings))


def efetch_checker(pmids: Sequence[str]) -> Callable[[Response], bytes]:
    """A check that the efetch body is a complete article set holding exactly ``pmids``."""
    wanted = set(pmids)

    def check(response: Response) -> bytes:
        body = _ncbi_check(response, "PubmedArticleSet")
        found = [m.group(2).decode() for m in _ARTICLE_PMID.finditer(body)]
        if len(found) != len(_ARTICLE_OPEN.findall(body)):
            raise RetryableResponse("efetch body has articles without a PMID")
        got = set(found)
        if got != wanted or len(found) != len(wanted):
            missing = sorted(wanted - got, key=int)
            extra = sorted(got - wanted, key=int)
            raise RetryableResponse(
                kind="records missing from efetch",
                reason=f"efetch returned {len(found)} records for {len(wanted)} PMIDs"
                + (f"; missing {', '.join(missing[:10])}" if missing else "")
                + (f"; unrequested {', '.join(extra[:10])}" if extra else ""),
            )
        return body

    return check


# ---------------------------------------------------------------------------
# E-utilities calls
# ---------------------------------------------------------------------------
class EUtils:
    """esearch and efetch against ``base_url`` (NCBI or a mirror/test server)."""

    def __init__(self, client: HttpClient, *, base_url: str = DEFAULT_EUTILS_URL, identity: Identity) -> None:
        self.client = client
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.identity = identity

    def _method(self, params: dict[str, str]) -> str:
        return "POST" if sum(len(k) + len(v) + 2 for k, v in params.items()) > POST_OVER else "GET"

    def esearch(self, query: str, part: Slice = Slice(), *, retmax: int = ESEARCH_CAP) -> SearchResult:
        params = {
            "db": "pubmed",
            "term": part.term(query),
            "retmax": str(retmax),
            "retmode": "xml",
            **part.params(),
            **self.identity.params(),
        }
        return self.client.request(
            self.base_url + "esearch.fcgi", params, check=check_esearch, method=self._method(params)
        )

    def efetch(self, pmids: Sequence[str]) -> bytes:
        """PubMed XML of exactly these records (sent by POST: an ID list is long)."""
        params = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml", **self.identity.params()}
        return self.client.request(
            self.base_url + "efetch.fcgi", params, check=efetch_checker(pmids), method="POST"
        )


# ---------------------------------------------------------------------------
# Splitting a search over the esearch cap
# ---------------------------------------------------------------------------
@dataclass
class SlicePlan:
    count: int
    translation: str
    slices: list[dict[str, Any]] = field(default_factory=list)
    pmids: list[str] = field(default_factory=list)
    requests: int = 0


def plan_slices(
    esearch: Callable[[Slice], SearchResult],
    *,
    mindate: str = "",
    maxdate: str = "",
    today: date | None = None,
    cap: int = ESEARCH_CAP,
) -> SlicePlan:
    """Every PMID of a search, gathered in slices of at most ``cap`` hits.

    ``esearch(slice)`` runs the search restricted to a slice and returns up to ``cap``
    PMIDs with the slice's count. A slice over the cap is halved; when the count of a
    parent and its left half are known, the right half's count is inferred rather than
    asked for, so only slices that end up fetched or split cost a request.
    """
    today = today or datetime.now(UTC).date()
    lo = parse_edat(mindate, end=False) if mindate else None
    hi = parse_edat(maxdate, end=True) if maxdate else None
    whole = Slice(format_edat(lo or EARLIEST_EDAT), format_edat(hi or today)) if (lo or hi) else Slice()
    root = esearch(whole)
    plan = SlicePlan(count=root.count, translation=root.translation, requests=1)
    for warning in root.warnings:
        log.warning("PubMed: %s", warning)
    found: dict[str, None] = {}

    def leaf(part: Slice, result: SearchResult) -> None:
        plan.slices.append({**asdict(part), "count": result.count})
        found.update(dict.fromkeys(result.pmids))

    def probe(part: Slice) -> SearchResult:
        plan.requests += 1
        return esearch(part)

    def resolve(part: Slice, result: SearchResult | None, known: int) -> None:
        """Fetch (result known) or split a slice whose count is ``known``."""
        if result is not None and result.count <= cap:
            leaf(part, result)
            return
        if result is None and known <= cap:
            result = probe(part)
            resolve(part, result, result.count)
            return
        left, right = _halves(part)
        first = probe(left)
        resolve(left, first, first.count)
        resolve(right, None, known - first.count)

    if root.count <= cap:
        leaf(whole, root)
    else:
        start = whole if whole.mindate else Slice(format_edat(EARLIEST_EDAT), format_edat(today))
        resolve(start, None if start != whole else root, root.count)
    plan.pmids = sorted(found, key=int)
    return plan


def _halves(part: Slice) -> tuple[Slice, Slice]:
    if part.uid_from:
        if part.uid_from >= part.uid_to:
            raise IncompleteSearchError(
                f"slice {part.describe()} is still over the esearch cap; cannot split further"
            )
        mid_uid = (part.uid_from + part.uid_to) // 2
        return (
            Slice(part.mindate, part.maxdate, part.uid_from, mid_uid),
            Slice(part.mindate, part.maxdate, mid_uid + 1, part.uid_to),
        )
    lo = parse_edat(part.mindate, end=False)
    hi = parse_edat(part.maxdate, end=True)
    if lo >= hi:  # one day over the cap: split it by PMID range
        return (
            Slice(part.mindate, part.maxdate, 1, MAX_PMID // 2),
            Slice(part.mindate, part.maxdate, MAX_PMID // 2 + 1, MAX_PMID),
        )
    mid = lo + timedelta(days=(hi - lo).days // 2)
    return (
        Slice(format_edat(lo), format_edat(mid)),
        Slice(format_edat(mid + timedelta(days=1)), format_edat(hi)),
    )


# ---------------------------------------------------------------------------
# Batches, cache and resume
# ---------------------------------------------------------------------------
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_json_atomic(path: Path, payload: Any) -> None:
    """A raw folder's manifest (the query translation a server sent back included), redacted."""
    text = redact(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    write_bytes_atomic(path, text.encode("utf-8"))


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class PubmedFetch:
    """What a finished fetch left in ``raw_dir``: the batch files, in PMID order."""

    raw_dir: Path
    files: list[Path]
    fetched: int
    cached: int


def fetch_pmids(
    eutils: EUtils,
    pmids: Sequence[str],
    *,
    raw_dir: Path,
    manifest: dict[str, Any],
    manifest_path: Path,
    batch_size: int,
    prefix: str = "batch",
    progress: bool = True,
) -> PubmedFetch:
    """Fetch ``pmids`` in batches into ``raw_dir``, skipping batches already on disk.

    ``manifest['batches'][prefix]`` records each finished batch (file, PMIDs range, count,
    SHA-256) and is rewritten after every batch, so a killed run loses at most the batch
    that was in flight.
    """
    done: dict[str, dict[str, Any]] = manifest.setdefault("batches", {}).setdefault(prefix, {})
    batches = list(chunks(list(pmids), batch_size))
    files: list[Path] = []
    fetched = cached = 0
    bar = tqdm(total=len(batches), unit="batch", desc=f"efetch {prefix}", disable=None if progress else True)
    try:
        for number, batch in enumerate(batches, start=1):
            name = f"{prefix}_{number:05d}.xml"
            path = raw_dir / name
            key = sha256_bytes(",".join(batch).encode())
            entry = done.get(name)
            if entry and entry["pmids_sha256"] == key and path.exists():
                if sha256_bytes(path.read_bytes()) == entry["sha256"]:
                    files.append(path)
                    cached += 1
                    bar.update()
                    continue
                log.warning("%s changed on disk since it was fetched; fetching it again", path)
            body = redact_bytes(eutils.efetch(batch))  # stored (and hashed) without a key echoed back
            write_bytes_atomic(path, body)
            done[name] = {
                "file": name,
                "n": len(batch),
                "first_pmid": batch[0],
                "last_pmid": batch[-1],
                "pmids_sha256": key,
                "sha256": sha256_bytes(body),
            }
            write_json_atomic(manifest_path, manifest)
            files.append(path)
            fetched += 1
            bar.update()
            if fetched % 20 == 0:
                log.info("efetch %s: %d/%d batches", prefix, number, len(batches))
    finally:
        bar.close()
    return PubmedFetch(raw_dir, files, fetched, cached)
