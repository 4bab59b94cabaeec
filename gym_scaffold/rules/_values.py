"""Walking the values a person wrote (before interpolation), with their paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import ConfigView


def iter_scalars(data: Any, path: DataPath = ()) -> Iterator[tuple[DataPath, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from iter_scalars(value, path + (key,))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from iter_scalars(item, path + (index,))
    else:
        yield path, data


def is_interpolation(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def written_in_env_file(view: ConfigView) -> bool:
    """True when this view reports on env.yaml itself."""
    return view.env is not None and view.env.document.path in view.reported_files
