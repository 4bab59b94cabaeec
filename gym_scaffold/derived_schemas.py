"""The schemas of one run: the checked-in ones and those derived from app.py sources.

A server whose implementation has no schema under `schemas/` is checked against the
schema gym_scaffold/derive.py derives from its config class. Everything learnt about
derived schemas while a run lasts lives in one `RunSchemas`, kept in the run's
`ConfigView.run_cache` (sources do not change while a run lasts, and may between runs):
which schema each server's source gives, the documents, their validators (servers whose
config classes have the same fields share one) and what rules ask of them. Between runs
only derive.py's disk cache is kept, and it is keyed by the content of every file read.
The checked-in schemas ship with gym-scaffold: gym_scaffold/schema_files.py reads them
once per process.
"""

from __future__ import annotations

import json
import os
import re
from collections import ChainMap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gym_scaffold.config.model import ConfigView
from gym_scaffold.discover import entrypoint_file
from gym_scaffold.schema_files import (
    BASE_URI,
    IMPLEMENTATION_NAME,
    SERVER_COMMON,
    checked_in_documents,
    common_field_names,
    resolve_reference,
    schema,
    validator,
)

_RUN_CACHE_KEY = "gym_scaffold.derived_schemas"
_NAMING = ("$id", "title", "description")  # what differs between derived schemas of equal fields


class RunSchemas:
    """The schemas one run validates against, by `relative` (a path under `schemas/`, or
    `derived/<server_type>/<implementation>-<digest of the fields>.schema.json`)."""

    def __init__(self, root: Path, disk_cache: Path | None) -> None:
        self.root = root
        self.disk_cache = disk_cache  # derive.py's; None: derive afresh
        self.sources: dict = {}  # the modules derive.py parsed in this run (its `shared`)
        # (server type, implementation, entrypoint) -> (relative or None, the files read)
        self.derived_paths: dict[tuple[str, str, str], tuple[str | None, tuple[Path, ...]]] = {}
        self.derived: dict[str, dict] = {}  # URI -> derived document
        self.documents = ChainMap(self.derived, checked_in_documents())  # every schema, by URI
        self.fields: dict[str, str] = {}  # derived relative -> the digest of its fields (naming aside)
        self.derived_validators: dict[str, Any] = {}  # by the digest of the fields
        self.required: dict[str, frozenset[str]] = {}
        self.typed: dict[str, frozenset[str]] = {}

    def schema(self, relative: str) -> dict:
        return self.documents[BASE_URI + relative]

    def derived_schema_path(
        self, server_type: str, implementation: str, entrypoint: Any = None
    ) -> tuple[str | None, tuple[Path, ...]]:
        """`derived/...` for the schema derived from the server's source, and the files read.

        The source is the block's `entrypoint`, the Python file NeMo Gym runs from the
        implementation directory (langgraph_agent's reflection_agent.py, or
        ../../resources_servers/legal_agent_bench/harbor_bridge.py), when it is one inside the
        checkout; else `<root>/<type>/<impl>/app.py`.
        """
        source = entrypoint_file(self.root, server_type, implementation, entrypoint)
        key = (server_type, implementation, str(source))
        found = self.derived_paths.get(key)
        if found is not None:
            return found
        from gym_scaffold import derive

        found = (None, (source,))
        # os.path.isfile: Path.is_file raises on a name longer than the system takes (ENAMETOOLONG).
        if IMPLEMENTATION_NAME.match(implementation) and os.path.isfile(source):
            try:
                derived = derive.derive(source, self.root, cache=self.disk_cache, shared=self.sources)
            except derive.DeriveError:
                derived = None
            if derived is not None and derived.server_type in (server_type, None):
                document = _standalone(derived.schema, server_type)
                fields = derive.digest(json.dumps({k: v for k, v in document.items() if k not in _NAMING}, sort_keys=True).encode())
                relative = f"derived/{server_type}/{implementation}-{fields}.schema.json"
                document["$id"] = BASE_URI + relative
                self.derived[BASE_URI + relative] = document
                self.fields[relative] = fields
                found = (relative, tuple(derived.inputs) or (source,))
        self.derived_paths[key] = found
        return found

    def validator(self, relative: str) -> Any:
        """A validator for the schema at `relative`."""
        if not relative.startswith("derived/"):
            return validator(relative)
        import jsonschema_rs

        # Self-contained (see _standalone); the plain regex engine compiles its lax-type
        # patterns in less time, which counts a hundred times over in a checkout. Servers
        # whose config classes have the same fields share one validator.
        fields = self.fields[relative]
        compiled = self.derived_validators.get(fields)
        if compiled is None:
            options = jsonschema_rs.RegexOptions()
            compiled = self.derived_validators[fields] = jsonschema_rs.validator_for(
                self.schema(relative), pattern_options=options, formats=_LAX_FORMATS, validate_formats=True
            )
        return compiled

    def typed_references(self, relative: str) -> frozenset[str]:
        """Fields named like references (`model_server`, `judge_model_server`, ...) to which
        the implementation's own schema gives a type."""
        found = self.typed.get(relative)
        if found is None:
            pattern = "|".join(schema(SERVER_COMMON)["$defs"]["server"].get("patternProperties", {}))
            properties = self.schema(relative).get("properties", {}) if pattern else {}
            found = self.typed[relative] = frozenset(
                name for name, node in properties.items() if isinstance(node, dict) and node and re.search(pattern, name)
            )
        return found

    def required_keys(self, relative: str) -> frozenset[str]:
        """Keys an implementation schema itself requires (not the common entrypoint and domain)."""
        found = self.required.get(relative)
        if found is not None:
            return found
        names: set[str] = set()

        def walk(node: Any, base: str, depth: int) -> None:
            if not isinstance(node, dict) or depth > 8:
                return
            names.update(node.get("required", ()))
            for sub in node.get("allOf", ()):
                if isinstance(sub, dict) and "$ref" in sub and SERVER_COMMON not in sub["$ref"]:
                    target, target_base = resolve_reference(self.documents, sub["$ref"], base)
                    walk(target, target_base, depth + 1)

        walk(self.schema(relative), BASE_URI + relative, 0)
        found = self.required[relative] = frozenset(names - {"entrypoint", "domain"})
        return found


