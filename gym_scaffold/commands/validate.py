"""`gym-scaffold validate`: parse options, run the pipeline, print a report, set the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

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
) -> int:
    """Check NeMo Gym configs, env.yaml and its gitignore.

    PATHS are files or directories. With none, every YAML file under the NeMo Gym
    config directories of the checkout is checked, and env.yaml.
    """
    from gym_scaffold.report import default_format, render
    from gym_scaffold.validate import ValidateOptions, run_validate

    if paths and configs:
        raise click.UsageError("give PATHS or --config, not both")
    options = ValidateOptions(
        paths=list(paths),
        configs=list(configs),
        env_file=env_file,
        env_check_only=env_check_only,
        use_cache=not no_cache and os.environ.get("GYM_SCAFFOLD_NO_CACHE") != "1",
    )
    result = run_validate(options)
    fmt = fmt or default_format(os.environ)
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(render(result, fmt, color=color, show_notes=verbose and not quiet))
    sys.stdout.flush()
    return 1 if result.failed(strict=strict) else 0
