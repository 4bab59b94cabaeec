"""JSON Schemas derived from a server's pydantic config class, by reading its source.

NeMo Gym drops unknown keys of a server block without a word and checks required fields
only when the server starts. An implementation without a checked-in schema under
`schemas/` still has a precise description of its fields: the pydantic class in
`<server_type>/<implementation>/app.py` that derives from one of nemo_gym's base config
classes. This module reads that class with Python's `ast` (the server's code is never
imported or run: it needs packages gym-scaffold does not have, and running it would be
unsafe) and writes a JSON Schema (draft 2020-12) of its fields:

- a field without a default, or with `Field(...)`, is required;
- str, int, float, bool (pydantic's lax forms, as in server-common.schema.json),
  list / tuple / set, dict / Mapping, Optional / `X | None` / Union, Literal, Path,
  PositiveInt / PositiveFloat, nested BaseModel classes and Enums are checked; a type
  it cannot judge statically (a class from a package outside the checkout) accepts
  anything;
- `ModelServerRef`, `ResourcesServerRef`, `AgentServerRef` are `{type, name}` references;
- unknown keys are errors unless the class says `model_config = ConfigDict(extra="allow")`;
- a field's `Field(description=...)` (or the docstring under it), its literal default and
  `Field(examples=...)` become the annotations editors show on hover and completion.

Base classes are followed through the file and through imports of other modules of the
checkout (`from resources_servers.mcqa.app import MCQAResourcesServerConfig`); the fields
of nemo_gym's own base classes are the common fields of server-common.schema.json, which
the derived schema composes with exactly as a checked-in implementation schema does.

Derived schemas are cached on disk by the content of every file read, under
the user's cache directory (`cache.cache_home`), so a second run parses nothing.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_scaffold.cache import digest
from gym_scaffold.safeio import NotReadable, read_regular
from gym_scaffold.secrets import looks_like_secret

BASE_URI = "https://gym-scaffold.dev/schemas/"
COMMON = BASE_URI + "server-common.schema.json"

# nemo_gym's base config classes -> the server type they configure.
BASE_CONFIGS = {
    "BaseResponsesAPIModelConfig": "responses_api_models",
    "BaseResourcesServerConfig": "resources_servers",
    "BaseResponsesAPIAgentConfig": "responses_api_agents",
}
# Further up nemo_gym's hierarchy: a config class deriving from these is a server config
# of a type only its directory tells.
GENERIC_BASES = {"BaseRunServerInstanceConfig", "BaseRunServerConfig"}
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
_FORMAT = 2  # of the on-disk cache entries
_SECRET_NAME = re.compile(r"key|token|secret|password|passwd|credential", re.IGNORECASE)


@dataclass
class Derived:
    """A derived schema and what it was read from."""

    schema: dict
    class_name: str
    server_type: str | None
    inputs: list[Path] = field(default_factory=list)  # every source file read


class DeriveError(Exception):
    """The file cannot be read or parsed, or holds no server config class."""


# -- reading modules --------------------------------------------------------------------


@dataclass
class _Module:
    path: Path
    classes: dict[str, ast.ClassDef]
    imports: dict[str, tuple[str, str]]  # local name -> (module, name)
    aliases: dict[str, ast.expr]  # `Name = <type expression>` at module level


def _parse(path: Path, source: bytes) -> _Module:
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise DeriveError(f"{path}: cannot parse: {exc}") from None
    classes: dict[str, ast.ClassDef] = {}
    imports: dict[str, tuple[str, str]] = {}
    aliases: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level:
            # `from .utils import X`: relative to the file's package.
            package = path.parent
            for _ in range(node.level - 1):
                package = package.parent
            for alias in node.names:
                imports[alias.asname or alias.name] = (f"./{package}|{node.module or ''}", alias.name)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            aliases[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            if _name_of(node.annotation) == "TypeAlias":
                aliases[node.target.id] = node.value
    return _Module(path, classes, imports, aliases)


def _name_of(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr  # typing.Optional -> Optional, pydantic.BaseModel -> BaseModel
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _Reader:
    """Modules of one checkout, each parsed once, followed through imports.

    `shared` may outlive the reader (one run derives a hundred schemas, importing the same
    modules): it keeps parsed modules and module lookups, while `read` records the files
    this derivation used.
    """

    def __init__(self, root: Path | None, shared: dict | None = None) -> None:
        self.root = root
        self.shared = shared if shared is not None else {}
        self.modules: dict[Path, _Module | None] = {}
        self.read: dict[Path, bytes] = {}

    def module(self, path: Path) -> _Module | None:
        if path in self.modules:
            return self.modules[path]
        known = self.shared.get(("module", path))
        if known is None:
            try:
                source = read_regular(path)  # a FIFO named like a module must not hang the run
            except (OSError, NotReadable):
                source = None
            module = None
            if source is not None:
                try:
                    module = _parse(path, source)
                except DeriveError:
                    pass
            known = self.shared[("module", path)] = (module, source)
        module, source = known
        if source is not None:
            self.read[path] = source
        self.modules[path] = module
        return module

    def module_file(self, dotted: str) -> Path | None:
        """The file of a module inside the checkout (`resources_servers.mcqa.app`)."""
        key = ("file", str(self.root), dotted)
        if key not in self.shared:
            self.shared[key] = self._module_file(dotted)
        return self.shared[key]

    def _module_file(self, dotted: str) -> Path | None:
        if dotted.startswith("./"):
            base, _, rest = dotted[2:].partition("|")
            start = Path(base)
            parts = [p for p in rest.split(".") if p]
        else:
            if self.root is None or dotted.split(".")[0] == "nemo_gym":
                return None
            start = self.root
            parts = dotted.split(".")
        candidate = start.joinpath(*parts)
        for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if path.is_file():
                return path
        return None

    def lookup(self, module: _Module, name: str, depth: int = 0) -> tuple[_Module, str] | None:
        """The module that defines `name` as seen from `module` (class or alias)."""
        if name in module.classes or name in module.aliases:
            return module, name
        target = module.imports.get(name)
        if target is None or depth > 8:
            return None
        path = self.module_file(target[0])
        if path is None:
            return None
        other = self.module(path)
        if other is None:
            return None
        return self.lookup(other, target[1], depth + 1)


# -- finding the config class -----------------------------------------------------------


def _base_names(node: ast.ClassDef) -> list[str]:
    return [name for name in (_name_of(base) for base in node.bases) if name]


class _Deriver:
    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.defs: dict[str, dict] = {}
        self._server_type: dict[tuple[Path, str], str | None | bool] = {}

    def server_type(self, module: _Module, name: str, depth: int = 0) -> str | None | bool:
        """The server type a class configures; True for a server config of unknown type;
        False for a class that is no server config."""
        key = (module.path, name)
        if key in self._server_type:
            return self._server_type[key]
        self._server_type[key] = False  # cycle guard
        found: str | None | bool = False
        node = module.classes.get(name)
        if node is not None and depth < 16:
            for base in _base_names(node):
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

    def is_kind(self, module: _Module, name: str, kinds: set[str], depth: int = 0) -> bool:
        node = module.classes.get(name)
        if node is None or depth > 16:
            return False
        for base in _base_names(node):
            if base in kinds:
                return True
            located = self.reader.lookup(module, base)
            if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
                if self.is_kind(located[0], located[1], kinds, depth + 1):
                    return True
        return False

    # -- fields ---------------------------------------------------------------------------

    def fields(self, module: _Module, name: str, depth: int = 0) -> tuple[dict[str, _Field], bool]:
        """name -> the field as written, and whether extra keys are allowed."""
        node = module.classes[name]
        collected: dict[str, _Field] = {}
        extra_allowed = False
        if depth < 16:
            for base in reversed(_base_names(node)):  # the first base wins, as in Python's MRO
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

    def type_schema(self, module: _Module, node: ast.expr | None, depth: int = 0) -> dict:
        if node is None or depth > 24:
            return {}
        if isinstance(node, ast.Constant):
            if node.value is None:
                return dict(_SCALARS["None"])
            if isinstance(node.value, str):  # a forward reference: "MyModel"
                try:
                    parsed = ast.parse(node.value, mode="eval").body
                except SyntaxError:
                    return {}
                return self.type_schema(module, parsed, depth + 1)
            return {}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _any_of([self.type_schema(module, node.left, depth + 1), self.type_schema(module, node.right, depth + 1)])
        if isinstance(node, ast.Subscript):
            outer = _name_of(node.value)
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
        name = _name_of(node)
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

    def model_ref(self, module: _Module, name: str, depth: int) -> dict:
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
    module: _Module  # the module it is written in (its names resolve there)
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
    if isinstance(value, ast.Call) and _name_of(value.func) == "Field":
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
        return _name_of(annotation.value) == "ClassVar"
    return _name_of(annotation) == "ClassVar"


def _required(value: ast.expr | None) -> bool:
    if value is None:
        return True
    if isinstance(value, ast.Call) and _name_of(value.func) == "Field":
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
                name = _name_of(keyword.value)  # Extra.allow
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


# -- the schema ---------------------------------------------------------------------------


# nemo_gym's server classes -> the server type they serve (a server class that names no
# config class of its own is configured by its type's base config class).
BASE_SERVERS = {
    "SimpleResponsesAPIModel": "responses_api_models",
    "BaseResponsesAPIModel": "responses_api_models",
    "SimpleResourcesServer": "resources_servers",
    "BaseResourcesServer": "resources_servers",
    "SimpleResponsesAPIAgent": "responses_api_agents",
    "BaseResponsesAPIAgent": "responses_api_agents",
}
_BASE_CONFIG_OF = {server_type: name for name, server_type in BASE_CONFIGS.items()}


def _config_annotation(module: _Module, name: str, reader: _Reader, depth: int = 0) -> tuple[_Module, str] | None:
    """`config: X` in server class `name` or a base class of the checkout: (module of X, X)."""
    node = module.classes.get(name)
    if node is None or depth > 16:
        return None
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.target.id == "config":
            annotated = _name_of(statement.annotation)
            if annotated:
                return module, annotated
    for base in _base_names(node):
        located = reader.lookup(module, base)
        if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
            found = _config_annotation(located[0], located[1], reader, depth + 1)
            if found:
                return found
    return None


def _served_type(module: _Module, name: str, reader: _Reader, depth: int = 0) -> str | None:
    """The server type a server class serves, through its bases."""
    node = module.classes.get(name)
    if node is None or depth > 16:
        return None
    for base in _base_names(node):
        if base in BASE_SERVERS:
            return BASE_SERVERS[base]
        located = reader.lookup(module, base)
        if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
            found = _served_type(located[0], located[1], reader, depth + 1)
            if found:
                return found
    return None


def find_config_class(reader: _Reader, module: _Module, deriver: _Deriver) -> tuple[_Module | None, str, str | None]:
    """The server config class of a module: (module defining it, its name, server type).

    A config class defined in the module: the one a server class names in `config: X`,
    else the most derived one; else the class a server class of the module (or
    one of its bases in the checkout) names in `config: X`; else the base config class of
    the type the module's server class serves (module None: only the common fields).
    """
    candidates = [name for name in module.classes if deriver.server_type(module, name) is not False]
    annotations = [
        found for found in (_config_annotation(module, name, reader) for name in module.classes) if found
    ]
    # The class a server class names (`config: X` in a class serving a server type) wins.
    served = [name for name in module.classes if _served_type(module, name, reader)]
    server_annotations = [found for found in (_config_annotation(module, name, reader) for name in served) if found]
    annotations = server_annotations + annotations
    if candidates:
        named = [name for where, name in server_annotations if where is module and name in candidates]
        if not named:
            bases_used = {base for name in candidates for base in _base_names(module.classes[name])}
            named = [name for name in candidates if name not in bases_used] or candidates
        pick = named[-1]
        found = deriver.server_type(module, pick)
        return module, pick, found if isinstance(found, str) else None
    for where, name in annotations:
        if name in BASE_CONFIGS:
            return None, name, BASE_CONFIGS[name]
        located = reader.lookup(where, name)
        if located and located[1] in located[0].classes:
            found = deriver.server_type(located[0], located[1])
            if found is not False:
                return located[0], located[1], found if isinstance(found, str) else None
    for name in reversed(list(module.classes)):
        server_type = _served_type(module, name, reader)
        if server_type:
            return None, _BASE_CONFIG_OF[server_type], server_type
    raise DeriveError(
        f"{module.path}: no class derives from {', '.join(BASE_CONFIGS)} (or a class of the checkout that does)"
    )


def derive_uncached(app_path: Path, root: Path | None = None, shared: dict | None = None) -> Derived:
    """The schema of `app_path`'s config class. `shared`: see _Reader (one run's sources)."""
    app_path = Path(os.path.abspath(app_path))
    if root is None:
        root = _guess_root(app_path)
    reader = _Reader(root, shared)
    module = reader.module(app_path)
    if module is None:
        if app_path in reader.read:
            module = _parse(app_path, reader.read[app_path])  # raises the parse error
        raise DeriveError(f"{app_path}: cannot read")
    deriver = _Deriver(reader)
    where, name, server_type = find_config_class(reader, module, deriver)
    if server_type is None:
        server_type = _type_from_path(app_path)
    if where is None:
        fields, extra_allowed = {}, False
    else:
        fields, extra_allowed = deriver.fields(where, name)
    body = deriver.object_schema(fields, extra_allowed, 0, skip=frozenset(BASE_FIELDS))
    schema: dict = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{server_type or 'server'} config {name}, derived from {app_path.name}",
        "description": f"Fields of {name}, read from {app_path.parent.name}/{app_path.name} by gym-scaffold.",
        "allOf": [{"$ref": f"{COMMON}#/$defs/{server_type or 'server'}"}],
        "properties": body["properties"],
    }
    if body.get("required"):
        schema["required"] = body["required"]
    if not extra_allowed:
        schema["unevaluatedProperties"] = False
    if deriver.defs:
        for definition in deriver.defs.values():
            definition.pop("x-source", None)
        schema["$defs"] = deriver.defs
    return Derived(schema, name, server_type, sorted(reader.read))


def _guess_root(app_path: Path) -> Path | None:
    """`<root>/<server_type>/<impl>/app.py` -> root."""
    resolved = app_path.resolve()
    parents = resolved.parents
    if len(parents) >= 3 and parents[1].name in BASE_CONFIGS.values():
        return parents[2]
    return None


def _type_from_path(app_path: Path) -> str | None:
    parent = app_path.resolve().parent.parent.name
    return parent if parent in BASE_CONFIGS.values() else None


# -- the on-disk cache ----------------------------------------------------------------------


def _code_digest() -> str:
    stat = Path(__file__).stat()
    return f"{_FORMAT}:{stat.st_size}:{stat.st_mtime_ns}"


def derive(
    app_path: Path, root: Path | None = None, *, cache: Path | None = None, shared: dict | None = None
) -> Derived:
    """The derived schema of `app_path`, from the cache when no file it was read from changed.

    Raises DeriveError when there is no config class to derive from (also cached).
    """
    app_path = Path(app_path)
    try:
        source = read_regular(app_path)
    except OSError as exc:
        raise DeriveError(f"{app_path}: cannot read: {exc.strerror}") from None
    except NotReadable as exc:
        raise DeriveError(f"{app_path}: {exc}") from None
    if not source.strip():  # a placeholder (a partial copy of a checkout): nothing to read
        raise DeriveError(f"{app_path}: empty file, no config class")
    entry_file = None
    if cache is not None:
        key = digest(source + b"\0" + str(app_path.resolve()).encode() + b"\0" + _code_digest().encode())
        entry_file = cache / f"{key}.json"
        try:
            entry = json.loads(entry_file.read_text())
            if all(_file_digest(Path(p)) == d for p, d in entry["inputs"].items()):
                if entry.get("error"):
                    raise DeriveError(entry["error"])
                return Derived(entry["schema"], entry["class"], entry["type"], [Path(p) for p in entry["inputs"]])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    try:
        derived = derive_uncached(app_path, root, shared)
        record: dict = {"schema": derived.schema, "class": derived.class_name, "type": derived.server_type}
        inputs = derived.inputs or [app_path]
    except DeriveError as exc:
        derived, record, inputs = None, {"error": str(exc)}, [app_path]
        error = exc
    if entry_file is not None:
        record["inputs"] = {str(p): _file_digest(p) for p in inputs}
        try:
            entry_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = entry_file.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(record))
            os.replace(temporary, entry_file)
        except OSError:
            pass
    if derived is None:
        raise error
    return derived


def _file_digest(path: Path) -> str:
    try:
        return digest(read_regular(path))
    except (OSError, NotReadable):
        return ""

