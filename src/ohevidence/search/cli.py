"""`ohevidence search ...` subcommands."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from ohevidence.errors import InputError
from ohevidence.schema import SEARCH_ID_PATTERN
from ohevidence.search.eutils import DEFAULT_EUTILS_URL, EUtils, Identity
from ohevidence.search.formats import PARSERS
from ohevidence.search.live import (
    LiveSettings,
    crossref_client,
    load_live_search,
    ncbi_client,
    run_nihr_search,
    run_pubmed_search,
)
from ohevidence.search.nihr import DEFAULT_CROSSREF_URL, Crossref
from ohevidence.search.searches import FileSearch, merge_searches, run_file_search

_EDAT = re.compile(r"^\d{4}(/\d{2}(/\d{2})?)?$")
_PUB_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

log = logging.getLogger("ohevidence.search")


def _file(args: argparse.Namespace) -> int:
    _check_search_id(args.search_id, "--search-id")
    search = FileSearch.from_mapping(vars(args))  # the options carry the search's own names
    row = run_file_search(search, mode=args.mode, out_dir=_check_out(args.out))
    log.info(
        "search %s: %s records from %s (%s; read from %s, SHA-256 %s)",
        row["search_id"],
        row["n_retrieved"],
        row["file"],
        row["mode"],
        Path(row["file"]).resolve(),
        row["sha256"],
    )
    return 0


def _merge(args: argparse.Namespace) -> int:
    records, search_log = merge_searches(args.search_dirs, records_out=args.records_out, log_out=args.log_out)
    for row in search_log.itertuples():
        log.info("%-24s %-10s %-8s %6s records", row.search_id, row.source, row.mode, row.n_retrieved)
    log.info("total: %d records from %d searches -> %s", len(records), len(search_log), args.records_out)
    return 0


def _check_date(value: str, pattern: re.Pattern[str], option: str, form: str) -> str:
    if value and not pattern.fullmatch(value):
        raise InputError("(command line)", f"{option} {value!r} is not a date", column=option, expected=form)
    return value


def _check_search_id(search_id: str, option: str) -> str:
    """A search id is a name (it names folders), never '.', '..' or a path."""
    if not re.fullmatch(SEARCH_ID_PATTERN, search_id):
        raise InputError(
            "(command line)",
            f"search id {search_id!r} is not a name",
            column=option,
            expected="letters, digits, '_', '-' and '.', starting with a letter or digit",
        )
    return search_id


def _check_out(out: str) -> Path:
    """An output folder of its own: not '.', '..' or a path ending in one of them."""
    path = Path(out)
    if path.name in ("", ".", ".."):
        raise InputError(
            "(command line)",
            f"--out {out!r} is not a folder of its own",
            column="--out",
            expected="a folder named after the search, e.g. data/raw/searches/<search_id>",
        )
    return path


def _live_search_id(args: argparse.Namespace) -> str:
    """--search-id, or else the --out folder's name; either way a name."""
    out = _check_out(args.out)
    if args.search_id is None:
        return _check_search_id(out.name, "--out")
    return _check_search_id(args.search_id, "--search-id")


def _identity(args: argparse.Namespace) -> Identity:
    identity = Identity.resolve(email=args.email, tool=args.tool, api_key=args.api_key)
    if not identity.email:
        log.warning("no contact e-mail: NCBI and Crossref ask for one (--email or OHEVIDENCE_EMAIL)")
    log.info(
        "NCBI identity: tool=%s, email=%s, API key %s",
        identity.tool,
        identity.email or "-",
        "set" if identity.api_key else "not set (3 requests/s)",
    )
    return identity


def _live_settings(args: argparse.Namespace) -> LiveSettings:
    return LiveSettings.from_env(args.ratelimit_dir, args.max_attempts)


def _pubmed(args: argparse.Namespace) -> int:
    search_id = _live_search_id(args)
    mindate = _check_date(args.mindate, _EDAT, "--mindate", "YYYY, YYYY/MM or YYYY/MM/DD")
    maxdate = _check_date(args.maxdate, _EDAT, "--maxdate", "YYYY, YYYY/MM or YYYY/MM/DD")
    identity = _identity(args)
    settings = _live_settings(args)
    eutils = EUtils(ncbi_client(identity.api_key, settings), base_url=args.eutils_url, identity=identity)
    row = run_pubmed_search(
        eutils,
        search_id=search_id,
        query=args.query,
        out_dir=args.out,
        mindate=mindate,
        maxdate=maxdate,
        batch_size=args.batch_size,
    )
    log.info("search %s: %s of %s hits retrieved", row["search_id"], row["n_retrieved"], row["n_hits"])
    return 0


