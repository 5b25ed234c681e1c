# Review of reviews: systematic reviews included at the review level (config designs.reviews),
# their findings with the reviews' own certainty, and their overlap. Reviews are reported apart:
# the rule fails when a review's estimate sits among the trial effects or in a meta-analysis.


rule reviews:
    input:
        validation="results/extraction/curated_validation.txt",
        # optional, together: a review without a review-of-reviews track has none
        reviews=lambda w: optional_file(f"{CURATED}/reviews.csv"),
        review_findings=lambda w: optional_file(f"{CURATED}/review_findings.csv"),
        review_studies=lambda w: optional_file(f"{CURATED}/review_studies.csv"),
        amstar2=lambda w: optional_file(config["appraisal"]["amstar2"]),
        records="results/dedup/unique_records.csv",
        included="results/screening/included.csv",
        title_abstract="results/screening/title_abstract.csv",
        included_reviews="results/extraction/included_reviews.csv",
        included_studies="results/extraction/included_studies.csv",
        effects="results/extraction/effects.csv",
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
    output:
        reviews=report(
            "results/reviews/reviews.csv",
            caption="../report/reviews_table.rst",
            category="7. Review of reviews",
        ),
        findings=report(
            "results/reviews/review_findings.csv",
            caption="../report/review_findings.rst",
            category="7. Review of reviews",
        ),
        matrix=report(
            "results/reviews/overlap_matrix.csv",
            caption="../report/review_overlap.rst",
            category="7. Review of reviews",
        ),
        overlap="results/reviews/overlap.json",
    log:
        "logs/reviews.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        curated=CURATED,
        amstar2=config["appraisal"]["amstar2"],
    shell:
        "ohevidence reviews --curated {params.curated:q} --amstar2 {params.amstar2:q}"
        " --records {input.records:q} --included {input.included:q}"
        " --title-abstract {input.title_abstract:q} --included-reviews {input.included_reviews:q}"
        " --included-studies {input.included_studies:q} --effects {input.effects:q}"
        " --meta {input.meta:q} --reviews-out {output.reviews:q} --findings-out {output.findings:q}"
        " --matrix-out {output.matrix:q} --overlap-out {output.overlap:q} > {log:q} 2>&1"
