"""The checked-in JSON Schemas in `schemas/`: finding them, loading them, walking them.

The files ship with gym-scaffold and do not change while a process lives, so each is read
and each validator built once per process (a few ms for all of them, with `jsonschema_rs`).
The walk through `$ref`s works on any set of documents by URI, so a run's derived schemas
(gym_scaffold/derived_schemas.py) are walked the same way.

`$ref`s are followed by the few lines of `resolve_reference` rather than the `referencing`
library: that is not a dependency of gym-scaffold (only of the `jsonschema` the tests use),
it would add attrs and rpds-py and ~80 ms of imports to every run that derives a schema or
reports a schema error, and the schemas here use plain URIs and JSON pointers only (no
`$anchor`, no `$id` inside a document).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from gym_scaffold.config.model import SERVER_TYPES

BASE_URI = "https://gym-scaffold.dev/schemas/"


CONFIG_FILE = "config-file.schema.json"


SERVER_COMMON = "server-common.schema.json"


ENV_FILE = "env.schema.json"

IMPLEMENTATION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # what a schema file name may hold


@cache
def schema_dir() -> Path:
    """`gym_scaffold/schemas` in an installed wheel, else `<repo>/schemas`."""
    import gym_scaffold

    package = Path(gym_scaffold.__file__).parent
    shipped = package / "schemas"
    if shipped.is_dir():
        return shipped
    return package.parent / "schemas"


@cache
def checked_in_documents() -> dict[str, dict]:
    """Every schema file by its `$id`."""
    found: dict[str, dict] = {}
    root = schema_dir()
    for path in sorted(root.rglob("*.schema.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[document.get("$id") or BASE_URI + path.relative_to(root).as_posix()] = document
    return found


def schema(relative: str) -> dict:
    """The schema stored at `schemas/<relative>`."""
    return checked_in_documents()[BASE_URI + relative]


@cache
def implementations() -> frozenset[tuple[str, str]]:
    """(server_type, implementation) pairs that have a schema of their own."""
    root = schema_dir()
    pairs = set()
    for server_type in SERVER_TYPES:
        folder = root / server_type
        if folder.is_dir():
            for path in folder.glob("*.schema.json"):
                pairs.add((server_type, path.name[: -len(".schema.json")]))
    return frozenset(pairs)


def implementation_schema_path(server_type: str, implementation: str) -> str | None:
    """`<server_type>/<implementation>.schema.json` when that schema exists."""
    if (server_type, implementation) in implementations() and IMPLEMENTATION_NAME.match(implementation):
        return f"{server_type}/{implementation}.schema.json"
    return None


@cache
def _registry() -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry(list(checked_in_documents().items()))


@cache
def validator(relative: str) -> Any:
    """A validator for `schemas/<relative>`, built once per process."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema(relative), registry=_registry())


def resolve_reference(documents: Mapping[str, dict], reference: str, base: str) -> tuple[dict, str]:
    """The schema node a `$ref` points to, and the base URI of its resource.

    `documents`: every schema the reference may lead into, by URI."""
    target = urljoin(base, reference)
    uri, fragment = urldefrag(target)
    node: Any = documents[uri]
    for part in fragment.lstrip("/").split("/") if fragment else ():
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, uri


_DESCENT = {
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
}


def walk_evaluation_path(
    documents: Mapping[str, dict], root: str, evaluation_path: list
) -> tuple[Any, str, str | None]:
    """Follow an evaluation path (through `$ref`s) from schema `root` (one of `documents`).

    Returns the node reached, its base URI, and the title that describes the instance
    there: the first `title` met since the walk last stepped into a property or item.
    """
    base = BASE_URI + root
    node: Any = documents[base]
    title = node.get("title") if isinstance(node, dict) else None
    descend_next = False
    i = 0
    while i < len(evaluation_path):
        segment = evaluation_path[i]
        if segment == "$ref" and isinstance(node, dict) and "$ref" in node:
            node, base = resolve_reference(documents, node["$ref"], base)
        else:
            try:
                node = node[segment] if not isinstance(node, list) else node[int(segment)]
            except (KeyError, IndexError, TypeError, ValueError):
                return None, base, title
        if descend_next:
            title = None
            descend_next = False
        if segment in _DESCENT and isinstance(node, dict):
            if segment in ("additionalProperties", "unevaluatedProperties", "items") and _is_schema(
                node
            ):
                title = None
            else:
                descend_next = True  # next segment names the property / item
        if isinstance(node, dict) and title is None and isinstance(node.get("title"), str):
            title = node["title"]
        i += 1
    return node, base, title


def _is_schema(node: dict) -> bool:
    return any(k in node for k in ("type", "$ref", "anyOf", "allOf", "enum", "title", "properties"))


def collect_property_names(documents: Mapping[str, dict], node: Any, base: str, seen: set | None = None) -> set[str]:
    """Property names a schema node declares, through $ref, allOf and if/then/else."""
    seen = set() if seen is None else seen
    if not isinstance(node, dict) or id(node) in seen:
        return set()
    seen.add(id(node))
    names = set(node.get("properties", {}))
    if "$ref" in node:
        target, target_base = resolve_reference(documents, node["$ref"], base)
        names |= collect_property_names(documents, target, target_base, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, ()):
            names |= collect_property_names(documents, sub, base, seen)
    for key in ("then", "else"):
        names |= collect_property_names(documents, node.get(key), base, seen)
    return names


def property_names(relative: str) -> frozenset[str]:
    """Every key the schema at `schemas/<relative>` knows (for did-you-mean and tests)."""
    return frozenset(collect_property_names(checked_in_documents(), schema(relative), BASE_URI + relative))


@cache
def common_field_names(kind: str) -> frozenset[str]:
    """The fields server-common.schema.json gives every server of this kind."""
    return frozenset(
        collect_property_names(checked_in_documents(), schema(SERVER_COMMON)["$defs"][kind], BASE_URI + SERVER_COMMON)
    )
