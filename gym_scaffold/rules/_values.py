"""Walking the values a person wrote (before interpolation), with their paths."""

from __future__ import annotations

from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import ConfigView


def iter_scalars(data: Any, path: DataPath = ()) -> list[tuple[DataPath, Any]]:
    """(path, value) of every scalar under `data`, in document order."""
    found: list[tuple[DataPath, Any]] = []

    def walk(value: Any, path: DataPath) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, path + (index,))
        else:
            found.append((path, value))

    walk(data, path)
    return found


def written_scalars(view: ConfigView) -> list[tuple[DataPath, Any]]:
    """The scalars of the view's composed data (before interpolation), walked once and
    shared by the rules."""
    found = view.cache.get(_SCALARS)
    if found is None:
        found = view.cache[_SCALARS] = iter_scalars(view.composed.data)
    return found


_SCALARS = "gym_scaffold.rules.written_scalars"


def written_in_env_file(view: ConfigView) -> bool:
    """True when this view reports on env.yaml itself."""
    return view.env is not None and view.env.document.path in view.reported_files
