"""Merge config files the way NeMo Gym does (STUB: single file + env.yaml, no includes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from gym_scaffold.config.loader import Document, load_file
from gym_scaffold.config.model import Composed, EnvFile, Origin


def load_env_file(path: Path, display: str) -> EnvFile:
    return EnvFile(path, load_file(path, display))


def compose(
    files: Sequence[Path],
    *,
    roots: Sequence[Path],
    env: EnvFile | None,
    display: Callable[[Path], str],
    cache: dict[Path, Document] | None = None,
) -> Composed:
    cache = {} if cache is None else cache
    composed = Composed(data={}, env=env)
    for file in files:
        doc = cache.get(file) or load_file(file, display(file))
        cache[file] = doc
        composed.documents.append(doc)
        if isinstance(doc.data, dict):
            composed.data.update(doc.data)
        for p, (line, col) in doc.value_positions.items():
            composed.origins[p] = Origin(doc.path, line, col)
        for p, (line, col) in doc.key_positions.items():
            composed.key_origins[p] = Origin(doc.path, line, col)
    if env is not None:
        keys = set()
        for key, value in env.data.items():
            composed.data[key] = value
            keys.add(key)
        composed.env_keys = frozenset(keys)
        for p, (line, col) in env.document.value_positions.items():
            if p and p[0] in keys:
                composed.origins[p] = Origin(env.document.path, line, col)
        for p, (line, col) in env.document.key_positions.items():
            if p and p[0] in keys:
                composed.key_origins[p] = Origin(env.document.path, line, col)
    return composed
