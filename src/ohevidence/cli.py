"""Command-line interface: one subcommand per stage, so every step runs outside Snakemake.

    ohevidence init DIR [--title TITLE]
    ohevidence validate [--config config/config.yaml] [--curated data/curated] [--report FILE]
    ohevidence unlock-stale [--directory .]
    ohevidence search file FILE --search-id ID --source SRC --platform P --run-at T --out DIR
    ohevidence search merge DIR [DIR ...] --records-out FILE --log-out FILE

Each stage's module registers its own subcommands (``register(stages)``); add a stage by
adding its name and module to ``STAGE_MODULES``. Errors in the user's input print one line naming
file, line and column, and exit with status 2; a file that cannot be written (full disk, no
permission) prints one line naming it and exits with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ohevidence import __version__
from ohevidence.appraisal import AMSTAR2_FILE, ROB2_FILE, ROBINS_I_FILE
from ohevidence.atomic import WriteError, describe_os_error, write_text_atomic
from ohevidence.config import (
    DEFAULT_SCHEMA,
    check_configured_decision_paths,
    check_snapshot_search_ids,
    load_config,
)
from ohevidence.curated import errors, validate_curated
from ohevidence.errors import OhevidenceError
from ohevidence.redaction import install_log_filter, redact
from ohevidence.search.searches import load_manifest

log = logging.getLogger("ohevidence")

# Modules with a `register(stages)` function adding their stage's subcommands.
STAGE_MODULES: dict[str, str] = {
    "search": "ohevidence.search.cli",
    "dedupe": "ohevidence.dedupe.cli",
    "screen": "ohevidence.screen.cli",
    "extract": "ohevidence.extract.cli",
    "meta": "ohevidence.meta.cli",
    "report": "ohevidence.report.cli",
    "reviews": "ohevidence.reviews.cli",
}
# Commands defined here, not by a stage module.
OWN_COMMANDS = ("init", "validate", "unlock-stale")


def _cmd_validate(args: argparse.Namespace) -> int:
    if args.curated_only:
        # the workflow has validated its merged config already: the job checks the tables it is given
        return _validate_curated(
            args, {ROB2_FILE: args.rob, ROBINS_I_FILE: args.robins_i, AMSTAR2_FILE: args.amstar2}
        )
    config = load_config(args.config, args.schema)
    searches = (
        load_manifest(config["snapshot"]["manifest"], args.schema) if config["mode"] == "snapshot" else []
    )
    check_snapshot_search_ids(
        config, [s.search_id for s in searches], config["snapshot"]["manifest"], args.config
    )
    for entry in [*(s.__dict__ for s in searches), *config["imports"]]:
        if not Path(entry["file"]).exists():
            raise OhevidenceError(
                f"{args.config}: search {entry['search_id']!r}: file {entry['file']} not found"
            )
    check_configured_decision_paths(config, args.config)
    log.info(
        "%s is valid (mode %s, %d file searches)",
        args.config,
        config["mode"],
        len(searches) + len(config["imports"]),
    )
    appraisal = {
        ROB2_FILE: args.rob or config["report"]["rob"],
        ROBINS_I_FILE: args.robins_i or config["appraisal"]["robins_i"],
        AMSTAR2_FILE: args.amstar2 or config["appraisal"]["amstar2"],
    }
    return _validate_curated(args, appraisal)


def _validate_curated(args: argparse.Namespace, appraisal: dict[str, str | None]) -> int:
    """The curated tables: every problem printed, one line each; nothing written unless all pass."""
    problems = validate_curated(args.curated, {k: v for k, v in appraisal.items() if v})
    for problem in problems:
        print(problem, file=sys.stderr)
    failed = errors(problems)
    if failed:
        raise OhevidenceError(f"{args.curated}: {len(failed)} error(s) in the curated tables (listed above)")
    summary = f"{args.curated}: curated tables valid ({len(problems)} warning(s))"
    if args.report:
        write_text_atomic(args.report, "\n".join([summary, *map(str, problems)]) + "\n")
    log.info(summary)
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from ohevidence.review_init import PROJECT_DIR, init_review

    written = init_review(args.folder, title=args.title)
    folder = Path(args.folder).resolve()
    log.info("%s: new review (%d files); next: its README.md", folder, len(written))
    print(
        f"Review created in {folder}. Add your exports under {folder}/data/raw/imports/ and list them "
        f"under imports: in {folder}/config/config.yaml, then run, in {PROJECT_DIR}:\n"
        f"    make run REVIEW={folder}"
    )
    return 0


def _cmd_unlock_stale(args: argparse.Namespace) -> int:
    from ohevidence.workflow_locks import remove_stale_locks

    remove_stale_locks(Path(args.directory))
    return 0


def build_parser(stage: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; with ``stage``, only that stage's module is imported.

    Stages pull in scikit-learn, matplotlib and scipy: importing all of them costs seconds,
    paid by every Snakemake job, so a command imports just the stage it runs.
    """
    parser = argparse.ArgumentParser(prog="ohevidence", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--version", action="version", version=f"ohevidence {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    stages = parser.add_subparsers(dest="command", required=True, metavar="STAGE")

    init = stages.add_parser(
        "init", help="start a new review: config, empty curated tables, no decisions yet"
    )
    init.add_argument("folder", help="the new review's folder (new or empty)")
    init.add_argument("--title", default="", help="review title (default: the folder's name)")
    init.set_defaults(func=_cmd_init)

    validate = stages.add_parser("validate", help="check the review configuration and the files it names")
    validate.add_argument("--config", default="config/config.yaml")
    validate.add_argument("--schema", default=str(DEFAULT_SCHEMA))
    validate.add_argument("--curated", default="data/curated", help="folder of the curated evidence tables")
    validate.add_argument("--report", default=None, help="write the result here (only when valid)")
    validate.add_argument(
        "--curated-only",
        action="store_true",
        help="check only the curated tables (and the appraisal tables given): the workflow's job, whose "
        "merged config Snakemake has validated; no config file is read",
    )
    validate.add_argument("--rob", default=None, help="RoB 2 table (default: config report.rob)")
    validate.add_argument(
        "--robins-i", default=None, help="ROBINS-I table (default: config appraisal.robins_i)"
    )
    validate.add_argument(
        "--amstar2", default=None, help="AMSTAR 2 table (default: config appraisal.amstar2)"
    )
    validate.set_defaults(func=_cmd_validate)

    unlock = stages.add_parser(
        "unlock-stale", help="remove Snakemake locks left by a killed run (none while Snakemake runs here)"
    )
    unlock.add_argument("--directory", default=".", help="the project folder (default: .)")
    unlock.set_defaults(func=_cmd_unlock_stale)

    if stage in STAGE_MODULES:
        modules = [STAGE_MODULES[stage]]
    else:  # the commands above need no stage; only a full help lists every stage
        modules = [] if stage in OWN_COMMANDS else list(STAGE_MODULES.values())
    for module in modules:
        importlib.import_module(module).register(stages)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stage = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(stage)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_log_filter()  # no log line shows a registered secret (the NCBI API key)
    try:
        return int(args.func(args))
    except WriteError as exc:  # a full disk, a folder not writable: not the user's input
        print(f"ohevidence: error: {redact(str(exc))}", file=sys.stderr)
        return 1
    except OhevidenceError as exc:
        print(f"ohevidence: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a folder not writable: one line naming the file, no traceback
        log.debug("operating-system error", exc_info=True)
        print(f"ohevidence: error: {redact(os_error_line(exc))}", file=sys.stderr)
        return 1


def os_error_line(exc: OSError) -> str:
    """'<file>: <reason>' for an OS error (both files of a failed rename); the reason alone without a file."""
    files = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    reason = describe_os_error(exc)
    return f"{' -> '.join(files)}: {reason}" if files else reason


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
