# Report stage: forest and funnel plots per analysis, the PRISMA 2020 diagram and counts (checked:
# inconsistent counts stop the rule), risk-of-bias plots and the report tables. `snakemake --report`
# gathers every output wrapped in report() below into results/report.html.

REPORT = config["report"]
CURATED = config["extraction"]["curated_dir"]


rule forest_plot:
    input:
        meta="results/meta/{analysis}.json",
        studies=f"{CURATED}/studies.csv",
        outcomes=f"{CURATED}/outcomes.csv",
        job_roles=f"{CURATED}/job_roles.yaml",
        # optional: absent in the snapshot (no published RoB 2 judgements in the evidence)
        rob=lambda w: optional_file(REPORT["rob"]),
    output:
        svg="results/figures/forest/{analysis}.svg",
        png=report(
            "results/figures/forest/{analysis}.png",
            caption="../report/forest_plot.rst",
            category="8. Figures",
            subcategory="Forest plots",
        ),
        pdf="results/figures/forest/{analysis}.pdf",
    log:
        "logs/forest_plot/{analysis}.log",
    wildcard_constraints:
        analysis=one_of(ANALYSIS_IDS),
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
        stem=lambda w, output: output.svg[: -len(".svg")],
        pi=[] if REPORT["prediction_interval"] else ["--no-prediction-interval"],
        rob=lambda w, input: ["--rob", input.rob[0]] if input.rob else [],
    shell:
        "ohevidence report forest --meta {input.meta:q} --studies {input.studies:q}"
        " --outcomes {input.outcomes:q} --job-roles {input.job_roles:q} {params.rob:q}"
        " --out-stem {params.stem:q}"
        " --dpi={params.dpi:q} {params.pi:q} > {log:q} 2>&1"


rule funnel_plot:
    input:
        meta="results/meta/{analysis}.json",
    output:
        note=report(
            "results/figures/funnel/{analysis}.txt",
            caption="../report/funnel_plot.rst",
            category="8. Figures",
            subcategory="Funnel plots",
        ),
        plots=report(
            directory("results/figures/funnel/{analysis}"),
            patterns=["{name}.png"],
            caption="../report/funnel_plot.rst",
            category="8. Figures",
            subcategory="Funnel plots",
        ),
    log:
        "logs/funnel_plot/{analysis}.log",
    wildcard_constraints:
        analysis=one_of(ANALYSIS_IDS),
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
        min_k=REPORT["funnel_min_k"],
    shell:
        "ohevidence report funnel --meta {input.meta:q} --note {output.note:q} --out-dir {output.plots:q}"
        " --min-k={params.min_k:q} --dpi={params.dpi:q} > {log:q} 2>&1"


rule sensitivity_plot:
    input:
        sensitivity="results/meta/sensitivity/{analysis}.json",
    output:
        plots=report(
            directory("results/figures/sensitivity/{analysis}"),
            patterns=["{name}.png"],
            caption="../report/sensitivity_plot.rst",
            category="8. Figures",
            subcategory="Forest plots",
        ),
    log:
        "logs/sensitivity_plot/{analysis}.log",
    wildcard_constraints:
        analysis=one_of(ANALYSIS_IDS),
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
    shell:
        "ohevidence report sensitivity --sensitivity {input.sensitivity:q} --out-dir {output.plots:q}"
        " --dpi={params.dpi:q} > {log:q} 2>&1"


