"""`validate` runs on every commit: it must not load what only `new` and `doctor` need."""

from __future__ import annotations

import subprocess
import sys

from test_validate_cli import CONFIG, model_config, write_tree

HEAVY = {"openai", "copier", "pydantic", "httpx", "jinja2", "ruamel"}
FIX_MODULES = {"gym_scaffold.fix", "gym_scaffold.fix_run", "gym_scaffold.edits", "gym_scaffold.yaml_edit"}


def imported_modules(args: list[str], cwd, *, full: bool = False) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gym_scaffold", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name if full else name.split(".")[0])
    assert names, proc.stderr  # importtime printed something: the check itself works
    return names


def test_validate_imports_nothing_heavy(tmp_path):
    write_tree(tmp_path, {CONFIG: model_config(api_key="??")})
    for args in (["validate", "--no-cache", CONFIG], ["validate", "--no-cache"], ["validate", "--format", "sarif"]):
        loaded = imported_modules(args, tmp_path)
        assert "yaml" in loaded  # it really validated
        assert not loaded & HEAVY, (args, loaded & HEAVY)


def test_only_fix_runs_load_the_fix_engine(tmp_path):
    write_tree(tmp_path, {CONFIG: model_config(api_key="??")})
    plain = imported_modules(["validate", "--no-cache", CONFIG], tmp_path, full=True)
    assert "gym_scaffold.validate" in plain and not plain & FIX_MODULES
    fixing = imported_modules(["validate", "--no-cache", "--diff", CONFIG], tmp_path, full=True)
    assert FIX_MODULES <= fixing
    assert not {name.split(".")[0] for name in fixing} & HEAVY


def test_help_lists_every_command_without_loading_them(tmp_path):
    loaded = imported_modules(["--help"], tmp_path)
    assert "click" in loaded  # the check itself works
    assert not loaded & HEAVY, loaded & HEAVY


def test_new_help_names_the_default_key_variable(tmp_path):
    from gym_scaffold.answers import PRESETS

    DEFAULT_API_KEY_ENV = PRESETS["openai"].api_key_env

    proc = subprocess.run(
        [sys.executable, "-m", "gym_scaffold", "new", "openai-model", "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0 and DEFAULT_API_KEY_ENV in " ".join(proc.stdout.split())
