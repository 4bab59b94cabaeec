"""`gym-scaffold validate`: parse options, run the pipeline, print a report, set the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gym_scaffold.settle import Choices, Project
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
@click.option("-q", "--quiet", is_flag=True, help="Do not print notes (skipped files, skipped checks).")
@click.option(
    "--env-check-only",
    is_flag=True,
    help="Only check env.yaml and that git ignores it (the always-run pre-commit hook).",
)
@click.option("--no-cache", is_flag=True, help="Check every file again, ignoring results kept from earlier runs.")
@click.option("--select", multiple=True, metavar="RULE,...", help="Report only these rules (replaces the config's select).")
@click.option("--ignore", multiple=True, metavar="RULE,...", help="Do not report these rules (added to the config's ignore).")
@click.option(
    "--output-file", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to FILE, not stdout."
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Problems recorded in FILE are not reported (default: the config's baseline).",
)
@click.option("--update-baseline", is_flag=True, help="Write the current problems to the baseline file, then exit 0.")
def command(
    paths: tuple[Path, ...],
    configs: tuple[Path, ...],
    env_file: Path | None,
    fmt: str | None,
    strict: bool,
    quiet: bool,
    env_check_only: bool,
    no_cache: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_file: Path | None,
    baseline: Path | None,
    update_baseline: bool,
) -> int:
    """Check NeMo Gym configs, env.yaml and its gitignore.

    PATHS are files or directories. With none, every YAML file under the NeMo Gym
    config directories of the checkout is checked, and env.yaml.
    """
    from gym_scaffold.report import default_format, render
    from gym_scaffold.safeio import ReadOnce
    from gym_scaffold.validate import ValidateOptions, run_validate

    if paths and configs:
        raise click.UsageError("give PATHS or --config, not both")
    options = ValidateOptions(
        paths=list(paths),
        configs=list(configs),
        env_file=env_file,
        env_check_only=env_check_only,
        use_cache=not no_cache and os.environ.get("GYM_SCAFFOLD_NO_CACHE") != "1",
        read=ReadOnce(),  # settling finds suppressions in the bytes the run checked
    )
    from gym_scaffold import settle

    project, choices = _settings(options, select, ignore, baseline, update_baseline)
    options.exclude = project.excluded if project.exclude else None
    try:
        result = settle.settle(run_validate(options), project, cwd=options.cwd, choices=choices, read=options.read)
    except settle.BaselineError as exc:
        raise _fail([f"gym-scaffold: {exc}"]) from None
    if update_baseline:
        written = choices.baseline or project.baseline
        click.echo(f"gym-scaffold: wrote {len(result.baselined)} problems to the baseline {written}", err=True)
    fmt = fmt or default_format(os.environ)
    color = fmt == "text" and output_file is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    report = render(result, fmt, color=color, show_notes=not quiet)
    if output_file is None:
        sys.stdout.write(report)
        sys.stdout.flush()
    else:
        try:
            output_file.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise _fail([f"gym-scaffold: cannot write {output_file}: {exc.strerror or exc}"]) from None
    return 1 if result.failed(strict=strict or project.strict) else 0


def _settings(
    options: ValidateOptions, select: tuple[str, ...], ignore: tuple[str, ...], baseline: Path | None, update: bool
) -> tuple[Project, Choices]:
    """The project configuration of the run's root and the command line's choices; what
    is wrong with either ends the run (exit 2), each problem at its file:line:col."""
    from gym_scaffold import settle
    from gym_scaffold.discover import display_path
    from gym_scaffold.settle import project as project_config
    from gym_scaffold.validate import run_root

    try:
        project = project_config.load(run_root(options), lambda path: display_path(path, options.cwd))
        choices = settle.Choices(
            select=settle.Choices.parse_rules("--select", select),
            ignore=settle.Choices.parse_rules("--ignore", ignore) or frozenset(),
            baseline=options.cwd / baseline if baseline is not None else None,
            update_baseline=update,
        )
    except settle.ConfigError as exc:
        raise _fail([str(problem) for problem in exc.problems]) from None
    if update and choices.baseline is None and project.baseline is None:
        raise click.UsageError("--update-baseline needs --baseline FILE or baseline = ... in the project config")
    return project, choices


def _fail(lines: list[str]) -> click.exceptions.Exit:
    for line in lines:
        click.echo(line, err=True)
    return click.exceptions.Exit(2)
