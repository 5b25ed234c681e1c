# Helpers shared by every rule: loading and validating the config, and the list of searches.
import json
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path
from snakemake.utils import update_config

from ohevidence.config import (
    check_cluster_resources,
    check_configured_decision_paths,
    check_snapshot_search_ids,
    read_config_file,
    validate_config,
)
from ohevidence.errors import OhevidenceError
from ohevidence.escape import REPORT_RST_KEY, report_rst
from ohevidence.screen.sheets import sheet_files
from ohevidence.search.searches import load_manifest

# Rules call the `ohevidence` CLI by name. pip installs it beside the Python that runs Snakemake
# (and imports ohevidence just above), so put that bin directory first on the jobs' PATH:
# `.venv/bin/snakemake ...` then works without activating the venv (`--sdm conda` jobs still use
# their own environment's, which conda puts in front). PATH always exists: no `envvars:` needed.
BIN_DIR = str(Path(sys.executable).parent)
if os.get_exec_path()[:1] != [BIN_DIR]:
    os.environ.update(PATH=os.pathsep.join([BIN_DIR, *os.get_exec_path()]))

# The review's config. Read here with ohevidence's strict YAML loader (duplicate keys and alias
# bombs are refused with file and line) instead of a `configfile:` directive, whose loader accepts
# both and would expand a bomb before any check. As with the directive, `--configfile FILE` and
# `--config key=value` (already in `config`) override the file's values.
CONFIG_FILE = "config/config.yaml"
CONFIG_SCHEMA = Path(workflow.current_basedir, "../schemas/config.schema.yaml")


def load_workflow_config(overrides):
    """config/config.yaml with the command line's `overrides` merged over it.

    Read and validated exactly as `ohevidence validate` does (defaults filled); a problem is an
    OhevidenceError of one line. `--replace-workflow-config` drops the file, as Snakemake does.
    """
    cli_files = [str(f) for f in workflow.overwrite_configfiles]
    # Snakemake has read --configfile files already (into `overrides`): re-read them strictly so
    # a duplicate key there is refused too.
    for path in cli_files:
        read_config_file(path)
    merged = {}
    replaced = workflow.config_settings.replace_workflow_config and overrides
    if not replaced and (Path(CONFIG_FILE).exists() or not cli_files):
        merged = read_config_file(CONFIG_FILE)
        workflow.configfiles.append(CONFIG_FILE)
    update_config(merged, overrides)
    source = CONFIG_FILE if not overrides else f"{CONFIG_FILE} + command line"
    return validate_config(merged, CONFIG_SCHEMA, source=source)


try:
    config.update(load_workflow_config(dict(config)))
    # A decision path typo would screen nothing: stop before any job runs (not only in screen run).
    check_configured_decision_paths(config, CONFIG_FILE)
except OhevidenceError as error:
    sys.exit(f"ohevidence: error: {error}")


def default_resources():
    """Snakemake's default resources as given (profile or --default-resources): {name: raw value}."""
    given = workflow.resource_settings.default_resources or {}
    return {name: getattr(value, "raw", value) for name, value in given.items()}


# A cluster profile's placeholder account or partition (CHANGE_ME) stops the run before any
# job is submitted, rather than every job failing (or running on a wrong account) on the cluster.
try:
    check_cluster_resources(default_resources(), "default-resources")
except OhevidenceError as error:
    sys.exit(f"ohevidence: error: {error}")
# The config text the report's captions print (workflow/report/*.rst), escaped for
# reStructuredText once: a caption never prints config text raw, so a title cannot run a
# directive (raw HTML, include) in report.html. Set after validation: no config file can set it.
config[REPORT_RST_KEY] = report_rst(config)

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
            check_snapshot_search_ids(
                config, [entry.search_id for entry in listed], manifest, CONFIG_FILE
            )
        except OhevidenceError as error:
            sys.exit(f"ohevidence: error: {error}")
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


def optional_file(path):
    """[path] when the optional human-owned file (rob.csv, grade.csv) exists, else no input."""
    return [path] if Path(path).is_file() else []


def settings_json(**sections):
    """The part of the validated config one job uses, as the JSON its `--settings` option takes.

    Each job gets only its own part (through `params`, never by re-reading config/config.yaml),
    so `--config`/`--configfile` overrides reach it and Snakemake's params trigger re-runs a job
    only when its part changes. `sections` maps a top-level key to the value passed (a whole
    section, or the few keys of it the job reads).
    """
    return json.dumps(sections, sort_keys=True, ensure_ascii=False)


def analysis_settings(wildcards):
    """`--settings` of one analysis: `{"analyses": [that analysis]}` (other analyses do not re-run it)."""
    (analysis,) = [a for a in config["analyses"] if a["id"] == wildcards.analysis]
    return settings_json(analyses=[analysis])
