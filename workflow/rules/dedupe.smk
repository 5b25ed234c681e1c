# Deduplication: one record per bibliographic item, uncertain pairs for people, reports linked to studies.


# Reviewers' decisions on uncertain pairs: optional and human-owned, read only when present.
DEDUP_DECISIONS = config.get("dedupe", {}).get(
    "decisions", "data/curated/dedup_decisions.csv"
)


rule deduplicate:
    input:
        records="results/records/records.csv",
        decisions=lambda w: [DEDUP_DECISIONS] if Path(DEDUP_DECISIONS).exists() else [],
    output:
        clusters=report(
            "results/dedup/clusters.csv",
            caption="../report/dedup_clusters.rst",
            category="3. Deduplication",
        ),
        unique_records=report(
            "results/dedup/unique_records.csv",
            caption="../report/dedup_unique_records.rst",
            category="3. Deduplication",
        ),
        maybe_pairs=report(
            "results/dedup/maybe_pairs.csv",
            caption="../report/dedup_maybe_pairs.rst",
            category="3. Deduplication",
        ),
        study_links=report(
            "results/dedup/study_links.csv",
            caption="../report/dedup_study_links.rst",
            category="3. Deduplication",
        ),
    log:
        "logs/deduplicate.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        decisions=lambda w, input: (
            ["--decisions", *input.decisions] if input.decisions else []
        ),
        max_block=config.get("dedupe", {}).get("max_block", 50),
        window=config.get("dedupe", {}).get("window", 8),
    shell:
        "ohevidence dedupe --records {input.records:q} {params.decisions:q}"
        " --max-block={params.max_block:q} --window={params.window:q}"
        " --clusters-out {output.clusters:q} --unique-records-out {output.unique_records:q}"
        " --maybe-pairs-out {output.maybe_pairs:q} --study-links-out {output.study_links:q}"
        " > {log:q} 2>&1"
