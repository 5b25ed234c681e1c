"""`ohevidence dedupe`: deduplicate records and link reports of one study."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ohevidence.dedupe import DedupeOutputs, deduplicate, write_outputs
from ohevidence.dedupe.decisions import read_decisions
from ohevidence.schema import RECORD_COLUMNS
from ohevidence.tableio import read_table

log = logging.getLogger("ohevidence.dedupe")


def _dedupe(args: argparse.Namespace) -> int:
    outputs = DedupeOutputs.from_args(args)
    records = read_table(args.records, RECORD_COLUMNS)
    decisions = None
    if args.decisions:
        decisions = read_decisions(args.decisions, records["record_id"])
        log.info("%s: %d decided pairs applied", args.decisions, len(decisions))
    result = deduplicate(records, decisions, max_block=args.max_block, window=args.window)
    paths = write_outputs(result, outputs)
    for name, path in paths.items():
        log.info("%-15s -> %s", name, path)
    return 0


def register(stages: Any) -> None:
    """Add `dedupe` to the top-level parser's subparsers."""
    dedupe = stages.add_parser(
        "dedupe",
        help="merge duplicate records (same bibliographic item) and link reports of one study",
        description="Writes clusters, unique records, uncertain pairs and study links: each to the file "
        "its --*-out option names, or under its usual name in --out DIR.",
    )
    dedupe.add_argument("--records", required=True, type=Path, help="records.csv of the search stage")
    DedupeOutputs.add_arguments(dedupe, "results/dedup")
    dedupe.add_argument(
        "--decisions",
        type=Path,
        default=None,
        help="reviewers' decisions on pairs (data/curated/dedup_decisions.csv); read, never written",
    )
    dedupe.add_argument(
        "--max-block", type=int, default=50, help="larger blocks are compared by sorted neighbourhood"
    )
    dedupe.add_argument("--window", type=int, default=8, help="neighbours compared within a large block")
    dedupe.set_defaults(func=_dedupe)
