"""Benchmark: fetch a 25,000-hit PubMed search from a loopback stub that enforces NCBI's limits.

Scenario A runs the search end to end with the real default rate (3 requests/s, no API
key) against a stub that answers 429 and counts a violation whenever a fourth request
arrives within one second. Scenario B kills the CLI mid-fetch (SIGKILL) and resumes it,
counting batches fetched twice. Prints a table; JSON to results/benchmarks/fetch.json.

    .venv/bin/python benchmarks/fetch.py [--hits 25000] [--batch-size 500]

Targets (issue 3): every hit retrieved exactly once; requests <= 1.1 x the minimum;
achieved rate >= 90% of the allowed rate with zero violations; a killed run re-fetches at
most one batch.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from ohevidence.search.eutils import ESEARCH_CAP, EUtils, Identity
from ohevidence.search.live import LiveSettings, ncbi_client, run_pubmed_search
from ohevidence.search.ratelimit import NCBI_RATE
from ohevidence.testing import EutilsStub, synthetic_corpus

ROOT = Path(__file__).resolve().parents[1]
QUERY = '"return to work"[tiab] AND randomized controlled trial[pt]'
MINDATE, MAXDATE = "2000/01/01", "2024/12/31"  # the stub's records span these Entrez dates


class RemoteStub:
    """The stub in its own process, so its arrival times are not skewed by the client's work
    (in one process the client's XML parsing holds the GIL and delays the server's clock)."""

    def __init__(self, hits: int) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(child, hits), daemon=True)

    def __enter__(self) -> RemoteStub:
        self._process.start()
        self.url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.is_alive():
            self._conn.send("stop")
            self.requests, self.violations = self._conn.recv()
        self._process.join()

    def snapshot(self) -> tuple[list[dict[str, object]], int]:
        self._conn.send("report")
        return self._conn.recv()

    def count(self, endpoint: str) -> int:
        return sum(1 for r in self.requests if r["endpoint"] == endpoint)

    def pmids_requested(self, requests: list[dict[str, object]] | None = None) -> list[int]:
        out: list[int] = []
        for request in self.requests if requests is None else requests:
            if request["endpoint"] == "efetch":
                out.extend(int(i) for i in request["params"]["id"].split(",") if i)  # type: ignore[index]
        return out


def _serve(conn: object, hits: int) -> None:
    with EutilsStub(synthetic_corpus(hits), query=QUERY) as stub:
        conn.send(stub.url)  # type: ignore[attr-defined]
        while True:
            message = conn.recv()  # type: ignore[attr-defined]
            conn.send((list(stub.requests), stub.violations))  # type: ignore[attr-defined]
            if message == "stop":
                return


def full_fetch(hits: int, batch_size: int, work: Path) -> dict[str, object]:
    corpus = synthetic_corpus(hits)
    with RemoteStub(hits) as stub:
        settings = LiveSettings(ratelimit_dir=work / "ratelimit")
        eutils = EUtils(
            ncbi_client("", settings), base_url=stub.url, identity=Identity(email="bench@example.org")
        )
        started = time.perf_counter()
        row = run_pubmed_search(
            eutils,
            search_id="bench",
            query=QUERY,
            out_dir=work / "bench",
            mindate=MINDATE,
            maxdate=MAXDATE,
            batch_size=batch_size,
            progress=False,
        )
        wall = time.perf_counter() - started
    times = [r["t"] for r in stub.requests]
    fetched = Counter(stub.pmids_requested())
    minimum = math.ceil(hits / ESEARCH_CAP) + math.ceil(hits / batch_size)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    return {
        "hits": hits,
        "batch_size": batch_size,
        "records_retrieved": int(row["n_retrieved"]),
        "distinct_pmids_fetched": len(fetched),
        "pmids_fetched_more_than_once": sum(1 for n in fetched.values() if n > 1),
        "all_hits_exactly_once": set(fetched) == {a.pmid for a in corpus} and max(fetched.values()) == 1,
        "requests": len(stub.requests),
        "esearch_requests": stub.count("esearch"),
        "efetch_requests": stub.count("efetch"),
        "minimum_requests": minimum,
        "requests_over_minimum": round(len(stub.requests) / minimum, 3),
        "allowed_rate_per_s": NCBI_RATE,
        "achieved_rate_per_s": round(achieved, 3),
        "achieved_fraction_of_allowed": round(achieved / NCBI_RATE, 3),
        "rate_violations": stub.violations,
        "retries": eutils.client.stats.retries,
        "wall_time_s": round(wall, 1),
    }


def killed_and_resumed(hits: int, batch_size: int, kill_after: int, work: Path) -> dict[str, object]:
    out = work / "killed"
    with RemoteStub(hits) as stub:
        env = {**os.environ, "OHEVIDENCE_EMAIL": "bench@example.org"}
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
        command += ["--eutils-url", stub.url, "--batch-size", str(batch_size)]
        command += ["--ratelimit-dir", str(work / "ratelimit")]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while len(list((out / "raw").glob("batch_*.xml"))) < kill_after and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = Counter(stub.pmids_requested(stub.snapshot()[0]))
        on_disk = len(list((out / "raw").glob("batch_*.xml")))
        settings = LiveSettings(ratelimit_dir=work / "ratelimit")
        eutils = EUtils(
            ncbi_client("", settings), base_url=stub.url, identity=Identity(email="bench@example.org")
        )
        row = run_pubmed_search(
            eutils, search_id="killed", query=QUERY, out_dir=out, batch_size=batch_size, progress=False
        )
    after = Counter(stub.pmids_requested()) - before
    refetched = sum(1 for pmid in after if pmid in before)
    return {
        "hits": hits,
        "batches": math.ceil(hits / batch_size),
        "batches_on_disk_when_killed": on_disk,
        "resume_esearch_requests": 0 if not after else stub.count("esearch") - 1,
        "batches_refetched": math.ceil(refetched / batch_size),
        "records_retrieved": int(row["n_retrieved"]),
        "rate_violations": stub.violations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=25_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--out", default=str(ROOT / "results/benchmarks/fetch.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full = full_fetch(args.hits, args.batch_size, work)
        killed = killed_and_resumed(5_000, args.batch_size, 4, work)
    rows = [
        ("records retrieved / hits", f"{full['records_retrieved']} / {full['hits']}", "all, once"),
        ("PMIDs fetched more than once", full["pmids_fetched_more_than_once"], "0"),
        (
            "requests made / minimum",
            f"{full['requests']} / {full['minimum_requests']} = {full['requests_over_minimum']}x",
            "<= 1.1x",
        ),
        ("  esearch + efetch", f"{full['esearch_requests']} + {full['efetch_requests']}", ""),
        (
            "achieved / allowed rate",
            f"{full['achieved_rate_per_s']} / {full['allowed_rate_per_s']:.0f} per s "
            f"= {full['achieved_fraction_of_allowed']:.0%}",
            ">= 90%",
        ),
        ("rate-limit violations", full["rate_violations"], "0"),
        ("retries", full["retries"], ""),
        ("wall time", f"{full['wall_time_s']} s", ""),
        (
            "killed run: batches re-fetched",
            f"{killed['batches_refetched']} (killed with {killed['batches_on_disk_when_killed']}"
            f"/{killed['batches']} on disk)",
            "<= 1",
        ),
        ("killed run: violations", killed["rate_violations"], "0"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<36} target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value!s:<36} {target}")
    result = {"full_fetch": full, "killed_and_resumed": killed}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {out}")


if __name__ == "__main__":
    main()
