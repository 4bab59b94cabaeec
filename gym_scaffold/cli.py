"""Command-line entry point: parse arguments, dispatch to `commands/`, set the exit code.

Subcommands are imported only when invoked, so `validate` (on every commit's path) never
pays for `new` (copier) or `doctor` (openai).

Exit codes, the same for every command:
    0  clean (warnings allowed)
    1  problems found
    2  usage error, or gym-scaffold could not run
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from gym_scaffold import __version__

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

# subcommand name -> module under gym_scaffold.commands exposing a click command `command`
COMMANDS = {
    "validate": "validate",
    "rules": "rules",
    "new": "new",
    "doctor": "doctor",
    "schema": "schema",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module_name = COMMANDS.get(name)
        if module_name is None:
            return None
        module = importlib.import_module(f"gym_scaffold.commands.{module_name}")
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gym-scaffold")
@click.option("--debug", is_flag=True, help="Show a Python traceback on internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Validate, scaffold and diagnose NeMo Gym model-server configs."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn any unexpected exception into one line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("GYM_SCAFFOLD_DEBUG") == "1"
    try:
        code = cli.main(args=args, prog_name="gym-scaffold", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # Output piped into `head` and friends: not an error of ours.
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into a line
        if debug:
            raise
        from gym_scaffold.secrets import scrub

        name = type(exc).__name__
        detail = scrub(str(exc), ())  # an exception may quote a value: never a key-shaped one
        click.echo(f"gym-scaffold: internal error: {name}: {detail} (run with --debug for details)", err=True)
        sys.exit(EXIT_USAGE)
    code = code if isinstance(code, int) else EXIT_OK
    if args[:1] == ["validate"]:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """End without the interpreter's teardown. A whole-checkout validate run holds every
    file it loaded, and freeing them one by one at exit takes tens of milliseconds; there
    is nothing left to clean up (the cache is written, the workers waited for)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or the stream is closed
        pass
    os._exit(code)
