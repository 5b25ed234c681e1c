"""Command-line interface: one subcommand per stage, so every step runs outside Snakemake.

    ohevidence validate [--config config/config.yaml]
    ohevidence search file --search-id ID --source SRC --mode snapshot|import --run-at T FILE --out DIR
    ohevidence search merge --records-out FILE --log-out FILE DIR [DIR ...]

Errors in the user's input print one line naming file, line and column, and exit with 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ohevidence import __version__
from ohevidence.config import DEFAULT_SCHEMA, load_config
from ohevidence.errors import OhevidenceError
from ohevidence.search.searches import FileSearch, load_manifest, merge_searches, run_file_search

log = logging.getLogger("ohevidence")


def _cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.schema)
    searches = (
        load_manifest(config["snapshot"]["manifest"], args.schema) if config["mode"] == "snapshot" else []
    )
    for entry in [*(s.__dict__ for s in searches), *config["imports"]]:
        if not Path(entry["file"]).exists():
            raise OhevidenceError(
                f"{args.config}: search {entry['search_id']!r}: file {entry['file']} not found"
            )
    log.info(
        "%s is valid (mode %s, %d file searches)",
        args.config,
        config["mode"],
        len(searches) + len(config["imports"]),
    )
    return 0


def _cmd_search_file(args: argparse.Namespace) -> int:
    search = FileSearch.from_mapping(vars(args))  # the options carry the search's own names
    row = run_file_search(search, mode=args.mode, out_dir=args.out)
    log.info(
        "search %s: %s records from %s (%s)", row["search_id"], row["n_retrieved"], row["file"], row["mode"]
    )
    return 0


def _cmd_search_merge(args: argparse.Namespace) -> int:
    records, search_log = merge_searches(args.search_dirs, records_out=args.records_out, log_out=args.log_out)
    for row in search_log.itertuples():
        log.info("%-24s %-10s %-8s %6s records", row.search_id, row.source, row.mode, row.n_retrieved)
    log.info("total: %d records from %d searches -> %s", len(records), len(search_log), args.records_out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ohevidence", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"ohevidence {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    stages = parser.add_subparsers(dest="command", required=True, metavar="STAGE")

    validate = stages.add_parser("validate", help="check the review configuration and the files it names")
    validate.add_argument("--config", default="config/config.yaml")
    validate.add_argument("--schema", default=str(DEFAULT_SCHEMA))
    validate.set_defaults(func=_cmd_validate)

    search = stages.add_parser("search", help="parse searches into records and log them (PRISMA-S)")
    search_cmds = search.add_subparsers(dest="search_command", required=True, metavar="SOURCE")

    file_ = search_cmds.add_parser("file", help="parse one exported file (import or snapshot)")
    file_.add_argument("file", help="the exported file")
    file_.add_argument("--search-id", required=True)
    file_.add_argument(
        "--source", required=True, help="database the file came from (pubmed, nihr, embase...)"
    )
    file_.add_argument("--mode", choices=["import", "snapshot"], default="import")
    file_.add_argument("--run-at", required=True, help="when the search ran, ISO 8601 UTC")
    file_.add_argument("--platform", required=True, help="interface searched (e.g. Ovid, hand search)")
    file_.add_argument(
        "--format", default="auto", choices=["auto", "pubmed_xml", "nbib", "crossref_json", "ris", "csv"]
    )
    file_.add_argument("--query", default="", help="the strategy exactly as run")
    file_.add_argument("--filters", default="")
    file_.add_argument("--n-hits", type=int, default=None, help="hits the database reported")
    file_.add_argument("--out", required=True, help="output directory (records.csv, search.json)")
    file_.set_defaults(func=_cmd_search_file)

    merge = search_cmds.add_parser("merge", help="join all searches into records.csv and search_log.csv")
    merge.add_argument("search_dirs", nargs="+", help="results/search/<search_id> directories")
    merge.add_argument("--records-out", required=True)
    merge.add_argument("--log-out", required=True)
    merge.set_defaults(func=_cmd_search_merge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args))
    except OhevidenceError as exc:
        print(f"ohevidence: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
