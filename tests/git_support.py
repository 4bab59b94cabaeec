"""Real git repositories in temporary directories, for the tests that need git.

Every git command here runs without the caller's GIT_* variables: the test suite itself
may run inside a git hook (pre-commit), whose GIT_INDEX_FILE or GIT_DIR would otherwise
point these commands at the wrong repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without GIT_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(extra)
    return env


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `git -C repo ARGS`; its stdout. Fails the test with git's stderr on error."""
    completed = subprocess.run(
        [GIT or "git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed ({completed.returncode}): {completed.stderr}")
    return completed.stdout


def write(root: Path, relative: str, text: str) -> Path:
    """Write `text` to `root/relative`, creating directories."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_repo(path: Path, files: dict[str, str] | None = None, *, commit: bool = False) -> Path:
    """A fresh repository at `path` (branch main, local identity, no signing).

    `files` are written (not added); with `commit=True` they are added and committed.
    """
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "tests@example.invalid")
    git(path, "config", "user.name", "gym-scaffold tests")
    git(path, "config", "commit.gpgsign", "false")
    for relative, text in (files or {}).items():
        write(path, relative, text)
    if commit and files:
        git(path, "add", "--", *files)
        git(path, "commit", "-q", "-m", "initial")
    return path


def isolate_git_config(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """Point HOME (and XDG_CONFIG_HOME) at `home` and ignore the system config, so the
    user's own global excludes cannot change what a test sees. Returns `home`."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.delenv("GIT_CONFIG_SYSTEM", raising=False)
    return home
