"""Examples of rules reported by the pipeline's stages (loader, compose, resolve, settle)
rather than by a `check` function: each failing example, written to disk and run through
`validate`, must report the rule; each passing example must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gym_scaffold.rules import Example, all_rules, examples
from gym_scaffold.settle import Project, settle
from gym_scaffold.validate import ValidateOptions, run_validate

# Rules whose examples are not files: git state (tested in test_gitcheck.py), paths that
# cannot be read, and the note for skipped files (tested in test_validate_cli.py).
NOT_FILE_EXAMPLES = {"env-gitignore", "env-tracked", "unreadable", "not-a-config"}
STAGE_RULES = [
    rule for rule in all_rules() if not rule.checks_configs and rule.id not in NOT_FILE_EXAMPLES
]


def _reported(example: Example, root: Path) -> set[str]:
    (root / "responses_api_models").mkdir(parents=True)  # makes `root` a NeMo Gym root
    names = []
    for name, text in example.files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        names.append(name)
    checked = names[:1] if names[0] != "env.yaml" or len(names) == 1 else names
    options = ValidateOptions(
        paths=[Path(name) for name in checked], cwd=root, environ={}, check_git=False, use_cache=False
    )
    # Settled as `validate` settles every run: suppressions are read there.
    result = settle(run_validate(options), Project(root), cwd=root)
    return {problem.rule for problem in result.problems}


def test_there_are_stage_rules():
    assert {"yaml-syntax", "duplicate-key", "config-include", "interpolation"} <= {r.id for r in STAGE_RULES}


@pytest.mark.parametrize("rule", STAGE_RULES, ids=lambda rule: rule.id)
def test_stage_rule_examples(rule, tmp_path):
    failing, passing = examples(rule)
    assert failing and passing, f"{rule.id}: document a failing and a passing example"
    for number, example in enumerate(failing, 1):
        found = _reported(example, tmp_path / f"failing{number}")
        assert rule.id in found, f"{rule.id}: failing example {number} reports {found}"
    for number, example in enumerate(passing, 1):
        found = _reported(example, tmp_path / f"passing{number}")
        assert rule.id not in found, f"{rule.id}: passing example {number} reports it"
