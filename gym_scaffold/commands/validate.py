"""`gym-scaffold validate`: parse options, run the pipeline, print a report, set the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from gym_scaffold.result import Result
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
@click.option("-q", "--quiet", is_flag=True, help="Never print notes, even with -v (the default hides them).")
@click.option("-v", "--verbose", is_flag=True, help="Print notes too (skipped files, skipped checks), in every format.")
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
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_file: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
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
    if unsafe_fixes and not (fix or diff):
        raise click.UsageError("--unsafe-fixes goes with --fix or --diff")
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
    notes = verbose and not quiet
    if fix or diff:
        options.read = None  # --fix checks again after writing: every run reads afresh
        settled = lambda result: settle.settle(result, project, cwd=options.cwd, choices=choices)  # noqa: E731
        return _fix(options, settled, unsafe=unsafe_fixes, diff_only=diff, fmt=fmt, strict=strict or project.strict, notes=notes)
    try:
        result = settle.settle(run_validate(options), project, cwd=options.cwd, choices=choices, read=options.read)
    except settle.BaselineError as exc:
        raise _fail([f"gym-scaffold: {exc}"]) from None
    if update_baseline:
        written = choices.baseline or project.baseline
        click.echo(f"gym-scaffold: wrote {len(result.baselined)} problems to the baseline {written}", err=True)
    fmt = fmt or default_format(os.environ)
    color = fmt == "text" and output_file is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    report = render(result, fmt, color=color, show_notes=notes)
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
            report_unused=not options.configs,
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


def _fix(
    options: ValidateOptions,
    settled: Callable[[Result], Result],
    *,
    unsafe: bool,
    diff_only: bool,
    fmt: str | None,
    strict: bool,
    notes: bool,
) -> int:
    """--fix / --diff: fix, then report what is left and what was fixed (gym_scaffold/fix_run.py),
    settled like every report (`settled`: the project configuration, suppressions, baseline)."""
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
    from gym_scaffold.settle import BaselineError

    try:
        result = settled(fixed.result)
    except BaselineError as exc:
        raise _fail([f"gym-scaffold: {exc}"]) from None
    sys.stdout.write(render(result, fmt, color=color, show_notes=notes))
    (sys.stdout if fmt == "text" else sys.stderr).write(said)  # json, sarif: stdout stays the report
    sys.stdout.flush()
    return 1 if fixed.refused or result.failed(strict=strict) else 0