rule synthesis_without_meta_analysis:
    input:
        effects="results/extraction/effects.csv",
        included_studies="results/extraction/included_studies.csv",
        outcomes=f"{CURATED}/outcomes.csv",
        studies=f"{CURATED}/studies.csv",
        job_roles=f"{CURATED}/job_roles.yaml",
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
        # optional: absent in the snapshot (no published RoB 2 judgements in the evidence)
        rob=lambda w: optional_file(REPORT["rob"]),
    output:
        direction=report(
            "results/tables/swim_effect_direction.csv",
            caption="../report/swim_tables.rst",
            category="9. Tables",
        ),
        votes=report(
            "results/tables/swim_vote_counting.csv",
            caption="../report/swim_tables.rst",
            category="9. Tables",
        ),
        swim_items=report(
            "results/tables/swim_items.csv",
            caption="../report/swim_tables.rst",
            category="9. Tables",
        ),
        svg="results/figures/swim/effect_direction.svg",
        png=report(
            "results/figures/swim/effect_direction.png",
            caption="../report/swim_effect_direction.rst",
            category="8. Figures",
            subcategory="Forest plots",
        ),
        pdf="results/figures/swim/effect_direction.pdf",
        albatross_svg="results/figures/swim/albatross.svg",
        albatross_png=report(
            "results/figures/swim/albatross.png",
            caption="../report/swim_albatross.rst",
            category="8. Figures",
            subcategory="Forest plots",
        ),
        albatross_pdf="results/figures/swim/albatross.pdf",
    log:
        "logs/synthesis_without_meta_analysis.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
        figure_dir=lambda w, output: str(Path(output.png).parent),
        rob=lambda w, input: ["--rob", input.rob[0]] if input.rob else [],
    shell:
        "ohevidence report swim --effects {input.effects:q} --outcomes {input.outcomes:q}"
        " --included-studies {input.included_studies:q}"
        " --studies {input.studies:q} --job-roles {input.job_roles:q} {params.rob:q} --meta {input.meta:q}"
        " --direction-out {output.direction:q} --votes-out {output.votes:q} --items-out {output.swim_items:q}"
        " --figure-dir {params.figure_dir:q} --dpi={params.dpi:q} > {log:q} 2>&1"


rule prisma_diagram:
    input:
        search_log="results/search/search_log.csv",
        clusters="results/dedup/clusters.csv",
        screening="results/screening/prisma_counts.json",
        included="results/screening/included.csv",
        included_studies="results/extraction/included_studies.csv",
        included_reviews="results/extraction/included_reviews.csv",
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
    output:
        counts=report(
            "results/prisma/prisma_counts.csv",
            caption="../report/prisma_counts.rst",
            category="8. Figures",
            subcategory="PRISMA 2020",
        ),
        svg="results/figures/prisma.svg",
        png=report(
            "results/figures/prisma.png",
            caption="../report/prisma_diagram.rst",
            category="8. Figures",
            subcategory="PRISMA 2020",
        ),
        pdf="results/figures/prisma.pdf",
    log:
        "logs/prisma_diagram.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
        stem=lambda w, output: output.svg[: -len(".svg")],
        settings=settings_json(
            screening={"exclusion_reasons": config["screening"]["exclusion_reasons"]},
            report={"not_retrieved_reasons": REPORT["not_retrieved_reasons"]},
        ),
    shell:
        "ohevidence report prisma --settings {params.settings:q} --search-log {input.search_log:q}"
        " --clusters {input.clusters:q} --screening-counts {input.screening:q} --included {input.included:q}"
        " --included-studies {input.included_studies:q} --included-reviews {input.included_reviews:q}"
        " --meta {input.meta:q}"
        " --counts-out {output.counts:q} --figure-stem {params.stem:q}"
        " --dpi={params.dpi:q} > {log:q} 2>&1"


rule risk_of_bias:
    input:
        # optional: absent in the snapshot (no published RoB 2 judgements in the evidence)
        rob=lambda w: optional_file(REPORT["rob"]),
    output:
        note=report(
            "results/tables/risk_of_bias.txt",
            caption="../report/risk_of_bias.rst",
            category="9. Tables",
        ),
        plots=report(
            directory("results/figures/rob"),
            patterns=["{name}.png"],
            caption="../report/risk_of_bias.rst",
            category="8. Figures",
            subcategory="Risk of bias",
        ),
    log:
        "logs/risk_of_bias.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
        rob=REPORT["rob"],
    shell:
        "ohevidence report rob --rob {params.rob:q} --out-dir {output.plots:q} --note {output.note:q}"
        " --dpi={params.dpi:q} > {log:q} 2>&1"


