"""Typed JSON contracts: dataclasses that write themselves as JSON and check a file they read.

Every result file of the meta stage (``results/meta/<id>.json``, its sensitivity JSON, the SWiM
tables' summary) is one dataclass tree. :func:`to_dict` writes the fields in declaration order (so
the declaration *is* the key order of the file); :func:`from_dict` reads a file back and raises one
:class:`~ohevidence.errors.InputError` naming the file and the field path (``groups.medical.k``) for
a missing or ill-typed field.

A class whose JSON form is not field by field (a model summary flattened into its parent) defines
``contract_dict()`` and a classmethod ``contract_read(data, file, where)``.

A field whose JSON key is not a Python name (``from``) says so in its metadata: ``field(metadata=
{"key": "from"})``. Float fields accept JSON integers as they are (a value is never converted, so a
file read and written again is the same file).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, Union

from ohevidence.errors import InputError

T = TypeVar("T")


def json_key(f: dataclasses.Field[Any]) -> str:
    """The JSON name of a dataclass field (its ``key`` metadata, else its name)."""
    return str(f.metadata.get("key", f.name))


def to_dict(obj: Any) -> Any:
    """A dataclass tree as JSON-ready Python (dicts in field order, lists, scalars)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        custom = getattr(obj, "contract_dict", None)
        if custom is not None:  # a class whose JSON form is not field by field (flattened parts)
            return custom()
        return {json_key(f): to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {key: to_dict(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_dict(value) for value in obj]
    return obj


class ContractError(InputError):
    """A JSON result file does not match its contract (a field missing or of the wrong type).

    ``column`` holds the field's path in the file (``studies[1].weight``).
    """

    def __str__(self) -> str:
        text = f"{self.file}: field {self.column!r}: {self.message}"
        return text + (f" (expected {self.expected})" if self.expected else "")


def _fail(file: str | Path, where: str, message: str, expected: str) -> ContractError:
    return ContractError(file, message, column=where or "(top level)", expected=expected)


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list or origin is tuple:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "an object"
    return str(tp)


def _read_value(tp: Any, value: Any, file: str | Path, where: str) -> Any:
    """``value`` checked against the type ``tp`` (nested dataclasses built); ContractError if not."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(tp)):
            return None
        if len(options) == 1:  # X | None: a deeper error in X is reported as it is
            return _read_value(options[0], value, file, where)
        for option in options:
            try:
                return _read_value(option, value, file, where)
            except ContractError:
                continue
        raise _fail(file, where, f"{_short(value)} is not {_type_name(tp)}", _type_name(tp))
    if tp is type(None):
        if value is None:
            return None
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is str or tp is bool:
        if isinstance(value, tp):
            return value
    elif origin is list:
        if isinstance(value, list):
            (item,) = typing.get_args(tp)
            return [_read_value(item, v, file, f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is tuple:
        if isinstance(value, list):
            item = typing.get_args(tp)[0]
            return tuple(_read_value(item, v, file, f"{where}[{i}]") for i, v in enumerate(value))
    elif origin is dict:
        if isinstance(value, dict):
            _, item = typing.get_args(tp)
            return {str(k): _read_value(item, v, file, _join(where, str(k))) for k, v in value.items()}
    elif dataclasses.is_dataclass(tp):
        if isinstance(value, dict):
            return from_dict(typing.cast(type[Any], tp), value, file, where)
    else:  # pragma: no cover - a contract declares only the types above
        raise TypeError(f"unsupported contract type {tp!r}")
    raise _fail(file, where, f"{_short(value)} is not {_type_name(tp)}", _type_name(tp))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def from_dict(cls: type[T], data: Mapping[str, Any], file: str | Path, where: str = "") -> T:
    """An instance of the dataclass ``cls`` from a JSON object, every field checked.

    A field is required unless it has a default; a key the contract does not know is an error too,
    so a writer and its readers cannot drift apart silently.
    """
    if not isinstance(data, Mapping):
        raise _fail(file, where, f"{_short(data)} is not an object", "an object")
    custom = getattr(cls, "contract_read", None)
    if custom is not None:  # a class whose JSON form is not field by field (see contract_dict)
        result: T = custom(data, file, where)
        return result
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    known = set()
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = json_key(f)
        known.add(key)
        path = _join(where, key)
        if key not in data:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise _fail(file, path, "missing field", _type_name(hints[f.name]))
        values[f.name] = _read_value(hints[f.name], data[key], file, path)
    unknown = [key for key in data if key not in known]
    if unknown:
        raise _fail(file, _join(where, unknown[0]), "unknown field", "one of " + ", ".join(sorted(known)))
    return cls(**values)


def read_json_object(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path``; unreadable or not an object is one InputError naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, f"cannot be read as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(path, "not a JSON object", expected="a JSON object")
    return data


class JsonDocument:
    """``to_json`` / ``from_json`` / ``read`` / ``write`` for a results dataclass, through this contract.

    A subclass (a dataclass) names its file in ``LABEL`` for errors about data that came from no file.
    """

    LABEL: typing.ClassVar[str] = "<JSON>"

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = to_dict(self)
        return result

    @classmethod
    def from_json(cls: type[D], data: dict[str, Any], file: str | Path | None = None) -> D:
        return from_dict(cls, data, cls.LABEL if file is None else file)

    @classmethod
    def read(cls: type[D], path: str | Path) -> D:
        """Read and check the file (one InputError naming file and field)."""
        return cls.from_json(read_json_object(path), path)

    def write(self, path: str | Path) -> None:
        from ohevidence.meta.io import write_json

        write_json(self.to_json(), path)


D = TypeVar("D", bound=JsonDocument)
