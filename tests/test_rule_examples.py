"""Every rule's documented examples do what the docs say.

The convention is in gym_scaffold/rules/__init__.py: a rule module that has `check` shows
at least one `Failing:` and one `Passing:` example in its docstring. Each failing example
must make the rule report a problem under its own id; each passing example must not.
These docs are what `gym-scaffold rules` shows, so a wrong example is a wrong manual.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gym_scaffold.config.view import view_from_text
from gym_scaffold.rules import Example, all_rules, examples, parse_examples

CONFIG_RULES = [rule for rule in all_rules() if rule.checks_configs]


def _fired(rule, example: Example, root: Path) -> list:
    """The rule's problems on the example, checked in a NeMo Gym root at `root` that holds
    the example's other files (`# file: resources_servers/x/requirements.txt`)."""
    config = example.config
    if config is None:  # an env.yaml on its own
        view = view_from_text(example.env or "", "env.yaml")
    else:
        name, text = config
        view = view_from_text(text, name, env_text=example.env)
    for other, text in example.files:
        if (other, text) != config and other.rsplit("/", 1)[-1] != "env.yaml":
            (root / other).parent.mkdir(parents=True, exist_ok=True)
            (root / other).write_text(text)
    view.root = root
    return [
        problem
        for problem in rule.module.check(view)
        if problem is not None and problem.rule == rule.id
    ]


def test_there_are_config_rules():
    ids = {rule.id for rule in CONFIG_RULES}
    assert {"server-shape", "unknown-key", "missing-key", "invalid-value"} <= ids


@pytest.mark.parametrize("rule", CONFIG_RULES, ids=lambda rule: rule.id)
def test_every_config_rule_documents_both_kinds_of_example(rule):
    failing, passing = examples(rule)
    assert failing, f"{rule.id}: no 'Failing:' example in its docstring"
    assert passing, f"{rule.id}: no 'Passing:' example in its docstring"


@pytest.mark.parametrize("rule", CONFIG_RULES, ids=lambda rule: rule.id)
def test_failing_examples_fire(rule, tmp_path):
    failing, _ = examples(rule)
    for number, example in enumerate(failing, 1):
        assert _fired(rule, example, tmp_path / f"failing{number}"), (
            f"{rule.id}: failing example {number} does not fire:\n{example}"
        )


@pytest.mark.parametrize("rule", CONFIG_RULES, ids=lambda rule: rule.id)
def test_passing_examples_stay_silent(rule, tmp_path):
    _, passing = examples(rule)
    for number, example in enumerate(passing, 1):
        found = _fired(rule, example, tmp_path / f"passing{number}")
        assert not found, f"{rule.id}: passing example {number} fires: {found}"


# -- the parser itself --------------------------------------------------------------------


def test_parser_reads_blocks_headings_and_files():
    doc = """Summary line.

    More text. The words Failing and Passing: inside prose are not headings.

    Failing:

        a:
          b: 1

        c: 2

    Passing:

        # file: configs/x.yaml
        a: 1
        # file: env.yaml
        k: v
    Not part of the example.

    Failing:

        # file: env.yaml
        policy_api_key: 5
    """
    failing, passing = parse_examples(doc)
    assert [e.files for e in failing] == [
        (("config.yaml", "a:\n  b: 1\n\nc: 2\n"),),
        (("env.yaml", "policy_api_key: 5\n"),),
    ]
    assert failing[1].config is None and failing[1].env == "policy_api_key: 5\n"
    (example,) = passing
    assert example.config == ("configs/x.yaml", "a: 1\n")
    assert example.env == "k: v\n"


def test_parser_ignores_a_heading_without_a_block():
    assert parse_examples("Failing:\nPassing:\n") == ([], [])