rule appraisal_status:
    input:
        included_studies="results/extraction/included_studies.csv",
        studies=f"{CURATED}/studies.csv",
        # optional: absent in the snapshot (no RoB 2, ROBINS-I or AMSTAR 2 judgements in the evidence)
        rob=lambda w: optional_file(REPORT["rob"]),
        robins_i=lambda w: optional_file(config["appraisal"]["robins_i"]),
        amstar2=lambda w: optional_file(config["appraisal"]["amstar2"]),
    output:
        report(
            "results/tables/appraisal_status.csv",
            caption="../report/appraisal_status.rst",
            category="9. Tables",
        ),
    log:
        "logs/appraisal_status.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        rob=REPORT["rob"],
        robins_i=config["appraisal"]["robins_i"],
        amstar2=config["appraisal"]["amstar2"],
    shell:
        "ohevidence report appraisal-status --included-studies {input.included_studies:q}"
        " --studies {input.studies:q} --rob {params.rob:q} --robins-i {params.robins_i:q}"
        " --amstar2 {params.amstar2:q} --out {output:q} > {log:q} 2>&1"


rule report_tables:
    input:
        studies=f"{CURATED}/studies.csv",
        outcomes=f"{CURATED}/outcomes.csv",
        case_studies=f"{CURATED}/case_studies.csv",
        job_roles=f"{CURATED}/job_roles.yaml",
        # optional: every cost figure the evidence prints (absent = the cost outcomes only)
        costs=lambda w: optional_file(f"{CURATED}/costs.csv"),
        effects="results/extraction/effects.csv",
        agreement="results/screening/agreement.json",
        included_studies="results/extraction/included_studies.csv",
        not_included="results/extraction/curated_not_included.csv",
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
        grade=expand("results/meta/grade/{analysis}.json", analysis=ANALYSIS_IDS),
    output:
        characteristics=report(
            "results/tables/characteristics_by_role.csv",
            caption="../report/table_characteristics.rst",
            category="9. Tables",
        ),
        findings=report(
            "results/tables/summary_of_findings.csv",
            caption="../report/table_summary_of_findings.rst",
            category="9. Tables",
        ),
        economic=report(
            "results/tables/economic_evidence.csv",
            caption="../report/table_economic.rst",
            category="9. Tables",
        ),
        workforce=report(
            "results/tables/workforce_strategies.csv",
            caption="../report/table_workforce.rst",
            category="9. Tables",
        ),
        trials=report(
            "results/tables/brief_trials.csv",
            caption="../report/table_brief_trials.rst",
            category="9. Tables",
        ),
        agreement=report(
            "results/tables/screening_agreement.csv",
            caption="../report/table_agreement.rst",
            category="9. Tables",
        ),
    log:
        "logs/report_tables.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        out_dir=lambda w, output: str(Path(output.findings).parent),
        costs=lambda w, input: ["--costs", input.costs[0]] if input.costs else [],
    shell:
        "ohevidence report tables --studies {input.studies:q} --outcomes {input.outcomes:q}"
        " --case-studies {input.case_studies:q} {params.costs:q} --job-roles {input.job_roles:q}"
        " --effects {input.effects:q}"
        " --agreement {input.agreement:q} --meta {input.meta:q} --grade {input.grade:q}"
        " --included-studies {input.included_studies:q} --not-included {input.not_included:q}"
        " --out-dir {params.out_dir:q}"
        " > {log:q} 2>&1"


