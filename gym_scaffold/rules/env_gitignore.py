"""env.yaml must be ignored by git.

env.yaml holds the endpoints and API keys of this machine. Every place NeMo Gym reads it
from (the repository root, and wherever the configs expect one) must be ignored by git's
own rules: a .gitignore at any level, .git/info/exclude, or the global excludes file
(core.excludesFile). A negation such as `!env.yaml` that un-ignores it is reported at its
own line. The check asks git (`git check-ignore`), whether or not env.yaml exists yet.
Outside a git repository, or without git, the check is skipped with a note.

Failing:

    # .gitignore
    __pycache__/

    # .gitignore
    env.yaml
    !env.yaml

Passing:

    # .gitignore
    __pycache__/
    env.yaml
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gym_scaffold.problem import Problem

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

ID = "env-gitignore"
SEVERITY = "error"
SUMMARY = "env.yaml (at the root and wherever configs expect it) is not ignored by git"


def check_repo(repo_root: Path | None, env_paths: Sequence[Path] = ()) -> Iterator[Problem]:
    """One `git check-ignore` call for every location; notes when the check is skipped."""
    from gym_scaffold import gitcheck  # subprocess and shutil: only when git is asked

    yield from gitcheck.check_env_ignored(repo_root, env_paths, rules={ID})


FIX = "safe"


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """The line `env.yaml` appended to the root .gitignore (created when missing), when no
    rule matches env.yaml at all. A negation is left to a person: someone wrote it."""
    from gym_scaffold.fix import Fix, ignore_change
    from gym_scaffold.problem import Severity

    if problem.severity is not Severity.ERROR or not problem.message.endswith("`git add` would commit it"):
        return None
    change = ignore_change(context, context.path(problem.path))
    return Fix((change,)) if change is not None else None
