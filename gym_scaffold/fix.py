"""What a rule's fix returns, and what it may ask (validate --fix).

A rule that can repair its problems says so beside its check:

    FIX = "safe"      # or "unsafe": changes meaning, or needs a judgment
    def fix(problem, context) -> Fix | None

`fix` looks at the file the problem points into (`context.yaml(problem.path)`) and returns
the changes that repair it (`Replace` a span, `AppendLine`, `Untrack`), or None when it
cannot repair this one. gym_scaffold/fix_run.py checks, writes and reports them.

Nothing here imports click or ruamel.yaml; `validate` without --fix never imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gym_scaffold import discover
from gym_scaffold.config.loader import load_text
from gym_scaffold.config.model import ConfigView, EnvFile
from gym_scaffold.edits import EditError, Replacement, Source
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result
from gym_scaffold.validate import ValidateOptions, Validator
from gym_scaffold.yaml_edit import YamlSource

SAFE = "safe"
UNSAFE = "unsafe"


# -- what a rule's fix returns ------------------------------------------------------------


@dataclass(frozen=True)
class Replace:
    """Replace a span of the file's text (offsets into Source.text)."""

    path: Path
    replacement: Replacement


@dataclass(frozen=True)
class AppendLine:
    """Add a line at the end of a file, creating it when missing."""

    path: Path
    line: str


@dataclass(frozen=True)
class Untrack:
    """`git rm --cached` the file: git stops tracking it, the file stays on disk."""

    path: Path
    repo: Path


Change = Replace | AppendLine | Untrack


@dataclass(frozen=True)
class Fix:
    changes: tuple[Change, ...]
    # Values that must never appear in a diff beyond their last four characters.
    secrets: tuple[str, ...] = ()
    # An unsafe fix of a rule whose other fixes are safe (FIX = "safe, unsafe").
    unsafe: bool = False


# -- what a fix may ask -------------------------------------------------------------------


class FixContext:
    """What a rule's `fix` may look at: files as read now, views, env.yaml, git."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator
        self.options = validator.options
        self.root = validator.root
        self._yaml: dict[Path, YamlSource | None] = {}
        self._sources: dict[Path, Source] = {}
        self._views: dict[Path, ConfigView | None] = {}
        self._repo: Any = ...
        self.claimed_env_keys: dict[str, str] = {}  # by fixes planned in this run

    # paths

    def path(self, shown: str) -> Path:
        """The file a problem's path names."""
        return Path(os.path.normpath(os.path.join(self.options.cwd, shown)))

    def shown(self, path: Path) -> str:
        return discover.display_path(path, self.options.cwd)

    @property
    def env_path(self) -> Path:
        return self.validator.env_path

    def is_env(self, path: Path) -> bool:
        return os.path.normpath(path) == os.path.normpath(self.env_path)

    @property
    def _anchor(self) -> Path:
        """The directory the run was asked about, as given: a symbolic link in PATHS is
        not followed, so that it cannot move the checkout elsewhere."""
        given = self.options.configs or self.options.paths
        anchor = (
            Path(os.path.abspath(os.path.join(self.options.cwd, given[0])))
            if given
            else self.options.cwd
        )
        return anchor if anchor.is_dir() and not anchor.is_symlink() else anchor.parent

    @property
    def repo(self) -> Path | None:
        """The top of the git work tree (None outside one)."""
        if self._repo is ...:
            from gym_scaffold import gitcheck

            self._repo = gitcheck.find_repo_root(self._anchor)
        return self._repo

    @property
    def checkout(self) -> Path:
        """Where fixes may write: the git work tree, else the NeMo Gym root."""
        return self.repo or discover.find_root(self._anchor)

    # files

    def source(self, path: Path) -> Source:
        """The file as read for fixing (once: its bytes are what a write expects to find)."""
        if path not in self._sources:
            self._sources[path] = Source.read(path)
        return self._sources[path]

    def yaml(self, shown_or_path: str | Path) -> YamlSource | None:
        """The YAML file with its nodes, or None when it cannot be read or parsed."""
        path = shown_or_path if isinstance(shown_or_path, Path) else self.path(shown_or_path)
        if path not in self._yaml:
            try:
                found = YamlSource.of(self.source(path), self.shown(path))
            except EditError:
                found = None
            if found is not None and found.document.problems:
                found = None  # a file the loader complains about is not edited
            self._yaml[path] = found
        return self._yaml[path]

    def env_yaml(self) -> YamlSource | None:
        return self.yaml(self.env_path)

    def env_data(self) -> dict:
        env = self.env_yaml()
        data = env.document.data if env is not None else None
        return data if isinstance(data, dict) else {}

    def view(self, shown: str) -> ConfigView | None:
        """The view the rules saw of this file (as it is on disk now)."""
        path = self.path(shown)
        if path not in self._views:
            self._views[path] = Overlay(self.options, {}).view_of(path)
        return self._views[path]

    def new_env_key(self, base: str, value: str, taken: Iterable[str] = ()) -> str:
        """A key for `value` in env.yaml: `base`, or `base_2`... when `base` holds another
        value (an existing key is never overwritten), or the key that already holds it."""
        env = {**self.env_data(), **self.claimed_env_keys}
        taken = set(taken)
        for number in range(1, 100):
            name = base if number == 1 else f"{base}_{number}"
            if name in taken:
                continue
            if name not in env or env[name] == value:
                self.claimed_env_keys[name] = value
                return name
        raise EditError("no free key name in env.yaml")

    def env_ignored(self, path: Path) -> bool | None:
        """Does git ignore this env.yaml? None when git cannot say (no repository)."""
        from gym_scaffold import gitcheck

        if self.repo is None:
            return None
        found = gitcheck.check_env_ignored(self.repo, [path], rules={gitcheck.RULE_GITIGNORE})
        return not any(p.severity is Severity.ERROR for p in found)


