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

Beside this module: gym_scaffold/schema_files.py finds, loads and walks the checked-in
schemas; gym_scaffold/derived_schemas.py holds the run's schemas derived from app.py
sources; gym_scaffold/schema_messages.py turns validator errors into located SchemaErrors.

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
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from gym_scaffold.config.includes import RULE_INCLUDE
from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import ConfigView, iter_servers
from gym_scaffold.derived_schemas import RunSchemas, run_schemas
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import missing_key
from gym_scaffold.schema_files import (
    BASE_URI,
    CONFIG_FILE,
    ENV_FILE,
    SERVER_COMMON,
    implementation_schema_path,
    implementations,
    property_names,
    schema,
    schema_dir,
    validator,
)
from gym_scaffold.schema_messages import (
    ErrorConverter,
    SchemaError,
    shape_checks,
    value_at,
)

__all__ = [  # what the rules, commands and tests use from here
    "BASE_URI",
    "CONFIG_FILE",
    "ENV_FILE",
    "SERVER_COMMON",
    "SchemaError",
    "did_you_mean",
    "implementation_schema_path",
    "implementations",
    "property_names",
    "schema",
    "schema_dir",
    "schema_errors",
    "schema_problems",
    "server_schema_path",
    "validator",
]

_CACHE_KEY = "gym_scaffold.schemas.errors"


def server_schema_path(
    view: ConfigView, server_type: str, implementation: str, entrypoint: Any = None
) -> str | None:
    """The schema of an implementation: the checked-in one, else the one derived from its source."""
    relative = implementation_schema_path(server_type, implementation)
    if relative is not None or view.root is None:
        return relative
    # once per run: the sources do not change while it lasts
    relative, inputs = run_schemas(view).derived_schema_path(
        server_type, implementation, entrypoint if isinstance(entrypoint, str) else None
    )
    view.files_read(inputs)
    return relative


# -- one ConfigView ----------------------------------------------------------------------


def _is_env_view(view: ConfigView) -> bool:
    env = view.env
    return (
        not view.composed.documents and env is not None and env.document.path in view.reported_files
    )


def _includes_followed(view: ConfigView, data: dict) -> bool:
    """Whether every `config_paths` entry was read and merged."""
    if any(problem.rule == RULE_INCLUDE for problem in view.composed.problems):
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
    store = run_schemas(view)
    raw: list[SchemaError] = []
    if env_view:
        _validate(store, ENV_FILE, (), data, raw)
    else:
        _validate(store, CONFIG_FILE, (), data, raw)
        raw.extend(shape_checks(data))
    common_end = len(raw)
    typed_by_class: set[DataPath] = set()
    for server in iter_servers(data):  # env.yaml may override an implementation's fields too
        relative = server_schema_path(
            view, server.server_type, server.implementation, server.body.get("entrypoint")
        )
        if relative is not None:
            _validate(store, relative, server.path, server.body, raw)
            typed_by_class.update(server.path + (name,) for name in store.typed_references(relative) if name in server.body)
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
            severity = missing_key.severity(view, data, error, all_partial)  # the rule decides
            if severity is None:
                continue
            if severity != error.severity:
                error = replace(error, severity=severity)
        elif not error.of_key and _deferred(view, composed, error.path):
            continue
        result.append(error)
    return result


def _validate(store: RunSchemas, relative: str, prefix: DataPath, data: Any, into: list[SchemaError]) -> None:
    checker = store.validator(relative)
    if checker.is_valid(data):  # the common case, and much cheaper than collecting errors
        return
    converter = ErrorConverter(store.documents, relative, prefix, data)
    for error in checker.iter_errors(data):
        into.extend(converter.convert(error))


def _deferred(view: ConfigView, composed: Any, path: DataPath) -> bool:
    """A value that arrives later: `${...}` / `???`, or a null that came from an interpolation."""
    if view.is_deferred(path):
        return True
    found, value = value_at(view.resolved.data, path)
    if found and value is None:
        found, raw = value_at(composed, path)
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
