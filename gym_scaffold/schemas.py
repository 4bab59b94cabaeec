"""The JSON Schemas in `schemas/`, as validators, and their errors as structured records.

`schemas/` is the declarative source of truth (JSON Schema draft 2020-12):

    config-file.schema.json    the file shape; every server body against its server type
    server-common.schema.json  fields every server may have, datasets, references, lax types
    env.schema.json            env.yaml
    <server_type>/<implementation>.schema.json
                               one implementation's fields; unknown keys are errors

A new implementation is one file at `schemas/<server_type>/<implementation>.schema.json`;
it is found by that path. Validators are built once per process with `jsonschema_rs` (the
Rust engine: a few ms for all of them) and the errors of one ConfigView are computed once
and kept in `view.cache`, where the server-shape, unknown-key, missing-key and
invalid-value rules read them.

What the schemas do not say, this module decides:
- a deferred value (`${...}` that resolves later, or `???`) satisfies any type: errors
  located at one are dropped, so the schemas stay free of interpolation branches; so is a
  null that arrived through an interpolation (`judge_api_key: null` as a "no default" global);
- `required` applies to complete server blocks only. A block is partial, and its missing
  keys are not reported, when it still carries `_inherit_from` / `_copy` (the source was
  not merged in), when the file's `config_paths` were not all followed (the block may
  override an instance defined in an include), and everywhere in env.yaml (which only
  overrides). Checking one file on its own (not a `--config` run), a server block is an
  overlay that a run composes with other files when it has no `entrypoint` and either the
  file has includes, or the block lacks some key its implementation requires, or the
  implementation requires no key of its own, or another config of the checkout declares
  that block with its entrypoint: nothing is required of it. A block
  that declares a server (it has an `entrypoint`) must have `domain` (resources servers);
  an implementation key it lacks is a warning there, since a run may still supply it
  (NeMo Gym's idiom for "supplied at run time" is `???`), and an error in a `--config`
  run. Dataset entries are always complete: lists are replaced, not merged.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import (
    RESERVED_TOP_LEVEL_KEYS,
    SERVER_TYPES,
    ConfigView,
    iter_servers,
)
from gym_scaffold.problem import Problem, Severity, shorten
from gym_scaffold.rules import config_include, invalid_value, missing_key, server_shape, unknown_key

BASE_URI = "https://gym-scaffold.dev/schemas/"
CONFIG_FILE = "config-file.schema.json"
SERVER_COMMON = "server-common.schema.json"
ENV_FILE = "env.schema.json"

INSTANCE_DIRECTIVES = ("_inherit_from", "_copy")
DIRECTIVES = (*INSTANCE_DIRECTIVES, "_delete_key")
_CACHE_KEY = "gym_scaffold.schemas.errors"
_IMPL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

# Rules that report schema errors (the `rule` field of SchemaError) are named by their
# modules' ID: missing_key, unknown_key, invalid_value, server_shape.


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One schema violation, located and phrased for a person.

    `path` is where to report: the unknown key itself (`of_key`), the mapping that misses a
    key (`of_key`, so the problem points at the line naming that mapping), or the bad value.
    `name` is the offending key or value as text; `allowed` the names it could have been
    (property names, enum values, server types): material for a did-you-mean.
    """

    path: DataPath
    rule: str
    kind: str  # the JSON Schema keyword, or "near-miss" / "no-server-type" for shape checks
    message: str
    of_key: bool = False
    name: str | None = None
    allowed: tuple[str, ...] = ()
    severity: str = "error"  # "warning" for a key a file may leave to another file


