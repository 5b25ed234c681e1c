# Helpers shared by every rule: config validation and the list of searches.
import yaml
from pathlib import Path
from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")


def load_file_searches():
    """Every search that arrives as a file: the snapshot's (in snapshot mode) and the imports.

    Returns {search_id: dict of the search's keys plus 'mode'}.
    """
    searches = {}
    entries = []
    if config["mode"] == "snapshot":
        manifest = config["snapshot"]["manifest"]
        with open(manifest, encoding="utf-8") as handle:
            listed = (yaml.safe_load(handle) or {}).get("searches") or []
        if not listed:
            raise ValueError(f"config snapshot.manifest: {manifest} lists no searches")
        entries += [(entry, "snapshot", manifest) for entry in listed]
    else:
        raise ValueError(
            "config mode: 'live' needs the live search rules (PubMed E-utilities and NIHR "
            "Journals Library clients), which are not part of this version yet; use mode: snapshot "
            "and add your exports under imports:"
        )
    entries += [(entry, "import", "config imports") for entry in config["imports"]]
    for entry, mode, where in entries:
        search_id = entry["search_id"]
        if search_id in searches:
            raise ValueError(f"{where}: search_id {search_id!r} is used twice")
        searches[search_id] = {**entry, "mode": mode}
    return searches


FILE_SEARCHES = load_file_searches()
SEARCH_IDS = sorted(FILE_SEARCHES)


wildcard_constraints:
    search_id="|".join(SEARCH_IDS),


def file_search(wildcards):
    return FILE_SEARCHES[wildcards.search_id]


def n_hits_option(wildcards):
    n_hits = file_search(wildcards).get("n_hits")
    return "" if n_hits is None else f"--n-hits {int(n_hits)}"
