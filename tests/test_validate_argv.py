"""validate's command line is read without click when it is ordinary (`parse_plain`);
click reads the rest. Both must agree on every line `parse_plain` accepts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import PROFILE

from gym_scaffold.commands import validate

ORDINARY = [
    [],
    ["."],
    ["a.yaml", "b.yaml", "dir/c.yml"],
    ["--no-cache", "."],
    ["--format", "json", "x.yaml"],
    ["--format=sarif", "--strict", "-q", "x.yaml"],
    ["x.yaml", "--quiet", "--env-file", "secrets/env.yaml"],
    ["--env-file=env.yaml", "--env-check-only"],
    ["--config", "a.yaml", "--config=b.yaml", "--format", "github"],
    ["--strict", "--strict", "weird name.yaml", "ünïcode.yaml"],
]

LEFT_TO_CLICK = [
    ["--help"],
    ["-h"],
    ["--format", "yaml", "."],  # not a format
    ["--format"],  # no value
    ["--formt", "json"],  # misspelled option
    ["--config", "a.yaml", "b.yaml"],  # PATHS and --config
    ["--", "-odd.yaml"],
    ["-"],
    [""],
    ["--env-file", "a", "--env-file", "b"],  # the same value twice: click's rule applies
    ["--config", "--strict"],  # an option where a value belongs
    ["--strict=yes"],
    ["-qq"],
]


def click_params(args: list[str]) -> dict:
    return validate.command.make_context("validate", list(args)).params


@pytest.mark.parametrize("args", ORDINARY, ids=" ".join)
def test_ordinary_lines_are_read_without_click_as_click_reads_them(args):
    plain = validate.parse_plain(args)
    assert plain is not None
    assert plain == click_params(args)


@pytest.mark.parametrize("args", LEFT_TO_CLICK, ids=repr)
def test_other_lines_are_left_to_click(args):
    assert validate.parse_plain(args) is None


TOKENS = st.sampled_from(
    ["--config", "--env-file", "--format", "--strict", "-q", "--quiet", "--env-check-only", "--no-cache",
     "--format=json", "--config=c.yaml", "--env-file=", "json", "text", "sarif", "github", "yaml",
     "a.yaml", "dir", ".", "-", "--", "-x", "--help", ""]
)


@settings(PROFILE)
@given(st.lists(TOKENS, max_size=7))
def test_parse_plain_never_disagrees_with_click(args):
    plain = validate.parse_plain(args)
    if plain is None:
        return
    assert plain == click_params(args)


def test_an_ordinary_validate_run_never_imports_click(tmp_path):
    (tmp_path / "a.yaml").write_text("name: {}\n")
    code = (
        "import sys, runpy; sys.argv = ['gym-scaffold', 'validate', '--no-cache', '-q', 'a.yaml'];"
        "import gym_scaffold.cli as cli;"
        "cli._exit_now = lambda code: (print('click' in sys.modules), sys.exit(code));"
        "cli.main()"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False"
    # and a line left to click still gets click's answer
    wrong = subprocess.run(
        [sys.executable, "-m", "gym_scaffold", "validate", "--formt", "json"], cwd=tmp_path, capture_output=True, text=True
    )
    assert wrong.returncode == 2 and "Did you mean '--format'?" in wrong.stderr
