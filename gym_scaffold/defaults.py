"""The default values of a server's config class, read from its `app.py` (never run).

A field a config leaves out gets its default when the server starts: `show` prints those
values too, each with the class, field and line that set it. Only defaults Python can
read without running code count (literals, `Field(default=...)`, `Field(<literal>)`);
a `default_factory` or a computed default is left out rather than guessed. Fields of
nemo_gym's own base classes (outside the checkout) are not read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gym_scaffold.derive import (
    DeriveError,
    _base_names,
    _Deriver,
    _Module,
    _name_of,
    _Reader,
    find_config_class,
)

_MAX_DEPTH = 16


@dataclass(frozen=True)
class FieldDefault:
    name: str
    value: Any
    class_name: str  # the class that declares the default
    path: Path  # the file it is declared in
    line: int


def _literal_default(value: ast.expr | None) -> tuple[bool, Any]:
    """(True, value) for a default readable without running code, else (False, None)."""
    if value is None:
        return False, None
    if isinstance(value, ast.Call) and _name_of(value.func) == "Field":
        keywords = {k.arg: k.value for k in value.keywords if k.arg}
        if value.args:
            value = value.args[0]
        elif "default" in keywords:
            value = keywords["default"]
        else:
            return False, None
    if isinstance(value, ast.Constant) and value.value is Ellipsis:
        return False, None  # Field(...): required
    try:
        return True, ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _collect(reader: _Reader, module: _Module, name: str, out: dict[str, FieldDefault], depth: int = 0) -> None:
    node = module.classes.get(name)
    if node is None or depth > _MAX_DEPTH:
        return
    for base in reversed(_base_names(node)):  # the first base wins, as in Python's MRO
        located = reader.lookup(module, base)
        if located and located[1] in located[0].classes and located[0].classes[located[1]] is not node:
            _collect(reader, located[0], located[1], out, depth + 1)
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        field_name = statement.target.id
        if field_name.startswith("_") or field_name == "model_config":
            continue
        known, value = _literal_default(statement.value)
        if known:
            out[field_name] = FieldDefault(field_name, value, name, module.path, statement.lineno)
        else:
            out.pop(field_name, None)  # redeclared without a readable default


def field_defaults(app_path: Path, root: Path | None, shared: dict | None = None) -> dict[str, FieldDefault]:
    """Field name -> its default, for the config class of `app_path` ({} when none is found)."""
    reader = _Reader(root, shared)
    module = reader.module(Path(app_path))
    if module is None:
        return {}
    try:
        where, name, _ = find_config_class(reader, module, _Deriver(reader))
    except (DeriveError, RecursionError):
        return {}
    if where is None:
        return {}
    found: dict[str, FieldDefault] = {}
    _collect(reader, where, name, found)
    return found
