# Screening stage: eligibility flags, active-learning order, two reviewers' decisions, conflicts,
# agreement and the sheets reviewers fill. data/curated/screening/ is read, never written.

SCREENING = config["screening"]
# Reviewers screen the deduplicated records; a decision on any record deduplication folded into one
# (its `origin`) applies to the kept record.
SCREENING_RECORDS = "results/dedup/unique_records.csv"


rule screen_records:
    input:
        records=SCREENING_RECORDS,
        # the decision file and any filled sheets dropped beside it: editing them reruns screening
        # (a spreadsheet or other file dropped there too, so the run refuses or warns about it)
        decisions=lambda w: sorted(
            {
                str(path)
                for path in [
                    Path(SCREENING["decisions"]),
                    *sheet_files(
                        Path(SCREENING["sheets_dir"]), Path(SCREENING["decisions"])
                    ).watched(),
                ]
                if path.is_file()
            }
        ),
    output:
        title_abstract=report(
            "results/screening/title_abstract.csv",
            caption="../report/screening_title_abstract.rst",
            category="4. Screening",
        ),
        conflicts=report(
            "results/screening/conflicts.csv",
            caption="../report/screening_conflicts.rst",
            category="4. Screening",
        ),
        included=report(
            "results/screening/included.csv",
            caption="../report/screening_included.rst",
            category="4. Screening",
        ),
        agreement=report(
            "results/screening/agreement.json",
            caption="../report/screening_agreement.rst",
            category="4. Screening",
        ),
        prisma=report(
            "results/screening/prisma_counts.json",
            caption="../report/screening_prisma.rst",
            category="4. Screening",
        ),
        stopping=report(
            "results/screening/stopping.json",
            caption="../report/screening_stopping.rst",
            category="4. Screening",
        ),
        ris="results/screening/screening.ris",
        asreview="results/screening/asreview.csv",
        to_screen=expand(
            "results/screening/to_screen_{reviewer}.csv",
            reviewer=SCREENING["reviewers"],
        ),
        full_text=expand(
            "results/screening/full_text_{reviewer}.csv",
            reviewer=SCREENING["reviewers"],
        ),
    log:
        "logs/screen_records.log",
    conda:
        "../envs/ohevidence.yaml"
    # a large review's features are counted on this many processes (ranking.large_review)
    threads: 2
    params:
        settings=settings_json(screening=SCREENING),
    shell:
        "ohevidence screen run --records {input.records:q} --settings {params.settings:q} --jobs {threads:q}"
        " --title-abstract-out {output.title_abstract:q} --conflicts-out {output.conflicts:q}"
        " --included-out {output.included:q} --agreement-out {output.agreement:q}"
        " --prisma-out {output.prisma:q} --stopping-out {output.stopping:q} --ris-out {output.ris:q}"
        " --asreview-out {output.asreview:q} --to-screen-out {output.to_screen:q}"
        " --full-text-out {output.full_text:q} > {log:q} 2>&1"
