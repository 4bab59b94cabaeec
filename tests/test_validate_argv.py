"""validate's command line, read by click: values, usage errors and their exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gym_scaffold.commands import validate


def params(args: list[str]) -> dict:
    return validate.command.make_context("validate", list(args)).params


def test_options_and_paths_are_read():
    read = params(["--format=sarif", "--strict", "-q", "a.yaml", "dir", "--env-file", "e/env.yaml"])
    assert read["fmt"] == "sarif" and read["strict"] and read["quiet"]
    assert read["paths"] == (Path("a.yaml"), Path("dir")) and read["env_file"] == Path("e/env.yaml")
    assert params(["--config", "a.yaml", "--config=b.yaml"])["configs"] == (Path("a.yaml"), Path("b.yaml"))


@pytest.mark.parametrize(
    "args, said",
    [
        (["--formt", "json"], "Did you mean '--format'?"),
        (["--format", "yaml"], "'yaml' is not one of"),
        (["--config", "a.yaml", "b.yaml"], "give PATHS or --config, not both"),
        (["--format"], "requires an argument"),
    ],
)
def test_usage_errors_exit_2_with_clicks_message(tmp_path, args, said):
    done = subprocess.run(
        [sys.executable, "-m", "gym_scaffold", "validate", *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