def typo_candidates(name: str, names: Iterable[str]) -> list[str]:
    """The names `name` is a near-certain typo of: at most two letters dropped, added,
    changed or swapped (one for short names), as the fixes that rename keys need."""
    limit = 1 if len(name) < 8 else 2
    return [
        candidate
        for candidate in names
        if candidate != name and _distance(name, candidate, limit) <= limit
    ]


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance with swaps of neighbours (optimal string alignment), or limit + 1
    as soon as it is sure to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, row = None, list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (char != other))
            if before is not None and i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


# -- the pipeline over edited texts ---------------------------------------


class Overlay(Validator):
    """A validator that reads some files from memory (the texts fixes would write)."""

    def __init__(self, options: ValidateOptions, texts: dict[Path, str]) -> None:
        super().__init__(replace(options, use_cache=False, check_git=False))
        self.texts = texts
        for path, text in texts.items():
            if path.suffix in discover.YAML_SUFFIXES:
                self.loaded[path] = load_text(text, self.display(path))

    def load_env(self) -> EnvFile | None:
        path = self.env_path
        if path in self.texts:
            return EnvFile(path, self.loaded[path])
        return super().load_env()

    def _checked(self, paths: Iterable[Path]) -> list[Problem]:
        self.result = Result()
        env = self.load_env()
        if self.options.configs:
            self.check_run(self.options.configs, env)
            self.check_env(env)
        else:
            for path in paths:
                if os.path.normpath(path) == os.path.normpath(self.env_path):
                    self.check_env(env)
                elif path.suffix in discover.YAML_SUFFIXES:
                    self.result.merge(self.check_file(path, env)[0])
        return self.result.problems

    def problems(self, paths: Iterable[Path]) -> list[Problem]:
        """Problems of `paths` (errors and warnings) as they read with the overlay."""
        paths = list(paths)
        shown = {self.display(path) for path in paths}
        return [
            p for p in self._checked(paths) if p.path in shown and p.severity is not Severity.NOTE
        ]

    def view_of(self, path: Path) -> ConfigView | None:
        env = self.load_env()
        if os.path.normpath(path) == os.path.normpath(self.env_path):
            return self._view_of_env(env) if env is not None else None
        if self.options.configs:
            return None
        self.display(path)
        doc = self.loaded.get(path) or self.loaded.setdefault(
            path, load_text(Source.read(path).text, self.display(path))
        )
        if doc.problems or doc.data is None:
            return None
        composed = self._compose([path], env)
        return self._view(composed, {self.display(path)}, checkout=None)


def ignore_change(context: FixContext, env_path: Path) -> AppendLine | None:
    """The line that makes git ignore `env_path`, appended to the root .gitignore (None
    outside a git work tree)."""
    from gym_scaffold import gitcheck

    repo = context.repo
    if repo is None:
        return None
    real_repo = os.path.realpath(repo)
    parent = os.path.realpath(env_path.parent)
    if parent != real_repo and not parent.startswith(real_repo.rstrip(os.sep) + os.sep):
        return None
    relative = Path(os.path.relpath(parent, real_repo), env_path.name).as_posix().removeprefix("./")
    return AppendLine(repo / ".gitignore", gitcheck.ignore_line(relative))
