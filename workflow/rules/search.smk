# Search stage: parse every search's file into records, then join them with the PRISMA-S log.


rule search_file:
    input:
        file=lambda w: file_search(w)["file"],
    output:
        records="results/search/{search_id}/records.csv",
        search_row="results/search/{search_id}/search.json",
    log:
        "logs/search_file/{search_id}.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        out_dir=lambda w, output: str(Path(output.records).parent),
        source=lambda w: file_search(w)["source"],
        mode=lambda w: file_search(w)["mode"],
        run_at=lambda w: file_search(w)["run_at"],
        platform=lambda w: file_search(w).get("platform", ""),
        fmt=lambda w: file_search(w).get("format", "auto"),
        query=lambda w: file_search(w).get("query", ""),
        filters=lambda w: file_search(w).get("filters", ""),
        n_hits=n_hits_option,
    shell:
        "ohevidence search file {input.file:q} --search-id {wildcards.search_id}"
        " --source {params.source} --mode {params.mode} --run-at={params.run_at:q}"
        " --platform={params.platform:q} --format {params.fmt} --query={params.query:q}"
        " --filters={params.filters:q} {params.n_hits} --out {params.out_dir:q} > {log:q} 2>&1"


rule merge_records:
    input:
        records=expand("results/search/{search_id}/records.csv", search_id=SEARCH_IDS),
        search_rows=expand(
            "results/search/{search_id}/search.json", search_id=SEARCH_IDS
        ),
    output:
        records=report(
            "results/records/records.csv",
            caption="../report/records.rst",
            category="1. Search",
        ),
        search_log=report(
            "results/search/search_log.csv",
            caption="../report/search_log.rst",
            category="1. Search",
        ),
    log:
        "logs/merge_records.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        search_dirs=expand("results/search/{search_id}", search_id=SEARCH_IDS),
    shell:
        "ohevidence search merge {params.search_dirs:q} --records-out {output.records:q}"
        " --log-out {output.search_log:q} > {log:q} 2>&1"
