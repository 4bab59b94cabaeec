"""Shared fixtures: the real NeMo Gym corpus laid out on disk, and running the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_support import CORPUS, CORPUS_PRESENT, NO_CORPUS
from new_support import clean_env, make_gym_tree

REPO = Path(__file__).resolve().parent.parent


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60):
    """Run `python -m gym_scaffold ARGS` for real; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "gym_scaffold", *args],
        cwd=cwd,
        env=env if env is not None else _clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


# For the tests of `new` and its templates (a test module may define its own instead).
@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment for the CLI with its own template home, so no test sees another's."""
    return clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "template-home"))


@pytest.fixture
def gym(tmp_path: Path) -> Path:
    """A fresh NeMo Gym checkout (a git repository) to generate servers into."""
    return make_gym_tree(tmp_path / "Gym")


@pytest.fixture(scope="session")
def corpus_tree(tmp_path_factory) -> Path:
    """The real NeMo Gym sample: its YAML files, plus an empty file for every other path
    of the repository (FILES.txt), so directory and entrypoint checks see the real layout."""
    if not CORPUS_PRESENT:
        pytest.skip(NO_CORPUS)
    root = tmp_path_factory.mktemp("nemo-gym")
    for line in (CORPUS / "FILES.txt").read_text().splitlines():
        rel = line.strip()
        if not rel or rel.endswith("/"):
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    for source in CORPUS.rglob("*"):
        if source.is_file() and source.name != "FILES.txt":
            target = root / source.relative_to(CORPUS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return root


def pytest_configure(config):
    if os.environ.get("GYM_SCAFFOLD_CORPUS") and not CORPUS_PRESENT:
        raise pytest.UsageError(f"GYM_SCAFFOLD_CORPUS={CORPUS} holds no NeMo Gym corpus (FILES.txt)")