# Evidence-and-gap map (issue 25 item 3): job roles of the taxonomy x outcome domains, each cell the
# included randomised trials and the reviews (results/reviews/review_findings.csv) with direction and GRADE certainty; feasibility and other studies listed apart.
rule evidence_map:
    input:
        job_roles=f"{CURATED}/job_roles.yaml",
        studies=f"{CURATED}/studies.csv",
        outcomes=f"{CURATED}/outcomes.csv",
        included_studies="results/extraction/included_studies.csv",
        effects="results/extraction/effects.csv",
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
        grade=expand("results/meta/grade/{analysis}.json", analysis=ANALYSIS_IDS),
        review_findings="results/reviews/review_findings.csv",
    output:
        gap_map=report(
            "results/evidence_map/gap_map.csv",
            caption="../report/evidence_map_tables.rst",
            category="9. Tables",
        ),
        role_evidence=report(
            "results/evidence_map/role_evidence.csv",
            caption="../report/evidence_map_tables.rst",
            category="9. Tables",
        ),
        other_studies="results/evidence_map/other_studies.csv",
        html=report(
            "results/evidence_map/gap_map.html",
            caption="../report/evidence_map_html.rst",
            category="8. Figures",
            subcategory="Evidence-and-gap map",
        ),
        svg="results/figures/evidence_map/gap_map.svg",
        png=report(
            "results/figures/evidence_map/gap_map.png",
            caption="../report/evidence_map_figure.rst",
            category="8. Figures",
            subcategory="Evidence-and-gap map",
        ),
        pdf="results/figures/evidence_map/gap_map.pdf",
    log:
        "logs/evidence_map.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        dpi=REPORT["png_dpi"],
        out_dir=lambda w, output: str(Path(output.gap_map).parent),
        stem=lambda w, output: output.svg[: -len(".svg")],
    shell:
        "ohevidence report evidence-map --job-roles {input.job_roles:q} --studies {input.studies:q}"
        " --outcomes {input.outcomes:q} --included-studies {input.included_studies:q}"
        " --effects {input.effects:q} --meta {input.meta:q} --grade {input.grade:q}"
        " --review-findings {input.review_findings:q}"
        " --out-dir {params.out_dir:q} --figure-stem {params.stem:q} --dpi={params.dpi:q} > {log:q} 2>&1"


rule findings:
    input:
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
        grade=expand("results/meta/grade/{analysis}.json", analysis=ANALYSIS_IDS),
        forest=expand("results/figures/forest/{analysis}.png", analysis=ANALYSIS_IDS),
        job_roles=f"{CURATED}/job_roles.yaml",
        summary_of_findings="results/tables/summary_of_findings.csv",
        appraisal_status="results/tables/appraisal_status.csv",
        economic="results/tables/economic_evidence.csv",
        workforce="results/tables/workforce_strategies.csv",
        role_evidence="results/evidence_map/role_evidence.csv",
        gap_map="results/evidence_map/gap_map.csv",
        gap_map_png="results/figures/evidence_map/gap_map.png",
        review_findings="results/reviews/review_findings.csv",
        within_trial_roles="results/meta/within_trial_roles.csv",
        role_credibility="results/meta/role_credibility.csv",
    output:
        html=report(
            "results/report/findings.html",
            caption="../report/findings.rst",
            category="1. Findings",
        ),
        fragment="results/report/findings_fragment.html",
        json=report(
            "results/report/findings.json",
            caption="../report/findings.rst",
            category="1. Findings",
        ),
    log:
        "logs/findings.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        settings=settings_json(
            review={"title": config["review"]["title"]},
            report={"findings_thresholds": REPORT["findings_thresholds"]},
        ),
        forest_dir=lambda w, input: (
            ["--forest-dir", str(Path(input.forest[0]).parent)] if input.forest else []
        ),
    shell:
        "ohevidence report findings --settings {params.settings:q} --meta {input.meta:q}"
        " --grade {input.grade:q} --job-roles {input.job_roles:q} {params.forest_dir:q}"
        " --summary-of-findings {input.summary_of_findings:q}"
        " --appraisal-status {input.appraisal_status:q} --economic {input.economic:q}"
        " --workforce {input.workforce:q} --role-evidence {input.role_evidence:q}"
        " --gap-map {input.gap_map:q} --gap-map-png {input.gap_map_png:q}"
        " --review-findings {input.review_findings:q} --within-trial-roles {input.within_trial_roles:q}"
        " --role-credibility {input.role_credibility:q}"
        " --out-html {output.html:q} --fragment-out {output.fragment:q} --out-json {output.json:q}"
        " > {log:q} 2>&1"
