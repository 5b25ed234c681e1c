"""Strict YAML reading for the files people write: the config, the snapshot manifest, job_roles.yaml.

PyYAML's safe loader accepts a key given twice in one mapping (the last silently wins, so a second
``imports: []`` drops a search from the review) and expands aliases without limit (a few lines of
"billion laughs" anchors become billions of values once a consumer copies or walks them).
:class:`StrictLoader` refuses both while the document is composed, before anything is built:

* a duplicate key, naming the line and column of both occurrences;
* aliases (``*name``) that together stand for more than :data:`MAX_ALIAS_VALUES` values, and an
  alias inside the node it refers to (a recursive document). Anchors for a few repeated values
  (``run_at: &date ...``) stay allowed.

Every refusal, and every syntax error, is one :class:`YamlError` line naming file, line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from ohevidence.errors import InputError
from ohevidence.textfile import check_in_project

# Values (scalars, lists, mappings) aliases may stand for in one document, counted as if every
# alias were written out in full. The shipped files use none; a bomb needs millions.
MAX_ALIAS_VALUES = 10_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlError(InputError):
    """A YAML file that cannot be read safely: invalid, a duplicate key, or an alias bomb."""


def _where(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and limits what aliases expand to."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._alias_values = 0
        self._sizes: dict[int, int] = {}

    def _fail(self, mark: yaml.Mark, message: str, expected: str) -> YamlError:
        return YamlError(self.name, message, line=mark.line + 1, expected=expected)

    def _expanded_size(self, node: Node) -> int:
        """Values ``node`` stands for with every alias in it written out (memoised per node)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, ScalarNode):
            size = 1
        elif isinstance(node, MappingNode):
            size = 1 + sum(self._expanded_size(k) + self._expanded_size(v) for k, v in node.value)
        else:
            size = 1 + sum(self._expanded_size(item) for item in node.value)
        self._sizes[id(node)] = size
        return size

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:  # an undefined alias is PyYAML's own error
                if target.end_mark is None:  # still being composed: the alias is inside its anchor
                    raise self._fail(
                        event.start_mark,
                        f"alias *{event.anchor} at column {event.start_mark.column + 1} refers to a "
                        "node that contains it (a recursive document)",
                        "an alias only to a finished node",
                    )
                self._alias_values += self._expanded_size(target)
                if self._alias_values > MAX_ALIAS_VALUES:
                    raise self._fail(
                        event.start_mark,
                        f"aliases expand to more than {MAX_ALIAS_VALUES} values by alias "
                        f"*{event.anchor} at column {event.start_mark.column + 1} (a YAML alias bomb?)",
                        f"anchors/aliases standing for at most {MAX_ALIAS_VALUES} values in all",
                    )
        # types-PyYAML says Node | None; PyYAML's compose_node always returns a node (alias or new).
        node: Node = super().compose_node(parent, index)  # type: ignore[assignment]
        return node

    # types-PyYAML types ``anchor`` as a dict; PyYAML passes the anchor name (str) or None.
    def compose_mapping_node(self, anchor: str | None) -> MappingNode:  # type: ignore[override]
        node: MappingNode = super().compose_mapping_node(anchor)  # type: ignore[arg-type]
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            key = key_node.value if key_node.tag == _MERGE_TAG else self.construct_object(key_node)
            if key in seen:
                raise self._fail(
                    key_node.start_mark,
                    f"duplicate key {key!r} at column {key_node.start_mark.column + 1}, "
                    f"already given at {_where(seen[key])} of the same mapping "
                    "(YAML would silently keep only the last)",
                    "each key once per mapping",
                )
            seen[key] = key_node.start_mark
        return node


def parse_yaml(text: str, name: str | Path) -> tuple[Any, Node | None]:
    """The document in ``text`` and its node tree (for line numbers), read with :class:`StrictLoader`.

    ``name`` labels errors. Raises :class:`YamlError` for invalid YAML, a duplicate key, an alias
    bomb or nesting too deep to read.
    """
    loader = StrictLoader(text)
    loader.name = str(name)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = "; ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise YamlError(
            name,
            f"not valid YAML: {problem}" + (f" (column {mark.column + 1})" if mark else ""),
            line=mark.line + 1 if mark else None,
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlError(name, f"not valid YAML: {' '.join(str(exc).split())}") from exc
    except RecursionError as exc:
        raise YamlError(name, "nested too deeply to read", expected="a few levels of nesting") from exc
    finally:
        loader.dispose()
    return data, node


def read_yaml(path: str | Path) -> tuple[Any, Node | None]:
    """The YAML document in file ``path`` (UTF-8) and its node tree, read strictly (:func:`parse_yaml`)."""
    path = Path(path)
    try:
        check_in_project(path)
    except InputError as exc:  # callers catch YamlError: one kind of error per YAML file
        raise YamlError(path, exc.message, expected=exc.expected) from None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(path, f"not UTF-8 text (byte {exc.start})", expected="a UTF-8 YAML file") from exc
    return parse_yaml(text, path)


def load_yaml(path: str | Path) -> Any:
    """The YAML document in file ``path`` (UTF-8), read strictly (:func:`parse_yaml`)."""
    return read_yaml(path)[0]
