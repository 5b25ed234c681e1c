# Extraction stage. The curated tables (data/curated/, human-owned, never written by a rule) are
# checked first: a typo there stops the run with file, line and column before any number is used.

CURATED = config["extraction"]["curated_dir"]
# Optional table: further reports of curated studies (process/economic evaluations, follow-ups).
STUDY_REPORTS = f"{CURATED}/study_reports.csv"


rule validate_curated:
    input:
        studies=f"{CURATED}/studies.csv",
        outcomes=f"{CURATED}/outcomes.csv",
        job_roles=f"{CURATED}/job_roles.yaml",
        case_studies=f"{CURATED}/case_studies.csv",
        reviews=lambda w: optional_file(f"{CURATED}/reviews.csv"),
        review_findings=lambda w: optional_file(f"{CURATED}/review_findings.csv"),
        review_studies=lambda w: optional_file(f"{CURATED}/review_studies.csv"),
        study_reports=lambda w: [STUDY_REPORTS] if Path(STUDY_REPORTS).exists() else [],
        rob=lambda w: optional_file(config["report"]["rob"]),
        robins_i=lambda w: optional_file(config["appraisal"]["robins_i"]),
        amstar2=lambda w: optional_file(config["appraisal"]["amstar2"]),
    output:
        report(
            "results/extraction/curated_validation.txt",
            caption="../report/curated_validation.rst",
            category="5. Extraction",
        ),
    log:
        "logs/validate_curated.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        curated=lambda w, input: str(Path(input.studies).parent),
        rob=config["report"]["rob"],
        robins_i=config["appraisal"]["robins_i"],
        amstar2=config["appraisal"]["amstar2"],
    shell:
        "ohevidence validate --curated-only --curated {params.curated:q} --rob {params.rob:q}"
        " --robins-i {params.robins_i:q} --amstar2 {params.amstar2:q} --report {output:q} > {log:q} 2>&1"


rule extract_records:
    input:
        records="results/dedup/unique_records.csv",
        study_links="results/dedup/study_links.csv",
        included="results/screening/included.csv",
        title_abstract="results/screening/title_abstract.csv",
        validation="results/extraction/curated_validation.txt",
        studies=f"{CURATED}/studies.csv",
        study_reports=lambda w: [STUDY_REPORTS] if Path(STUDY_REPORTS).exists() else [],
        job_roles=f"{CURATED}/job_roles.yaml",
        reviews=lambda w: optional_file(f"{CURATED}/reviews.csv"),
    output:
        extracted=report(
            "results/extraction/auto_extracted.csv",
            caption="../report/auto_extracted.rst",
            category="5. Extraction",
        ),
        worklist=report(
            "results/extraction/worklist.csv",
            caption="../report/worklist.rst",
            category="5. Extraction",
        ),
        included_reports=report(
            "results/extraction/included_reports.csv",
            caption="../report/included_reports.rst",
            category="5. Extraction",
        ),
        included_studies=report(
            "results/extraction/included_studies.csv",
            caption="../report/included_studies.rst",
            category="5. Extraction",
        ),
        included_reviews=report(
            "results/extraction/included_reviews.csv",
            caption="../report/included_reviews.rst",
            category="5. Extraction",
        ),
        not_included=report(
            "results/extraction/curated_not_included.csv",
            caption="../report/curated_not_included.rst",
            category="5. Extraction",
        ),
    log:
        "logs/extract_records.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        curated=lambda w, input: str(Path(input.studies).parent),
        settings=settings_json(
            extraction=config["extraction"],
            designs=config["designs"],
            synthesis={
                "include_without_screened_report": config["synthesis"][
                    "include_without_screened_report"
                ]
            },
        ),
    shell:
        "ohevidence extract --records {input.records:q} --study-links {input.study_links:q}"
        " --included {input.included:q} --title-abstract {input.title_abstract:q}"
        " --curated {params.curated:q} --settings {params.settings:q}"
        " --out {output.extracted:q} --worklist {output.worklist:q}"
        " --included-reports-out {output.included_reports:q}"
        " --included-studies-out {output.included_studies:q}"
        " --included-reviews-out {output.included_reviews:q}"
        " --not-included-out {output.not_included:q} > {log:q} 2>&1"
