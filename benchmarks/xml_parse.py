"""Parse-time benchmark for big import files (issue 14, case 11).

    .venv/bin/python benchmarks/xml_parse.py [--tokens 1,2,4,20] [--old-max 4] [--records 15000] [--ris 20116]

Generated inputs only (a temporary folder; nothing is read from data/):
* one PubMed record whose attribute value is a single N MB token, parsed by
  ``Entrez.read(BytesIO(data))`` (Biopython's reader: expat fed 2 KB at a time, quadratic
  in the token with expat < 2.6, CVE-2023-52425; only up to ``--old-max`` MB) and by
  ``parse_pubmed_xml`` (one expat call);
* a many-record PubMed XML file (tens of MB) and a RIS file of ``--ris`` records, parsed
  with ``parse_file`` to show ordinary big inputs keep working.
Table on stdout; JSON in results/benchmarks/xml_parse.json.
"""

from __future__ import annotations

import argparse
import json
import pyexpat
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from Bio import Entrez

from ohevidence.search.formats import parse_file
from ohevidence.search.pubmed import _offline_doctype

OUT = Path("results/benchmarks/xml_parse.json")
HEAD = b'<?xml version="1.0"?>\n<PubmedArticleSet>\n'
ARTICLE = (
    b'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">%d</PMID>'
    b'<Article PubModel="Print"><Journal><Title>Synthetic journal</Title></Journal>'
    b"<ArticleTitle%s>Synthetic title %d</ArticleTitle><Abstract><AbstractText>%s</AbstractText>"
    b"</Abstract></Article></MedlineCitation></PubmedArticle>\n"
)
T = TypeVar("T")

FILLER = b"Invented abstract text for a parse-time benchmark. " * 40


def _timed(func: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def token_rows(folder: Path, sizes: list[float], old_max: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for size in sizes:
        token = b' Language="' + b"x" * int(size * 1_000_000) + b'"'
        data = HEAD + ARTICLE % (1, token, 1, b"") + b"</PubmedArticleSet>\n"
        path = folder / f"token_{size:g}mb.xml"
        path.write_bytes(data)
        new, records = _timed(parse_file, path, fmt="pubmed_xml", source="pubmed", search_id="b")
        old = None
        if size <= old_max:
            old, _ = _timed(Entrez.read, BytesIO(_offline_doctype(data)[0]), validate=False)
        rows.append(
            {
                "input": f"1 record, {size:g} MB token",
                "bytes": len(data),
                "records": len(records),
                "entrez_read_s": old,
                "ohevidence_s": new,
            }
        )
    return rows


def bulk_rows(folder: Path, n_xml: int, n_ris: int) -> list[dict[str, object]]:
    xml = folder / "many.xml"
    xml.write_bytes(
        HEAD
        + b"".join(ARTICLE % (10_000_000 + i, b"", i, FILLER) for i in range(n_xml))
        + b"</PubmedArticleSet>\n"
    )
    ris = folder / "many.ris"
    ris.write_text(
        "".join(
            f"TY  - JOUR\nAN  - {i}\nTI  - Synthetic title {i}\nAU  - Example, A\nPY  - 2020\n"
            f"AB  - {FILLER.decode()}\nER  - \n\n"
            for i in range(n_ris)
        ),
        encoding="utf-8",
    )
    rows = []
    for path, fmt in ((xml, "pubmed_xml"), (ris, "ris")):
        seconds, records = _timed(parse_file, path, fmt=fmt, source="x", search_id="b")
        rows.append(
            {
                "input": f"{len(records)} records ({fmt})",
                "bytes": path.stat().st_size,
                "records": len(records),
                "entrez_read_s": None,
                "ohevidence_s": seconds,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", default="1,2,4,20", help="token sizes in MB")
    parser.add_argument("--old-max", type=float, default=4, help="largest token given to Entrez.read")
    parser.add_argument("--records", type=int, default=15000, help="records in the many-record XML")
    parser.add_argument("--ris", type=int, default=20116, help="records in the RIS file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = token_rows(Path(tmp), [float(s) for s in args.tokens.split(",")], args.old_max)
        rows += bulk_rows(Path(tmp), args.records, args.ris)
    print(f"expat {'.'.join(map(str, pyexpat.version_info))}")
    print(f"{'input':32} {'MB':>7} {'Entrez.read s':>14} {'ohevidence s':>13}")
    for row in rows:
        old = "-" if row["entrez_read_s"] is None else f"{row['entrez_read_s']:.2f}"
        print(f"{row['input']:32} {row['bytes'] / 1e6:7.1f} {old:>14} {row['ohevidence_s']:13.2f}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"expat": list(pyexpat.version_info), "rows": rows}, indent=2) + "\n")
    print(f"-> {OUT}")


if __name__ == "__main__":
    main()
