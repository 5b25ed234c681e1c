# Search stage: parse every search's file into records, then join them with the PRISMA-S log.


rule search_file:
    input:
        file=lambda w: file_search(w)["file"],
    output:
        records="results/search/{search_id}/records.csv",
        search_row="results/search/{search_id}/search.json",
    log:
        "logs/search_file/{search_id}.log",
    wildcard_constraints:
        search_id=one_of(FILE_SEARCHES),
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
        "ohevidence search file {input.file:q} --search-id={wildcards.search_id:q}"
        " --source={params.source:q} --mode={params.mode:q} --run-at={params.run_at:q}"
        " --platform={params.platform:q} --format={params.fmt:q} --query={params.query:q}"
        " --filters={params.filters:q} {params.n_hits:q} --out={params.out_dir:q} > {log:q} 2>&1"


# Live searches write data/raw/searches/<search_id>/ (records, log row, raw responses). A rule
# exists only for searches not yet finished (or all, with refresh_searches), so a finished
# search is an input like any export and Snakemake never re-queries it on its own.
rule search_pubmed:
    input:
        refresh=refresh_request,
    output:
        records=f"{LIVE_DIR}/{{search_id}}/records.csv",
        search_row=f"{LIVE_DIR}/{{search_id}}/search.json",
    log:
        "logs/search_pubmed/{search_id}.log",
    wildcard_constraints:
        search_id=one_of(live_searches_to_run("pubmed")),
    conda:
        "../envs/ohevidence.yaml"
    params:
        out_dir=lambda w, output: str(Path(output.records).parent),
        query=lambda w: live_search(w)["query"],
        mindate=lambda w: live_search(w).get("mindate", ""),
        maxdate=lambda w: live_search(w).get("maxdate", ""),
        email=config["pubmed"]["email"],
        tool=config["pubmed"]["tool"],
        eutils_url=config["pubmed"]["eutils_url"],
        batch_size=config["pubmed"]["batch_size"],
        ratelimit_dir=config["live"]["ratelimit_dir"],
        max_attempts=config["live"]["max_attempts"],
    shell:
        "ohevidence search pubmed --query={params.query:q} --mindate={params.mindate:q}"
        " --maxdate={params.maxdate:q} --search-id={wildcards.search_id:q} --out={params.out_dir:q}"
        " --email={params.email:q} --tool={params.tool:q} --eutils-url={params.eutils_url:q}"
        " --batch-size={params.batch_size:q} --ratelimit-dir={params.ratelimit_dir:q}"
        " --max-attempts={params.max_attempts:q} > {log:q} 2>&1"


rule search_nihr:
    input:
        refresh=refresh_request,
    output:
        records=f"{LIVE_DIR}/{{search_id}}/records.csv",
        search_row=f"{LIVE_DIR}/{{search_id}}/search.json",
    log:
        "logs/search_nihr/{search_id}.log",
    wildcard_constraints:
        search_id=one_of(live_searches_to_run("nihr")),
    conda:
        "../envs/ohevidence.yaml"
    params:
        out_dir=lambda w, output: str(Path(output.records).parent),
        query=lambda w: live_search(w)["query"],
        from_pub_date=lambda w: live_search(w).get("from_pub_date", ""),
        email=config["pubmed"]["email"],
        tool=config["pubmed"]["tool"],
        eutils_url=config["pubmed"]["eutils_url"],
        crossref_url=config["live"]["crossref_url"],
        batch_size=config["pubmed"]["batch_size"],
        ratelimit_dir=config["live"]["ratelimit_dir"],
        max_attempts=config["live"]["max_attempts"],
    shell:
        "ohevidence search nihr --query={params.query:q} --from-pub-date={params.from_pub_date:q}"
        " --search-id={wildcards.search_id:q} --out={params.out_dir:q} --email={params.email:q}"
        " --tool={params.tool:q} --crossref-url={params.crossref_url:q}"
        " --eutils-url={params.eutils_url:q} --batch-size={params.batch_size:q}"
        " --ratelimit-dir={params.ratelimit_dir:q} --max-attempts={params.max_attempts:q} > {log:q} 2>&1"


# The marker is temporary: Snakemake deletes it once the search has run, so
# refresh_searches re-runs each search once per invocation.
rule request_search_refresh:
    output:
        temp("results/.refresh/{search_id}"),
    log:
        "logs/request_search_refresh/{search_id}.log",
    conda:
        "../envs/ohevidence.yaml"
    shell:
        "date -u +%Y-%m-%dT%H:%M:%SZ > {output:q} 2> {log:q}"


rule search_live:
    input:
        records=f"{LIVE_DIR}/{{search_id}}/records.csv",
        search_row=f"{LIVE_DIR}/{{search_id}}/search.json",
    output:
        records="results/search/{search_id}/records.csv",
        search_row="results/search/{search_id}/search.json",
    log:
        "logs/search_live/{search_id}.log",
    wildcard_constraints:
        search_id=one_of(LIVE_SEARCHES),
    conda:
        "../envs/ohevidence.yaml"
    params:
        live_dir=lambda w, input: str(Path(input.records).parent),
        out_dir=lambda w, output: str(Path(output.records).parent),
        query=lambda w: live_search(w)["query"],
        source=lambda w: live_search(w)["source"],
    shell:
        "ohevidence search load {params.live_dir:q} --out={params.out_dir:q} --query={params.query:q}"
        " --source={params.source:q} > {log:q} 2>&1"


# Every live search, raw folder and results (`snakemake --cores 2 live_searches --config mode=live`).
# The raw files are targets (here and in `all`), not only inputs of search_live: Snakemake does
# not rerun a job for a deleted intermediate file, but it does make a missing target, so deleting
# data/raw/searches/<search_id>/ runs that search again and rebuilds everything after it.
rule live_searches:
    input:
        raw=expand(
            f"{LIVE_DIR}/{{search_id}}/{{name}}",
            search_id=LIVE_SEARCHES,
            name=["records.csv", "search.json"],
        ),
        results=expand(
            "results/search/{search_id}/{name}",
            search_id=LIVE_SEARCHES,
            name=["records.csv", "search.json"],
        ),


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
            category="2. Search",
        ),
        search_log=report(
            "results/search/search_log.csv",
            caption="../report/search_log.rst",
            category="2. Search",
        ),
    log:
        "logs/merge_records.log",
    conda:
        "../envs/ohevidence.yaml"
    params:
        search_dirs=expand("results/search/{search_id}", search_id=SEARCH_IDS),
    shell:
        "ohevidence search merge {params.search_dirs:q} --records-out={output.records:q}"
        " --log-out={output.search_log:q} > {log:q} 2>&1"
