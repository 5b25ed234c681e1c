"""Review configuration: load config/config.yaml, fill defaults, validate against the schema.

The Snakefile validates with ``snakemake.utils.validate`` (same schema, same defaults);
this module gives the CLI the same check outside Snakemake, with errors that name the
key path (``imports[0].format``) rather than a JSON-schema dump.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource

from ohevidence.errors import ConfigError

DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")


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


def key_path(error: jsonschema.ValidationError) -> str:
    """'imports[0].format' for an error deep in the config."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_schema(schema_path: str | Path = DEFAULT_SCHEMA) -> dict[str, Any]:
    path = Path(schema_path)
    if not path.exists():
        raise ConfigError(f"config schema {path} not found (run from the project directory)")
    with path.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = yaml.safe_load(handle)
    return schema


def validate_config(
    config: dict[str, Any], schema_path: str | Path = DEFAULT_SCHEMA, *, source: str = "config"
) -> dict[str, Any]:
    """Fill defaults in place and validate; raise :class:`ConfigError` naming the key path."""
    schema = load_schema(schema_path)
    registry: Registry[Any] = Registry().with_resource(
        Path(schema_path).resolve().as_uri(), Resource.from_contents(schema)
    )
    validator = _with_defaults(Draft202012Validator)(schema, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        if error is None:  # pragma: no cover - best_match returns one when errors exist
            error = errors[0]
        raise ConfigError(f"{source}: {key_path(error)}: {error.message}")
    _check_unique_search_ids(config, source)
    return config


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
    not stand beside a decision file or a filled sheet (it would outlive the first decisions).
    """
    if no_decisions_yet:
        present = [decisions_file] if decisions_file.is_file() else []
        if sheets_dir.is_dir():
            present += sorted(p for p in sheets_dir.glob("*.csv") if p.resolve() != decisions_file.resolve())
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


def load_config(path: str | Path, schema_path: str | Path = DEFAULT_SCHEMA) -> dict[str, Any]:
    """Read a YAML config file, fill defaults and validate it."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            config = yaml.safe_load(handle) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return validate_config(config, schema_path, source=str(path))
