"""Parse-time benchmark for big Crossref works files (issue 26, item 8).

    .venv/bin/python benchmarks/crossref_parse.py [--works 200000] [--repeat 1]

A generated work-list (invented works shaped like Crossref REST API items: title, authors,
JATS abstract, dates, container title, subjects, trial numbers; nothing is read from data/) is
written to a temporary folder and parsed with ``parse_crossref_json`` three ways:

* ``no shape check``: the work items are not checked (the parser before the per-work checks
  of issue 21 case 8; 9.5 s for 200k works on the reference machine);
* ``jsonschema per work``: every work validated by ``jsonschema`` (the checks as first
  written; 44 s);
* ``current``: the parser as shipped (structure checked by a compiled check of the same
  schema; jsonschema only to word the error of a work that fails it).

Wall-clock and CPU seconds (the process's own: on a shared machine the fairer comparison),
the best of ``--repeat`` runs, variants interleaved. Table on stdout; JSON in
results/benchmarks/crossref_parse.json. The target of issue 26 is ``current`` within 1.5x of
``no shape check``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ohevidence.search import crossref

OUT = Path("results/benchmarks/crossref_parse.json")
ABSTRACT = (
    "<jats:sec><jats:title>Background</jats:title><jats:p>Invented background sentence number {i} "
    "about work absence.</jats:p></jats:sec><jats:sec><jats:title>Methods</jats:title><jats:p>An "
    "invented design with <jats:italic>n</jats:italic> = {i} people.</jats:p></jats:sec>"
)


def work(i: int) -> dict[str, Any]:
    """One invented work with the fields the parser reads."""
    return {
        "DOI": f"10.9999/bench.{i}",
        "title": [f"Invented benchmark report {i} on return to work"],
        "container-title": ["Synthetic Technology Assessment"],
        "abstract": ABSTRACT.format(i=i),
        "author": [
            {"family": f"Family{i % 97}", "given": "Alex B"},
            {"family": "Example", "given": "Kim"},
            {"name": "Synthetic Trial Collaboration"},
        ],
        "published-print": {"date-parts": [[2000 + i % 25, 1 + i % 12]]},
        "issued": {"date-parts": [[2000 + i % 25]]},
        "volume": str(i % 30),
        "issue": "4",
        "page": "1-120",
        "type": "journal-article",
        "language": "en",
        "URL": f"https://doi.org/10.9999/bench.{i}",
        "subject": ["Health Policy", "Occupational Therapy"],
        "clinical-trial-number": [{"clinical-trial-number": f"ISRCTN{i:08d}"}],
    }


def _unchecked(work: object, *, index: int, name: str) -> Mapping[str, Any]:
    return work  # type: ignore[return-value]


def _jsonschema_every_work(work: object, *, index: int, name: str) -> Mapping[str, Any]:
    """The check as first written: jsonschema on every work."""
    if not isinstance(work, Mapping) or not work.get("DOI"):
        raise ValueError(f"item {index} is not a Crossref work")
    error = crossref.jsonschema.exceptions.best_match(crossref._WORK_VALIDATOR.iter_errors(work))
    if error is not None:
        raise ValueError(str(error))
    return work


@contextmanager
def checker(check: Callable[..., Mapping[str, Any]] | None) -> Iterator[None]:
    saved = crossref.check_work
    if check is not None:
        crossref.check_work = check  # type: ignore[assignment]
    try:
        yield
    finally:
        crossref.check_work = saved  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--works", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; the fastest is kept")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    variants: list[tuple[str, Callable[..., Mapping[str, Any]] | None]] = [
        ("no shape check", _unchecked),
        ("jsonschema per work", _jsonschema_every_work),
        ("current", None),
    ]
    best = {label: (float("inf"), float("inf")) for label, _ in variants}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "works.json"
        payload = {
            "status": "ok",
            "message-type": "work-list",
            "message": {"items": [work(i) for i in range(args.works)]},
        }
        path.write_text(json.dumps(payload))
        del payload
        size_mb = path.stat().st_size / 1e6
        for _ in range(args.repeat):  # variants interleaved, so a load change hits each alike
            for label, check in variants:
                with checker(check):
                    wall, cpu = time.perf_counter(), time.process_time()
                    counts[label] = len(crossref.parse_crossref_json(path, search_id="bench"))
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                best[label] = (min(best[label][0], wall), min(best[label][1], cpu))
    base_wall, base_cpu = best[variants[0][0]]
    rows = [
        {
            "variant": label,
            "works": counts[label],
            "file_mb": round(size_mb, 1),
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "cpu_vs_no_check": round(cpu / base_cpu, 2),
            "wall_vs_no_check": round(wall / base_wall, 2),
        }
        for label, (wall, cpu) in best.items()
    ]
    header = ("variant", "works", "file MB", "wall s", "CPU s", "CPU x no check", "wall x no check")
    print(f"{header[0]:<22}" + "".join(f"{h:>16}" for h in header[1:]))
    for row in rows:
        print(f"{row['variant']:<22}" + "".join(f"{v:>16}" for v in list(row.values())[1:]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "load": os.getloadavg(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
