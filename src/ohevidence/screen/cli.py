"""`ohevidence screen ...` subcommands.

ohevidence screen run --records FILE (--settings JSON | --config FILE) [--jobs N]
    (--out DIR | --title-abstract-out FILE ... --full-text-out FILE...) [--decisions FILE] [--sheets-dir DIR]
ohevidence screen simulate --data FILE --label-column COL [--id-column COL]
    --prior-included 1 --prior-excluded 1 --seed S --out FILE
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

from ohevidence.config import add_settings_arguments, check_decision_paths, settings_config
from ohevidence.csvio import write_csv
from ohevidence.errors import ConfigError, InputError
from ohevidence.schema import RECORD_COLUMNS
from ohevidence.screen.decisions import DecisionRules, alias_map, load_decisions
from ohevidence.screen.ranking import RankingSettings
from ohevidence.screen.simulate import simulate_file
from ohevidence.screen.stage import ScreeningOutputs, ScreeningSettings, screen, write_outputs
from ohevidence.tableio import read_table

log = logging.getLogger("ohevidence.screen")


def _processes(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of processes (1 or more)")
    return number


def _run(args: argparse.Namespace) -> int:
    config, source = settings_config(args)
    section = config["screening"]
    decisions_file = Path(args.decisions if args.decisions is not None else section["decisions"])
    sheets_dir = Path(args.sheets_dir if args.sheets_dir is not None else section["sheets_dir"])
    check_decision_paths(
        decisions_file,
        sheets_dir,
        no_decisions_yet=section["no_decisions_yet"],
        source=source,
        keys=(
            "--decisions" if args.decisions is not None else "screening.decisions",
            "--sheets-dir" if args.sheets_dir is not None else "screening.sheets_dir",
        ),
    )
    settings = ScreeningSettings.from_config(section)
    if args.jobs is not None:
        settings = dataclasses.replace(
            settings, ranking=dataclasses.replace(settings.ranking, feature_jobs=args.jobs)
        )
    outputs = ScreeningOutputs.from_args(args, reviewers=settings.reviewers)
    records = read_table(args.records, RECORD_COLUMNS)
    unknown_seeds = [s for s in settings.seed_records if s not in set(alias_map(records))]
    if unknown_seeds:
        raise InputError(source, f"screening.seed_records: unknown record id(s) {', '.join(unknown_seeds)}")
    rules = DecisionRules(alias_map(records), settings.everyone, settings.exclusion_reasons)
    decisions = load_decisions(decisions_file, sheets_dir, rules)
    result = screen(records, settings, decisions)
    write_outputs(result, records, outputs)
    counts = result.prisma
    log.info(
        "%d records: %d excluded by automation tools, %d screened; title/abstract: %d included, %d excluded, "
        "%s awaiting; full text: %d included, %s excluded",
        counts["records_in"],
        counts["records_excluded_by_automation_tools"],
        counts["records_screened"],
        counts["reports_sought_for_retrieval"],
        counts["records_excluded"],
        counts["records_awaiting_title_abstract"],
        counts["reports_included"],
        counts["reports_excluded"],
    )
    stop = result.stopping
    log.info(
        "stopping (%s recall, %s confidence): %d of %d records screened, %d remaining, %d includes found, "
        "recall at least %s; %s",
        f"{stop['recall_target']:.0%}",
        f"{stop['confidence']:.0%}",
        stop["records_screened"],
        stop["records_to_screen"],
        stop["records_remaining"],
        stop["includes_found"],
        "unknown" if stop["recall_lower_bound"] is None else f"{stop['recall_lower_bound']:.0%}",
        stop["verdict"],
    )
    for stage, pairs in result.agreement.items():
        for pair in pairs:
            log.info(
                "%s agreement %s: %d records by both, %s%%, kappa %s, AC1 %s",
                stage,
                " vs ".join(pair["reviewers"]),
                pair["records_screened_by_both"],
                pair["percent_agreement"],
                pair["cohen_kappa"],
                pair["gwet_ac1"],
            )
    return 0


def _simulate(args: argparse.Namespace) -> int:
    chosen: tuple[tuple[str, Any], ...] = (
        ("classifier", args.classifier),
        ("growth", args.growth),
        ("stall_after", args.stall_after),
        ("stall_fraction", args.stall_fraction),
        ("stall_mode", args.stall_mode),
        ("companion", args.companion),
        ("learner_choice", {"none": ""}.get(args.learner_choice, args.learner_choice)),
        ("featureless", {"none": ""}.get(args.featureless, args.featureless)),
        ("featureless_prior", args.featureless_prior),
        ("other_every", args.other_every),
        ("large_review", args.large_review),
        ("large_char_ngrams", tuple(args.large_char_ngrams) if args.large_char_ngrams else None),
    )
    try:
        settings = RankingSettings(**{k: v for k, v in chosen if v is not None})
    except ValueError as exc:
        raise ConfigError(f"screen simulate: {exc}") from exc
    try:
        order = simulate_file(
            Path(args.data),
            args.label_column,
            id_column=args.id_column,
            prior_included=args.prior_included,
            prior_excluded=args.prior_excluded,
            seed=args.seed,
            settings=settings,
        )
    except ValueError as exc:
        raise InputError(args.data, str(exc)) from exc
    out = Path(args.out)
    write_csv(order, out)
    log.info("simulated %d records (%d relevant) -> %s", len(order), int(order["label"].sum()), out)
    return 0


def register(stages: Any) -> None:
    """Add `screen` and its subcommands to the top-level parser's subparsers."""
    screen_ = stages.add_parser("screen", help="rank, flag and track title/abstract and full-text screening")
    commands = screen_.add_subparsers(dest="screen_command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="rank records, apply rules, read decisions, write the sheets")
    run.add_argument("--records", required=True, help="records to screen (unique_records.csv or records.csv)")
    add_settings_arguments(run, "screening settings (`screening:`)")
    run.add_argument("--decisions", default=None, help="decision file (default: config screening.decisions)")
    run.add_argument(
        "--sheets-dir", default=None, help="filled sheets (default: config screening.sheets_dir)"
    )
    run.add_argument(
        "--jobs",
        type=_processes,
        default=None,
        help="processes counting a large review's features (Snakemake passes the rule's threads; default 2)",
    )
    ScreeningOutputs.add_arguments(run, "results/screening")
    run.set_defaults(func=_run)

    sim = commands.add_parser("simulate", help="screen a labelled CSV in the model's order (benchmarking)")
    sim.add_argument("--data", required=True, help="CSV with title, abstract and a 0/1 label column")
    sim.add_argument("--label-column", required=True)
    sim.add_argument("--id-column", default=None, help="record id column (default: row number, 1-based)")
    sim.add_argument("--prior-included", type=int, default=1)
    sim.add_argument("--prior-excluded", type=int, default=1)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--out", required=True, help="output CSV: record_id, rank, label")
    sim.add_argument("--classifier", choices=["logistic", "svm"], default=None, help=argparse.SUPPRESS)
    sim.add_argument("--growth", type=float, default=None, help=argparse.SUPPRESS)
    sim.add_argument(
        "--stall-after",
        type=int,
        default=None,
        help="excludes in a row (since the last include) that can start a stall; 0 = never (default: 40)",
    )
    sim.add_argument(
        "--stall-fraction",
        type=float,
        default=None,
        help="the run must also be this fraction of the decisions before it (default: 0.25)",
    )
    sim.add_argument(
        "--stall-mode", choices=["ensemble", "switch", "average"], default=None, help=argparse.SUPPRESS
    )
    sim.add_argument("--companion", choices=["svm"], default=None, help=argparse.SUPPRESS)
    sim.add_argument(
        "--learner-choice", choices=["kept", "recent", "cv", "none"], default=None, help=argparse.SUPPRESS
    )
    sim.add_argument(
        "--featureless", choices=["not_trained", "rate", "none"], default=None, help=argparse.SUPPRESS
    )
    sim.add_argument("--featureless-prior", type=float, default=None, help=argparse.SUPPRESS)
    sim.add_argument("--other-every", type=int, default=None, help=argparse.SUPPRESS)
    # the features of large reviews on a small labelled set, to measure what they cost (benchmark)
    sim.add_argument("--large-review", type=int, default=None, help=argparse.SUPPRESS)
    sim.add_argument("--large-char-ngrams", type=int, nargs=2, default=None, help=argparse.SUPPRESS)
    sim.set_defaults(func=_simulate)
