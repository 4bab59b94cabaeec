"""Command-line entry point: dispatch to `commands/`, set the exit code.

Exit codes, the same for every command:
    0  clean (warnings allowed)
    1  problems found
    2  usage error, or gym-scaffold could not run
    130  interrupted (Ctrl-C)

Arguments are parsed by click (`commands/group.py`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn any unexpected exception into one line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("GYM_SCAFFOLD_DEBUG") == "1"
    try:
        code = _dispatch(args)
    except KeyboardInterrupt:
        _say("Interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # Output piped into `head` and friends: not an error of ours.
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into a line
        usage = _click_outcome(exc)
        if usage is not None:
            sys.exit(usage)
        if debug:
            raise
        from gym_scaffold.secrets import scrub

        name = type(exc).__name__
        detail = scrub(str(exc), ())  # an exception may quote a value: never a key-shaped one
        _say(f"gym-scaffold: internal error: {name}: {detail} (run with --debug for details)")
        sys.exit(EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _dispatch(args: list[str]) -> Any:
    from gym_scaffold.commands.group import cli

    return cli.main(args=args, prog_name="gym-scaffold", standalone_mode=False)


def _click_outcome(exc: Exception) -> int | None:
    """The exit code for one of click's exceptions (after showing its message), else None."""
    click = sys.modules.get("click")
    if click is None:  # click never ran: not one of its exceptions
        return None
    if isinstance(exc, click.exceptions.Abort):
        if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C, as click reports it
            _say("Interrupted.")
            return EXIT_INTERRUPTED
        _say("Aborted.")
        return EXIT_USAGE
    if isinstance(exc, click.ClickException):
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    return None


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def __getattr__(name: str) -> Any:
    # `gym_scaffold.cli.cli`, the click group, for callers and tests that invoke it.
    if name == "cli":
        from gym_scaffold.commands.group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
