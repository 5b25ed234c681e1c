"""`ohevidence report ...` subcommands: forest, funnel, prisma, rob, tables."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ohevidence.atomic import write_json_atomic, write_text_atomic
from ohevidence.config import add_settings_arguments

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
        rob_csv=args.rob,
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
    from ohevidence.meta.result import AnalysisResult
    from ohevidence.report.common import save_figure
    from ohevidence.report.funnel import funnel

    fig, result = funnel(AnalysisResult.read(args.meta), min_k=args.min_k)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if fig is not None:
        save_figure(fig, out_dir / "funnel", dpi=args.dpi)
    write_text_atomic(args.note, result.note + "\n")
    write_json_atomic(out_dir / "funnel.json", result.to_dict())
    log.info("%s", result.note)
    return 0


def _prisma(args: argparse.Namespace) -> int:
    from ohevidence.config import settings_config
    from ohevidence.report.common import save_figure
    from ohevidence.report.prisma import compute_counts, draw_prisma, write_counts

    config, _ = settings_config(args)
    reasons = {r["code"]: r.get("description", "") for r in config["screening"]["exclusion_reasons"]}
    counts = compute_counts(
        search_log=args.search_log,
        clusters=args.clusters,
        screening_counts=args.screening_counts,
        included=args.included,
        included_studies=args.included_studies,
        meta_files=args.meta,
        not_retrieved_reasons=config["report"]["not_retrieved_reasons"],
        reason_labels={code: code.replace("_", " ") for code in reasons},
        included_reviews=args.included_reviews,
    )
    fig = draw_prisma(counts)  # checks the arithmetic first: nothing is written from bad counts
    write_counts(counts, args.counts_out)
    save_figure(fig, args.figure_stem, dpi=args.dpi)
    log.info(
        "PRISMA: %d identified, %d duplicates, %d screened, %d excluded, %d sought, %d assessed, "
        "%d reports / %d "
        "studies included (%d added by the review team), %d studies in meta-analyses",
        counts.identified,
        counts.duplicates,
        counts.records_screened,
        counts.records_excluded,
        counts.reports_sought,
        counts.reports_assessed,
        counts.new_reports,
        counts.total_studies,
        counts.declared_studies,
        counts.studies_in_meta,
    )
    return 0


def _rob(args: argparse.Namespace) -> int:
    from ohevidence.report.common import save_figure
    from ohevidence.report.rob import (
        is_weighted,
        not_recorded_note,
        read_rob,
        rob_figures,
        summary_proportions,
    )

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    note = Path(args.note)
    note.parent.mkdir(parents=True, exist_ok=True)
    if not Path(args.rob).exists():
        write_text_atomic(note, not_recorded_note(args.rob) + "\n")
        log.info("%s", not_recorded_note(args.rob))
        return 0
    rob = read_rob(args.rob)
    for name, fig in rob_figures(rob):
        save_figure(fig, out_dir / name, dpi=args.dpi)
    lines = [f"Risk of bias (RoB 2) recorded for {len(rob)} assessments in {args.rob}."]
    for weighted in (False, True) if is_weighted(rob) else (False,):
        shares = summary_proportions(rob, weighted=weighted)
        lines += ["", "Weighted (share of weight):" if weighted else "Unweighted (share of assessments):"]
        lines += [
            f"{row.domain}: " + ", ".join(f"{j} {getattr(row, j):.0f}%" for j in shares.columns[1:])
            for row in shares.itertuples()
        ]
    write_text_atomic(note, "\n".join(lines) + "\n")
    log.info("risk of bias: %d assessments plotted -> %s", len(rob), out_dir)
    return 0


def _appraisal_status(args: argparse.Namespace) -> int:
    from ohevidence.appraisal import AMSTAR2_FILE, ROB2_FILE, ROBINS_I_FILE
    from ohevidence.report.appraisal import appraisal_status
    from ohevidence.schema import APPRAISAL_STATUS_COLUMNS
    from ohevidence.tableio import write_table

    included = _read_text_csv(args.included_studies)
    studies = _read_text_csv(args.studies)
    tables = {ROB2_FILE: args.rob, ROBINS_I_FILE: args.robins_i, AMSTAR2_FILE: args.amstar2}
    status = appraisal_status(included, studies, tables)
    write_table(status, args.out, APPRAISAL_STATUS_COLUMNS)
    counts = status["status"].value_counts().to_dict()
    log.info("appraisal status of %d included studies: %s -> %s", len(status), counts, args.out)
    return 0


def _read_text_csv(path: str) -> Any:
    from ohevidence.tableio import read_csv_table

    return read_csv_table(path)


def _tables(args: argparse.Namespace) -> int:
    from ohevidence.csvio import write_csv
    from ohevidence.extract.included import read_included_study_ids
    from ohevidence.meta.roles import read_job_roles
    from ohevidence.report import tables
    from ohevidence.report.common import index_by, read_csv_rows

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    all_studies = read_csv_rows(args.studies)
    included = read_included_study_ids(args.included_studies)
    # only the included studies are characterised and synthesised; the brief's trials table lists
    # every trial of the brief and says which ones the review includes
    studies = [s for s in all_studies if s["study_id"] in included]
    outcomes = [o for o in read_csv_rows(args.outcomes) if o.get("study_id") in included]
    effects = read_csv_rows(args.effects)
    roles = read_job_roles(args.job_roles)
    outputs = {
        "characteristics_by_role.csv": tables.characteristics(studies, roles),
        "summary_of_findings.csv": tables.summary_of_findings(
            args.meta, index_by(outcomes, "study_id", "outcome_id"), tables.read_grade(args.grade)
        ),
        "economic_evidence.csv": tables.economic_evidence(
            read_csv_rows(args.costs) if args.costs else [],
            outcomes,
            index_by(effects, "study_id", "outcome_id"),
            index_by(all_studies, "study_id"),
            roles,
            included,
        ),
        "workforce_strategies.csv": tables.workforce_strategies(read_csv_rows(args.case_studies), roles),
        "brief_trials.csv": tables.brief_trials(
            all_studies, effects, args.meta, roles, not_included=_not_included(args.not_included)
        ),
        "screening_agreement.csv": tables.agreement_table(args.agreement),
    }
    for name, frame in outputs.items():
        write_csv(frame.fillna(""), out / name)
        log.info("%s: %d rows", out / name, len(frame))
    return 0


def _not_included(path: str) -> dict[str, str]:
    """study_id -> why the review does not include it (results/extraction/curated_not_included.csv)."""
    from ohevidence.schema import CURATED_NOT_INCLUDED_COLUMNS
    from ohevidence.tableio import read_table

    frame = read_table(path, CURATED_NOT_INCLUDED_COLUMNS)
    return dict(zip(frame["study_id"], frame["reason"], strict=True))


def _sensitivity(args: argparse.Namespace) -> int:
    from ohevidence.meta.result import SensitivityResult
    from ohevidence.report.common import save_figure
    from ohevidence.report.sensitivity import draw_bubble, draw_sensitivity

    report = SensitivityResult.read(args.sensitivity)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = []
    if report.variants:
        save_figure(draw_sensitivity(report), out_dir / "sensitivity", dpi=args.dpi)
        drawn.append("sensitivity")
    bubble = draw_bubble(report)
    if bubble is not None:
        save_figure(bubble, out_dir / "meta_regression_bubble", dpi=args.dpi)
        drawn.append("meta_regression_bubble")
    log.info("%s: %s -> %s", report.analysis_id, ", ".join(drawn) or "nothing to plot", out_dir)
    return 0


def _swim(args: argparse.Namespace) -> int:
    from ohevidence.extract.included import read_included_study_ids
    from ohevidence.meta.io import read_csv_rows
    from ohevidence.meta.result import AnalysisResult
    from ohevidence.meta.roles import read_job_roles
    from ohevidence.meta.sensitivity import read_rob_rows
    from ohevidence.meta.swim import synthesise
    from ohevidence.report import swim as plots
    from ohevidence.report.common import index_by, role_label, save_figure, study_label

    effects = read_csv_rows(args.effects)
    outcomes = read_csv_rows(args.outcomes)
    studies = read_csv_rows(args.studies)
    if args.included_studies:
        included = read_included_study_ids(args.included_studies)
        outcomes = [o for o in outcomes if o.get("study_id") in included]
        studies = [s for s in studies if s["study_id"] in included]
    rob_rows, rob_recorded = read_rob_rows(args.rob)
    by_id = index_by(studies, "study_id")
    result = synthesise(
        effects,
        outcomes,
        studies,
        analyses=[AnalysisResult.read(path) for path in args.meta],
        rob_rows=rob_rows,
        rob_recorded=rob_recorded,
        label_of={s: study_label(s, by_id) for s in by_id},
    )
    result.write(args.direction_out, args.votes_out, args.items_out)
    table = result.table
    roles = read_job_roles(args.job_roles)
    labels = {role: role_label(role, roles) for role in set(table["job_role"])} if not table.empty else {}
    out_dir = Path(args.figure_dir)
    save_figure(plots.draw_effect_direction(table, labels), out_dir / "effect_direction", dpi=args.dpi)
    points = plots.albatross_points(result.directions)
    save_figure(plots.draw_albatross(points, labels), out_dir / "albatross", dpi=args.dpi)
    log.info(
        "SWiM: %d study x role x domain rows (%d studies), %d vote-count rows, %d albatross points -> %s",
        len(table),
        len(result.studies_with_data),
        len(result.votes),
        len(points),
        out_dir,
    )
    return 0


def _evidence_map(args: argparse.Namespace) -> int:
    from ohevidence.csvio import write_csv
    from ohevidence.curated import load_job_roles
    from ohevidence.evidence_map import build_evidence_map
    from ohevidence.extract.included import read_included_study_ids
    from ohevidence.meta.io import read_csv_rows
    from ohevidence.meta.result import AnalysisResult
    from ohevidence.report import evidence_map as draw
    from ohevidence.report.common import index_by, save_figure, study_label
    from ohevidence.report.tables import read_grade

    studies = read_csv_rows(args.studies)
    by_id = index_by(studies, "study_id")
    grade = read_grade(args.grade)
    found = build_evidence_map(
        load_job_roles(args.job_roles),
        studies,
        read_included_study_ids(args.included_studies),
        read_csv_rows(args.outcomes),
        read_csv_rows(args.effects),
        [AnalysisResult.read(path) for path in args.meta],
        {analysis_id: proposal.certainty for analysis_id, proposal in grade.items()},
        review_findings=read_csv_rows(args.review_findings) if args.review_findings else [],
        review_findings_path=args.review_findings or "",
        label_of={sid: study_label(sid, by_id) for sid in by_id},
    )
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(found.gap_map, out / "gap_map.csv")
    write_csv(found.role_evidence, out / "role_evidence.csv")
    write_csv(found.other_studies, out / "other_studies.csv")
    write_text_atomic(out / "gap_map.html", draw.gap_map_html(found.gap_map, found.other_studies))
    save_figure(draw.draw_gap_map(found.gap_map, found.other_studies), args.figure_stem, dpi=args.dpi)
    cells, empty = draw.cell_counts(found.gap_map)
    without = int((found.role_evidence["statement"] == "No randomised evidence found.").sum())
    log.info(
        "evidence map: %d roles, %d cells (%d empty); %d roles with no randomised evidence; "
        "%d evidence rows; %d other studies -> %s, %s.{svg,png,pdf}",
        len(found.role_evidence),
        cells,
        empty,
        without,
        int((found.gap_map["evidence_type"] != "").sum()),
        len(found.other_studies),
        out,
        args.figure_stem,
    )
    return 0


def _optional_table(path: str | None) -> Any:
    """A results CSV as text cells, or None when the option was not given (the page says so)."""
    return None if not path else _read_text_csv(path)


def _thresholds_note(thresholds: Any) -> str:
    """The wording thresholds in one sentence, measures that share them together."""
    groups: dict[tuple[Any, Any], list[str]] = {}
    for measure, t in sorted(thresholds.items()):
        groups.setdefault((t.near_null, t.small), []).append(measure)
    parts = [
        f"{', '.join(measures)}: near no effect below {near}, small below {small}"
        if near is not None
        else f"{', '.join(measures)}: none set"
        for (near, small), measures in groups.items()
    ]
    return (
        "Wording thresholds (" + "; ".join(parts) + "). Ratios count as a relative change either way; "
        "see docs/methods/findings.md."
    )


def _findings(args: argparse.Namespace) -> int:
    from ohevidence.config import settings_config
    from ohevidence.curated import load_job_roles
    from ohevidence.findings import analysis_finding, read_analysis, thresholds_from_settings
    from ohevidence.meta.grade import GradeProposal
    from ohevidence.report.findings import (
        FindingsInputs,
        fragment,
        limitations,
        page,
        render_body,
        role_lines,
    )

    config, _ = settings_config(args)
    thresholds = thresholds_from_settings(config["report"]["findings_thresholds"])
    grades = {g.analysis_id: g for g in map(GradeProposal.read, args.grade)}
    forest_dir = Path(args.forest_dir) if args.forest_dir else None
    sof = _optional_table(args.summary_of_findings)
    counts: dict[str, str] = {}
    if sof is not None:  # the summary of findings counts participants from outcomes.csv
        counts = dict(zip(sof["analysis_id"], sof["participants"], strict=True))
    findings = []
    for path in args.meta:
        meta = read_analysis(path)
        plot = forest_dir / f"{meta.analysis_id}.png" if forest_dir else None
        findings.append(
            analysis_finding(
                meta,
                grades.get(meta.analysis_id),
                thresholds,
                str(plot or ""),
                counts.get(meta.analysis_id, ""),
            )
        )
    roles = [
        (role_id, str(entry.get("label") or role_id), str(entry.get("origin") or ""))
        for role_id, entry in load_job_roles(args.job_roles).items()
    ]
    inputs = FindingsInputs(
        title=config["review"]["title"],
        analyses=findings,
        roles=roles,
        summary_of_findings=sof,
        appraisal_status=_optional_table(args.appraisal_status),
        role_evidence=_optional_table(args.role_evidence),
        gap_map=_optional_table(args.gap_map),
        gap_map_png=Path(args.gap_map_png) if args.gap_map_png else None,
        review_findings=_optional_table(args.review_findings),
        within_trial_roles=_optional_table(args.within_trial_roles),
        role_credibility=_optional_table(args.role_credibility),
        economic=_optional_table(args.economic),
        workforce=_optional_table(args.workforce),
        thresholds_note=_thresholds_note(thresholds),
    )  # fmt: skip
    plots = {f.analysis_id: Path(f.forest_plot) for f in findings if f.forest_plot}
    body = render_body(inputs, plots)
    in_report = fragment(render_body(inputs, plots, in_report=True))
    for out, text in ((args.out_html, page(inputs.title, body)), (args.fragment_out, in_report)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text)
    missing = [name for name, value in (
        ("role_evidence", args.role_evidence), ("gap_map", args.gap_map),
        ("gap_map_png", args.gap_map_png), ("review_findings", args.review_findings),
        ("within_trial_roles", args.within_trial_roles), ("role_credibility", args.role_credibility),
        ("economic", args.economic), ("workforce", args.workforce),
        ("summary_of_findings", args.summary_of_findings), ("appraisal_status", args.appraisal_status),
    ) if not value]  # fmt: skip
    document = {
        "title": inputs.title,
        "analyses": [f.to_json() for f in findings],
        "roles": role_lines(inputs),
        "limitations": limitations(inputs),
        "thresholds": {
            m: {"near_null": t.near_null, "small": t.small} for m, t in sorted(thresholds.items())
        },
        "inputs_missing": missing,
    }
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out_json, document)
    log.info(
        "%s: %d analyses (%d headline), %d roles, missing inputs: %s",
        args.out_html,
        len(findings),
        sum(f.headline for f in findings),
        len(roles),
        ", ".join(missing) or "none",
    )
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
    forest.add_argument("--rob", default=None, help="data/curated/rob.csv (optional: RoB 2 columns)")
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
    add_settings_arguments(
        prisma, "exclusion reasons (`screening: exclusion_reasons`) and `report: not_retrieved_reasons`"
    )
    prisma.add_argument("--search-log", required=True)
    prisma.add_argument("--clusters", required=True, help="results/dedup/clusters.csv")
    prisma.add_argument(
        "--included-reviews",
        help="results/extraction/included_reviews.csv: reviews included at the review level (counted apart)",
    )
    prisma.add_argument("--screening-counts", required=True, help="results/screening/prisma_counts.json")
    prisma.add_argument("--included", required=True, help="results/screening/included.csv")
    prisma.add_argument("--included-studies", required=True, help="results/extraction/included_studies.csv")
    prisma.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json")
    prisma.add_argument("--counts-out", required=True)
    prisma.add_argument("--figure-stem", required=True)
    prisma.add_argument("--dpi", type=int, default=300)
    prisma.set_defaults(func=_prisma)

    sens = commands.add_parser(
        "sensitivity", help="sensitivity forest and meta-regression bubble plot of one analysis"
    )
    sens.add_argument("--sensitivity", required=True, help="results/meta/sensitivity/<id>.json")
    sens.add_argument("--out-dir", required=True, help="results/figures/sensitivity/<id>")
    sens.add_argument("--dpi", type=int, default=300)
    sens.set_defaults(func=_sensitivity)

    swim = commands.add_parser(
        "swim", help="synthesis without meta-analysis by job role: effect direction, albatross, vote counting"
    )
    swim.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    swim.add_argument("--outcomes", default=f"{curated}/outcomes.csv")
    swim.add_argument("--studies", default=f"{curated}/studies.csv")
    swim.add_argument("--job-roles", default=f"{curated}/job_roles.yaml")
    swim.add_argument(
        "--included-studies",
        help="results/extraction/included_studies.csv: only these studies (default: every curated study)",
    )
    swim.add_argument("--rob", default=None, help="data/curated/rob.csv (optional)")
    swim.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json (which rows were pooled)")
    swim.add_argument("--direction-out", required=True, help="results/tables/swim_effect_direction.csv")
    swim.add_argument("--votes-out", required=True, help="results/tables/swim_vote_counting.csv")
    swim.add_argument("--items-out", required=True, help="results/tables/swim_items.csv")
    swim.add_argument(
        "--figure-dir", required=True, help="results/figures/swim (effect_direction, albatross)"
    )
    swim.add_argument("--dpi", type=int, default=300)
    swim.set_defaults(func=_swim)

    rob = commands.add_parser("rob", help="RoB 2 traffic-light and summary plots (robvis conventions)")
    rob.add_argument("--rob", default=f"{curated}/rob.csv")
    rob.add_argument("--out-dir", required=True)
    rob.add_argument("--note", required=True, help="text: what was plotted, or that none were recorded")
    rob.add_argument("--dpi", type=int, default=300)
    rob.set_defaults(func=_rob)

    status = commands.add_parser(
        "appraisal-status", help="each included study's appraisal tool and status (assessed / awaiting)"
    )
    status.add_argument("--included-studies", required=True, help="results/extraction/included_studies.csv")
    status.add_argument("--studies", default=f"{curated}/studies.csv")
    status.add_argument("--rob", default=None, help="RoB 2 table (optional)")
    status.add_argument("--robins-i", default=None, help="ROBINS-I table (optional)")
    status.add_argument("--amstar2", default=None, help="AMSTAR 2 table (optional)")
    status.add_argument("--out", required=True, help="results/tables/appraisal_status.csv")
    status.set_defaults(func=_appraisal_status)

    emap = commands.add_parser(
        "evidence-map", help="evidence-and-gap map: job role x outcome domain (CSV, HTML, figure)"
    )
    emap.add_argument("--job-roles", default=f"{curated}/job_roles.yaml")
    emap.add_argument("--studies", default=f"{curated}/studies.csv")
    emap.add_argument("--outcomes", default=f"{curated}/outcomes.csv")
    emap.add_argument("--included-studies", required=True, help="results/extraction/included_studies.csv")
    emap.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    emap.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json")
    emap.add_argument("--grade", nargs="*", default=[], help="results/meta/grade/*.json")
    emap.add_argument(
        "--review-findings", default="", help="results/reviews/review_findings.csv (optional: the reviews)"
    )
    emap.add_argument("--out-dir", required=True, help="results/evidence_map")
    emap.add_argument("--figure-stem", required=True, help="results/figures/evidence_map/gap_map")
    emap.add_argument("--dpi", type=int, default=300)
    emap.set_defaults(func=_evidence_map)

    tab = commands.add_parser(
        "tables", help="characteristics, summary of findings, economic, workforce, trials"
    )
    tab.add_argument("--studies", default=f"{curated}/studies.csv")
    tab.add_argument("--outcomes", default=f"{curated}/outcomes.csv")
    tab.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    tab.add_argument("--case-studies", default=f"{curated}/case_studies.csv")
    tab.add_argument(
        "--costs", default="", help="data/curated/costs.csv (optional: every cost figure printed)"
    )
    tab.add_argument("--job-roles", default=f"{curated}/job_roles.yaml")
    tab.add_argument("--agreement", required=True, help="results/screening/agreement.json")
    tab.add_argument(
        "--included-studies", required=True, help="results/extraction/included_studies.csv (the synthesis)"
    )
    tab.add_argument(
        "--not-included", required=True, help="results/extraction/curated_not_included.csv (and why)"
    )
    tab.add_argument(
        "--grade",
        nargs="*",
        default=[],
        help="results/meta/grade/*.json (ohevidence meta grade; an analysis without one: 'not assessed')",
    )
    tab.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json")
    tab.add_argument("--out-dir", required=True)
    tab.set_defaults(func=_tables)

    fnd = commands.add_parser(
        "findings", help="the findings page: statements per analysis and role in GRADE wording (HTML, JSON)"
    )
    add_settings_arguments(fnd, "`review: title` and `report: findings_thresholds`")
    fnd.add_argument("--meta", nargs="*", default=[], help="results/meta/*.json")
    fnd.add_argument(
        "--grade", nargs="*", default=[], help="results/meta/grade/*.json (absent: not assessed)"
    )
    fnd.add_argument(
        "--job-roles", default=f"{curated}/job_roles.yaml", help="the role taxonomy (every role a line)"
    )
    fnd.add_argument("--forest-dir", default=None, help="results/figures/forest (<id>.png embedded)")
    fnd.add_argument("--summary-of-findings", default=None, help="results/tables/summary_of_findings.csv")
    fnd.add_argument("--appraisal-status", default=None, help="results/tables/appraisal_status.csv")
    optional = {
        "--role-evidence": "results/evidence_map/role_evidence.csv",
        "--gap-map": "results/evidence_map/gap_map.csv",
        "--gap-map-png": "results/figures/evidence_map/gap_map.png",
        "--review-findings": "results/reviews/review_findings.csv",
        "--within-trial-roles": "results/meta/within_trial_roles.csv",
        "--role-credibility": "results/meta/role_credibility.csv",
        "--economic": "results/tables/economic_evidence.csv",
        "--workforce": "results/tables/workforce_strategies.csv",
    }
    for option, path in optional.items():
        fnd.add_argument(
            option, default=None, help=f"{path} (optional: absent, the page says what is missing)"
        )
    fnd.add_argument("--out-html", required=True, help="results/report/findings.html (whole page)")
    fnd.add_argument(
        "--fragment-out", required=True, help="results/report/findings_fragment.html (the report includes it)"
    )
    fnd.add_argument(
        "--out-json", required=True, help="results/report/findings.json (statements and numbers)"
    )
    fnd.set_defaults(func=_findings)
