"""`gym-scaffold validate`: parse options, run the pipeline, print a report, set the exit code.

validate runs on every commit, so this module does not import click: `parse_plain` reads
an ordinary command line (known options with acceptable values, and paths) on its own.
Any other line (`--help`, a misspelled option, a bad value, PATHS with --config) gets
None, and goes to the click command, built from the same tables on first use
(`command`), which answers it with click's help and messages. Tests hold the two
parsers to the same answers.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

FORMATS = ("text", "json", "github", "sarif")

# Options without a value, and options taking one: option -> parameter name.
FLAGS = {
    "--strict": "strict",
    "-q": "quiet",
    "--quiet": "quiet",
    "--env-check-only": "env_check_only",
    "--no-cache": "no_cache",
}
VALUED = {"--config": "configs", "--env-file": "env_file", "--format": "fmt"}
REPEATABLE = {"configs"}


def parse_plain(args: list[str]) -> dict[str, Any] | None:
    """`run`'s parameters for an ordinary command line, or None to leave it to click."""
    params: dict[str, Any] = {"env_file": None, "fmt": None, **dict.fromkeys(FLAGS.values(), False)}
    paths: list[Path] = []
    configs: list[Path] = []
    given: set[str] = set()
    remaining = iter(args)
    for arg in remaining:
        if not arg.startswith("-"):
            if not arg:
                return None
            paths.append(Path(arg))
            continue
        option, has_value, value = arg.partition("=")
        if option in FLAGS and not has_value:
            params[FLAGS[option]] = True
            continue
        name = VALUED.get(option)
        if name is None:
            return None  # unknown, --help, `--`, `-` ...: click answers
        if not has_value:
            value = next(remaining, "")
        if not value or value.startswith("-") or (name in given and name not in REPEATABLE):
            return None
        given.add(name)
        if name == "configs":
            configs.append(Path(value))
        elif name == "env_file":
            params[name] = Path(value)
        elif value in FORMATS:
            params[name] = value
        else:
            return None
    if paths and configs:
        return None  # a usage error: click says so
    params["paths"], params["configs"] = tuple(paths), tuple(configs)
    return params


def run(
    paths: tuple[Path, ...],
    configs: tuple[Path, ...],
    env_file: Path | None,
    fmt: str | None,
    strict: bool,
    quiet: bool,
    env_check_only: bool,
    no_cache: bool,
) -> int:
    """Check, print the report on stdout, and return the exit code."""
    from gym_scaffold.report import default_format, render
    from gym_scaffold.validate import ValidateOptions, run_validate

    # A run allocates many small objects and makes few reference cycles; with the default
    # thresholds the cycle collector walks every loaded document over and over (about 8%
    # of a checkout's instructions). This process ends after the run: collect rarely.
    gc.set_threshold(200_000, 30, 30)

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
    sys.stdout.write(render(result, fmt, color=color, show_notes=not quiet))
    sys.stdout.flush()
    return 1 if result.failed(strict=strict) else 0


HELP = {
    "configs": "Check one run composed from these files, as `ng_run +config_paths=[A,B]` does. Repeatable.",
    "env_file": "env.yaml to use (default: <root>/env.yaml).",
    "fmt": "Output format (default: text; github under GitHub Actions).",
    "strict": "Warnings fail the run too.",
    "quiet": "Do not print notes (skipped files, skipped checks).",
    "env_check_only": "Only check env.yaml and that git ignores it (the always-run pre-commit hook).",
    "no_cache": "Check every file again, ignoring results kept from earlier runs.",
}


def _click_command() -> Any:
    """The click command: help, and the command lines `parse_plain` leaves to it."""
    import click

    def validate(**params: Any) -> int:
        """Check NeMo Gym configs, env.yaml and its gitignore.

        PATHS are files or directories. With none, every YAML file under the NeMo Gym
        config directories of the checkout is checked, and env.yaml.
        """
        if params["paths"] and params["configs"]:
            raise click.UsageError("give PATHS or --config, not both")
        return run(**params)

    path = click.Path(path_type=Path)
    parameters: list[click.Parameter] = [click.Argument(["paths"], nargs=-1, type=path)]
    for option, name in VALUED.items():
        kind = click.Choice(FORMATS) if name == "fmt" else path
        parameters.append(
            click.Option([option, name], type=kind, multiple=name in REPEATABLE, help=HELP[name])
        )
    by_name: dict[str, list[str]] = {}
    for option, name in FLAGS.items():
        by_name.setdefault(name, []).append(option)
    for name, options in by_name.items():
        parameters.append(click.Option([*options, name], is_flag=True, help=HELP[name]))
    return click.Command("validate", callback=validate, params=parameters, help=validate.__doc__)


def __getattr__(name: str) -> Any:
    # The click command is built on first use: most validate runs never need click.
    if name == "command":
        global command
        command = _click_command()
        return command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