def _nihr(args: argparse.Namespace) -> int:
    search_id = _live_search_id(args)
    from_pub_date = _check_date(args.from_pub_date, _PUB_DATE, "--from-pub-date", "YYYY[-MM[-DD]]")
    identity = _identity(args)
    settings = _live_settings(args)
    crossref = Crossref(crossref_client(settings), base_url=args.crossref_url, mailto=identity.email)
    eutils = EUtils(ncbi_client(identity.api_key, settings), base_url=args.eutils_url, identity=identity)
    row = run_nihr_search(
        crossref,
        eutils,
        search_id=search_id,
        out_dir=args.out,
        from_pub_date=from_pub_date,
        query=args.query,
        batch_size=args.batch_size,
    )
    log.info("search %s: %s of %s works retrieved", row["search_id"], row["n_retrieved"], row["n_hits"])
    return 0


def _load(args: argparse.Namespace) -> int:
    row = load_live_search(args.live_dir, _check_out(args.out), query=args.query, source=args.source)
    log.info(
        "search %s: %s records from the live search of %s (%s)",
        row["search_id"],
        row["n_retrieved"],
        row["run_at"],
        args.live_dir,
    )
    return 0


def _live_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output directory (records.csv, search.json, raw/)")
    parser.add_argument("--search-id", default=None, help="id of the search (default: the --out folder name)")
    parser.add_argument("--email", default=None, help="contact e-mail (default: $OHEVIDENCE_EMAIL)")
    parser.add_argument(
        "--api-key", default=None, help="NCBI API key (default: $NCBI_API_KEY; prefer the variable)"
    )
    parser.add_argument("--tool", default="ohevidence", help="tool name sent to NCBI")
    parser.add_argument("--eutils-url", default=DEFAULT_EUTILS_URL, help="E-utilities base URL")
    parser.add_argument("--batch-size", type=int, default=500, help="records per efetch request")
    parser.add_argument(
        "--ratelimit-dir",
        default=None,
        help="folder of the rate-limit state shared by all processes of a run "
        "(default: $OHEVIDENCE_RATELIMIT_DIR or results/.ratelimit)",
    )
    parser.add_argument("--max-attempts", type=int, default=None, help="tries per request (default 8)")


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
    merge.add_argument(
        "search_dirs", nargs="*", help="results/search/<search_id> directories (none: empty outputs)"
    )
    merge.add_argument("--records-out", required=True)
    merge.add_argument("--log-out", required=True)
    merge.set_defaults(func=_merge)

    pubmed = commands.add_parser("pubmed", help="run a PubMed search live (E-utilities), resumably")
    pubmed.add_argument("--query", required=True, help="the PubMed query, sent exactly as given")
    pubmed.add_argument("--mindate", default="", help="earliest Entrez date, YYYY[/MM[/DD]]")
    pubmed.add_argument("--maxdate", default="", help="latest Entrez date, YYYY[/MM[/DD]]")
    _live_options(pubmed)
    pubmed.set_defaults(func=_pubmed)

    nihr = commands.add_parser(
        "nihr", help="list the NIHR Journals Library (Crossref, DOI prefix 10.3310) and enrich from PubMed"
    )
    nihr.add_argument("--from-pub-date", default="", help="earliest publication date, YYYY[-MM[-DD]]")
    nihr.add_argument("--query", default="", help="Crossref query.bibliographic, sent exactly as given")
    nihr.add_argument("--crossref-url", default=DEFAULT_CROSSREF_URL, help="Crossref REST API base URL")
    _live_options(nihr)
    nihr.set_defaults(func=_nihr)

    load = commands.add_parser("load", help="check a finished live search folder and copy it to the results")
    load.add_argument("live_dir", help="data/raw/searches/<search_id>")
    load.add_argument("--out", required=True, help="results/search/<search_id>")
    load.add_argument("--query", default=None, help="the query the config gives (must match the search's)")
    load.add_argument("--source", default=None, help="the source the config gives")
    load.set_defaults(func=_load)
