"""`ohevidence report ...` subcommands: forest, funnel, prisma, rob, tables."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("ohevidence.report")


def _forest(args: argparse.Namespace) -> int:
    from ohevidence.report.common import save_figure
    from ohevidence.report.forest import draw_forest, load_forest_data

    data = load_forest_data(
        args.meta,
        args.studies,
        args.outcomes,
        args.job_roles,
        prediction_interval=not args.no_prediction_interval,
    )
    fig, layout = draw_forest(data)
    paths = save_figure(fig, args.out_stem, dpi=args.dpi)
    log.info(
        "%s: %d study rows, %d diamonds, %d without estimate, %s axis %s -> %s",
        data.analysis_id,
        layout.study_rows,
        layout.diamonds,
        layout.no_estimate_rows,
        layout.xscale,
        " ".join(layout.ticks),
        ", ".join(map(str, paths)),
    )
    return 0


def _funnel(args: argparse.Namespace) -> int:
    from ohevidence.report.common import read_json, save_figure
    from ohevidence.report.funnel import funnel

    fig, result = funnel(read_json(args.meta), min_k=args.min_k)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if fig is not None:
        save_figure(fig, out_dir / "funnel", dpi=args.dpi)
    Path(args.note).parent.mkdir(parents=True, exist_ok=True)
    Path(args.note).write_text(result.note + "\n", encoding="utf-8")
    (out_dir / "funnel.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    log.info("%s", result.note)
    return 0


def _prisma(args: argparse.Namespace) -> int:
    from ohevidence.config import load_config
    from ohevidence.report.common import save_figure
    from ohevidence.report.prisma import compute_counts, draw_prisma, write_counts
    from ohevidence.schema import PRISMA_REPORT_COLUMNS, write_table

    config = load_config(args.config)
    reasons = {r["code"]: r.get("description", "") for r in config["screening"]["exclusion_reasons"]}
    counts, reports = compute_counts(
        search_log=args.search_log,
        clusters=args.clusters,
        screening_counts=args.screening_counts,
        included=args.included,
        studies=args.studies,
        study_links=args.study_links,
        auto_extracted=args.auto_extracted,
        meta_files=args.meta,
        not_retrieved_reasons=config["report"]["not_retrieved_reasons"],
        reason_labels={code: code.replace("_", " ") for code in reasons},
    )
    fig = draw_prisma(counts)  # checks the arithmetic first: nothing is written from bad counts
    write_counts(counts, args.counts_out)
    write_table(reports.fillna(""), args.reports_out, PRISMA_REPORT_COLUMNS)
    save_figure(fig, args.figure_stem, dpi=args.dpi)
    log.info(
        "PRISMA: %d identified, %d duplicates, %d screened, %d excluded, %d sought, %d assessed, "
        "%d reports / %d "
        "studies included, %d studies in meta-analyses",
        counts.identified,
        counts.duplicates,
        counts.records_screened,
        counts.records_excluded,
        counts.reports_sought,
        counts.reports_assessed,
        counts.new_reports,
        counts.new_studies,
        counts.studies_in_meta,
    )
    return 0


def _rob(args: argparse.Namespace) -> int:
    from ohevidence.report.common import save_figure
    from ohevidence.report.rob import not_recorded_note, read_rob, rob_figures, summary_proportions

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    note = Path(args.note)
    note.parent.mkdir(parents=True, exist_ok=True)
    if not Path(args.rob).exists():
        note.write_text(not_recorded_note(args.rob) + "\n", encoding="utf-8")
        log.info("%s", not_recorded_note(args.rob))
        return 0
    rob = read_rob(args.rob)
    for name, fig in rob_figures(rob):
        save_figure(fig, out_dir / name, dpi=args.dpi)
    shares = summary_proportions(rob)
    lines = [f"Risk of bias (RoB 2) recorded for {len(rob)} assessments in {args.rob}.", ""]
    lines += [
        f"{row.domain}: " + ", ".join(f"{j} {getattr(row, j):.0f}%" for j in shares.columns[1:])
        for row in shares.itertuples()
    ]
    note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("risk of bias: %d assessments plotted -> %s", len(rob), out_dir)
    return 0


def _tables(args: argparse.Namespace) -> int:
    from ohevidence.report import tables
    from ohevidence.report.common import index_by, read_csv_rows, read_role_taxonomy

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    studies = read_csv_rows(args.studies)
    outcomes = read_csv_rows(args.outcomes)
    effects = read_csv_rows(args.effects)
    roles = read_role_taxonomy(args.job_roles)
    outputs = {
        "characteristics_by_role.csv": tables.characteristics(studies, roles),
        "summary_of_findings.csv": tables.summary_of_findings(
            args.meta, index_by(outcomes, "study_id", "outcome_id"), tables.read_grade(args.grade)
        ),
        "economic_evidence.csv": tables.economic_evidence(
            outcomes, index_by(effects, "study_id", "outcome_id"), index_by(studies, "study_id")
        ),
        "workforce_strategies.csv": tables.workforce_strategies(read_csv_rows(args.case_studies)),
        "brief_trials.csv": tables.brief_trials(studies, effects, args.meta, roles),
        "screening_agreement.csv": tables.agreement_table(args.agreement),
    }
    for name, frame in outputs.items():
        frame.fillna("").to_csv(out / name, index=False, encoding="utf-8")
        log.info("%s: %d rows", out / name, len(frame))
    return 0


def register(stages: Any) -> None:
    """Add `report` and its subcommands to the top-level parser's subparsers."""
    report = stages.add_parser("report", help="figures and tables: forest, funnel, prisma, rob, tables")
    commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    curated = "data/curated"

    forest = commands.add_parser("forest", help="RevMan-layout forest plot of one analysis (SVG, PNG, PDF)")
    forest.add_argument("--meta", required=True, help="results/meta/<id>.json")
    forest.add_argument("--studies", default=f"{curated}/studies.csv")
    forest.add_argument("--outcomes", default=f"{curated}/outcomes.csv")
    forest.add_argument("--job-roles", default=f"{curated}/job_roles.yaml")
    forest.add_argument(
        "--out-stem", required=True, help="results/figures/forest/<id> (.svg/.png/.pdf added)"
    )
    forest.add_argument("--dpi", type=int, default=300, help="PNG resolution")
    forest.add_argument("--no-prediction-interval", action="store_true", help="leave out the PI bar")
    forest.set_defaults(func=_forest)

    fun = commands.add_parser("funnel", help="contour-enhanced funnel plot + Egger's test (k >= min-k)")
    fun.add_argument("--meta", required=True, help="results/meta/<id>.json")
    fun.add_argument("--note", required=True, help="text file: Egger's test, or why there is no plot")
    fun.add_argument("--out-dir", required=True, help="folder for funnel.svg/.png/.pdf (empty below min-k)")
    fun.add_argument("--min-k", type=int, default=10)
    fun.add_argument("--dpi", type=int, default=300)
    fun.set_defaults(func=_funnel)

    prisma = commands.add_parser("prisma", help="PRISMA 2020 counts (checked) and flow diagram")
    prisma.add_argument("--config", default="config/config.yaml")
    prisma.add_argument("--search-log", required=True)
    prisma.add_argument("--clusters", required=True, help="results/dedup/clusters.csv")
    prisma.add_argument("--screening-counts", required=True, help="results/screening/prisma_counts.json")
    prisma.add_argument("--included", required=True, help="results/screening/included.csv")
    prisma.add_argument("--studies", default=f"{curated}/studies.csv")
    prisma.add_argument("--study-links", required=True, help="results/dedup/study_links.csv")
    prisma.add_argument("--auto-extracted", required=True, help="results/extraction/auto_extracted.csv")
    prisma.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json")
    prisma.add_argument("--counts-out", required=True)
    prisma.add_argument("--reports-out", required=True)
    prisma.add_argument("--figure-stem", required=True)
    prisma.add_argument("--dpi", type=int, default=300)
    prisma.set_defaults(func=_prisma)

    rob = commands.add_parser("rob", help="RoB 2 traffic-light and summary plots (robvis conventions)")
    rob.add_argument("--rob", default=f"{curated}/rob.csv")
    rob.add_argument("--out-dir", required=True)
    rob.add_argument("--note", required=True, help="text: what was plotted, or that none were recorded")
    rob.add_argument("--dpi", type=int, default=300)
    rob.set_defaults(func=_rob)

    tab = commands.add_parser(
        "tables", help="characteristics, summary of findings, economic, workforce, trials"
    )
    tab.add_argument("--studies", default=f"{curated}/studies.csv")
    tab.add_argument("--outcomes", default=f"{curated}/outcomes.csv")
    tab.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    tab.add_argument("--case-studies", default=f"{curated}/case_studies.csv")
    tab.add_argument("--job-roles", default=f"{curated}/job_roles.yaml")
    tab.add_argument("--agreement", required=True, help="results/screening/agreement.json")
    tab.add_argument(
        "--grade",
        default=f"{curated}/grade.csv",
        help="GRADE judgements per analysis (optional; absent = 'not assessed')",
    )
    tab.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json")
    tab.add_argument("--out-dir", required=True)
    tab.set_defaults(func=_tables)
