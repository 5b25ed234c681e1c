"""Review configuration: load config/config.yaml, fill defaults, validate against the schema.

The workflow (workflow/rules/common.smk) and the CLI both read the file with
:func:`read_config_file` and check it with :func:`validate_config`, so both refuse the same
input with the same one line naming the key path (``imports[0].format``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jsonschema
import yaml
from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource

from ohevidence.errors import ConfigError, InputError
from ohevidence.screen.sheets import sheet_files
from ohevidence.textfile import OUTPUT_FOLDER, check_in_project
from ohevidence.yamlio import YamlError, load_yaml

DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")
# The schemas ship with the workflow, in the project the package is installed from (pip install -e).
# Run in another folder (a review made by `ohevidence init`, which the workflow runs with
# --directory), the default is found there.
PROJECT_SCHEMA = Path(__file__).resolve().parents[2] / DEFAULT_SCHEMA


def schema_file(schema_path: str | Path) -> Path:
    """``schema_path``; the project's schema when it is the default and this folder has none."""
    path = Path(schema_path)
    if path == DEFAULT_SCHEMA and not path.exists() and PROJECT_SCHEMA.exists():
        return PROJECT_SCHEMA
    return path


def _with_defaults(validator_class: type[Any]) -> type[Any]:
    """A validator that fills in each property's ``default`` before validating it."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(
        validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
    ) -> Iterator[jsonschema.ValidationError]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    default = subschema["default"]
                    instance[name] = type(default)(default) if isinstance(default, dict | list) else default
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def describe(error: jsonschema.ValidationError) -> str:
    """The error's message; a failed ``pattern`` says what was expected (the schema's ``x-expected``).

    "does not match '^(?!...'" tells a reviewer nothing, so patterns in the schema carry an
    ``x-expected`` phrase and the message quotes the bad value.
    """
    expected = error.schema.get("x-expected") if isinstance(error.schema, dict) else None
    if error.validator == "pattern" and expected:
        return f"{error.instance!r} is not {expected}"
    return error.message


def schema_validator(schema_path: str | Path, validator_class: type[Any] = Draft202012Validator) -> Any:
    """A validator of the schema file whose relative ``$ref`` s (``config.schema.yaml#/$defs/...``)
    resolve to the schema files beside it, as ``snakemake.utils.validate`` resolves them."""
    path = schema_file(schema_path).resolve()
    schema = {**load_schema(path), "$id": path.as_uri()}

    def retrieve(uri: str) -> Resource[Any]:
        return Resource.from_contents(load_schema(url2pathname(urlparse(uri).path)))

    # referencing's stubs declare Registry through a dataclass_transform that mypy reads without the
    # attrs alias ``retrieve`` (of the private field ``_retrieve``), its documented keyword.
    registry: Registry[Any] = Registry(retrieve=retrieve).with_resource(  # type: ignore[call-arg]
        path.as_uri(), Resource.from_contents(schema)
    )
    return validator_class(schema, registry=registry)


def best_error(validator: Any, instance: Any) -> jsonschema.ValidationError | None:
    """The most relevant error of ``instance`` (jsonschema's best match, in key-path order); None if valid."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return jsonschema.exceptions.best_match(errors)


def key_path(error: jsonschema.ValidationError) -> str:
    """'imports[0].format' for an error deep in the config."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_schema(schema_path: str | Path = DEFAULT_SCHEMA) -> dict[str, Any]:
    path = schema_file(schema_path)
    if not path.exists():
        raise ConfigError(f"config schema {path} not found (run from the project directory)")
    with path.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = yaml.safe_load(handle)
    return schema


def validate_config(
    config: dict[str, Any], schema_path: str | Path = DEFAULT_SCHEMA, *, source: str = "config"
) -> dict[str, Any]:
    """Fill defaults in place and validate; raise :class:`ConfigError` naming the key path."""
    error = best_error(schema_validator(schema_path, _with_defaults(Draft202012Validator)), config)
    if error is not None:
        raise ConfigError(f"{source}: {key_path(error)}: {describe(error)}")
    _check_unique_search_ids(config, source)
    _check_unique_analysis_ids(config, source)
    check_folders_apart(config, source)
    return config


def _check_unique_analysis_ids(config: dict[str, Any], source: str) -> None:
    seen: dict[str, str] = {}
    for index, analysis in enumerate(config.get("analyses", [])):
        analysis_id = analysis.get("id", "")
        where = f"analyses[{index}].id"
        if analysis_id in seen:
            raise ConfigError(
                f"{source}: {where}: analysis id {analysis_id!r} is already used at {seen[analysis_id]} "
                "(each analysis writes results/meta/<id>.json: give each its own id)"
            )
        seen[analysis_id] = where


# Where the pipeline writes, and the human-owned folder it never writes.
OUTPUT_ROOT = Path(OUTPUT_FOLDER)
CURATED_ROOT = Path("data/curated")


def _inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it, symlinks resolved (relative to this folder)."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def input_paths(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, path) of every human-owned input a validated config names (files and folders read)."""
    found = [
        ("screening.decisions", config["screening"]["decisions"]),
        ("screening.sheets_dir", config["screening"]["sheets_dir"]),
        ("dedupe.decisions", config["dedupe"]["decisions"]),
        ("extraction.curated_dir", config["extraction"]["curated_dir"]),
        ("report.rob", config["report"]["rob"]),
        ("appraisal.robins_i", config["appraisal"]["robins_i"]),
        ("appraisal.amstar2", config["appraisal"]["amstar2"]),
        ("snapshot.manifest", config["snapshot"]["manifest"]),
    ]
    found += [(f"imports[{i}].file", entry["file"]) for i, entry in enumerate(config.get("imports", []))]
    return found


def check_folders_apart(config: dict[str, Any], source: str = "config") -> None:
    """Human-owned inputs never inside ``results/``; what the run writes never inside the curated folders.

    A symbolic link may not lead an input out of the project
    (:func:`ohevidence.textfile.check_in_project`). An input under ``results/`` would be mixed
    with the outputs of the run it feeds (Snakemake: a cyclic graph naming no key; cleaning the
    results would delete a reviewer's decisions); an output folder under ``data/curated/`` would
    have the pipeline write into the human-owned folder. One :class:`ConfigError` naming the key.
    """
    for key, path in input_paths(config):
        try:
            check_in_project(path)
        except InputError as exc:
            raise ConfigError(f"{source}: {key}: {path} {exc.message} ({exc.expected})") from None
        if _inside(path, OUTPUT_ROOT):
            raise ConfigError(
                f"{source}: {key}: {path} is inside {OUTPUT_ROOT}/, the folder the pipeline writes; "
                "human-owned inputs belong outside it (e.g. under data/curated/)"
            )
    curated = {("data/curated (the human-owned folder)", CURATED_ROOT)}
    curated |= {
        (f"{key} {path}", Path(path))
        for key, path in input_paths(config)
        if key in ("extraction.curated_dir", "screening.sheets_dir")
    }
    ratelimit = config["live"]["ratelimit_dir"]
    for what, folder in sorted(curated, key=str):
        if _inside(ratelimit, folder):
            raise ConfigError(
                f"{source}: live.ratelimit_dir: {ratelimit} is inside {what}; the run writes its "
                "request-rate state there, so it belongs under results/ (default results/.ratelimit)"
            )


# Cluster resources a profile must name for the review's own site; a profile ships placeholders.
CLUSTER_RESOURCES = {"slurm_account": "SLURM account", "slurm_partition": "SLURM partition"}
PLACEHOLDERS = frozenset({"", "change_me", "changeme", "none", "todo", "your_account", "your_partition"})


def check_cluster_resources(default_resources: dict[str, object], source: str) -> None:
    """Refuse a placeholder SLURM account or partition among Snakemake's default resources.

    ``default_resources`` maps a resource name to its raw value (as given in a profile's
    ``default-resources`` or on the command line). Only the SLURM names are checked, and only
    when given: a local run has none. A placeholder ('CHANGE_ME', empty, an unexpanded
    ``$VARIABLE``) would submit every job to a wrong or default account, or fail on the
    cluster after the workflow started; it is a :class:`ConfigError` before any job runs.
    """
    for name, what in CLUSTER_RESOURCES.items():
        if name not in default_resources:
            continue
        given = default_resources[name]
        value = ("" if given is None else str(given)).strip().strip("'\"")
        if value.lower() in PLACEHOLDERS or value.startswith("$"):
            raise ConfigError(
                f"{source}: {name} is {value!r}, a placeholder: set your {what} in the profile's"
                f" default-resources (workflow/profiles/slurm/config.yaml or your copy of it)"
            )


def check_snapshot_search_ids(
    config: dict[str, Any], snapshot_ids: list[str], manifest: str, source: str = "config"
) -> None:
    """An import may not reuse a search id of the snapshot it runs beside (snapshot mode).

    Live searches run only in live mode, where the snapshot is not read; imports and live searches
    are held apart by :func:`validate_config`.
    """
    listed = set(snapshot_ids)
    for index, entry in enumerate(config.get("imports", [])):
        if entry["search_id"] in listed:
            raise ConfigError(
                f"{source}: imports[{index}].search_id: search_id {entry['search_id']!r} is already "
                f"used by the snapshot ({manifest}); give this search its own id"
            )


def _check_unique_search_ids(config: dict[str, Any], source: str) -> None:
    seen: dict[str, str] = {}
    for section in ("imports", "live_searches"):
        for index, entry in enumerate(config.get(section, [])):
            search_id = entry["search_id"]
            where = f"{section}[{index}].search_id"
            if search_id in seen:
                raise ConfigError(
                    f"{source}: {where}: search_id {search_id!r} is already used at {seen[search_id]}"
                )
            seen[search_id] = where


def check_decision_paths(
    decisions_file: Path,
    sheets_dir: Path,
    *,
    no_decisions_yet: bool,
    source: str = "config",
    keys: tuple[str, str] = ("screening.decisions", "screening.sheets_dir"),
) -> None:
    """Raise :class:`ConfigError` when a configured decision path is missing (a typo screens nothing).

    Missing paths are allowed only with ``screening.no_decisions_yet: true``, which in turn must
    not stand beside a decision file or a filled sheet (it would outlive the first decisions). A
    spreadsheet in the sheets folder is refused here too, before any job runs.
    """
    if no_decisions_yet:
        present = [decisions_file] if decisions_file.is_file() else []
        files = sheet_files(sheets_dir, decisions_file)
        present += [*files.sheets, *files.spreadsheets]
        if present:
            raise ConfigError(
                f"{source}: screening.no_decisions_yet is true but {present[0]} exists "
                "(set it to false so the decisions there are read)"
            )
        return
    for key, path, kind, found in (
        (keys[0], decisions_file, "file", decisions_file.is_file()),
        (keys[1], sheets_dir, "folder", sheets_dir.is_dir()),
    ):
        if not found:
            raise ConfigError(
                f"{source}: {key}: {path} not found (expected an existing {kind}; set "
                "screening.no_decisions_yet: true if nothing has been screened yet)"
            )
    spreadsheets = sheet_files(sheets_dir, decisions_file).spreadsheets
    if spreadsheets:  # found before any job runs (screening refuses it too)
        raise ConfigError(
            f"{source}: {keys[1]}: {spreadsheets[0]} is a spreadsheet; reviewer sheets are read only as "
            "CSV (save it as CSV, UTF-8, in that folder and move the spreadsheet out)"
        )


def check_configured_decision_paths(config: dict[str, Any], source: str) -> None:
    """:func:`check_decision_paths` on a validated config's ``screening`` paths (validate, workflow)."""
    screening = config["screening"]
    check_decision_paths(
        Path(screening["decisions"]),
        Path(screening["sheets_dir"]),
        no_decisions_yet=screening["no_decisions_yet"],
        source=source,
    )


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file, read strictly (:func:`ohevidence.yamlio.load_yaml`).

    A duplicate key, an alias bomb or invalid YAML is a :class:`ConfigError` naming file and line.
    """
    path = Path(path)
    try:
        config = load_yaml(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except YamlError as exc:
        raise ConfigError(str(exc)) from exc
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return config


def load_config(path: str | Path, schema_path: str | Path = DEFAULT_SCHEMA) -> dict[str, Any]:
    """Read a YAML config file, fill defaults and validate it."""
    return validate_config(read_config_file(path), schema_path, source=str(path))


# ---------------------------------------------------------------------------
# Settings passed to one job. The workflow validates the merged config once (config/config.yaml
# with any --configfile/--config overrides) and hands each job only the part it uses, as JSON on
# its command line (Snakemake `params`): a job never re-reads config/config.yaml behind the
# workflow's back, and Snakemake re-runs a job only when its own part changes. By hand, the same
# subcommands take --config FILE and use that file's part.
# ---------------------------------------------------------------------------
def add_settings_arguments(parser: Any, what: str) -> None:
    """``--settings JSON`` (as the workflow passes it) or ``--config FILE`` (by hand), one of them."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--settings", metavar="JSON", help=f"{what} as a JSON object (the workflow passes it from the config)"
    )
    group.add_argument("--config", metavar="FILE", help=f"a review config file: its {what} are used")
    parser.add_argument("--schema", default=str(DEFAULT_SCHEMA), help="config schema (default: %(default)s)")


def parse_settings_json(text: str, option: str = "--settings") -> Any:
    """The JSON value of a settings option; invalid JSON is one ConfigError naming the option."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{option}: not valid JSON ({exc.msg} at character {exc.pos})") from exc


def settings_config(args: Any) -> tuple[dict[str, Any], str]:
    """(validated config with defaults filled, where it came from) from ``--settings`` or ``--config``.

    ``--settings`` holds a partial config as JSON: the top-level keys this job uses (for one
    analysis, ``{"analyses": [that analysis]}``); every key it leaves out takes its default. Both
    paths are validated against the same schema, so both refuse the same input.
    """
    if getattr(args, "settings", None) is not None:
        value = parse_settings_json(args.settings)
        if not isinstance(value, dict):
            raise ConfigError("--settings: expected a JSON object of config keys")
        return validate_config(value, args.schema, source="--settings"), "--settings"
    return load_config(args.config, args.schema), str(args.config)
