# Meta-analysis stage: effect sizes from the curated outcomes, then each analysis declared in the
# config's `analyses:` (results/meta/<analysis>.json and .csv). Runs after curated validation.

ANALYSIS_IDS = [analysis["id"] for analysis in config["analyses"]]


rule meta_effects:
    input:
        validation="results/extraction/curated_validation.txt",
        included_studies="results/extraction/included_studies.csv",
        outcomes=f"{config['extraction']['curated_dir']}/outcomes.csv",
        studies=f"{config['extraction']['curated_dir']}/studies.csv",
        job_roles=f"{config['extraction']['curated_dir']}/job_roles.yaml",
    output:
        report(
            "results/extraction/effects.csv",
            caption="../report/effects.rst",
            category="6. Synthesis",
        ),
    log:
        "logs/meta_effects.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        multi_arm=config["synthesis"]["multi_arm"],
    shell:
        "ohevidence meta effects --outcomes {input.outcomes:q} --studies {input.studies:q}"
        " --job-roles {input.job_roles:q} --multi-arm {params.multi_arm:q}"
        " --included-studies {input.included_studies:q} --out {output:q} > {log:q} 2>&1"


rule meta_analysis:
    input:
        effects="results/extraction/effects.csv",
        studies=f"{config['extraction']['curated_dir']}/studies.csv",
        job_roles=f"{config['extraction']['curated_dir']}/job_roles.yaml",
    output:
        json=report(
            "results/meta/{analysis}.json",
            caption="../report/meta_analysis.rst",
            category="6. Synthesis",
        ),
        csv=report(
            "results/meta/{analysis}.csv",
            caption="../report/meta_analysis.rst",
            category="6. Synthesis",
        ),
    log:
        "logs/meta_analysis/{analysis}.log",
    wildcard_constraints:
        analysis=one_of(ANALYSIS_IDS),
    conda:
        "../envs/ohevidence.yaml"
    params:
        settings=analysis_settings,
    shell:
        "ohevidence meta run {wildcards.analysis:q} --settings {params.settings:q} --effects {input.effects:q}"
        " --studies {input.studies:q} --job-roles {input.job_roles:q}"
        " --json {output.json:q} --csv {output.csv:q} > {log:q} 2>&1"


rule meta_sensitivity:
    input:
        meta="results/meta/{analysis}.json",
        effects="results/extraction/effects.csv",
        outcomes=f"{config['extraction']['curated_dir']}/outcomes.csv",
        studies=f"{config['extraction']['curated_dir']}/studies.csv",
        job_roles=f"{config['extraction']['curated_dir']}/job_roles.yaml",
        # optional: absent in the snapshot (no published RoB 2 judgements in the evidence)
        rob=lambda w: optional_file(config["report"]["rob"]),
    output:
        json=report(
            "results/meta/sensitivity/{analysis}.json",
            caption="../report/sensitivity.rst",
            category="6. Synthesis",
        ),
        csv=report(
            "results/meta/sensitivity/{analysis}.csv",
            caption="../report/sensitivity.rst",
            category="6. Synthesis",
        ),
    log:
        "logs/meta_sensitivity/{analysis}.log",
    wildcard_constraints:
        analysis=one_of(ANALYSIS_IDS),
    conda:
        "../envs/ohevidence.yaml"
    params:
        rob=lambda w, input: ["--rob", input.rob[0]] if input.rob else [],
        settings=analysis_settings,
    shell:
        "ohevidence meta sensitivity {wildcards.analysis:q} --settings {params.settings:q}"
        " --meta {input.meta:q} --effects {input.effects:q} --outcomes {input.outcomes:q}"
        " --studies {input.studies:q} --job-roles {input.job_roles:q} {params.rob:q}"
        " --json {output.json:q} --csv {output.csv:q} > {log:q} 2>&1"


rule meta_grade:
    input:
        meta="results/meta/{analysis}.json",
        effects="results/extraction/effects.csv",
        studies=f"{config['extraction']['curated_dir']}/studies.csv",
        outcomes=f"{config['extraction']['curated_dir']}/outcomes.csv",
        not_included="results/extraction/curated_not_included.csv",
        # optional, human-owned: RoB 2 judgements and the reviewer's GRADE overrides
        rob=lambda w: optional_file(config["report"]["rob"]),
        grade=lambda w: optional_file(
            f"{config['extraction']['curated_dir']}/grade.csv"
        ),
    output:
        report(
            "results/meta/grade/{analysis}.json",
            caption="../report/grade.rst",
            category="6. Synthesis",
        ),
    log:
        "logs/meta_grade/{analysis}.log",
    wildcard_constraints:
        analysis=one_of(ANALYSIS_IDS),
    conda:
        "../envs/ohevidence.yaml"
    params:
        rob=lambda w, input: ["--rob", input.rob[0]] if input.rob else [],
        grade=lambda w, input: ["--grade", input.grade[0]] if input.grade else [],
        settings=analysis_settings,
    shell:
        "ohevidence meta grade {wildcards.analysis:q} --settings {params.settings:q}"
        " --meta {input.meta:q} --effects {input.effects:q} --studies {input.studies:q}"
        " --outcomes {input.outcomes:q} --not-included {input.not_included:q} {params.rob:q}"
        " {params.grade:q} --json {output:q} > {log:q} 2>&1"


rule meta_roles:
    input:
        meta=expand("results/meta/{analysis}.json", analysis=ANALYSIS_IDS),
        included_studies="results/extraction/included_studies.csv",
        outcomes=f"{config['extraction']['curated_dir']}/outcomes.csv",
        studies=f"{config['extraction']['curated_dir']}/studies.csv",
        job_roles=f"{config['extraction']['curated_dir']}/job_roles.yaml",
    output:
        credibility=report(
            "results/meta/role_credibility.csv",
            caption="../report/role_credibility.rst",
            category="6. Synthesis",
        ),
        within_trial=report(
            "results/meta/within_trial_roles.csv",
            caption="../report/within_trial_roles.rst",
            category="6. Synthesis",
        ),
    log:
        "logs/meta_roles.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        settings=settings_json(analyses=config["analyses"]),
    shell:
        "ohevidence meta roles --settings {params.settings:q} --meta {input.meta:q}"
        " --outcomes {input.outcomes:q} --studies {input.studies:q} --job-roles {input.job_roles:q}"
        " --included-studies {input.included_studies:q}"
        " --credibility {output.credibility:q} --within-trial {output.within_trial:q} > {log:q} 2>&1"
