"""Live searches end to end: run, cache, resume, and write the search's folder.

A live search writes ``DIR/records.csv`` (record schema), ``DIR/search.json`` (its
PRISMA-S log row, mode ``live``) and ``DIR/raw/`` (every response as received plus
``manifest.json``, which lists each raw file with its SHA-256). The log row's ``file`` is
the manifest, so its hash pins every raw batch. A later run reads the folder back with
:func:`load_live_search` instead of searching again.

:func:`run_live_search` is that skeleton, once; a source (:class:`PubmedSearch`,
:class:`NihrSearch`) is a :class:`LiveSearch` that supplies only what differs: the spec
that defines it, how it lists its hits, and how it fetches and parses them.
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pandas as pd

from ohevidence.atomic import write_bytes_atomic
from ohevidence.cells import MULTI_SEP, join_multi, split_multi
from ohevidence.errors import InputError
from ohevidence.records import records_frame
from ohevidence.redaction import redact_bytes
from ohevidence.search.crossref import parse_crossref_json
from ohevidence.search.eutils import (
    EUtils,
    IncompleteSearchError,
    PubmedFetch,
    Slice,
    chunks,
    fetch_pmids,
    plan_slices,
    sha256_bytes,
    write_json_atomic,
)
from ohevidence.search.httpclient import HttpClient, RetryPolicy
from ohevidence.search.nihr import NIHR_PREFIX, Crossref, doi_query, match_by_doi
from ohevidence.search.pubmed import parse_pubmed_xml
from ohevidence.search.ratelimit import RateLimiter
from ohevidence.search.searches import log_row, read_search_dir, sha256_of, write_search_result

__all__ = [
    "DEFAULT_RATELIMIT_DIR",
    "Listing",
    "LiveSearch",
    "LiveSettings",
    "NihrSearch",
    "PubmedSearch",
    "RawFolder",
    "crossref_client",
    "load_live_search",
    "ncbi_client",
    "run_live_search",
    "run_nihr_search",
    "run_pubmed_search",
]

log = logging.getLogger("ohevidence.search.live")

DEFAULT_RATELIMIT_DIR = "results/.ratelimit"
MANIFEST = "manifest.json"
DOIS_PER_PUBMED_QUERY = 100
PUBMED_PLATFORM = "PubMed (NCBI E-utilities)"
NIHR_PLATFORM = "Crossref REST API (NIHR Journals Library, DOI prefix 10.3310); PubMed E-utilities by DOI"


@dataclass(frozen=True)
class LiveSettings:
    """How politely and persistently to talk to the services (injectable for tests)."""

    ratelimit_dir: Path = Path(DEFAULT_RATELIMIT_DIR)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 120.0
    ncbi_rate: float | None = None  # None: 3/s, or 10/s with an API key
    crossref_rate: float = 3.0
    progress: bool = True

    @classmethod
    def from_env(cls, ratelimit_dir: str | None = None, max_attempts: int | None = None) -> LiveSettings:
        folder = ratelimit_dir or os.environ.get("OHEVIDENCE_RATELIMIT_DIR") or DEFAULT_RATELIMIT_DIR
        policy = RetryPolicy(attempts=max_attempts) if max_attempts else RetryPolicy()
        return cls(ratelimit_dir=Path(folder), policy=policy)


def ncbi_client(api_key: str, settings: LiveSettings) -> HttpClient:
    """Client for E-utilities; every process of a run shares ``ratelimit_dir/ncbi-eutils``."""
    rate = settings.ncbi_rate or (10.0 if api_key else 3.0)
    limiter = RateLimiter(settings.ratelimit_dir / "ncbi-eutils", rate)
    return HttpClient(limiter=limiter, policy=settings.policy, timeout=settings.timeout, secrets=[api_key])


def crossref_client(settings: LiveSettings) -> HttpClient:
    limiter = RateLimiter(settings.ratelimit_dir / "crossref", settings.crossref_rate)
    return HttpClient(limiter=limiter, policy=settings.policy, timeout=settings.timeout)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# The skeleton every live search shares: folder, manifest, resume, log row
# ---------------------------------------------------------------------------
@dataclass
class RawFolder:
    """``DIR/raw/``: every response as received, and the manifest of what is finished.

    The manifest holds the search's ``spec`` (what was asked), each source's listing
    (written once, so a resumed run never searches again), the finished batches with
    their SHA-256 (rewritten after every batch) and, at the end, ``complete`` and the run's
    request counts.
    """

    path: Path
    manifest: dict[str, Any]
    progress: bool = True

    @classmethod
    def open(cls, path: Path, spec: Mapping[str, Any], *, progress: bool = True) -> RawFolder:
        """The folder of an unfinished run of the same search, or a fresh one.

        A finished search, or one asked differently (query, dates, batch size, server), starts
        again from nothing: its raw files are removed so they cannot mix with the new ones.
        """
        path.mkdir(parents=True, exist_ok=True)
        manifest_path = path / MANIFEST
        if manifest_path.exists():
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                manifest = {}
            if manifest.get("spec") == dict(spec) and not manifest.get("complete"):
                done = sum(len(v) for v in manifest.get("batches", {}).values())
                log.info("resuming the unfinished search in %s (%d batches on disk)", path, done)
                return cls(path, manifest, progress)
            reason = "finished" if manifest.get("complete") else "asked differently"
            log.info("previous search in %s was %s: starting a new search", path, reason)
        for old in path.iterdir():
            if old.is_file() and old.suffix in (".xml", ".json", ".txt", ".part", ".tmp"):
                old.unlink()
        fresh = {"version": 1, "spec": dict(spec), "complete": False, "batches": {}, "runs": []}
        return cls(path, fresh, progress)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def save(self) -> None:
        write_json_atomic(self.manifest_path, self.manifest)

    def fetch_pubmed(
        self, eutils: EUtils, pmids: Sequence[str], *, batch_size: int, prefix: str
    ) -> PubmedFetch:
        """PubMed records of ``pmids`` in batches ``<prefix>_NNNNN.xml``; finished batches are kept."""
        return fetch_pmids(
            eutils,
            pmids,
            raw_dir=self.path,
            manifest=self.manifest,
            manifest_path=self.manifest_path,
            batch_size=batch_size,
            prefix=prefix,
            progress=self.progress,
        )

    def finish(self, clients: Sequence[HttpClient], started: str) -> Path:
        """Mark the search complete, with this run's requests and retries; the manifest's path."""
        totals: dict[str, Any] = {"started": started, "finished": _now(), "requests": 0, "retries": 0}
        for stats in (client.stats.as_dict() for client in clients):
            totals["requests"] += stats["requests"]
            totals["retries"] += stats["retries"]
            for reason, n in stats["retry_reasons"].items():
                totals.setdefault("retry_reasons", {}).setdefault(reason, 0)
                totals["retry_reasons"][reason] += n
        self.manifest.setdefault("runs", []).append(totals)
        self.manifest["complete"] = True
        self.save()
        return self.manifest_path


@dataclass(frozen=True)
class Listing:
    """What the source reported for the search: when it ran and how many hits it counted."""

    run_at: str
    n_hits: int


ListingT = TypeVar("ListingT", bound=Listing)


class LiveSearch(ABC, Generic[ListingT]):
    """A live source: what it is asked, how it lists its hits, how it fetches and parses them.

    :func:`run_live_search` does the rest, the same for every source: the folder, the
    manifest and resume, the search-log row, ``records.csv`` and ``search.json``.
    """

    source: ClassVar[str]
    platform: ClassVar[str]
    query: str

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """Everything that defines the search: a run asked differently starts again."""

    @abstractmethod
    def describe(self) -> str:
        """The search as logged when it starts."""

    @abstractmethod
    def filters(self) -> str:
        """The search-log row's ``filters`` (PRISMA-S: limits applied)."""

    @abstractmethod
    def clients(self) -> Sequence[HttpClient]:
        """The HTTP clients whose requests and retries the manifest records."""

    @abstractmethod
    def search(self, raw: RawFolder, search_id: str) -> ListingT:
        """Count and list the hits, or read the listing an unfinished run left in ``raw``."""

    @abstractmethod
    def retrieve(self, raw: RawFolder, listing: ListingT, search_id: str) -> list[dict[str, str]]:
        """Fetch the listed hits in batches (finished batches are kept) and parse them to records."""


