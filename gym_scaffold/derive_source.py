"""Reading a server's source with `ast`: modules, their imports, and the config class.

The server's code is never imported or run. A module's classes, imports and type aliases
are read once per run (`SourceReader`'s `shared`), and names are followed through
imports of other modules of the checkout; `find_config_class` picks the pydantic class
that configures the server. Turning that class into a JSON Schema is derive_schema.py's.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gym_scaffold.safeio import NotReadable, read_regular

if TYPE_CHECKING:
    from gym_scaffold.derive_schema import SchemaDeriver

# nemo_gym's base config classes -> the server type they configure.
BASE_CONFIGS = {
    "BaseResponsesAPIModelConfig": "responses_api_models",
    "BaseResourcesServerConfig": "resources_servers",
    "BaseResponsesAPIAgentConfig": "responses_api_agents",
}
# Further up nemo_gym's hierarchy: a config class deriving from these is a server config
# of a type only its directory tells.
GENERIC_BASES = {"BaseRunServerInstanceConfig", "BaseRunServerConfig"}

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


class DeriveError(Exception):
    """The file cannot be read or parsed, or holds no server config class."""


@dataclass
class SourceModule:
    path: Path
    classes: dict[str, ast.ClassDef]
    imports: dict[str, tuple[str, str]]  # local name -> (module, name)
    aliases: dict[str, ast.expr]  # `Name = <type expression>` at module level


def parse_module(path: Path, source: bytes) -> SourceModule:
    tree = _parse_outline(source, path)
    if tree is None:
        try:
            tree = parse_quietly(source, str(path))
        except (SyntaxError, ValueError) as exc:
            raise DeriveError(f"{path}: cannot parse: {exc}") from None
        except (MemoryError, RecursionError):  # nesting deeper than Python's parser takes
            raise DeriveError(f"{path}: cannot parse: nested too deeply") from None
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
            if name_of(node.annotation) == "TypeAlias":
                aliases[node.target.id] = node.value
    return SourceModule(path, classes, imports, aliases)


# Function bodies are never read here, and are two thirds of a server's source. Parsing
# the module with each body cut out ("outline") takes less than half the time: NeMo Gym's
# 160 app.py files, 0.70 s -> 0.31 s (8 of them parsed whole), the bulk of a first
# `schema export` (benchmarks/schema_export.py, "export, cold"). A body is the lines after `def` indented deeper than
# it (or closing its brackets at its own indent); its lines become blank, so every line
# number holds. The outline is used only when it is certainly the module's own outline:
# each cut keeps its triple quotes paired and does not end on a backslash, the outline
# parses, and every cut `def` is a function definition of the outline (not text inside a
# string). Otherwise the whole source is parsed.
_DEF_LINE = re.compile(rb"([ \t]*)((?:async[ \t]+)?def[ \t]+\w+)")
_CLOSING = (b")", b"]", b"}")


def _parse_outline(source: bytes, path: Path) -> ast.Module | None:
    lines = source.split(b"\n")
    cuts: list[int] = []  # 1-based lines of the cut definitions
    index = 0
    while index < len(lines):
        found = _DEF_LINE.match(lines[index])
        if found is None:
            index += 1
            continue
        indent = len(found.group(1))
        end = index + 1
        while end < len(lines):
            text = lines[end].lstrip()
            depth = len(lines[end]) - len(text)
            if text and not text.startswith(b"#") and (depth < indent or (depth == indent and text[:1] not in _CLOSING)):
                break
            end += 1
        body = b"\n".join(lines[index:end])
        if body.count(b'"""') % 2 or body.count(b"'''") % 2 or body.rstrip().endswith(b"\\"):
            return None  # the body may go on in a string, or on a line continued by a backslash
        lines[index] = found.group(1) + found.group(2) + b"(): ..."
        lines[index + 1 : end] = [b""] * (end - index - 1)
        cuts.append(index + 1)
        index = end
    if not cuts:
        return None  # nothing saved: the caller parses the source as it is
    try:
        tree = parse_quietly(b"\n".join(lines), str(path))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    defined = {node.lineno for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return tree if defined.issuperset(cuts) else None


def parse_quietly(source: bytes | str, filename: str = "<unknown>", mode: str = "exec") -> Any:
    """ast.parse without the SyntaxWarnings of the server's code (`"\\%"`: an invalid
    escape sequence), which Python prints to stderr; they are not ours to report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, filename=filename, mode=mode)


def name_of(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr  # typing.Optional -> Optional, pydantic.BaseModel -> BaseModel
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class SourceReader:
    """Modules of one checkout, each parsed once, followed through imports.

    `shared` may outlive the reader (one run derives a hundred schemas, importing the same
    modules): it keeps parsed modules and module lookups, while `read` records the files
    this derivation used.
    """

    def __init__(self, root: Path | None, shared: dict | None = None) -> None:
        self.root = root
        self.shared = shared if shared is not None else {}
        self.modules: dict[Path, SourceModule | None] = {}
        self.read: dict[Path, bytes] = {}

    def module(self, path: Path) -> SourceModule | None:
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
                    module = parse_module(path, source)
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

    def lookup(self, module: SourceModule, name: str, depth: int = 0) -> tuple[SourceModule, str] | None:
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


def base_names(node: ast.ClassDef) -> list[str]:
    return [name for name in (name_of(base) for base in node.bases) if name]


def _config_annotation(module: SourceModule, name: str, reader: SourceReader, depth: int = 0) -> tuple[SourceModule, str] | None:
    """`config: X` in server class `name` or a base class of the checkout: (module of X, X)."""
    node = module.classes.get(name)
    if node is None or depth > 16:
        return None
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.target.id == "config":
            annotated = name_of(statement.annotation)
            if annotated:
                return module, annotated
    for base in base_names(node):
        located = reader.lookup(module, base)
        if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
            found = _config_annotation(located[0], located[1], reader, depth + 1)
            if found:
                return found
    return None


def _served_type(module: SourceModule, name: str, reader: SourceReader, depth: int = 0) -> str | None:
    """The server type a server class serves, through its bases."""
    node = module.classes.get(name)
    if node is None or depth > 16:
        return None
    for base in base_names(node):
        if base in BASE_SERVERS:
            return BASE_SERVERS[base]
        located = reader.lookup(module, base)
        if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
            found = _served_type(located[0], located[1], reader, depth + 1)
            if found:
                return found
    return None


def find_config_class(reader: SourceReader, module: SourceModule, deriver: SchemaDeriver) -> tuple[SourceModule | None, str, str | None]:
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
            bases_used = {base for name in candidates for base in base_names(module.classes[name])}
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
