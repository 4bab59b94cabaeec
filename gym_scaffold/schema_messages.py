"""jsonschema_rs's errors as `SchemaError`s: located where a person fixes them, phrased for them.

A missing key points at the mapping that misses it, an unknown key at the key itself,
a bad value at the value; an anyOf failure reports the one branch whose type matched.
Shape checks the schema cannot express (a near miss of a server type, a server body with
no server type above it) are found here too. Which errors are reported, and how severe a
missing key is, gym_scaffold/schemas.py decides.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import (
    COPY,
    DELETE_KEY,
    INHERIT_FROM,
    RESERVED_TOP_LEVEL_KEYS,
    SERVER_TYPES,
)
from gym_scaffold.problem import shorten
from gym_scaffold.rules import invalid_value, missing_key, server_shape, unknown_key
from gym_scaffold.schema_files import CONFIG_FILE, collect_property_names, walk_evaluation_path

INSTANCE_DIRECTIVES = (INHERIT_FROM, COPY)
DIRECTIVES = (*INSTANCE_DIRECTIVES, DELETE_KEY)

# Rules that report schema errors (the `rule` field of SchemaError).


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


def value_at(data: Any, path: DataPath) -> tuple[bool, Any]:
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


class ErrorConverter:
    """The SchemaErrors of one validation: `data` (at `prefix` in the file) against schema
    `root`, one of `documents` (every schema a `$ref` may lead into, by URI)."""

    def __init__(self, documents: Mapping[str, dict], root: str, prefix: DataPath, data: Any) -> None:
        self.documents = documents
        self.root = root
        self.prefix = prefix
        self.data = data  # the instance validated (for looking values up)

    def _instance(self, error: Any) -> Any:
        """The value an error is about, as loaded. jsonschema_rs hands back an integer
        beyond a float's range (`0x` and 20,000 hex digits) as null: look it up instead."""
        found, value = value_at(self.data, tuple(error.instance_path))
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
            node, _, title = walk_evaluation_path(self.documents, self.root, list(error.evaluation_path)[:-1])
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
        _, _, title = walk_evaluation_path(self.documents, self.root, list(error.evaluation_path)[:-1])
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
        node, base, _ = walk_evaluation_path(self.documents, self.root, list(error.evaluation_path)[:-1])
        known = collect_property_names(self.documents, node, base) if isinstance(node, dict) else set()
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
                and near_server_type(key)
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


def near_server_type(key: Any) -> str | None:
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


def shape_checks(data: dict) -> list[SchemaError]:
    """Mappings the schema takes for plain globals but that are almost instances."""
    found = []
    for instance, value in data.items():
        if instance in RESERVED_TOP_LEVEL_KEYS or not isinstance(value, dict):
            continue
        if any(k in value for k in (*SERVER_TYPES, *INSTANCE_DIRECTIVES)):
            continue  # an instance: the schema checks it
        misses = [k for k in value if near_server_type(k)]
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
