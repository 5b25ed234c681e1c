# ohevidence: an occupational-health evidence synthesis, from search to forest plot.
# This file is the table of contents; the rules live in workflow/rules/<stage>.smk.
from snakemake.utils import min_version

min_version("9.0")

# config/config.yaml is read and validated by workflow/rules/common.smk (strict YAML, see there).


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/dedupe.smk"
include: "workflow/rules/screen.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/meta.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/reviews.smk"


rule all:
    default_target: True
    input:
        # each live search's raw folder: deleting it runs that search again
        rules.live_searches.input.raw,
        "results/records/records.csv",
        "results/search/search_log.csv",
        "results/dedup/clusters.csv",
        "results/dedup/unique_records.csv",
        "results/dedup/maybe_pairs.csv",
        "results/dedup/study_links.csv",
        "results/extraction/auto_extracted.csv",
        "results/extraction/worklist.csv",
        "results/extraction/included_studies.csv",
        "results/extraction/curated_not_included.csv",
        "results/screening/title_abstract.csv",
        "results/screening/included.csv",
        "results/extraction/effects.csv",
        expand(
            "results/meta/{analysis}.{ext}", analysis=ANALYSIS_IDS, ext=["json", "csv"]
        ),
        expand(
            "results/figures/forest/{analysis}.{ext}",
            analysis=ANALYSIS_IDS,
            ext=["svg", "png", "pdf"],
        ),
        expand("results/figures/funnel/{analysis}.txt", analysis=ANALYSIS_IDS),
        expand(
            "results/meta/sensitivity/{analysis}.{ext}",
            analysis=ANALYSIS_IDS,
            ext=["json", "csv"],
        ),
        expand("results/figures/sensitivity/{analysis}", analysis=ANALYSIS_IDS),
        expand("results/meta/grade/{analysis}.json", analysis=ANALYSIS_IDS),
        "results/meta/role_credibility.csv",
        "results/meta/within_trial_roles.csv",
        expand(
            "results/figures/swim/{name}.{ext}",
            name=["effect_direction", "albatross"],
            ext=["svg", "png", "pdf"],
        ),
        "results/tables/swim_vote_counting.csv",
        expand("results/figures/prisma.{ext}", ext=["svg", "png", "pdf"]),
        "results/prisma/prisma_counts.csv",
        expand(
            "results/reviews/{name}",
            name=[
                "reviews.csv",
                "review_findings.csv",
                "overlap_matrix.csv",
                "overlap.json",
            ],
        ),
        "results/tables/summary_of_findings.csv",
        "results/tables/risk_of_bias.txt",
        "results/tables/appraisal_status.csv",
        "results/evidence_map/gap_map.csv",
        "results/evidence_map/role_evidence.csv",
        "results/evidence_map/gap_map.html",
        expand("results/figures/evidence_map/gap_map.{ext}", ext=["svg", "png", "pdf"]),
        "results/report/findings.html",
        "results/report/findings_fragment.html",
        "results/report/findings.json",
