"""`ohevidence meta ...` subcommands: pool a CSV of effects; build effects.csv; run configured analyses."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ohevidence.config import add_settings_arguments
from ohevidence.errors import InputError
from ohevidence.meta.io import pool_json, read_effects_csv, write_json
from ohevidence.meta.model import CI_METHODS, ESTIMATORS, PI_METHODS, MetaInputError, MetaResult, pool
from ohevidence.meta.multilevel import TESTS, three_level
from ohevidence.meta.subgroup import SubgroupResult, subgroup_analysis
from ohevidence.schema import MULTI_ARM_METHODS

log = logging.getLogger("ohevidence.meta")


def _warnings(result: SubgroupResult) -> list[str]:
    models: list[MetaResult] = [result.overall, *result.groups.values()]
    seen: list[str] = []
    for model in models:
        for message in model.messages:
            if message not in seen:
                seen.append(message)
        if not model.converged and "did not converge" not in " ".join(seen):
            seen.append(f"{model.method}: τ² estimation did not converge; no estimate reported")
    return seen


def _pool_three_level(args: argparse.Namespace) -> int:
    """`meta pool --three-level`: effects within clusters (the --cluster column) by REML."""
    if args.by or args.method != "REML" or args.ci != "z":
        raise InputError(
            args.input,
            "--three-level fits one REML model with z or t tests (--test): "
            "it takes no --by, --method other than REML or --ci hksj",
        )
    rows = read_effects_csv(args.input, by=None, cluster=args.cluster)
    assert rows.clusters is not None
    try:
        result = three_level(rows.yi, rows.vi, rows.clusters, rows.labels, test=args.test, level=args.level)
    except MetaInputError as exc:
        raise InputError(args.input, str(exc)) from exc
    data = result.to_dict()
    data["warnings"] = list(result.messages)
    write_json(data, args.json)
    log.info(
        "%s (three-level REML, clusters = %s): k = %d in %d clusters, estimate %.4f [%.4f, %.4f], "
        "σ²_between %s, σ²_within %s -> %s",
        args.input,
        args.cluster,
        result.k,
        result.clusters,
        result.estimate,
        result.ci_low[0],
        result.ci_high[0],
        "n/a" if result.sigma2_between is None else f"{result.sigma2_between:.4f}",
        "n/a" if result.sigma2_within is None else f"{result.sigma2_within:.4f}",
        args.json,
    )
    for message in result.messages:
        log.warning("%s", message)
    return 0


def _pool(args: argparse.Namespace) -> int:
    if args.three_level:
        return _pool_three_level(args)
    rows = read_effects_csv(args.input, by=args.by)
    try:
        if rows.groups is not None:
            result = subgroup_analysis(
                rows.yi,
                rows.vi,
                rows.groups,
                rows.labels,
                method=args.method,
                ci_method=args.ci,
                tau2_mode=args.subgroup_tau2,
                level=args.level,
                pi=args.pi,
                hksj_floor=args.hksj_floor,
            )
        else:
            overall = pool(
                rows.yi,
                rows.vi,
                rows.labels,
                method=args.method,
                ci_method=args.ci,
                hksj_floor=args.hksj_floor,
                level=args.level,
                pi=args.pi,
            )
            result = SubgroupResult(overall=overall, groups={}, test=None)
    except MetaInputError as exc:
        raise InputError(args.input, str(exc)) from exc
    warnings = _warnings(result)
    write_json(pool_json(result, warnings, with_groups=rows.groups is not None), args.json)
    overall = result.overall
    log.info(
        "%s (%s, CI %s): k = %d, estimate %.4f [%.4f, %.4f], tau2 %s -> %s",
        args.input,
        overall.method,
        overall.ci_method,
        overall.k,
        overall.estimate,
        overall.ci_low,
        overall.ci_high,
        "n/a" if overall.tau2 is None else f"{overall.tau2:.4f}",
        args.json,
    )
    for message in warnings:
        log.warning("%s", message)
    return 0


def _effects(args: argparse.Namespace) -> int:
    from ohevidence.extract.included import read_included_study_ids
    from ohevidence.meta.effects_table import build_effects, write_effects

    included = read_included_study_ids(args.included_studies) if args.included_studies else None
    effects = build_effects(
        args.outcomes, args.studies, args.job_roles, multi_arm=args.multi_arm, included=included
    )
    write_effects(effects, args.out)
    pooled = effects[~effects["from"].str.startswith("none")]
    log.info(
        "%d effect rows of %s (%d with numbers, %d listed as from=none) -> %s",
        len(effects),
        "every curated study" if included is None else f"the {len(included)} included curated studies",
        len(pooled),
        len(effects) - len(pooled),
        args.out,
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from ohevidence.config import settings_config
    from ohevidence.meta.analysis import run_analysis
    from ohevidence.meta.spec import find_analysis

    config, source = settings_config(args)
    analysis = find_analysis(config, args.analysis, source)
    summary = run_analysis(analysis, args.effects, args.studies, args.job_roles, args.json, args.csv)
    log.info("%s: %s -> %s, %s", args.analysis, summary, args.json, args.csv)
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from ohevidence.config import settings_config
    from ohevidence.meta.io import read_csv_rows
    from ohevidence.meta.result import AnalysisResult
    from ohevidence.meta.roles import read_job_roles
    from ohevidence.meta.sensitivity import read_rob_rows, sensitivity_report, sensitivity_table, study_inputs
    from ohevidence.meta.spec import find_analysis
    from ohevidence.schema import SENSITIVITY_COLUMNS
    from ohevidence.tableio import write_table

    config, source = settings_config(args)
    analysis = find_analysis(config, args.analysis, source)
    meta = AnalysisResult.read(args.meta)
    rob, rob_recorded = read_rob_rows(args.rob)
    rows = study_inputs(
        meta, read_csv_rows(args.effects), read_csv_rows(args.outcomes), read_csv_rows(args.studies), rob
    )
    report = sensitivity_report(
        analysis, meta, rows, read_job_roles(args.job_roles), rob_recorded=rob_recorded
    )
    report.write(args.json)
    write_table(sensitivity_table(report), args.csv, SENSITIVITY_COLUMNS)
    log.info(
        "%s: %d sensitivity model(s), meta-regression %s -> %s, %s",
        args.analysis,
        len(report.variants),
        "fitted" if report.meta_regression else "not fitted",
        args.json,
        args.csv,
    )
    for note in report.notes:
        log.info("%s: %s", args.analysis, note)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from ohevidence.config import settings_config
    from ohevidence.meta.grade import grade_analysis, read_grade_overrides
    from ohevidence.meta.io import read_csv_rows
    from ohevidence.meta.result import AnalysisResult
    from ohevidence.meta.sensitivity import read_rob_rows
    from ohevidence.meta.spec import find_analysis

    config, source = settings_config(args)
    analysis = find_analysis(config, args.analysis, source)
    rob, rob_recorded = read_rob_rows(args.rob)
    overrides = read_grade_overrides(args.grade)
    override = overrides.get(args.analysis)
    effects = read_csv_rows(args.effects)
    proposal = grade_analysis(
        AnalysisResult.read(args.meta),
        studies=read_csv_rows(args.studies),
        outcomes=read_csv_rows(args.outcomes),
        rob=rob,
        not_included=read_csv_rows(args.not_included),
        with_results={row["study_id"] for row in effects if row.get("yi")},
        settings=analysis.grade,
        override=override[1] if override else None,
        override_file=str(args.grade),
        override_line=override[0] if override else None,
    )
    proposal.write(args.json)
    log.info(
        "%s: certainty %s (proposed %s; rob.csv %s) -> %s",
        args.analysis,
        proposal.certainty,
        proposal.proposed_certainty,
        "read" if rob_recorded else "absent",
        args.json,
    )
    for judgement in proposal.domains:
        log.info("%s: %s %s: %s", args.analysis, judgement.domain, judgement.decision, judgement.rule)
    return 0


def _roles(args: argparse.Namespace) -> int:
    from ohevidence.config import settings_config
    from ohevidence.meta.io import read_csv_rows
    from ohevidence.meta.result import AnalysisResult
    from ohevidence.meta.role_evidence import role_credibility, within_trial_roles
    from ohevidence.meta.roles import read_job_roles
    from ohevidence.meta.spec import find_analysis
    from ohevidence.schema import ROLE_CREDIBILITY_COLUMNS, WITHIN_TRIAL_ROLE_COLUMNS
    from ohevidence.tableio import write_table

    config, source = settings_config(args)
    results = [AnalysisResult.read(path) for path in args.meta]
    pairs = [(find_analysis(config, result.analysis_id, source), result) for result in results]
    outcomes = read_csv_rows(args.outcomes)
    by_outcome = {(row["study_id"], row["outcome_id"]): row for row in outcomes}
    roles = read_job_roles(args.job_roles)
    credibility = role_credibility(pairs, by_outcome, roles)
    write_table(credibility, args.credibility, ROLE_CREDIBILITY_COLUMNS)
    studies = {row["study_id"]: row for row in read_csv_rows(args.studies)}
    if args.included_studies:
        from ohevidence.extract.included import read_included_study_ids

        included = read_included_study_ids(args.included_studies)
        outcomes = [row for row in outcomes if row["study_id"] in included]
    within = within_trial_roles(outcomes, studies, roles)
    write_table(within, args.within_trial, WITHIN_TRIAL_ROLE_COLUMNS)
    log.info(
        "%d role-subgroup claim(s) rated -> %s; %d within-trial role comparison(s) -> %s",
        len(credibility),
        args.credibility,
        len(within),
        args.within_trial,
    )
    for row in credibility.itertuples():
        log.info("%s: %s credibility (%s)", row.analysis_id, row.rating, row.concerns or "no concerns")
    for row in within.itertuples():
        log.info("%s: %s vs %s: %s", row.study_id, row.role_a, row.role_b, row.direction)
    return 0


def register(stages: Any) -> None:
    """Add `meta` and its subcommands to the top-level parser's subparsers."""
    meta = stages.add_parser("meta", help="effect sizes and meta-analysis (pool, effects, run)")
    commands = meta.add_subparsers(dest="meta_command", required=True, metavar="COMMAND")

    pool_ = commands.add_parser("pool", help="pool a CSV of study effects (columns study, yi, vi)")
    pool_.add_argument("--input", required=True, help="CSV with columns study, yi, vi (and the --by column)")
    pool_.add_argument("--method", choices=ESTIMATORS, default="REML", help="FE or the τ² estimator")
    pool_.add_argument("--ci", choices=CI_METHODS, default="z", help="z or Hartung-Knapp-Sidik-Jonkman")
    pool_.add_argument("--hksj-floor", action="store_true", help="HKSJ ad-hoc floor (never narrower than z)")
    pool_.add_argument(
        "--pi",
        choices=PI_METHODS,
        default="z",
        help="prediction interval: z (metafor's predict.rma default) or t (t on k-2 df, none for k < 3; "
        "Cochrane Handbook 10.10.4.3)",
    )
    pool_.add_argument("--by", default=None, help="column holding subgroups (e.g. job_role)")
    pool_.add_argument(
        "--subgroup-tau2",
        choices=["separate", "common"],
        default="separate",
        help="separate τ² per subgroup + Q-between (RevMan/meta) or one common τ² + QM (metafor)",
    )
    pool_.add_argument(
        "--three-level",
        action="store_true",
        help="dependent effects: three-level REML model, effects within the --cluster column's clusters "
        "(metafor rma.mv(yi, vi, random = ~ 1 | cluster/effect)), with CR1 and CR2 cluster-robust SEs",
    )
    pool_.add_argument(
        "--cluster", default="study", help="with --three-level: column naming each effect's cluster (study)"
    )
    pool_.add_argument(
        "--test", choices=TESTS, default="z", help="with --three-level: z (default) or t on k - p df"
    )
    pool_.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    pool_.add_argument("--json", required=True, help="output JSON")
    pool_.set_defaults(func=_pool)

    effects = commands.add_parser("effects", help="effect sizes from the curated outcomes -> effects.csv")
    effects.add_argument("--outcomes", default="data/curated/outcomes.csv")
    effects.add_argument("--studies", default="data/curated/studies.csv")
    effects.add_argument("--job-roles", default="data/curated/job_roles.yaml")
    effects.add_argument(
        "--multi-arm",
        choices=MULTI_ARM_METHODS,
        default="split_control",
        help="multi-arm trials: split the shared control (default) or combine the arms",
    )
    effects.add_argument(
        "--included-studies",
        help="results/extraction/included_studies.csv: only these curated studies enter (default: all)",
    )
    effects.add_argument("--out", required=True, help="results/extraction/effects.csv")
    effects.set_defaults(func=_effects)

    run = commands.add_parser("run", help="run one analysis declared in the config's `analyses:`")
    run.add_argument("analysis", help="analysis id")
    add_settings_arguments(run, 'settings of the analysis (`{"analyses": [{...}]}` with --settings)')
    run.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    run.add_argument("--studies", default="data/curated/studies.csv")
    run.add_argument("--job-roles", default="data/curated/job_roles.yaml")
    run.add_argument("--json", required=True)
    run.add_argument("--csv", required=True)
    run.set_defaults(func=_run)

    sens = commands.add_parser(
        "sensitivity",
        help="sensitivity analyses and meta-regression of one analysis (config sensitivity:, mods:)",
    )
    sens.add_argument("analysis", help="analysis id")
    add_settings_arguments(sens, 'settings of the analysis (`{"analyses": [{...}]}` with --settings)')
    sens.add_argument("--meta", required=True, help="results/meta/<id>.json (the studies it pooled)")
    sens.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    sens.add_argument("--outcomes", default="data/curated/outcomes.csv")
    sens.add_argument("--studies", default="data/curated/studies.csv")
    sens.add_argument("--job-roles", default="data/curated/job_roles.yaml")
    sens.add_argument("--rob", default=None, help="data/curated/rob.csv (optional: absent = not assessed)")
    sens.add_argument("--json", required=True, help="results/meta/sensitivity/<id>.json")
    sens.add_argument("--csv", required=True, help="results/meta/sensitivity/<id>.csv")
    sens.set_defaults(func=_sensitivity)

    grade = commands.add_parser(
        "grade", help="GRADE of one analysis: each domain proposed from the numbers, with its rule"
    )
    grade.add_argument("analysis", help="analysis id")
    add_settings_arguments(grade, 'settings of the analysis (`{"analyses": [{...}]}` with --settings)')
    grade.add_argument("--meta", required=True, help="results/meta/<id>.json")
    grade.add_argument("--effects", required=True, help="results/extraction/effects.csv")
    grade.add_argument("--studies", default="data/curated/studies.csv")
    grade.add_argument("--outcomes", default="data/curated/outcomes.csv")
    grade.add_argument("--not-included", required=True, help="results/extraction/curated_not_included.csv")
    grade.add_argument("--rob", default=None, help="data/curated/rob.csv (optional: absent = not assessed)")
    grade.add_argument("--grade", default=None, help="data/curated/grade.csv (optional reviewer overrides)")
    grade.add_argument("--json", required=True, help="results/meta/grade/<id>.json")
    grade.set_defaults(func=_grade)

    roles = commands.add_parser(
        "roles",
        help="job role: credibility of role-subgroup claims (ICEMAN-style); within-trial role comparisons",
    )
    add_settings_arguments(roles, 'the analyses (`{"analyses": [...]}` with --settings; role_hypothesis)')
    roles.add_argument(
        "--meta",
        nargs="*",
        default=[],
        help="results/meta/<id>.json of every analysis (none: header-only tables)",
    )
    roles.add_argument("--outcomes", default="data/curated/outcomes.csv")
    roles.add_argument("--studies", default="data/curated/studies.csv")
    roles.add_argument("--job-roles", default="data/curated/job_roles.yaml")
    roles.add_argument(
        "--included-studies",
        help="results/extraction/included_studies.csv: only these curated studies' arms (default: all)",
    )
    roles.add_argument("--credibility", required=True, help="results/meta/role_credibility.csv")
    roles.add_argument("--within-trial", required=True, help="results/meta/within_trial_roles.csv")
    roles.set_defaults(func=_roles)
