"""Which files `validate` looks at, which directory is the NeMo Gym root, and which
source file a server runs."""

from __future__ import annotations

import operator
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from gym_scaffold.config.model import SERVER_TYPES
from gym_scaffold.safeio import resolved

# Where NeMo Gym keeps configs, relative to its root.
CONFIG_DIRS = (*SERVER_TYPES, "benchmarks", "environments")
ENV_FILE_NAME = "env.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
_NAME = operator.attrgetter("name")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", "site-packages"}


def find_root(start: Path) -> Path:
    """The NeMo Gym root for `start`: the nearest directory holding a config dir or `.git`."""
    start = resolved(start)
    here = start if start.is_dir() else start.parent
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists() or any((candidate / name).is_dir() for name in CONFIG_DIRS):
            return candidate
    return here


def _walk_yaml(directory: Path) -> Iterator[Path]:
    """YAML files under `directory`, depth first in name order: a directory's own files,
    then its subdirectories'. Symbolic links to directories are not followed (a link loop
    cannot trap us); unreadable directories are passed over."""
    pending = [os.fspath(directory)]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=_NAME)
        except OSError:
            continue
        subdirectories = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()  # the file type from the listing: no stat call
            except OSError:
                is_dir = False
            if is_dir:
                if name not in _SKIP_DIRS and not name.startswith(".") and not entry.is_symlink():
                    subdirectories.append(entry.path)
            elif name.endswith(YAML_SUFFIXES):
                yield Path(entry.path)
        pending.extend(reversed(subdirectories))


def default_targets(root: Path) -> list[Path]:
    """Every YAML file under NeMo Gym's config directories, and env.yaml if present."""
    found = [path for name in CONFIG_DIRS if (root / name).is_dir() for path in _walk_yaml(root / name)]
    env = root / ENV_FILE_NAME
    if env.is_file():
        found.append(env)
    return found


def _parts_below(path: Path, top: Path) -> tuple[str, ...] | None:
    """The parts of `path` below `top`, lexically (None when it is not below)."""
    base = os.fspath(top).rstrip(os.sep) + os.sep
    text = os.fspath(path)
    if text.rstrip(os.sep) == base.rstrip(os.sep):
        return ()
    return tuple(text[len(base) :].split(os.sep)) if text.startswith(base) else None


def walk_reaches(top: Path, directory: Path) -> bool:
    """Would walking `top` descend into `directory`? (Lexically: no skipped directory between.)"""
    between = _parts_below(directory, top)
    return between is not None and not any(part in _SKIP_DIRS or part.startswith(".") for part in between)


def in_config_dirs(path: Path, root: Path) -> bool:
    """Is `path` one of the files default_targets(root) walks to? (Lexically.)"""
    parts = _parts_below(path, root)
    return (
        parts is not None
        and len(parts) > 1
        and parts[0] in CONFIG_DIRS
        and not any(part in _SKIP_DIRS or part.startswith(".") for part in parts[1:-1])
    )


def config_dir_order(path: Path, root: Path) -> int:
    """Where `path`'s config directory comes in CONFIG_DIRS (default_targets' order)."""
    parts = _parts_below(path, root)
    return CONFIG_DIRS.index(parts[0]) if parts and parts[0] in CONFIG_DIRS else -1


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to check for the PATHS given, and (path, reason) for those that cannot be."""
    files: list[Path] = []
    errors: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for path in paths:
        if path.is_dir():
            candidates = list(_walk_yaml(path))
        elif path.is_file():
            candidates = [path]
        elif not os.path.lexists(path):
            errors.append((path, "no such file or directory"))
            continue
        elif path.is_symlink():
            errors.append((path, "broken or looping symbolic link"))
            continue
        else:
            errors.append((path, "not a regular file"))
            continue
        for candidate in candidates:
            key = os.path.abspath(candidate)  # lexical: cheap, and enough to drop repeats
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    return files, errors


def display_path(path: Path, cwd: Path) -> str:
    """The path as a person would type it from `cwd`: relative when it is below.

    Purely lexical (no symlink resolution): it runs for every file of a checkout.
    """
    absolute = os.path.normpath(os.path.join(cwd, path))
    base = os.path.normpath(cwd)
    if absolute == base:
        return "."
    if absolute.startswith(base.rstrip(os.sep) + os.sep):
        return absolute[len(base.rstrip(os.sep)) + 1 :]
    return str(path)


def entrypoint_file(root: Path, server_type: str, implementation: str, entrypoint: object) -> Path:
    """The source NeMo Gym runs for a block (`python <entrypoint>` in the implementation
    directory): its `entrypoint` when that is a Python file inside the checkout, else app.py."""
    directory = root / server_type / implementation
    if isinstance(entrypoint, str) and entrypoint.endswith(".py") and not os.path.isabs(entrypoint):
        source = Path(os.path.normpath(directory / entrypoint))
        if str(source).startswith(os.path.join(os.path.normpath(root), "")):
            return source
    return directory / "app.py"
