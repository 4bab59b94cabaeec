"""`gym-scaffold validate`: parse options, run the pipeline, print a report, set the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gym_scaffold.validate import ValidateOptions

FORMATS = ("text", "json", "github", "sarif")


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--config",
    "configs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Check one run composed from these files, as `ng_run +config_paths=[A,B]` does. Repeatable.",
)
@click.option("--env-file", type=click.Path(path_type=Path), help="env.yaml to use (default: <root>/env.yaml).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: text; github under GitHub Actions)."
)
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("-q", "--quiet", is_flag=True, help="Never print notes, even with -v (the default hides them).")
@click.option("-v", "--verbose", is_flag=True, help="Print notes too (skipped files, skipped checks), in every format.")
@click.option(
    "--env-check-only",
    is_flag=True,
    help="Only check env.yaml and that git ignores it (the always-run pre-commit hook).",
)
@click.option("--no-cache", is_flag=True, help="Check every file again, ignoring results kept from earlier runs.")
@click.option("--fix", is_flag=True, help="Repair what has a safe fix, in place, then check again.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: also the fixes that change meaning.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing (exit 1 if any).")
def command(
    paths: tuple[Path, ...],
    configs: tuple[Path, ...],
    env_file: Path | None,
    fmt: str | None,
    strict: bool,
    quiet: bool,
    verbose: bool,
    env_check_only: bool,
    no_cache: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
) -> int:
    """Check NeMo Gym configs, env.yaml and its gitignore.

    PATHS are files or directories. With none, every YAML file under the NeMo Gym
    config directories of the checkout is checked, and env.yaml.
    """
    from gym_scaffold.report import default_format, render
    from gym_scaffold.validate import ValidateOptions, run_validate

    if paths and configs:
        raise click.UsageError("give PATHS or --config, not both")
    if unsafe_fixes and not (fix or diff):
        raise click.UsageError("--unsafe-fixes goes with --fix or --diff")
    options = ValidateOptions(
        paths=list(paths),
        configs=list(configs),
        env_file=env_file,
        env_check_only=env_check_only,
        use_cache=not no_cache and os.environ.get("GYM_SCAFFOLD_NO_CACHE") != "1",
    )
    if fix or diff:
        return _fix(options, unsafe=unsafe_fixes, diff_only=diff, fmt=fmt, strict=strict, notes=verbose and not quiet)
    result = run_validate(options)
    fmt = fmt or default_format(os.environ)
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(render(result, fmt, color=color, show_notes=verbose and not quiet))
    sys.stdout.flush()
    return 1 if result.failed(strict=strict) else 0


def _fix(options: ValidateOptions, *, unsafe: bool, diff_only: bool, fmt: str | None, strict: bool, notes: bool) -> int:
    """--fix / --diff: fix, then report what is left and what was fixed (gym_scaffold/fix_run.py)."""
    from gym_scaffold.fix_run import run_fix
    from gym_scaffold.report import default_format, render

    fixed = run_fix(options, unsafe=unsafe, diff_only=diff_only)
    said = "".join(line + "\n" for line in fixed.lines())
    if fixed.diff is not None:  # --diff: the diff is the output
        sys.stdout.write(fixed.diff)
        sys.stderr.write(said)
        return 1 if fixed.changed else 0
    fmt = fmt or default_format(os.environ)
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(render(fixed.result, fmt, color=color, show_notes=notes))
    (sys.stdout if fmt == "text" else sys.stderr).write(said)  # json, sarif: stdout stays the report
    sys.stdout.flush()
    return 1 if fixed.refused or fixed.result.failed(strict=strict) else 0