def run_live_search(
    search: LiveSearch[Any], *, search_id: str, out_dir: str | Path, progress: bool = True
) -> dict[str, str]:
    """Run (or resume) a live search into ``out_dir``; return its search-log row."""
    out_dir = Path(out_dir)
    raw = RawFolder.open(out_dir / "raw", search.spec(), progress=progress)
    started = _now()
    log.info("search %s: %s", search_id, search.describe())
    listing = search.search(raw, search_id)
    records = search.retrieve(raw, listing, search_id)
    manifest_file = raw.finish(search.clients(), started)
    row = log_row(
        search_id=search_id,
        source=search.source,
        platform=search.platform,
        query=search.query,
        filters=search.filters(),
        run_at=listing.run_at,
        mode="live",
        n_hits=listing.n_hits,
        n_retrieved=len(records),
        files=[manifest_file],
    )
    write_search_result(records_frame(records), row, out_dir)
    log.info("search %s: %d records -> %s", search_id, len(records), out_dir)
    return row


def _parse_batches(files: Sequence[Path], *, source: str, search_id: str) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    for path in files:
        records.extend(parse_pubmed_xml(path, source=source, search_id=search_id))
    return records


# ---------------------------------------------------------------------------
# PubMed
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PubmedListing(Listing):
    pmids: list[str]


