"""`gym-scaffold validate`: parse options, run the pipeline, print a report, set the exit code."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import click

FORMATS = ("text", "json", "github", "sarif")


@click.command(name="validate")
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
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default: text; github under GitHub Actions).",
)
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print notes (skipped files, skipped checks).")
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
    env_check_only: bool,
    no_cache: bool,
) -> int:
    """Check NeMo Gym configs, env.yaml and its gitignore.

    PATHS are files or directories. With none, every YAML file under the NeMo Gym
    config directories of the checkout is checked, and env.yaml.
    """
    from gym_scaffold.report import default_format, render
    from gym_scaffold.validate import ValidateOptions, run_validate

    # A run allocates many small objects and makes few reference cycles; with the default
    # thresholds the cycle collector walks every loaded document over and over (about 8%
    # of a checkout's instructions). This process ends after the run: collect rarely.
    gc.set_threshold(200_000, 30, 30)

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
    click.echo(render(result, fmt, color=color, show_notes=not quiet), nl=False)
    return 1 if result.failed(strict=strict) else 0
