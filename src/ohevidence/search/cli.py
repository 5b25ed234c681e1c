"""`ohevidence search ...` subcommands."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ohevidence.search.formats import PARSERS
from ohevidence.search.searches import FileSearch, merge_searches, run_file_search

log = logging.getLogger("ohevidence.search")


def _file(args: argparse.Namespace) -> int:
    search = FileSearch.from_mapping(vars(args))  # the options carry the search's own names
    row = run_file_search(search, mode=args.mode, out_dir=args.out)
    log.info(
        "search %s: %s records from %s (%s)", row["search_id"], row["n_retrieved"], row["file"], row["mode"]
    )
    return 0


def _merge(args: argparse.Namespace) -> int:
    records, search_log = merge_searches(args.search_dirs, records_out=args.records_out, log_out=args.log_out)
    for row in search_log.itertuples():
        log.info("%-24s %-10s %-8s %6s records", row.search_id, row.source, row.mode, row.n_retrieved)
    log.info("total: %d records from %d searches -> %s", len(records), len(search_log), args.records_out)
    return 0


def register(stages: Any) -> None:
    """Add `search` and its subcommands to the top-level parser's subparsers."""
    search = stages.add_parser("search", help="parse searches into records and log them (PRISMA-S)")
    commands = search.add_subparsers(dest="search_command", required=True, metavar="SOURCE")

    file_ = commands.add_parser("file", help="parse one exported file (import or snapshot)")
    file_.add_argument("file", help="the exported file")
    file_.add_argument("--search-id", required=True)
    file_.add_argument(
        "--source", required=True, help="database the file came from (pubmed, nihr, embase...)"
    )
    file_.add_argument("--mode", choices=["import", "snapshot"], default="import")
    file_.add_argument("--run-at", required=True, help="when the search ran, ISO 8601 UTC")
    file_.add_argument("--platform", required=True, help="interface searched (e.g. Ovid, hand search)")
    file_.add_argument("--format", default="auto", choices=["auto", *PARSERS])
    file_.add_argument("--query", default="", help="the strategy exactly as run")
    file_.add_argument("--filters", default="")
    file_.add_argument("--n-hits", type=int, default=None, help="hits the database reported")
    file_.add_argument("--out", required=True, help="output directory (records.csv, search.json)")
    file_.set_defaults(func=_file)

    merge = commands.add_parser("merge", help="join all searches into records.csv and search_log.csv")
    merge.add_argument("search_dirs", nargs="+", help="results/search/<search_id> directories")
    merge.add_argument("--records-out", required=True)
    merge.add_argument("--log-out", required=True)
    merge.set_defaults(func=_merge)