@dataclass(frozen=True)
class PubmedSearch(LiveSearch[PubmedListing]):
    """A PubMed query, split by Entrez date past the esearch cap, fetched by PMID (raw/batch_*.xml)."""

    source: ClassVar[str] = "pubmed"
    platform: ClassVar[str] = PUBMED_PLATFORM

    eutils: EUtils
    query: str
    mindate: str = ""
    maxdate: str = ""
    batch_size: int = 500

    def spec(self) -> dict[str, Any]:
        return {
            "source": "pubmed",
            "query": self.query,
            "mindate": self.mindate,
            "maxdate": self.maxdate,
            "batch_size": self.batch_size,
            "eutils_url": self.eutils.base_url,
        }

    def describe(self) -> str:
        return f"PubMed query: {self.query}"

    def filters(self) -> str:
        if not (self.mindate or self.maxdate):
            return ""
        return f"Entrez date (edat) {self.mindate or 'earliest'} to {self.maxdate or 'date run'}"

    def clients(self) -> Sequence[HttpClient]:
        return [self.eutils.client]

    def search(self, raw: RawFolder, search_id: str) -> PubmedListing:
        """Every PMID of the query (raw/pmids.txt); the list a resumed run fetches."""
        manifest = raw.manifest
        pmids_path = raw.path / "pmids.txt"
        if "search" in manifest:
            listing = pmids_path.read_bytes()
            if sha256_bytes(listing) != manifest["search"]["pmids_sha256"]:
                raise InputError(
                    pmids_path, "PMID list changed since the search ran; delete the folder to search again"
                )
            return PubmedListing(
                manifest["search"]["run_at"], manifest["search"]["count"], listing.decode().split()
            )
        run_at = _now()
        plan = plan_slices(
            lambda part: self.eutils.esearch(self.query, part), mindate=self.mindate, maxdate=self.maxdate
        )
        log.info("PubMed reports %d hits; query translation: %s", plan.count, plan.translation)
        if len(plan.slices) > 1:
            log.info(
                "split into %d slices of <= 9,999 hits (%d esearch requests)", len(plan.slices), plan.requests
            )
            for part in plan.slices:
                bounds = Slice(**{k: part[k] for k in Slice.__dataclass_fields__})
                log.info("  slice %s: %d hits", bounds.describe(), part["count"])
        if len(plan.pmids) < plan.count:
            raise IncompleteSearchError(
                f"PubMed reported {plan.count} hits but the slices hold {len(plan.pmids)} distinct PMIDs "
                f"({plan.count - len(plan.pmids)} missing); the search is incomplete, nothing was fetched"
            )
        if len(plan.pmids) > plan.count:
            log.warning(
                "the slices hold %d PMIDs, %d more than the %d PubMed reported "
                "(records added while searching); all are fetched",
                len(plan.pmids),
                len(plan.pmids) - plan.count,
                plan.count,
            )
        listing = ("\n".join(plan.pmids) + "\n").encode() if plan.pmids else b""
        write_bytes_atomic(pmids_path, listing)
        manifest["search"] = {
            "run_at": run_at,
            "count": plan.count,
            "query_translation": plan.translation,
            "esearch_requests": plan.requests,
            "slices": plan.slices,
            "n_pmids": len(plan.pmids),
            "pmids_sha256": sha256_bytes(listing),
        }
        raw.save()
        return PubmedListing(run_at, plan.count, plan.pmids)

    def retrieve(self, raw: RawFolder, listing: PubmedListing, search_id: str) -> list[dict[str, str]]:
        pmids = listing.pmids
        n_batches = -(-len(pmids) // self.batch_size)
        log.info("fetching %d records in %d batches of up to %d", len(pmids), n_batches, self.batch_size)
        fetch = raw.fetch_pubmed(self.eutils, pmids, batch_size=self.batch_size, prefix="batch")
        records = _parse_batches(fetch.files, source="pubmed", search_id=search_id)
        got = [r["pmid"] for r in records]
        if got != list(pmids):
            raise IncompleteSearchError(
                f"{raw.path}: the batches hold {len(got)} records for {len(pmids)} PMIDs"
            )
        stats = self.eutils.client.stats
        log.info(
            "batches: %d fetched, %d from cache; %d requests, %d retries %s",
            fetch.fetched,
            fetch.cached,
            stats.requests,
            stats.retries,
            dict(stats.reasons) or "",
        )
        return records


def run_pubmed_search(
    eutils: EUtils,
    *,
    search_id: str,
    query: str,
    out_dir: str | Path,
    mindate: str = "",
    maxdate: str = "",
    batch_size: int = 500,
    progress: bool = True,
) -> dict[str, str]:
    """Run (or resume) a PubMed search into ``out_dir``; return its search-log row."""
    search = PubmedSearch(eutils, query, mindate=mindate, maxdate=maxdate, batch_size=batch_size)
    return run_live_search(search, search_id=search_id, out_dir=out_dir, progress=progress)


# ---------------------------------------------------------------------------
# NIHR Journals Library
# ---------------------------------------------------------------------------
def _enrich(work: dict[str, str], pubmed: Mapping[str, str]) -> dict[str, str]:
    """Crossref work plus what PubMed knows of the same DOI (PMID, MeSH, abstract)."""
    merged = dict(work)
    merged["pmid"] = pubmed["pmid"]
    for key in ("abstract", "language", "mesh_terms"):
        if not merged.get(key) and pubmed.get(key):
            merged[key] = pubmed[key]
    for key in ("registry_ids", "keywords"):
        values = split_multi(merged.get(key, "")) + split_multi(pubmed.get(key, ""))
        merged[key] = join_multi(dict.fromkeys(values))
    return merged


@dataclass(frozen=True)
class CrossrefListing(Listing):
    works: dict[str, dict[str, str]]  # DOI -> record, in Crossref's order


@dataclass(frozen=True)
class NihrSearch(LiveSearch[CrossrefListing]):
    """The NIHR Journals Library's works from Crossref (raw/crossref_*.json), enriched from PubMed by DOI
    (raw/pubmed_*.xml)."""

    source: ClassVar[str] = "nihr"
    platform: ClassVar[str] = NIHR_PLATFORM

    crossref: Crossref
    eutils: EUtils
    query: str = ""
    from_pub_date: str = ""
    batch_size: int = 500

    def spec(self) -> dict[str, Any]:
        return {
            "source": "nihr",
            "prefix": NIHR_PREFIX,
            "query": self.query,
            "from_pub_date": self.from_pub_date,
            "batch_size": self.batch_size,
            "crossref_url": self.crossref.base_url,
            "eutils_url": self.eutils.base_url,
        }

    def describe(self) -> str:
        url = self.crossref.url()
        return f"Crossref {url} query.bibliographic={self.query!r} from-pub-date={self.from_pub_date!r}"

    def filters(self) -> str:
        return f"DOI prefix {NIHR_PREFIX}" + (
            f"; from-pub-date:{self.from_pub_date}" if self.from_pub_date else ""
        )

    def clients(self) -> Sequence[HttpClient]:
        return [self.crossref.client, self.eutils.client]

    def search(self, raw: RawFolder, search_id: str) -> CrossrefListing:
        """Every work of the prefix, one DOI each (the pages are read back from ``raw``)."""
        listing = raw.manifest.get("crossref")
        if not listing:
            # Crossref cursors expire after minutes, so an interrupted listing starts again.
            run_at = _now()
            pages = []
            total = 0
            for number, page in enumerate(
                self.crossref.pages(from_pub_date=self.from_pub_date, query=self.query), start=1
            ):
                name = f"crossref_{number:05d}.json"
                body = redact_bytes(page.body)  # stored (and hashed) without a key echoed back
                write_bytes_atomic(raw.path / name, body)
                pages.append({"file": name, "n": len(page.items), "sha256": sha256_bytes(body)})
                total = page.total
                log.info("Crossref page %d: %d works (total %d)", number, len(page.items), total)
            listing = {"run_at": run_at, "total": total, "pages": pages}
            raw.manifest["crossref"] = listing
            raw.save()
        works: list[dict[str, str]] = []
        for page in listing["pages"]:
            path = raw.path / page["file"]
            if sha256_bytes(path.read_bytes()) != page["sha256"]:
                raise InputError(path, "changed since it was downloaded; delete the folder to search again")
            works.extend(parse_crossref_json(path, source="nihr", search_id=search_id))
        unique: dict[str, dict[str, str]] = {}
        for work in works:
            if work["doi"] in unique:
                log.warning("Crossref listed %s twice; kept once", work["doi"])
                continue
            unique[work["doi"]] = work
        if len(unique) < listing["total"]:
            raise IncompleteSearchError(
                f"Crossref reported {listing['total']} works but the pages hold {len(unique)} distinct DOIs"
            )
        return CrossrefListing(listing["run_at"], listing["total"], unique)

    def retrieve(self, raw: RawFolder, listing: CrossrefListing, search_id: str) -> list[dict[str, str]]:
        """The works, each with its PubMed record's PMID, MeSH and abstract where its DOI matches one."""
        unique = listing.works
        dois = list(unique)
        if "pubmed_search" not in raw.manifest:
            found: dict[str, None] = {}
            for chunk in chunks(dois, DOIS_PER_PUBMED_QUERY):
                result = self.eutils.esearch(doi_query(chunk), Slice())
                if result.count > len(result.pmids):
                    raise IncompleteSearchError(
                        f"PubMed DOI lookup returned {result.count} hits, over the esearch cap"
                    )
                found.update(dict.fromkeys(result.pmids))
            raw.manifest["pubmed_search"] = {"pmids": sorted(found, key=int), "dois": len(dois)}
            raw.save()
        pmids = raw.manifest["pubmed_search"]["pmids"]
        fetch = raw.fetch_pubmed(self.eutils, pmids, batch_size=self.batch_size, prefix="pubmed")
        pubmed_records = _parse_batches(fetch.files, source="pubmed", search_id=search_id)
        matched, ambiguous = match_by_doi(dois, pubmed_records)
        for doi, claimants in ambiguous.items():
            log.warning("%s is claimed by PubMed records %s: no PMID attached", doi, ", ".join(claimants))
        stray = [r["pmid"] for r in pubmed_records if r["doi"].lower() not in unique]
        if stray:
            log.info("%d PubMed records found by the DOI search carry another DOI; ignored", len(stray))
        records = [_enrich(work, matched[doi]) if doi in matched else work for doi, work in unique.items()]
        log.info("%d of %d works matched to a PubMed record by DOI", len(matched), len(records))
        return records


def run_nihr_search(
    crossref: Crossref,
    eutils: EUtils,
    *,
    search_id: str,
    out_dir: str | Path,
    from_pub_date: str = "",
    query: str = "",
    batch_size: int = 500,
    progress: bool = True,
) -> dict[str, str]:
    """List the NIHR Journals Library's works from Crossref, enrich them from PubMed by DOI."""
    search = NihrSearch(crossref, eutils, query=query, from_pub_date=from_pub_date, batch_size=batch_size)
    return run_live_search(search, search_id=search_id, out_dir=out_dir, progress=progress)


# ---------------------------------------------------------------------------
# Reading a finished live search back (offline)
# ---------------------------------------------------------------------------
def verify_raw(live_dir: Path, row: Mapping[str, str]) -> None:
    """Every raw file is the one the search wrote (hashes in the log row and the manifest)."""
    log_path = live_dir / "search.json"
    for name, digest in zip(row["file"].split(MULTI_SEP), row["sha256"].split(MULTI_SEP), strict=True):
        path = Path(name)
        if not path.exists():
            path = live_dir / "raw" / Path(name).name
        if not path.exists():
            raise InputError(log_path, f"raw file {name} is missing", column="file")
        if sha256_of(path) != digest:
            raise InputError(path, "changed since the search ran (SHA-256 differs from search.json)")
        if path.name == MANIFEST:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            listed = [*manifest.get("crossref", {}).get("pages", [])]
            listed += [entry for group in manifest.get("batches", {}).values() for entry in group.values()]
            for entry in listed:
                raw = path.parent / entry["file"]
                if not raw.exists() or sha256_bytes(raw.read_bytes()) != entry["sha256"]:
                    raise InputError(raw, "missing or changed since the search ran (see raw/manifest.json)")


def load_live_search(
    live_dir: str | Path, out_dir: str | Path, *, query: str | None = None, source: str | None = None
) -> dict[str, str]:
    """Check a finished live search folder and copy its records and log row to ``out_dir``."""
    live_dir = Path(live_dir)
    records, row = read_search_dir(live_dir)
    log_path = live_dir / "search.json"
    if row["mode"] != "live":
        raise InputError(log_path, f"mode is {row['mode']!r}", column="mode", expected="a live search")
    if source is not None and row["source"] != source:
        raise InputError(log_path, f"source is {row['source']!r}, config says {source!r}", column="source")
    if query is not None and " ".join(row["query"].split()) != " ".join(query.split()):
        raise InputError(
            log_path,
            "this search was run with a different query than config/config.yaml now gives; delete the folder "
            "or set refresh_searches: true to run the new query",
            column="query",
        )
    verify_raw(live_dir, row)
    write_search_result(pd.DataFrame(records), row, out_dir)
    return row
