"""JSON Schemas for editors: `gym-scaffold schema export`.

Editors built on yaml-language-server (VS Code's YAML extension, Neovim, Helix, JetBrains
through LSP) validate a YAML file against one JSON Schema, read from disk, as it is typed.
`validate` checks a config against several schemas at once (the file shape, then each
server block against its implementation's schema, hand-written in `schemas/` or derived
from the server's app.py) and decides in Python what a schema cannot say. This module
bundles all of that into one self-contained draft 2020-12 document per config directory
kind (`responses_api_models.schema.json`, ..., `benchmarks.schema.json`), and one for
env.yaml:

- instance -> server type -> implementation -> fields, with every implementation
  present in the checkout named, so completion offers it; other names get the fields
  every server of that type has;
- every `$ref` points into the document's own `$defs`: nothing is fetched at edit time;
- a `${...}` interpolation or the `???` marker is accepted in any field, whatever its
  type (NeMo Gym resolves them at run time; `validate` checks them then);
- a key is required where `validate` reports its absence as an error: `domain` in a
  resources server block that declares a server (it has `entrypoint`, no `_inherit_from`
  / `_copy`) in a file without `config_paths`, and the keys of a dataset entry. An
  implementation's own required keys are a warning of `validate` (a run may supply them),
  which an editor cannot show as such: they are left out;
- descriptions, defaults and examples come from the schemas and the config classes;
  `markdownDescription` repeats a description that holds code, for editors that render it.

What JSON Schema cannot express stays `validate`'s: interpolations resolved through
env.yaml, gitignore, references between files, directories that must exist.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from gym_scaffold import schema_files, schemas
from gym_scaffold.config.model import SERVER_TYPES
from gym_scaffold.discover import CONFIG_DIRS, entrypoint_file
from gym_scaffold.parallel import fork_map

DEST = Path(".gym-scaffold") / "schemas"  # relative to the checkout root
ENV_SCHEMA = "env.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
DEFERRED_PATTERN = r"\$\{|^\?\?\?$"  # what `validate` defers: an interpolation, or ???

_ANNOTATIONS = ("title", "description", "markdownDescription", "default", "examples", "deprecated")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("additionalProperties", "unevaluatedProperties", "items", "not", "if", "then",
                  "else", "contains", "propertyNames")
_FIELD_POSITIONS = ("properties", "patternProperties", "additionalProperties", "items")
_CONDITIONS = ("if", "not", "propertyNames", "contains")  # where a value is tested, not typed
_DATASET_DEFS = tuple(f"/$defs/{name}" for name in ("dataset", "gitlab_identifier", "huggingface_identifier"))
_OTHER_ENTRYPOINT = re.compile(rb"entrypoint\s*:\s*(?![\"']?app\.py\b)\S")
_PARALLEL_MIN = 32  # implementations: fewer are derived in this process

_DIRECTIVE_PRESENT = {"anyOf": [{"required": ["_inherit_from"]}, {"required": ["_copy"]}]}


def schema_file(kind: str) -> str:
    """The exported whole-file schema of one config directory kind (or env.yaml's)."""
    return ENV_SCHEMA if kind == "env.yaml" else f"{kind}.schema.json"


def file_globs(kind: str) -> list[str]:
    """The files of a config directory kind, as yaml-language-server globs (from the root)."""
    if kind in SERVER_TYPES:
        return [f"{kind}/*/configs/**/*.yaml", f"{kind}/*/configs/**/*.yml"]
    if kind == "env.yaml":
        return ["env.yaml"]
    return [f"{kind}/**/*.yaml", f"{kind}/**/*.yml", f"!{kind}/**/prompts/**"]


# -- what the checkout holds ---------------------------------------------------------------


def checkout_implementations(root: Path) -> dict[str, list[str]]:
    """Server type -> the implementation directories under it, sorted."""
    found: dict[str, list[str]] = {}
    for server_type in SERVER_TYPES:
        names = []
        try:
            entries = list(os.scandir(root / server_type))
        except OSError:
            entries = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir and schema_files.IMPLEMENTATION_NAME.match(entry.name) and not entry.name.startswith(("_", ".")):
                names.append(entry.name)
        found[server_type] = sorted(names)
    return found


def _implementation_document(root: Path, server_type: str, name: str, source: Path | None,
                             derived_cache: Path | None, shared: dict) -> tuple[str, dict | None, bool]:
    """(base URI, schema of the implementation's fields or None, whether it was derived).

    `source`: the file another entrypoint of the implementation names (None: app.py, or
    the implementation's schema in `schemas/`, which applies whatever the entrypoint).
    """
    if source is None:
        relative = schemas.implementation_schema_path(server_type, name)
        if relative is not None:
            return schemas.BASE_URI + relative, schemas.schema(relative), False
        source = entrypoint_file(root, server_type, name, None)  # app.py
        uri = f"{schemas.BASE_URI}derived/{server_type}/{name}.schema.json"
    else:
        uri = f"{schemas.BASE_URI}derived/{server_type}/{name}/{source.relative_to(root).as_posix()}.schema.json"
    from gym_scaffold import derive

    if not os.path.isfile(source):
        return uri, None, True
    try:
        derived = derive.derive(source, root, cache=derived_cache, shared=shared)
    except derive.DeriveError:
        return uri, None, True
    if derived.server_type not in (server_type, None):
        return uri, None, True
    document = dict(derived.schema)
    document.pop("$schema", None)
    return uri, document, True


def _other_entrypoints(root: Path, implementations: dict[str, list[str]]) -> dict[tuple[str, str], dict[str, Path]]:
    """(server type, implementation) -> {entrypoint as configs write it: the file it names},
    for the blocks of the checkout's configs whose entrypoint is not the directory's app.py
    (langgraph_agent's reflection_agent.py, aviary's client_app.py)."""
    from gym_scaffold import checkout, discover
    from gym_scaffold.safeio import read_or_none

    def read(path: Path) -> bytes | None:  # only files naming another entrypoint are scanned
        data = read_or_none(path)
        return data if data is not None and _OTHER_ENTRYPOINT.search(data) else None

    paths = [path for path in discover.default_targets(root) if path.name != discover.ENV_FILE_NAME]
    found: dict[tuple[str, str], dict[str, Path]] = {}
    for server_type, name, entrypoint in sorted(checkout.build_index(paths, read).entrypoints):
        if name not in implementations.get(server_type, ()) or schemas.implementation_schema_path(server_type, name):
            continue
        source = entrypoint_file(root, server_type, name, entrypoint)
        if source != entrypoint_file(root, server_type, name, None):
            found.setdefault((server_type, name), {})[entrypoint] = source
    return found


def _implementation_entry(bundle: _Bundle, server_type: str, name: str, app: tuple[str, dict | None, bool],
                          others: dict[str, tuple[str, dict | None, bool]]) -> dict:
    """The schema of one implementation's block: its schema in `schemas/`, else the class
    of the file its `entrypoint` names (app.py when it names none), else the fields every
    server of its type has."""
    uri, document, derived = app
    fallback = bundle.ref(schemas.BASE_URI + schemas.SERVER_COMMON, f"/$defs/{server_type}")
    if not derived:
        return {"$ref": bundle.ref(uri, "")}
    if document is None and not others:
        return {"$ref": fallback, "description": f"{name}: no config class found in its app.py; "
                f"the fields every server of {server_type} has."}
    chosen: dict = {"$ref": fallback}  # an entrypoint no config of the checkout names
    for entrypoint, (other_uri, other, _) in sorted(others.items(), reverse=True):
        if other is not None:
            chosen = {"if": {"properties": {"entrypoint": {"const": entrypoint}}},
                      "then": {"$ref": bundle.ref(other_uri, "")}, "else": chosen}
    return {
        "if": {"required": ["entrypoint"], "properties": {"entrypoint": {"not": {"const": "app.py"}}}},
        "then": chosen,
        "else": {"$ref": bundle.ref(uri, "") if document is not None else fallback},
    }


def _own_references(documents: dict[str, dict], uri: str, document: dict) -> dict:
    """`document`, or a copy whose common part (allOf) leaves alone the reference-named fields
    its class types itself (`model_server: Optional[ModelServerRef] = None` takes null).

    Every server's `model_server`, `judge_model_server`, ... must be a {type, name}
    reference (server-common.schema.json's patternProperties); `validate` lets the class's
    own type of such a field decide instead, and so must the editor. The copy refers to a
    variant of server-common.schema.json whose pattern skips those names, added to
    `documents`.
    """
    common = schemas.BASE_URI + schemas.SERVER_COMMON
    patterns = documents[common]["$defs"]["server"].get("patternProperties", {})
    typed = sorted(
        name for name, node in document.get("properties", {}).items()
        if isinstance(node, dict) and node and any(re.search(pattern, name) for pattern in patterns)
    )
    if not typed:
        return document
    variant_uri = f"{schemas.BASE_URI}server-common.own-{'.'.join(typed)}.schema.json"
    if variant_uri not in documents:
        variant = json.loads(json.dumps(documents[common]))
        skip = "^(?!(?:" + "|".join(map(re.escape, typed)) + ")$).*?"
        variant["$defs"]["server"]["patternProperties"] = {
            f"{skip}(?:{pattern})": node for pattern, node in patterns.items()
        }
        documents[variant_uri] = variant

    def retarget(part: Any) -> Any:  # an entry of the document's allOf
        reference = part.get("$ref") if isinstance(part, dict) else None
        if isinstance(reference, str):
            target, fragment = urldefrag(urljoin(uri, reference))
            if target == common:
                return {**part, "$ref": f"{variant_uri}#{fragment}"}
        return part

    return {**document, "allOf": [retarget(part) for part in document.get("allOf", [])]}


# -- bundling ------------------------------------------------------------------------------


def _def_name(uri: str, fragment: str) -> str:
    """A readable, unique `$defs` name for (document, JSON pointer)."""
    stem = uri[len(schemas.BASE_URI):] if uri.startswith(schemas.BASE_URI) else uri
    stem = stem.removesuffix(".schema.json").replace("/", ".")
    tail = fragment.strip("/").replace("$defs/", "").replace("/", ".")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{stem}.{tail}" if tail else stem)


class _Bundle:
    """One self-contained document: each schema node referred to becomes a `$defs` entry."""

    def __init__(self, documents: dict[str, dict]) -> None:
        self.documents = documents
        self.defs: dict[str, Any] = {"deferred": {
            "title": "an interpolation ${...} or the ??? marker",
            "description": "Resolved by NeMo Gym when it runs (from env.yaml, another key or "
                           "the command line); `gym-scaffold validate` checks the value then.",
            "type": "string",
            "pattern": DEFERRED_PATTERN,
        }}
        self.names: dict[tuple[str, str], str] = {}

    def ref(self, uri: str, fragment: str) -> str:
        key = (uri, fragment)
        name = self.names.get(key)
        if name is None:
            name = _def_name(uri, fragment)
            while name in self.defs:  # another document's pointer spelt the same way
                name += "_"
            self.names[key] = name
            self.defs[name] = {}  # placeholder against recursion
            node: Any = self.documents[uri]
            for part in fragment.lstrip("/").split("/") if fragment else ():
                part = part.replace("~1", "/").replace("~0", "~")
                node = node[int(part)] if isinstance(node, list) else node[part]
            keep = uri == schemas.BASE_URI + schemas.CONFIG_FILE or (
                uri == schemas.BASE_URI + schemas.SERVER_COMMON and fragment.startswith(_DATASET_DEFS)
            )
            self.defs[name] = self.imported(node, uri, keep_required=keep)
        return f"#/$defs/{name}"

    def define(self, uri: str, fragment: str, name: str, node: Any) -> None:
        """Use `node` wherever (uri, fragment) is referred to."""
        self.names[(uri, fragment)] = name
        self.defs[name] = node

    def imported(self, node: Any, base: str, *, keep_required: bool = False, condition: bool = False) -> Any:
        """`node` with its references into the bundle and its fields lenient to `${...}`.

        `required` is dropped but in dataset entries and conditions: `validate` applies it
        to a server block only when the block is complete, which the file alone does not
        tell, and reports a missing implementation key as a warning (a run may supply it).
        Dataset entries are always complete (lists are replaced, not merged).
        """
        if not isinstance(node, dict):
            return node
        keep_required = keep_required or condition
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$id", "$schema") or (key == "required" and not keep_required):
                continue
            if key == "$ref" and isinstance(value, str):
                uri, fragment = urldefrag(urljoin(base, value))
                out[key] = self.ref(uri or base, fragment)
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                as_field = key in _FIELD_POSITIONS and not condition
                out[key] = {name: self._sub(sub, base, condition, as_field, keep_required) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self._sub(sub, base, condition, False, keep_required) for sub in value]
            elif key in _SCHEMA_VALUES:
                inside = condition or key in _CONDITIONS
                out[key] = self._sub(value, base, inside, key in _FIELD_POSITIONS and not inside, keep_required)
            else:
                out[key] = value
        if isinstance(out.get("description"), str) and "`" in out["description"]:
            out.setdefault("markdownDescription", out["description"])
        return out

    def _sub(self, node: Any, base: str, condition: bool, as_field: bool, keep_required: bool) -> Any:
        node = self.imported(node, base, keep_required=keep_required, condition=condition)
        return lenient(node) if as_field else node


def lenient(node: Any) -> Any:
    """A field schema that also accepts `${...}` and `???`; annotations stay outside, for hover."""
    if not isinstance(node, dict):
        return node
    constraint = {k: v for k, v in node.items() if k not in _ANNOTATIONS}
    if not constraint:
        return node
    wrapped = {k: v for k, v in node.items() if k in _ANNOTATIONS}
    if list(constraint) == ["anyOf"]:  # one list of alternatives reads better in messages
        wrapped["anyOf"] = [*constraint["anyOf"], {"$ref": "#/$defs/deferred"}]
    else:
        wrapped["anyOf"] = [constraint, {"$ref": "#/$defs/deferred"}]
    return wrapped


def _near_miss_keys() -> list[str]:
    """Misspelt server types that `validate` reports as such: a letter lost, two swapped,
    a plural lost or added (a subset of its did-you-mean, which is enough for typing)."""
    found: set[str] = set()
    for name in SERVER_TYPES:
        words = name.split("_")
        variants = {name.replace("_", "-")}
        for i in range(len(name)):
            variants.add(name[:i] + name[i + 1:])
            if i + 1 < len(name):
                variants.add(name[:i] + name[i + 1] + name[i] + name[i + 2:])
        for i, word in enumerate(words):
            other = word[:-1] if word.endswith("s") else word + "s"
            variants.add("_".join([*words[:i], other, *words[i + 1:]]))
        found.update(variants)
    # Each is one edit from a name of 17 or more letters: always within validate's cutoff
    # (tests/test_schema_export.py holds it to that), so difflib need not be asked here.
    return sorted(found - set(SERVER_TYPES))


# -- the documents -------------------------------------------------------------------------


@dataclass
class Exported:
    dest: Path
    written: list[Path] = field(default_factory=list)  # files whose content changed
    unchanged: list[Path] = field(default_factory=list)
    implementations: dict[str, list[str]] = field(default_factory=dict)


def build(root: Path, *, derived_cache: Path | None = None) -> dict[str, dict]:
    """File name -> document, for every config directory kind and env.yaml."""
    implementations = checkout_implementations(root)
    documents = dict(schema_files.checked_in_documents())
    bundle = _Bundle(documents)
    common = schemas.BASE_URI + schemas.SERVER_COMMON
    config_file = schemas.BASE_URI + schemas.CONFIG_FILE
    shared: dict = {}
    entrypoints = _other_entrypoints(root, implementations)
    keys = [(server_type, name, None) for server_type in SERVER_TYPES for name in implementations[server_type]]
    keys += sorted({(server_type, name, source) for (server_type, name), named in entrypoints.items()
                    for source in named.values()})
    if len(keys) >= _PARALLEL_MIN:
        from gym_scaffold import derive  # noqa: F401 - loaded once, before the workers fork
    # A first export on a checkout parses every app.py: for NeMo Gym's 162, the whole
    # export takes 0.78 s in one process, 0.54 s on 2 cores (benchmarks/schema_export.py,
    # "export, cold"; median of 7 each, alternating).
    documents_found = fork_map(
        lambda key: _implementation_document(root, *key, derived_cache, shared), keys, min_items=_PARALLEL_MIN
    )
    found = dict(zip(keys, documents_found, strict=True))
    for uri, document, _ in found.values():
        if document is not None:
            documents[uri] = _own_references(documents, uri, document)
    for server_type in SERVER_TYPES:
        named: dict[str, Any] = {"_delete_key": {"$ref": bundle.ref(common, "/$defs/directive")}}
        fallback = bundle.ref(common, f"/$defs/{server_type}")
        for name in implementations[server_type]:
            others = {entrypoint: found[(server_type, name, source)]
                      for entrypoint, source in entrypoints.get((server_type, name), {}).items()}
            named[name] = _implementation_entry(bundle, server_type, name, found[(server_type, name, None)], others)
        bundle.define(config_file, f"/$defs/{server_type}", f"type.{server_type}", {
            "title": f"a mapping of one {server_type} implementation to its fields",
            "description": f"One implementation of {server_type}: a directory "
                           f"{server_type}/<implementation>/ of the checkout.",
            "$ref": bundle.ref(config_file, "/$defs/one_implementation"),
            "properties": named,
            "additionalProperties": {"$ref": fallback},
        })
    near_misses = _near_miss_keys()
    bundle.define(config_file, "/$defs/entry", "entry", {
        "if": {"$ref": bundle.ref(config_file, "/$defs/instance_like")},
        "then": {"$ref": bundle.ref(config_file, "/$defs/instance")},
        "else": {
            # yaml-language-server's own keyword: the message for the misspelt key below.
            "errorMessage": "unknown server type (not " + ", ".join(SERVER_TYPES) + "): NeMo Gym "
                            "would take this mapping for a plain value, not a server",
            "patternProperties": {"^(?:" + "|".join(map(re.escape, near_misses)) + ")$": False},
        },
    })
    settings = bundle.ref(config_file, "/$defs/settings")
    entry = bundle.ref(config_file, "/$defs/entry")
    bundle.defs["complete_instance"] = {
        "description": "A resources server block that declares a server (it has entrypoint, and "
                       "no _inherit_from or _copy) needs a domain.",
        "if": {"type": "object", "required": ["resources_servers"], "not": _DIRECTIVE_PRESENT},
        "then": {"properties": {"resources_servers": {"additionalProperties": {
            "if": {"type": "object", "required": ["entrypoint"], "not": _DIRECTIVE_PRESENT},
            "then": {"required": ["domain"]},
        }}}},
    }
    settings_properties = bundle.defs[settings.rsplit("/", 1)[1]].get("properties", {})
    config_description = schemas.schema(schemas.CONFIG_FILE)["description"]
    result: dict[str, dict] = {}
    for kind in CONFIG_DIRS:
        result[schema_file(kind)] = {
            "$schema": DRAFT,
            "title": f"NeMo Gym config file under {kind}/",
            "description": config_description,
            "type": "object",
            "properties": settings_properties,
            "allOf": [
                {"if": {"not": {"required": ["config_paths"]}},
                 "then": {"additionalProperties": {"$ref": "#/$defs/complete_instance"}}},
            ],
            "additionalProperties": {"$ref": entry},
            "$defs": bundle.defs,
        }
    env = bundle.imported(schemas.schema(schemas.ENV_FILE), schemas.BASE_URI + schemas.ENV_FILE)
    result[ENV_SCHEMA] = {
        "$schema": DRAFT,
        "title": env["title"],
        "description": env["description"],
        "type": "object",
        "properties": settings_properties,
        "patternProperties": env["patternProperties"],
        "additionalProperties": env["additionalProperties"],  # instances: nothing is required
        "$defs": bundle.defs,
    }
    return result


def export(root: Path, dest: Path, *, derived_cache: Path | None = None) -> Exported:
    """Write the schemas under `dest`; a file whose content is the same is left untouched
    (an editor watching it does not reload for nothing)."""
    outcome = Exported(dest, implementations=checkout_implementations(root))
    dest.mkdir(parents=True, exist_ok=True)
    documents = build(root, derived_cache=derived_cache)
    # The documents share their $defs: written once as JSON, spliced into each file.
    definitions = json.dumps(next(iter(documents.values()))["$defs"], ensure_ascii=False, separators=(",", ":"))
    for name, document in documents.items():
        path = dest / name
        head = json.dumps({k: v for k, v in document.items() if k != "$defs"}, ensure_ascii=False, separators=(",", ":"))
        text = f'{head[:-1]},"$defs":{definitions}}}\n'
        try:
            if path.read_text(encoding="utf-8") == text:
                outcome.unchanged.append(path)
                continue
        except (OSError, UnicodeDecodeError):
            pass
        temporary = path.with_name(f".{name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        outcome.written.append(path)
    return outcome


def kinds() -> list[str]:
    """Every exported schema's kind: the config directories, then env.yaml."""
    return [*CONFIG_DIRS, "env.yaml"]


def modeline(config: Path, dest: Path, kind: str) -> str:
    """The yaml-language-server line of a config: a path relative to it, never a URL."""
    target = os.path.relpath(dest / schema_file(kind), config.parent)
    return f"# yaml-language-server: $schema={Path(target).as_posix()}"


# -- keeping the schemas out of commits ------------------------------------------------------

# A .gitignore of its own ignores the directory (itself included), as pytest's and
# ruff's caches do: the checkout's .gitignore is not touched.
_IGNORE_TEXT = "# Written by `gym-scaffold schema export` (--commit to commit these schemas)\n*\n"


def set_ignored(dest: Path, ignored: bool) -> bool:
    """Make git ignore the schemas in `dest` (or no longer); whether that changed."""
    marker = dest / ".gitignore"
    try:
        current = marker.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        current = None
    except (OSError, UnicodeDecodeError):
        return False  # not ours to judge
    if ignored and current is None:
        marker.write_text(_IGNORE_TEXT, encoding="utf-8")
        return True
    if not ignored and current == _IGNORE_TEXT:
        marker.unlink()
        return True
    return False


def settings_schemas(root: Path, dest: Path) -> dict[str, list[str]]:
    """yaml.schemas of editor settings: each exported schema (from the root, as
    `./...`, or absolute outside it) -> the globs of the files it describes."""
    found = {}
    for kind in kinds():
        path = dest / schema_file(kind)
        try:
            shown = "./" + path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            shown = str(path.resolve())
        found[shown] = file_globs(kind)
    return found


def committed(root: Path, dest: Path) -> bool:
    """Whether git already tracks files under `dest` (the user commits the schemas)."""
    from gym_scaffold import gitcheck

    try:
        relative = dest.resolve().relative_to(root.resolve()).as_posix()
        return bool(gitcheck._run_git(root, ["--literal-pathspecs", "ls-files", "-z", "--", relative]))
    except (ValueError, gitcheck.GitUnavailable):
        return False


