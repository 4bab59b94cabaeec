"""env.yaml must not be tracked by git.

An ignore rule does not apply to a file git already tracks: an env.yaml that was added
once stays in every commit, with its API keys, even after `env.yaml` is added to
.gitignore. A staged env.yaml counts too: the next commit would carry it. The fix is
`git rm --cached env.yaml` and a commit (the file stays on disk); keys that were
committed remain in the history and should be rotated.

Failing:

    $ git ls-files
    .gitignore
    env.yaml
    responses_api_models/openai_model/configs/openai_model.yaml

Passing:

    $ git ls-files
    .gitignore
    responses_api_models/openai_model/configs/openai_model.yaml
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gym_scaffold.problem import Problem

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

ID = "env-tracked"
SEVERITY = "error"
SUMMARY = "env.yaml is tracked by git, so its API keys are committed"


def check_repo(repo_root: Path | None, env_paths: Sequence[Path] = ()) -> Iterator[Problem]:
    """One `git ls-files` call for every location; nothing outside a repository."""
    from gym_scaffold import gitcheck  # subprocess and shutil: only when git is asked

    yield from gitcheck.check_env_ignored(repo_root, env_paths, rules={ID})


# It changes what the next commit does (it deletes env.yaml from the repository).
FIX = "unsafe"


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """`git rm --cached` the tracked env.yaml; the file stays on disk."""
    from gym_scaffold.edits import inside
    from gym_scaffold.fix import Fix, Untrack
    from gym_scaffold.problem import Severity

    path = context.path(problem.path)
    if problem.severity is not Severity.ERROR or context.repo is None or not inside(path, context.repo):
        return None
    return Fix((Untrack(path, context.repo),))