# -- finding and loading schemas --------------------------------------------------------


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
def _documents() -> dict[str, dict]:
    """Every schema file by its `$id`."""
    found: dict[str, dict] = {}
    root = schema_dir()
    for path in sorted(root.rglob("*.schema.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[document.get("$id") or BASE_URI + path.relative_to(root).as_posix()] = document
    return found


def schema(relative: str) -> dict:
    """The schema stored at `schemas/<relative>`."""
    return _documents()[BASE_URI + relative]


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
    if (server_type, implementation) in implementations() and _IMPL_NAME.match(implementation):
        return f"{server_type}/{implementation}.schema.json"
    return None


_NAMING = ("$id", "title", "description")  # what differs between derived schemas of equal fields
_derived_fields: dict[str, str] = {}  # derived schema -> the digest of its fields (naming aside)

# Derived schemas (gym_scaffold/derive.py) of this process, by (root, server type, implementation).
# The entry holds while the files read keep their size and modification time.
_derived: dict[tuple[str, str, str, str], tuple[str | None, tuple[Path, ...], tuple]] = {}


def _stamp(paths: Any) -> tuple:
    stamps = []
    for path in paths:
        try:
            stat = path.stat()
            stamps.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def _derived_schema_path(
    root: Path,
    server_type: str,
    implementation: str,
    entrypoint: Any = None,
    cache: Path | None = None,
    shared: dict | None = None,
) -> tuple[str | None, tuple[Path, ...]]:
    """`derived/...` for the schema derived from the server's source, and the files read.

    The source is the block's `entrypoint` when it names a Python file of the implementation
    directory (langgraph_agent's reflection_agent.py), else `<root>/<type>/<impl>/app.py`.
    """
    if not (isinstance(entrypoint, str) and entrypoint.endswith(".py") and _IMPL_NAME.match(entrypoint)):
        entrypoint = "app.py"
    key = (str(root), server_type, implementation, entrypoint)
    known = _derived.get(key)
    if known is not None and _stamp(known[1]) == known[2]:
        return known[0], known[1]
    from gym_scaffold import derive

    app = root / server_type / implementation / entrypoint
    found = (None, (app,))
    # os.path.isfile: Path.is_file raises on a name longer than the system takes (ENAMETOOLONG).
    if _IMPL_NAME.match(implementation) and os.path.isfile(app):
        try:
            derived = derive.derive(app, root, cache=cache, shared=shared)
        except derive.DeriveError:
            derived = None
        if derived is not None and derived.server_type in (server_type, None):
            document = _standalone(derived.schema, server_type)
            fields = derive.digest(json.dumps({k: v for k, v in document.items() if k not in _NAMING}, sort_keys=True).encode())
            relative = f"derived/{server_type}/{implementation}-{fields}.schema.json"
            document["$id"] = BASE_URI + relative
            _documents()[BASE_URI + relative] = document
            _derived_fields[relative] = fields
            found = (relative, tuple(derived.inputs) or (app,))
    _derived[key] = (*found, _stamp(found[1]))
    return found


@cache
def _common_field_names(kind: str) -> frozenset[str]:
    """The fields server-common.schema.json gives every server of this kind."""
    return frozenset(_property_names(schema(SERVER_COMMON)["$defs"][kind], BASE_URI + SERVER_COMMON))


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
    known = _common_field_names(server_type if server_type in common["$defs"] else "server")
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


def server_schema_path(
    view: ConfigView, server_type: str, implementation: str, entrypoint: Any = None
) -> str | None:
    """The schema of an implementation: the checked-in one, else the one derived from its source."""
    relative = implementation_schema_path(server_type, implementation)
    if relative is not None or view.root is None:
        return relative
    memo = view.run_cache.setdefault("gym_scaffold.schemas.derived", {})
    key = (server_type, implementation, entrypoint if isinstance(entrypoint, str) else None)
    found = memo.get(key)
    if found is None:  # once per run: the sources do not change while it lasts
        shared = view.run_cache.setdefault("gym_scaffold.derive.modules", {})
        found = memo[key] = _derived_schema_path(
            view.root, server_type, implementation, entrypoint, view.derived_cache, shared
        )
    relative, inputs = found
    view.files_read(inputs)
    return relative


@cache
def _registry() -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry(list(_documents().items()))


@cache
def validator(relative: str) -> Any:
    """A validator for `schemas/<relative>`, built once per process."""
    import jsonschema_rs

    if relative.startswith("derived/"):
        # Self-contained (see _standalone); the plain regex engine compiles its lax-type
        # patterns in less time, which counts a hundred times over in a checkout. Servers
        # whose config classes have the same fields share one validator.
        document = schema(relative)
        fields = _derived_fields[relative]
        compiled = _derived_validators.get(fields)
        if compiled is None:
            options = jsonschema_rs.RegexOptions()
            compiled = _derived_validators[fields] = jsonschema_rs.validator_for(
                document, pattern_options=options, formats=_LAX_FORMATS, validate_formats=True
            )
        return compiled
    return jsonschema_rs.validator_for(schema(relative), registry=_registry())


_derived_validators: dict[str, Any] = {}  # by the digest of the fields


# -- walking schemas (titles, property names) ------------------------------------------


@cache
def _resolve(reference: str, base: str) -> tuple[dict, str]:
    """The schema node a `$ref` points to, and the base URI of its resource."""
    target = urljoin(base, reference)
    uri, fragment = urldefrag(target)
    node: Any = _documents()[uri]
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


def _walk(root: str, evaluation_path: list) -> tuple[Any, str, str | None]:
    """Follow an evaluation path (through `$ref`s) from schema `root`.

    Returns the node reached, its base URI, and the title that describes the instance
    there: the first `title` met since the walk last stepped into a property or item.
    """
    base = BASE_URI + root
    node: Any = _documents()[base]
    title = node.get("title") if isinstance(node, dict) else None
    descend_next = False
    i = 0
    while i < len(evaluation_path):
        segment = evaluation_path[i]
        if segment == "$ref" and isinstance(node, dict) and "$ref" in node:
            node, base = _resolve(node["$ref"], base)
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


def _property_names(node: Any, base: str, seen: set | None = None) -> set[str]:
    """Property names a schema node declares, through $ref, allOf and if/then/else."""
    seen = set() if seen is None else seen
    if not isinstance(node, dict) or id(node) in seen:
        return set()
    seen.add(id(node))
    names = set(node.get("properties", {}))
    if "$ref" in node:
        target, target_base = _resolve(node["$ref"], base)
        names |= _property_names(target, target_base, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, ()):
            names |= _property_names(sub, base, seen)
    for key in ("then", "else"):
        names |= _property_names(node.get(key), base, seen)
    return names


def property_names(relative: str) -> frozenset[str]:
    """Every key the schema at `schemas/<relative>` knows (for did-you-mean and tests)."""
    return frozenset(_property_names(schema(relative), BASE_URI + relative))


# -- turning jsonschema_rs errors into SchemaErrors ------------------------------------


def _kind(error: Any) -> str:
    return type(error.kind).__name__


def _label(path: DataPath) -> str:
    """The name a message uses for the value at `path`: its key, `datasets[0]` for items.

    A key is the user's text, of any length: shown shortened."""
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        return f"{_label(path[:-1])}[{last}]"
    return shorten(str(last))


def _key_text(path: DataPath) -> str:
    """The whole of the key naming the value at `path`, for telling whether it holds a secret."""
    keys = [str(part) for part in path if not isinstance(part, int)]
    return keys[-1] if keys else ""


def _quoted(key: Any) -> str:
    """A key as `repr` shows it, shortened."""
    return repr(shorten(key)) if isinstance(key, str) else shorten(repr(key))


_SECRETISH = re.compile(r"key|token|secret|password|passwd|credential", re.IGNORECASE)


def _shown(value: Any, label: str = "") -> str:
    """A short, safe rendering of a value for a message; `label` is the key holding it
    (unshortened: a secret-sounding key hides the value)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        from gym_scaffold.secrets import looks_like_secret, redact

        if _SECRETISH.search(label) or looks_like_secret(value):
            return f'"{redact(value)}"'
        return json.dumps(shorten(value, 40), ensure_ascii=False)
    return shorten(value if isinstance(value, int) else repr(value))


def _listing(options: list) -> str:
    return ", ".join(str(o) if o is not None else "null" for o in options)


def _pick_branch(error: Any) -> list | None:
    """For an anyOf failure, the errors of the one branch whose type matched, if exactly one did."""
    here = list(error.instance_path)
    candidates = [
        branch
        for branch in error.kind.as_dict().get("context") or []
        if branch and not any(_kind(e) == "Type" and list(e.instance_path) == here for e in branch)
    ]
    return candidates[0] if len(candidates) == 1 else None


class _Converter:
    def __init__(self, root: str, prefix: DataPath, data: Any) -> None:
        self.root = root
        self.prefix = prefix
        self.data = data  # the instance validated (for looking values up)

    def _instance(self, error: Any) -> Any:
        """The value an error is about, as loaded. jsonschema_rs hands back an integer
        beyond a float's range (`0x` and 20,000 hex digits) as null: look it up instead."""
        found, value = _get(self.data, tuple(error.instance_path))
        return value if found else error.instance

    def convert(self, error: Any) -> list[SchemaError]:
        path = self.prefix + tuple(error.instance_path)
        kind = _kind(error)
        if kind in ("AdditionalProperties", "UnevaluatedProperties"):
            return self._unexpected(error, path)
        if kind == "Required":
            name = str(error.kind.as_dict().get("property"))
            return [
                SchemaError(
                    path,
                    missing_key.ID,
                    kind,
                    f'missing required key "{name}"',
                    of_key=True,
                    name=name,
                )
            ]
        label = _label(path)
        if kind in ("MinProperties", "MaxProperties", "Not") and self._is_shape_path(path, kind):
            return [self._shape(kind, path, self._instance(error))]
        if kind == "Not":
            node, _, title = _walk(self.root, list(error.evaluation_path)[:-1])
            if isinstance(node, dict) and isinstance(node.get("title"), str):
                title = node["title"]  # the `not` schema's own reason (dependentSchemas)
            return [SchemaError(path, invalid_value.ID, kind, title or f"{label} is not allowed here")]
        if kind == "Type" and self._is_shape_path(path, kind):
            return [self._shape(kind, path, self._instance(error))]
        if kind == "AnyOf":
            branch = _pick_branch(error)
            if branch:  # e.g. `domain: maths` against [enum, null]: report the enum
                return [found for sub in branch for found in self.convert(sub)]
        detail = error
        if kind in ("Enum", "Constant"):
            options = detail.kind.as_dict().get("options")
            if options is None:
                options = [detail.kind.as_dict().get("expected_value")]
            options = list(options) if isinstance(options, (list, tuple)) else [options]
            instance = self._instance(detail)
            shown = _shown(instance, _key_text(path))
            listing = _listing(options)
            if len(listing) <= 110:
                message = f"{label} must be one of: {listing}; got {shown}"
            else:
                message = f"{label} {shown} is not an accepted value"
            return [
                SchemaError(
                    path,
                    invalid_value.ID,
                    "Enum",
                    message,
                    name=instance if isinstance(instance, str) else None,
                    allowed=tuple(str(o) for o in options if o is not None),
                )
            ]
        _, _, title = _walk(self.root, list(error.evaluation_path)[:-1])
        if title is None:
            return [SchemaError(path, invalid_value.ID, kind, f"{label}: {self._detail(detail, path)}")]
        return [
            SchemaError(
                path,
                invalid_value.ID,
                kind,
                f"{label} must be {title}, got {_shown(self._instance(error), _key_text(path))}",
            )
        ]

    def _detail(self, error: Any, path: DataPath) -> str:
        """jsonschema_rs's own message, which starts with the whole value (JSON), or with
        null for an integer beyond a float's range: that value shown as `_shown` shows it."""
        message = error.message
        instance = error.instance
        if instance is None or isinstance(instance, (str, int, float)):
            try:
                written = json.dumps(instance, ensure_ascii=False)
            except ValueError:  # an integer of more digits than Python writes in decimal
                written = None
            if written is not None and message.startswith(written):
                message = _shown(self._instance(error), _key_text(path)) + message[len(written):]
        return shorten(message, 200)

    def _is_shape_path(self, path: DataPath, kind: str) -> bool:
        """An instance (for two server types), a server type block or an implementation body."""
        if self.root != CONFIG_FILE or self.prefix:
            return False
        if len(path) == 1:
            return kind == "Not"
        return len(path) in (2, 3) and path[1] in SERVER_TYPES

    def _shape(self, kind: str, path: DataPath, instance: Any) -> SchemaError:
        if len(path) == 1:
            present = [t for t in SERVER_TYPES if isinstance(instance, dict) and t in instance]
            return SchemaError(
                path,
                server_shape.ID,
                "two-server-types",
                f"instance {_quoted(path[0])} has {len(present)} server types ({', '.join(present)}); it needs exactly one",
                of_key=True,
                allowed=SERVER_TYPES,
            )
        if len(path) == 2:
            if not isinstance(instance, dict):
                return SchemaError(
                    path,
                    server_shape.ID,
                    kind,
                    f"{path[1]} must be a mapping of one implementation name to its fields, got {_shown(instance)}",
                    of_key=True,
                )
            impls = [str(k) for k in instance if k not in DIRECTIVES]
            if not impls:
                message = f"{path[1]} of instance {_quoted(path[0])} names no implementation"
            else:
                message = (
                    f"{path[1]} of instance {_quoted(path[0])} has {len(impls)} implementations "
                    f"({shorten(', '.join(shorten(impl) for impl in impls), 200)}); it needs exactly one"
                )
            return SchemaError(path, server_shape.ID, "implementations", message, of_key=True)
        return SchemaError(
            path,
            server_shape.ID,
            kind,
            f"the fields of implementation {_quoted(path[2])} must be a mapping, got {_shown(instance)}",
            of_key=True,
        )

    def _unexpected(self, error: Any, path: DataPath) -> list[SchemaError]:
        node, base, _ = _walk(self.root, list(error.evaluation_path)[:-1])
        known = _property_names(node, base) if isinstance(node, dict) else set()
        unexpected = error.kind.as_dict().get("unexpected") or []
        found = []
        for key in unexpected:
            if key in known:
                continue  # unevaluated only because a sibling subschema failed
            key_path = path + (key,)
            if (
                len(path) == 1
                and self.root == CONFIG_FILE
                and not self.prefix
                and _near_server_type(key)
            ):
                found.append(_near_miss(key_path, key))
                continue
            allowed = tuple(
                sorted(k for k in known if not k.startswith("_"))
                + sorted(k for k in known if k.startswith("_"))
            )
            where = (
                f"implementation {_quoted(path[-1])}"
                if len(path) == 3 and path[1] in SERVER_TYPES
                else _label(path)
            )
            found.append(
                SchemaError(
                    key_path,
                    unknown_key.ID,
                    _kind(error),
                    f"unknown key {_quoted(key)} in {where}",
                    of_key=True,
                    name=str(key),
                    allowed=allowed,
                )
            )
        return found


def _near_server_type(key: Any) -> str | None:
    if not isinstance(key, str) or key in SERVER_TYPES:
        return None
    close = difflib.get_close_matches(key, SERVER_TYPES, n=1, cutoff=0.8)
    return close[0] if close else None


def _near_miss(path: DataPath, key: str) -> SchemaError:
    return SchemaError(
        path,
        server_shape.ID,
        "near-miss",
        f"unknown server type {_quoted(key)}",
        of_key=True,
        name=key,
        allowed=SERVER_TYPES,
    )


def _shape_checks(data: dict) -> list[SchemaError]:
    """Mappings the schema takes for plain globals but that are almost instances."""
    found = []
    for instance, value in data.items():
        if instance in RESERVED_TOP_LEVEL_KEYS or not isinstance(value, dict):
            continue
        if any(k in value for k in (*SERVER_TYPES, *INSTANCE_DIRECTIVES)):
            continue  # an instance: the schema checks it
        misses = [k for k in value if _near_server_type(k)]
        for key in misses:
            found.append(_near_miss((instance, key), key))
        if not misses:
            bodies = [k for k, v in value.items() if isinstance(v, dict) and "entrypoint" in v]
            if bodies:
                found.append(
                    SchemaError(
                        (instance,),
                        server_shape.ID,
                        "no-server-type",
                        f"instance {_quoted(instance)} has no server type above implementation {_quoted(bodies[0])}",
                        of_key=True,
                        allowed=SERVER_TYPES,
                    )
                )
    return found


# -- one ConfigView ----------------------------------------------------------------------


def _get(data: Any, path: DataPath) -> tuple[bool, Any]:
    for part in path:
        if (
            isinstance(data, dict)
            and part in data
            or isinstance(data, list)
            and isinstance(part, int)
            and 0 <= part < len(data)
        ):
            data = data[part]
        else:
            return False, None
    return True, data


def _is_env_view(view: ConfigView) -> bool:
    env = view.env
    return (
        not view.composed.documents and env is not None and env.document.path in view.reported_files
    )


def _includes_followed(view: ConfigView, data: dict) -> bool:
    """Whether every `config_paths` entry was read and merged."""
    if any(problem.rule == config_include.ID for problem in view.composed.problems):
        return False
    entries = data.get("config_paths")
    if not isinstance(entries, list) or not entries:
        return True
    loaded = [doc.path.replace("\\", "/") for doc in view.composed.documents]
    for entry in entries:
        if not isinstance(entry, str):
            continue
        wanted = entry.replace("\\", "/").lstrip("./")
        if not any(path == wanted or path.endswith("/" + wanted) for path in loaded):
            return False
    return True


def _has_directive(node: Any) -> bool:
    return isinstance(node, dict) and any(d in node for d in INSTANCE_DIRECTIVES)


def _required_severity(
    view: ConfigView, data: dict, error: SchemaError, all_partial: bool
) -> str | None:
    """The severity of a missing key, or None when `required` does not apply there."""
    path = error.path
    if any(isinstance(part, int) for part in path):
        return "error"  # a dataset entry: lists are replaced whole, so the entry is complete
    if all_partial:
        return None
    node: Any = data
    for part in path:
        if _has_directive(node):
            return None
        found, node = _get(node, (part,))
        if not found:
            return None
    if _has_directive(node):
        return None
    if view.run_mode or len(path) < 3 or path[1] not in SERVER_TYPES:
        return "error"
    found, body = _get(data, path[:3])
    if not isinstance(body, dict):
        return "error"
    relative = server_schema_path(view, path[1], str(path[2]), body.get("entrypoint"))
    required = _required_keys(relative) if relative else frozenset()
    includes = bool(data.get("config_paths"))
    # An implementation that requires nothing of its own (as many derived from app.py
    # do) cannot tell an overlay from a declaration: without entrypoint it is an overlay.
    if "entrypoint" not in body and (includes or not (relative and required and required <= body.keys())):
        # An overlay, composed with other files in a run. In a file with includes the
        # server may be declared by a file those pull in further down (or a run adds).
        return None
    if "entrypoint" not in body and _declared_elsewhere(view, path[:3]):
        return None  # an overlay of a block another config of the checkout declares
    if len(path) == 3 and error.name in ("entrypoint", "domain"):
        return "error"
    return "warning"


def _declared_elsewhere(view: ConfigView, block: DataPath) -> bool:
    """Whether another config of the checkout declares this server block (with its
    `entrypoint`); the view's index records the answer for the result cache."""
    if view.checkout is None or view.run_mode:
        return False
    instance, server_type, implementation = map(str, block)
    return view.checkout.declares(instance, server_type, implementation)


@cache
def _typed_references(relative: str) -> frozenset[str]:
    """Fields named like references (`model_server`, `judge_model_server`, ...) to which
    the implementation's own schema gives a type."""
    pattern = "|".join(schema(SERVER_COMMON)["$defs"]["server"].get("patternProperties", {}))
    if not pattern:
        return frozenset()
    properties = schema(relative).get("properties", {})
    return frozenset(
        name for name, node in properties.items() if isinstance(node, dict) and node and re.search(pattern, name)
    )


@cache
def _required_keys(relative: str) -> frozenset[str]:
    """Keys an implementation schema itself requires (not the common entrypoint and domain)."""
    names: set[str] = set()

    def walk(node: Any, base: str, depth: int) -> None:
        if not isinstance(node, dict) or depth > 8:
            return
        names.update(node.get("required", ()))
        for sub in node.get("allOf", ()):
            if isinstance(sub, dict) and "$ref" in sub and SERVER_COMMON not in sub["$ref"]:
                target, target_base = _resolve(sub["$ref"], base)
                walk(target, target_base, depth + 1)

    walk(schema(relative), BASE_URI + relative, 0)
    return frozenset(names - {"entrypoint", "domain"})


def schema_errors(view: ConfigView) -> list[SchemaError]:
    """Every schema error of this view, computed once and kept in `view.cache`."""
    cached = view.cache.get(_CACHE_KEY)
    if cached is None:
        cached = view.cache[_CACHE_KEY] = _compute(view)
    return cached


def _compute(view: ConfigView) -> list[SchemaError]:
    data = view.resolved.data
    if not isinstance(data, dict):
        return []
    env_view = _is_env_view(view)
    raw: list[SchemaError] = []
    if env_view:
        _validate(ENV_FILE, (), data, raw)
    else:
        _validate(CONFIG_FILE, (), data, raw)
        raw.extend(_shape_checks(data))
    common_end = len(raw)
    typed_by_class: set[DataPath] = set()
    for server in iter_servers(data):  # env.yaml may override an implementation's fields too
        relative = server_schema_path(
            view, server.server_type, server.implementation, server.body.get("entrypoint")
        )
        if relative is not None:
            _validate(relative, server.path, server.body, raw)
            typed_by_class.update(server.path + (name,) for name in _typed_references(relative) if name in server.body)
    if typed_by_class:
        # A reference field the implementation declares (`model_server: Optional[ModelServerRef]
        # = None`) has the type its class gives it, not the common "always a reference".
        raw[:common_end] = [e for e in raw[:common_end] if e.path[:4] not in typed_by_class]
    all_partial = env_view or not _includes_followed(view, data)
    composed = view.composed.data
    seen = set()
    result = []
    for error in raw:
        key = (error.path, error.rule, error.message)
        if key in seen:
            continue
        seen.add(key)
        if error.rule == missing_key.ID:
            severity = _required_severity(view, data, error, all_partial)
            if severity is None:
                continue
            if severity != error.severity:
                error = replace(error, severity=severity)
        elif not error.of_key and _deferred(view, composed, error.path):
            continue
        result.append(error)
    return result


def _validate(relative: str, prefix: DataPath, data: Any, into: list[SchemaError]) -> None:
    checker = validator(relative)
    if checker.is_valid(data):  # the common case, and much cheaper than collecting errors
        return
    converter = _Converter(relative, prefix, data)
    for error in checker.iter_errors(data):
        into.extend(converter.convert(error))


def _deferred(view: ConfigView, composed: Any, path: DataPath) -> bool:
    """A value that arrives later: `${...}` / `???`, or a null that came from an interpolation."""
    if view.is_deferred(path):
        return True
    found, value = _get(view.resolved.data, path)
    if found and value is None:
        found, raw = _get(composed, path)
        return found and isinstance(raw, str) and "${" in raw
    return False


def did_you_mean(
    name: Any, allowed: tuple[str, ...] | list[str], cutoff: float = 0.6
) -> str | None:
    """The closest of `allowed` to `name`, if any is close."""
    if not isinstance(name, str) or not allowed:
        return None
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=cutoff)
    if not close:
        lowered = {a.lower(): a for a in allowed}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=cutoff)
        close = [lowered[close[0]]] if close else []
    return close[0] if close else None


def schema_problems(
    view: ConfigView, rule: str, hint: Callable[[SchemaError], str | None]
) -> Iterator[Problem]:
    """The problems of one schema rule, from the shared pass, each with the rule's hint."""
    for error in schema_errors(view):
        if error.rule != rule:
            continue
        problem = view.problem(
            error.path,
            rule,
            error.message,
            severity=Severity(error.severity),
            hint=hint(error),
            of_key=error.of_key,
        )
        if problem is not None:
            yield problem
