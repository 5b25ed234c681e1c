"""Live PubMed and NIHR searches against loopback stub servers (never the internet)."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from ohevidence.errors import InputError
from ohevidence.records import make_record
from ohevidence.search.eutils import EUtils, Identity, IncompleteSearchError, Slice, plan_slices
from ohevidence.search.httpclient import HostNotFound, HttpClient, RetryPolicy, ServiceError, redact
from ohevidence.search.live import (
    Listing,
    LiveSearch,
    RawFolder,
    load_live_search,
    run_live_search,
    run_nihr_search,
    run_pubmed_search,
)
from ohevidence.search.nihr import Crossref
from ohevidence.search.ratelimit import RateLimiter
from ohevidence.testing import CrossrefStub, EutilsStub, StubArticle, synthetic_corpus, synthetic_works

QUERY = "return to work"
KEY = "SECRET-API-KEY-123"
FAST = RetryPolicy(attempts=4, initial=0.01, maximum=0.02, jitter=0.01)


class SleepLog:
    """Backoff sleeps, recorded instead of waited."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def eutils_for(stub: EutilsStub, tmp_path: Path, *, api_key: str = "", sleep=None, policy=FAST) -> EUtils:
    # The stub enforces NCBI's 3/s (10/s with a key); tests draw from a fast limiter and
    # switch enforcement off, except where the real rate is the point.
    stub.enforce_rate = False
    limiter = RateLimiter(tmp_path / "ratelimit" / "ncbi", 500.0)
    client = HttpClient(limiter=limiter, policy=policy, secrets=[api_key], sleep=sleep or SleepLog())
    return EUtils(client, base_url=stub.url, identity=Identity(email="reviewer@example.org", api_key=api_key))


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------
# PubMed
# ---------------------------------------------------------------------------
def test_batches_are_posted_and_written_with_search_log(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    corpus = synthetic_corpus(1234)
    with EutilsStub(corpus, query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path, api_key=KEY)
        stub.fail("esearch", "429", on=1, retry_after="0")  # logged URL carries the key: must be redacted
        row = run_pubmed_search(
            eutils, search_id="pm", query=QUERY, out_dir=tmp_path / "pm", batch_size=500, progress=False
        )
        efetches = [r for r in stub.requests if r["endpoint"] == "efetch"]
    assert [len(r["params"]["id"].split(",")) for r in efetches] == [500, 500, 234]
    assert {r["method"] for r in efetches} == {"POST"}
    assert all(r["params"]["tool"] == "ohevidence" and r["params"]["email"] for r in stub.requests)
    records = pd.read_csv(tmp_path / "pm/records.csv", dtype=str, keep_default_na=False)
    assert sorted(records["pmid"].astype(int)) == [a.pmid for a in corpus]
    assert (records["mesh_terms"] == "Return to Work").all()
    logged = json.loads((tmp_path / "pm/search.json").read_text())
    assert logged == row
    assert (row["mode"], row["query"], row["n_hits"], row["n_retrieved"]) == ("live", QUERY, "1234", "1234")
    assert row["file"].endswith("raw/manifest.json")
    assert sorted(p.name for p in (tmp_path / "pm/raw").glob("batch_*.xml")) == [
        "batch_00001.xml",
        "batch_00002.xml",
        "batch_00003.xml",
    ]
    # The API key is sent, but never written or logged.
    assert KEY not in all_text(tmp_path / "pm")
    assert KEY not in caplog.text and "api_key=<redacted>" in caplog.text
    assert "WebEnv" not in (tmp_path / "pm/raw/manifest.json").read_text()


def test_redact_removes_key_from_urls_and_text() -> None:
    url = "https://x/esearch.fcgi?db=pubmed&api_key=abc123&term=x"
    assert redact(url) == "https://x/esearch.fcgi?db=pubmed&api_key=<redacted>&term=x"
    assert redact("body said abc123", ["abc123"]) == "body said <redacted>"
    # URL-encoded as sent: a key with '+' or '/' is repeated back encoded.
    assert redact("echo k%2By%2Fz and k+y/z", ["k+y/z"]) == "echo <redacted> and <redacted>"


def test_redacting_log_filter_scrubs_registered_secrets_and_tracebacks() -> None:
    import io

    from ohevidence.redaction import RedactingFilter, register_secret

    register_secret("registered-SECRET-9")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("ohevidence.test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("service said %s", "registered-SECRET-9 is wrong")
        try:
            raise ServiceError("bad key registered-SECRET-9")
        except ServiceError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert "registered-SECRET-9" not in stream.getvalue()
    assert "service said <redacted> is wrong" in stream.getvalue()
    assert "ServiceError: bad key <redacted>" in stream.getvalue()


def test_25000_hits_are_split_by_entrez_date(tmp_path: Path) -> None:
    corpus = synthetic_corpus(25_000)
    with EutilsStub(corpus, query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path)
        plan = plan_slices(
            lambda part: eutils.esearch(QUERY, part), mindate="2000", maxdate="2024", today=date(2026, 1, 1)
        )
        searches = [r["params"] for r in stub.requests]
    assert plan.count == 25_000
    assert plan.pmids == [str(a.pmid) for a in corpus]  # every hit, once, in PMID order
    assert len(plan.slices) >= 3 and all(s["count"] <= 9999 for s in plan.slices)
    assert sum(s["count"] for s in plan.slices) == 25_000
    assert all(p["datetype"] == "edat" and p["term"] == QUERY for p in searches)
    # Slices tile the date range without overlap: each starts the day after the previous ends.
    bounds = sorted((s["mindate"], s["maxdate"]) for s in plan.slices)
    assert bounds[0][0] == "2000/01/01" and bounds[-1][1] == "2024/12/31"
    assert plan.requests == len(searches) <= len(plan.slices) + 3


def test_a_day_over_the_cap_is_split_by_pmid_range(tmp_path: Path) -> None:
    day = date(2021, 3, 4)
    corpus = [StubArticle(30_000_000 + i, day) for i in range(10_500)] + [
        StubArticle(31_000_000, date(2021, 3, 5))
    ]
    with EutilsStub(corpus, query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path)
        plan = plan_slices(
            lambda part: eutils.esearch(QUERY, part), mindate="2021/03/04", maxdate="2021/03/05"
        )
        terms = [r["params"]["term"] for r in stub.requests]
    assert plan.pmids == [str(a.pmid) for a in corpus]
    assert any(s["uid_from"] for s in plan.slices)
    assert any(t.startswith(f"({QUERY}) AND ") and t.endswith("[uid]") for t in terms)


def test_a_shortfall_against_the_count_is_an_error(tmp_path: Path) -> None:
    # One hit has an Entrez date outside every slice: the union falls short of the count.
    corpus = [*synthetic_corpus(10_500), StubArticle(5, date(1650, 1, 1))]
    with EutilsStub(corpus, query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path)
        with pytest.raises(IncompleteSearchError, match=r"reported 10501 hits .* 10500 distinct PMIDs"):
            run_pubmed_search(eutils, search_id="s", query=QUERY, out_dir=tmp_path / "s", progress=False)
        assert stub.count("efetch") == 0
    assert not (tmp_path / "s/records.csv").exists()


def test_429_and_500_mid_run_are_retried_honouring_retry_after(tmp_path: Path) -> None:
    sleeps = SleepLog()
    with EutilsStub(synthetic_corpus(900), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path, sleep=sleeps)
        stub.fail("efetch", "429", on=2, retry_after="7")
        stub.fail("efetch", "500", on=4)
        row = run_pubmed_search(
            eutils, search_id="r", query=QUERY, out_dir=tmp_path / "r", batch_size=300, progress=False
        )
        assert stub.count("efetch") == 3 + 2
    assert row["n_retrieved"] == "900"
    assert eutils.client.stats.retries == 2
    assert dict(eutils.client.stats.reasons) == {"HTTP 429": 1, "HTTP 500": 1}
    assert 7.0 in sleeps.waits or max(sleeps.waits) >= 7.0  # Retry-After beats the short backoff


def test_dropped_connection_and_cut_off_bodies_are_refetched_not_parsed(tmp_path: Path) -> None:
    with EutilsStub(synthetic_corpus(600), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path)
        stub.fail("efetch", "drop", on=1)  # promises the whole body, sends half, hangs up
        stub.fail("efetch", "truncate", on=3)  # a complete HTTP answer with half an XML body
        stub.fail("efetch", "html", on=4)  # an HTML error page with status 200
        stub.fail("esearch", "truncate", on=1)
        row = run_pubmed_search(
            eutils, search_id="d", query=QUERY, out_dir=tmp_path / "d", batch_size=300, progress=False
        )
    assert row["n_retrieved"] == "600"
    assert eutils.client.stats.reasons == {"dropped connection": 1, "incomplete or non-XML body": 3}
    records = pd.read_csv(tmp_path / "d/records.csv", dtype=str)
    assert records["pmid"].is_unique and len(records) == 600


def test_ncbi_error_payload_is_a_clear_error_not_retried(tmp_path: Path) -> None:
    with EutilsStub(synthetic_corpus(400), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path, api_key=KEY)
        stub.fail("efetch", "error", on=1)
        with pytest.raises(
            ServiceError, match="NCBI error: Cannot retrieve history data: OUT OF RANGE"
        ) as info:
            run_pubmed_search(eutils, search_id="e", query=QUERY, out_dir=tmp_path / "e", progress=False)
        assert stub.count("efetch") == 1
    assert KEY not in str(info.value)


def test_esearch_error_and_json_error_bodies_are_clear(tmp_path: Path) -> None:
    with EutilsStub(synthetic_corpus(10), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path)
        with pytest.raises(ServiceError, match="retstart' cannot be larger than 9998"):
            eutils.esearch(QUERY, retmax=20000)
        stub.fail(
            "esearch",
            "raw",
            on=2,
            status=400,
            body=b'{"error":"API key invalid"}',
            content_type="application/json",
        )
        with pytest.raises(ServiceError, match="HTTP 400: API key invalid"):
            eutils.esearch(QUERY)


def test_retries_run_out_with_a_message_naming_the_last_problem(tmp_path: Path) -> None:
    with EutilsStub(synthetic_corpus(10), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path, api_key=KEY)
        stub.fail("esearch", "500", on=range(1, 10))
        with pytest.raises(ServiceError, match="gave up after 4 attempts; last problem: HTTP 500") as info:
            eutils.esearch(QUERY, Slice())
        assert stub.count("esearch") == 4
    assert KEY not in str(info.value)


# A host under .invalid never resolves (RFC 6761): no network is needed to see a DNS failure.
UNRESOLVABLE = "eutils.ohevidence-test.invalid"


def test_a_host_that_does_not_resolve_stops_at_once_naming_it(tmp_path: Path) -> None:
    sleeps = SleepLog()
    limiter = RateLimiter(tmp_path / "ratelimit" / "ncbi", 500.0)
    client = HttpClient(limiter=limiter, policy=RetryPolicy(attempts=8), secrets=[KEY], sleep=sleeps)
    eutils = EUtils(client, base_url=f"http://{UNRESOLVABLE}/entrez/eutils/", identity=Identity(api_key=KEY))
    with pytest.raises(HostNotFound, match=f"cannot resolve the host '{UNRESOLVABLE}'") as info:
        eutils.esearch(QUERY, Slice())
    # stops at once: one request, no backoff sleep (counted, not timed: issue 26)
    assert sleeps.waits == [] and client.stats.requests == 1
    assert "`mode: snapshot` (the default) and imported files work offline" in str(info.value)
    assert KEY not in str(info.value)


def test_a_refused_connection_is_still_retried(tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:  # a loopback port nobody listens on once closed
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    sleeps = SleepLog()
    client = HttpClient(limiter=RateLimiter(tmp_path / "rl", 500.0), policy=FAST, sleep=sleeps)
    eutils = EUtils(client, base_url=f"http://127.0.0.1:{port}/", identity=Identity())
    with pytest.raises(ServiceError, match="gave up after 4 attempts; last problem: connection error"):
        eutils.esearch(QUERY, Slice())
    assert len(sleeps.waits) == 3


def test_resume_after_an_error_refetches_only_the_failed_batch(tmp_path: Path) -> None:
    with EutilsStub(synthetic_corpus(1000), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path)
        stub.fail("efetch", "error", on=3)
        with pytest.raises(ServiceError):
            run_pubmed_search(eutils, search_id="x", query=QUERY, out_dir=tmp_path / "x", batch_size=200)
        first = len(stub.requests)
        row = run_pubmed_search(eutils, search_id="x", query=QUERY, out_dir=tmp_path / "x", batch_size=200)
        second = stub.requests[first:]
    assert [r["endpoint"] for r in second] == ["efetch"] * 3  # no new search; batches 3, 4, 5
    assert row["n_retrieved"] == "1000"
    manifest = json.loads((tmp_path / "x/raw/manifest.json").read_text())
    assert manifest["complete"] and len(manifest["batches"]["batch"]) == 5


def test_a_killed_run_resumes_refetching_at_most_one_batch(tmp_path: Path) -> None:
    """Kill the CLI mid-fetch (SIGKILL), then resume: finished batches are not fetched again."""
    out = tmp_path / "k"
    with EutilsStub(synthetic_corpus(700), query=QUERY) as stub:
        stub.enforce_rate = False
        env = {**os.environ, "OHEVIDENCE_EMAIL": "reviewer@example.org"}
        env.pop("NCBI_API_KEY", None)
        command = [
            sys.executable,
            "-m",
            "ohevidence",
            "search",
            "pubmed",
            "--query",
            QUERY,
            "--out",
            str(out),
        ]
        command += ["--eutils-url", stub.url, "--batch-size", "100", "--ratelimit-dir", str(tmp_path / "rl")]
        process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.time() + 30
        while len(list((out / "raw").glob("batch_*.xml"))) < 3 and time.time() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        first = stub.pmids_requested()
        assert not (out / "records.csv").exists()
        eutils = eutils_for(stub, tmp_path)
        row = run_pubmed_search(
            eutils, search_id="k", query=QUERY, out_dir=out, batch_size=100, progress=False
        )
        second = stub.pmids_requested()[len(first) :]
    assert row["n_retrieved"] == "700"
    refetched = set(first) & set(second)
    assert len(refetched) <= 100  # at most the one batch in flight when killed
    assert set(first) | set(second) == {a.pmid for a in synthetic_corpus(700)}


# ---------------------------------------------------------------------------
# Rate limiter
# ---------------------------------------------------------------------------
def test_limiter_spaces_slots_by_the_rate(tmp_path: Path) -> None:
    now = [1000.0]
    limiter = RateLimiter(tmp_path / "rl", 10.0, clock=lambda: now[0], sleep=lambda s: None)
    slots = [limiter.reserve() for _ in range(5)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(0.1 <= g < 0.11 for g in gaps)


_WORKER = """
import sys, time
from ohevidence.search.ratelimit import RateLimiter
limiter = RateLimiter(sys.argv[1], 3.0)
print(*(limiter.acquire() or time.time() for _ in range(int(sys.argv[2]))))
"""


def test_limiter_holds_3_per_second_across_two_processes(tmp_path: Path) -> None:
    """Two processes sharing the state file send 3/s together (NCBI's default), not 3/s each."""
    state = tmp_path / "ncbi"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(state), "4"], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    times = sorted(float(t) for p in procs for t in p.communicate(timeout=30)[0].split())
    assert len(times) == 8
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 3 - 0.02
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 3 for t in times)
    # no upper bound on the total: a busy machine starts the two processes late (issue 26)


def test_real_default_rate_against_the_enforcing_stub(tmp_path: Path) -> None:
    """The client's default NCBI rate (3/s, no key) trips no violation at the stub."""
    from ohevidence.search.live import LiveSettings, ncbi_client

    with EutilsStub(synthetic_corpus(5), query=QUERY) as stub:
        client = ncbi_client("", LiveSettings(ratelimit_dir=tmp_path / "rl", policy=FAST))
        eutils = EUtils(client, base_url=stub.url, identity=Identity(email="a@example.org"))
        for _ in range(6):
            eutils.esearch(QUERY, Slice(), retmax=5)
        times = [r["t"] for r in stub.requests]
    assert stub.violations == 0 and client.stats.retries == 0
    assert 5 / 3 <= times[-1] - times[0] < 5 / 3 * 1.15


# ---------------------------------------------------------------------------
# NIHR Journals Library (Crossref + PubMed by DOI)
# ---------------------------------------------------------------------------
def crossref_for(stub: CrossrefStub, tmp_path: Path, sleep=None) -> Crossref:
    stub.enforce_rate = False
    client = HttpClient(
        limiter=RateLimiter(tmp_path / "rl" / "crossref", 500.0), policy=FAST, sleep=sleep or SleepLog()
    )
    return Crossref(client, base_url=stub.url, mailto="reviewer@example.org")


def test_crossref_cursor_paging_lists_every_work_once(tmp_path: Path) -> None:
    with CrossrefStub(synthetic_works(2345)) as stub:
        crossref = crossref_for(stub, tmp_path)
        stub.fail("works", "truncate", on=2)  # cut-off JSON is retried
        pages = list(crossref.pages(from_pub_date="2005-01-01"))
        cursors = [r["params"]["cursor"] for r in stub.requests]
    assert [len(p.items) for p in pages] == [1000, 1000, 345]
    assert cursors[0] == "*" and cursors[1] == cursors[2] != "*" and len(set(cursors)) == 3
    assert all(r["params"]["mailto"] == "reviewer@example.org" for r in stub.requests)
    assert all(r["params"]["filter"] == "from-pub-date:2005-01-01" for r in stub.requests)
    dois = [item["DOI"] for page in pages for item in page.items]
    assert len(set(dois)) == 2345


@pytest.mark.parametrize(
    ("name", "status", "content_type", "message"),
    [
        ("test_funders_fail_limit.0.json", 400, "application/json", "validation-failure: integer-not-valid"),
        (
            "test_cursor_fails_cursor_value.0.json",
            404,
            "application/json",
            "cursor-invalid: Cursor specified",
        ),
        ("test_works_bad_id_warn.0.txt", 404, "text/plain", "HTTP 404: Resource not found."),
    ],
)
def test_crossref_real_error_bodies_are_clear_errors(
    shared_fixtures: Path, tmp_path: Path, name: str, status: int, content_type: str, message: str
) -> None:
    body = (shared_fixtures / "crossref/decoded" / name).read_bytes()
    with CrossrefStub(synthetic_works(3)) as stub:
        crossref = crossref_for(stub, tmp_path)
        stub.fail("works", "raw", status=status, body=body, content_type=content_type)
        with pytest.raises(ServiceError, match=message):
            list(crossref.pages())
        assert stub.count() == 1  # a 4xx is not retried


def test_crossref_live_deep_or_misshapen_bodies_are_clear_errors(tmp_path: Path) -> None:
    """Case 8 (live): absurd nesting and a non-object 'message' are one ServiceError, not a traceback."""
    deep = (
        b'{"status": "ok", "message-type": "work-list", "message": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    )
    listed = json.dumps({"status": "ok", "message-type": "work-list", "message": [1, 2]}).encode()
    for body, message in ((deep, "JSON nested too deeply"), (listed, "'message' is not a JSON object")):
        with CrossrefStub(synthetic_works(3)) as stub:
            crossref = crossref_for(stub, tmp_path)
            stub.fail("works", "raw", status=200, body=body, content_type="application/json")
            with pytest.raises(ServiceError, match=message):
                list(crossref.pages())


def test_crossref_live_work_of_wrong_shape_names_the_saved_page_item_and_doi(tmp_path: Path) -> None:
    """Case 8 (live): the saved page is parsed with the same shape checks as an imported file."""
    works = synthetic_works(4)
    works[2]["author"] = "Smith J"
    with CrossrefStub(works) as crossref_stub, EutilsStub([], query=QUERY) as eutils_stub:
        crossref = crossref_for(crossref_stub, tmp_path)
        eutils = eutils_for(eutils_stub, tmp_path)
        with pytest.raises(
            InputError, match=rf"crossref_00001\.json, column 'author': item 3 \(DOI {works[2]['DOI']}\)"
        ):
            run_nihr_search(crossref, eutils, search_id="nihr", out_dir=tmp_path / "nihr", progress=False)


def test_nihr_search_attaches_a_pmid_only_to_its_own_doi(tmp_path: Path) -> None:
    works = synthetic_works(6)
    dois = [w["DOI"] for w in works]
    articles = [
        StubArticle(20_000_001, date(2010, 1, 1), doi=dois[0]),  # journal article, same DOI
        StubArticle(
            20_000_002, date(2011, 1, 1), doi=dois[1].upper(), book=True
        ),  # Bookshelf, DOI in capitals
        # Found by the DOI search (it cites dois[2]) but is another paper: must not be attached.
        StubArticle(20_000_003, date(2012, 1, 1), doi="10.1000/commentary", other_ids=(dois[2],)),
        # Two records claiming one DOI: ambiguous, neither is attached.
        StubArticle(20_000_004, date(2013, 1, 1), doi=dois[3]),
        StubArticle(20_000_005, date(2013, 1, 2), doi=dois[3]),
    ]
    with CrossrefStub(works) as crossref_stub, EutilsStub(articles, query=QUERY) as eutils_stub:
        crossref = crossref_for(crossref_stub, tmp_path)
        eutils = eutils_for(eutils_stub, tmp_path)
        row = run_nihr_search(crossref, eutils, search_id="nihr", out_dir=tmp_path / "nihr", progress=False)
        doi_terms = [r["params"]["term"] for r in eutils_stub.requests if r["endpoint"] == "esearch"]
    records = pd.read_csv(tmp_path / "nihr/records.csv", dtype=str, keep_default_na=False).set_index("doi")
    assert (row["source"], row["mode"], row["n_hits"], row["n_retrieved"]) == ("nihr", "live", "6", "6")
    assert records.loc[dois[0], "pmid"] == "20000001"
    assert records.loc[dois[0], "mesh_terms"] == "Return to Work"
    assert records.loc[dois[1], "pmid"] == "20000002"
    assert records.loc[dois[2], "pmid"] == ""  # the commentary's PMID is not attached
    assert records.loc[dois[3], "pmid"] == ""  # ambiguous
    assert set(records["pmid"]) - {""} == {"20000001", "20000002"}
    assert all(f'"{doi}"[aid]' in doi_terms[0] for doi in dois)


@dataclass(frozen=True)
class Listing3(Listing):
    ids: list[str]


@dataclass
class ThreeTitles(LiveSearch[Listing3]):
    """A source with no network: lists three ids, fetches one batch file per id, fails once on demand."""

    source: ClassVar[str] = "toy"
    platform: ClassVar[str] = "toy source"
    query: str = "toy query"
    fail_on: str = ""
    searched: int = 0
    fetched: list[str] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        return {"source": "toy", "query": self.query}

    def describe(self) -> str:
        return "toy"

    def filters(self) -> str:
        return "none"

    def clients(self) -> list[HttpClient]:
        return []

    def search(self, raw: RawFolder, search_id: str) -> Listing3:
        if "listing" not in raw.manifest:
            self.searched += 1
            raw.manifest["listing"] = {"run_at": "2025-01-01T00:00:00Z", "ids": ["1", "2", "3"]}
            raw.save()
        return Listing3(raw.manifest["listing"]["run_at"], 3, raw.manifest["listing"]["ids"])

    def retrieve(self, raw: RawFolder, listing: Listing3, search_id: str) -> list[dict[str, str]]:
        done = raw.manifest["batches"].setdefault("toy", {})
        for item in listing.ids:
            if item not in done:
                if item == self.fail_on:
                    self.fail_on = ""
                    raise ServiceError(f"toy batch {item} failed")
                (raw.path / f"toy_{item}.txt").write_text(f"Title {item}")
                done[item] = {"file": f"toy_{item}.txt", "sha256": "-"}
                raw.save()
                self.fetched.append(item)
        return [
            make_record(
                source="toy", search_id=search_id, source_id=i, title=(raw.path / f"toy_{i}.txt").read_text()
            )
            for i in listing.ids
        ]


def test_the_live_search_skeleton_writes_the_folder_and_resumes_any_source(tmp_path: Path) -> None:
    """Issue 23: run_live_search is the one skeleton; a source supplies listing, fetching and parsing."""
    source = ThreeTitles(fail_on="2")
    with pytest.raises(ServiceError, match="toy batch 2"):
        run_live_search(source, search_id="toy", out_dir=tmp_path / "toy", progress=False)
    assert not (tmp_path / "toy/records.csv").exists()
    row = run_live_search(source, search_id="toy", out_dir=tmp_path / "toy", progress=False)
    assert (source.searched, source.fetched) == (1, ["1", "2", "3"])  # listed once, batch 1 kept
    manifest = json.loads((tmp_path / "toy/raw/manifest.json").read_text())
    assert manifest["complete"] and manifest["spec"] == {"source": "toy", "query": "toy query"}
    assert [run["requests"] for run in manifest["runs"]] == [0]
    assert (row["source"], row["platform"], row["filters"], row["mode"]) == (
        "toy",
        "toy source",
        "none",
        "live",
    )
    assert (row["n_hits"], row["n_retrieved"], row["run_at"]) == ("3", "3", "2025-01-01T00:00:00Z")
    assert row["file"] == str(tmp_path / "toy/raw/manifest.json")
    assert json.loads((tmp_path / "toy/search.json").read_text()) == row
    records = pd.read_csv(tmp_path / "toy/records.csv", dtype=str, keep_default_na=False)
    assert list(records["title"]) == ["Title 1", "Title 2", "Title 3"]
    # A finished search asked again starts from nothing: its raw files are removed first.
    again = ThreeTitles()
    run_live_search(again, search_id="toy", out_dir=tmp_path / "toy", progress=False)
    assert (again.searched, again.fetched) == (1, ["1", "2", "3"])


def test_finished_live_search_is_loaded_checked_and_query_guarded(tmp_path: Path) -> None:
    with EutilsStub(synthetic_corpus(50), query=QUERY) as stub:
        run_pubmed_search(
            eutils_for(stub, tmp_path), search_id="pm", query=QUERY, out_dir=tmp_path / "live/pm"
        )
    row = load_live_search(tmp_path / "live/pm", tmp_path / "results/pm", query=QUERY, source="pubmed")
    assert (tmp_path / "results/pm/records.csv").read_text() == (tmp_path / "live/pm/records.csv").read_text()
    assert row["n_retrieved"] == "50"
    from ohevidence.errors import InputError

    with pytest.raises(InputError, match="different query"):
        load_live_search(tmp_path / "live/pm", tmp_path / "results/pm", query="sick leave")
    batch = tmp_path / "live/pm/raw/batch_00001.xml"
    batch.write_bytes(batch.read_bytes().replace(b"Synthetic record", b"Edited record"))
    with pytest.raises(InputError, match="changed since the search ran"):
        load_live_search(tmp_path / "live/pm", tmp_path / "results/pm", query=QUERY)


# ---------------------------------------------------------------------------
# Workflow: a finished search is never re-queried unless asked
# ---------------------------------------------------------------------------
@pytest.mark.workflow
def test_workflow_runs_only_unfinished_live_searches(tmp_path: Path) -> None:
    import shutil

    import yaml

    root = Path(__file__).resolve().parents[1]
    project = tmp_path / "review"
    ignore = shutil.ignore_patterns(".venv", ".git", "results", ".snakemake", "logs", "__pycache__")
    shutil.copytree(root, project, ignore=ignore)
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    pubmed = next(s for s in config["live_searches"] if s["source"] == "pubmed")
    with EutilsStub(synthetic_corpus(20), query=pubmed["query"]) as stub:
        run_pubmed_search(
            eutils_for(stub, tmp_path),
            search_id=pubmed["search_id"],
            query=pubmed["query"],
            out_dir=project / "data/raw/searches" / pubmed["search_id"],
            progress=False,
        )

    def planned(*extra: str) -> str:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        command = [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--quiet",
            "rules",
            "--config",
            "mode=live",
            *extra,
        ]
        result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    jobs = planned()
    assert "search_pubmed" not in jobs  # finished: re-read, not re-run
    assert "search_nihr" in jobs and "search_live" in jobs  # not run yet
    refreshed = planned("refresh_searches=true")
    assert "search_pubmed" in refreshed and "request_search_refresh" in refreshed


# ---------------------------------------------------------------------------
# The API key never reaches a message, a log line or an exception (issue 14, case 4)
# ---------------------------------------------------------------------------
KEY_ECHOES = {
    # A 404 page that repeats the request (some proxies and NCBI's front end do).
    "404 page": (404, "text/html", f"<html><body>Not found: /esearch.fcgi?api_key={KEY}&db=x</body></html>"),
    # An NCBI <ERROR> document quoting the key without 'api_key='.
    "NCBI ERROR": (
        200,
        "text/xml",
        f'<?xml version="1.0" ?>\n<eSearchResult><ERROR>Invalid key {KEY} for this tool</ERROR>'
        "</eSearchResult>",
    ),
    "JSON error": (400, "application/json", json.dumps({"error": f"API key invalid: {KEY}"})),
}


@pytest.mark.parametrize("echo", sorted(KEY_ECHOES))
def test_api_key_in_non_retried_error_bodies_is_redacted(tmp_path: Path, caplog, echo: str) -> None:
    caplog.set_level(logging.DEBUG)
    status, content_type, body = KEY_ECHOES[echo]
    with EutilsStub(synthetic_corpus(10), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path, api_key=KEY)
        # First a retried 503 whose body repeats the key, then the permanent error.
        stub.fail("esearch", "raw", on=1, status=503, body=f"busy {KEY}".encode(), content_type="text/plain")
        stub.fail("esearch", "raw", on=2, status=status, body=body.encode(), content_type=content_type)
        with pytest.raises(ServiceError) as info:
            run_pubmed_search(eutils, search_id="k", query=QUERY, out_dir=tmp_path / "k", progress=False)
        assert stub.count("esearch") == 2
    shown = (
        str(info.value)
        + repr(info.value.args)
        + "".join(str(getattr(info.value, name)) for name in vars(info.value))
    )
    assert KEY not in shown
    assert "<redacted>" in shown
    assert KEY not in caplog.text and "retry 1/3" in caplog.text
    assert KEY not in all_text(tmp_path / "k")


def test_api_key_in_error_bodies_is_redacted_from_the_cli_output(tmp_path: Path) -> None:
    """`ohevidence search pubmed` as the workflow runs it (stderr is logs/search_pubmed/<id>.log)."""
    _, content_type, body = KEY_ECHOES["NCBI ERROR"]
    with EutilsStub(synthetic_corpus(10), query=QUERY) as stub:
        stub.enforce_rate = False
        stub.fail("esearch", "raw", on=1, status=503, body=f"busy {KEY}".encode(), content_type="text/plain")
        stub.fail("esearch", "raw", on=2, status=404, body=body.encode(), content_type=content_type)
        env = {**os.environ, "OHEVIDENCE_EMAIL": "reviewer@example.org", "NCBI_API_KEY": KEY}
        command = [sys.executable, "-m", "ohevidence", "search", "pubmed", "--query", QUERY]
        command += ["--out", str(tmp_path / "c"), "--eutils-url", stub.url, "--max-attempts", "2"]
        command += ["--ratelimit-dir", str(tmp_path / "rl")]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "HTTP 404: Invalid key <redacted> for this tool" in output
    assert "retry 1/1" in output  # the retried 503 was logged, redacted
    assert KEY not in output


def _copy_project(tmp_path: Path) -> Path:
    import shutil

    root = Path(__file__).resolve().parents[1]
    project = tmp_path / "review"
    ignore = shutil.ignore_patterns(".venv", ".git", "results", ".snakemake", "logs", "__pycache__")
    shutil.copytree(root, project, ignore=ignore)
    return project


def _snakemake(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [sys.executable, "-m", "snakemake", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def test_documented_live_searches_command_works_in_a_dry_run(tmp_path: Path) -> None:
    """The README's command for running only the live searches names a real, wildcard-free target."""
    import re
    import shlex

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    documented = re.findall(r"`(snakemake [^`]*--config mode=live[^`]*)`", readme)
    assert documented, "README gives no command for the live searches"
    for command in documented:
        args = shlex.split(command)[1:]
        result = _snakemake(_copy_project(tmp_path / str(len(command))), "--dry-run", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        assert {"search_pubmed", "search_nihr", "search_live"} <= set(result.stdout.split())


@pytest.mark.workflow
def test_deleting_a_search_folder_reruns_the_search(tmp_path: Path) -> None:
    """rm -rf data/raw/searches/<id>: the next run queries again and rebuilds results/search/<id>/."""
    import shutil

    import yaml

    project = _copy_project(tmp_path)
    config_path = project / "config/config.yaml"
    config = yaml.safe_load(config_path.read_text())
    pubmed = next(s for s in config["live_searches"] if s["source"] == "pubmed")
    config.update(mode="live", live_searches=[pubmed])
    with EutilsStub(synthetic_corpus(20), query=pubmed["query"]) as stub:
        config["pubmed"]["eutils_url"] = stub.url
        config_path.write_text(yaml.safe_dump(config))
        first = _snakemake(project, "--cores", "2", "live_searches")
        assert first.returncode == 0, first.stderr[-4000:]
        raw = project / "data/raw/searches" / pubmed["search_id"]
        loaded = project / "results/search" / pubmed["search_id"] / "records.csv"
        assert loaded.read_text() == (raw / "records.csv").read_text()
        queried = stub.count("efetch")
        assert queried > 0

        shutil.rmtree(raw)
        loaded.write_text("stale\n")  # what is left must not survive the rerun
        planned = _snakemake(project, "--dry-run", "--quiet", "rules")  # the default target (make run)
        assert planned.returncode == 0, planned.stdout + planned.stderr
        assert {"search_pubmed", "search_live", "merge_records"} <= set(planned.stdout.split())

        again = _snakemake(project, "--cores", "2", "live_searches")
        assert again.returncode == 0, again.stderr[-4000:]
        assert stub.count("efetch") > queried  # the search really ran again
    assert (raw / "search.json").exists()
    assert loaded.read_text() == (raw / "records.csv").read_text()


class EchoingEutilsStub(EutilsStub):
    """A server that repeats the request's key back in every body (an echo of the query string)."""

    def _answer(self, endpoint: str, params: Mapping[str, str]) -> tuple[int, str, bytes]:
        status, kind, body = super()._answer(endpoint, params)
        key = params["api_key"]
        if endpoint == "efetch" and b"<PubmedArticleSet>" in body:
            echo = f"<!-- request: db=pubmed&api_key={key}&retmode=xml; key {key} -->"
            body = body.replace(b"<PubmedArticleSet>", f"{echo}\n<PubmedArticleSet>".encode(), 1)
        if endpoint == "esearch":
            body = body.replace(b"</QueryTranslation>", f" (api_key={key})</QueryTranslation>".encode(), 1)
        return status, kind, body


def test_a_key_echoed_by_the_server_is_redacted_in_the_stored_raw_responses(tmp_path: Path) -> None:
    """Issue 26: raw/ is meant to be committed; what it stores never holds the key, and it still
    reads back (the hashes are of what was stored)."""
    with EchoingEutilsStub(synthetic_corpus(30), query=QUERY) as stub:
        eutils = eutils_for(stub, tmp_path, api_key=KEY)
        row = run_pubmed_search(
            eutils, search_id="pm", query=QUERY, out_dir=tmp_path / "pm", batch_size=20, progress=False
        )
        assert all(r["params"]["api_key"] == "<key>" for r in stub.requests)  # the key was sent
    raw = tmp_path / "pm/raw"
    batches = sorted(raw.glob("batch_*.xml"))
    assert len(batches) == 2 and row["n_retrieved"] == "30"
    assert KEY not in all_text(tmp_path / "pm")
    first = batches[0].read_text()
    assert "api_key=<redacted>&retmode=xml; key <redacted> -->" in first
    assert "(api_key=<redacted>)" in (raw / "manifest.json").read_text()
    copied = load_live_search(tmp_path / "pm", tmp_path / "results/pm", query=QUERY, source="pubmed")
    assert copied["n_retrieved"] == "30"


def test_redacting_a_stored_body_keeps_every_other_byte() -> None:
    from ohevidence.redaction import redact_bytes

    body = "<a>café \u2013 é</a>".encode() + b"\xff\xfe<b>api_key=abc123</b>"
    assert redact_bytes(body) == "<a>café \u2013 é</a>".encode() + b"\xff\xfe<b>api_key=<redacted></b>"
    assert redact_bytes(b"<x>notapi_key=1 my_api_key=2</x>") == b"<x>notapi_key=1 my_api_key=2</x>"
    assert redact_bytes(b"plain") == b"plain"
