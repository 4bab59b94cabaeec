"""Merging config trees as OmegaConf does, and the union shortcut that must match it.

Mappings merge key by key, anything else replaces, except that `???` never replaces an
existing value; merging a mapping with a list is an error (rule config-merge).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gym_scaffold.config.loader import DataPath, Document
from gym_scaffold.config.model import (
    COPY,
    COPY_CALL,
    DELETE_KEY,
    DUMMY_MODEL,
    INHERIT_CALL,
    INHERIT_FROM,
    MANDATORY,
    Origin,
)
from gym_scaffold.config.origins import OriginNode, OriginTable, origin_of, problem_at
from gym_scaffold.problem import Problem
from gym_scaffold.rules import config_merge

RULE_MERGE = config_merge.ID


def _is_dict(node: OriginNode | None) -> bool:
    return node is not None and isinstance(node.value, dict)


def _is_list(node: OriginNode | None) -> bool:
    return node is not None and isinstance(node.value, list)


def merge_trees(dest: OriginNode | None, src: OriginNode, problems: list[Problem]) -> OriginNode:
    """OmegaConf.merge(dest, src) for untyped configs; inputs are not modified."""
    if dest is None:
        return src
    if src.value == MANDATORY and isinstance(src.value, str):
        return dest  # `???` never overrides a value that is there
    if isinstance(dest.value, dict) and isinstance(src.value, dict):
        merged = dict(dest.value)
        keys = dict(dest.keys or {})
        for k, v in src.value.items():
            merged[k] = merge_trees(merged.get(k), v, problems)
            keys[k] = (src.keys or {}).get(k) or keys.get(k)
        return OriginNode(merged, src.origin or dest.origin, keys)
    if (_is_dict(dest) and _is_list(src)) or (_is_list(dest) and _is_dict(src)):
        kinds = ("a mapping", "a list") if _is_dict(dest) else ("a list", "a mapping")
        earlier = origin_of(dest.origin)
        where = f" (the earlier one is at {earlier.path}:{earlier.line})" if earlier else ""
        problems.append(
            problem_at(
                src.origin,
                "",
                RULE_MERGE,
                f"{kinds[1]} here overrides {kinds[0]}{where}: OmegaConf refuses to merge them",
                "use the same shape in both files",
            )
        )
    return src



# --------------------------------------------------------------------------------------
# Composing without merging: most files share no top-level key with the files merged
# with them and hold no directive. Their composed data is then the union of the
# documents' top-level mappings, and origins are read from the documents' own position
# tables on demand, with no tree built.


class PositionTable(OriginTable):
    """DataPath -> Origin, read from the Document that supplied each top-level key."""

    __slots__ = ("_owners", "_root", "_of_key")

    def __init__(self, owners: dict[Any, Document], root: Document, *, of_key: bool) -> None:
        self._owners, self._root, self._of_key = owners, root, of_key

    def _table(self, path: DataPath) -> tuple[Document | None, dict]:
        doc = self._owners.get(path[0]) if path else (None if self._of_key else self._root)
        if doc is None:
            return None, {}
        return doc, doc.key_positions if self._of_key else doc.value_positions

    def get(self, path: DataPath, default: Any = None) -> Any:
        doc, table = self._table(path)
        position = table.get(path)
        return default if position is None else Origin(doc.path, position[0], position[1])

    def __iter__(self) -> Iterator[DataPath]:
        for doc in {id(doc): doc for doc in self._owners.values()}.values():
            table = doc.key_positions if self._of_key else doc.value_positions
            yield from (path for path in table if path and self._owners.get(path[0]) is doc)
        if not self._of_key and () in self._root.value_positions:
            yield ()



def _data_has_directives(doc: Document) -> bool:
    found = doc.memo.get("compose.directives")
    if found is not None:
        return found
    stack = [doc.data]
    found = False
    while stack and not found:
        value = stack.pop()
        if value.__class__ is dict:
            found = INHERIT_FROM in value or COPY in value or DELETE_KEY in value or DUMMY_MODEL in value
            stack.extend(value.values())
        elif value.__class__ is list:
            stack.extend(value)
        elif value.__class__ is str:
            found = value.startswith(INHERIT_CALL) or value.startswith(COPY_CALL)
    doc.memo["compose.directives"] = found
    return found


def union_of_documents(sources: list[Document]) -> tuple[dict, dict[Any, Document]] | None:
    """The merge of `sources` when no top-level key is in two of them and none holds a
    directive (merging is then a union); None otherwise."""
    data: dict = {}
    owners: dict[Any, Document] = {}
    for doc in sources:
        for key in doc.data:
            if key in owners:
                return None
            owners[key] = doc
        if _data_has_directives(doc):
            return None
        data.update(doc.data)
    return data, owners
