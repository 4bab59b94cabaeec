"""The click command group: `gym-scaffold` and its subcommands, each imported when invoked.

Subcommands are imported only when invoked, so `validate` (on every commit's path) never
pays for `new` (copier) or `doctor` (openai).
"""

from __future__ import annotations

import importlib

import click

from gym_scaffold import __version__

# subcommand name -> module under gym_scaffold.commands exposing a click command `command`
COMMANDS = {
    "validate": "validate",
    "rules": "rules",
    "new": "new",
    "doctor": "doctor",
    "schema": "schema",
    "show": "show",

    "update": "update",
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
