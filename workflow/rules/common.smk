# Helpers shared by every rule: config validation and the list of searches.
import os
import re
from dataclasses import asdict
from pathlib import Path
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from ohevidence.errors import InputError
from ohevidence.search.searches import load_manifest

CONFIG_SCHEMA = Path(workflow.current_basedir, "../schemas/config.schema.yaml")
validate(config, schema=str(CONFIG_SCHEMA))

# Finished live searches live here, so a later (offline) run re-reads rather than re-queries them.
LIVE_DIR = "data/raw/searches"

# The NCBI API key reaches the jobs through the environment, never the command line (which
# Snakemake prints and logs). It is optional (without it the rate is 3/s), hence no `envvars:`.
NCBI_KEY_VARIABLE = "NCBI_API_KEY"
if config["pubmed"]["api_key"]:
    os.environ.setdefault(NCBI_KEY_VARIABLE, config["pubmed"]["api_key"])

# `--config refresh_searches=true` arrives as the string "true".
REFRESH_SEARCHES = str(config["refresh_searches"]).lower() == "true"


def load_file_searches():
    """Every search that arrives as a file: the snapshot's (in snapshot mode) and the imports.

    The manifest is validated against workflow/schemas/searches.schema.yaml by the same code as
    `ohevidence validate` (one message naming the file and key path, e.g. searches[0].source),
    before any of its values reaches a rule. Returns {search_id: the search's keys plus 'mode'}.
    """
    searches = {}
    entries = []
    if config["mode"] == "snapshot":
        manifest = config["snapshot"]["manifest"]
        try:
            listed = load_manifest(manifest, CONFIG_SCHEMA)
        except InputError as error:
            raise WorkflowError(str(error)) from None
        entries += [(asdict(entry), "snapshot", manifest) for entry in listed]
    entries += [(entry, "import", "config imports") for entry in config["imports"]]
    for entry, mode, where in entries:
        search_id = entry["search_id"]
        if search_id in searches:
            raise ValueError(f"{where}: search_id {search_id!r} is used twice")
        searches[search_id] = {**entry, "mode": mode}
    return searches


def load_live_searches():
    """The `live_searches` of a live run, {search_id: entry}; none in snapshot mode."""
    if config["mode"] != "live":
        return {}
    searches = {}
    for index, entry in enumerate(config["live_searches"]):
        search_id = entry["search_id"]
        if search_id in FILE_SEARCHES or search_id in searches:
            raise ValueError(
                f"config live_searches[{index}]: search_id {search_id!r} is used twice"
            )
        searches[search_id] = entry
    return searches


def live_searches_to_run(source):
    """Live searches of `source` that run now: not finished yet, or refresh_searches is set."""
    return [
        search_id
        for search_id, entry in LIVE_SEARCHES.items()
        if entry["source"] == source
        and (REFRESH_SEARCHES or not Path(LIVE_DIR, search_id, "search.json").exists())
    ]


def one_of(ids):
    """Wildcard pattern matching exactly these ids (and nothing when there are none)."""
    return "|".join(re.escape(i) for i in ids) if ids else "(?!)"


FILE_SEARCHES = load_file_searches()
LIVE_SEARCHES = load_live_searches()
SEARCH_IDS = sorted([*FILE_SEARCHES, *LIVE_SEARCHES])


wildcard_constraints:
    search_id=one_of(SEARCH_IDS),


def file_search(wildcards):
    return FILE_SEARCHES[wildcards.search_id]


def live_search(wildcards):
    return LIVE_SEARCHES[wildcards.search_id]


def refresh_request(wildcards):
    """With refresh_searches, a fresh marker (deleted after use) makes a finished search run again."""
    return f"results/.refresh/{wildcards.search_id}" if REFRESH_SEARCHES else []


def n_hits_option(wildcards):
    """["--n-hits=<n>"] or []: a list, so `{params.n_hits:q}` quotes it and an empty one vanishes."""
    n_hits = file_search(wildcards).get("n_hits")
    return [] if n_hits is None else [f"--n-hits={int(n_hits)}"]
