"""Turning a pydantic config class, read with `ast`, into a JSON Schema of its fields.

Types map to schemas as the docstring of derive.py lists; nested models become `$defs`,
Enums and Literals `enum`s, nemo_gym's server references `{type, name}` mappings. A field's
description, literal default and examples become the annotations editors show, except a
default or example that looks like a secret.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gym_scaffold.derive_source import (
    BASE_CONFIGS,
    GENERIC_BASES,
    SourceModule,
    SourceReader,
    base_names,
    name_of,
    parse_quietly,
)
from gym_scaffold.secrets import looks_like_secret

BASE_URI = "https://gym-scaffold.dev/schemas/"
COMMON = BASE_URI + "server-common.schema.json"

# Fields every server has through nemo_gym's base classes (server-common describes them).
BASE_FIELDS = {"host", "port", "num_workers", "entrypoint", "domain", "name", "datasets"}
REFERENCES = {
    "ModelServerRef": "responses_api_models",
    "ResourcesServerRef": "resources_servers",
    "AgentServerRef": "responses_api_agents",
}
_SCALARS = {
    "str": {"title": "a string", "type": "string"},
    "Path": {"title": "a path string", "type": "string"},
    "PosixPath": {"title": "a path string", "type": "string"},
    "FilePath": {"title": "a path string", "type": "string"},
    "DirectoryPath": {"title": "a path string", "type": "string"},
    "HttpUrl": {"title": "a URL string", "type": "string"},
    "AnyUrl": {"title": "a URL string", "type": "string"},
    "SecretStr": {"title": "a string", "type": "string"},
    "int": {"title": "an integer", "$ref": COMMON + "#/$defs/integer"},
    "PositiveInt": {"title": "an integer of at least 1", "$ref": COMMON + "#/$defs/positive_integer"},
    "NonNegativeInt": {"title": "an integer", "$ref": COMMON + "#/$defs/integer"},
    "float": {"title": "a number", "$ref": COMMON + "#/$defs/number"},
    "PositiveFloat": {"title": "a number", "$ref": COMMON + "#/$defs/number"},
    "NonNegativeFloat": {"title": "a number", "$ref": COMMON + "#/$defs/number"},
    "bool": {"title": "a boolean (true or false)", "$ref": COMMON + "#/$defs/boolean"},
    "StrictStr": {"title": "a string", "type": "string"},
    "StrictInt": {"title": "an integer", "type": "integer"},
    "StrictBool": {"title": "a boolean (true or false)", "type": "boolean"},
    "None": {"title": "null", "type": "null"},
    "NoneType": {"title": "null", "type": "null"},
}
_LISTS = {"list", "List", "Sequence", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet", "Iterable"}
_DICTS = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "DefaultDict", "defaultdict"}
_WRAPPERS = {"Annotated", "Required", "NotRequired", "Final"}
_ENUM_BASES = {"Enum", "StrEnum", "IntEnum"}
_MODEL_BASES = {"BaseModel"}
_SECRET_NAME = re.compile(r"key|token|secret|password|passwd|credential", re.IGNORECASE)


class SchemaDeriver:
    def __init__(self, reader: SourceReader) -> None:
        self.reader = reader
        self.defs: dict[str, dict] = {}
        self._server_type: dict[tuple[Path, str], str | None | bool] = {}

    def server_type(self, module: SourceModule, name: str, depth: int = 0) -> str | None | bool:
        """The server type a class configures; True for a server config of unknown type;
        False for a class that is no server config."""
        key = (module.path, name)
        if key in self._server_type:
            return self._server_type[key]
        self._server_type[key] = False  # cycle guard
        found: str | None | bool = False
        node = module.classes.get(name)
        if node is not None and depth < 16:
            for base in base_names(node):
                if base in BASE_CONFIGS:
                    found = BASE_CONFIGS[base]
                elif base in GENERIC_BASES:
                    found = True
                else:
                    located = self.reader.lookup(module, base)
                    if located and located[1] in located[0].classes:
                        found = self.server_type(located[0], located[1], depth + 1)
                if found is not False:
                    break
        self._server_type[key] = found
        return found

    def is_kind(self, module: SourceModule, name: str, kinds: set[str], depth: int = 0) -> bool:
        node = module.classes.get(name)
        if node is None or depth > 16:
            return False
        for base in base_names(node):
            if base in kinds:
                return True
            located = self.reader.lookup(module, base)
            if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
                if self.is_kind(located[0], located[1], kinds, depth + 1):
                    return True
        return False

    # -- fields ---------------------------------------------------------------------------

    def fields(self, module: SourceModule, name: str, depth: int = 0) -> tuple[dict[str, _Field], bool]:
        """name -> the field as written, and whether extra keys are allowed."""
        node = module.classes[name]
        collected: dict[str, _Field] = {}
        extra_allowed = False
        if depth < 16:
            for base in reversed(base_names(node)):  # the first base wins, as in Python's MRO
                located = self.reader.lookup(module, base)
                if located and located[1] in located[0].classes:
                    inherited, allowed = self.fields(located[0], located[1], depth + 1)
                    collected.update(inherited)
                    extra_allowed = extra_allowed or allowed
        for index, statement in enumerate(node.body):
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id == "model_config":
                        extra = _extra_setting(statement.value)
                        if extra is not None:
                            extra_allowed = extra == "allow"
            if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
                continue
            field_name = statement.target.id
            if field_name == "model_config":
                extra = _extra_setting(statement.value)
                if extra is not None:
                    extra_allowed = extra == "allow"
                continue
            if field_name.startswith("_") or _is_classvar(statement.annotation):
                continue
            after = node.body[index + 1] if index + 1 < len(node.body) else None
            annotations = _annotations(statement.value, after)
            if _SECRET_NAME.search(field_name) or any(
                looks_like_secret(v) for v in (annotations.get("default"), *annotations.get("examples", ()))
            ):
                # Exported for editors: a key written into the source stays out of the files.
                annotations = {k: v for k, v in annotations.items() if k not in ("default", "examples")}
            collected[field_name] = _Field(statement.annotation, _required(statement.value), module, annotations)
        return collected, extra_allowed

    # -- types ----------------------------------------------------------------------------

    def type_schema(self, module: SourceModule, node: ast.expr | None, depth: int = 0) -> dict:
        if node is None or depth > 24:
            return {}
        if isinstance(node, ast.Constant):
            if node.value is None:
                return dict(_SCALARS["None"])
            if isinstance(node.value, str):  # a forward reference: "MyModel"
                try:
                    parsed = parse_quietly(node.value, mode="eval").body
                except (SyntaxError, ValueError, MemoryError, RecursionError):  # not a type
                    return {}
                return self.type_schema(module, parsed, depth + 1)
            return {}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _any_of([self.type_schema(module, node.left, depth + 1), self.type_schema(module, node.right, depth + 1)])
        if isinstance(node, ast.Subscript):
            outer = name_of(node.value)
            args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if outer in ("Optional",):
                return _any_of([self.type_schema(module, args[0], depth + 1), dict(_SCALARS["None"])])
            if outer == "Union":
                return _any_of([self.type_schema(module, arg, depth + 1) for arg in args])
            if outer == "Literal":
                values = [arg.value for arg in args if isinstance(arg, ast.Constant)]
                if len(values) != len(args):
                    return {}
                return {"title": "one of: " + ", ".join(_shown(v) for v in values), "enum": values}
            if outer in _WRAPPERS:
                return self.type_schema(module, args[0], depth + 1)
            if outer in _LISTS:
                items = self.type_schema(module, args[0], depth + 1)
                if outer in ("tuple", "Tuple") and not (
                    len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis
                ):
                    items = {}  # a fixed-length tuple: only its being a list is checked
                schema: dict = {"title": "a list", "type": "array"}
                if items:
                    schema["items"] = items
                return schema
            if outer in _DICTS:
                values = self.type_schema(module, args[-1], depth + 1) if len(args) == 2 else {}
                schema = {"title": "a mapping", "type": "object"}
                if values:
                    schema["additionalProperties"] = values
                return schema
            if outer in ("Type", "type", "Callable"):
                return {}
            return {}
        name = name_of(node)
        if name is None:
            return {}
        if name in _SCALARS:
            return dict(_SCALARS[name])
        if name in ("list", "List", "tuple", "Tuple", "set", "Set", "Sequence"):
            return {"title": "a list", "type": "array"}
        if name in ("dict", "Dict", "Mapping"):
            return {"title": "a mapping", "type": "object"}
        if name in REFERENCES:
            return _reference(REFERENCES[name])
        if name in ("Any", "object"):
            return {}
        located = self.reader.lookup(module, name)
        if located is None:
            return {}  # a type from outside the checkout: not checkable statically
        where, local = located
        if local in where.aliases:
            return self.type_schema(where, where.aliases[local], depth + 1)
        if self.is_kind(where, local, _ENUM_BASES):
            return _enum(where.classes[local])
        if self.is_kind(where, local, _MODEL_BASES):
            return self.model_ref(where, local, depth + 1)
        return {}

    def model_ref(self, module: SourceModule, name: str, depth: int) -> dict:
        key = name if name not in self.defs or self.defs[name].get("x-source") == str(module.path) else f"{name}_{len(self.defs)}"
        if key not in self.defs:
            self.defs[key] = {"x-source": str(module.path)}  # placeholder against recursion
            fields, extra_allowed = self.fields(module, name)
            self.defs[key] = self.object_schema(fields, extra_allowed, depth, title=f"a {name} mapping")
            self.defs[key]["x-source"] = str(module.path)
        return {"title": f"a {name} mapping", "$ref": f"#/$defs/{key}"}

    def object_schema(self, fields: dict, extra_allowed: bool, depth: int, *, title: str | None = None,
                      skip: frozenset[str] = frozenset()) -> dict:
        properties: dict[str, dict] = {}
        required = []
        for field_name, written in fields.items():
            if field_name in skip:
                continue
            properties[field_name] = self.type_schema(written.module, written.annotation, depth) | written.annotations
            if written.required:
                required.append(field_name)
        schema: dict = {"type": "object"}
        if title:
            schema["title"] = title
        schema["properties"] = properties
        if required:
            schema["required"] = required
        if not extra_allowed:
            schema["additionalProperties"] = False
        return schema


@dataclass
class _Field:
    annotation: ast.expr
    required: bool
    module: SourceModule  # the module it is written in (its names resolve there)
    annotations: dict  # description, default, examples


def _literal(node: ast.expr | None) -> tuple[bool, Any]:
    """(True, value) for a literal that JSON can hold; default_factory=dict/list as {} / []."""
    if node is None:
        return False, None
    if isinstance(node, ast.Name) and node.id in ("dict", "list"):
        return True, {} if node.id == "dict" else []
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False, None
    return True, value


def _annotations(value: ast.expr | None, after: ast.stmt | None) -> dict:
    """What a field says about itself: Field(description=, default=, examples=), a plain
    default, or the docstring on the line below it."""
    found: dict = {}
    default: ast.expr | None = value
    if isinstance(value, ast.Call) and name_of(value.func) == "Field":
        default = value.args[0] if value.args else None
        for keyword in value.keywords:
            if keyword.arg == "default":
                default = keyword.value
            elif keyword.arg == "default_factory":
                default = keyword.value
            elif keyword.arg == "description" and isinstance(keyword.value, ast.Constant):
                if isinstance(keyword.value.value, str) and keyword.value.value.strip():
                    found["description"] = keyword.value.value.strip()
            elif keyword.arg == "examples":
                ok, examples = _literal(keyword.value)
                if ok and isinstance(examples, list) and examples:
                    found["examples"] = examples
    if "description" not in found and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
        if isinstance(after.value.value, str) and after.value.value.strip():
            found["description"] = " ".join(after.value.value.split())
    if not (isinstance(default, ast.Constant) and default.value is Ellipsis):
        ok, literal = _literal(default)
        if ok:
            found["default"] = literal
    return found


def _is_classvar(annotation: ast.expr) -> bool:
    if isinstance(annotation, ast.Subscript):
        return name_of(annotation.value) == "ClassVar"
    return name_of(annotation) == "ClassVar"


def _required(value: ast.expr | None) -> bool:
    if value is None:
        return True
    if isinstance(value, ast.Call) and name_of(value.func) == "Field":
        if value.args:
            first = value.args[0]
            return isinstance(first, ast.Constant) and first.value is Ellipsis
        names = {keyword.arg for keyword in value.keywords}
        if "default" in names:
            default = next(k.value for k in value.keywords if k.arg == "default")
            return isinstance(default, ast.Constant) and default.value is Ellipsis
        return "default_factory" not in names
    return False


def _extra_setting(value: ast.expr | None) -> str | None:
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "extra":
                if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                    return keyword.value.value
                name = name_of(keyword.value)  # Extra.allow
                return name.lower() if name else None
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "extra" and isinstance(item, ast.Constant):
                return str(item.value)
    return None


def _enum(node: ast.ClassDef) -> dict:
    values = []
    for statement in node.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
            values.append(statement.value.value)
    if not values:
        return {}
    return {"title": "one of: " + ", ".join(_shown(v) for v in values), "enum": values}


def _reference(server_type: str) -> dict:
    return {
        "title": f"a reference {{type: {server_type}, name: <instance>}}",
        "type": "object",
        "required": ["type", "name"],
        "properties": {
            "type": {"title": server_type, "const": server_type},
            "name": {"title": "an instance name", "type": "string", "minLength": 1},
        },
        "additionalProperties": False,
    }


def _shown(value: Any) -> str:
    return "null" if value is None else str(value)


def _any_of(branches: list[dict]) -> dict:
    flat: list[dict] = []
    for branch in branches:
        if not branch:
            return {}  # one branch accepts anything: so does the union
        if list(branch) == ["anyOf"] or (set(branch) == {"anyOf", "title"}):
            flat.extend(branch["anyOf"])
        else:
            flat.append(branch)
    titles = [b.get("title") or "a value" for b in flat]
    return {"anyOf": flat, "title": " or ".join(dict.fromkeys(titles))}
