"""Interpolation the way OmegaConf does it (STUB: marks ${...} and ??? as deferred)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import MANDATORY, Composed, Resolved


def resolve(composed: Composed, environ: Mapping[str, str]) -> Resolved:
    resolved = Resolved(data=composed.data)

    def walk(value: Any, path: DataPath) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))
        elif isinstance(value, str) and ("${" in value or value == MANDATORY):
            resolved.deferred.add(path)

    walk(composed.data, ())
    return resolved
