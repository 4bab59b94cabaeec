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

Reading the source and finding the class is derive_source.py's; turning the class into a
schema derive_schema.py's; this module puts them together, with the disk cache.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from gym_scaffold.cache import digest
from gym_scaffold.derive_schema import BASE_FIELDS, COMMON, SchemaDeriver
from gym_scaffold.derive_source import (
    BASE_CONFIGS,
    DeriveError,
    SourceReader,
    find_config_class,
    parse_module,
)
from gym_scaffold.safeio import NotReadable, read_regular

__all__ = ["COMMON", "DeriveError", "Derived", "derive", "derive_uncached", "digest"]  # what callers use

_FORMAT = 2  # of the on-disk cache entries


@dataclass
class Derived:
    """A derived schema and what it was read from."""

    schema: dict
    class_name: str
    server_type: str | None
    inputs: list[Path] = field(default_factory=list)  # every source file read


# -- deriving ---------------------------------------------------------------------------------


def derive_uncached(app_path: Path, root: Path | None = None, shared: dict | None = None) -> Derived:
    """The schema of `app_path`'s config class. `shared`: see SourceReader (one run's sources)."""
    app_path = Path(os.path.abspath(app_path))
    if root is None:
        root = _guess_root(app_path)
    reader = SourceReader(root, shared)
    module = reader.module(app_path)
    if module is None:
        if app_path in reader.read:
            module = parse_module(app_path, reader.read[app_path])  # raises the parse error
        raise DeriveError(f"{app_path}: cannot read")
    deriver = SchemaDeriver(reader)
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
    """What an entry was derived by: this module and the two it derives with."""
    here = Path(__file__)
    stamps = [f"{s.st_size}:{s.st_mtime_ns}" for s in (
        here.stat(), here.with_name("derive_source.py").stat(), here.with_name("derive_schema.py").stat()
    )]
    return f"{_FORMAT}:{':'.join(stamps)}"


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
