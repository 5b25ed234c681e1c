"""Live searches end to end: run, cache, resume, and write the search's folder.

A live search writes ``DIR/records.csv`` (record schema), ``DIR/search.json`` (its
PRISMA-S log row, mode ``live``) and ``DIR/raw/`` (every response as received plus
``manifest.json``, which lists each raw file with its SHA-256). The log row's ``file`` is
the manifest, so its hash pins every raw batch. A later run reads the folder back with
:func:`load_live_search` instead of searching again.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence.errors import InputError
from ohevidence.schema import MULTI_SEP, join_multi, records_frame, split_multi
from ohevidence.search.crossref import parse_crossref_json
from ohevidence.search.eutils import (
    EUtils,
    IncompleteSearchError,
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
    "LiveSettings",
    "crossref_client",
    "load_live_search",
    "ncbi_client",
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
# Manifest: what was asked, what came back, what is finished
# ---------------------------------------------------------------------------
def open_manifest(raw_dir: Path, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest of an unfinished run of the same search, or a fresh one.

    A finished search, or one asked differently (query, dates, batch size, server), starts
    again from nothing: its raw files are removed so they cannot mix with the new ones.
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    path = raw_dir / MANIFEST
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            manifest = {}
        if manifest.get("spec") == dict(spec) and not manifest.get("complete"):
            done = sum(len(v) for v in manifest.get("batches", {}).values())
            log.info("resuming the unfinished search in %s (%d batches on disk)", raw_dir, done)
            return manifest
        reason = "finished" if manifest.get("complete") else "asked differently"
        log.info("previous search in %s was %s: starting a new search", raw_dir, reason)
    for old in raw_dir.iterdir():
        if old.is_file() and old.suffix in (".xml", ".json", ".txt", ".part"):
            old.unlink()
    return {"version": 1, "spec": dict(spec), "complete": False, "batches": {}, "runs": []}


def _finish(
    manifest: dict[str, Any], raw_dir: Path, client_stats: Sequence[Mapping[str, Any]], started: str
) -> Path:
    runs = manifest.setdefault("runs", [])
    totals: dict[str, Any] = {"started": started, "finished": _now(), "requests": 0, "retries": 0}
    for stats in client_stats:
        totals["requests"] += stats["requests"]
        totals["retries"] += stats["retries"]
        for reason, n in stats["retry_reasons"].items():
            totals.setdefault("retry_reasons", {}).setdefault(reason, 0)
            totals["retry_reasons"][reason] += n
    runs.append(totals)
    manifest["complete"] = True
    path = raw_dir / MANIFEST
    write_json_atomic(path, manifest)
    return path


def _parse_batches(files: Sequence[Path], *, source: str, search_id: str) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    for path in files:
        records.extend(parse_pubmed_xml(path, source=source, search_id=search_id))
    return records


def _date_filters(mindate: str, maxdate: str) -> str:
    if not (mindate or maxdate):
        return ""
    return f"Entrez date (edat) {mindate or 'earliest'} to {maxdate or 'date run'}"


# ---------------------------------------------------------------------------
# PubMed
# ---------------------------------------------------------------------------
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
    out_dir = Path(out_dir)
    raw_dir = out_dir / "raw"
    spec = {
        "source": "pubmed",
        "query": query,
        "mindate": mindate,
        "maxdate": maxdate,
        "batch_size": batch_size,
        "eutils_url": eutils.base_url,
    }
    manifest = open_manifest(raw_dir, spec)
    manifest_path = raw_dir / MANIFEST
    started = _now()
    pmids_path = raw_dir / "pmids.txt"
    log.info("search %s: PubMed query: %s", search_id, query)
    if "search" not in manifest:
        run_at = _now()
        plan = plan_slices(lambda part: eutils.esearch(query, part), mindate=mindate, maxdate=maxdate)
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
        pmids_path.write_bytes(listing)
        manifest["search"] = {
            "run_at": run_at,
            "count": plan.count,
            "query_translation": plan.translation,
            "esearch_requests": plan.requests,
            "slices": plan.slices,
            "n_pmids": len(plan.pmids),
            "pmids_sha256": sha256_bytes(listing),
        }
        write_json_atomic(manifest_path, manifest)
        pmids = plan.pmids
    else:
        listing = pmids_path.read_bytes()
        if sha256_bytes(listing) != manifest["search"]["pmids_sha256"]:
            raise InputError(
                pmids_path, "PMID list changed since the search ran; delete the folder to search again"
            )
        pmids = listing.decode().split()
    n_batches = -(-len(pmids) // batch_size)
    log.info("fetching %d records in %d batches of up to %d", len(pmids), n_batches, batch_size)
    fetch = fetch_pmids(
        eutils,
        pmids,
        raw_dir=raw_dir,
        manifest=manifest,
        manifest_path=manifest_path,
        batch_size=batch_size,
        progress=progress,
    )
    records = _parse_batches(fetch.files, source="pubmed", search_id=search_id)
    got = [r["pmid"] for r in records]
    if got != list(pmids):
        raise IncompleteSearchError(f"{raw_dir}: the batches hold {len(got)} records for {len(pmids)} PMIDs")
    stats = eutils.client.stats
    log.info(
        "batches: %d fetched, %d from cache; %d requests, %d retries %s",
        fetch.fetched,
        fetch.cached,
        stats.requests,
        stats.retries,
        dict(stats.reasons) or "",
    )
    manifest_file = _finish(manifest, raw_dir, [stats.as_dict()], started)
    row = log_row(
        search_id=search_id,
        source="pubmed",
        platform=PUBMED_PLATFORM,
        query=query,
        filters=_date_filters(mindate, maxdate),
        run_at=manifest["search"]["run_at"],
        mode="live",
        n_hits=manifest["search"]["count"],
        n_retrieved=len(records),
        files=[manifest_file],
    )
    write_search_result(records_frame(records), row, out_dir)
    log.info("search %s: %d records -> %s", search_id, len(records), out_dir)
    return row


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
    out_dir = Path(out_dir)
    raw_dir = out_dir / "raw"
    spec = {
        "source": "nihr",
        "prefix": NIHR_PREFIX,
        "query": query,
        "from_pub_date": from_pub_date,
        "batch_size": batch_size,
        "crossref_url": crossref.base_url,
        "eutils_url": eutils.base_url,
    }
    manifest = open_manifest(raw_dir, spec)
    manifest_path = raw_dir / MANIFEST
    started = _now()
    log.info(
        "search %s: Crossref %s query.bibliographic=%r from-pub-date=%r",
        search_id,
        crossref.url(),
        query,
        from_pub_date,
    )
    listing = manifest.get("crossref")
    if not listing:
        # Crossref cursors expire after minutes, so an interrupted listing starts again.
        run_at = _now()
        pages = []
        total = 0
        for number, page in enumerate(crossref.pages(from_pub_date=from_pub_date, query=query), start=1):
            name = f"crossref_{number:05d}.json"
            (raw_dir / name).write_bytes(page.body)
            pages.append({"file": name, "n": len(page.items), "sha256": sha256_bytes(page.body)})
            total = page.total
            log.info("Crossref page %d: %d works (total %d)", number, len(page.items), total)
        listing = {"run_at": run_at, "total": total, "pages": pages}
        manifest["crossref"] = listing
        write_json_atomic(manifest_path, manifest)
    works: list[dict[str, str]] = []
    for page in listing["pages"]:
        path = raw_dir / page["file"]
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
    dois = list(unique)

    if "pubmed_search" not in manifest:
        found: dict[str, None] = {}
        for chunk in chunks(dois, DOIS_PER_PUBMED_QUERY):
            result = eutils.esearch(doi_query(chunk), Slice())
            if result.count > len(result.pmids):
                raise IncompleteSearchError(
                    f"PubMed DOI lookup returned {result.count} hits, over the esearch cap"
                )
            found.update(dict.fromkeys(result.pmids))
        manifest["pubmed_search"] = {"pmids": sorted(found, key=int), "dois": len(dois)}
        write_json_atomic(manifest_path, manifest)
    pmids = manifest["pubmed_search"]["pmids"]
    fetch = fetch_pmids(
        eutils,
        pmids,
        raw_dir=raw_dir,
        manifest=manifest,
        manifest_path=manifest_path,
        batch_size=batch_size,
        prefix="pubmed",
        progress=progress,
    )
    pubmed_records = _parse_batches(fetch.files, source="pubmed", search_id=search_id)
    matched, ambiguous = match_by_doi(dois, pubmed_records)
    for doi, claimants in ambiguous.items():
        log.warning("%s is claimed by PubMed records %s: no PMID attached", doi, ", ".join(claimants))
    stray = [r["pmid"] for r in pubmed_records if r["doi"].lower() not in unique]
    if stray:
        log.info("%d PubMed records found by the DOI search carry another DOI; ignored", len(stray))
    records = [_enrich(work, matched[doi]) if doi in matched else work for doi, work in unique.items()]
    log.info("%d of %d works matched to a PubMed record by DOI", len(matched), len(records))
    stats = [crossref.client.stats.as_dict(), eutils.client.stats.as_dict()]
    manifest_file = _finish(manifest, raw_dir, stats, started)
    filters = f"DOI prefix {NIHR_PREFIX}" + (f"; from-pub-date:{from_pub_date}" if from_pub_date else "")
    row = log_row(
        search_id=search_id,
        source="nihr",
        platform=NIHR_PLATFORM,
        query=query,
        filters=filters,
        run_at=listing["run_at"],
        mode="live",
        n_hits=listing["total"],
        n_retrieved=len(records),
        files=[manifest_file],
    )
    write_search_result(records_frame(records), row, out_dir)
    log.info("search %s: %d records -> %s", search_id, len(records), out_dir)
    return row


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