def run_schemas(view: ConfigView) -> RunSchemas:
    """The run's schemas (for the view's NeMo Gym root), made by the first view that asks."""
    key = (_RUN_CACHE_KEY, str(view.root))
    store = view.run_cache.get(key)
    if store is None:
        store = view.run_cache[key] = RunSchemas(view.root, view.derived_cache)
    return store


def _standalone(derived: dict, server_type: str) -> dict:
    """A derived schema that needs no other document, so its validator builds in a tenth
    of the time (a checkout has a hundred of them).

    The common fields are checked by config-file.schema.json for every server already;
    here they are only known names (`true`), and the lax scalar types the derived schema
    takes from server-common.schema.json are copied into its own `$defs`.
    """
    common = schema(SERVER_COMMON)
    prefix = BASE_URI + SERVER_COMMON + "#/$defs/"
    used: set[str] = set()

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(prefix):
                    name = value[len(prefix):]
                    used.add(name)
                    out[key] = f"#/$defs/common_{name}"
                else:
                    out[key] = inline(value)
            return out
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    document = {key: inline(value) for key, value in _without_annotations(derived).items() if key != "allOf"}
    definitions = document.setdefault("$defs", {})
    for name in sorted(used):
        definitions[f"common_{name}"] = _pattern_as_format(common["$defs"][name])  # self-contained scalars
    known = common_field_names(server_type if server_type in common["$defs"] else "server")
    properties = {name: True for name in sorted(known)}
    properties.update(document.get("properties", {}))
    document["properties"] = properties
    document["patternProperties"] = {pattern: True for pattern in common["$defs"]["server"].get("patternProperties", {})}
    document["type"] = "object"
    if document.pop("unevaluatedProperties", True) is False:
        document["additionalProperties"] = False
    return document


_ANNOTATIONS = frozenset({"description", "markdownDescription", "default", "examples"})


_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})


def _without_annotations(node: Any) -> Any:
    """A schema without the words editors show (validation ignores them), so servers whose
    fields differ only in their descriptions share one validator."""
    if isinstance(node, list):
        return [_without_annotations(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _ANNOTATIONS:
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: _without_annotations(sub) for name, sub in value.items()}
        elif key in ("enum", "const"):
            out[key] = value
        else:
            out[key] = _without_annotations(value)
    return out


# The lax scalar types of server-common.schema.json match strings with regular
# expressions. Compiling them is most of the cost of a derived schema's validator, paid for
# every one of them; in derived schemas the same expressions are checked as formats, by
# Python's `re`, compiled once. (A `$` at the end is `\Z` there: no newline before it.)
# Kept for the process, not the run: a format is a function of a pattern of the shipped
# server-common.schema.json alone, so it cannot go stale.
_LAX_FORMATS: dict[str, Callable[[str], bool]] = {}  # format name -> check


_FORMAT_OF_PATTERN: dict[str, str] = {}


def _pattern_as_format(node: Any) -> Any:
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and node.get("type") == "string":
            name = _FORMAT_OF_PATTERN.get(pattern)
            if name is None:
                name = _FORMAT_OF_PATTERN[pattern] = f"gym-scaffold-lax-{len(_FORMAT_OF_PATTERN)}"
                expression = re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)
                _LAX_FORMATS[name] = lambda value, expression=expression: expression.search(value) is not None
            return {key: value for key, value in node.items() if key != "pattern"} | {"format": name}
        return {key: _pattern_as_format(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_pattern_as_format(item) for item in node]
    return node
